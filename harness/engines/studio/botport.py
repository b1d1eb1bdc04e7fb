"""What the Studio engine needs from a bot: the port the Autopilot widget (`send-to-auto-pilot`) talks to.

The Studio engine never imports the Autopilot engine (it is written separately and stands beside it);
anything shaped like these protocols works — the kit's `TrainedAssistant`, or a scripted fake in tests.

    bot = bots["UA…"]                       # one trained assistant (a BotPort)
    dialogue = bot.start(channel="sms", user="+15555550100", memory={"k": "v"}, target_task=None,
                         assistant_sid="UA…", channel_info={"To": "+15005550006"})  # the last two optional
    turn = dialogue.send("I need towels")   # one user message → a BotTurnLike
    turn.replies, turn.ended, dialogue.final_memory
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class ReplyLike(Protocol):
    """One thing the bot said: `kind` is "say", "show" or "play" (then `text` is the media URL)."""

    kind: str
    text: str


@runtime_checkable
class BotTurnLike(Protocol):
    """The bot's answer to one user message.

    Optional: `current_task`, the last task that ran before the bot handed control back (after a redirect
    to task://agent it is "agent"); the widget's `CurrentTask` output uses it, else `task`.
    """

    task: str | None  # the task that handled the message
    fields: dict[str, dict[str, str]]  # field name → {"value", "type"}
    replies: tuple[ReplyLike, ...]
    ended: bool  # the dialogue ended on this turn (no listen/collect pending)
    memory: dict[str, Any]
    user: str  # the user's text as the bot received it

    def to_dict(self) -> dict[str, Any]: ...


@runtime_checkable
class DialogueLike(Protocol):
    """One conversation with the bot (Autopilot's Dialogue, `UK…`)."""

    sid: str
    ended: bool
    memory: dict[str, Any]
    final_memory: dict[str, Any]  # the memory when the dialogue ended

    def send(self, text: str) -> BotTurnLike: ...


@runtime_checkable
class BotPort(Protocol):
    """One trained assistant. `start` opens a dialogue; failures raise `HarnessError`s (→ event `failure`).

    `assistant_sid` and `channel_info` are optional: the engine passes them only to ports whose `start`
    accepts them (`accepts_start_args`), so older fakes with the four-argument `start` keep working.
    `assistant_sid` is the SID the widget names (one SID per dialogue, also under a "*" bot map);
    `channel_info` fills the memory's channel block: `To` (the flow's address), `CallSid` on calls,
    `ChannelSid`/`ServiceSid`/`AssistantName`/`Attributes` on chat (the widget's chat_* properties).
    """

    def start(
        self,
        *,
        channel: str,
        user: str,
        memory: Mapping[str, Any] | None = None,
        target_task: str | None = None,
        assistant_sid: str | None = None,
        channel_info: Mapping[str, Any] | None = None,
    ) -> DialogueLike: ...


OPTIONAL_START_ARGS = ("assistant_sid", "channel_info")
_ACCEPTED: dict[Any, frozenset[str]] = {}


def accepts_start_args(bot: Any) -> frozenset[str]:
    """Which of OPTIONAL_START_ARGS `bot.start` takes (all of them with **kwargs); cached per class."""
    start = getattr(bot, "start", None)
    key = getattr(start, "__func__", start)  # the function of a bound method: one entry per class
    found = _ACCEPTED.get(key)
    if found is not None:
        return found
    try:
        parameters = inspect.signature(start).parameters.values()  # type: ignore[arg-type]
    except (TypeError, ValueError):
        found = frozenset()
    else:
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
            found = frozenset(OPTIONAL_START_ARGS)
        else:
            found = frozenset(p.name for p in parameters if p.name in OPTIONAL_START_ARGS)
    with contextlib.suppress(TypeError):  # an unhashable callable is simply not cached
        _ACCEPTED[key] = found
    return found


# --- plain implementations, for bots that are not the Autopilot engine ---------------------------------------


@dataclass(frozen=True)
class Reply:
    """A ReplyLike."""

    kind: str
    text: str


@dataclass
class ScriptedTurn:
    """A BotTurnLike for scripted bots: test fakes, benchmarks, and replays of recorded widget outcomes."""

    task: str | None
    fields: dict[str, dict[str, str]]
    replies: tuple[Reply, ...]
    ended: bool
    memory: dict[str, Any]
    user: str
    routing: str = "scripted"
    current_task: str | None = None  # the last task that ran, when it differs from `task`

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "fields": self.fields, "replies": [r.text for r in self.replies],
                "ended": self.ended, "memory": self.memory, "user": self.user, "routing": self.routing}
