"""Scenario YAML as data with places: `Origin` (file + JSON Pointer, its line found when asked), YAML
values made JSON (`plain`), values as text (`as_text`), and `Problems`, the collector every pass adds to."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from harness.errors import (
    HarnessError,
    Location,
    join_pointer,
)
from harness.sources import Source


@dataclass(frozen=True)
class Origin:
    """Where a part of a scenario was written: a file and a JSON Pointer; the line is found when asked."""

    path: str | None
    pointer: str = ""
    source: Source | None = field(default=None, compare=False, repr=False)

    def location(self, *parts: str | int) -> Location:
        pointer = self.pointer + join_pointer(*parts)
        if self.source is not None and self.source.text:
            return self.source.locate(pointer)
        return Location(self.path, pointer)

    def child(self, *parts: str | int) -> Origin:
        return Origin(self.path, self.pointer + join_pointer(*parts), self.source)


class Problems:
    """Collects problems; `found` is how many were added, so a step can tell whether it failed."""

    def __init__(self) -> None:
        self.items: list[HarnessError] = []
        self._seen: set[tuple[str, str]] = set()

    def add(self, error: HarnessError) -> None:
        key = (type(error).__name__, error.render())
        if key not in self._seen:  # a row repeats its scenario's problems: say each once
            self._seen.add(key)
            self.items.append(error)

    def __len__(self) -> int:
        return len(self.items)


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def plain(node: Any) -> Any:
    """YAML timestamps → ISO strings, so the data is JSON (unquoted `clock: 2024-05-01T09:00:00Z`)."""
    if isinstance(node, datetime | date):
        text = node.isoformat()
        return text.replace("+00:00", "Z") if isinstance(node, datetime) else text
    if isinstance(node, dict):
        return {key if isinstance(key, str) else as_text(key): plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [plain(value) for value in node]
    return node


def describe_kind(value: Any) -> str:
    """What kind of value `value` is, without quoting it (for a file's content: it may be anyone's data)."""
    if value is None:
        return "nothing (an empty document)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return f"a plain text of {len(value)} characters"
    if isinstance(value, list):
        return f"a list of {len(value)} items"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


_QUOTED = re.compile(r", in the value of `[^`\n]*`|`[^`\n]*`|\"[^\"\n]*\"")


def without_content(error: HarnessError) -> HarnessError:
    """`error` (a parse error of a file another file names) with every quoted fragment of the file's text
    removed: a parser's message may quote a key or a value, and that file may hold anything (a password)."""
    if type(error).__init__ is not HarnessError.__init__:
        return error  # a collection of errors: each was made by its own reader
    message = _QUOTED.sub(lambda m: "" if m.group().startswith(",") else "(…)", error.message)
    if message == error.message:
        return error
    return type(error)(message, error.location, error.hint)
