"""Clocks the engines read, so dates ("tomorrow") and timeouts are testable.

A `FixedClock` stays inside an explicit range, so a clock at year 9999 or a huge `wait` is refused with a
message naming the value and the range instead of overflowing Python's datetime later (in a timeout's
deadline, a Liquid date filter or the next `wait`).
"""

from __future__ import annotations

import math
import os
from datetime import UTC, datetime, timedelta
from typing import Protocol

from harness.errors import UsageError

# The instants a controllable clock may show. Twilio's timestamps start at the Unix epoch; the upper end
# leaves ~7000 years of headroom below datetime.max (year 9999) for deadlines computed from the clock.
# Not configurable: no conversation needs a date outside it.
CLOCK_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
CLOCK_LATEST = datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)

# The longest single `wait` (one advance of the clock): a year and a day, longer than any Twilio timeout
# (Studio ends an execution after 30 days, Autopilot a dialogue after 4 idle hours).
DEFAULT_MAX_WAIT_SECONDS = 366 * 86400.0
MAX_WAIT_ENV = "AUTOPILOT_HARNESS_MAX_WAIT_SECONDS"


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock (UTC)."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to: `advance(seconds)`; always within CLOCK_EARLIEST…CLOCK_LATEST."""

    def __init__(self, start: datetime | str | None = None) -> None:
        if start is None:
            start = datetime(2023, 1, 2, 9, 0, tzinfo=UTC)  # a Monday, before Autopilot's shutdown
        elif isinstance(start, str):
            start = parse_clock(start)
        self._now = check_instant(start if start.tzinfo else start.replace(tzinfo=UTC))

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> datetime:
        """Let `seconds` pass (0 to max_wait_seconds()); UsageError naming the value and limit otherwise."""
        limit = max_wait_seconds()
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not math.isfinite(seconds) \
                or seconds < 0 or seconds > limit:
            raise UsageError(
                f"wait {_show_seconds(seconds)}: a wait must be between 0 and {_show_seconds(limit)}",
                hint=f"a longer wait is never needed to fire a Twilio timeout; to allow one anyway set "
                f"{MAX_WAIT_ENV}=SECONDS",
            )
        later = self._now + timedelta(seconds=seconds)  # no overflow: now <= CLOCK_LATEST, seconds <= the span
        if later > CLOCK_LATEST:
            raise UsageError(
                f"wait {_show_seconds(seconds)}: the clock would pass {iso(CLOCK_LATEST)} (now {iso(self._now)}); "
                f"the clock's range is {iso(CLOCK_EARLIEST)} to {iso(CLOCK_LATEST)}",
                hint="start the clock earlier (`clock:` / --clock) or wait less",
            )
        self._now = later
        return self._now

    def set(self, when: datetime) -> None:
        self._now = check_instant(when if when.tzinfo else when.replace(tzinfo=UTC))


def max_wait_seconds() -> float:
    """The longest single wait: DEFAULT_MAX_WAIT_SECONDS, or AUTOPILOT_HARNESS_MAX_WAIT_SECONDS."""
    raw = os.environ.get(MAX_WAIT_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_WAIT_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise UsageError(f"{MAX_WAIT_ENV}={raw!r}: expected a positive number of seconds")
    # The clock's range still bounds where a wait can land, so any finite value is safe here.
    return min(value, (CLOCK_LATEST - CLOCK_EARLIEST).total_seconds())


def check_instant(when: datetime, *, what: str = "clock", shown: str | None = None) -> datetime:
    """`when` (aware) if it is within CLOCK_EARLIEST…CLOCK_LATEST; a UsageError naming it and the range."""
    if not CLOCK_EARLIEST <= when <= CLOCK_LATEST:
        raise UsageError(
            f"{what} {shown or when.isoformat()}: outside the clock's range "
            f"{iso(CLOCK_EARLIEST)} to {iso(CLOCK_LATEST)}",
            hint="pick a start time within the range (`clock:` in a scenario file, --clock in chat)",
        )
    return when


def parse_instant(text: str) -> datetime:
    """An ISO 8601 date or date-time; a naive value is taken as UTC. Raises ValueError."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_clock(text: str, *, what: str = "clock") -> datetime:
    """A clock's start: an ISO 8601 instant within the clock's range. UsageError naming the text otherwise."""
    try:
        value = parse_instant(text)
    except ValueError:
        raise UsageError(f"{what} {text!r}: expected an ISO 8601 date-time such as 2024-05-01T09:00:00Z") from None
    return check_instant(value, what=what, shown=repr(text))


def iso(when: datetime) -> str:
    """Twilio's timestamp form: 2020-04-06T08:48:05Z."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _show_seconds(seconds: object) -> str:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        return repr(seconds)
    if not math.isfinite(seconds):
        return str(seconds)
    text = f"{seconds:.0f} s" if seconds == int(seconds) else f"{seconds} s"
    return f"{text} ({seconds / 86400:g} days)" if abs(seconds) >= 86400 else text
