"""One failed expectation, as data: where, what was expected, what happened, and why (detail)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from harness.errors import Location


class _Missing:
    """The actual value when a key or item is absent (distinct from null)."""

    def __repr__(self) -> str:
        return "(missing)"


MISSING: Any = _Missing()

SCENARIO_SCOPE = "after the last turn"


@dataclass(frozen=True)
class Mismatch:
    """A difference between a scenario's expectation and the transcript.

    `where` reads on its own (`turn 2 ("I need towels") task`); `scope` + `key` are its parts, so a report
    can group by turn. `path` is the JSON path inside a payload (`memory.order.items[0].name`). `detail`
    holds the explanation lines (candidates and scores, the split conditions). `location` is where the
    expectation is written in the scenario file.
    """

    where: str
    expected: Any
    actual: Any
    detail: str = ""
    path: str | None = None
    scope: str = ""
    key: str = ""
    location: Location | None = None

    def summary(self) -> str:
        """One line: `turn 2 ("…") task: expected "a", got "b"` (the payload path instead of the key)."""
        head = f"{self.scope} {self.path}".strip() if self.path else self.where
        return f"{head}: expected {show(self.expected)}, got {show(self.actual)}"

    def __str__(self) -> str:
        return self.summary()


def show(value: Any, limit: int = 160) -> str:
    """A value for a message: JSON-like, quoted strings, `(missing)` for absent, cut at `limit`."""
    if value is MISSING:
        return "(missing)"
    if isinstance(value, Expected):
        return value.text
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Expected:
    """An expectation that is not a plain value (`>= 0.6`, `containing "towel"`): shown as its text."""

    text: str

    def __str__(self) -> str:
        return self.text
