"""Replaying recorded Studio executions (tests/fixtures/replay/, built by build_fixtures.py) through our engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.errors import UsageError
from harness.runner.replay import parse_execution, replay_execution
from tests.conftest import EXAMPLES, ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "replay"
FLOWS = EXAMPLES / "hospitality" / "flows"
ROOM_FLOW = FIXTURES / "room_flow.json"


def _load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


@pytest.mark.parametrize(("recording", "flow", "path"), [
    ("flex_goodbye.json", FLOWS / "flex_messaging.json", ["Trigger", "HotelBot", "CheckHandoff", "Goodbye"]),
    ("flex_handoff.json", FLOWS / "flex_messaging.json", ["Trigger", "HotelBot", "CheckHandoff", "SendToConcierge"]),
    ("http_handoff.json", FLOWS / "http_messaging.json",
     ["Trigger", "HotelBot", "CheckHandoff", "NotifyContactCenter", "AgentWillReply"]),
    ("room_replies.json", ROOM_FLOW, ["Trigger", "AskRoom", "CheckRoom", "AskRoom", "CheckRoom", "Thanks"]),
    ("room_timeout.json", ROOM_FLOW, ["Trigger", "AskRoom", "CheckRoom", "AskRoom", "TimedOut"]),
])
def test_our_own_recordings_replay_the_same_way(recording: str, flow: Path, path: list[str]) -> None:
    result = replay_execution(FIXTURES / recording, flow)
    assert result.ok, result.render()
    assert result.path == path and result.status == "ended"
    assert result.render().startswith("ok ")


def test_the_hand_edited_recording_fails_at_the_split_with_its_evaluated_values() -> None:
    result = replay_execution(FIXTURES / "flex_handoff_divergent.json", FLOWS / "flex_messaging.json")
    assert not result.ok
    divergence = result.divergence
    assert divergence is not None and divergence.index == 2
    assert divergence.recorded.widget == "CheckHandoff" and divergence.recorded.event == "noMatch"
    assert divergence.ours["event"] == "match" and divergence.ours["next"] == "SendToConcierge"
    text = result.render()
    assert "step 3: 'CheckHandoff' took a different transition: recorded 'noMatch' → Goodbye, " \
           "ours 'match' → SendToConcierge" in text
    assert 'evaluated input: "true"' in text and "equal_to" in text
    assert result.to_dict()["divergence"]["ours"]["input"] == "true"


def test_a_recording_of_another_flow_fails_where_the_flows_part() -> None:
    result = replay_execution(FIXTURES / "flex_handoff.json", FLOWS / "http_messaging.json")
    assert not result.ok and result.divergence.index == 2
    assert "recorded 'match' → SendToConcierge, ours 'match' → NotifyContactCenter" in result.render()


def test_the_recorded_replies_are_what_the_waiting_widget_receives() -> None:
    data = _load("room_replies.json")
    data["steps"][3]["context"]["inbound"]["Body"] = "four hundred"  # the second reply is no longer digits
    result = replay_execution(data, ROOM_FLOW)
    assert not result.ok and result.divergence.index == 4
    assert "'CheckRoom' took a different transition: recorded 'match' → Thanks, ours 'noMatch' → AskRoom" \
        in result.render()
    assert 'evaluated input: "four hundred"' in result.render()


def test_a_recorded_timeout_needs_a_timeout_on_our_side() -> None:
    data = _load("room_timeout.json")
    flow = json.loads(ROOM_FLOW.read_text())
    flow["states"][1]["transitions"][1]["next"] = "Thanks"  # our flow now thanks on timeout
    result = replay_execution(data, _flow(flow))
    assert not result.ok
    assert "recorded 'timeout' → TimedOut, ours 'timeout' → Thanks" in result.render()


def test_newest_first_steps_and_step_context_resources_are_accepted() -> None:
    data = _load("flex_goodbye.json")
    steps = data["steps"]
    for step in steps:  # as /Steps/{Sid}/Context returns it
        step["context"] = {"context": step["context"], "step_sid": step["sid"], "flow_sid": step["flow_sid"]}
        step["date_created"] = None
    data["steps"] = steps[::-1]
    result = replay_execution(data, FLOWS / "flex_messaging.json")
    assert result.ok, result.render()


def test_an_execution_with_steps_inside_and_a_separate_context_resource() -> None:
    data = _load("room_replies.json")
    execution = data["execution"]
    context = execution.pop("context")
    bundle = {"execution": execution, "steps": {"steps": data["steps"], "meta": {}},
              "context": {"context": context, "execution_sid": execution["sid"], "flow_sid": "FW1"}}
    assert replay_execution(bundle, ROOM_FLOW).ok
    inside = {**execution, "context": context, "steps": data["steps"]}
    assert parse_execution(inside).trigger == "incomingMessage"


def test_more_steps_than_recorded_and_fewer() -> None:
    data = _load("http_handoff.json")
    data["steps"] = data["steps"][:-1]
    result = replay_execution(data, FLOWS / "http_messaging.json")
    assert not result.ok and "ran 'AgentWillReply' after the recording's last step" in result.render()
    data = _load("flex_goodbye.json")
    data["steps"].append({"transitioned_from": "Extra", "name": "sent", "transitioned_to": "Ended",
                          "type": "send-message", "context": {}})
    result = replay_execution(data, FLOWS / "flex_messaging.json")
    assert not result.ok and "the recording continues with 'Extra' but our execution has ended" in result.render()


def test_the_recorded_bot_outcome_drives_the_autopilot_widget() -> None:
    data = _load("flex_handoff.json")
    bot_step = data["steps"][1]
    bot_step["context"]["memory"] = json.dumps({"sendToAgent": False})  # memory recorded as a JSON string
    result = replay_execution(data, FLOWS / "flex_messaging.json")
    assert not result.ok and 'evaluated input: "false"' in result.render()
    bot_step["name"], bot_step["transitioned_to"] = "failure", "BotUnavailable"
    result = replay_execution(data, FLOWS / "flex_messaging.json")
    assert result.divergence.index == 2 and result.divergence.recorded.widget == "CheckHandoff"
    assert result.path[1:] == ["HotelBot", "BotUnavailable"]


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["execution"].pop("context"), "no context.trigger"),
    (lambda d: d.pop("steps"), 'no "steps" list'),
    (lambda d: d["steps"][0].pop("name"), "a Step needs"),
    (lambda d: d["execution"]["context"].update(trigger={"fax": {}}), "unknown trigger kind"),
])
def test_bad_recordings_are_usage_errors(change, message: str) -> None:
    data = _load("flex_goodbye.json")
    change(data)
    with pytest.raises(UsageError, match=message):
        parse_execution(data)


def test_exported_steps_have_the_steps_api_fields() -> None:
    step = _load("http_handoff.json")["steps"][3]
    assert {"sid", "account_sid", "flow_sid", "execution_sid", "parent_step_sid", "name", "context",
            "transitioned_from", "transitioned_to", "type", "date_created"} <= set(step)
    assert step["sid"].startswith("FT") and step["context"]["status_code"] == 201  # 201 Created


def test_cli_exit_codes(capsys) -> None:
    flow = str(FLOWS / "flex_messaging.json")
    assert main(["replay", "execution", str(FIXTURES / "flex_handoff.json"), "--flow", flow]) == 0
    assert main(["replay", "execution", str(FIXTURES / "flex_handoff_divergent.json"), "--flow", flow,
                 "--json"]) == 1
    out = capsys.readouterr().out
    data = json.loads(out[out.index("{"):])
    assert data["results"][0]["divergence"]["recorded"]["widget"] == "CheckHandoff"
    assert main(["replay", "execution", str(ROOM_FLOW), "--flow", flow]) == 2
    assert main(["replay", "execution", str(FIXTURES / "flex_handoff.json")]) == 2  # --flow is required


def _flow(data: dict):
    from harness.models.flow import flow_from_dict

    return flow_from_dict(data)


def test_real_bots_can_replace_the_recorded_outcomes() -> None:
    from harness.engines.autopilot.runtime import AutopilotRuntime
    from harness.models.assistant_loader import load_assistant

    bot = AutopilotRuntime().train(load_assistant(EXAMPLES / "hospitality" / "assistant.json"))
    result = replay_execution(FIXTURES / "flex_goodbye.json", FLOWS / "flex_messaging.json", bots={"*": bot})
    # The trigger said "I need towels" (the bot asks how many and listens); the recorded last input "bye"
    # is then delivered, the real bot says goodbye and the flow goes on as recorded.
    assert result.ok, result.render()
    assert result.path == ["Trigger", "HotelBot", "CheckHandoff", "Goodbye"]
