"""The transcript: everything a conversation did, as plain JSON-serialisable data.

Engines produce it; expectations, golden files and reporters only read it. Keys may grow, never change:
`autopilot-harness chat --json` prints `Transcript.to_dict()`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Candidate:
    task: str
    score: float
    sample: str | None = None


@dataclass(frozen=True)
class Turn:
    """One user message and what followed it."""

    index: int
    user: str
    task: str | None = None  # the task that handled the message (first task run)
    confidence: float | None = None
    next_best_task: str | None = None
    fields: dict[str, dict[str, str]] = field(default_factory=dict)  # name → {"value", "type"}
    replies: tuple[str, ...] = ()  # what the user saw, in order (bot says/shows and flow messages)
    memory: dict[str, Any] = field(default_factory=dict)  # bot memory after the turn
    ended: bool = False  # the bot's dialogue ended on this turn
    tasks_run: tuple[str, ...] = ()  # every task run, redirects included
    ranking: tuple[Candidate, ...] = ()  # the router's candidates, best first
    routing: str | None = None  # "exact" | "scored" | "none" | "target" | "collect" | "listen"
    webhooks: tuple[dict[str, Any], ...] = ()
    steps: tuple[dict[str, Any], ...] = ()  # flow steps this message caused
    bot: str | None = None  # the Autopilot widget / assistant that answered, when a flow runs
    wait: float | None = None  # a pause of this many seconds instead of a message (timeouts fire)
    # the bot's Autopilot `handoff` action (voice), when it ran: {"kind": "autopilot", <the action's keys>,
    # and what it did: "status"/"twiml" of a TwiML request, or "task_sid", "queue", "queue_history", …}
    handoff: dict[str, Any] | None = None
    routing_note: str | None = None  # the router's reason in words ("closest sample …", "below min_score …")
    digits: str | None = None  # keypad input on a call (Digits) instead of speech; `user` is then ""
    confidence_heard: float | None = None  # the speech recognizer's Confidence of `user` on a call

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("digits", "confidence_heard"):  # voice-only: absent elsewhere, so older goldens stay as they are
            if data[key] is None:
                del data[key]
        return data


@dataclass(frozen=True)
class FlowRecord:
    """What the Studio flow did over the whole conversation."""

    flow: str  # path or name
    steps: tuple[dict[str, Any], ...] = ()  # {"widget", "type", "event", "next", ...}
    variables: dict[str, Any] = field(default_factory=dict)
    messages: tuple[dict[str, Any], ...] = ()  # outbound: {"from", "to", "body", "channel", "widget"}
    flex_tasks: tuple[dict[str, Any], ...] = ()
    http_requests: tuple[dict[str, Any], ...] = ()
    ended: bool = False
    status: str = "active"
    execution_sid: str | None = None
    # Flex Interactions (Send to Flex under Flex Conversations): the resource plus `task_sid`, the task
    # it created (also in flex_tasks, whose entry names `interaction_sid`).
    interactions: tuple[dict[str, Any], ...] = ()

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(s["widget"] for s in self.steps)

    def to_dict(self) -> dict[str, Any]:
        """Plain data; `interactions` only when there are some (transcripts without them stay as they were)."""
        data = asdict(self)
        if not self.interactions:
            del data["interactions"]
        return data


@dataclass(frozen=True)
class Transcript:
    turns: tuple[Turn, ...] = ()
    ended: bool = False  # the (last) bot dialogue has ended
    final_memory: dict[str, Any] = field(default_factory=dict)
    flow: FlowRecord | None = None
    # {"kind": "flex"|"http"|"autopilot", ...payload}; a task's "queue" and "queue_history" as they are
    # after the last turn (a `wait` may have moved it)
    handoff: dict[str, Any] | None = None
    # meta["dialogues"]: one {"sid", "ended", "final_memory"} per bot dialogue, in order — a message after
    # a dialogue ended starts a new one, and `ended`/`final_memory` above are those of the last one.
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "turns": [t.to_dict() for t in self.turns],
            "ended": self.ended,
            "final_memory": self.final_memory,
        }
        if self.flow is not None:
            data["flow"] = self.flow.to_dict()
        if self.handoff is not None:
            data["handoff"] = self.handoff
        if self.meta:
            data["meta"] = self.meta
        return data
