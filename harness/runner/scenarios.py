"""The scenario runner: the one place both faces (`autopilot-harness run`, the pytest plugin) run scenarios.

    with SessionPool() as pool:
        result = run_case(pool, concrete_scenario)          # -> CaseResult
    suite = run_suite(["scenarios/"], update_golden=False)  # -> SuiteResult (its own pool)

Lifetimes: a `SessionPool` lives for a whole run and keeps one started `Session` per distinct
configuration (bots, flow, workflow, Functions, servers, …): starting twilio-run costs 1-2 s, so scenario
files that name the same bot and flow share it. A case resets its session (clock back at the start, SIDs
reseeded with the case's id) so its transcript does not depend on what ran before it — the same with
`-k`, `--lf` or xdist, and golden files are byte-identical from run to run.

The JSON of `SuiteResult.to_json()` is the contract for reporters (docs/run-results.md).
"""

from __future__ import annotations

import contextlib
import difflib
import fnmatch
import json
import os
import re
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from harness.errors import (
    ExitCode,
    HarnessError,
    HarnessErrors,
    LoadError,
    Location,
    ReferenceProblem,
    SchemaError,
    UsageError,
)
from harness.expectations import (
    MISSING,
    Mismatch,
    check_scenario,
    check_turn,
    format_mismatches,
    show,
)
from harness.models.scenario import Scenario, ScenarioFile, TurnSpec, load_scenario_file
from harness.runner.session import DEFAULT_AUTH_TOKEN, Session, SessionOptions
from harness.transcript import Transcript

SCENARIO_SUFFIX = ".scenario.yaml"
RESULTS_VERSION = 1
GOLDEN_VERSION = 1

PASSED, FAILED, ERROR = "passed", "failed", "error"

__all__ = [
    "SCENARIO_SUFFIX",
    "CaseCheck",
    "CaseResult",
    "SessionPool",
    "SuiteResult",
    "collect_files",
    "golden_document",
    "golden_folder",
    "golden_orphans",
    "golden_path",
    "keyword_matcher",
    "options_for",
    "run_case",
    "run_suite",
]


# --- sessions ---------------------------------------------------------------------------------------


def options_for(scenario_file: ScenarioFile, scenario: Scenario | None = None, *,
                threshold: float | None = None) -> SessionOptions:
    """The session a scenario file needs (its paths are already resolved by the loader).

    `threshold` is the default from `[tool.autopilot-harness]`, used when the file sets none. `scenario`
    is accepted for symmetry: today every scenario of a file shares the file's configuration.
    """
    del scenario  # per-scenario settings (channel, user, memory) belong to the conversation, not the session
    workflows = dict(scenario_file.workflows)
    if len(workflows) > 1:
        raise UsageError(f"{scenario_file.path}: several workflows are not supported yet; name one",
                         Location(str(scenario_file.path), "/workflow"))
    return SessionOptions(
        bots=dict(scenario_file.bots),
        flow=scenario_file.flow,
        subflows=dict(scenario_file.subflows),
        workflow=next(iter(workflows.values()), None),
        queues=scenario_file.queues,
        functions=list(scenario_file.functions),
        servers=[_server_spec(scenario_file, index, server) for index, server in enumerate(scenario_file.servers)],
        url_map=dict(scenario_file.url_map),
        auth_token=scenario_file.auth_token or DEFAULT_AUTH_TOKEN,
        clock=scenario_file.clock,
        threshold=scenario_file.threshold if scenario_file.threshold is not None else threshold,
    )


def import_root(scenario_file: str | Path) -> Path:
    """Where a scenario's `servers:` modules are imported from: the folder of the nearest pyproject.toml
    above the file, else the file's folder — like paths, relative to the scenario's project, not the cwd."""
    folder = Path(scenario_file).resolve().parent
    for candidate in (folder, *folder.parents):
        if (candidate / "pyproject.toml").is_file():
            return candidate
    return folder


def _server_spec(scenario_file: ScenarioFile, index: int, server: Any) -> dict[str, str]:
    spec = server.as_dict()
    spec["project"] = str(import_root(scenario_file.path))
    first = next(iter(scenario_file.scenarios), None)
    source = first.origin.source if first is not None else None
    where = source.locate(f"/servers/{index}/wsgi") if source is not None and source.text else None
    line = f":{where.line}" if where is not None and where.line else ""
    spec["origin"] = f"{display_path(scenario_file.path)}{line}"  # named when the import fails
    return spec


def _options_key(options: SessionOptions) -> tuple[Any, ...]:
    """A hashable identity of a configuration: equal options share one started session."""
    def path(value: Path | None) -> str | None:
        return str(Path(value).resolve()) if value is not None else None

    return (
        tuple(sorted((str(sid), path(p)) for sid, p in options.bots.items())),
        path(options.flow),
        tuple(sorted((sid, path(p)) for sid, p in options.subflows.items())),
        path(options.workflow),
        path(options.queues),
        tuple(path(p) for p in options.functions),
        # Not `origin`: two files naming the same service in the same project share one started server.
        tuple(tuple(sorted((k, v) for k, v in server.items() if k != "origin")) for server in options.servers),
        tuple(sorted(options.url_map.items())),
        options.auth_token,
        options.clock,
        options.threshold,
    )


# A check a face adds to every case (the contract face: pacts and Twilio rules on each hand-off). It runs
# after the conversation, sees the file, the concrete scenario and the transcript, and returns mismatches;
# the runner cannot import the faces, so they hand their checks in (SessionPool / run_suite).
# A check with a true `wants_outcome` attribute is also passed `failed=` (the case has mismatches already).
CaseCheck = Callable[..., list[Mismatch]]


class SessionPool:
    """Started sessions, one per configuration, shared by every case of a run; closes them all at the end.

    A configuration that fails to start (a broken assistant, twilio-run missing) fails once: later cases
    needing it get the same error without trying again. `case_checks` run after each case's conversation.
    """

    def __init__(self, *, threshold: float | None = None, case_checks: Sequence[CaseCheck] = ()) -> None:
        self.threshold = threshold
        self.case_checks = tuple(case_checks)
        self._sessions: dict[tuple[Any, ...], Session] = {}
        self._broken: dict[tuple[Any, ...], HarnessError] = {}
        self._files: dict[str, ScenarioFile] = {}

    def __enter__(self) -> SessionPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def session(self, options: SessionOptions) -> Session:
        key = _options_key(options)
        if key in self._sessions:
            return self._sessions[key]
        if key in self._broken:
            raise self._broken[key]
        session = Session(options)
        try:
            session.__enter__()
        except HarnessError as err:
            self._broken[key] = err
            raise
        self._sessions[key] = session
        return session

    def load(self, path: str | Path) -> ScenarioFile:
        """A scenario file, loaded once per pool (run_case is given scenarios, not files)."""
        key = str(path)
        if key not in self._files:
            self._files[key] = load_scenario_file(path)
        return self._files[key]

    def remember(self, scenario_file: ScenarioFile) -> None:
        self._files[str(scenario_file.path)] = scenario_file

    @property
    def started(self) -> int:
        return len(self._sessions)

    def close(self) -> None:
        sessions, self._sessions = list(self._sessions.values()), {}
        for session in reversed(sessions):
            session.__exit__(None, None, None)


# --- one case ----------------------------------------------------------------------------------------


@dataclass
class CaseResult:
    """The outcome of one concrete scenario (or, with kind "file", of a file that could not be loaded)."""

    id: str
    file: str
    name: str
    tags: tuple[str, ...] = ()
    status: str = PASSED
    duration: float = 0.0
    mismatches: list[Mismatch] = field(default_factory=list)
    error: str | None = None
    transcript: Transcript | None = None
    kind: str = "scenario"  # "scenario" | "file"
    line: int | None = None  # where the scenario starts in its file (1-based)
    golden: str | None = None  # None (not run to the end) | "written" | "matched" | "changed" | "missing"
    engine_time: float = 0.0  # seconds spent inside the engines (conversation.say)
    # The case could not start because a file it names (bot, flow, workflow, …) is malformed: invalid
    # input, like a malformed scenario file, so it alone makes a run exit 2 rather than 1.
    invalid_input: bool = False
    exception: BaseException | None = field(default=None, repr=False, compare=False)  # an internal bug

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    @property
    def nodeid(self) -> str:
        return f"{self.file}::{self.id}"

    def failure_text(self) -> str:
        """What a user reads for a failed or broken case (pytest, the CLI and JUnit show the same)."""
        parts = []
        if self.error:
            parts.append(self.error)
        if self.mismatches:
            count = len(self.mismatches)
            parts.append(format_mismatches(self.mismatches,
                                           title=f"{count} expectation{'s' if count != 1 else ''} failed"))
        return "\n".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "file": self.file,
            "id": self.id,
            "name": self.name,
            "line": self.line,
            "tags": list(self.tags),
            "status": self.status,
            "duration": round(self.duration, 6),
            "error": self.error,
            "mismatches": [_mismatch_dict(m) for m in self.mismatches],
            "failure": self.failure_text() or None,
            "golden": self.golden,
            "invalid_input": self.invalid_input,
            "transcript": self.transcript.to_dict() if self.transcript is not None else None,
        }


def _mismatch_dict(mismatch: Mismatch) -> dict[str, Any]:
    return {
        "where": mismatch.where, "scope": mismatch.scope, "key": mismatch.key, "path": mismatch.path,
        "expected": show(mismatch.expected), "actual": show(mismatch.actual), "detail": mismatch.detail,
        "location": str(mismatch.location) if mismatch.location is not None else None,
    }


def display_path(path: str | Path) -> str:
    """A path as a user reads it: relative to the working directory when below it, with '/'."""
    path = Path(path)
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def run_case(pool: SessionPool, scenario: Scenario, *, file: ScenarioFile | None = None,
             update_golden: bool = False, require_golden: bool = False) -> CaseResult:
    """Run one concrete scenario (from `Scenario.expanded()`): say each turn, check as it goes, check the end.

    Every mismatch is collected; only an engine or webhook error stops the conversation (status "error",
    with the rendered message and the mismatches found before it). The conversation is always closed.
    A non-HarnessError is a bug in the kit: status "error" with its traceback, kept in `exception`.
    `require_golden`: a scenario without a golden file fails (the deploy gate's `--require-golden`).
    """
    if not scenario.is_concrete:
        raise UsageError(f"scenario '{scenario.id}' has variants: run each of scenario.expanded()")
    scenario_file = file or pool.load(scenario.origin.path or "")
    where = str(scenario_file.path)
    line = scenario.location().line if scenario.origin.path else None
    result = CaseResult(id=scenario.id, file=display_path(where), name=scenario.name, tags=scenario.tags,
                        line=line)
    started = time.perf_counter()
    try:
        _converse(pool, scenario_file, scenario, result)
        if result.transcript is not None and result.error is None:
            _golden(scenario, result, update=update_golden, require=require_golden)
    except _StartFailed as failed:
        result.error = failed.error.render()
        result.invalid_input = is_input_problem(failed.error)
    except HarnessError as err:
        result.error = err.render()
    except Exception as err:  # a bug in the kit: keep the traceback, and let the rest of the suite run
        result.error = "internal error (a bug in autopilot-harness):\n" + "".join(traceback.format_exception(err))
        result.exception = err
    result.duration = time.perf_counter() - started
    result.status = ERROR if result.error else (FAILED if result.mismatches else PASSED)
    return result


class _StartFailed(Exception):
    """The case's session could not start (carries the HarnessError): told apart from a conversation that
    broke, because a malformed bot or flow file is invalid input."""

    def __init__(self, error: HarnessError) -> None:
        super().__init__(error.render())
        self.error = error


_INPUT_PROBLEMS = (LoadError, SchemaError, ReferenceProblem)


def is_input_problem(error: HarnessError) -> bool:
    """A file that is malformed, breaks its schema or names something missing (not a run-time failure)."""
    if isinstance(error, HarnessErrors):
        return bool(error.errors) and all(is_input_problem(e) for e in error.errors)
    return isinstance(error, _INPUT_PROBLEMS)


def _start(pool: SessionPool, scenario_file: ScenarioFile, scenario: Scenario) -> Session:
    try:
        return pool.session(options_for(scenario_file, scenario, threshold=pool.threshold))
    except HarnessError as err:
        raise _StartFailed(err) from None


def _converse(pool: SessionPool, scenario_file: ScenarioFile, scenario: Scenario, result: CaseResult) -> None:
    if scenario.replay is not None:
        _replay(pool, scenario_file, scenario, result)
        return
    session = _start(pool, scenario_file, scenario)
    unknown = unknown_task_names(scenario, session.assistants.values())
    if unknown:  # a misspelt task is invalid input (exit 2), not a routing failure to puzzle over
        raise _StartFailed(HarnessErrors(unknown))
    # The seed names the file and the case, not the path: goldens must not change with the checkout folder.
    session.reset(f"{Path(scenario_file.path).name}::{scenario.id}")
    conversation = session.conversation(channel=scenario.channel, user=scenario.user,
                                        target_task=scenario.target_task, memory=scenario.memory or None,
                                        handoff_widget=scenario_file.handoff_widget)
    engine_time = 0.0
    number, spec = 0, None
    try:
        for spec in scenario.turns:
            number += 1  # 1-based, for the error message below
            before = time.perf_counter()
            try:
                if spec.wait is not None:
                    turn = conversation.wait(spec.wait)
                else:
                    assert spec.user is not None  # concrete scenarios say one utterance per turn
                    turn = conversation.say(spec.user)
            finally:
                engine_time += time.perf_counter() - before
            result.mismatches += check_turn(spec.expect, turn)
    except HarnessError as err:
        # The conversation cannot continue; what was checked so far stays in the result. The message
        # names the turn: a failing Function's error tells only its URL and status.
        result.error = f"{spec_label(number, spec)}: {err.render()}" if spec is not None else err.render()
    finally:
        result.engine_time = engine_time
        try:
            result.transcript = conversation.transcript()
        finally:
            conversation.close()
    if result.error is None:
        result.mismatches += check_scenario(scenario.expect, result.transcript, queue_of=session.queue_name)
        for check in pool.case_checks:
            if getattr(check, "wants_outcome", False):
                # e.g. the contract check: a case that already failed must not write its pact interaction
                result.mismatches += check(scenario_file, scenario, result.transcript,
                                           failed=bool(result.mismatches))
            else:
                result.mismatches += check(scenario_file, scenario, result.transcript)


def spec_label(number: int, spec: TurnSpec) -> str:
    """`turn 2 ("I need towels")` or `turn 3 (wait 14400 s)`: a turn as failures name it."""
    if spec.wait is not None:
        return f"turn {number} (wait {spec.wait:g} s)"
    text = spec.user or ""
    return f"turn {number} ({show(text if len(text) <= 40 else text[:39] + '…')})"


def unknown_task_names(scenario: Scenario, assistants: Iterable[Any]) -> list[HarnessError]:
    """`expect.task` / `next_best_task` / `target_task` values no assistant of the session has, each with its
    file:line:col and the closest real name (a typo otherwise reads as "was not a candidate")."""
    names: set[str] = set()
    for assistant in assistants:
        names.update(task.unique_name for task in assistant.tasks)
    if not names:
        return []
    problems: list[HarnessError] = []

    def check(name: str | None, where: Location) -> None:
        if name is None or name in names:
            return
        close = difflib.get_close_matches(name, sorted(names), n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else "tasks: " + ", ".join(sorted(names))
        problems.append(ReferenceProblem(f"the bot has no task '{name}'", where, hint))

    if scenario.target_task is not None:
        check(scenario.target_task, scenario.location("target_task"))
    for spec in scenario.turns:
        check(spec.expect.task, spec.expect.origin.location("task"))
        check(spec.expect.next_best_task, spec.expect.origin.location("next_best_task"))
    return problems


# --- replay scenarios ---------------------------------------------------------------------------------


def _replay(pool: SessionPool, scenario_file: ScenarioFile, scenario: Scenario, result: CaseResult) -> None:
    """A `replay:` scenario: the recording is the expectation, so its differences are the mismatches.

    With a `bot`, the file's session (and the Functions and WSGI services it started) answers, shared
    with the file's other scenarios; without one, requests go to the file's `url_map` and `functions`.
    """
    from harness.runner.replay import replay_execution, replay_requests

    spec = scenario.replay
    assert spec is not None
    url_map, functions = dict(scenario_file.url_map), list(scenario_file.functions)
    if scenario_file.bots:
        session = _start(pool, scenario_file, scenario)
        url_map, functions = dict(session.url_map), []
    elif scenario_file.servers:
        raise UsageError("a replay scenario's `servers` are started by the file's session, which needs `bot`",
                         scenario.location("replay"), "add `bot:`, or map the URLs with `url_map`")
    auth_token = scenario_file.auth_token or DEFAULT_AUTH_TOKEN
    started = time.perf_counter()
    try:
        if spec.kind == "requests":
            replayed = replay_requests(spec.path, url_map=url_map, functions=functions, auth_token=auth_token,
                                       default_url=spec.url, match=spec.match)
            result.mismatches += _request_mismatches(replayed, scenario)
        else:
            flow = spec.flow or scenario_file.flow
            if flow is None:
                raise UsageError("an execution replay needs a flow: set the file's `flow` or `replay.flow`",
                                 scenario.location("replay"))
            execution = replay_execution(spec.path, flow, subflows=dict(scenario_file.subflows),
                                         url_map=url_map, http=spec.http, auth_token=auth_token)
            result.mismatches += _execution_mismatches(execution, scenario)
    finally:
        result.engine_time = time.perf_counter() - started


def _request_mismatches(replayed: Any, scenario: Scenario) -> list[Mismatch]:
    """One mismatch per difference, Actions-schema problem or failed call of each replayed request."""
    at = scenario.location("replay", "requests")
    found: list[Mismatch] = []
    if not replayed.outcomes:  # nothing replayed verified nothing: never a pass
        found.append(Mismatch("replay requests", "at least one request", "none in the recording", "", None,
                              "replay", "requests", at))
    for outcome in replayed.failed:
        label = outcome.record.label
        if outcome.error:
            found.append(Mismatch(f"{label} call", "an answer", outcome.error, "", None, label, "call", at))
        for problem in outcome.problems:
            found.append(Mismatch(f"{label} Actions", "valid Actions JSON (error 90100)", problem, "", None,
                                  label, "actions", at))
        for difference in outcome.differences:
            path = difference.path or "(the whole answer)"
            found.append(Mismatch(f"{label} {path}", difference.expected, difference.actual,
                                  difference.reason if difference.reason not in ("missing", "not recorded") else "",
                                  path, label, "response", at))
    return found


def _execution_mismatches(execution: Any, scenario: Scenario) -> list[Mismatch]:
    """The first step where our run leaves the recording, as one mismatch with the widget and conditions."""
    divergence = execution.divergence
    if divergence is None:
        return []
    recorded, ours = divergence.recorded, divergence.ours

    def transition(widget: Any, event: Any, next_widget: Any) -> str:
        return f"{widget} —{event}→ {next_widget or 'Ended'}"

    expected = transition(recorded.widget, recorded.event, recorded.next) if recorded is not None else "(no step)"
    actual = transition(ours["widget"], ours["event"], ours.get("next")) if ours is not None else "(no step)"
    # The reason, then what explains our transition (the split's evaluated input and conditions, an error);
    # the recorded and our step are already the expected and actual values.
    explained = [line.strip() for line in divergence.render().splitlines()[1:]
                 if not line.lstrip().startswith(("recorded:", "ours:"))]
    scope = f"replayed execution step {divergence.index + 1}"
    return [Mismatch(f"{scope} transition", expected, actual, "\n".join([divergence.reason, *explained]), None,
                     scope, "transition", scenario.location("replay", "execution"))]


# --- golden transcripts -------------------------------------------------------------------------------


_UNSAFE_NAME = re.compile(r"[^\w.\-\[\]]+")
VOLATILE_KEYS = frozenset({"elapsed_ms", "called", "duration", "duration_ms"})  # timing and local ports
_LOOPBACK = re.compile(r"http://(?:127\.0\.0\.1|localhost):\d+")


def golden_path(scenario: Scenario, scenario_file: str | Path | None = None) -> Path:
    """`<file>.golden/<scenario id>.json` beside the scenario file (`hotel.scenario.yaml` → `hotel.golden/`)."""
    folder = golden_folder(scenario_file or scenario.origin.path or "")
    return folder / (_UNSAFE_NAME.sub("_", scenario.id) + ".json")


def golden_folder(scenario_file: str | Path) -> Path:
    """`hotel.golden/` beside `hotel.scenario.yaml`: where a file's golden transcripts live."""
    source = Path(scenario_file)
    stem = source.name[: -len(SCENARIO_SUFFIX)] if source.name.endswith(SCENARIO_SUFFIX) else source.stem
    return source.with_name(f"{stem}.golden")


def golden_orphans(scenario_file: ScenarioFile, shown: str | Path | None = None) -> list[Path]:
    """Golden files in the file's `.golden/` folder that belong to none of its scenarios (renamed or
    deleted ones): stale regression gates nobody checks any more."""
    where = shown or scenario_file.path
    folder = golden_folder(where)
    if not folder.is_dir():
        return []
    expected = {golden_path(concrete, where).name
                for scenario in scenario_file.scenarios for concrete in scenario.expanded()}
    return sorted(path for path in folder.glob("*.json") if path.name not in expected)


def golden_document(scenario: Scenario, transcript: Transcript, scenario_file: str | Path) -> dict[str, Any]:
    """The golden file's content: the whole transcript without timing or local ports (stable run to run)."""
    data = _stable(transcript.to_dict())
    flow = data.get("flow")
    if isinstance(flow, dict) and isinstance(flow.get("flow"), str):
        # The loader resolves paths; store the flow relative to the scenario file, so any checkout matches.
        flow["flow"] = _relative_to(flow["flow"], Path(scenario_file).parent)
    return {"version": GOLDEN_VERSION, "scenario": scenario.id, "transcript": data}


def _relative_to(path: str, base: Path) -> str:
    try:
        return Path(os.path.relpath(Path(path).resolve(), base.resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return Path(path).name


def _stable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _stable(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list | tuple):
        return [_stable(v) for v in value]
    if isinstance(value, str):
        return _LOOPBACK.sub("http://127.0.0.1:PORT", value)
    return value


def dump_golden(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"


def _golden(scenario: Scenario, result: CaseResult, *, update: bool, require: bool = False) -> None:
    assert result.transcript is not None
    scenario_file = scenario.origin.path or result.file
    path = golden_path(scenario, scenario_file)
    document = golden_document(scenario, result.transcript, scenario_file)
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = dump_golden(document)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        result.golden = "written"
        return
    if not path.is_file():
        # Said in the summary and the JSON: a deleted golden must not pass silently as "no change".
        result.golden = "missing"
        if require:
            result.mismatches.append(Mismatch(
                "golden transcript missing", display_path(path), MISSING,
                "--require-golden: record it with `autopilot-harness run FILE --update-golden` and commit it",
                "golden", "golden", "golden"))
        return
    try:
        recorded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise HarnessError(f"cannot read the golden transcript: {err}", Location(display_path(path)),
                           "re-create it with --update-golden") from None
    changes = golden_diff(recorded.get("transcript") or {}, document["transcript"], display_path(path))
    result.golden = "changed" if changes else "matched"
    result.mismatches += changes


CONFIDENCE_TOLERANCE = 0.01  # router scores move in the last digits with harmless sample edits
REPLY_SHOW_LIMIT = 2000  # a changed reply is shown in full up to this many characters


def golden_view(transcript: Mapping[str, Any]) -> dict[str, Any]:
    """What a golden run guards: each turn's task, replies, confidence, fields, memory and `ended`, the
    dialogue's end and final memory, the flow path and variables, and the handoff payload."""
    flow = transcript.get("flow") or {}
    return {
        "turns": [{"task": t.get("task"), "replies": list(t.get("replies") or ()),
                   "confidence": t.get("confidence"), "fields": t.get("fields") or {},
                   "memory": t.get("memory") or {}, "ended": t.get("ended")}
                  for t in transcript.get("turns") or ()],
        "ended": transcript.get("ended"),
        "final_memory": transcript.get("final_memory") or {},
        "flow.path": [step.get("widget") for step in flow.get("steps") or ()],
        "flow.variables": flow.get("variables") or {},
        "handoff": _handoff_view(transcript.get("handoff")),
    }


def _handoff_view(handoff: Any) -> Any:
    if not isinstance(handoff, Mapping):
        return handoff
    keep = ("kind", "attributes", "queue", "workflow_sid", "task_channel", "priority",
            "method", "url", "body", "status", "response")
    view = {k: handoff.get(k) for k in keep if k in handoff}
    if isinstance(view.get("attributes"), str):  # compare attributes as data, not as their JSON text
        with contextlib.suppress(ValueError):
            view["attributes"] = json.loads(view["attributes"])
    return view


def golden_diff(recorded: Mapping[str, Any], current: Mapping[str, Any], golden: str) -> list[Mismatch]:
    """Every change of task, reply, path or handoff payload since the golden run, as mismatches."""
    scope = f"changed since the golden run ({golden})"
    found: list[Mismatch] = []
    before, after = golden_view(recorded), golden_view(current)
    users = [t.get("user", "") for t in current.get("turns") or ()] or \
            [t.get("user", "") for t in recorded.get("turns") or ()]
    if len(before["turns"]) != len(after["turns"]):
        found.append(Mismatch(f"{scope} turns", len(before["turns"]), len(after["turns"]),
                              "the conversation has a different number of turns", "turns", scope, "turns"))
    for index, (old, new) in enumerate(zip(before["turns"], after["turns"], strict=False)):
        user = users[index] if index < len(users) else ""
        label = f"turn {index + 1} ({show(user if len(user) <= 40 else user[:39] + '…')})"
        if old["task"] != new["task"]:
            found.append(Mismatch(f"{scope} {label} task", old["task"], new["task"], "", f"{label} task",
                                  scope, "task"))
        found += _reply_changes(old["replies"], new["replies"], label, scope)
        if old["ended"] != new["ended"]:
            found.append(Mismatch(f"{scope} {label} ended", old["ended"], new["ended"],
                                  "the dialogue ended on this turn" if new["ended"] else "the dialogue stays open",
                                  f"{label} ended", scope, "ended"))
        if not _close(old["confidence"], new["confidence"]):
            found.append(Mismatch(f"{scope} {label} confidence", old["confidence"], new["confidence"],
                                  f"tolerance ±{CONFIDENCE_TOLERANCE}", f"{label} confidence", scope,
                                  "confidence"))
        for key in ("fields", "memory"):
            for path, was, now in _deep_diff(old[key], new[key], key):
                found.append(Mismatch(f"{scope} {label} {path}", was, now, "", f"{label} {path}", scope, key))
    if before["ended"] != after["ended"]:
        found.append(Mismatch(f"{scope} ended", before["ended"], after["ended"], "", "ended", scope, "ended"))
    for path, old, new in _deep_diff(before["final_memory"], after["final_memory"], "final_memory"):
        found.append(Mismatch(f"{scope} {path}", old, new, "", path, scope, "final_memory"))
    if before["flow.path"] != after["flow.path"]:
        found.append(Mismatch(f"{scope} flow.path", " → ".join(map(str, before["flow.path"])) or "(none)",
                              " → ".join(map(str, after["flow.path"])) or "(none)", "", "flow.path", scope,
                              "flow.path"))
    for path, old, new in _deep_diff(before["flow.variables"], after["flow.variables"], "flow.variables"):
        found.append(Mismatch(f"{scope} {path}", old, new, "", path, scope, "flow.variables"))
    for path, old, new in _deep_diff(before["handoff"], after["handoff"], "handoff"):
        found.append(Mismatch(f"{scope} {path}", old, new, "", path, scope, "handoff"))
    return found


def _close(old: Any, new: Any) -> bool:
    if isinstance(old, int | float) and isinstance(new, int | float):
        return abs(old - new) <= CONFIDENCE_TOLERANCE + 1e-9
    return old == new


def _full(text: Any) -> str:
    value = text if isinstance(text, str) else json.dumps(text, ensure_ascii=False, default=str)
    return value if len(value) <= REPLY_SHOW_LIMIT else value[:REPLY_SHOW_LIMIT] + f"… ({len(value)} characters)"


def _reply_changes(old: list[Any], new: list[Any], label: str, scope: str) -> list[Mismatch]:
    """One mismatch per changed reply (`reply 2`), both sides in full in the detail: a reply list cut at a
    fixed length hides which reply changed and how."""
    found: list[Mismatch] = []
    for index in range(max(len(old), len(new))):
        was = old[index] if index < len(old) else MISSING
        now = new[index] if index < len(new) else MISSING
        if was == now:
            continue
        where = f"{label} reply {index + 1}"
        detail = "\n".join((f"before: {'(missing)' if was is MISSING else _full(was)}",
                            f"now:    {'(missing)' if now is MISSING else _full(now)}"))
        if len(old) != len(new) and not found:
            detail = f"{len(old)} replies before, {len(new)} now\n" + detail
        found.append(Mismatch(f"{scope} {where}", was, now, detail, where, scope, "replies"))
    return found


def _deep_diff(old: Any, new: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    """(JSON path, old, new) for every leaf that differs; missing keys show as `(missing)`."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in sorted(set(old) | set(new), key=str):
            yield from _deep_diff(old.get(key, MISSING), new.get(key, MISSING), f"{path}.{key}")
        return
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            yield from _deep_diff(a, b, f"{path}[{index}]")
        return
    if old != new or type(old) is not type(new):
        yield (path, old, new)


# --- a suite ----------------------------------------------------------------------------------------


# pytest's default `norecursedirs`: `run` skips the folders pytest skips, so both faces collect the same
# files (a scenario copied into build/ or a virtualenv is not run twice). A folder given explicitly is
# searched whatever its name.
NORECURSE_DIRS = ("*.egg", ".*", "_darcs", "build", "CVS", "dist", "node_modules", "venv", "{arch}")


def _skipped_folder(folder: Path) -> bool:
    return (any(fnmatch.fnmatch(folder.name, pattern) for pattern in NORECURSE_DIRS)
            or (folder / "pyvenv.cfg").is_file())  # a virtualenv under any name, as pytest knows them


def collect_files(paths: Iterable[str | Path], *, pattern: str = f"*{SCENARIO_SUFFIX}") -> list[Path]:
    """Scenario files: the files given, and every file whose name matches `pattern` (fnmatch, as the
    plugin's `scenario_glob`) below the folders given (sorted), skipping `NORECURSE_DIRS` below them."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            inside: list[Path] = []
            for folder, subfolders, names in os.walk(path):
                # Pruned in place: os.walk then never enters node_modules and the like (fast, too).
                subfolders[:] = [d for d in subfolders if not _skipped_folder(Path(folder) / d)]
                inside += [Path(folder) / name for name in names
                           if fnmatch.fnmatch(name, pattern) and name.endswith((".yaml", ".yml"))
                           and not name.startswith(".")]
            found += sorted(inside)
        elif path.is_file():
            found.append(path)
        else:
            raise UsageError(f"{raw}: no such file or folder")
    return list(dict.fromkeys(found))


Select = Callable[[str, Scenario], bool]  # (file as displayed, concrete scenario) → run it?
Progress = Callable[[CaseResult], None]


@dataclass
class SuiteResult:
    cases: list[CaseResult] = field(default_factory=list)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    duration: float = 0.0
    deselected: int = 0
    golden_orphans: list[str] = field(default_factory=list)  # golden files of no scenario (kept)
    golden_pruned: list[str] = field(default_factory=list)  # ... removed by --update-golden

    @property
    def golden_missing(self) -> list[str]:
        """`file::scenario id` of every case that ran to the end without a golden file to compare with."""
        return [f"{case.file}::{case.id}" for case in self.cases if case.golden == "missing"]
    # The working directory of the run: the paths in `files` are relative to it, so the insight tools
    # (coverage, report) find the bots and flows from anywhere.
    cwd: str = field(default_factory=lambda: str(Path.cwd().resolve()))

    def count(self, status: str) -> int:
        return sum(1 for case in self.cases if case.status == status)

    @property
    def summary(self) -> dict[str, int]:
        return {"passed": self.count(PASSED), "failed": self.count(FAILED), "error": self.count(ERROR),
                "total": len(self.cases)}

    @property
    def exit_code(self) -> ExitCode:
        """0 all passed; 1 a scenario failed or broke; 2 only invalid input (a malformed scenario file, or
        a bot/flow/workflow file it names); 5 nothing collected."""
        if any(c.kind == "scenario" and not c.passed and not c.invalid_input for c in self.cases):
            return ExitCode.FAILED
        if any(c.kind == "file" or c.invalid_input for c in self.cases):
            return ExitCode.BAD_INPUT
        if not self.cases:
            return ExitCode.NOTHING_COLLECTED
        return ExitCode.OK

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": RESULTS_VERSION,
            "started": self.started.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "duration": round(self.duration, 6),
            "summary": self.summary,
            "cwd": self.cwd,
            "files": self.files,
            "cases": [case.to_dict() for case in self.cases],
            # Only when there is something to say (the key may grow; docs/run-results.md).
            **({"golden": {"orphans": self.golden_orphans, "pruned": self.golden_pruned,
                           "missing": self.golden_missing}}
               if self.golden_orphans or self.golden_pruned or self.golden_missing else {}),
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, default=str)

    def to_junit_xml(self) -> str:
        return junit_xml(self.cases, started=self.started, duration=self.duration)


def file_info(scenario_file: ScenarioFile | None, error: str | None = None) -> dict[str, Any]:
    """The `files` entry of the results JSON: which bot and flow a file runs, or why it could not load."""
    if scenario_file is None:
        return {"bot": None, "flow": None, "error": error}
    bots = {sid: display_path(path) for sid, path in scenario_file.bots.items()}
    bot: Any = bots.get(None) if list(bots) == [None] else {str(k): v for k, v in bots.items()}
    flow = display_path(scenario_file.flow) if scenario_file.flow is not None else None
    return {"bot": bot, "flow": flow, "error": error}


def run_suite(
    paths: Sequence[str | Path], *, update_golden: bool = False, require_golden: bool = False,
    select: Select | None = None,
    progress: Progress | None = None, threshold: float | None = None, case_checks: Sequence[CaseCheck] = (),
    pattern: str = f"*{SCENARIO_SUFFIX}",
) -> SuiteResult:
    """Collect and run every scenario under `paths`. A file that cannot be loaded becomes one "error"
    result (file:line:column, no traceback) and the rest still runs. Raises UsageError for a missing path.
    `case_checks` run after each case (the faces pass `harness.contracts.scenario_runs.case_checks()`).
    `pattern` picks the scenario files inside folders (`[tool.autopilot-harness] scenario_glob`).
    """
    files = collect_files(paths, pattern=pattern)
    suite = SuiteResult()
    clock = time.perf_counter()
    with SessionPool(threshold=threshold, case_checks=case_checks) as pool:
        for path in files:
            shown = display_path(path)
            try:
                # Loaded by the shown path, so messages read `suite/hotel.scenario.yaml:12:7` too.
                scenario_file = load_scenario_file(shown)
            except HarnessError as err:
                result = CaseResult(id=Path(path).name, file=shown, name=Path(path).name, status=ERROR,
                                    error=err.render(), kind="file")
                suite.files[shown] = file_info(None, err.render())
                suite.cases.append(result)
                if progress:
                    progress(result)
                continue
            pool.remember(scenario_file)
            suite.files[shown] = file_info(scenario_file)
            deselected = suite.deselected
            for scenario in scenario_file.scenarios:
                for concrete in scenario.expanded():
                    if select is not None and not select(shown, concrete):
                        suite.deselected += 1
                        continue
                    result = run_case(pool, concrete, file=scenario_file, update_golden=update_golden,
                                      require_golden=require_golden)
                    suite.cases.append(result)
                    if progress:
                        progress(result)
            _sweep_goldens(suite, scenario_file, shown,
                           prune=update_golden and select is None and suite.deselected == deselected)
    suite.duration = time.perf_counter() - clock
    return suite


def _sweep_goldens(suite: SuiteResult, scenario_file: ScenarioFile, shown: str, *, prune: bool) -> None:
    """Golden files of scenarios the file no longer has: removed when `--update-golden` ran the whole
    file (under -k/--tag the rest of the file did not run, so nothing is removed), else listed."""
    for orphan in golden_orphans(scenario_file, shown):
        if prune:
            orphan.unlink(missing_ok=True)
            suite.golden_pruned.append(display_path(orphan))
        else:
            suite.golden_orphans.append(display_path(orphan))


# --- selecting: -k and tags ---------------------------------------------------------------------------


_TOKEN = re.compile(r"\s*(\(|\)|[^\s()]+)")


def keyword_matcher(expression: str) -> Callable[[Iterable[str]], bool]:
    """pytest's `-k`: words match case-insensitively as substrings of any name; `and`, `or`, `not`, ()."""
    tokens = _TOKEN.findall(expression)
    if not tokens:
        return lambda names: True
    position = 0

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> str:
        nonlocal position
        token = peek()
        if token is None:
            raise UsageError(f"-k {expression!r}: the expression ends too early")
        position += 1
        return token

    def parse_or() -> Callable[[list[str]], bool]:
        left = parse_and()
        while peek() == "or":
            take()
            right = parse_and()
            left = (lambda a, b: lambda names: a(names) or b(names))(left, right)
        return left

    def parse_and() -> Callable[[list[str]], bool]:
        left = parse_not()
        while peek() == "and":
            take()
            right = parse_not()
            left = (lambda a, b: lambda names: a(names) and b(names))(left, right)
        return left

    def parse_not() -> Callable[[list[str]], bool]:
        token = take()
        if token == "not":
            inner = parse_not()
            return lambda names: not inner(names)
        if token == "(":
            inner = parse_or()
            if take() != ")":
                raise UsageError(f"-k {expression!r}: expected ')'")
            return inner
        if token in (")", "and", "or"):
            raise UsageError(f"-k {expression!r}: unexpected {token!r}")
        word = token.lower()
        return lambda names: any(word in name for name in names)

    matcher = parse_or()
    if peek() is not None:
        raise UsageError(f"-k {expression!r}: unexpected {peek()!r}")
    return lambda names: matcher([name.lower() for name in names])


def selector(keyword: str | None = None, tags: Sequence[str] = ()) -> Select | None:
    """A `select` for run_suite from `-k EXPR` (file, scenario id and tags) and `--tag` (any of them)."""
    if not keyword and not tags:
        return None
    matches = keyword_matcher(keyword) if keyword else None
    wanted = set(tags)

    def select(file: str, scenario: Scenario) -> bool:
        if wanted and not wanted & set(scenario.tags):
            return False
        return matches is None or matches([Path(file).name, scenario.id, *scenario.tags])

    return select


# --- JUnit XML ----------------------------------------------------------------------------------------


def junit_xml(cases: Sequence[CaseResult], *, started: datetime | None = None, duration: float = 0.0) -> str:
    """JUnit XML as CI servers read it: one <testsuite> per scenario file, one <testcase> per scenario."""
    root = ElementTree.Element("testsuites", name="autopilot-harness", tests=str(len(cases)),
                               failures=str(sum(c.status == FAILED for c in cases)),
                               errors=str(sum(c.status == ERROR for c in cases)), time=f"{duration:.3f}")
    by_file: dict[str, list[CaseResult]] = {}
    for case in cases:
        by_file.setdefault(case.file, []).append(case)
    for file, members in by_file.items():
        suite = ElementTree.SubElement(
            root, "testsuite", name=file, tests=str(len(members)),
            failures=str(sum(c.status == FAILED for c in members)),
            errors=str(sum(c.status == ERROR for c in members)), skipped="0",
            time=f"{sum(c.duration for c in members):.3f}",
        )
        if started is not None:
            suite.set("timestamp", started.isoformat(timespec="seconds"))
        for case in members:
            element = ElementTree.SubElement(suite, "testcase", classname=_classname(file), name=case.id,
                                             file=file, time=f"{case.duration:.3f}")
            if case.line is not None:
                element.set("line", str(case.line))
            if case.status == FAILED:
                count = len(case.mismatches)
                failure = ElementTree.SubElement(element, "failure", type="ExpectationFailed",
                                                 message=f"{count} expectation{'s' if count != 1 else ''} failed")
                failure.text = case.failure_text()
            elif case.status == ERROR:
                error = ElementTree.SubElement(element, "error", type="HarnessError",
                                               message=(case.error or "").splitlines()[0] if case.error else "")
                error.text = case.failure_text()
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"


def _classname(file: str) -> str:
    """pytest's style (dotted path without the suffix), so CI groups both faces' results alike."""
    name = file[: -len(SCENARIO_SUFFIX)] if file.endswith(SCENARIO_SUFFIX) else file
    return name.replace("/", ".")
