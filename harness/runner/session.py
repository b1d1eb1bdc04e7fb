"""Building a runtime from options, and talking through it: the one place the faces share.

`Session` owns what lives for a whole run (loaded assistants, a twilio-run server per Functions folder,
local WSGI services); `Conversation` is one user talking to the bot (alone, or through a Studio flow).
Both the CLI and the scenario runner use these; neither face builds engines itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.clock import FixedClock, parse_instant
from harness.errors import UsageError
from harness.transcript import Candidate, Transcript, Turn

DEFAULT_USER = "+15555550100"
DEFAULT_AUTH_TOKEN = "harness-test-auth-token"


@dataclass
class SessionOptions:
    """Everything needed to run conversations. Paths are already resolved."""

    bots: dict[str | None, Path] = field(default_factory=dict)  # SID (or None for "the" bot) → schema
    flow: Path | None = None
    subflows: dict[str, Path] = field(default_factory=dict)
    workflow: Path | None = None
    queues: Path | None = None
    functions: list[Path] = field(default_factory=list)
    servers: list[dict[str, str]] = field(default_factory=list)  # {"wsgi": "mod:factory", "url": prefix}
    url_map: dict[str, str] = field(default_factory=dict)
    auth_token: str = DEFAULT_AUTH_TOKEN
    clock: str | None = None
    threshold: float | None = None


def parse_url_map(items: Sequence[str]) -> dict[str, str]:
    """`PROD=LOCAL` pairs from the command line."""
    mapping: dict[str, str] = {}
    for item in items:
        prod, sep, local = item.partition("=")
        if not sep or not prod.strip() or not local.strip():
            raise UsageError(f"--url-map {item!r}: expected PROD=LOCAL, e.g. https://x.twil.io=http://127.0.0.1:3000")
        mapping[prod.strip().rstrip("/")] = local.strip().rstrip("/")
    return mapping


def parse_bot_options(items: Sequence[str]) -> dict[str | None, Path]:
    """`--bot path` (the only bot) or `--bot UA…=path` (a flow's bots by SID)."""
    bots: dict[str | None, Path] = {}
    for item in items:
        sid, sep, path = item.partition("=")
        if sep and sid.startswith("UA"):
            bots[sid] = Path(path)
        else:
            bots[None] = Path(item)
    return bots


def parse_memory(text: str | None, *, option: str = "--memory") -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise UsageError(f"{option}: not valid JSON ({err.msg} at column {err.colno})") from None
    if not isinstance(value, dict):
        raise UsageError(f"{option}: expected a JSON object, got {type(value).__name__}")
    return value


class Session:
    """A context manager: loads the bots once and starts (then stops) the local servers they need."""

    def __init__(self, options: SessionOptions) -> None:
        self.options = options
        self._stack = ExitStack()
        self.url_map: dict[str, str] = dict(options.url_map)
        self.assistants: dict[str | None, Any] = {}
        self.trained: dict[str | None, Any] = {}
        self.runtime: Any = None
        self.clock = FixedClock(parse_instant(options.clock)) if options.clock else FixedClock()

    def __enter__(self) -> Session:
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _start(self) -> None:
        from harness.engines.autopilot.runtime import AutopilotRuntime
        from harness.models.assistant_loader import load_assistant

        if not self.options.bots:
            raise UsageError("no bot given: pass --bot SCHEMA.json (or UA…=SCHEMA.json with a flow)")
        for sid, path in self.options.bots.items():
            self.assistants[sid] = load_assistant(path, sid=sid)
        for folder in self.options.functions:
            self._serve_functions(folder)
        for server in self.options.servers:
            self._serve_wsgi(server)
        kwargs: dict[str, Any] = {"clock": self.clock, "url_map": self.url_map,
                                  "auth_token": self.options.auth_token}
        if self.options.threshold is not None:
            kwargs["threshold"] = self.options.threshold
        self.runtime = AutopilotRuntime(**kwargs)
        for sid, assistant in self.assistants.items():
            self.trained[sid] = self.runtime.train(assistant)

    def _serve_functions(self, folder: Path) -> None:
        from harness.engines.twilio.functions import FunctionsServer

        server = self._stack.enter_context(FunctionsServer(folder))
        # Any *.twil.io host whose path the folder serves goes to the local twilio-run.
        self.url_map.setdefault("https://*.twil.io", server.base_url)

    def _serve_wsgi(self, spec: Mapping[str, str]) -> None:
        import importlib

        from harness.engines.twilio.server import LocalServer

        target = spec.get("wsgi", "")
        module_name, _, attr = target.partition(":")
        try:
            factory = getattr(importlib.import_module(module_name), attr or "create_app")
        except (ImportError, AttributeError) as err:
            raise UsageError(f"servers: cannot import {target!r}: {err}") from None
        app = factory() if callable(factory) and not hasattr(factory, "wsgi_app") else factory
        server = self._stack.enter_context(LocalServer(app))
        self.url_map[spec["url"].rstrip("/")] = server.base_url

    def bot(self, sid: str | None = None) -> Any:
        """The trained assistant for `sid` (or the only one)."""
        if sid in self.trained:
            return self.trained[sid]
        if sid is None and len(self.trained) == 1:
            return next(iter(self.trained.values()))
        known = ", ".join(str(k) for k in self.trained) or "none"
        raise UsageError(f"no bot for assistant SID {sid!r} (known: {known})")

    def conversation(self, *, channel: str = "sms", user: str | None = None, target_task: str | None = None,
                     memory: Mapping[str, Any] | None = None) -> BotConversation:
        return BotConversation(self.bot(None), channel=channel, user=user or DEFAULT_USER,
                               target_task=target_task, memory=memory)


class BotConversation:
    """One user talking to the bot directly (no flow)."""

    def __init__(self, trained: Any, *, channel: str, user: str, target_task: str | None,
                 memory: Mapping[str, Any] | None) -> None:
        self._trained = trained
        self._channel = channel
        self._user = user
        self._target_task = target_task
        self._memory = dict(memory) if memory else None
        self.dialogue: Any = None
        self.turns: list[Turn] = []

    def say(self, text: str) -> Turn:
        if self.dialogue is None or self.dialogue.ended:
            # A message after the end starts a new dialogue with fresh memory, as on Twilio.
            first = self.dialogue is None
            self.dialogue = self._trained.start(
                channel=self._channel, user=self._user,
                memory=self._memory if first else None,
                target_task=self._target_task if first else None,
            )
        bot_turn = self.dialogue.send(text)
        turn = turn_from_bot(bot_turn, index=len(self.turns))
        self.turns.append(turn)
        return turn

    def transcript(self) -> Transcript:
        ended = bool(self.dialogue and self.dialogue.ended)
        final = self.dialogue.final_memory if ended else (self.dialogue.memory if self.dialogue else {})
        return Transcript(turns=tuple(self.turns), ended=ended, final_memory=final or {})


def turn_from_bot(bot_turn: Any, *, index: int, bot: str | None = None, steps: Sequence[dict] = (),
                  extra_replies: Sequence[str] = ()) -> Turn:
    """A transcript Turn from the Autopilot engine's BotTurn."""
    data = bot_turn.to_dict()
    ranking = tuple(Candidate(c["task"], float(c["score"]), c.get("sample"))
                    for c in data.get("ranking") or ())
    replies = tuple(r["text"] if isinstance(r, dict) else str(r) for r in data.get("replies") or ())
    return Turn(
        index=index, user=data.get("user", ""), task=data.get("task"),
        confidence=data.get("confidence"), next_best_task=data.get("next_best_task"),
        fields=data.get("fields") or {}, replies=replies + tuple(extra_replies),
        memory=data.get("memory") or {}, ended=bool(data.get("ended")),
        tasks_run=tuple(data.get("tasks_run") or ()), ranking=ranking, routing=data.get("routing"),
        webhooks=tuple(data.get("webhooks") or ()), steps=tuple(steps), bot=bot,
    )
