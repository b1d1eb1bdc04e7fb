"""Clocks the engines read, so dates ("tomorrow") and timeouts are testable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock (UTC)."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to: `advance(seconds)`."""

    def __init__(self, start: datetime | str | None = None) -> None:
        if start is None:
            start = datetime(2023, 1, 2, 9, 0, tzinfo=UTC)  # a Monday, before Autopilot's shutdown
        elif isinstance(start, str):
            start = parse_instant(start)
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> datetime:
        self._now += timedelta(seconds=seconds)
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when if when.tzinfo else when.replace(tzinfo=UTC)


def parse_instant(text: str) -> datetime:
    """An ISO 8601 date or date-time; a naive value is taken as UTC. Raises ValueError."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def iso(when: datetime) -> str:
    """Twilio's timestamp form: 2020-04-06T08:48:05Z."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
