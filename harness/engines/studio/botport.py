"""What the Studio engine needs from a bot: the port the Autopilot widget (`send-to-auto-pilot`) talks to.

The Studio engine never imports the Autopilot engine (it is written separately and stands beside it);
anything shaped like these protocols works — the kit's `TrainedAssistant`, or a scripted fake in tests.

    bot = bots["UA…"]                       # one trained assistant (a BotPort)
    dialogue = bot.start(channel="sms", user="+15555550100", memory={"k": "v"}, target_task=None)
    turn = dialogue.send("I need towels")   # one user message → a BotTurnLike
    turn.replies, turn.ended, dialogue.final_memory
"""

from __future__ import annotations

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
    """The bot's answer to one user message."""

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
    """One trained assistant. `start` opens a dialogue; failures raise `HarnessError`s (→ event `failure`)."""

    def start(
        self,
        *,
        channel: str,
        user: str,
        memory: Mapping[str, Any] | None = None,
        target_task: str | None = None,
    ) -> DialogueLike: ...


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

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "fields": self.fields, "replies": [r.text for r in self.replies],
                "ended": self.ended, "memory": self.memory, "user": self.user, "routing": self.routing}
