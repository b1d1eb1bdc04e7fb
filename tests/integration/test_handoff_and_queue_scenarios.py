"""Scenario runs end to end: a voice bot hands off through the session's fake TaskRouter (the file's
`workflow:`), `wait:` turns move the task to its next target, and goldens record and diff where it went.

Sources: Hand-off doc (reference/autopilot.md §2.7, voice only, taskrouter://WW…); reference/taskrouter.md
§1.2 (a target's timeout moves the task on; default_filter never after a timeout), §3.1 (Send to Flex
creates the task).
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.runner.suite import run_suite

WW = "WW" + "d" * 32
WORKFLOW = {"task_routing": {"filters": [
    {"filter_friendly_name": "Agents", "expression": "sendToAgent == true",
     "targets": [{"queue": "WQ" + "1" * 32, "timeout": 30}, {"queue": "WQ" + "2" * 32, "priority": 9}]}],
    "default_filter": {"queue": "WQ" + "2" * 32}}}
QUEUES = {"WQ" + "1" * 32: "Concierge", "WQ" + "2" * 32: "Front Desk"}


def _bot(uri: str) -> dict:
    return {"uniqueName": "voicebot", "defaults": {"defaults": {"fallback": "task://fallback"}}, "tasks": [
        {"uniqueName": "fallback", "actions": {"actions": [{"say": "Sorry?"}, {"listen": True}]}},
        {"uniqueName": "agent", "samples": [{"language": "en-US", "taggedText": "agent please"}],
         "actions": {"actions": [{"remember": {"sendToAgent": True}}, {"say": "Transferring you."},
                                 {"handoff": {"channel": "voice", "uri": uri, "priority": "3"}}]}}]}


def _project(tmp_path: Path, *, uri: str = f"taskrouter://{WW}", workflow_key: str = "workflow.json") -> Path:
    (tmp_path / "bot.json").write_text(json.dumps(_bot(uri)))
    (tmp_path / "workflow.json").write_text(json.dumps(WORKFLOW))
    (tmp_path / "queues.json").write_text(json.dumps(QUEUES))
    scenario = tmp_path / "call.scenario.yaml"
    scenario.write_text(f"""bot: bot.json
workflow: {workflow_key}
channel: voice
scenarios:
  - name: transferred then moved
    turns:
      - user: agent please
        expect:
          ended: true
          handoff: {{autopilot: {{queue: Concierge, priority: 3}}}}
      - wait: 31s
    expect:
      handoff:
        autopilot: {{workflow: {WW}, queue: Front Desk, queue_history: [Concierge, Front Desk], status: pending}}
""")
    return scenario


def test_a_voice_bot_hands_off_and_the_wait_moves_its_task(tmp_path: Path) -> None:
    # The workflow document has no SID: the session registers it under the SID the bot's static handoff names.
    suite = run_suite([_project(tmp_path)])
    [case] = suite.cases
    assert case.passed, case.failure_text()
    handoff = case.transcript.handoff
    assert handoff["kind"] == "autopilot" and handoff["task_priority"] == 9
    assert [e["left_by"] for e in handoff["queue_history"]] == ["timeout", None]


def test_a_run_time_workflow_sid_comes_from_the_workflow_map(tmp_path: Path) -> None:
    # A Function builds the URI at run time: `workflow: {WW…: path}` names the SID it will use.
    scenario = _project(tmp_path, workflow_key=f"{{{WW}: workflow.json}}")
    [case] = run_suite([scenario]).cases
    assert case.passed, case.failure_text()


def test_a_handoff_to_another_workflow_errors_naming_the_turn(tmp_path: Path) -> None:
    scenario = _project(tmp_path, uri="taskrouter://WW" + "e" * 32, workflow_key=f"{{{WW}: workflow.json}}")
    [case] = run_suite([scenario]).cases
    assert case.status == "error" and 'turn 1 ("agent please")' in str(case.error)
    assert f"workflow WW{'e' * 32} does not exist in the fake workspace" in str(case.error)


def test_the_golden_records_where_the_task_went_and_diffs_a_change(tmp_path: Path) -> None:
    scenario = _project(tmp_path)
    [first] = run_suite([scenario], update_golden=True).cases
    assert first.passed and first.golden == "written"
    golden = json.loads(next((tmp_path / "call.golden").glob("*.json")).read_text())
    assert golden["transcript"]["handoff"]["queue_history"][1]["queue"] == "Front Desk"
    # The concierge now waits 60 s: after 31 s the task has not moved, and the golden run says so.
    slower = json.loads(json.dumps(WORKFLOW))
    slower["task_routing"]["filters"][0]["targets"][0]["timeout"] = 60
    (tmp_path / "workflow.json").write_text(json.dumps(slower))
    scenario.write_text(scenario.read_text().split("    expect:\n      handoff:")[0])  # no explicit expectation
    [second] = run_suite([scenario]).cases
    assert second.golden == "changed"
    paths = {m.path for m in second.mismatches}
    assert "handoff.queue" in paths and "handoff.queue_history" in paths


def test_a_flex_task_moves_to_its_next_target_after_a_wait(tmp_path: Path) -> None:
    flow = {"description": "flex", "flags": {"allow_concurrent_calls": True}, "initial_state": "Trigger",
            "states": [
                {"name": "Trigger", "type": "trigger", "properties": {},
                 "transitions": [{"event": "incomingMessage", "next": "ToAgent"}]},
                {"name": "ToAgent", "type": "send-to-flex",
                 "properties": {"workflow": WW, "channel": "TC" + "0" * 31 + "1",
                                "attributes": '{"sendToAgent": true}'},
                 "transitions": [{"event": "callComplete"}, {"event": "failedToEnqueue"}]}]}
    (tmp_path / "flow.json").write_text(json.dumps(flow))
    (tmp_path / "workflow.json").write_text(json.dumps(WORKFLOW))
    (tmp_path / "queues.json").write_text(json.dumps(QUEUES))
    scenario = tmp_path / "flex.scenario.yaml"
    scenario.write_text("""flow: flow.json
workflow: workflow.json
scenarios:
  - name: nobody answers the concierge
    turns:
      - user: hello
      - wait: 29s
      - wait: 1s
    expect:
      handoff:
        flex: {queue: Front Desk, queue_history: [Concierge, Front Desk], priority: 9, status: pending}
""")
    [case] = run_suite([scenario]).cases
    assert case.passed, case.failure_text()
