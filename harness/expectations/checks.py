"""Checks of a scenario's expectations against a transcript: every mismatch, not only the first.

`check_turn` reads one `Turn`; `check_scenario` reads the whole `Transcript` (flow, messages, handoff,
final memory); `check_transcript` pairs a concrete scenario's turns with the transcript's and does both.
Each mismatch carries the explanation a user needs to act: for routing the candidates and the sample
that decided, for the flow the split that sent the path elsewhere, for payloads the JSON paths.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from harness.errors import HarnessError, Location
from harness.expectations.mismatch import MISSING, SCENARIO_SCOPE, Expected, Mismatch, show
from harness.expectations.payload import lookup, parse_json_text, schema_diff, subset_diff
from harness.models.scenario_expect import (
    AutopilotHandoffExpect,
    FieldExpect,
    FlexHandoffExpect,
    FlowExpect,
    HttpHandoffExpect,
    InteractionExpect,
    MessageExpect,
    ScenarioExpect,
    TextMatch,
    TurnExpect,
)
from harness.models.scenario_model import Scenario
from harness.models.scenario_yaml import Origin
from harness.transcript import Candidate, FlowRecord, Transcript, Turn

QueueOf = Callable[[Mapping[str, Any]], str | None]
TOP_CANDIDATES = 3


def turn_label(turn: Turn) -> str:
    """`turn 2 ("I need towels")`: 1-based, the utterance cut at 40 characters; `turn 3 (wait 14400 s)`."""
    if turn.wait is not None:
        return f"turn {turn.index + 1} (wait {turn.wait:g} s)"
    text = turn.user if len(turn.user) <= 40 else turn.user[:39] + "…"
    return f"turn {turn.index + 1} ({show(text)})"


class _Collector:
    """Builds mismatches for one scope (a turn, or after the last turn)."""

    def __init__(self, scope: str, origin: Origin | None) -> None:
        self.scope = scope
        self.origin = origin
        self.found: list[Mismatch] = []

    def add(self, key: str, expected: Any, actual: Any, detail: str = "", path: str | None = None,
            at: Sequence[str | int] = ()) -> None:
        where = f"{self.scope} {key}".strip()
        self.found.append(Mismatch(where, expected, actual, detail, path, self.scope, key,
                                   self.locate(*(at or key.split(".")))))

    def payload(self, key: str, expected: Any, actual: Any, root: str, at: Sequence[str | int] = ()) -> None:
        try:
            differences = subset_diff(expected, actual, root)
        except HarnessError as err:  # an unusable inline `$schema`: name the expectation that holds it
            raise self._placed(err, key, at) from None
        for difference in differences:
            place = (*(at or key.split(".")), *((difference.key,) if difference.key else ()))
            self.add(key, difference.expected, difference.actual, difference.reason, difference.path, place)

    def schema(self, key: str, schema: Mapping[str, Any], actual: Any, root: str,
               at: Sequence[str | int] = ()) -> None:
        try:
            differences = schema_diff(schema, actual, root)
        except HarnessError as err:
            raise self._placed(err, key, at) from None
        for difference in differences:
            self.add(key, difference.expected, difference.actual, difference.reason, difference.path, at)

    def _placed(self, err: HarnessError, key: str, at: Sequence[str | int]) -> HarnessError:
        where = self.locate(*(at or key.split(".")))
        if where is not None and (err.location is None or err.location.path is None):
            err.location = where
        err.message = f"{self.scope} {key}: {err.message}".strip() if key else err.message
        err.args = (err.message,)
        return err

    def locate(self, *parts: str | int) -> Location | None:
        # Locations are computed only for failures: finding lines re-reads the YAML.
        return self.origin.location(*parts) if self.origin is not None and self.origin.path else None


# --- one turn ---------------------------------------------------------------------------------------


def check_turn(expect: TurnExpect, turn: Turn) -> list[Mismatch]:
    """Every expectation of one turn that the transcript's `turn` breaks."""
    out = _Collector(turn_label(turn), expect.origin)
    if expect.task is not None and turn.task != expect.task:
        out.add("task", expect.task, turn.task, routing_detail(turn, expect.task))
    elif expect.no_task and turn.task is not None:
        out.add("task", None, turn.task, "`task: null` expects that no task ran (e.g. a URL fallback)\n"
                + routing_detail(turn, None))
    if expect.confidence is not None and not expect.confidence.holds(turn.confidence):
        already = bool(out.found) and out.found[-1].key == "task"  # the routing is explained once
        out.add("confidence", Expected(str(expect.confidence)), turn.confidence,
                "" if already else routing_detail(turn, expect.task))
    if expect.next_best_task is not None and turn.next_best_task != expect.next_best_task:
        out.add("next_best_task", expect.next_best_task, turn.next_best_task, routing_detail(turn, None))
    if expect.fields is not None:
        _check_fields(out, expect.fields, turn.fields)
    if expect.replies is not None:
        _check_texts(out, "replies", expect.replies, list(turn.replies))
    if expect.memory is not None:
        out.payload("memory", expect.memory, turn.memory, "memory")
    if expect.memory_absent is not None:
        _check_absent(out, expect.memory_absent, turn.memory)
    if expect.tasks_run is not None and tuple(turn.tasks_run) != expect.tasks_run:
        out.add("tasks_run", Expected(_arrows(expect.tasks_run) or "no task"),
                Expected(_arrows(turn.tasks_run) or "no task"), _tasks_run_detail(expect.tasks_run, turn.tasks_run))
    if expect.ended is not None and turn.ended != expect.ended:
        out.add("ended", expect.ended, turn.ended,
                "the dialogue ended on this turn" if turn.ended else "the dialogue is still open (listening)")
    if expect.handoff is not None:
        if turn.handoff is None:
            out.add("handoff", Expected("the bot's handoff action"), Expected("no handoff on this turn"),
                    at=("handoff", "autopilot"))
        else:
            _check_autopilot(out, expect.handoff, turn.handoff)
    return out.found


def _check_absent(out: _Collector, keys: Sequence[str], memory: Mapping[str, Any] | None) -> None:
    """Each key (a literal key, else a dotted path, as `memory:` reads it) must not be set."""
    for index, key in enumerate(keys):
        value, path, _ = lookup(memory or {}, key, "memory")
        if value is not MISSING:
            out.add("memory_absent", Expected(f"{key} not set"), value,
                    "listed in memory_absent: it must not be set", path, ("memory_absent", index))


def _tasks_run_detail(expected: Sequence[str], actual: Sequence[str]) -> str:
    for index, (wanted, ran) in enumerate(zip(expected, actual, strict=False)):
        if wanted != ran:
            return f"task {index + 1} of the turn: expected '{wanted}', ran '{ran}'"
    if len(actual) > len(expected):
        return "then also ran: " + ", ".join(actual[len(expected):])
    return "did not run: " + ", ".join(expected[len(actual):])


def routing_detail(turn: Turn, wanted: str | None) -> str:
    """Why the router chose what it chose: how, the top candidates with scores and deciding samples."""
    lines = []
    how = f"routing: {turn.routing or 'unknown'}"
    if turn.confidence is not None:
        how += f", confidence {turn.confidence:.2f}"
    if len(turn.tasks_run) > 1:
        how += ", tasks run: " + " → ".join(turn.tasks_run)
    lines.append(how)
    fallback_won = turn.routing == "none"  # no task passed the router: defaults.fallback ran
    if turn.routing_note:  # the router's own reason, e.g. "best score 0.05 is below min_score 0.1"
        lines.append(f"why: {turn.routing_note}")
    if turn.ranking:
        lines.append("top candidates:")
        width = max(len(c.task) for c in turn.ranking[:TOP_CANDIDATES])
        for rank, candidate in enumerate(turn.ranking[:TOP_CANDIDATES], 1):
            lines.append(f"  {rank}. {candidate.task:<{width}}  {candidate.score:.2f}{_sample(candidate)}")
        winner = turn.ranking[0]
        if fallback_won:
            # The best candidate did NOT decide anything: say why the router rejected it (Routing.note).
            note = turn.routing_note or ""
            reason = ("its score is below min_score" if "min_score" in note
                      else "its confidence is below the threshold" if "threshold" in note or "confidence" in note
                      else note or "its confidence is below the threshold")
            lines.append(f"best candidate '{winner.task}' ({winner.score:.2f}{_sample(winner)}) was rejected: "
                         f"{reason}")
        elif winner.sample:
            lines.append(f"decided by the sample {show(winner.sample)} of '{winner.task}'")
        if wanted is not None:
            ranks = [i for i, c in enumerate(turn.ranking, 1) if c.task == wanted]
            if ranks and ranks[0] > TOP_CANDIDATES:
                found = turn.ranking[ranks[0] - 1]
                lines.append(f"'{wanted}' ranked {ranks[0]} with {found.score:.2f}{_sample(found)}")
            elif not ranks:
                lines.append(f"'{wanted}' was not a candidate (no sample of it scored)")
    elif turn.routing in ("exact", "target", "collect", "listen"):
        lines.append("no ranking: the task was chosen without scoring")
    return "\n".join(lines)


def _sample(candidate: Candidate) -> str:
    return f"  sample {show(candidate.sample)}" if candidate.sample else ""


def _check_fields(out: _Collector, expected: Mapping[str, FieldExpect | None],
                  actual: Mapping[str, Mapping[str, str]]) -> None:
    extracted = ", ".join(f"{name}={show(v.get('value'))}" for name, v in actual.items()) or "none"
    for name, spec in expected.items():
        got = actual.get(name)
        if spec is None:
            if got is not None:
                out.add("fields", None, got.get("value"), f"the field was extracted; fields: {extracted}",
                        f"fields.{name}", ("fields", name))
            continue
        if got is None:
            out.add("fields", spec.value if spec.value is not None else Expected(f"a {spec.type} field"),
                    MISSING, f"fields extracted: {extracted}", f"fields.{name}", ("fields", name))
            continue
        if spec.value is not None and not field_value_equal(spec.value, got.get("value")):
            out.add("fields", spec.value, got.get("value"), f"fields extracted: {extracted}",
                    f"fields.{name}.value", ("fields", name))
        if spec.type is not None and got.get("type") != spec.type:
            out.add("fields", spec.type, got.get("type"), "", f"fields.{name}.type", ("fields", name))


def field_value_equal(expected: Any, actual: Any) -> bool:
    """Field values are text: a number matches numerically ("2" == 2), a boolean as true/false."""
    if actual is None:
        return False
    text = str(actual)
    if isinstance(expected, bool):
        return text.strip().lower() == ("true" if expected else "false")
    if isinstance(expected, int | float):
        try:
            return float(text) == float(expected)
        except ValueError:
            return False
    return text == str(expected)


def _check_texts(out: _Collector, key: str, expected: Sequence[TextMatch], actual: Sequence[str]) -> None:
    listing = _listing(actual)
    if len(expected) != len(actual):
        out.add(key, Expected(f"{len(expected)} {key}: " + "; ".join(m.describe() for m in expected)),
                Expected(f"{len(actual)}"), f"actual {key}:\n{listing}")
    for index, (match, text) in enumerate(zip(expected, actual, strict=False)):
        if not match.matches(text):
            out.add(key, Expected(match.describe()), text, "", f"{key}[{index}]", (key, index))


def _listing(texts: Sequence[str]) -> str:
    return "\n".join(f"  {i}. {show(t)}" for i, t in enumerate(texts, 1)) or "  (none)"


# --- after the last turn ------------------------------------------------------------------------------


def check_scenario(expect: ScenarioExpect, transcript: Transcript, *, queue_of: QueueOf | None = None
                   ) -> list[Mismatch]:
    """Every scenario-level expectation the transcript breaks.

    `queue_of(handoff)` names the queue a Flex task went to when the transcript does not say (the runner
    routes the task's attributes through the TaskRouter workflow).
    """
    out = _Collector(SCENARIO_SCOPE, expect.origin)
    _check_flow_bugs(out, transcript.flow)
    if expect.flow is not None:
        _check_flow(out, expect.flow, transcript.flow)
    if expect.messages is not None:
        _check_messages(out, expect.messages, transcript)
    if expect.handoff is not None:
        _check_handoff(out, expect.handoff, transcript.handoff, queue_of)
    if expect.no_handoff and transcript.handoff is not None:
        out.add("no_handoff", None, Expected(describe_handoff(transcript.handoff)),
                "the conversation was handed off")
    if expect.memory is not None:
        out.payload("memory", expect.memory, transcript.final_memory, "memory")
    if expect.memory_absent is not None:
        _check_absent(out, expect.memory_absent, transcript.final_memory)
    if expect.ended is not None and transcript.ended != expect.ended:
        out.add("ended", expect.ended, transcript.ended)
    return out.found


def check_transcript(scenario: Scenario, transcript: Transcript, *, queue_of: QueueOf | None = None
                     ) -> list[Mismatch]:
    """A concrete scenario (from `Scenario.expanded()`) against its transcript: turns, then the end."""
    found: list[Mismatch] = []
    for spec, turn in zip(scenario.turns, transcript.turns, strict=False):
        found += check_turn(spec.expect, turn)
    if len(transcript.turns) < len(scenario.turns):
        missing = scenario.turns[len(transcript.turns)]
        origin = missing.origin
        found.append(Mismatch(f"turn {len(transcript.turns) + 1}", Expected(f"{len(scenario.turns)} turns"),
                              Expected(f"{len(transcript.turns)}"), "the conversation stopped early",
                              scope=f"turn {len(transcript.turns) + 1}", key="turns",
                              location=origin.location() if origin.path else None))
    return found + check_scenario(scenario.expect, transcript, queue_of=queue_of)


def describe_handoff(handoff: Mapping[str, Any]) -> str:
    if handoff.get("kind") == "autopilot":
        where = f", task in queue {show(handoff['queue'])}" if handoff.get("queue") else ""
        return f"the bot's handoff action to {handoff.get('uri')}{where}"
    if handoff.get("kind") == "http":
        return f"an HTTP handoff: {handoff.get('method', 'POST')} {handoff.get('url')}"
    queue = handoff.get("queue") or handoff.get("queue_name")
    return "a Flex task" + (f" in queue {show(queue)}" if queue else "")


# --- flow ---------------------------------------------------------------------------------------------


def _check_flow_bugs(out: _Collector, flow: FlowRecord | None) -> None:
    """Checked in every scenario, expected or not: task attributes the flow rendered to something that is
    not a JSON object. Studio follows `failedToEnqueue` (TaskRouter refuses them, reference/studio.md §2.6),
    so a flow with a fallback would otherwise pass with a broken handoff."""
    for step in flow.steps if flow is not None else ():
        key = step.get("invalid_attributes")
        if key:
            out.add(f"flow.{step.get('widget')}.{key}", Expected("task attributes that are a JSON object"),
                    step.get("attributes", ""), str(step.get("error", "")), at=("flow",))


def _check_flow(out: _Collector, expect: FlowExpect, flow: FlowRecord | None) -> None:
    if flow is None:
        out.add("flow", Expected("a Studio flow run"), Expected("no flow"),
                "the scenario talked to the bot directly: give the file a `flow:`")
        return
    steps = list(flow.steps)
    path = [str(step.get("widget")) for step in steps]
    if expect.path is not None:
        problem = (exact_path_problem if expect.mode == "exact" else subsequence_problem)(
            list(expect.path), path, steps)
        if problem is not None:
            out.add("flow.path", list(expect.path), path, problem, at=("flow", "path"))
    for widget, events in (expect.events or {}).items():
        taken = [str(s.get("event")) for s in steps if s.get("widget") == widget]
        if not taken:
            out.add("flow.events", list(events) if widget in expect.events_all else events[0], MISSING,
                    f"'{widget}' never ran; path: {_arrows(path)}", f"flow.events.{widget}",
                    ("flow", "events", widget))
        elif widget in expect.events_all and taken != list(events):
            out.add("flow.events", list(events), taken, "", f"flow.events.{widget}",
                    ("flow", "events", widget))
        elif widget not in expect.events_all and taken[-1] != events[0]:
            step = [s for s in steps if s.get("widget") == widget][-1]
            out.add("flow.events", events[0], taken[-1], step_detail(step), f"flow.events.{widget}",
                    ("flow", "events", widget))
    if expect.variables is not None:
        out.payload("flow.variables", expect.variables, flow.variables, "flow.variables",
                    ("flow", "variables"))
    if expect.status is not None and flow.status != expect.status:
        out.add("flow.status", expect.status, flow.status, f"path: {_arrows(path)}", at=("flow", "status"))


def exact_path_problem(expected: list[str], actual: list[str], steps: Sequence[Mapping[str, Any]]
                       ) -> str | None:
    """None when equal; else where the path left the expected one and why (the deciding step)."""
    if expected == actual:
        return None
    split_at = next((i for i, (e, a) in enumerate(zip(expected, actual, strict=False)) if e != a),
                    min(len(expected), len(actual)))
    lines = [f"expected: {_arrows(expected)}", f"actual:   {_arrows(actual)}"]
    if split_at == 0:
        lines.insert(0, f"the path started at '{actual[0] if actual else '(nothing)'}', "
                        f"expected '{expected[0]}'")
        return "\n".join(lines)
    previous = actual[split_at - 1]
    if split_at == len(actual):
        lines.insert(0, f"the path stopped after '{previous}' (step {split_at}); expected next "
                        f"'{expected[split_at]}'")
    elif split_at == len(expected):
        lines.insert(0, f"the path went on after '{previous}' (step {split_at}): "
                        f"{_arrows(actual[split_at:])}")
    else:
        lines.insert(0, f"the path left the expected one after '{previous}' (step {split_at}): "
                        f"expected '{expected[split_at]}', got '{actual[split_at]}'")
    lines += _decision(steps, split_at - 1)
    return "\n".join(lines)


def subsequence_problem(expected: list[str], actual: list[str], steps: Sequence[Mapping[str, Any]]
                        ) -> str | None:
    """None when `expected` occurs in order within `actual`; else the first widget that never came."""
    position = -1
    for done, widget in enumerate(expected):
        nxt = next((i for i in range(position + 1, len(actual)) if actual[i] == widget), None)
        if nxt is None:
            after = f"after '{actual[position]}' (step {position + 1})" if position >= 0 else "at all"
            lines = [f"'{widget}' never ran {after}; matched so far: {_arrows(expected[:done]) or '(none)'}",
                     f"actual: {_arrows(actual)}"]
            splits = [i for i in range(position + 1, len(steps)) if steps[i].get("conditions")]
            for index in splits[:TOP_CANDIDATES]:
                lines.append(step_detail(steps[index], index))
            if not splits and position >= 0:
                lines += _decision(steps, position)
            return "\n".join(lines)
        position = nxt
    return None


def _decision(steps: Sequence[Mapping[str, Any]], index: int) -> list[str]:
    """The step that chose the next widget and, when it was no split, the latest split before it."""
    if index < 0 or index >= len(steps):
        return []
    lines = [step_detail(steps[index], index)]
    if not steps[index].get("conditions"):
        earlier = next((i for i in range(index - 1, -1, -1) if steps[i].get("conditions")), None)
        if earlier is not None:
            lines.append(step_detail(steps[earlier], earlier))
    return lines


def step_detail(step: Mapping[str, Any], index: int | None = None) -> str:
    """`step 3 'CheckHandoff' (split-based-on): input "false"; event noMatch → next 'Goodbye'`, then
    one line per recorded condition."""
    label = f"step {index + 1} " if index is not None else ""
    kind = f" ({step['type']})" if step.get("type") else ""
    parts = []
    if "input" in step:
        parts.append(f"input {show(step['input'])}")
    if step.get("event"):
        after = f" → next '{step['next']}'" if step.get("next") else " → end"
        parts.append(f"event {step['event']}{after}")
    head = f"{label}'{step.get('widget')}'{kind}" + (": " + "; ".join(parts) if parts else "")
    conditions = [f"    {_condition_text(c)}" for c in step.get("conditions") or ()]
    return "\n".join([head, *conditions])


def _condition_text(condition: Any) -> str:
    """A recorded condition: (condition, matched, reason) as the Studio engine traces it, or a dict."""
    if isinstance(condition, str):
        return condition
    if isinstance(condition, list | tuple) and len(condition) == 3:
        spec, matched, reason = condition
        return str(reason) if reason else f"{_condition_name(spec)} → {'matched' if matched else 'no match'}"
    if isinstance(condition, Mapping):
        if condition.get("reason"):
            return str(condition["reason"])
        matched = condition.get("matched")
        outcome = "" if matched is None else (" → matched" if matched else " → no match")
        return _condition_name(condition.get("condition", condition)) + outcome
    return show(condition)


def _condition_name(spec: Any) -> str:
    if not isinstance(spec, Mapping):
        return show(spec)
    name = spec.get("friendly_name")
    text = f"{spec.get('type', '?')} {show(spec.get('value'))}"
    return f"{name}: {text}" if name else text


def _arrows(widgets: Sequence[str]) -> str:
    return " → ".join(widgets)


# --- messages and handoff -----------------------------------------------------------------------------


def _check_messages(out: _Collector, expected: Sequence[MessageExpect], transcript: Transcript) -> None:
    if transcript.flow is not None:
        sent = [dict(m) for m in transcript.flow.messages]
    else:  # no flow: what the bot said is all that went out
        sent = [{"body": reply} for turn in transcript.turns for reply in turn.replies]
    listing = "\n".join(f"  {i}. {_message_text(m)}" for i, m in enumerate(sent, 1)) or "  (none)"
    if len(expected) != len(sent):
        out.add("messages", Expected(f"{len(expected)} messages"), Expected(f"{len(sent)}"),
                f"sent:\n{listing}")
    for index, (spec, message) in enumerate(zip(expected, sent, strict=False)):
        at = ("messages", index)
        if spec.body is not None and not spec.body.matches(_text(message.get("body"))):
            out.add("messages", Expected(spec.body.describe()), message.get("body"), "",
                    f"messages[{index}].body", at)
        for key, wanted in (("from", spec.sender), ("to", spec.to), ("channel", spec.channel),
                            ("widget", spec.widget)):
            if wanted is not None and message.get(key) != wanted:
                out.add("messages", wanted, message.get(key, MISSING), _message_text(message),
                        f"messages[{index}].{key}", at)


def _message_text(message: Mapping[str, Any]) -> str:
    sender = f" from {show(message['from'])}" if message.get("from") else ""
    widget = f" [{message['widget']}]" if message.get("widget") else ""
    return f"{show(message.get('body'))}{sender}{widget}"


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) or value is None else str(value)


def _check_handoff(out: _Collector, expect: FlexHandoffExpect | HttpHandoffExpect | AutopilotHandoffExpect,
                   handoff: Mapping[str, Any] | None, queue_of: QueueOf | None) -> None:
    wanted_kind = {"flex": "a Flex task", "http": "an HTTP handoff"}.get(expect.kind, "the bot's handoff action")
    if handoff is None:
        out.add("handoff", Expected(wanted_kind), Expected("no handoff"), at=("handoff",))
        return
    if handoff.get("kind") != expect.kind:
        out.add("handoff", Expected(wanted_kind), Expected(describe_handoff(handoff)), at=("handoff",))
        return
    if isinstance(expect, FlexHandoffExpect):
        _check_flex(out, expect, handoff, queue_of)
    elif isinstance(expect, AutopilotHandoffExpect):
        _check_autopilot(out, expect, handoff)
    else:
        _check_http(out, expect, handoff)


def _check_flex(out: _Collector, expect: FlexHandoffExpect, handoff: Mapping[str, Any],
                queue_of: QueueOf | None) -> None:
    at = ("handoff", "flex")
    attributes = parse_json_text(handoff.get("attributes"))
    if expect.attributes is not None:
        out.payload("handoff", expect.attributes, attributes, "handoff.attributes", (*at, "attributes"))
    if expect.attributes_schema is not None:
        out.schema("handoff", expect.attributes_schema, attributes, "handoff.attributes",
                   (*at, "attributes_schema"))
    checks = (
        ("workflow", expect.workflow, ("workflow_sid", "workflow", "workflow_name")),
        ("channel", expect.channel,
         ("task_channel", "task_channel_sid", "task_channel_unique_name", "channel")),
    )
    for key, wanted, names in checks:
        if wanted is not None:
            _one_of_names(out, key, wanted, handoff, names, at)
    if expect.queue is not None:
        names = ("queue", "queue_name", "queue_sid")
        if queue_of is not None and not (handoff.get("queue") or handoff.get("queue_name")):
            handoff = {**handoff, "queue_name": queue_of(handoff)}  # the workflow's routing names it
        _one_of_names(out, "queue", expect.queue, handoff, names, at)
    _check_task_state(out, expect, handoff, at)
    if expect.interaction is not None:
        _check_interaction(out, expect.interaction, handoff, at)
    if expect.priority is not None:
        priority = handoff.get("priority")
        try:
            same = priority is not None and int(priority) == expect.priority
        except (TypeError, ValueError):
            same = False
        if not same:
            out.add("handoff", expect.priority, priority if priority is not None else MISSING, "",
                    "handoff.priority", (*at, "priority"))


def _check_interaction(out: _Collector, expect: InteractionExpect, handoff: Mapping[str, Any],
                       at: tuple[str, ...]) -> None:
    """Flex Conversations: the task was created by an Interaction (reference/taskrouter.md §3.1), of the
    expected channel type; a task Send to Flex created directly (legacy messaging) fails."""
    where = (*at, "interaction")
    if not handoff.get("interaction_sid"):
        out.add("handoff", Expected("a task created by a Flex Interaction"),
                Expected("a task created without an Interaction"), "", "handoff.interaction", where)
        return
    if expect.channel is not None and handoff.get("interaction_channel_type") != expect.channel:
        out.add("handoff", expect.channel, handoff.get("interaction_channel_type") or MISSING, "",
                "handoff.interaction.channel", (*where, "channel"))


def _check_task_state(out: _Collector, expect: FlexHandoffExpect | AutopilotHandoffExpect,
                      handoff: Mapping[str, Any], at: tuple[str, ...]) -> None:
    """queue_history and status: where the task went on the scenario clock (target timeouts, skip_if, TTL)."""
    history = [entry for entry in handoff.get("queue_history") or () if isinstance(entry, Mapping)]
    if expect.queue_history is not None:
        ok = len(history) == len(expect.queue_history) and all(
            wanted in (entry.get("queue"), entry.get("queue_sid"))
            for wanted, entry in zip(expect.queue_history, history, strict=False))
        if not ok:
            out.add("handoff", list(expect.queue_history), [entry.get("queue") or entry.get("queue_sid")
                                                            for entry in history],
                    _history_detail(history), "handoff.queue_history", (*at, "queue_history"))
    if expect.status is not None and handoff.get("task_status") != expect.status:
        reason = f"reason: {handoff['reason']}" if handoff.get("reason") else ""
        out.add("handoff", expect.status, handoff.get("task_status", MISSING), reason, "handoff.status",
                (*at, "status"))


def _history_detail(history: Sequence[Mapping[str, Any]]) -> str:
    """Each queue the task entered: when, from which filter, and why it left."""
    lines = []
    for entry in history:
        left = f", left {entry.get('left')} by {entry.get('left_by')}" if entry.get("left") else ", still there"
        lines.append(f"  {entry.get('queue') or entry.get('queue_sid')} ({entry.get('filter')}): entered "
                     f"{entry.get('entered')}{left}" + (f"; {entry['note']}" if entry.get("note") else ""))
    return "queue history:\n" + "\n".join(lines) if lines else "the task entered no queue (no workflow)"


def _check_autopilot(out: _Collector, expect: AutopilotHandoffExpect, handoff: Mapping[str, Any]) -> None:
    at = ("handoff", "autopilot")
    for key in ("channel", "method"):
        wanted = getattr(expect, key)
        if wanted is not None and str(handoff.get(key) or ("POST" if key == "method" else "")).upper() != \
                wanted.upper():
            out.add("handoff", wanted, handoff.get(key, MISSING), "", f"handoff.{key}", (*at, key))
    if expect.uri is not None and not expect.uri.matches(_text(handoff.get("uri"))):
        out.add("handoff", Expected(expect.uri.describe()), handoff.get("uri", MISSING), "", "handoff.uri",
                (*at, "uri"))
    for key in ("priority", "timeout"):
        wanted, actual = getattr(expect, key), handoff.get(key)
        if wanted is not None and str(actual).strip() != str(wanted):
            out.add("handoff", wanted, actual if actual is not None else MISSING,
                    "as written in the handoff action", f"handoff.{key}", (*at, key))
    if expect.workflow is not None and handoff.get("workflow_sid") != expect.workflow:
        out.add("handoff", expect.workflow, handoff.get("workflow_sid", MISSING),
                "" if handoff.get("task_sid") else "the handoff went to a TwiML URL, not a TaskRouter workflow",
                "handoff.workflow", (*at, "workflow"))
    if expect.queue is not None and expect.queue not in (handoff.get("queue"), handoff.get("queue_sid")):
        out.add("handoff", expect.queue, handoff.get("queue") or MISSING,
                _history_detail(handoff.get("queue_history") or ()), "handoff.queue", (*at, "queue"))
    _check_task_state(out, expect, handoff, at)
    if expect.schema is not None:
        out.schema("handoff", expect.schema, dict(handoff), "handoff", (*at, "schema"))


def _one_of_names(out: _Collector, key: str, wanted: str, handoff: Mapping[str, Any], names: Sequence[str],
                  at: Sequence[str]) -> None:
    """A SID or a name matches: the transcript may carry either (`queue` / `queue_sid`)."""
    present = {n: handoff[n] for n in names if handoff.get(n) is not None}
    if wanted in present.values():
        return
    actual = next(iter(present.values()), MISSING)
    detail = ", ".join(f"{n}={show(v)}" for n, v in present.items())
    out.add("handoff", wanted, actual, detail if len(present) > 1 else "", f"handoff.{key}", (*at, key))


def _check_http(out: _Collector, expect: HttpHandoffExpect, handoff: Mapping[str, Any]) -> None:
    at = ("handoff", "http")
    if expect.method is not None and str(handoff.get("method", "")).upper() != expect.method:
        out.add("handoff", expect.method, handoff.get("method", MISSING), "", "handoff.method",
                (*at, "method"))
    if expect.url is not None and not expect.url.matches(_text(handoff.get("url"))):
        out.add("handoff", Expected(expect.url.describe()), handoff.get("url", MISSING), "", "handoff.url",
                (*at, "url"))
    body = handoff.get("body")
    if expect.body is not None:
        _check_body(out, "body", expect.body, body, (*at, "body"))
    if expect.body_schema is not None:
        out.schema("handoff", expect.body_schema, parse_json_text(body), "handoff.body", (*at, "body_schema"))
    if expect.status is not None and handoff.get("status") != expect.status:
        out.add("handoff", expect.status, handoff.get("status", MISSING), _response_text(handoff),
                "handoff.status", (*at, "status"))
    if expect.response is not None:
        _check_body(out, "response", expect.response, handoff.get("response"), (*at, "response"))


def _check_body(out: _Collector, key: str, expected: Any, actual: Any, at: Sequence[str]) -> None:
    if isinstance(expected, str):  # the exact text
        text = actual if isinstance(actual, str) else show(actual, limit=10_000)
        if text != expected:
            out.add("handoff", expected, actual, "", f"handoff.{key}", at)
        return
    out.payload("handoff", expected, parse_json_text(actual), f"handoff.{key}", at)


def _response_text(handoff: Mapping[str, Any]) -> str:
    response = handoff.get("response")
    return f"response: {show(response)}" if response is not None else ""
