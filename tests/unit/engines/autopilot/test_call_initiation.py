"""An inbound call starts with defaults.assistant_initiation, not the fallback (issue 10, row 3).

Source: Defaults — `assistant_initiation` is the task run when the assistant opens the conversation, which
the doc says is an inbound phone call (https://www.twilio.com/docs/autopilot/api/assistant/defaults;
…/shared/reference/autopilot.md §1.2 and §10). On a call the Autopilot widget gets no Body.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.clock import FixedClock
from harness.engines.autopilot.runtime import AutopilotRuntime, TrainedAssistant
from harness.engines.studio.engine import StudioEnvironment
from harness.models.assistant_loader import assistant_from_dict
from harness.models.flow import flow_from_dict

USER = "+14155550123"


def _bot(*, initiation: bool = True) -> TrainedAssistant:
    defaults: dict[str, Any] = {"fallback": "task://fallback"}
    if initiation:
        defaults["assistant_initiation"] = "task://greeting"

    def task(name: str, say: str, samples: tuple[str, ...]) -> dict[str, Any]:
        return {"uniqueName": name, "actions": {"actions": [{"say": say}, {"listen": True}]}, "fields": [],
                "samples": [{"language": "en-US", "taggedText": s} for s in samples]}

    return AutopilotRuntime(clock=FixedClock()).train(assistant_from_dict({
        "uniqueName": "desk", "defaults": {"defaults": defaults}, "styleSheet": {}, "fieldTypes": [],
        "modelBuild": {"uniqueName": "v1"},
        "tasks": [task("greeting", "Harbour Hotel, how can I help?", ("hello", "hi")),
                  task("fallback", "Sorry, say that again?", ())],
    }, path="desk.json"))


def test_a_call_opens_with_the_initiation_task() -> None:
    turn = _bot().start(channel="voice", user=USER).send("")
    assert turn.task == "greeting" and turn.routing == "initiation"
    assert turn.texts == ["Harbour Hotel, how can I help?"]


@pytest.mark.parametrize(("channel", "initiation"), [("sms", True), ("voice", False)])
def test_other_openings_are_routed(channel: str, initiation: bool) -> None:
    # An empty SMS is routed like any message; a call to a bot without assistant_initiation too.
    turn = _bot(initiation=initiation).start(channel=channel, user=USER).send("")
    assert turn.task == "fallback"


def test_an_incoming_call_through_studio_greets_first() -> None:
    states = [
        {"name": "Trigger", "type": "trigger", "transitions": [{"event": "incomingCall", "next": "Bot"}],
         "properties": {}},
        {"name": "Bot", "type": "send-to-auto-pilot",
         "transitions": [{"event": "sessionEnded"}, {"event": "failure"}, {"event": "timeout"}],
         "properties": {"autopilot_assistant_sid": "UA" + "1" * 32, "timeout": 14400,
                        "body": "{{trigger.message.Body}}", "from": "{{flow.channel.address}}"}},
    ]
    flow = flow_from_dict({"description": "t", "states": states, "initial_state": "Trigger",
                           "flags": {"allow_concurrent_calls": True}}, path="voice.json")
    env = StudioEnvironment(bots={"*": _bot()}, clock=FixedClock(), auth_token="t",
                            account_sid="AC" + "a" * 32)
    execution = env.load(flow).start("incomingCall", From=USER, To="+15005550006")
    assert execution.waiting == "Bot"  # the greeting listens: the call stays with the bot
    ((widget, turn),) = execution.last_bot_turns
    assert widget == "Bot" and turn.task == "greeting"
    assert [m["body"] for m in execution.messages] == ["Harbour Hotel, how can I help?"]
