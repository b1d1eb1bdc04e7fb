"""Issue 10 row 6: a custom `from` on the Autopilot widget makes the bot's SMS/WhatsApp messages fail.

Source: Twilio's hand-off guide ("How to hand-off messaging conversations from Autopilot to your Contact
Center", /work/shared/seed/handoff-guide.txt, "For Messaging"): "Do not change the 'Send Message From'
field ... With Messaging channels, we want Studio to use the default channel address ... Your messages
will fail if you change this value." For Chat the guide says to put the bot's name there, and for Flex
messaging `{{trigger.message.ChannelAttributes.from}}` (a Programmable Chat channel): both keep working.
The widget takes `failure` when its messages fail, as for any reply that cannot be sent [uncertain];
`bot_from_must_match=False` sends from the custom value instead.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.clock import FixedClock
from tests.unit.engines.studio.studio_kit import GUEST, HOTEL, START, bot_widget, hotel_bot, make_env, make_flow

HELLO = [{"uniqueName": "greeting", "actions": [{"say": "Welcome to the Harbour Hotel"}, {"listen": True}]}]


def _start(sender: str, contact: str = GUEST, to: str = HOTEL, **env: Any) -> Any:
    clock = FixedClock(START)
    flow = make_flow(bot_widget(**{"from": sender}))
    payload = {k: v for k, v in env.items() if k[0].isupper()}
    options = {k: v for k, v in env.items() if not k[0].isupper()}
    return make_env({"*": hotel_bot(clock, HELLO)}, clock, **options).load(flow).start(
        "incomingMessage", From=contact, To=to, Body="hello", **payload)


@pytest.mark.parametrize(("sender", "contact", "to"), [
    ("Harbour Bot", GUEST, HOTEL),
    ("+15005550009", GUEST, HOTEL),  # another number is not the flow's address either
    ("Harbour Bot", f"whatsapp:{GUEST}", f"whatsapp:{HOTEL}"),
])
def test_a_custom_from_on_sms_or_whatsapp_fails_the_bots_messages(sender: str, contact: str, to: str) -> None:
    execution = _start(sender, contact, to)
    step = execution.steps[-1]
    assert step["widget"] == "Bot" and step["event"] == "failure"
    assert f"'from' is {sender!r}, not the flow's address {to!r}" in step["error"]
    assert "Send Message From" in step["error"]
    assert execution.messages == []  # nothing reached the guest


@pytest.mark.parametrize("sender", ["{{flow.channel.address}}", "", HOTEL])
def test_the_flows_own_address_sends(sender: str) -> None:
    execution = _start(sender)
    assert execution.waiting == "Bot"
    assert execution.messages[0]["from"] == HOTEL and execution.messages[0]["body"] == "Welcome to the Harbour Hotel"


def test_chat_and_flex_messaging_keep_their_custom_from() -> None:
    chat = {"ChannelSid": "CH" + "1" * 32, "InstanceSid": "IS" + "2" * 32,
            "ChannelAttributes": json.dumps({"from": GUEST, "channel_type": "sms"})}
    named = _start("Harbour Bot", **chat)
    assert named.waiting == "Bot" and named.messages[0]["from"] == "Harbour Bot"
    flex = _start("{{trigger.message.ChannelAttributes.from}}", **chat)
    assert flex.waiting == "Bot" and flex.messages[0]["from"] == GUEST


def test_the_strict_rule_can_be_turned_off() -> None:
    execution = _start("Harbour Bot", bot_from_must_match=False)
    assert execution.waiting == "Bot" and execution.messages[0]["from"] == "Harbour Bot"
