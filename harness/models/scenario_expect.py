"""What a scenario expects: after each turn (`TurnExpect`) and at the end (`ScenarioExpect`: flow, messages,
hand-off), with the text and number checks they use (`TextMatch`, `Comparison`)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.models.scenario_yaml import Origin
from harness.patterns import search as pattern_search

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": lambda a, b: a >= b or math.isclose(a, b, abs_tol=1e-9),
    "<=": lambda a, b: a <= b or math.isclose(a, b, abs_tol=1e-9),
    ">": lambda a, b: a > b and not math.isclose(a, b, abs_tol=1e-9),
    "<": lambda a, b: a < b and not math.isclose(a, b, abs_tol=1e-9),
    "==": lambda a, b: math.isclose(a, b, abs_tol=1e-9),
    "!=": lambda a, b: not math.isclose(a, b, abs_tol=1e-9),
}
_COMPARISON = re.compile(r"^\s*(>=|<=|==|!=|>|<)?\s*([0-9]*\.?[0-9]+)\s*$")


@dataclass(frozen=True)
class Comparison:
    """`confidence: ">= 0.6"`; a bare number means "at least" (a threshold, as Autopilot's own)."""

    op: str
    value: float

    def holds(self, actual: float | None) -> bool:
        return actual is not None and _OPERATORS[self.op](float(actual), self.value)

    def __str__(self) -> str:
        return f"{self.op} {self.value:g}"

    @classmethod
    def parse(cls, raw: Any) -> Comparison:
        """A number or a string such as '>= 0.6'; ValueError otherwise."""
        if isinstance(raw, bool):
            raise ValueError(raw)
        if isinstance(raw, int | float):
            return cls(">=", float(raw))
        match = _COMPARISON.match(str(raw))
        if not match:
            raise ValueError(raw)
        return cls(match.group(1) or ">=", float(match.group(2)))


@dataclass(frozen=True)
class TextMatch:
    """One check of a text: equals (a plain string), contains, regex (searched) or one_of."""

    kind: str  # "equals" | "contains" | "regex" | "one_of"
    value: str | tuple[str, ...]

    def matches(self, text: str | None) -> bool:
        if text is None:
            return False
        if self.kind == "equals":
            return text == self.value
        if self.kind == "contains":
            return str(self.value) in text
        if self.kind == "regex":
            return pattern_search(str(self.value), text, what="reply regex") is not None
        return text in self.value

    def describe(self) -> str:
        if self.kind == "equals":
            return quote(str(self.value))
        if self.kind == "one_of":
            return "one of " + ", ".join(quote(v) for v in self.value)
        if self.kind == "regex":
            return f"matching /{self.value}/"
        return f"containing {quote(str(self.value))}"


@dataclass(frozen=True)
class FieldExpect:
    """An expected field: its value (compared as text; numbers numerically) and optionally its type."""

    value: Any = None
    type: str | None = None


@dataclass(frozen=True)
class AutopilotHandoffExpect:
    """The bot's own `handoff` action (voice): the action's keys and what it did (TwiML or a task)."""

    channel: str | None = None
    uri: TextMatch | None = None
    method: str | None = None
    priority: int | None = None
    timeout: int | None = None
    workflow: str | None = None
    queue: str | None = None
    queue_history: tuple[str, ...] | None = None
    status: str | None = None
    schema: Mapping[str, Any] | None = None
    kind: str = "autopilot"


@dataclass(frozen=True)
class TurnExpect:
    """What must hold after one message; None means "not checked"."""

    task: str | None = None
    confidence: Comparison | None = None
    next_best_task: str | None = None
    fields: Mapping[str, FieldExpect | None] | None = None  # None value: the field must be absent
    replies: tuple[TextMatch, ...] | None = None
    memory: Mapping[str, Any] | None = None  # subset; dotted keys are paths
    memory_absent: tuple[str, ...] | None = None  # keys (dotted paths) that must not be set
    tasks_run: tuple[str, ...] | None = None  # every task run on the message, in order
    ended: bool | None = None
    handoff: AutopilotHandoffExpect | None = None  # the bot's handoff action ran on this turn
    # `task: null`: no task may have run (a URL fallback, a flow-only turn); `task` None alone means
    # "not checked", so the explicit null needs its own flag.
    no_task: bool = False
    origin: Origin = field(default_factory=lambda: Origin(None), compare=False)

    @property
    def is_empty(self) -> bool:
        return not self.no_task and all(getattr(self, name) is None for name in _TURN_KEYS)


_TURN_KEYS = ("task", "confidence", "next_best_task", "fields", "replies", "memory", "memory_absent", "tasks_run",
              "ended", "handoff")


@dataclass(frozen=True)
class FlowExpect:
    path: tuple[str, ...] | None = None
    mode: str = "exact"  # "exact" | "subsequence"
    events: Mapping[str, tuple[str, ...]] | None = None  # widget → events in order (one: its last)
    events_all: frozenset[str] = frozenset()  # widgets whose events were given as a list (all of them)
    variables: Mapping[str, Any] | None = None
    status: str | None = None


@dataclass(frozen=True)
class MessageExpect:
    body: TextMatch | None = None
    sender: str | None = None  # `from`
    to: str | None = None
    channel: str | None = None
    widget: str | None = None


@dataclass(frozen=True)
class InteractionExpect:
    """`handoff.flex.interaction`: the task came through a Flex Interaction (of this channel type)."""

    channel: str | None = None


@dataclass(frozen=True)
class FlexHandoffExpect:
    attributes: Mapping[str, Any] | None = None
    attributes_schema: Mapping[str, Any] | None = None
    workflow: str | None = None
    channel: str | None = None
    queue: str | None = None
    priority: int | None = None
    queue_history: tuple[str, ...] | None = None  # every queue the task entered (timeouts move it on)
    status: str | None = None  # the task's assignment_status after the last turn
    # Flex Conversations: an Interaction created the task; `channel` is its channel type (sms, whatsapp, web…)
    interaction: InteractionExpect | None = None
    kind: str = "flex"


@dataclass(frozen=True)
class HttpHandoffExpect:
    method: str | None = None
    url: TextMatch | None = None
    body: Any = None
    body_schema: Mapping[str, Any] | None = None
    status: int | None = None
    response: Any = None
    kind: str = "http"


@dataclass(frozen=True)
class ScenarioExpect:
    """What must hold after the last turn; None means "not checked"."""

    flow: FlowExpect | None = None
    messages: tuple[MessageExpect, ...] | None = None
    handoff: FlexHandoffExpect | HttpHandoffExpect | AutopilotHandoffExpect | None = None
    no_handoff: bool = False
    memory: Mapping[str, Any] | None = None
    memory_absent: tuple[str, ...] | None = None
    ended: bool | None = None
    origin: Origin = field(default_factory=lambda: Origin(None), compare=False)


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
