"""The outbox: every message a bot or flow sends, recorded per channel instead of delivered.

    outbox = Outbox(clock)
    outbox.send("whatsapp:+15005550006", "whatsapp:+15005550001", "Your room is ready", widget="notify")
    outbox.for_channel("whatsapp")[0].body  # -> "Your room is ready"

Channels are named the way Twilio addresses say them: `whatsapp:+1…` → "whatsapp", `messenger:…` →
"messenger", `rcs:…` → "rcs", `+1…` (E.164) and short codes → "sms", anything else (a Programmable Chat
or Conversations identity such as `guest_42`, or `CH…`) → "chat".

Rules enforced (Twilio's Messages API): a message needs a recipient and a body or media (error 21602);
at most 10 media URLs; `From` and `To` must be on the same channel when one of them is a WhatsApp, RCS
or Messenger address (error 21910; a Messaging Service SID `MG…` as From fits any channel). The
1600-character SMS body limit is not enforced (the reference does not give it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from harness.clock import Clock, FixedClock, iso
from harness.errors import EngineError

SMS, WHATSAPP, MESSENGER, RCS, CHAT = "sms", "whatsapp", "messenger", "rcs", "chat"
MAX_MEDIA = 10

_PREFIXES = {"whatsapp": WHATSAPP, "messenger": MESSENGER, "rcs": RCS, "sms": SMS, "mms": SMS}
_PHONE = re.compile(r"^\+[1-9]\d{6,14}$")
_SHORT_CODE = re.compile(r"^\d{3,8}$")
_PREFIXED_CHANNELS = {WHATSAPP, MESSENGER, RCS}


def split_address(address: str) -> tuple[str | None, str]:
    """(`whatsapp`, `+1…`) for `whatsapp:+1…`; (None, address) when there is no known channel prefix."""
    head, colon, rest = address.partition(":")
    if colon and head.strip().lower() in _PREFIXES:
        return head.strip().lower(), rest.strip()
    return None, address.strip()


def channel_of(address: str) -> str:
    """The channel an address belongs to: "whatsapp", "messenger", "rcs", "sms" or "chat"."""
    prefix, rest = split_address(address)
    if prefix is not None:
        return _PREFIXES[prefix]
    if _PHONE.match(rest) or _SHORT_CODE.match(rest):
        return SMS
    return CHAT


def bare_address(address: str) -> str:
    """The address without its channel prefix: `whatsapp:+15005550006` → `+15005550006`."""
    return split_address(address)[1]


def address_for(channel: str, address: str) -> str:
    """The address as Twilio writes it on `channel`: ("whatsapp", "+1…") → "whatsapp:+1…"."""
    bare = bare_address(address)
    return f"{channel}:{bare}" if channel in _PREFIXED_CHANNELS else bare


@dataclass(frozen=True)
class OutboundMessage:
    channel: str
    to: str
    from_: str
    body: str
    media: tuple[str, ...] = ()
    widget: str | None = None  # the Studio widget or Autopilot action that sent it, when known
    timestamp: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "to": self.to,
            "from": self.from_,
            "body": self.body,
            "media": list(self.media),
            "widget": self.widget,
            "timestamp": iso(self.timestamp) if self.timestamp else None,
        }


@dataclass
class Outbox:
    """Outbound messages in the order they were sent, with per-channel views."""

    clock: Clock = field(default_factory=FixedClock)
    messages: list[OutboundMessage] = field(default_factory=list)

    def send(
        self,
        to: str,
        from_: str,
        body: str | None,
        *,
        media: Iterable[str] = (),
        widget: str | None = None,
        channel: str | None = None,
    ) -> OutboundMessage:
        """Record a message; `channel` defaults to the channel of `to`. EngineError where Twilio says 400."""
        media_urls = tuple(media)
        if not isinstance(to, str) or not to.strip():
            raise EngineError("a message needs a recipient ('To' is empty)")
        if not body and not media_urls:
            raise EngineError(f"a message to {to} needs a body or media (Twilio error 21602)")
        if len(media_urls) > MAX_MEDIA:
            raise EngineError(f"a message carries at most {MAX_MEDIA} media URLs, got {len(media_urls)}")
        to_channel = channel_of(to)
        # A Messaging Service SID (MG…) sends on whatever channel the recipient is on.
        from_channel = channel_of(from_) if from_ and not from_.startswith("MG") else to_channel
        if (to_channel in _PREFIXED_CHANNELS or from_channel in _PREFIXED_CHANNELS) \
                and to_channel != from_channel:
            raise EngineError(
                f"From {from_!r} and To {to!r} are on different channels (Twilio error 21910)",
                hint=f"write From as {address_for(to_channel, from_ or '')!r}",
            )
        message = OutboundMessage(channel or to_channel, to, from_, body or "", media_urls, widget,
                                  self.clock.now())
        self.messages.append(message)
        return message

    def for_channel(self, channel: str) -> list[OutboundMessage]:
        return [m for m in self.messages if m.channel == channel]

    def to(self, address: str) -> list[OutboundMessage]:
        """Messages to `address`, with or without its channel prefix."""
        wanted = bare_address(address)
        return [m for m in self.messages if bare_address(m.to) == wanted]

    def bodies(self, channel: str | None = None) -> list[str]:
        return [m.body for m in self.messages if channel is None or m.channel == channel]

    @property
    def channels(self) -> dict[str, list[OutboundMessage]]:
        """Messages grouped by channel, channels in order of first use."""
        grouped: dict[str, list[OutboundMessage]] = {}
        for message in self.messages:
            grouped.setdefault(message.channel, []).append(message)
        return grouped

    @property
    def last(self) -> OutboundMessage | None:
        return self.messages[-1] if self.messages else None

    def clear(self) -> None:
        self.messages.clear()

    def __len__(self) -> int:
        return len(self.messages)

    def __iter__(self) -> Iterator[OutboundMessage]:
        return iter(self.messages)
