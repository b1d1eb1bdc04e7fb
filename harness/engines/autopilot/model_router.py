"""The default router: a model trained on the samples, with a calibrated confidence and out-of-scope fallback.

`ModelRouter` keeps everything of the lexical `Router` (exact samples → confidence 1.0, `{field}` slots,
`listen.tasks` candidates, fields of a scored match, `explain`) and replaces how a message that is no
sample is scored and how sure the router is about it (docs/routing.md):

- **Features** (`_features`): word unigrams and bigrams (a `{field}` tag is a placeholder word, and a value
  of its type in the message carries the placeholder too, as in the lexical router) and character n-grams
  (3 to 5 characters, word boundaries included: " hun", "ngry ") that match morphology and typos
  ("hungry"/"hungary", "rebook"/"re-book"). Weights are TF-IDF (sublinear term frequency; IDF counted over
  tasks, so a word every task uses tells nothing); stop words and their n-grams weigh a quarter, a
  placeholder twice. The word part and the character part are each L2-normalised and weigh half.
- **Scores**: each task has a centroid (the normalised sum of its samples' vectors, a Rocchio classifier);
  a task's score is `CENTROID_SHARE` of the cosine to its centroid plus the rest of the cosine to its
  nearest sample (computed for the `NEAREST_TASKS` best tasks by centroid; the others keep the centroid
  part only). Scores are cosines in [0, 1], rounded to 6 decimals before ranking (ties go to task order).
- **Confidence**: a softmax over the candidate tasks' scores with temperature `TEMPERATURE`, in which
  *out of scope* competes as one more class with score `min_score` (`OUT_OF_SCOPE_SCORE` by default). The
  confidence is the probability of the best task, capped at `MAX_SCORED_CONFIDENCE` (only an exact sample
  is certain). A message whose best score is below `min_score` is out of scope (confidence 0.0); a
  confidence below `threshold` falls back too. `next_best_task` is '' when out of scope is the runner-up
  (Twilio names no next best task when the fallback is second).

Everything is pure Python over dicts, in a fixed order, with rounded scores: the same assistant and
message give the same answer on every machine.
"""

from __future__ import annotations

import math
from typing import Any

from harness.engines.autopilot.fieldtypes import FieldResolver
from harness.engines.autopilot.router import SLOT_WEIGHT, STOP_WEIGHT, STOP_WORDS, Ranked, Router, Routing
from harness.errors import UsageError
from harness.models.assistant import Assistant

# Tuned on the real templates' cross-validation and an off-topic set (bench/bench_nlu.py, bench/RESULTS.md).
OUT_OF_SCOPE_SCORE = 0.16  # default `min_score`: best scores below this are out of scope
TEMPERATURE = 0.02  # softmax temperature on cosine scores
MAX_SCORED_CONFIDENCE = 0.99  # a scored match is never certain; an exact sample is (1.0)
CHAR_SHARE = 0.5  # weight of the character n-gram part of a vector (the word part has the rest)
CENTROID_SHARE = 0.8  # a task's score: this much cosine to its centroid, the rest to its nearest sample
NEAREST_TASKS = 5  # tasks (best by centroid) whose nearest sample is looked up
RANKED_TASKS = 20  # tasks a routing lists (every task still counts in the confidence)
CHAR_MIN, CHAR_MAX = 3, 5  # character n-gram lengths
EXPLAIN_FEATURES = 4  # features named in a scored note
_CHAR = "\x01"  # prefix of a character n-gram key (normalised text never holds it)



class ModelRouter(Router):
    """Routes with a TF-IDF centroid model over word and character n-grams (see the module docstring)."""

    def __init__(self, assistant: Assistant, *, resolver: FieldResolver, threshold: float = 0.4,
                 fallback_task: str | None = None, min_score: float | None = None,
                 strict_custom_fields: bool = False) -> None:
        super().__init__(assistant, resolver=resolver, threshold=threshold, fallback_task=fallback_task,
                         min_score=OUT_OF_SCOPE_SCORE if min_score is None else min_score,
                         strict_custom_fields=strict_custom_fields)

    # -- training ---------------------------------------------------------------------------------

    def _build_vectors(self, sample_tokens: list[list[str]]) -> None:
        np = _numpy()
        self._vocabulary: dict[str, int] = {}
        self._multipliers: list[float] = []  # per feature id: stop words ¼, placeholders 2
        self._kinds: list[int] = []  # per feature id: 0 word feature, 1 character n-gram
        self._char_cache: dict[str, tuple[list[int], float]] = {}
        columns: list[int] = []
        counts: list[float] = []
        lengths: list[int] = []
        for tokens in sample_tokens:
            before = len(columns)
            self._feature_ids(_edges_of(tokens), tokens, columns, counts, grow=True)
            lengths.append(len(columns) - before)
        features = len(self._vocabulary)
        samples = len(sample_tokens)
        sample_task = np.asarray(self._sample_task, dtype=np.int64)
        rows = np.repeat(np.arange(samples, dtype=np.int64), lengths)
        cols = np.asarray(columns, dtype=np.int64)
        # Repeated features of a sample are summed (unique (sample, feature) keys, in that order).
        keys, inverse = np.unique(rows * features + cols, return_inverse=True)
        count = np.bincount(inverse, weights=np.asarray(counts, dtype=np.float64))
        rows, cols = keys // features, keys % features
        tasks_of = sample_task[rows] if samples else rows
        task_features = np.unique(tasks_of * features + cols)
        document_frequency = np.bincount(task_features % features, minlength=features)
        total = max(len(set(self._sample_task)), 1)
        self._idf = np.log((total + 1) / (document_frequency + 1.0)) + 1.0
        self._unknown_idf = math.log(total + 1) + 1.0
        self._idf_list: list[float] = self._idf.tolist()
        multiplier = np.asarray(self._multipliers, dtype=np.float64)
        kind = np.asarray(self._kinds, dtype=np.int64)
        tf = np.where(count >= 1.0, 1.0 + np.log(np.maximum(count, 1.0)), count)
        weight = tf * self._idf[cols] * multiplier[cols]
        weight = _rows_normalised(np, weight, rows * 2 + kind[cols], samples * 2)
        weight = weight * np.where(kind[cols] == 1, CHAR_SHARE, 1.0 - CHAR_SHARE)
        weight = _rows_normalised(np, weight, rows, samples)
        # Samples by sample (CSR; rows are sorted): nearest samples and --explain.
        self._csr_pointer = np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=samples))))
        self._csr_columns, self._csr_weights, self._csr_rows = cols, weight, rows
        self._dense = np.zeros(features)  # the message's vector, filled and cleared by each `_score`
        # Task centroids (normalised sums of their samples' vectors), by feature.
        keys, inverse = np.unique(tasks_of * features + cols, return_inverse=True)
        sums = np.bincount(inverse, weights=weight)
        centroid_task, centroid_col = keys // features, keys % features
        sums = _rows_normalised(np, sums, centroid_task, len(self._tasks))
        self._centroid_rows, self._centroid_weights, self._centroid_pointer = _by_column(
            np, centroid_task, centroid_col, sums, features)
        self._sample_task_array = sample_task
        self._tasks_with_samples = frozenset(self._sample_task)
        first = [len(self._sample_text)] * (len(self._tasks) + 1)
        for sample_id in range(len(self._sample_task) - 1, -1, -1):
            first[self._sample_task[sample_id]] = sample_id
        self._task_range = {t: (s, s + self._sample_task.count(t)) for t, s in enumerate(first[:-1])
                            if t in self._tasks_with_samples}

    def _feature_id(self, feature: str, kind: int, grow: bool) -> int:
        index = self._vocabulary.get(feature)
        if index is None:
            if not grow:
                return -1
            index = self._vocabulary[feature] = len(self._vocabulary)
            self._kinds.append(kind)
            self._multipliers.append(STOP_WEIGHT if feature in STOP_WORDS else
                                     SLOT_WEIGHT if feature[:1] == "{" and feature[-1:] == "}" else 1.0)
        return index

    def _feature_ids(self, edges_at: dict[int, list[tuple[int, str]]], words: list[str], columns: list[int],
                     counts: list[float], *, grow: bool, unknown: dict[str, float] | None = None) -> None:
        """Append the ids (and counts) of the word features (unigrams and bigrams over the token lattice)
        and character n-grams (stop words' n-grams count a quarter; placeholders have none). Without
        `grow`, features outside the vocabulary are counted in `unknown` instead."""
        for start in sorted(edges_at):
            for end, token in edges_at[start]:
                grams = [token] + [token + " " + nxt for _e, nxt in edges_at.get(end + 1, ())]
                for gram in grams:
                    index = self._feature_id(gram, 0, grow)
                    if index < 0:
                        if unknown is not None:
                            unknown[gram] = unknown.get(gram, 0.0) + 1.0
                        continue
                    columns.append(index)
                    counts.append(1.0)
        for word in words:
            if word[:1] == "{" and word[-1:] == "}":
                continue
            cached = self._char_cache.get(word)  # a sample's word: all its n-grams are known
            if cached is None:
                step = STOP_WEIGHT if word in STOP_WORDS else 1.0
                ids = []
                for gram in _char_grams(word):
                    index = self._feature_id(gram, 1, grow)
                    if index < 0:
                        if unknown is not None:
                            unknown[gram] = unknown.get(gram, 0.0) + step
                        continue
                    ids.append(index)
                cached = (ids, step)
                if grow:
                    self._char_cache[word] = cached
            columns.extend(cached[0])
            counts.extend([cached[1]] * len(cached[0]))

    # -- scoring ----------------------------------------------------------------------------------

    def _utterance_vector(self, norm: str) -> tuple[list[int], list[float], dict[str, list[tuple[int, int, str]]]]:
        """The message's known feature ids and weights (normalised like a sample; unknown features count in
        the norm only), and the field values seen."""
        words = norm.split(" ")
        edges_at, slot_values = self._token_edges(norm)
        columns: list[int] = []
        counts: list[float] = []
        unknown: dict[str, float] = {}
        self._feature_ids(edges_at, words, columns, counts, grow=False, unknown=unknown)
        summed: dict[int, float] = {}
        for index, count in zip(columns, counts, strict=True):
            summed[index] = summed.get(index, 0.0) + count
        parts: list[dict[int | str, float]] = [{}, {}]  # word part, character part
        for index, count in summed.items():
            weight = (1.0 + math.log(count) if count >= 1.0 else count) * self._idf_list[index]
            parts[self._kinds[index]][index] = weight * self._multipliers[index]
        for feature, count in unknown.items():
            weight = (1.0 + math.log(count) if count >= 1.0 else count) * self._unknown_idf
            multiplier = STOP_WEIGHT if feature in STOP_WORDS else \
                SLOT_WEIGHT if feature[:1] == "{" and feature[-1:] == "}" else 1.0
            parts[1 if feature.startswith(_CHAR) else 0][feature] = weight * multiplier
        vector: dict[int | str, float] = {}
        for part, share in ((parts[0], 1.0 - CHAR_SHARE), (parts[1], CHAR_SHARE)):
            length = math.sqrt(sum(w * w for w in part.values()))
            for key, weight in part.items():
                vector[key] = weight / length * share
        length = math.sqrt(sum(w * w for w in vector.values())) or 1.0
        known = [k for k in vector if isinstance(k, int)]
        return known, [vector[k] / length for k in known], slot_values

    def _score(self, norm: str, allowed: frozenset[int] | None
               ) -> tuple[list[tuple[int, float, int]], dict[str, list[tuple[int, int, str]]]]:
        """[(task index, score, nearest sample id)] best first (score > 0 only); the field values seen."""
        np = _numpy()
        ids, weights, slot_values = self._utterance_vector(norm)
        candidates = self._tasks_with_samples if allowed is None else self._tasks_with_samples & allowed
        self._context = (dict(zip(ids, weights, strict=True)), len(candidates))  # for `_decide` of this call
        if not ids:
            return [], slot_values
        id_array = np.asarray(ids, dtype=np.int64)
        weight_array = np.asarray(weights, dtype=np.float64)
        task_ids, products = _gather(np, self._centroid_pointer, self._centroid_rows, self._centroid_weights,
                                     id_array, weight_array)
        scores = CENTROID_SHARE * np.round(np.bincount(task_ids, weights=products, minlength=len(self._tasks)), 9)
        if allowed is not None:
            mask = np.zeros(len(self._tasks), dtype=bool)
            mask[list(allowed)] = True
            scores[~mask] = 0.0
        order = np.argsort(-scores, kind="stable")[:NEAREST_TASKS]  # ties: task order
        nearest_samples: dict[int, int] = {}
        if scores[order[0]] > 0:
            # Nearest samples of the best tasks only: their rows (contiguous in the CSR) against the message.
            dense = self._dense
            dense[id_array] = weight_array
            for task_index in order.tolist():
                if scores[task_index] <= 0:
                    break
                start, end = self._task_range[task_index]
                low, high = int(self._csr_pointer[start]), int(self._csr_pointer[end])
                products = dense[self._csr_columns[low:high]] * self._csr_weights[low:high]
                dots = np.round(np.bincount(self._csr_rows[low:high] - start, weights=products,
                                            minlength=end - start), 9)
                local = int(np.argmax(dots))  # the first sample on a tie
                nearest_samples[task_index] = start + local
                scores[task_index] += (1.0 - CENTROID_SHARE) * dots[local]
            dense[id_array] = 0.0
        scores = np.round(scores, 6)
        positive = np.flatnonzero(scores > 0)
        if not len(positive):
            return [], slot_values
        ranked_ids = positive[np.argsort(-scores[positive], kind="stable")]
        top = float(scores[ranked_ids[0]])
        # The softmax's denominator over every candidate (unscored ones at 0), taken relative to the top.
        shifted = np.exp((scores[ranked_ids] - max(top, self.min_score)) / TEMPERATURE)
        tail = (len(candidates) - len(ranked_ids)) * math.exp(-max(top, self.min_score) / TEMPERATURE)
        self._context = (self._context[0], float(shifted.sum()) + tail)
        ranked = []
        for task_index in ranked_ids[:RANKED_TASKS].tolist():
            sample_id = nearest_samples.get(task_index, self._first_sample[task_index])
            ranked.append((task_index, float(scores[task_index]), sample_id))
        return ranked, slot_values

    # -- the decision -----------------------------------------------------------------------------

    def _decide(self, norm: str, scored: list[tuple[int, float, int]],
                slot_values: dict[str, list[tuple[int, int, str]]], ranking: tuple[Ranked, ...]) -> Routing:
        best_task, p1, best_sample = scored[0]
        name = self._tasks[best_task].unique_name
        probabilities = self._probabilities(scored)
        out_of_scope = probabilities["out_of_scope"]
        runner_up = scored[1][0] if len(scored) > 1 else None
        # Twilio names no next best task when the fallback is second: here, when out of scope outweighs it.
        next_best = self._next_best(runner_up) if runner_up is not None and \
            probabilities["second"] >= out_of_scope else ""
        confidence = min(round(probabilities["best"], 6), MAX_SCORED_CONFIDENCE)
        if confidence < self.threshold:
            if p1 < self.min_score:  # out of scope outweighs every task
                note = (f"best score {p1:.3f} ({name}) is below min_score {self.min_score}: out of scope "
                        f"(confidence {confidence:.3f}){self._weighed(best_sample)}")
            else:
                note = (f"confidence {confidence:.3f} ({name}, score {p1:.3f}) is below the threshold "
                        f"{self.threshold}{self._weighed(best_sample)}")
            return Routing(None, 0.0, next_best, {}, ranking, "none", note)
        fields = self._scored_fields(best_task, best_sample, norm, slot_values)
        note = f"closest sample {self._sample_text[best_sample]!r} (score {p1:.3f}){self._weighed(best_sample)}"
        return Routing(name, confidence, next_best, fields, ranking, "scored", note)

    def _probabilities(self, scored: list[tuple[int, float, int]]) -> dict[str, float]:
        """Softmax (temperature `TEMPERATURE`) of the best task, the runner-up and out of scope, over every
        candidate task with samples (unscored ones at 0) and out of scope at `min_score`."""
        top = max(scored[0][1], self.min_score)
        out_of_scope = math.exp((self.min_score - top) / TEMPERATURE)
        total = self._context[1] + out_of_scope
        second = math.exp((scored[1][1] - top) / TEMPERATURE) if len(scored) > 1 else 0.0
        return {"best": math.exp((scored[0][1] - top) / TEMPERATURE) / total, "second": second / total,
                "out_of_scope": out_of_scope / total}

    def _weighed(self, sample_id: int) -> str:
        """`; weighed most: …` — the features shared with the nearest sample that added most to the score."""
        vector = self._context[0]
        start, end = int(self._csr_pointer[sample_id]), int(self._csr_pointer[sample_id + 1])
        names = self._names()
        shared = sorted(((round(vector[c] * w, 9), names[c]) for c, w in zip(
            self._csr_columns[start:end].tolist(), self._csr_weights[start:end].tolist(), strict=True)
            if c in vector), key=lambda x: (-x[0], x[1]))
        if not shared:
            return ""
        return "; weighed most: " + ", ".join(_shown(f) for _, f in shared[:EXPLAIN_FEATURES])

    def _names(self) -> list[str]:
        names = getattr(self, "_feature_names", None)
        if names is None:
            names = self._feature_names = list(self._vocabulary)
        return names


def _numpy() -> Any:
    """numpy, imported on first use (start-up stays fast); a clear error where it is missing."""
    try:
        import numpy
    except ImportError:  # pragma: no cover - numpy is a dependency of the model router
        raise UsageError("the model router needs numpy (pip install numpy), or set "
                         '[tool.autopilot-harness] router = "lexical"') from None
    return numpy


def _char_grams(word: str) -> list[str]:
    """Character n-grams of a word with its edges (" hungry " → " hu", "hun", …, "gry "), prefixed."""
    padded = f" {word} "
    size = len(padded)
    return [_CHAR + padded[i:i + n] for n in range(CHAR_MIN, min(CHAR_MAX, size) + 1) for i in range(size - n + 1)]


def _rows_normalised(np: Any, values: Any, rows: Any, count: int) -> Any:
    """`values` divided by the L2 norm of their row (rows without weight unchanged)."""
    norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=count))
    norms[norms == 0] = 1.0
    return values / norms[rows]


def _by_column(np: Any, rows: Any, cols: Any, values: Any, columns: int) -> tuple[Any, Any, Any]:
    """A sparse matrix by column: (rows, values) sorted by column then row, and the column pointers."""
    order = np.lexsort((rows, cols))
    pointer = np.concatenate(([0], np.cumsum(np.bincount(cols, minlength=columns))))
    return rows[order], values[order], pointer


def _gather(np: Any, pointer: Any, rows: Any, values: Any, ids: Any, weights: Any) -> tuple[Any, Any]:
    """The rows and products weight × value of the columns `ids` (a sparse matrix-vector product's terms)."""
    starts, ends = pointer[ids], pointer[ids + 1]
    lengths = ends - starts
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
    return rows[offsets], values[offsets] * np.repeat(weights, lengths)


def _edges_of(tokens: list[str]) -> dict[int, list[tuple[int, str]]]:
    """A plain token sequence as the lattice `_features` reads (each token ends one before the next)."""
    return {2 * index: [(2 * index + 1, token)] for index, token in enumerate(tokens)}


def _shown(feature: str) -> str:
    """A feature as `--explain` names it: words quoted, character n-grams as ‹…› with _ for a word edge."""
    if feature.startswith(_CHAR):
        return "‹" + feature[1:].replace(" ", "_") + "›"
    return repr(feature)
