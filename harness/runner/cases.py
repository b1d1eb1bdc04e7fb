"""Running one concrete scenario: a conversation checked turn by turn (or a replay), then its golden file.

A case resets its session (clock back at the start, SIDs reseeded with the case's id) so its transcript does
not depend on what ran before it — the same with `-k`, `--lf` or xdist.
"""

from __future__ import annotations

import difflib
import time
import traceback
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from harness.errors import (
    HarnessError,
    HarnessErrors,
    LoadError,
    Location,
    ReferenceProblem,
    SchemaError,
    UsageError,
)
from harness.expectations import (
    Mismatch,
    check_scenario,
    check_turn,
    show,
)
from harness.models.scenario_model import Scenario, ScenarioFile, TurnSpec
from harness.runner.golden import check_golden
from harness.runner.paths import display_path
from harness.runner.pool import SessionPool, options_for
from harness.runner.results import ERROR, FAILED, PASSED, CaseResult
from harness.runner.session import DEFAULT_AUTH_TOKEN, Session


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
            check_golden(scenario, result, update=update_golden, require=require_golden, file=scenario_file)
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
        return pool.session(options_for(scenario_file, scenario, threshold=pool.threshold, router=pool.router))
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
    try:
        conversation = session.conversation(channel=scenario.channel, user=scenario.user,
                                            target_task=scenario.target_task, memory=scenario.memory or None,
                                            handoff_widget=scenario_file.handoff_widget,
                                            trigger=scenario.trigger, parameters=scenario.parameters or None)
    except UsageError as err:  # a trigger the flow does not handle: never a silent pass
        where = scenario.location("trigger") if scenario.trigger and scenario.origin.path else err.location
        raise UsageError(err.message, where or (scenario.location() if scenario.origin.path else None),
                         err.hint) from None
    engine_time = 0.0
    number, spec = 0, None
    try:
        for spec in scenario.turns:
            number += 1  # 1-based, for the error message below
            before = time.perf_counter()
            try:
                if spec.wait is not None:
                    turn = conversation.wait(spec.wait)
                elif spec.digits is not None:
                    turn = _press(conversation, spec.digits)
                elif spec.confidence is not None:
                    assert spec.user is not None  # the schema allows confidence only beside user
                    turn = _say_heard(conversation, spec.user, spec.confidence)
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


def _press(conversation: Any, digits: str) -> Any:
    press = getattr(conversation, "press", None)
    if press is None:
        raise UsageError("digits are keypad input on a call through a Studio flow: this scenario has no flow",
                         hint="add the file's `flow:` (with trigger: call), or write the turn as `user:`")
    return press(digits)


def _say_heard(conversation: Any, text: str, confidence: float) -> Any:
    if not hasattr(conversation, "press"):
        raise UsageError("confidence is the speech recognizer's on a call through a Studio flow: this "
                         "scenario has no flow", hint="drop `confidence:`, or add the file's `flow:`")
    return conversation.say(text, confidence=confidence)


def spec_label(number: int, spec: TurnSpec) -> str:
    """`turn 2 ("I need towels")` or `turn 3 (wait 14400 s)`: a turn as failures name it."""
    if spec.wait is not None:
        return f"turn {number} (wait {spec.wait:g} s)"
    if spec.digits is not None:
        return f"turn {number} (digits {spec.digits})"
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


