"""Task routing — the fake NLU. Deterministic and explainable ("why did this route there?").

`Router(assistant, resolver=FieldResolver(...))` builds every index once; `route(text)` then decides:

1. **Exact** (`method="exact"`): the utterance equals a sample after `normalize` (lower case, apostrophes
   dropped, punctuation ignored), with each `{field}` tag filled by a value of the field's type
   (`FieldResolver.slot_pattern`; the value must also resolve). An exact match wins outright, whatever
   the threshold: confidence 1.0 and `next_best_task` ''. If samples of several tasks match, the most
   specific wins (a sample without tags, then the one with more literal characters) and keeps confidence
   1.0; a genuine tie (the same sample text in two tasks) goes to the task listed first in the assistant,
   with confidence 0.0 = (p1 − p2) / p1 and the other task as `next_best_task`. `Routing.note` says which.
2. **Scored** (`method="scored"`): TF-IDF cosine between the utterance and each sample of the candidate
   tasks; a task scores its best sample. Features are word unigrams and bigrams. A tag becomes a
   placeholder token `{Custom.ROOMITEMS}`, and where a value of that type occurs in the utterance
   ("towels") the utterance carries the placeholder too, so "I need towels" meets "need {item}". IDF is
   counted over tasks (a word in every task tells nothing); stop words ("i", "the", "please", …) weigh
   a quarter. Confidence = (p1 − p2) / p1 over the two best task scores (1.0 with a single scoring task).
3. **None** (`method="none"`, `task=None`): nothing scored, the best score is below `min_score`, or the
   confidence is below `threshold`. Confidence is then 0.0 (the margin, if any, is in the note). The
   caller runs `defaults.fallback`.

`next_best_task` is the second task in the ranking, '' when there is none (or it scored 0) or when it is
the fallback task (Twilio's rule; the caller names it with `fallback_task=`). `candidates` (`listen.tasks`)
restricts every step to those tasks; `None` means all tasks. Fields: from the exact match, or for a
scored match from the chosen task's tagged samples found inside the utterance ("need {item}" in
"i need towels please"), then from values of the task's field types found anywhere in it.

`explain()` returns the same decision with the full ranking: every candidate task, its score and the
sample that decided it (None for tasks without samples).

Speed: sample vectors are L2-normalised at construction and kept in an inverted index. At route time,
features shared by many samples (more than `max(64, samples / 40)`) are only added to samples already
reached through a rarer feature; this changes nothing for assistants below a few thousand samples and
keeps a 200 task × 50 sample assistant well under a millisecond (bench/bench_routing.py). An input made
only of such common words is scored against the samples holding the rarest of them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from harness.engines.autopilot.field_resolver import DISTINCTIVE_BUILTINS, FieldResolver
from harness.engines.autopilot.field_text import normalize, word_set
from harness.errors import EngineError
from harness.models.assistant import Assistant, Task

STOP_WORDS = word_set(
    "a an the i me my we us our you your it its is am are was were be been to of in on at for with and or "
    "so this that these those do does did can could would will should may might please just some any "
    "there here have has had im id ive thats"
)
STOP_WEIGHT = 0.25  # a stop word still counts (samples made only of them exist: "what do you do")
SLOT_WEIGHT = 2.0  # a field value spotted in the input ("towels" for {item}) is strong evidence for its task
MIN_SCORE = 0.1  # below this best cosine the utterance shares too little with any sample
# A custom field filled with a value the type does not list (FieldValue doc: the NLU generalises from the
# tagged samples) is at most this many words [uncertain: Twilio's model had no documented bound].
MAX_GENERALISED_WORDS = 3

_TAG = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class Ranked:
    task: str
    score: float
    sample: str | None  # the sample (tagged text as written) that gave the score


@dataclass(frozen=True)
class Routing:
    task: str | None
    confidence: float
    next_best_task: str
    fields: dict[str, dict[str, str]]  # name → {"value": canonical, "type": field_type}
    ranking: tuple[Ranked, ...]  # best first
    method: str  # "exact" | "scored" | "none"
    note: str = ""  # how the decision was made, in words (ties, threshold)

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "confidence": self.confidence,
            "next_best_task": self.next_best_task,
            "fields": {name: dict(value) for name, value in self.fields.items()},
            "ranking": [{"task": r.task, "score": r.score, "sample": r.sample} for r in self.ranking],
            "method": self.method,
            "note": self.note,
        }


@dataclass
class _Slot:
    group: str  # regex group name
    field: str
    field_type: str  # as the task declares it (reported as Field_<f>_Type)


@dataclass
class _TaggedSample:
    sample_id: int
    task_index: int
    typed_body: str  # the sample as a regex, each slot written with its type's pattern
    whole: re.Pattern[str]  # fullmatch against the normalised utterance
    verify: bool  # `whole` captures slots loosely: check each against its type's pattern
    slots: list[_Slot]
    literal_words: frozenset[str]
    specificity: tuple[int, int]
    left: str = ""  # single slot: the text the utterance must have right before the value ("need ")
    right: str = ""  # ... and right after it
    _inside: re.Pattern[str] | None = None

    @property
    def inside(self) -> re.Pattern[str]:
        """The sample found as whole words inside a longer utterance (compiled on first use: only scored
        matches need it, and typed alternations are slow to compile)."""
        if self._inside is None:
            self._inside = re.compile(rf"(?<!\S){self.typed_body}(?!\S)")
        return self._inside


@dataclass
class _Match:
    task_index: int
    sample_id: int
    specificity: tuple[int, int]
    fields: dict[str, dict[str, str]] = field(default_factory=dict)


class Router:
    """Routes utterances to tasks of one assistant (see the module docstring for the rules)."""

    def __init__(
        self,
        assistant: Assistant,
        *,
        resolver: FieldResolver,
        threshold: float = 0.4,
        fallback_task: str | None = None,
        min_score: float = MIN_SCORE,
        strict_custom_fields: bool = False,
    ) -> None:
        self.assistant = assistant
        self.strict_custom_fields = strict_custom_fields
        self.resolver = resolver
        self.threshold = threshold
        self.min_score = min_score
        self.fallback_task = fallback_task or None
        self._tasks: tuple[Task, ...] = assistant.tasks
        self._task_index = {task.unique_name: index for index, task in enumerate(self._tasks)}
        self._sample_text: list[str] = []
        self._sample_task: list[int] = []
        self._literal: dict[str, list[int]] = {}  # normalised untagged sample → sample ids
        self._tagged: list[_TaggedSample] = []
        self._tagged_by_task: dict[int, list[_TaggedSample]] = {}
        self._scoring_types: dict[str, str] = {}  # type as declared → placeholder token
        self._type_patterns: dict[str, re.Pattern[str]] = {}  # type → its slot pattern (fullmatch)
        sample_tokens: list[list[str]] = []
        for task_index, task in enumerate(self._tasks):
            for sample_position, sample in enumerate(task.samples):
                sample_id = len(self._sample_text)
                self._sample_text.append(sample.tagged_text)
                self._sample_task.append(task_index)
                sample_tokens.append(
                    self._prepare_sample(task, task_index, sample_id, sample_position, sample.tagged_text))
        self._first_sample: dict[int, int] = {}
        for sample_id, task_index in enumerate(self._sample_task):
            self._first_sample.setdefault(task_index, sample_id)
        self._index_tagged()
        self._build_vectors(sample_tokens)

    # -- construction -----------------------------------------------------------------------------

    def _type_pattern(self, field_type: str) -> re.Pattern[str]:
        pattern = self._type_patterns.get(field_type)
        if pattern is None:
            pattern = self._type_patterns[field_type] = re.compile(self.resolver.slot_pattern(field_type))
        return pattern

    def _placeholder(self, field_type: str) -> str:
        return "{" + self.resolver.type_key(field_type) + "}"

    def _prepare_sample(self, task: Task, task_index: int, sample_id: int, position: int,
                        text: str) -> list[str]:
        """Index one sample for exact matching; return its tokens for scoring."""
        pieces = _TAG.split(text)  # literal, tag, literal, tag, ..., literal
        if len(pieces) == 1:
            norm = normalize(text)
            if norm:
                self._literal.setdefault(norm, []).append(sample_id)
            return norm.split()
        regex_parts: list[str] = []
        loose_parts: list[str] = []  # the same with every slot as (.+)
        slots: list[_Slot] = []
        tokens: list[str] = []
        literal_words: list[str] = []
        for index, piece in enumerate(pieces):
            if index % 2 == 0:  # literal text
                words = normalize(piece).split()
                if words and regex_parts:
                    # Text written right after a tag ("{item}s") is glued to the slot's value.
                    glued = piece[:1].isalnum() or piece[:1] in "'’"
                    regex_parts.append("" if glued else " ")
                    loose_parts.append(regex_parts[-1])
                regex_parts.append(" ".join(re.escape(word) for word in words))
                loose_parts.append(regex_parts[-1])
                tokens.extend(words)
                literal_words.extend(words)
                continue
            name = piece.strip()
            task_field = task.field(name)
            if task_field is None:
                raise EngineError(
                    f"sample {text!r} of task {task.unique_name!r} tags {{{name}}}, "
                    "which is not a field of the task",
                    self.assistant.location(f"{task.pointer}/samples/{position}/taggedText"),
                    hint="fields: " + (", ".join(f.unique_name for f in task.fields) or "none"),
                )
            if any(regex_parts):
                regex_parts.append("" if pieces[index - 1][-1:].isalnum() else " ")
                loose_parts.append(regex_parts[-1])
            group = f"s{len(slots)}"
            regex_parts.append(f"(?P<{group}>{self.resolver.slot_pattern(task_field.field_type)})")
            loose_parts.append(f"(?P<{group}>.+)")
            self._type_pattern(task_field.field_type)
            slots.append(_Slot(group, name, task_field.field_type))
            placeholder = self._placeholder(task_field.field_type)
            tokens.append(placeholder)
            type_key = self.resolver.type_key(task_field.field_type)
            if self.resolver.is_custom(type_key) or type_key in DISTINCTIVE_BUILTINS:
                self._scoring_types[task_field.field_type] = placeholder
        body = "".join(regex_parts)
        loose = "".join(loose_parts)
        left, _, right = loose.partition("(?P<s0>.+)")
        # With one slot the literal text around it fixes where the slot starts and ends, so a loose
        # capture checked against the type's pattern is equivalent, and far cheaper to compile. With
        # several slots the split is ambiguous ("{date} at {time}"): the typed regex decides.
        single = len(slots) == 1
        tagged = _TaggedSample(
            sample_id=sample_id,
            task_index=task_index,
            typed_body=body,
            whole=re.compile(loose if single else body),
            verify=single,
            left=_unescape(left) if single else "",
            right=_unescape(right) if single else "",
            slots=slots,
            literal_words=frozenset(literal_words),
            specificity=(0, sum(len(w) for w in literal_words)),
        )
        self._tagged.append(tagged)
        self._tagged_by_task.setdefault(task_index, []).append(tagged)
        return tokens

    def _index_tagged(self) -> None:
        """Anchor each tagged sample on its rarest literal word, so `route` tries only plausible ones."""
        counts: dict[str, int] = {}
        for tagged in self._tagged:
            for word in tagged.literal_words:
                counts[word] = counts.get(word, 0) + 1
        self._anchored: dict[str, list[_TaggedSample]] = {}
        self._unanchored: list[_TaggedSample] = []  # only tags ("{item}", "{date} {time}")
        for tagged in self._tagged:
            if tagged.literal_words:
                anchor = min(tagged.literal_words, key=lambda w: (counts[w], w))
                self._anchored.setdefault(anchor, []).append(tagged)
            else:
                self._unanchored.append(tagged)

    def _build_vectors(self, sample_tokens: list[list[str]]) -> None:
        tasks_with_samples = {self._sample_task[i] for i in range(len(sample_tokens))}
        total_tasks = max(len(tasks_with_samples), 1)
        feature_tasks: dict[str, set[int]] = {}
        sample_features: list[list[str]] = []
        for sample_id, tokens in enumerate(sample_tokens):
            features = _sequence_features(tokens)
            sample_features.append(features)
            for feature in features:
                feature_tasks.setdefault(feature, set()).add(self._sample_task[sample_id])
        self._idf = {f: math.log((total_tasks + 1) / (len(ts) + 1)) + 1.0 for f, ts in feature_tasks.items()}
        self._unknown_idf = math.log(total_tasks + 1) + 1.0
        self._vectors: list[dict[str, float]] = []
        self._postings: dict[str, list[tuple[int, float]]] = {}
        for sample_id, features in enumerate(sample_features):
            vector = {f: self._weight(f) for f in features}
            length = math.sqrt(sum(w * w for w in vector.values())) or 1.0
            vector = {f: w / length for f, w in vector.items()}
            self._vectors.append(vector)
            for f, w in vector.items():
                self._postings.setdefault(f, []).append((sample_id, w))
        self._common_limit = max(64, len(sample_features) // 40)

    def _weight(self, feature: str) -> float:
        weight = self._idf.get(feature, self._unknown_idf)
        if feature in STOP_WORDS:
            return weight * STOP_WEIGHT
        return weight * SLOT_WEIGHT if feature[:1] == "{" and feature[-1:] == "}" else weight

    # -- routing ----------------------------------------------------------------------------------

    def route(self, text: str, *, candidates: Collection[str] | None = None) -> Routing:
        """The task for `text` (None below the threshold), its confidence, fields and the ranking."""
        return self._route(text, candidates, full=False)

    def explain(self, text: str, *, candidates: Collection[str] | None = None) -> Routing:
        """The same decision as `route`, with every candidate task ranked (score and deciding sample)."""
        return self._route(text, candidates, full=True)

    def _allowed(self, candidates: Collection[str] | None) -> frozenset[int] | None:
        if candidates is None:
            return None
        # Unknown names are ignored: Actions from a URL may list tasks the assistant lacks.
        return frozenset(self._task_index[name] for name in candidates if name in self._task_index)

    def _route(self, text: str, candidates: Collection[str] | None, *, full: bool) -> Routing:
        norm = normalize(text)
        allowed = self._allowed(candidates)
        exact = self._exact(norm, allowed) if norm else []
        if exact and not full:
            return self._exact_routing(exact, ())
        scored, slot_values = self._score(norm, allowed) if norm else ([], {})
        if exact:
            rest = self._full_ranking(scored, allowed, skip={m.task_index for m in exact})
            return self._exact_routing(exact, rest)
        ranking = self._full_ranking(scored, allowed, skip=set()) if full else tuple(
            Ranked(self._tasks[t].unique_name, s, self._sample_text[sid]) for t, s, sid in scored)
        if not scored:
            note = "empty input" if not norm else "no sample shares a word with the input"
            return Routing(None, 0.0, "", {}, ranking, "none", note)
        return self._decide(norm, scored, slot_values, ranking)

    def _decide(self, norm: str, scored: list[tuple[int, float, int]],
                slot_values: dict[str, list[tuple[int, int, str]]], ranking: tuple[Ranked, ...]) -> Routing:
        """The scored decision: the best task, or none below `min_score` / `threshold` (a subclass with
        another confidence overrides this)."""
        best_task, p1, best_sample = scored[0]
        p2 = scored[1][1] if len(scored) > 1 else 0.0
        confidence = round((p1 - p2) / p1, 6) if p1 > 0 else 0.0
        next_best = self._next_best(scored[1][0] if len(scored) > 1 else None)
        name = self._tasks[best_task].unique_name
        # No task routed → confidence 0.0: a fallback is never "certain" (a weak lone match keeps a 1.0
        # margin otherwise). The margin stays in the note for `--explain`.
        if p1 < self.min_score:
            note = f"best score {p1:.3f} ({name}) is below min_score {self.min_score}"
            return Routing(None, 0.0, next_best, {}, ranking, "none", note)
        if confidence < self.threshold:
            note = f"confidence {confidence:.3f} ({name} vs {self._tasks[scored[1][0]].unique_name}) " \
                   f"is below the threshold {self.threshold}"
            return Routing(None, 0.0, next_best, {}, ranking, "none", note)
        fields = self._scored_fields(best_task, best_sample, norm, slot_values)
        note = f"closest sample {self._sample_text[best_sample]!r} (score {p1:.3f})"
        if len(scored) == 1:  # (p1 − p2) / p1 with p2 = 0: a weak match alone is "certain"
            note += "; the only task that scored, so confidence is 1.0 (see min_score)"
        return Routing(name, confidence, next_best, fields, ranking, "scored", note)

    def _next_best(self, task_index: int | None) -> str:
        if task_index is None:
            return ""
        name = self._tasks[task_index].unique_name
        return "" if name == self.fallback_task else name

    def _full_ranking(self, scored: list[tuple[int, float, int]], allowed: frozenset[int] | None,
                      skip: set[int]) -> tuple[Ranked, ...]:
        """Scored tasks best first, then every other candidate task with score 0."""
        ranked = [Ranked(self._tasks[t].unique_name, s, self._sample_text[sid]) for t, s, sid in scored
                  if t not in skip]
        seen = {t for t, _, _ in scored} | skip
        for index, task in enumerate(self._tasks):
            if index not in seen and (allowed is None or index in allowed):
                first = self._first_sample.get(index)
                sample = self._sample_text[first] if first is not None else None
                ranked.append(Ranked(task.unique_name, 0.0, sample))
        return tuple(ranked)

    # -- exact matches ----------------------------------------------------------------------------

    def _exact(self, norm: str, allowed: frozenset[int] | None) -> list[_Match]:
        """The best exact match per task, most specific first (then assistant order)."""
        best: dict[int, _Match] = {}

        def offer(match: _Match) -> None:
            current = best.get(match.task_index)
            if current is None or match.specificity > current.specificity:
                best[match.task_index] = match

        for sample_id in self._literal.get(norm, ()):
            task_index = self._sample_task[sample_id]
            if allowed is None or task_index in allowed:
                offer(_Match(task_index, sample_id, (1, len(norm.replace(" ", "")))))
        words = set(norm.split())
        tried: list[_TaggedSample] = list(self._unanchored)
        for word in words:
            tried.extend(t for t in self._anchored.get(word, ()) if t.literal_words <= words)
        for tagged in sorted(tried, key=lambda t: t.sample_id):
            if allowed is not None and tagged.task_index not in allowed:
                continue
            found = tagged.whole.fullmatch(norm)
            if found is None:
                continue
            fields = self._slot_fields(tagged, found, verify=tagged.verify)
            if fields is not None:
                offer(_Match(tagged.task_index, tagged.sample_id, tagged.specificity, fields))
        return sorted(best.values(), key=lambda m: (-m.specificity[0], -m.specificity[1], m.task_index))

    def _slot_fields(self, tagged: _TaggedSample, found: re.Match[str], *, verify: bool = False,
                     generalise: bool = False) -> dict[str, dict[str, str]] | None:
        fields: dict[str, dict[str, str]] = {}
        for slot in tagged.slots:
            text = found.group(slot.group)
            listed = not verify or self._type_patterns[slot.field_type].fullmatch(text) is not None
            value = self.resolver.resolve_slot(slot.field_type, text) if listed else None
            if value is None and generalise:
                value = self._generalised(slot.field_type, text)
            if value is None:
                return None  # the slot looked right but is not a value of the type ("February 30")
            fields[slot.field] = {"value": value, "type": slot.field_type}
        return fields

    def _generalised_fields(self, tagged: list[_TaggedSample], norm: str) -> dict[str, dict[str, str]]:
        """The chosen task's one-tag samples with literal words around the tag, matched with any short
        phrase in the tag's place; the first that fits fills its field. Routing itself never generalises:
        an unlisted value does not make an exact match (so it cannot outrank a closer sample)."""
        for sample in tagged:
            if not sample.verify or not sample.literal_words:  # several tags, or a bare "{item}"
                continue
            found = sample.whole.fullmatch(norm) or sample.whole.search(norm)
            if found is not None and norm[found.start() - 1: found.start()] in ("", " ") \
                    and norm[found.end(): found.end() + 1] in ("", " "):  # whole words only
                filled = self._slot_fields(sample, found, verify=True, generalise=True)
                if filled:
                    return filled
        return {}

    def _generalised(self, field_type: str, text: str) -> str | None:
        """A custom type's slot filled with a value it does not list, where a tagged sample puts it ("i want
        a {color} shirt" + "i want a green shirt" → "green"; FieldValue doc). Off with strict_custom_fields.
        Only a short phrase counts (MAX_GENERALISED_WORDS), so a sample's slot does not swallow a sentence."""
        if self.strict_custom_fields or not self.resolver.is_custom(field_type):
            return None
        words = text.split()
        return " ".join(words) if 0 < len(words) <= MAX_GENERALISED_WORDS else None

    def _exact_routing(self, exact: list[_Match], rest: tuple[Ranked, ...]) -> Routing:
        top = exact[0]
        name = self._tasks[top.task_index].unique_name
        sample = self._sample_text[top.sample_id]
        ranking = tuple(Ranked(self._tasks[m.task_index].unique_name, 1.0, self._sample_text[m.sample_id])
                        for m in exact) + rest
        if len(exact) == 1:
            return Routing(name, 1.0, "", top.fields, ranking, "exact", f"exact match of sample {sample!r}")
        others = ", ".join(self._tasks[m.task_index].unique_name for m in exact[1:])
        runner_up = exact[1]
        if top.specificity > runner_up.specificity:
            note = (f"exact match of sample {sample!r}; samples of {others} also match but are less specific "
                    "(fewer literal words)")
            return Routing(name, 1.0, "", top.fields, ranking, "exact", note)
        note = (f"tie: sample {sample!r} matches exactly in {name} and in {others}; chose {name}, "
                "the first in the assistant's task order")
        return Routing(name, 0.0, self._next_best(runner_up.task_index), top.fields, ranking, "exact", note)

    # -- scoring ----------------------------------------------------------------------------------

    def _token_edges(self, norm: str) -> tuple[dict[int, list[tuple[int, str]]],
                                                 dict[str, list[tuple[int, int, str]]]]:
        """The utterance as a lattice: start → [(end, token)] for each word and, where a value of a scoring
        field type occurs, its placeholder; plus the values found per field type."""
        edges_at: dict[int, list[tuple[int, str]]] = {}
        position = 0
        for word in norm.split(" "):
            edges_at.setdefault(position, []).append((position + len(word), word))
            position += len(word) + 1
        slot_values: dict[str, list[tuple[int, int, str]]] = {}
        for field_type, placeholder in self._scoring_types.items():
            found = self.resolver.find_values(field_type, norm)
            if found:
                slot_values[field_type] = found
                for start, end, _value in found:
                    edges_at.setdefault(start, []).append((end, placeholder))
        return edges_at, slot_values

    def _utterance(self, norm: str) -> tuple[dict[str, float], dict[str, list[tuple[int, int, str]]]]:
        """Weighted features of the utterance (words, and placeholders where a field value occurs)."""
        edges_at, slot_values = self._token_edges(norm)
        features: dict[str, float] = {}
        for start in sorted(edges_at):
            for end, token in edges_at[start]:
                features.setdefault(token, self._weight(token))
                for _next_end, next_token in edges_at.get(end + 1, ()):
                    bigram = token + " " + next_token
                    features.setdefault(bigram, self._weight(bigram))
        return features, slot_values

    def _score(self, norm: str, allowed: frozenset[int] | None
               ) -> tuple[list[tuple[int, float, int]], dict[str, list[tuple[int, int, str]]]]:
        """[(task index, score, deciding sample id)] best first (score > 0 only); the field values seen."""
        features, slot_values = self._utterance(norm)
        length = math.sqrt(sum(w * w for w in features.values())) or 1.0
        dots: dict[int, float] = {}
        common: list[tuple[str, float]] = []
        for feature, weight in features.items():
            postings = self._postings.get(feature)
            if postings is None:
                continue
            if len(postings) > self._common_limit:
                common.append((feature, weight))
                continue
            for sample_id, sample_weight in postings:
                dots[sample_id] = dots.get(sample_id, 0.0) + weight * sample_weight
        if dots:
            # Very common features only add to samples already reached through a rarer one.
            for feature, weight in common:
                for sample_id in dots:
                    sample_weight = self._vectors[sample_id].get(feature)
                    if sample_weight:
                        dots[sample_id] += weight * sample_weight
        elif common:
            # Only very common words: samples holding the rarest of them are scored (walking every long
            # posting list would cost milliseconds for an input that says little anyway).
            anchor = min(common, key=lambda fw: (len(self._postings[fw[0]]), fw[0]))
            for sample_id, sample_weight in self._postings[anchor[0]]:
                dots[sample_id] = anchor[1] * sample_weight
            for feature, weight in common:
                if feature == anchor[0]:
                    continue
                for sample_id in dots:
                    sample_weight = self._vectors[sample_id].get(feature)
                    if sample_weight:
                        dots[sample_id] += weight * sample_weight
        best: dict[int, tuple[float, int]] = {}
        sample_task = self._sample_task
        for sample_id, dot in dots.items():
            task_index = sample_task[sample_id]
            if allowed is not None and task_index not in allowed:
                continue
            current = best.get(task_index)
            if current is None or dot > current[0] or (dot == current[0] and sample_id < current[1]):
                best[task_index] = (dot, sample_id)
        # Rounded before ranking, so float noise cannot reorder equal scores (ties go to assistant order).
        ranked = sorted(((t, round(dot / length, 6), sid) for t, (dot, sid) in best.items()),
                        key=lambda r: (-r[1], r[0]))
        return [r for r in ranked if r[1] > 0], slot_values

    def _inside(self, sample: _TaggedSample, norm: str, slot_values: dict[str, list[tuple[int, int, str]]]
                ) -> tuple[dict[str, dict[str, str]], int] | None:
        """The sample found as whole words inside the utterance: (its fields, matched length), or None."""
        slot = sample.slots[0]
        spans = slot_values.get(slot.field_type)
        if len(sample.slots) == 1 and slot.field_type in self._scoring_types:
            # The values of this type in the utterance are known already: check the words around each.
            for start, end, value in spans or ():
                before, after = norm[:start], norm[end:]
                rest = before[: len(before) - len(sample.left)]
                left_ok = before.endswith(sample.left) and rest[-1:] in ("", " ")
                right_ok = after.startswith(sample.right) and after[len(sample.right):][:1] in ("", " ")
                if left_ok and right_ok:
                    length = end - start + len(sample.left) + len(sample.right)
                    return {slot.field: {"value": value, "type": slot.field_type}}, length
            return None
        found = sample.inside.search(norm)  # several slots, or a type we do not look for in utterances
        if found is None:
            return None
        filled = self._slot_fields(sample, found)
        return (filled, found.end() - found.start()) if filled is not None else None

    def _scored_fields(self, task_index: int, deciding_sample: int, norm: str,
                       slot_values: dict[str, list[tuple[int, int, str]]]) -> dict[str, dict[str, str]]:
        """Fields of a scored match: a tagged sample of the task found inside the utterance (the one filling
        most fields; the deciding sample first), then values of the task's field types seen anywhere."""
        fields: dict[str, dict[str, str]] = {}
        tagged = sorted(self._tagged_by_task.get(task_index, ()),
                        key=lambda t: (t.sample_id != deciding_sample, t.sample_id))
        best: tuple[int, int] | None = None
        for sample in tagged:
            found = self._inside(sample, norm, slot_values)
            if found is None:
                continue
            filled, length = found
            rank = (len(filled), length)
            if best is None or rank > best:
                best, fields = rank, filled
        if not fields and not self.strict_custom_fields:
            fields = self._generalised_fields(tagged, norm)
        task = self._tasks[task_index]
        tagged_names = {slot.field for sample in tagged for slot in sample.slots}
        for task_field in task.fields:
            if task_field.unique_name in fields or task_field.unique_name not in tagged_names:
                continue
            seen = slot_values.get(task_field.field_type)
            if seen:
                fields[task_field.unique_name] = {"value": seen[0][2], "type": task_field.field_type}
        return fields


def _unescape(pattern: str) -> str:
    """The literal text of an escaped regex fragment (our fragments hold only escaped words and spaces)."""
    return re.sub(r"\\(.)", r"\1", pattern)


def _sequence_features(tokens: list[str]) -> list[str]:
    """Unigrams then bigrams of a token sequence, without repeats, in a stable order."""
    bigrams = [tokens[i] + " " + tokens[i + 1] for i in range(len(tokens) - 1)]
    return list(dict.fromkeys([*tokens, *bigrams]))
