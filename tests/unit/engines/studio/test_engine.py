"""The Studio engine running the hospitality example flows end to end with a scripted bot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.clock import FixedClock
from harness.engines.studio.engine import StudioEnvironment
from harness.engines.twilio.server import LocalServer
from harness.engines.twilio.taskrouter import FakeTaskRouter, load_workflow
from harness.errors import HarnessError, UsageError
from harness.models.flow import flow_from_dict, load_flow
from harness.transcript import FlowRecord
from tests.conftest import EXAMPLES
from tests.unit.engines.studio.fakebot import ScriptedBot

FLOWS = EXAMPLES / "hospitality" / "flows"
WORKFLOW_SID = "WW00000000000000000000000000000001"
ACCOUNT = "AC" + "a" * 32
GUEST = "+14155550123"
HOTEL = "+14155550000"
CHAT_CHANNEL = "CH" + "b" * 32


def make_env(bot: ScriptedBot | None = None, **kwargs) -> StudioEnvironment:
    clock = kwargs.pop("clock", None) or FixedClock("2023-03-01T10:00:00Z")
    queues = json.loads((EXAMPLES / "hospitality" / "queues.json").read_text())
    router = FakeTaskRouter(
        {WORKFLOW_SID: load_workflow(EXAMPLES / "hospitality" / "workflow.json")},
        queues,
        clock=clock,
        account_sid=ACCOUNT,
    )
    return StudioEnvironment(
        bots={"UA00000000000000000000000000000001": bot or ScriptedBot()},
        clock=clock,
        taskrouter=router,
        auth_token="secret",
        account_sid=ACCOUNT,
        **kwargs,
    )


def chat_payload(channel_type: str = "sms", sender: str = GUEST) -> dict[str, str]:
    return {
        "To": HOTEL,
        "ChannelSid": CHAT_CHANNEL,
        "InstanceSid": "IS" + "c" * 32,
        "ChannelAttributes": json.dumps({"from": sender, "channel_type": channel_type}),
    }


def test_flex_messaging_hands_off_with_memory_to_the_concierge_queue() -> None:
    bot = ScriptedBot()
    loaded = make_env(bot).load(load_flow(FLOWS / "flex_messaging.json"))
    execution = loaded.inbound(GUEST, "hello", **chat_payload())
    assert execution.waiting == "HotelBot" and execution.status == "active"
    assert loaded.inbound(GUEST, "what time is breakfast?") is execution
    loaded.inbound(GUEST, "I want to talk to an agent")

    assert execution.status == "ended" and execution.waiting is None
    assert execution.path == ["Trigger", "HotelBot", "CheckHandoff", "SendToConcierge"]
    [task] = execution.flex_tasks
    assert task["task_queue_friendly_name"] == "Concierge"
    assert task["priority"] == 5  # the "Concierge by text message" target's priority
    attributes = json.loads(task["attributes"])
    assert attributes["memory"]["sendToAgent"] is True
    assert attributes["name"] == GUEST and attributes["channelType"] == "sms"
    assert attributes["lastTask"] == "send_to_agent"
    # The bot spoke from the guest's ChannelAttributes.from, as the guide says for Flex messaging.
    assert [m["body"] for m in execution.messages] == [
        "You said: hello",
        "You said: what time is breakfast?",
        "Connecting you to an agent.",
    ]
    assert {m["from"] for m in execution.messages} == {GUEST}
    assert bot.starts == [{"channel": "chat", "user": GUEST, "memory": {}, "target_task": None}]
    outputs = execution.widgets["HotelBot"]
    assert outputs["CurrentTask"] == "send_to_agent"
    assert outputs["DialogueSid"].startswith("UK") and outputs["UserIdentifier"] == GUEST
    assert outputs["CurrentInput"] == "I want to talk to an agent"
    assert execution.widgets["SendToConcierge"]["sid"] == task["sid"]
    assert loaded.active == {}


def test_steps_are_shaped_like_studios_steps_api_and_fit_a_flow_record() -> None:
    loaded = make_env().load(load_flow(FLOWS / "flex_messaging.json"))
    execution = loaded.inbound(GUEST, "agent please", **chat_payload())
    first, bot_step, split, flex = execution.steps
    assert first["name"] == "incomingMessage" and first["transitioned_from"] == "Trigger"
    assert first["transitioned_to"] == "HotelBot" and first["sid"].startswith("FT")
    assert bot_step["event"] == "sessionEnded" and bot_step["next"] == "CheckHandoff"
    assert split["conditions"] == [
        {"type": "equal_to", "value": "true", "matched": True, "reason": "'true' equal_to 'true' → matched"}
    ]
    assert split["input"] == "true"
    assert flex["transitioned_to"] == "Ended" and flex["next"] is None
    record = FlowRecord(**execution.record())
    assert record.path == ("Trigger", "HotelBot", "CheckHandoff", "SendToConcierge")
    assert record.ended and record.status == "ended" and record.execution_sid == execution.sid
    assert json.loads(json.dumps(execution.record(), default=str))  # plain data
    assert execution.context["flow"]["sid"] == execution.sid


def test_a_finished_food_order_routes_to_room_service() -> None:
    loaded = make_env().load(load_flow(FLOWS / "flex_messaging.json"))
    execution = loaded.inbound(GUEST, "a pizza please", **chat_payload())
    assert execution.last_bot_turns[0][0] == "HotelBot"
    assert execution.last_bot_turns[0][1].fields == {"food": {"value": "pizza", "type": "Custom.FOOD"}}
    loaded.inbound(GUEST, "now an agent")
    [task] = execution.flex_tasks
    assert task["task_queue_friendly_name"] == "Room Service"
    assert (
        json.loads(task["attributes"])["memory"]["twilio"]["collected_data"]["order_food"]["status"]
        == "complete"
    )


def test_chat_flex_sends_as_the_bot_name_and_routes_webchat() -> None:
    loaded = make_env().load(load_flow(FLOWS / "chat_flex.json"))
    execution = loaded.inbound("guest_42", "agent", **chat_payload("web", "Ana"))
    first = execution.messages[0]
    assert first["from"] == "The Harbour Hotel guest concierge" and first["channel"] == "chat"
    [task] = execution.flex_tasks
    assert task["task_queue_friendly_name"] == "Concierge"
    assert json.loads(task["attributes"])["name"] == "Ana"


def test_no_handoff_says_goodbye_and_a_failing_bot_apologises() -> None:
    env = make_env()
    loaded = env.load(load_flow(FLOWS / "flex_messaging.json"))
    ended = loaded.inbound(GUEST, "bye", **chat_payload())
    assert ended.path[-2:] == ["CheckHandoff", "Goodbye"] and ended.flex_tasks == []
    failed = loaded.inbound("+14155550124", "crash", **chat_payload())
    assert failed.path == ["Trigger", "HotelBot", "BotUnavailable"]
    assert "answered 500" in failed.steps[1]["error"]
    assert failed.messages[-1]["body"].startswith("Sorry, our virtual concierge is unavailable")


def test_the_bot_times_out_on_the_clock() -> None:
    loaded = make_env().load(load_flow(FLOWS / "flex_messaging.json"))
    execution = loaded.inbound(GUEST, "hi", **chat_payload())
    assert execution.wait is not None and execution.wait.deadline is not None
    assert execution.advance_clock(14399) is False and execution.waiting == "HotelBot"
    assert execution.advance_clock(1) is True
    assert execution.path[-2:] == ["HotelBot", "ConversationTimedOut"]
    assert execution.steps[-2]["event"] == "timeout" and execution.status == "ended"
    # A message after the end starts a new execution.
    again = loaded.inbound(GUEST, "hello again", **chat_payload())
    assert again is not execution and again.waiting == "HotelBot"


def test_one_active_execution_per_contact() -> None:
    loaded = make_env().load(load_flow(FLOWS / "flex_messaging.json"))
    execution = loaded.start("incomingMessage", From=GUEST, Body="hi", **chat_payload())
    with pytest.raises(UsageError, match="already has an active execution"):
        loaded.start("incomingMessage", From=GUEST, Body="hi again")
    other = loaded.inbound("+14155550999", "hi", **chat_payload())
    assert set(loaded.active) == {GUEST, "+14155550999"} and other is not execution
    execution.end()
    assert execution.status == "ended" and GUEST not in loaded.active
    with pytest.raises(UsageError, match="has ended"):
        execution.deliver("hello?")


def test_http_handoff_reaches_the_running_contact_center() -> None:
    from examples.contact_center import create_app

    app = create_app()
    with LocalServer(app) as server:
        base_url = server.base_url
        env = make_env(url_map={"https://contact-center.example.com": base_url})
        loaded = env.load(load_flow(FLOWS / "http_messaging.json"))
        execution = loaded.inbound(GUEST, "a pizza", To=HOTEL)
        loaded.inbound(GUEST, "get me an agent")
    assert execution.path[-3:] == ["CheckHandoff", "NotifyContactCenter", "AgentWillReply"]
    [request] = execution.http_requests
    assert request["status"] == 201 and request["url"] == "https://contact-center.example.com/api/handoffs"
    assert request["sent_to"] == base_url + "/api/handoffs"
    assert execution.widgets["NotifyContactCenter"]["parsed"]["ticket_id"] == "T-00001"
    assert execution.messages[-1]["body"].endswith("Your reference is T-00001.")
    [ticket] = app.extensions["handoff_desk"].all()
    assert ticket["queue"] == "Room Service"
    assert ticket["payload"]["memory"]["sendToAgent"] is True
    assert (
        ticket["payload"]["customerAddress"] == GUEST and ticket["payload"]["lastInput"] == "get me an agent"
    )


def test_an_unmapped_url_is_not_called_and_fails() -> None:
    loaded = make_env().load(load_flow(FLOWS / "http_messaging.json"))
    execution = loaded.inbound(GUEST, "agent", To=HOTEL)
    assert execution.path[-2:] == ["NotifyContactCenter", "HandoffFailed"]
    [request] = execution.http_requests
    assert request["status"] is None and "not in the URL map" in request["error"]
    assert "sent_to" not in request


def test_memory_parameters_and_target_task_reach_the_bot() -> None:
    data = json.loads((FLOWS / "flex_messaging.json").read_text())
    bot_state = next(s for s in data["states"] if s["name"] == "HotelBot")
    bot_state["properties"]["memory_parameters"] = [
        {"key": "room", "value": "{{trigger.message.ChannelAttributes.room}}"}
    ]
    bot_state["properties"]["target_task"] = "send_to_agent"
    bot = ScriptedBot()
    loaded = make_env(bot).load(flow_from_dict(data, path="flex.json"))
    payload = chat_payload()
    payload["ChannelAttributes"] = json.dumps({"from": GUEST, "channel_type": "sms", "room": "204"})
    execution = loaded.inbound(GUEST, "hello", **payload)
    assert bot.starts[0]["memory"] == {"room": "204"} and bot.starts[0]["target_task"] == "send_to_agent"
    assert execution.widgets["HotelBot"]["memory"]["room"] == "204"
    assert execution.status == "ended" and len(execution.flex_tasks) == 1


def test_bad_liquid_is_reported_at_load_naming_state_and_property(tmp_path: Path) -> None:
    data = json.loads((FLOWS / "flex_messaging.json").read_text())
    goodbye = next(s for s in data["states"] if s["name"] == "Goodbye")
    goodbye["properties"]["body"] = "Bye {{ contact.channel.address | nosuchfilter }}"
    split = next(s for s in data["states"] if s["name"] == "CheckHandoff")
    split["properties"]["input"] = "{% if widgets.HotelBot %}"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data, indent=2))
    with pytest.raises(HarnessError) as caught:
        make_env().load(load_flow(path))
    text = caught.value.render()
    assert "2 problems" in text
    assert "state 'Goodbye' (send-message), property 'body'" in text and "nosuchfilter" in text
    assert "state 'CheckHandoff' (split-based-on), property 'input'" in text
    assert f"{path}:" in text and "/properties/body" in text


def test_templates_are_compiled_once_per_flow() -> None:
    env = make_env()
    loaded = env.load(load_flow(FLOWS / "flex_messaging.json"))
    calls = []
    original = env.liquid.compile
    env.liquid.compile = lambda *a, **k: calls.append(a) or original(*a, **k)  # type: ignore[method-assign]
    for n in range(3):
        loaded.inbound(f"+1415555010{n}", "agent", **chat_payload())
    assert calls == []
