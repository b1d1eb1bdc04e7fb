"""Issue 10 row 9: Send to Flex under Flex Conversations (an `incomingConversationMessage` trigger).

Sources: reference/studio.md §2.6 and reference/taskrouter.md §3.1, §4.2 — under Flex Conversations the
widget creates an Interaction (`POST /v1/Interactions`, real/openapi/twilio_flex_v1.json), whose routing
properties become the task "as is"; "For SMS, WhatsApp, and Chat Conversations, SendToFlex widget adds
channelType, customerAddress, from, name, and customerName" (Twilio's Send to Flex page). Which side
wins on a shared key is not documented (taskrouter.md §4.5): `interaction_attributes_win`, "flow" first.
The trigger's shape (`trigger.conversation.ConversationSid`, `Author`/`From`, `Source`,
`ChannelAttributes.pre_engagement_data.friendlyName`) follows the real Flex Conversations flows in
shared/real/studio (flex-project-template chat flow, frontline-airtable).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.runner.session import FlowConversation
from harness.transcript import FlowRecord, Transcript
from tests.unit.engines.studio.fakebot import ScriptedBot
from tests.unit.engines.studio.studio_kit import GUEST, make_env, make_flow, widget

WORKFLOW = "WW" + "1" * 32
CONVERSATION = "CH" + "c" * 32


def _flow(attributes: str, trigger: str = "incomingConversationMessage") -> Any:
    return make_flow(widget("Agent", "send-to-flex", [{"event": "callComplete"}, {"event": "failedToEnqueue"}],
                            workflow=WORKFLOW, channel="chat", attributes=attributes), trigger=trigger)


def test_the_widget_creates_an_interaction_whose_task_carries_the_customer() -> None:
    loaded = make_env({"*": ScriptedBot()}).load(_flow('{"queue": "concierge"}'))
    execution = loaded.start("incomingConversationMessage", Author=GUEST, Body="hi", Source="SMS",
                             ConversationSid=CONVERSATION, ParticipantSid="MB" + "d" * 32)
    assert execution.steps[-1]["event"] == "callComplete"
    [interaction] = execution.interactions
    [task] = execution.flex_tasks
    assert interaction["sid"].startswith("KD") and interaction["channel"]["type"] == "sms"
    assert interaction["task_sid"] == task["sid"] == interaction["routing"]["properties"]["sid"]
    assert task["interaction_sid"] == interaction["sid"]
    attributes = task["parsed_attributes"]
    assert {k: attributes[k] for k in ("channelType", "customerAddress", "from", "name", "customerName")} == {
        "channelType": "sms", "customerAddress": GUEST, "from": GUEST, "name": GUEST, "customerName": GUEST}
    assert attributes["queue"] == "concierge"  # the widget's own attributes alongside
    assert attributes["conversationSid"] == CONVERSATION
    assert attributes["flexInteractionSid"] == interaction["sid"]
    assert attributes["flexInteractionChannelSid"] == interaction["channel"]["sid"]
    assert execution.widgets["Agent"]["sid"] == task["sid"]
    # the task is reachable from the Interaction in the transcript
    transcript = Transcript(flow=FlowRecord(**execution.record())).to_dict()
    [recorded] = transcript["flow"]["interactions"]
    assert recorded["task_sid"] in {t["sid"] for t in transcript["flow"]["flex_tasks"]}


def test_the_flows_attributes_win_unless_configured() -> None:
    payload = {"Author": "guest_42", "Body": "hi", "ConversationSid": CONVERSATION, "Source": "SDK",
               "ChannelAttributes": json.dumps({"pre_engagement_data": {"friendlyName": "Ana"}})}
    flow = _flow('{"name": "VIP {{trigger.conversation.ChannelAttributes.pre_engagement_data.friendlyName}}"}')
    flow_wins = make_env({"*": ScriptedBot()}).load(flow).start("incomingConversationMessage", **payload)
    attributes = flow_wins.flex_tasks[0]["parsed_attributes"]
    assert attributes["name"] == "VIP Ana" and attributes["customerName"] == "Ana"
    assert attributes["channelType"] == "web" and attributes["customerAddress"] == "guest_42"
    flex_wins = make_env({"*": ScriptedBot()}, interaction_attributes_win="flex").load(flow).start(
        "incomingConversationMessage", **payload)
    assert flex_wins.flex_tasks[0]["parsed_attributes"]["name"] == "Ana"


def test_a_message_trigger_still_creates_a_plain_task() -> None:
    execution = make_env({"*": ScriptedBot()}).load(_flow('{"queue": "concierge"}', "incomingMessage")).start(
        "incomingMessage", From=GUEST, Body="hi")
    assert execution.interactions == [] and execution.flex_tasks[0]["parsed_attributes"] == {"queue": "concierge"}
    assert "interactions" not in Transcript(flow=FlowRecord(**execution.record())).to_dict()["flow"]


def test_bad_attributes_are_still_refused_before_any_interaction() -> None:
    execution = make_env({"*": ScriptedBot()}).load(_flow('{"queue": ')).start(
        "incomingConversationMessage", Author=GUEST, Body="hi", ConversationSid=CONVERSATION)
    assert execution.steps[-1]["event"] == "failedToEnqueue" and execution.interactions == []


@pytest.mark.parametrize(("channel", "user", "channel_type", "address"), [
    ("sms", GUEST, "sms", GUEST), ("whatsapp", GUEST, "whatsapp", f"whatsapp:{GUEST}"),
    ("chat", "guest_42", "web", "guest_42")])
def test_a_session_conversation_can_start_from_a_conversations_trigger(channel: str, user: str,
                                                                      channel_type: str, address: str) -> None:
    loaded = make_env({"*": ScriptedBot()}).load(_flow('{"queue": "concierge"}'))
    conversation = FlowConversation(loaded, channel=channel, user=user, trigger="incomingConversationMessage")
    conversation.say("I need help")
    execution = conversation.execution
    assert execution.trigger == "incomingConversationMessage"
    trigger = execution.context["trigger"]["conversation"]
    assert trigger["Author"] == address and trigger["ConversationSid"].startswith("CH")
    attributes = execution.flex_tasks[0]["parsed_attributes"]
    assert attributes["channelType"] == channel_type and attributes["customerAddress"] == address
    assert conversation.transcript().handoff["kind"] == "flex"


def test_session_conversations_take_the_trigger(tmp_path: Any) -> None:
    from harness.errors import UsageError
    from harness.runner.session import Session, SessionOptions

    path = tmp_path / "flow.json"
    flow = _flow('{"queue": "concierge"}')
    path.write_text(json.dumps(flow.raw))
    with Session(SessionOptions(flow=path, clock="2024-05-01T09:00:00Z")) as session:
        conversation = session.conversation(channel="sms", user=GUEST, trigger="incomingConversationMessage")
        conversation.say("help")
        transcript = conversation.transcript().to_dict()
        [interaction] = transcript["flow"]["interactions"]
        assert interaction["task_sid"] == transcript["handoff"]["task_sid"]
        assert transcript["handoff"]["interaction_sid"] == interaction["sid"]
        # A call is a trigger too, but this flow's Trigger does not handle it (no silent pass).
        with pytest.raises(UsageError, match=r"no transition for incomingCall .*handles incomingConversationMessage"):
            session.conversation(trigger="incomingCall")
