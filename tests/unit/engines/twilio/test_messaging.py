"""The outbox: channels from addresses, Twilio's message rules, per-channel views."""

from __future__ import annotations

import pytest

from harness.clock import FixedClock
from harness.engines.twilio.messaging import Outbox, address_for, bare_address, channel_of, split_address
from harness.errors import EngineError


@pytest.mark.parametrize(("address", "channel"), [
    ("whatsapp:+15005550006", "whatsapp"),
    ("WhatsApp:+15005550006", "whatsapp"),
    ("messenger:1234567890", "messenger"),
    ("rcs:+15005550006", "rcs"),
    ("+15005550006", "sms"),
    ("+442071838750", "sms"),
    ("89898", "sms"),  # short code
    ("guest_42", "chat"),
    ("CH" + "a" * 32, "chat"),
    ("client:alice", "chat"),
    ("+1-500-555", "chat"),  # not E.164
])
def test_channel_of(address: str, channel: str) -> None:
    assert channel_of(address) == channel


def test_address_helpers_round_trip() -> None:
    assert split_address("whatsapp:+15005550006") == ("whatsapp", "+15005550006")
    assert split_address("guest:42") == (None, "guest:42")
    assert bare_address("whatsapp:+15005550006") == "+15005550006"
    assert address_for("whatsapp", "+15005550006") == "whatsapp:+15005550006"
    assert address_for("sms", "whatsapp:+15005550006") == "+15005550006"


def test_outbox_records_per_channel_in_order() -> None:
    clock = FixedClock("2023-05-01T12:00:00Z")
    outbox = Outbox(clock)
    outbox.send("whatsapp:+15005550006", "whatsapp:+15005550001", "Hi on WhatsApp", widget="greet")
    clock.advance(5)
    outbox.send("+15005550006", "+15005550001", "Hi by SMS")
    outbox.send("guest_42", "Bot", "", media=["https://example.com/menu.png"])
    assert len(outbox) == 3 and list(outbox.channels) == ["whatsapp", "sms", "chat"]
    assert outbox.bodies("whatsapp") == ["Hi on WhatsApp"]
    assert [m.body for m in outbox.to("+15005550006")] == ["Hi on WhatsApp", "Hi by SMS"]
    first = outbox.for_channel("whatsapp")[0]
    assert first.widget == "greet" and first.to_dict()["timestamp"] == "2023-05-01T12:00:00Z"
    assert outbox.for_channel("sms")[0].timestamp == clock.now()
    assert outbox.last is not None and outbox.last.media == ("https://example.com/menu.png",)
    outbox.clear()
    assert outbox.last is None


def test_explicit_channel_wins() -> None:
    message = Outbox().send("guest_42", "Bot", "hello", channel="web")
    assert message.channel == "web"


@pytest.mark.parametrize(("to", "from_", "body", "media", "fragment"), [
    ("", "+15005550001", "hi", (), "recipient"),
    ("+15005550006", "+15005550001", "", (), "21602"),
    ("whatsapp:+15005550006", "+15005550001", "hi", (), "21910"),
    ("+15005550006", "whatsapp:+15005550001", "hi", (), "21910"),
    ("+15005550006", "+15005550001", "hi", ["https://x/"] * 11, "at most 10"),
])
def test_twilio_message_rules(to: str, from_: str, body: str, media: list[str], fragment: str) -> None:
    outbox = Outbox()
    with pytest.raises(EngineError, match=fragment):
        outbox.send(to, from_, body, media=media)
    assert len(outbox) == 0


def test_messaging_service_sender_fits_any_channel() -> None:
    message = Outbox().send("whatsapp:+15005550006", "MG" + "0" * 32, "hi")
    assert message.channel == "whatsapp"
