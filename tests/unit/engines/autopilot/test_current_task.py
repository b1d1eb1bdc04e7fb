"""`widgets.<bot>.CurrentTask` is the last task that ran before the bot handed control back (issue 10, row 1).

Source: the Autopilot widget's outputs: `CurrentTask` is the last task before the dialogue ended
(https://www.twilio.com/docs/autopilot/studio; …/shared/reference/studio.md, send-to-auto-pilot outputs);
the hand-off guide's flow splits on `widgets.<bot>.CurrentTask == "agent"` after a redirect to task://agent
(https://www.twilio.com/docs/autopilot/guides/how-to-hand-off).
"""

from __future__ import annotations

from typing import Any

from harness.clock import FixedClock
from harness.engines.autopilot.runtime import AutopilotRuntime
from harness.engines.studio.engine import StudioEnvironment
from harness.models.assistant_loader import assistant_from_dict
from harness.models.flow import flow_from_dict

USER = "+14155550123"
SEND = {"from": "{{flow.channel.address}}", "to": "{{contact.channel.address}}"}


def _assistant() -> Any:
    def task(name: str, actions: list[dict[str, Any]], samples: tuple[str, ...] = ()) -> dict[str, Any]:
        return {"uniqueName": name, "actions": {"actions": actions}, "fields": [],
                "samples": [{"language": "en-US", "taggedText": s} for s in samples]}

    return assistant_from_dict({
        "uniqueName": "desk", "defaults": {"defaults": {"fallback": "task://fallback"}},
        "styleSheet": {}, "fieldTypes": [], "modelBuild": {"uniqueName": "v1"},
        "tasks": [
            task("complaint", [{"say": "Sorry to hear that."}, {"redirect": "task://agent"}],
                 ("i want to complain", "this is terrible")),
            task("agent", [{"remember": {"sendToAgent": True}}, {"say": "Connecting you."}]),
            task("fallback", [{"say": "Pardon?"}, {"listen": True}], ()),
        ],
    }, path="desk.json")


def _flow() -> Any:
    def widget(name: str, type_: str, transitions: list[dict[str, Any]], **props: Any) -> dict[str, Any]:
        return {"name": name, "type": type_, "transitions": transitions, "properties": props}

    states = [
        widget("Trigger", "trigger", [{"event": "incomingMessage", "next": "Bot"}]),
        widget("Bot", "send-to-auto-pilot",
               [{"event": "sessionEnded", "next": "split"}, {"event": "failure"}, {"event": "timeout"}],
               autopilot_assistant_sid="UA" + "1" * 32, body="{{trigger.message.Body}}", timeout=14400,
               **{"from": "{{flow.channel.address}}"}),
        widget("split", "split-based-on",
               [{"event": "noMatch", "next": "other"},
                {"event": "match", "next": "flex", "conditions": [
                    {"friendly_name": "agent", "arguments": ["{{widgets.Bot.CurrentTask}}"],
                     "type": "equal_to", "value": "agent"}]}],
               input="{{widgets.Bot.CurrentTask}}"),
        widget("flex", "send-message", [{"event": "sent"}, {"event": "failed"}], body="to an agent", **SEND),
        widget("other", "send-message", [{"event": "sent"}, {"event": "failed"}], body="goodbye", **SEND),
    ]
    return flow_from_dict({"description": "t", "states": states, "initial_state": "Trigger",
                           "flags": {"allow_concurrent_calls": True}}, path="flow.json")


def test_the_engine_reports_the_last_task_of_the_turn() -> None:
    bot = AutopilotRuntime(clock=FixedClock()).train(_assistant())
    turn = bot.start(channel="sms", user=USER).send("i want to complain")
    # `task` stays the task that took the message (scenarios' `expect.task`); current_task is the last one.
    assert turn.task == "complaint" and turn.tasks_run == ("complaint", "agent")
    assert turn.current_task == "agent" and turn.ended


def test_a_flow_splitting_on_current_task_takes_the_agent_branch() -> None:
    bot = AutopilotRuntime(clock=FixedClock()).train(_assistant())
    env = StudioEnvironment(bots={"*": bot}, clock=FixedClock(), auth_token="t", account_sid="AC" + "a" * 32)
    execution = env.load(_flow()).start("incomingMessage", From=USER, Body="this is terrible")
    assert execution.widgets["Bot"]["CurrentTask"] == "agent"
    assert execution.path[-2:] == ["split", "flex"]
