"""Issue 10 row 5: a bot's `show` with images, through the Studio widget, carries the images as the
message's media on SMS and WhatsApp; only Chat drops them.

Sources: reference/autopilot.md §2.8 (`show` = body + images; "Studio with Chat drops the images and sends
only the body", https://www.twilio.com/docs/autopilot/studio) and §6 ("Chat shows no images"); Twilio's
Messages API sends media URLs with the body (at most 10, docs/fake-twilio.md "Outbox").
"""

from __future__ import annotations

import json

import pytest

from harness.clock import FixedClock
from tests.unit.engines.studio.studio_kit import GUEST, HOTEL, START, bot_widget, hotel_bot, make_env, make_flow

ROOM = "https://hotel.example.com/img/room.jpg"
POOL = "https://hotel.example.com/img/pool.jpg"
SHOWING = [{"uniqueName": "photos", "actions": [
    {"show": {"body": "Our rooms and pool",
              "images": [{"label": "Room", "url": ROOM}, {"label": "Pool", "url": POOL}]}},
    {"say": "Anything else?"}]}]


def _run(contact: str, to: str, **payload: str) -> list[dict]:
    clock = FixedClock(START)
    flow = make_flow(bot_widget(**({"from": "Harbour Bot"} if "ChannelSid" in payload else {})))
    execution = make_env({"*": hotel_bot(clock, SHOWING)}, clock).load(flow).start(
        "incomingMessage", From=contact, To=to, Body="photos please", **payload)
    return execution.messages


@pytest.mark.parametrize(("contact", "to", "channel"), [
    (GUEST, HOTEL, "sms"), (f"whatsapp:{GUEST}", f"whatsapp:{HOTEL}", "whatsapp")])
def test_show_sends_its_images_with_the_body_on_messaging(contact: str, to: str, channel: str) -> None:
    messages = _run(contact, to)
    assert messages[0] == {"from": to, "to": contact, "body": "Our rooms and pool", "channel": channel,
                           "widget": "Bot", "media": [ROOM, POOL]}
    assert "media" not in messages[1]  # a say has none


def test_chat_drops_the_images_and_sends_the_body() -> None:
    messages = _run("guest_42", HOTEL, ChannelSid="CH" + "1" * 32, InstanceSid="IS" + "2" * 32,
                    ChannelAttributes=json.dumps({"from": "guest_42", "channel_type": "web"}))
    assert messages[0]["body"] == "Our rooms and pool" and messages[0]["channel"] == "chat"
    assert "media" not in messages[0]
