"""A scripted stand-in for a trained Autopilot assistant, shaped like harness.engines.studio.botport.

Rules, by what the user types (case-insensitive):
- contains "agent" → remember {"sendToAgent": true}, say "Connecting you to an agent.", end
  (task `handoff_task`);
- contains "pizza" → a finished order_food collect in memory, ask what else (dialogue continues);
- contains "bye" → say goodbye, end without sendToAgent;
- contains "crash" → the bot fails (an EngineError, as a broken Action URL would);
- anything else → echo it and listen (task "greeting").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.engines.studio.botport import Reply, ScriptedTurn
from harness.errors import EngineError

# The scripted turn shape lives beside the protocol it satisfies.
FakeTurn = ScriptedTurn


@dataclass
class FakeDialogue:
    sid: str
    memory: dict[str, Any]
    handoff_task: str
    ended: bool = False
    final_memory: dict[str, Any] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)
    target_task: str | None = None

    def send(self, text: str) -> FakeTurn:
        if self.ended:
            raise EngineError("the dialogue has ended")
        self.inputs.append(text)
        lowered = text.lower()
        fields: dict[str, dict[str, str]] = {}
        if self.target_task and len(self.inputs) == 1:
            lowered = "agent" if self.target_task == self.handoff_task else lowered
        if "crash" in lowered:
            raise EngineError("Action URL https://bot.example.com/actions answered 500")
        if "agent" in lowered:
            self.memory["sendToAgent"] = True
            return self._end(self.handoff_task, "Connecting you to an agent.", text, fields)
        if "bye" in lowered:
            return self._end("goodbye", "Goodbye!", text, fields)
        if "pizza" in lowered:
            fields = {"food": {"value": "pizza", "type": "Custom.FOOD"}}
            collected = self.memory.setdefault("twilio", {}).setdefault("collected_data", {})
            collected["order_food"] = {
                "status": "complete",
                "answers": {"food": {"answer": "pizza", "filled": True}},
            }
            return FakeTurn(
                "order_food",
                fields,
                (Reply("say", "One pizza is on its way. Anything else?"),),
                False,
                self.memory,
                text,
            )
        return FakeTurn("greeting", fields, (Reply("say", f"You said: {text}"),), False, self.memory, text)

    def _end(self, task: str, say: str, text: str, fields: dict[str, dict[str, str]]) -> FakeTurn:
        self.ended = True
        self.final_memory = dict(self.memory)
        return FakeTurn(task, fields, (Reply("say", say),), True, self.memory, text)


class ScriptedBot:
    """A BotPort; `starts` keeps the arguments of every dialogue started."""

    def __init__(self, handoff_task: str = "send_to_agent", *, fail_on_start: bool = False) -> None:
        self.handoff_task = handoff_task
        self.fail_on_start = fail_on_start
        self.starts: list[dict[str, Any]] = []
        self.dialogues: list[FakeDialogue] = []

    def start(
        self,
        *,
        channel: str,
        user: str,
        memory: Mapping[str, Any] | None = None,
        target_task: str | None = None,
    ) -> FakeDialogue:
        if self.fail_on_start:
            raise EngineError("assistant has no model built")
        self.starts.append(
            {"channel": channel, "user": user, "memory": dict(memory or {}), "target_task": target_task}
        )
        base = {"twilio": {channel: {"From": user}}}
        dialogue = FakeDialogue(
            f"UK{len(self.dialogues) + 1:032x}",
            {**base, **dict(memory or {})},
            self.handoff_task,
            target_task=target_task,
        )
        self.dialogues.append(dialogue)
        return dialogue
