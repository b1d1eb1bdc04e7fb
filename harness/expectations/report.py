"""Mismatches → the text a user reads (pytest, the CLI and JUnit show the same): grouped per turn."""

from __future__ import annotations

from collections.abc import Sequence

from harness.errors import ExpectationFailed, Location
from harness.expectations.mismatch import Mismatch, show

INDENT = "  "


def format_mismatches(mismatches: Sequence[Mismatch], *, title: str | None = None) -> str:
    """A per-turn diff: each turn's mismatches under its label, each with its explanation indented.

        turn 2 ("I need towels"):
          task: expected "request_towels", got "fallback"  [hotel.scenario.yaml:14:13]
              routing: scored, confidence 0.31
              top candidates: …
        after the last turn:
          flow.path: …
    """
    lines = [title] if title else []
    scope = None
    for mismatch in mismatches:
        if mismatch.scope != scope:
            scope = mismatch.scope
            lines.append(f"{scope or mismatch.where}:")
        lines.append(INDENT + _headline(mismatch))
        if mismatch.detail:
            lines += [INDENT * 3 + line for line in mismatch.detail.splitlines()]
    return "\n".join(lines)


def _headline(mismatch: Mismatch) -> str:
    what = mismatch.path or mismatch.key or mismatch.where
    text = f"{what}: expected {show(mismatch.expected)}, got {show(mismatch.actual)}"
    where = _short_location(mismatch.location)
    return f"{text}  [{where}]" if where else text


def _short_location(location: Location | None) -> str:
    if location is None or location.path is None:
        return ""
    if location.line is None:
        return f"{location.path}#{location.pointer}"
    return f"{location.path}:{location.line}" + (f":{location.column}" if location.column else "")


def expectation_error(mismatches: Sequence[Mismatch], *, title: str | None = None) -> ExpectationFailed:
    """One `ExpectationFailed` for a scenario's mismatches (its text is `format_mismatches`)."""
    count = len(mismatches)
    heading = title or f"{count} expectation{'s' if count != 1 else ''} failed"
    located = next((m.location for m in mismatches if m.location is not None), None)
    error = ExpectationFailed(format_mismatches(mismatches, title=heading), located)
    error.mismatches = list(mismatches)  # type: ignore[attr-defined]  # for reporters (JSON, JUnit)
    return error
