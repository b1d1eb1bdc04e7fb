"""Replay what production recorded: captured Autopilot webhook requests, and Studio execution logs.

Two replays (docs/replay.md has the accepted input shapes and examples):

- `replay_requests(source, url_map=…)` — each captured Autopilot request (its form parameters, the URL
  it went to, optionally the recorded `response` and/or an `expect` subset) is sent again to the user's
  endpoint, signed like Twilio (the Autopilot engine's `WebhookClient`); the answer must be valid Actions
  JSON and match the recorded Actions (exactly, or as a subset) and the `expect` subset.
- `replay_execution(recording, flow)` — a Studio execution as the v2 Executions/Steps API returns it is
  run again through our Studio engine with the same inputs (the trigger payload, the replies waiting
  widgets received, the recorded Autopilot widget outcomes as a scripted bot, the recorded HTTP answers);
  it stops at the first Step where our transition differs from the recorded one.

Both return result objects with `.ok`, `.render()` (text) and `.to_dict()` (JSON), for the CLI
(`autopilot-harness replay …`) and for pytest tests (`assert result.ok, result.render()`).
`export_execution(execution)` writes one of our executions in the Steps API shape (a recording).
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.engines.studio.botport import ScriptedTurn
from harness.errors import EngineError, LoadError, Location, UsageError, WebhookError
from harness.expectations.mismatch import MISSING, show
from harness.expectations.payload import Difference, join_path, subset_diff
from harness.sources import is_malformed, loads_json

DEFAULT_AUTH_TOKEN = "harness-test-auth-token"
DEFAULT_ACCOUNT_SID = "AC" + "0" * 32
#: Keys of a request record that describe the replay; every other key of a flat record is a form parameter.
RECORD_KEYS = ("url", "method", "response", "expect", "match", "name")
#: Keys under which a nested record holds its form parameters.
PARAM_KEYS = ("params", "parameters", "form", "request")
MATCH_MODES = ("exact", "subset")
ENDED_NAMES = ("Ended", "ended", "")  # what the Steps API may show as the last Step's transitioned_to


# ============================================================================================ requests


@dataclass
class RequestRecord:
    """One captured Autopilot request, normalised: form parameters are strings (`Memory` a JSON string)."""

    index: int
    url: str | None
    params: dict[str, str]
    method: str = "POST"
    response: Any = None  # the recorded Actions document ({"actions": [...]}) or None
    expect: Any = None  # a subset the answer must contain, or None
    match: str = "exact"  # how `response` is compared: "exact" or "subset"
    name: str = ""
    location: Location | None = None

    @property
    def label(self) -> str:
        what = self.name or " · ".join(
            part for part in (self.params.get("CurrentTask"), _quoted(self.params.get("CurrentInput"))) if part)
        return f"request {self.index + 1}" + (f" ({what})" if what else "")


@dataclass
class RequestOutcome:
    """What replaying one request gave: `status` is matched, different, invalid (bad Actions) or error."""

    record: RequestRecord
    status: str
    actions: Any = None  # the endpoint's answer
    differences: list[Difference] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # Actions-schema problems ("/actions/0: …")
    error: str | None = None
    call: dict[str, Any] | None = None  # the WebhookCall record (URL called, status, time)

    @property
    def ok(self) -> bool:
        return self.status == "matched"

    def render(self) -> str:
        record = self.record
        head = f"{'ok  ' if self.ok else 'FAIL'} {record.label}: {record.method} {record.url}"
        lines = [head]
        if self.error:
            lines.append(f"     {self.error}")
        for problem in self.problems:
            lines.append(f"     invalid Actions JSON (error 90100): {problem}")
        for difference in self.differences:
            lines.append("     " + _difference_text(difference))
        if self.ok and record.response is None and record.expect is None:
            lines[0] += " (valid Actions; nothing recorded to compare)"
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.record.index, "name": self.record.name, "url": self.record.url,
            "method": self.record.method, "status": self.status, "ok": self.ok, "error": self.error,
            "problems": list(self.problems), "actions": self.actions,
            "differences": [_difference_dict(d) for d in self.differences], "call": self.call,
        }


@dataclass
class RequestReplayResult:
    """All replayed requests of one input."""

    source: str
    outcomes: list[RequestOutcome]

    @property
    def ok(self) -> bool:
        # Nothing replayed verified nothing: never a pass (as `contracts verify` treats an empty pact).
        return bool(self.outcomes) and all(outcome.ok for outcome in self.outcomes)

    @property
    def failed(self) -> list[RequestOutcome]:
        return [outcome for outcome in self.outcomes if not outcome.ok]

    def render(self) -> str:
        lines = [outcome.render() for outcome in self.outcomes]
        matched = len(self.outcomes) - len(self.failed)
        lines.append(f"{self.source}: {matched} of {len(self.outcomes)} request(s) matched")
        if not self.outcomes:
            lines[-1] += " (FAILED: no requests to replay; nothing verified is never a pass)"
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "ok": self.ok, "requests": [o.to_dict() for o in self.outcomes]}


def load_requests(path: str | Path, *, default_url: str | None = None) -> list[RequestRecord]:
    """Read captured requests from a JSON file (one object, a list, or `{"requests": [...]}`) or JSONL."""
    from harness.sources import load_source, read_text

    text_path = str(path)
    if text_path.lower().endswith((".jsonl", ".ndjson")):
        records = []
        for number, line in enumerate(read_text(path).splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append((loads_json(line), Location(text_path, f"/{len(records)}", number, 1)))
            except LoadError as err:
                at = err.location
                message = (f"malformed JSON on line {number}: {err.message.removeprefix('malformed JSON: ')}"
                           if is_malformed(err) else f"line {number}: {err.message}")
                raise LoadError(message,
                                Location(text_path, "", number, at.column if at is not None else None),
                                err.hint) from None
        return [_request_record(data, index, where, default_url) for index, (data, where) in enumerate(records)]
    source = load_source(path)
    data = source.data
    pointer = ""
    if isinstance(data, Mapping) and isinstance(data.get("requests"), list):
        data, pointer = data["requests"], "/requests"
    items = data if isinstance(data, list) else [data]
    return [
        _request_record(item, index, source.locate(f"{pointer}/{index}" if isinstance(data, list) else ""),
                        default_url)
        for index, item in enumerate(items)
    ]


def parse_requests(data: Any, *, default_url: str | None = None, path: str = "<requests>") -> list[RequestRecord]:
    """Request records from data already in memory (a dict or a list of dicts)."""
    if isinstance(data, Mapping) and isinstance(data.get("requests"), list):
        data = data["requests"]
    items = data if isinstance(data, list) else [data]
    return [_request_record(item, index, Location(path, f"/{index}"), default_url)
            for index, item in enumerate(items)]


def _request_record(data: Any, index: int, where: Location, default_url: str | None) -> RequestRecord:
    if not isinstance(data, Mapping):
        raise UsageError(f"request {index + 1}: expected a JSON object of Autopilot request parameters, "
                         f"got {type(data).__name__}", where)
    nested = next((key for key in PARAM_KEYS if isinstance(data.get(key), Mapping)), None)
    # Without a nested parameters object, the record is the flat shape of the JOVO samples.
    raw_params = data[nested] if nested is not None else {k: v for k, v in data.items() if k not in RECORD_KEYS}
    params = {str(key): _form_value(value) for key, value in raw_params.items()}
    url = data.get("url") or default_url
    if not isinstance(url, str) or not url.strip():
        raise UsageError(f"request {index + 1}: no URL (give each record a \"url\", or pass a default URL)",
                         where, hint="the JOVO samples carry no URL: use --url https://x.twil.io/your-function")
    method = str(data.get("method") or "POST").upper()
    if method not in ("GET", "POST"):
        raise UsageError(f"request {index + 1}: method {method!r}: Autopilot sent GET or POST", where)
    match = str(data.get("match") or "exact")
    if match not in MATCH_MODES:
        raise UsageError(f"request {index + 1}: match {match!r}: expected one of {', '.join(MATCH_MODES)}", where)
    response = data.get("response")
    if isinstance(response, list):  # a bare actions list is the same as {"actions": [...]}
        response = {"actions": response}
    if response is not None and not isinstance(response, Mapping):
        raise UsageError(f"request {index + 1}: \"response\" must be Actions JSON ({{\"actions\": [...]}})",
                         where)
    return RequestRecord(index=index, url=url.strip(), params=params, method=method, response=response,
                         expect=data.get("expect"), match=match, name=str(data.get("name") or ""),
                         location=where)


def _form_value(value: Any) -> str:
    """A form parameter as Autopilot sent it: objects (Memory) as JSON strings, booleans lower case."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def replay_requests(
    source: str | Path | Sequence[Mapping[str, Any]] | Mapping[str, Any],
    *,
    url_map: Mapping[str, str] | None = None,
    functions: Sequence[str | Path] = (),
    auth_token: str = DEFAULT_AUTH_TOKEN,
    default_url: str | None = None,
    match: str | None = None,
    sign_local_url: bool = False,
    task_names: Sequence[str] | None = None,
    http: Any = None,
) -> RequestReplayResult:
    """Replay captured Autopilot requests against the user's endpoints; compare the Actions they answer.

    `source`: a file path (JSON / JSONL) or the records as data. `url_map`: production prefix → local
    base URL; `functions`: Functions folders served with twilio-run (mapped as `https://*.twil.io`).
    `match` overrides every record's comparison mode ("exact" or "subset"). `task_names` enables the
    `task://` reference check of the answers. Raises HarnessError for bad input only.
    """
    if match is not None and match not in MATCH_MODES:
        raise UsageError(f"match {match!r}: expected one of {', '.join(MATCH_MODES)}")
    if isinstance(source, str | Path):
        records, label = load_requests(source, default_url=default_url), str(source)
    else:
        records, label = parse_requests(source, default_url=default_url), "<requests>"
    from harness.engines.autopilot.webhooks import WebhookClient
    from harness.engines.twilio.urlmap import UrlMap

    with ExitStack() as stack:
        mapping = dict(url_map or {})
        for folder in functions:
            from harness.engines.twilio.functions import FunctionsServer

            server = stack.enter_context(FunctionsServer(folder))
            mapping.setdefault("https://*.twil.io", server.base_url)
        client = WebhookClient(url_map=UrlMap(mapping), auth_token=auth_token, sign_local_url=sign_local_url,
                               http=http)
        outcomes = [_replay_one(client, record, match or record.match, task_names) for record in records]
    return RequestReplayResult(label, outcomes)


def _replay_one(client: Any, record: RequestRecord, match: str, task_names: Sequence[str] | None) -> RequestOutcome:
    from harness.models.actions import check_actions

    assert record.url is not None
    try:
        data, call = client.call("replay", record.url, record.method, record.params)
    except WebhookError as err:
        return RequestOutcome(record, "error", error=err.message)
    outcome = RequestOutcome(record, "matched", actions=data, call=call.to_dict())
    if not isinstance(data, Mapping):
        outcome.status = "invalid"
        outcome.problems.append(f"expected a JSON object with 'actions', got {show(data)}")
        return outcome
    problems = check_actions(data, path=record.url, task_names=task_names)
    outcome.problems = [f"{p.location.pointer or '/'}: {p.message}" if p.location else p.message
                        for p in problems]
    if outcome.problems:
        outcome.status = "invalid"
    if record.response is not None:
        outcome.differences += (subset_diff(record.response, data) if match == "subset"
                                else exact_diff(record.response, data))
    if record.expect is not None:
        expected = record.expect if not isinstance(record.expect, list) else {"actions": record.expect}
        outcome.differences += [d for d in subset_diff(expected, data) if d not in outcome.differences]
    if outcome.differences and outcome.status == "matched":
        outcome.status = "different"
    return outcome


def exact_diff(expected: Any, actual: Any, path: str = "") -> list[Difference]:
    """Every difference between two JSON values, with JSON paths; extra keys count (unlike subset_diff)."""
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        found: list[Difference] = []
        for key, wanted in expected.items():
            where = join_path(path, str(key))
            if key not in actual:
                found.append(Difference(where, wanted, MISSING, "missing"))
            else:
                found += exact_diff(wanted, actual[key], where)
        for key, value in actual.items():
            if key not in expected:
                found.append(Difference(join_path(path, str(key)), MISSING, value, "not recorded"))
        return found
    if isinstance(expected, list) and isinstance(actual, list):
        found = []
        for index, (wanted, value) in enumerate(zip(expected, actual, strict=False)):
            found += exact_diff(wanted, value, join_path(path, index))
        for index in range(len(actual), len(expected)):
            found.append(Difference(join_path(path, index), expected[index], MISSING, "missing"))
        for index in range(len(expected), len(actual)):
            found.append(Difference(join_path(path, index), MISSING, actual[index], "not recorded"))
        return found
    if type(expected) is type(actual) and expected == actual:
        return []
    if isinstance(expected, int | float) and isinstance(actual, int | float) \
            and not isinstance(expected, bool) and not isinstance(actual, bool) and expected == actual:
        return []
    return [Difference(path, expected, actual)]


def _difference_text(difference: Difference) -> str:
    where = difference.path or "(the whole answer)"
    if difference.actual is MISSING:
        text = f"{where}: recorded {show(difference.expected)}, missing in the answer"
    elif difference.expected is MISSING:
        text = f"{where}: not recorded, the answer has {show(difference.actual)}"
    else:
        text = f"{where}: expected {show(difference.expected)}, got {show(difference.actual)}"
    reason = difference.reason if difference.reason not in ("missing", "not recorded") else ""
    return f"{text} ({reason})" if reason else text


def _difference_dict(difference: Difference) -> dict[str, Any]:
    return {"path": difference.path,
            "expected": None if difference.expected is MISSING else difference.expected,
            "actual": None if difference.actual is MISSING else difference.actual,
            "missing": "actual" if difference.actual is MISSING else (
                "expected" if difference.expected is MISSING else None),
            "reason": difference.reason}


def _quoted(text: str | None) -> str:
    return f'"{text}"' if text else ""


# ========================================================================================== executions


TRIGGER_EVENTS = {"message": "incomingMessage", "call": "incomingCall",
                  "conversation": "incomingConversationMessage", "request": "incomingRequest",
                  "parent": "incomingParent"}


@dataclass
class RecordedStep:
    """One Step of the recording: the widget it ran (transitioned_from), the event, the next widget."""

    index: int
    widget: str
    type: str
    event: str
    next: str | None  # None: the execution ended
    context: dict[str, Any]  # the widget's outputs as recorded
    sid: str = ""
    parent_step_sid: str | None = None
    date_created: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "widget": self.widget, "type": self.type, "event": self.event,
                "next": self.next, "sid": self.sid}


@dataclass
class RecordedExecution:
    """A Studio execution as recorded: its trigger, its Steps in the order they ran."""

    trigger: str  # the trigger event (incomingMessage, …)
    payload: dict[str, Any]  # trigger.<kind> of the execution context
    steps: list[RecordedStep]
    sid: str = ""
    flow_sid: str = ""
    contact: str = ""
    status: str = "ended"
    date_created: str | None = None
    source: str = "<execution>"


def load_execution(path: str | Path) -> RecordedExecution:
    """Read a recording (see `parse_execution` for the accepted shapes)."""
    from harness.sources import load_source

    return parse_execution(load_source(path).data, path=str(path))


def parse_execution(data: Any, *, path: str = "<execution>") -> RecordedExecution:
    """A recording from the v2 Executions/Steps API JSON. Accepted shapes:

    - a bundle `{"execution": <Execution>, "steps": [<Step>...]}`, optionally with `"context"`: the
      ExecutionContext resource (or its `context` tree) when the Execution carries none;
    - an Execution resource with its Steps inside: `{"sid": "FN…", "context": {...}, "steps": [...]}`;
    - `steps` may also be a Steps list page `{"steps": [...], "meta": {...}}`.

    The trigger payload comes from the execution context's `trigger.<kind>`. A Step's `context` is the
    widget's outputs, or a StepContext resource (`{"context": …, "step_sid": …}`), or a context tree with
    `widgets.<name>`. Steps are put in the order they ran (newest-first lists are reversed).
    """
    if not isinstance(data, Mapping):
        raise UsageError(f"expected a JSON object (an execution with its steps), got {type(data).__name__}",
                         Location(path))
    execution = data.get("execution") if isinstance(data.get("execution"), Mapping) else data
    raw_steps: Any = data.get("steps", execution.get("steps"))
    if isinstance(raw_steps, Mapping):  # a list page
        raw_steps = raw_steps.get("steps")
    if not isinstance(raw_steps, list):
        raise UsageError("no \"steps\" list: expected {\"execution\": {...}, \"steps\": [...]} or an execution "
                         "with \"steps\"", Location(path, "/steps"))
    context = _unwrap(execution.get("context"))
    if not context and isinstance(data.get("context"), Mapping):
        context = _unwrap(data["context"])
    trigger_tree = context.get("trigger") if isinstance(context, Mapping) else None
    if not isinstance(trigger_tree, Mapping) or not trigger_tree:
        raise UsageError("the execution has no context.trigger: the trigger payload is needed to replay it",
                         Location(path, "/execution/context"),
                         hint="fetch /v2/Flows/{FlowSid}/Executions/{Sid}/Context and put it under \"context\"")
    kind, payload = next(iter(trigger_tree.items()))
    if kind not in TRIGGER_EVENTS or not isinstance(payload, Mapping):
        raise UsageError(f"context.trigger.{kind}: unknown trigger kind (expected one of "
                         f"{', '.join(TRIGGER_EVENTS)})", Location(path, f"/execution/context/trigger/{kind}"))
    steps = [_recorded_step(step, number, path) for number, step in enumerate(raw_steps)]
    steps = _in_run_order(steps)
    for index, step in enumerate(steps):
        step.index = index
    return RecordedExecution(
        trigger=TRIGGER_EVENTS[kind], payload=dict(payload), steps=steps, sid=str(execution.get("sid") or ""),
        flow_sid=str(execution.get("flow_sid") or ""),
        contact=str(execution.get("contact_channel_address") or ""),
        status=str(execution.get("status") or "ended"), date_created=execution.get("date_created"), source=path,
    )


def _unwrap(context: Any) -> dict[str, Any]:
    """An ExecutionContext/StepContext resource → its `context`; anything else as it is."""
    if isinstance(context, Mapping) and isinstance(context.get("context"), Mapping) and (
            "execution_sid" in context or "step_sid" in context or "flow_sid" in context):
        return dict(context["context"])
    return dict(context) if isinstance(context, Mapping) else {}


def _recorded_step(step: Any, number: int, path: str) -> RecordedStep:
    where = Location(path, f"/steps/{number}")
    if not isinstance(step, Mapping):
        raise UsageError(f"step {number}: expected a Step object, got {type(step).__name__}", where)
    widget, event = step.get("transitioned_from"), step.get("name")
    if not isinstance(widget, str) or not widget or not isinstance(event, str) or not event:
        raise UsageError(f"step {number}: a Step needs \"transitioned_from\" (the widget) and \"name\" "
                         "(the event)", where)
    next_name = step.get("transitioned_to")
    context = _unwrap(step.get("context"))
    widgets = context.get("widgets")
    if isinstance(widgets, Mapping) and isinstance(widgets.get(widget), Mapping):
        context = dict(widgets[widget])
    return RecordedStep(
        index=number, widget=widget, type=str(step.get("type") or ""), event=event,
        next=None if next_name in (None, *ENDED_NAMES) else str(next_name), context=context,
        sid=str(step.get("sid") or ""), parent_step_sid=step.get("parent_step_sid") or None,
        date_created=step.get("date_created"),
    )


def _in_run_order(steps: list[RecordedStep]) -> list[RecordedStep]:
    # The Steps API lists newest first [uncertain]; the trigger's Step is the oldest of a top-level run.
    if len(steps) > 1 and steps[-1].type == "trigger" and steps[0].type != "trigger":
        steps = steps[::-1]
    dated = [s.date_created for s in steps]
    instants = [_instant(d) if isinstance(d, str) else None for d in dated]
    if all(instants) and len(set(instants)) > 1:
        order = sorted(range(len(steps)), key=lambda i: instants[i])  # stable: equal times keep list order
        steps = [steps[i] for i in order]
    return steps


def _instant(text: str | None) -> datetime | None:
    from harness.clock import parse_instant

    try:
        return parse_instant(text or "")
    except ValueError:
        return None


@dataclass
class Divergence:
    """The first Step where our run differs from the recording."""

    index: int
    reason: str
    recorded: RecordedStep | None
    ours: dict[str, Any] | None

    def render(self) -> str:
        rec, ours = self.recorded, self.ours
        lines = [f"step {self.index + 1}: {self.reason}"]
        if rec is not None:
            lines.append(f"  recorded: {rec.widget} ({rec.type or '?'}) —{rec.event}→ {rec.next or 'Ended'}")
        if ours is not None:
            lines.append(f"  ours:     {ours['widget']} ({ours.get('type')}) —{ours['event']}→ "
                         f"{ours.get('next') or 'Ended'}")
            if "input" in ours:
                lines.append(f"  evaluated input: {show(ours['input'])}")
                for condition in ours.get("conditions") or ():
                    mark = "✓" if condition.get("matched") else "✗"
                    reason = f" — {condition['reason']}" if condition.get("reason") else ""
                    lines.append(f"    {mark} {condition.get('type')} {show(condition.get('value'))}{reason}")
            if ours.get("error"):
                lines.append(f"  our error: {ours['error']}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        ours = None
        if self.ours is not None:
            ours = {k: self.ours.get(k) for k in ("widget", "type", "event", "next", "input", "conditions",
                                                  "error") if k in self.ours}
        return {"index": self.index, "reason": self.reason,
                "recorded": self.recorded.to_dict() if self.recorded else None, "ours": ours}


@dataclass
class ExecutionReplayResult:
    """The replay of one recorded execution."""

    recording: RecordedExecution
    steps: list[dict[str, Any]]  # our Steps
    divergence: Divergence | None
    status: str  # our execution's status
    waiting: str | None = None

    @property
    def ok(self) -> bool:
        return self.divergence is None

    @property
    def path(self) -> list[str]:
        return [step["widget"] for step in self.steps]

    def render(self) -> str:
        rec = self.recording
        name = rec.sid or rec.source
        if self.ok:
            where = f", waiting at {self.waiting}" if self.waiting else ""
            return (f"ok   {name}: all {len(rec.steps)} recorded step(s) taken the same way "
                    f"({' → '.join(self.path) or 'no steps'}; {self.status}{where})")
        assert self.divergence is not None
        return f"FAIL {name}: our run leaves the recording\n" + self.divergence.render()

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.recording.source, "execution_sid": self.recording.sid, "ok": self.ok,
                "recorded_steps": len(self.recording.steps), "our_path": self.path, "status": self.status,
                "waiting": self.waiting,
                "divergence": self.divergence.to_dict() if self.divergence else None}


# --- the scripted bot: recorded Autopilot widget outcomes ------------------------------------------


class _RecordedDialogue:
    """Answers the first message with the recorded outcome of one Autopilot widget Step."""

    def __init__(self, step: RecordedStep, sid: str) -> None:
        self.step = step
        self.sid = str(step.context.get("DialogueSid") or sid)
        self.ended = False
        self.memory = _memory_of(step.context)
        self.final_memory: dict[str, Any] = {}

    def send(self, text: str) -> ScriptedTurn:
        context = self.step.context
        if self.step.event == "failure":
            raise EngineError(f"the recorded Autopilot widget '{self.step.widget}' failed here")
        fields: dict[str, dict[str, str]] = {}
        for key, value in context.items():
            if key.startswith("Field_") and key.endswith("_Value"):
                name = key[len("Field_"):-len("_Value")]
                fields[name] = {"value": str(value), "type": str(context.get(f"Field_{name}_Type", ""))}
        # sessionEnded: the bot ended the dialogue; timeout: it kept listening until the widget timed out.
        self.ended = self.step.event == "sessionEnded"
        if self.ended:
            self.final_memory = dict(self.memory)
        return ScriptedTurn(task=str(context.get("CurrentTask") or "") or None, fields=fields, replies=(),
                            ended=self.ended, memory=dict(self.memory), user=text, routing="replayed")


class _RecordedBot:
    """A BotPort whose dialogues replay the recorded Autopilot widget Steps, in recorded order."""

    def __init__(self, steps: Sequence[RecordedStep]) -> None:
        self._pending = [s for s in steps if s.type == "send-to-auto-pilot" or "CurrentTask" in s.context]
        self._started = 0

    def start(self, *, channel: str, user: str, memory: Mapping[str, Any] | None = None,
              target_task: str | None = None) -> _RecordedDialogue:
        if self._started >= len(self._pending):
            raise EngineError("the recording has no further Autopilot widget outcome to replay")
        step = self._pending[self._started]
        self._started += 1
        return _RecordedDialogue(step, f"UK{self._started:032d}")


def _memory_of(context: Mapping[str, Any]) -> dict[str, Any]:
    memory = context.get("memory", context.get("Memory"))
    if isinstance(memory, str):
        try:  # a recorded execution's Memory string: refused when it has duplicate keys or nests too deeply
            memory = loads_json(memory)
        except LoadError as err:
            if not is_malformed(err):
                raise EngineError(f"the recorded Autopilot memory: {err.message}", hint=err.hint) from None
            memory = {}
    return dict(memory) if isinstance(memory, Mapping) else {}


# --- recorded HTTP answers -----------------------------------------------------------------------------


HTTP_WIDGETS = ("make-http-request", "run-function")


def _recorded_http_session(steps: Sequence[RecordedStep]) -> Any:
    """A requests Session answering every call with the next recorded HTTP widget outcome (no network)."""
    import requests
    from requests.adapters import BaseAdapter

    pending = [s for s in steps if s.type in HTTP_WIDGETS]

    class RecordedAdapter(BaseAdapter):
        def send(self, request: Any, **kwargs: Any) -> Any:
            if not pending:
                raise requests.ConnectionError("replay: the recording has no further HTTP answer")
            step = pending.pop(0)
            context = step.context
            if context.get("status_code") is None:
                # A failed call leaves no outputs: the recorded request never got an answer.
                raise requests.ConnectionError(f"replay: the recorded call of '{step.widget}' failed")
            body = context.get("body")
            if body is None and "parsed" in context:
                body = json.dumps(context["parsed"])
            response = requests.Response()
            response.status_code = int(context["status_code"])
            response.raw = io.BytesIO(str(body or "").encode("utf-8"))  # read like a streamed body
            response.headers["Content-Type"] = str(context.get("content_type") or
                                                   ("application/json" if "parsed" in context else "text/plain"))
            response.encoding = "utf-8"
            response.url = request.url
            response.request = request
            return response

        def close(self) -> None:
            pending.clear()

    session = requests.Session()
    session.trust_env = False
    adapter = RecordedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


# --- the replay ----------------------------------------------------------------------------------------


def replay_execution(
    recording: str | Path | Mapping[str, Any] | RecordedExecution,
    flow: str | Path | Any,
    *,
    subflows: Mapping[str, str | Path | Any] | None = None,
    url_map: Mapping[str, str] | None = None,
    http: str = "recorded",
    auth_token: str = DEFAULT_AUTH_TOKEN,
    bots: Any = None,
) -> ExecutionReplayResult:
    """Run a recorded execution's inputs through `flow` (a path or a `Flow`) and compare the Steps.

    `http="recorded"` answers HTTP widgets with their recorded outputs; `"live"` calls the URL map's
    servers. `bots`: BotPorts by assistant SID to use real bots instead of the recorded outcomes.
    Raises HarnessError for bad input; differences are in the result.
    """
    from harness.clock import FixedClock
    from harness.engines.studio.engine import StudioEnvironment
    from harness.models.flow import Flow, load_flow

    if http not in ("recorded", "live"):
        raise UsageError(f"http={http!r}: expected 'recorded' or 'live'")
    if isinstance(recording, RecordedExecution):
        rec = recording
    elif isinstance(recording, str | Path):
        rec = load_execution(recording)
    else:
        rec = parse_execution(recording)
    loaded_flow = flow if isinstance(flow, Flow) else load_flow(flow)
    children = {sid: (f if isinstance(f, Flow) else load_flow(f)) for sid, f in (subflows or {}).items()}
    start = _instant(rec.date_created) if isinstance(rec.date_created, str) else None
    session = _recorded_http_session(rec.steps) if http == "recorded" else None
    env = StudioEnvironment(
        bots=bots if bots is not None else {"*": _RecordedBot(rec.steps)}, clock=FixedClock(start),
        url_map=url_map, auth_token=auth_token,
        account_sid=str(rec.payload.get("AccountSid") or DEFAULT_ACCOUNT_SID), subflows=children,
        http=session, allow_network=http == "recorded",  # the recorded session never reaches the network
    )
    loaded = env.load(loaded_flow, flow_sid=rec.flow_sid or None)
    payload = dict(rec.payload)
    if rec.trigger == "incomingParent" and "From" not in payload:
        payload["From"] = rec.contact
    execution = loaded.start(rec.trigger, **payload)
    return _drive(rec, execution)


def _drive(rec: RecordedExecution, execution: Any) -> ExecutionReplayResult:
    checked = 0
    divergence: Divergence | None = None
    while True:
        ours = execution.steps
        divergence = _compare(rec.steps, ours, checked)
        checked = len(ours)
        if divergence is not None or execution.status != "active" or execution.waiting is None:
            break
        if checked >= len(rec.steps):
            break  # the recording stops while we wait: judged below
        divergence = _feed(execution, rec.steps[checked])
        if divergence is not None:
            break
    if divergence is None and checked < len(rec.steps):
        step = rec.steps[checked]
        where = f"waits at '{execution.waiting}'" if execution.status == "active" else "has ended"
        divergence = Divergence(checked, f"the recording continues with '{step.widget}' but our execution "
                                         f"{where}", step, None)
    if divergence is None and execution.status == "active" and rec.status == "ended":
        divergence = Divergence(checked, f"the recorded execution ended, ours still waits at "
                                         f"'{execution.waiting}'", None, None)
    return ExecutionReplayResult(rec, list(execution.steps), divergence, execution.status, execution.waiting)


def _compare(recorded: Sequence[RecordedStep], ours: Sequence[dict[str, Any]], start: int) -> Divergence | None:
    for index in range(start, len(ours)):
        step = ours[index]
        if index >= len(recorded):
            return Divergence(index, f"our execution ran '{step['widget']}' after the recording's last step",
                              None, step)
        rec = recorded[index]
        if rec.widget != step["widget"]:
            return Divergence(index, f"the recording ran '{rec.widget}' here, ours ran '{step['widget']}'",
                              rec, step)
        if rec.event != step["event"] or rec.next != step.get("next"):
            return Divergence(index, f"'{rec.widget}' took a different transition: recorded "
                                     f"{rec.event!r} → {rec.next or 'Ended'}, ours {step['event']!r} → "
                                     f"{step.get('next') or 'Ended'}", rec, step)
    return None


def _feed(execution: Any, step: RecordedStep) -> Divergence | None:
    """Give the waiting execution what the recorded Step received: a reply, digits, speech, or a timeout."""
    wait = _innermost_wait(execution)
    context = step.context
    if step.event == "timeout":
        if wait is None or wait.deadline is None:
            return Divergence(step.index, f"the recording timed out at '{step.widget}', ours has no timeout "
                                          f"there", step, None)
        execution.advance_clock(max((wait.deadline - execution.now()).total_seconds(), 0) + 1)
        return None
    if step.event == "incomingMessage" and isinstance(context.get("inbound"), Mapping):
        inbound = dict(context["inbound"])
        execution.deliver(str(inbound.pop("Body", "")), **{k: v for k, v in inbound.items()
                                                           if k not in ("From", "To", "AccountSid")})
        return None
    if step.type == "send-to-auto-pilot" and "CurrentInput" in context:
        # A real bot (bots=…) still listening: its last recorded input is what ended the dialogue.
        execution.deliver(str(context["CurrentInput"]))
        return None
    if step.event == "keypress":
        execution.deliver("", Digits=str(context.get("Digits", "")))
        return None
    if step.event == "speech":
        execution.deliver("", SpeechResult=str(context.get("SpeechResult", "")),
                          Confidence=context.get("Confidence", ""))
        return None
    return Divergence(step.index, f"cannot feed the recorded step '{step.widget}' ({step.event!r}): our "
                                  f"execution waits at '{execution.waiting}'", step, None)


def _innermost_wait(execution: Any) -> Any:
    wait = execution.wait
    while wait is not None and wait.data.get("child") is not None:
        wait = wait.data["child"].wait
    return wait


# --- exporting our runs as recordings -----------------------------------------------------------------


def export_execution(execution: Any) -> dict[str, Any]:
    """One of our executions as a recording: `{"execution": <Execution>, "steps": [<Step>...]}`."""
    env = execution.environment
    context = {
        "trigger": {execution.trigger_kind: execution.payload},
        "widgets": execution.widgets,
        "flow": {k: v for k, v in execution.flow_context.items()},
    }
    resource = {**execution.to_dict(), "context": context}
    steps = []
    for step in execution.steps:
        steps.append({
            "sid": step["sid"], "account_sid": env.account_sid,
            "flow_sid": step.get("flow_sid", execution.loaded.flow_sid), "execution_sid": execution.sid,
            "parent_step_sid": step.get("parent_step_sid"), "name": step["name"],
            "context": step.get("context") or {}, "transitioned_from": step["transitioned_from"],
            "transitioned_to": step["transitioned_to"], "type": step["type"],
            "date_created": step.get("date_created"), "date_updated": step.get("date_created"),
        })
    # A JSON round trip: the export is plain data, whatever objects the context held.
    return json.loads(json.dumps({"execution": resource, "steps": steps}, default=str))

