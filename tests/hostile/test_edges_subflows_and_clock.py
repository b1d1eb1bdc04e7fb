"""Hostile subflows and clocks (issue 9, edges).

Subflows: a flow that runs itself (A→A), or A→B→A, recursed until Python's RecursionError. Studio runs one
level of subflows: a Run Subflow widget inside a subflow fails with Twilio error 81024 "Subflow could not be
executed", cause "Subflow is trying to invoke another Subflow", fix "Remove Subflow widget from Subflow
definition" (https://www.twilio.com/docs/api/errors/81024; /work/shared/reference/studio.md §2.10 for the
widget's `completed`/`failed` events). The kit now does the same: the inner widget takes `failed` with the
81024 error on its step, and nothing recurses.

Clock: `clock:` at year 9999 or a `wait` that overflows Python's datetime raised OverflowError deep in the
engine. The clock now has an explicit range (harness.clock.CLOCK_EARLIEST…CLOCK_LATEST) and a wait limit
(DEFAULT_MAX_WAIT_SECONDS, raised with AUTOPILOT_HARNESS_MAX_WAIT_SECONDS), named when hit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.clock import MAX_WAIT_ENV, FixedClock
from harness.errors import UsageError
from tests.hostile.kit import TINY_BOT, assert_refused, cli, run_suite_beside

FW_A, FW_B, FW_C = ("FW" + c * 32 for c in "abc")


def _flow(name: str, target: str, *, on_failed: str | None = None) -> dict[str, Any]:
    """Says "hello from NAME", then runs the subflow `target`; as a subflow it runs `target` straight away."""
    states: list[dict[str, Any]] = [
        {"name": "Trigger", "type": "trigger", "properties": {"offset": {"x": 0, "y": 0}},
         "transitions": [{"event": "incomingMessage", "next": "say"}, {"event": "incomingCall"},
                         {"event": "incomingConversationMessage"}, {"event": "incomingRequest"},
                         {"event": "incomingParent", "next": "again"}]},
        {"name": "say", "type": "send-message",
         "properties": {"offset": {"x": 0, "y": 0}, "body": f"hello from {name}",
                        "from": "{{flow.channel.address}}", "to": "{{contact.channel.address}}"},
         "transitions": [{"event": "sent", "next": "again"}, {"event": "failed"}]},
        {"name": "again", "type": "run-subflow",
         "properties": {"offset": {"x": 0, "y": 0}, "flow_sid": target, "flow_revision": "LatestPublished",
                        "parameters": []},
         "transitions": [{"event": "completed"}, {"event": "failed", **({"next": on_failed} if on_failed else {})}]},
    ]
    if on_failed:
        states.append({"name": on_failed, "type": "send-message",
                       "properties": {"offset": {"x": 0, "y": 0}, "body": f"{name}: the subflow failed",
                                      "from": "{{flow.channel.address}}", "to": "{{contact.channel.address}}"},
                       "transitions": [{"event": "sent"}, {"event": "failed"}]})
    return {"description": name, "states": states, "initial_state": "Trigger",
            "flags": {"allow_concurrent_calls": True}}


def _write_flows(folder: Path, flows: dict[str, dict[str, Any]]) -> Path:
    target = folder / "flows"
    target.mkdir()
    for name, flow in flows.items():
        (target / f"{name}.json").write_text(json.dumps(flow), encoding="utf-8")
    return target


# (row id, flows by file name, the SID → file map, the top flow, replies the scenario expects)
SUBFLOW_ROWS = [
    ("flow-runs-itself", {"a": _flow("a", FW_A)}, {FW_A: "a"}, "a", ["hello from a"]),
    ("a-runs-b-runs-a", {"a": _flow("a", FW_B), "b": _flow("b", FW_A)}, {FW_A: "a", FW_B: "b"}, "a",
     ["hello from a"]),
    ("a-runs-b-runs-c", {"a": _flow("a", FW_B), "b": _flow("b", FW_C), "c": _flow("c", FW_A)},
     {FW_A: "a", FW_B: "b", FW_C: "c"}, "a", ["hello from a"]),
    ("itself-with-a-failed-branch", {"a": _flow("a", FW_A, on_failed="oops")}, {FW_A: "a"}, "a",
     # the inner widget fails (81024) and its `failed` branch runs inside the subflow; the outer completes
     ["hello from a", "a: the subflow failed"]),
]


@pytest.mark.parametrize(("flows", "sids", "top", "replies"), [row[1:] for row in SUBFLOW_ROWS],
                         ids=[row[0] for row in SUBFLOW_ROWS])
def test_a_recursive_subflow_fails_with_twilio_81024_instead_of_recursing(
        tmp_path: Path, flows: dict[str, Any], sids: dict[str, str], top: str, replies: list[str]) -> None:
    folder = _write_flows(tmp_path, flows)
    subflows = "".join(f"  {sid}: flows/{name}.json\n" for sid, name in sids.items())
    text = (f"flow: flows/{top}.json\nsubflows:\n{subflows}"
            "scenarios:\n  - name: recursive\n    turns:\n      - user: hi\n"
            f"        expect: {{replies: {json.dumps(replies)}}}\n")
    result, document, _ = run_suite_beside(tmp_path, "recursive.scenario.yaml", text)
    assert folder.is_dir()
    assert "RecursionError" not in result.text and result.code == 0, result.text
    case = next(c for c in document["cases"] if c["file"].endswith("recursive.scenario.yaml"))
    assert case["status"] == "passed", case
    steps = [step for turn in case["transcript"]["turns"] for step in turn["steps"]]
    refused = [s for s in steps if s.get("error_code") == 81024]
    assert len(refused) == 1 and refused[0]["event"] == "failed", steps
    assert "a subflow cannot invoke another subflow" in refused[0]["error"]
    assert refused[0]["parent_step_sid"], "the refused widget runs inside the subflow"


def test_chat_shows_the_81024_failure(tmp_path: Path) -> None:
    folder = _write_flows(tmp_path, {"a": _flow("a", FW_A)})
    result = cli("chat", "--flow", folder / "a.json", "--subflow", f"{FW_A}={folder / 'a.json'}", "--say", "hi")
    assert result.code == 0 and "Traceback" not in result.text, result.text
    assert "Twilio error 81024" in result.text and "again" in result.text, result.text


def test_the_engine_never_starts_a_subflow_below_a_subflow(tmp_path: Path) -> None:
    """The backstop under the widget: Execution.start_child from a subflow is an EngineError, not recursion."""
    from harness.engines.studio.engine import StudioEnvironment
    from harness.errors import EngineError
    from harness.models.flow import flow_from_dict

    flow = flow_from_dict(_flow("a", FW_A), path="a.json")
    environment = StudioEnvironment(bots={}, clock=FixedClock(), subflows={FW_A: flow}, auth_token="t",
                                    account_sid="AC" + "0" * 32)
    loaded = environment.load(flow)
    execution = loaded.start("incomingMessage", From="+15555550100", Body="hi")
    child = environment.subflow(FW_A)
    assert child is not None
    inner = execution.start_child(child, {}, "FT" + "0" * 32)  # one level: allowed (its own widget fails)
    with pytest.raises(EngineError, match="81024"):
        inner.start_child(child, {}, "FT" + "1" * 32)


# --- the clock ------------------------------------------------------------------------------------------

RANGE = "1970-01-01T00:00:00Z to 2999-12-31T23:59:59Z"

# (row id, the `clock:` value, what the message says)
CLOCK_ROWS = [
    ("year-9999", "9999-12-31T23:59:59Z", "'9999-12-31T23:59:59Z': outside the clock's range " + RANGE),
    ("year-9999-date-only", "9999-12-31", "'9999-12-31'"),
    ("year-9999-negative-offset", "9999-12-31T23:59:59-05:00", "outside the clock's range"),
    ("year-1", "0001-01-01T00:00:00Z", "'0001-01-01T00:00:00Z': outside the clock's range"),
    ("before-the-epoch", "1969-12-31T23:59:59Z", "outside the clock's range " + RANGE),
    ("year-3000", "3000-01-01T00:00:00Z", "outside the clock's range " + RANGE),
]


@pytest.mark.parametrize(("clock", "says"), [row[1:] for row in CLOCK_ROWS], ids=[row[0] for row in CLOCK_ROWS])
def test_a_clock_outside_the_range_is_refused(tmp_path: Path, clock: str, says: str) -> None:
    text = (f"bot: {TINY_BOT.as_posix()}\nclock: \"{clock}\"\n"
            "scenarios:\n  - name: timed\n    turns:\n      - user: hello\n        expect: {task: greet}\n")
    result, document, _ = run_suite_beside(tmp_path, "clock.scenario.yaml", text)
    # Refused when the file loads, at the `clock:` line (line 2).
    assert_refused(result, code=2, names="clock.scenario.yaml", line=2, says=says)
    assert "OverflowError" not in result.text
    bad = [c for c in document["cases"] if c["file"].endswith("clock.scenario.yaml")]
    assert bad and bad[0]["status"] == "error" and bad[0]["kind"] == "file", bad


@pytest.mark.parametrize(("clock", "says"), [
    ("9999-12-31T23:59:59Z", "outside the clock's range " + RANGE),
    ("0001-01-01", "outside the clock's range " + RANGE),
], ids=["year-9999", "year-1"])
def test_chat_clock_outside_the_range_is_exit_2(clock: str, says: str) -> None:
    result = cli("chat", "--bot", TINY_BOT, "--clock", clock, "--say", "hello")
    assert_refused(result, code=2, says=says)
    assert clock in result.text


# (row id, the start clock, the `wait:` value, what the message says)
WAIT_ROWS = [
    ("wait-overflows-datetime", "2024-01-01T00:00:00Z", "999999999999h",
     "a wait must be between 0 and 31622400 s (366 days)"),
    # `wait: .inf` is refused when the file loads (no NaN/infinity in scenario files): test_scenario_guards_values.py
    ("wait-just-over-the-limit", "2024-01-01T00:00:00Z", "8785h", "31626000 s"),
    ("wait-past-the-clock-range", "2999-12-31T23:00:00Z", "2h", "the clock would pass 2999-12-31T23:59:59Z"),
    ("wait-huge-seconds-number", "2024-01-01T00:00:00Z", "1.0e+300", "a wait must be between 0 and"),
]


@pytest.mark.parametrize(("clock", "wait", "says"), [row[1:] for row in WAIT_ROWS], ids=[row[0] for row in WAIT_ROWS])
def test_a_wait_too_large_fails_its_scenario_naming_the_limit(tmp_path: Path, clock: str, wait: str,
                                                              says: str) -> None:
    text = (f"bot: {TINY_BOT.as_posix()}\nclock: \"{clock}\"\n"
            "scenarios:\n  - name: long wait\n    turns:\n      - user: hello\n        expect: {task: greet}\n"
            f"      - wait: {wait}\n")
    result, document, _ = run_suite_beside(tmp_path, "wait.scenario.yaml", text)
    # The failure of that one scenario (exit 1), its turn named; the rest ran and was written.
    assert_refused(result, code=1, names="wait.scenario.yaml", says=says)
    assert "turn 2 (wait" in result.text and "OverflowError" not in result.text, result.text
    bad = [c for c in document["cases"] if c["file"].endswith("wait.scenario.yaml")]
    assert bad and bad[0]["status"] == "error", bad


def test_a_wait_in_days_is_refused_by_the_schema(tmp_path: Path) -> None:
    text = (f"bot: {TINY_BOT.as_posix()}\n"
            "scenarios:\n  - name: days\n    turns:\n      - user: hello\n      - wait: 100000000d\n")
    result, _, _ = run_suite_beside(tmp_path, "days.scenario.yaml", text)
    assert_refused(result, code=2, names="days.scenario.yaml", line=6)


def test_the_wait_limit_can_be_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_WAIT_ENV, str(400 * 86400))
    text = (f"bot: {TINY_BOT.as_posix()}\n"
            "scenarios:\n  - name: long\n    turns:\n      - user: hello\n        expect: {task: greet}\n"
            "      - wait: 8785h\n")
    result, _, _ = run_suite_beside(tmp_path, "long.scenario.yaml", text)
    assert result.code == 0, result.text


@pytest.mark.parametrize("value", ["-5", "lots", "nan", "0"])
def test_a_bad_wait_limit_setting_is_named(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(MAX_WAIT_ENV, value)
    with pytest.raises(UsageError, match=MAX_WAIT_ENV):
        FixedClock().advance(1)


@pytest.mark.parametrize("seconds", [-1, float("nan"), float("inf"), 10**30])
def test_the_clock_api_refuses_waits_it_cannot_take(seconds: float) -> None:
    clock = FixedClock("2024-01-01T00:00:00Z")
    with pytest.raises(UsageError, match="a wait must be between 0 and"):
        clock.advance(seconds)
    assert clock.now().year == 2024  # unchanged
