"""Scenario expectations on the bot's voice handoff (`expect.handoff.autopilot`, a turn's `expect.handoff`,
`no_handoff`) and on where a handed-off task went on the clock (`queue`, `queue_history`, `status`).

Sources: Hand-off doc (reference/autopilot.md §2.7: the action's keys, priority/timeout written as strings);
reference/taskrouter.md §1.2 (a target timeout moves the task; a workflow timeout or the TTL cancels it).
Checked on hand-made transcripts: expectations never need an engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.expectations import check_scenario, check_turn
from harness.models.scenario_loader import load_scenario_file
from harness.transcript import Transcript, Turn

HISTORY = [
    {"queue_sid": "WQ1", "queue": "Concierge", "filter": "Concierge by phone", "target": 0, "priority": 5,
     "entered": "2024-05-01T09:00:00Z", "left": "2024-05-01T09:00:30Z", "left_by": "timeout", "note": None},
    {"queue_sid": "WQ4", "queue": "Front Desk", "filter": "Concierge by phone", "target": 1, "priority": 10,
     "entered": "2024-05-01T09:00:30Z", "left": None, "left_by": None, "note": None},
]
HANDOFF: dict[str, Any] = {
    "kind": "autopilot", "channel": "voice", "uri": "taskrouter://WW" + "2" * 32, "priority": "5",
    "timeout": "600", "task_sid": "WT" + "1" * 32, "workflow_sid": "WW" + "2" * 32, "queue": "Front Desk",
    "queue_sid": "WQ4", "task_status": "pending", "queue_history": HISTORY,
}


def _scenario(tmp_path: Path, expect: str, turn_expect: str = "{}") -> Any:
    bot = tmp_path / "bot.json"
    bot.write_text('{"uniqueName": "b", "tasks": []}')
    path = tmp_path / "h.scenario.yaml"
    path.write_text(f"bot: bot.json\nchannel: voice\nscenarios:\n  - name: s\n    turns:\n"
                    f"      - user: agent\n        expect: {turn_expect}\n    expect: {expect}\n")
    return load_scenario_file(path).scenarios[0]


def _transcript(handoff: dict[str, Any] | None = HANDOFF) -> Transcript:
    turn = Turn(index=0, user="agent", task="agent", ended=True, handoff=handoff)
    return Transcript(turns=(turn,), ended=True, handoff=handoff)


def test_a_matching_autopilot_handoff_passes(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, "{handoff: {autopilot: {channel: voice, uri: {contains: 'taskrouter://WW'}, "
                                   "priority: 5, timeout: '600', workflow: WW" + "2" * 32 + ", queue: Front Desk, "
                                   "queue_history: [Concierge, WQ4], status: pending}}}")
    assert check_scenario(scenario.expect, _transcript()) == []


def test_each_autopilot_key_that_differs_is_a_mismatch_with_its_line(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, "{handoff: {autopilot: {uri: 'https://x/twiml', priority: 7, queue: Concierge, "
                                   "queue_history: [Concierge], status: canceled}}}")
    found = {m.path: m for m in check_scenario(scenario.expect, _transcript())}
    assert set(found) == {"handoff.uri", "handoff.priority", "handoff.queue", "handoff.queue_history",
                          "handoff.status"}
    history = found["handoff.queue_history"]
    assert history.actual == ["Concierge", "Front Desk"]
    assert "Concierge (Concierge by phone): entered 2024-05-01T09:00:00Z, left 2024-05-01T09:00:30Z by timeout" \
        in history.detail
    assert history.location is not None and history.location.line == 8  # the `expect:` line


def test_expecting_the_bots_handoff_when_there_was_none_or_another_kind(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, "{handoff: {autopilot: {}}}")
    [none] = check_scenario(scenario.expect, _transcript(None))
    assert (none.expected.text, none.actual.text) == ("the bot's handoff action", "no handoff")
    flex = {"kind": "flex", "queue": "Concierge"}
    [other] = check_scenario(scenario.expect, _transcript(flex))
    assert other.actual.text == 'a Flex task in queue "Concierge"'


def test_no_handoff_fails_when_the_bot_handed_off(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, "{no_handoff: true}")
    [found] = check_scenario(scenario.expect, _transcript())
    assert found.key == "no_handoff" and "the bot's handoff action to taskrouter://WW" in found.actual.text


def test_a_turn_expects_the_handoff_where_it_happens(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, "{}", "{handoff: {autopilot: {uri: 'taskrouter://WW" + "2" * 32 + "'}}}")
    expect = scenario.turns[0].expect
    assert check_turn(expect, _transcript().turns[0]) == []
    [missing] = check_turn(expect, Turn(index=0, user="agent"))
    assert missing.actual.text == "no handoff on this turn" and missing.scope == 'turn 1 ("agent")'


def test_a_json_schema_checks_the_whole_handoff_record(tmp_path: Path) -> None:
    schema = "{type: object, required: [twiml], properties: {twiml: {type: string, pattern: '<Dial>'}}}"
    scenario = _scenario(tmp_path, "{handoff: {autopilot: {schema: " + schema + "}}}")
    found = check_scenario(scenario.expect, _transcript())
    assert found and found[0].path is not None and "twiml" in str(found[0].path) + str(found[0].expected)
    twiml = {**HANDOFF, "task_sid": None, "twiml": "<Response><Dial>+1555</Dial></Response>", "status": 200}
    assert check_scenario(scenario.expect, _transcript(twiml)) == []


def test_a_flex_task_s_queue_history_and_status(tmp_path: Path) -> None:
    flex = {"kind": "flex", "queue": "Front Desk", "queue_sid": "WQ4", "task_status": "canceled",
            "reason": "Task TTL Exceeded", "queue_history": HISTORY}
    scenario = _scenario(tmp_path, "{handoff: {flex: {queue_history: [Concierge, Front Desk], status: canceled}}}")
    assert check_scenario(scenario.expect, _transcript(flex)) == []
    scenario = _scenario(tmp_path, "{handoff: {flex: {queue_history: [Concierge], status: pending}}}")
    found = {m.path: m for m in check_scenario(scenario.expect, _transcript(flex))}
    assert set(found) == {"handoff.queue_history", "handoff.status"}
    assert found["handoff.status"].detail == "reason: Task TTL Exceeded"
