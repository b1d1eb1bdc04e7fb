"""Typed model of an Autopilot assistant, as the Autopilot CLI exports it (`schema.json`).

The loader (`harness.models.assistant_loader`) builds these from files; the engines only read them.
Actions stay raw JSON (lists of one-key dicts) because that is what Action URLs return too; they are
validated by `harness.models.actions`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.errors import HarnessError, Location
from harness.sources import Source

TASK_SCHEME = "task://"


@dataclass(frozen=True)
class FieldValue:
    value: str
    synonym_of: str | None = None  # the canonical value's text, as in the export
    language: str = "en-US"


@dataclass(frozen=True)
class FieldType:
    """A custom field type (`Custom.ROOMITEMS`): canonical values and their synonyms."""

    unique_name: str
    values: tuple[FieldValue, ...] = ()
    pointer: str = ""

    def canonical(self, text: str) -> str | None:
        """The canonical value for `text` (case-insensitive), following `synonymOf`; None if unknown."""
        wanted = text.strip().lower()
        for v in self.values:
            if v.value.lower() == wanted:
                return v.synonym_of or v.value
        return None


@dataclass(frozen=True)
class TaskField:
    unique_name: str
    field_type: str


@dataclass(frozen=True)
class Sample:
    tagged_text: str  # e.g. "need {item}"
    language: str = "en-US"


@dataclass(frozen=True)
class Task:
    unique_name: str
    actions: tuple[dict[str, Any], ...] = ()  # the task's Actions list (raw)
    fields: tuple[TaskField, ...] = ()
    samples: tuple[Sample, ...] = ()
    actions_url: str | None = None  # an Action URL instead of static actions (the console's toggle)
    actions_url_method: str = "POST"
    pointer: str = ""  # JSON Pointer of this task in its file, e.g. /tasks/3

    def field(self, name: str) -> TaskField | None:
        for f in self.fields:
            if f.unique_name == name:
                return f
        return None


@dataclass(frozen=True)
class Defaults:
    assistant_initiation: str | None = None  # "task://greeting" or a URL
    fallback: str | None = None
    validate_on_failure: str | None = None  # defaults.collect.validate_on_failure


@dataclass(frozen=True)
class StyleSheet:
    say_voice: str | None = None
    on_failure_messages: tuple[str, ...] = ()  # say texts, in order; reused cyclically
    repeat_question: bool = False
    on_success_say: str | None = None
    max_attempts: int | None = None  # stylesheet collect.validate.max_attempts (an integer here)
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Assistant:
    """One assistant export. `source` keeps the file for error locations."""

    unique_name: str
    friendly_name: str
    tasks: tuple[Task, ...]
    field_types: tuple[FieldType, ...] = ()
    defaults: Defaults = Defaults()
    style_sheet: StyleSheet = StyleSheet()
    model_build: str | None = None
    sid: str | None = None  # "UA…" when known (from a flow's bot map)
    path: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    source: Source | None = field(default=None, repr=False, compare=False)  # the parsed file, for lines
    # problems Twilio tolerated at import time (e.g. a default naming a missing task): reported, not raised
    warnings: tuple[HarnessError, ...] = field(default=(), repr=False, compare=False)

    def task(self, name: str) -> Task | None:
        for t in self.tasks:
            if t.unique_name == name:
                return t
        return None

    def field_type(self, name: str) -> FieldType | None:
        for ft in self.field_types:
            if ft.unique_name == name:
                return ft
        return None

    @property
    def task_names(self) -> tuple[str, ...]:
        return tuple(t.unique_name for t in self.tasks)

    def location(self, pointer: str = "") -> Location:
        """Where `pointer` is in the assistant's file (with line and column when the file was parsed)."""
        if self.source is not None and self.source.text:
            found = self.source.locate(pointer)
            return Location(self.path, pointer, found.line, found.column)
        return Location(self.path, pointer)


def task_target(uri: str) -> str | None:
    """The task name in a `task://name` URI, or None for a URL."""
    if uri.startswith(TASK_SCHEME):
        return uri[len(TASK_SCHEME):]
    return None
