"""The kit's errors: every problem a user can fix names a file, a place in it and what was expected.

`HarnessError.render()` is the only formatter, so pytest, the CLI and JUnit print the same text.
Any other exception escaping the kit is our own bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum


@dataclass(frozen=True)
class Location:
    """Where something is: a file, a JSON Pointer inside it and, when known, a 1-based line and column."""

    path: str | None = None
    pointer: str = ""
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = self.path or "<input>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        if self.pointer:
            where += f" ({self.pointer})" if self.line is not None else f"#{self.pointer}"
        return where

    def child(self, *parts: str | int) -> Location:
        """The location of a member below this one (line and column belong to the parent: dropped)."""
        pointer = self.pointer
        for part in parts:
            pointer += "/" + escape_pointer(part)
        return Location(self.path, pointer)


def escape_pointer(part: str | int) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def join_pointer(*parts: str | int) -> str:
    return "".join("/" + escape_pointer(p) for p in parts)


class HarnessError(Exception):
    """Base of every error the kit reports to a user."""

    kind = "error"

    def __init__(self, message: str, location: Location | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint

    def with_location(self, location: Location) -> HarnessError:
        """Fill in the location where the error was raised without one (the file is known higher up)."""
        if self.location is None or (self.location.path is None and location.path is not None):
            pointer = self.location.pointer if self.location else location.pointer
            self.location = Location(location.path, pointer or location.pointer,
                                     location.line, location.column)
        return self

    def render(self) -> str:
        head = f"{self.location}: {self.message}" if self.location else self.message
        if self.hint:
            head += f"\n  hint: {self.hint}"
        return head

    def __str__(self) -> str:
        return self.render()


class LoadError(HarnessError):
    """A file can't be read, or its JSON/YAML is malformed."""

    kind = "load"


class SchemaError(HarnessError):
    """A value breaks the JSON Schema or a structural rule (one instance per violation)."""

    kind = "schema"


class ReferenceProblem(HarnessError):
    """A name points nowhere: a dangling task://, an unknown field type, a missing widget."""

    kind = "reference"


class EngineError(HarnessError):
    """A Twilio rule was broken at run time (e.g. more than 5 redirects in one request)."""

    kind = "engine"


class WebhookError(EngineError):
    """An Action URL, redirect, validate webhook or HTTP widget answered badly or not at all."""

    kind = "webhook"


class UsageError(HarnessError):
    """Bad command-line options or API arguments."""

    kind = "usage"


class ExpectationFailed(HarnessError, AssertionError):
    """A scenario's expectation did not hold."""

    kind = "expectation"


class HarnessErrors(HarnessError):
    """Several problems found in one pass (a loader reports all of them, not only the first)."""

    def __init__(self, errors: Sequence[HarnessError], summary: str | None = None) -> None:
        self.errors = list(errors)
        first = self.errors[0] if self.errors else None
        text = summary or (first.message if first else "no errors")
        super().__init__(text, first.location if first else None)

    def render(self) -> str:
        if len(self.errors) == 1:
            return self.errors[0].render()
        return "\n".join([f"{len(self.errors)} problems:"] + [e.render() for e in self.errors])

    def __iter__(self):
        return iter(self.errors)


def raise_all(errors: Iterable[HarnessError]) -> None:
    """Raise nothing for no errors, the error itself for one, a `HarnessErrors` for several."""
    found = list(errors)
    if len(found) == 1:
        raise found[0]
    if found:
        raise HarnessErrors(found)


class ExitCode(IntEnum):
    """Exit codes of `autopilot-harness` commands (and of `harness.runner`)."""

    OK = 0  # everything passed / nothing found
    FAILED = 1  # tests or contracts failed, lint found problems
    BAD_INPUT = 2  # unreadable or invalid input, bad options
    INTERNAL_ERROR = 3  # a bug in the kit
    NOTHING_COLLECTED = 5  # no scenario found
