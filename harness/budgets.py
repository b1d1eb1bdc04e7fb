"""Run-time budgets: every limit the engines enforce while running, in one place (docs/reliability.md).

Each limit is a module-level default that an environment variable `AUTOPILOT_HARNESS_<NAME>` raises (or
lowers) for one run; `budget(NAME)` reads it. A limit that is hit raises `BudgetExceeded`, whose message
names the limit, its value and the variable that changes it.
"""

from __future__ import annotations

import os

from harness.errors import EngineError, Location, UsageError

ENV_PREFIX = "AUTOPILOT_HARNESS_"

#: Defaults. Utterances: Twilio Conversations accepts an inbound message Body of up to 32 KB
#: (https://www.twilio.com/docs/conversations/conversations-limits); SMS bodies are at most 1600 characters.
DEFAULTS: dict[str, float] = {
    "MAX_UTTERANCE_BYTES": 32 * 1024,
    # One regex match (split conditions, reply expectations, lint): seconds of matching.
    "REGEX_TIMEOUT": 1.0,
    # One Liquid render: `for` iterations (python-liquid multiplies nested loops' lengths), bytes written to
    # the output (captures included), bytes held in assigned variables, and seconds of rendering.
    "LIQUID_LOOP_LIMIT": 10_000,
    "LIQUID_OUTPUT_LIMIT": 1_000_000,
    "LIQUID_NAMESPACE_LIMIT": 1_000_000,
    "LIQUID_RENDER_SECONDS": 2.0,
    # `{{ faker.… }}` in scenario files: the largest number passed to a provider (sizes, counts, digits;
    # value bounds such as max_value= are exempt), and the largest value generated, as text.
    "MAX_FAKER_ARGUMENT": 10_000,
    "MAX_GENERATED_CHARS": 100_000,
}


class BudgetExceeded(EngineError):
    """A run-time budget ran out (a runaway template, a catastrophic regex, a huge input)."""

    kind = "budget"


def env_name(name: str) -> str:
    """`REGEX_TIMEOUT` → `AUTOPILOT_HARNESS_REGEX_TIMEOUT`."""
    return ENV_PREFIX + name


def budget(name: str) -> float:
    """The current value of the limit `name`: its environment variable when set, else the default.

    A variable that is not a positive number is a `UsageError` naming it (exit 2, never a silent default).
    """
    default = DEFAULTS[name]
    raw = os.environ.get(env_name(name))
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0 or value != value or value == float("inf"):
        raise UsageError(f"{env_name(name)}={raw!r}: expected a positive number (the default is {default:g})")
    return value


def int_budget(name: str) -> int:
    return int(budget(name))


def how_to_raise(name: str) -> str:
    """The hint every budget error carries."""
    default = DEFAULTS[name]
    shown = f"{int(default)}" if float(default).is_integer() else f"{default:g}"
    return f"raise it with the environment variable {env_name(name)} (default {shown})"


def check_utterance(text: str, location: Location | None = None) -> str:
    """`text` when it fits the utterance cap; else `BudgetExceeded` naming the limit.

    Called where a user's message enters a conversation (runner sessions, the Autopilot dialogue), so a
    several-MB message is refused before any engine works on it.
    """
    limit = int_budget("MAX_UTTERANCE_BYTES")
    if len(text) > limit or len(text.encode("utf-8", "surrogatepass")) > limit:
        size = len(text.encode("utf-8", "surrogatepass")) if len(text) <= 4 * limit else None
        shown = f"{size} bytes" if size is not None else f"{len(text)} characters"
        raise BudgetExceeded(
            f"the user's message is {shown}; the limit is {limit} bytes (MAX_UTTERANCE_BYTES: Twilio "
            "Conversations accepts inbound message bodies of up to 32 KB)",
            location, hint=how_to_raise("MAX_UTTERANCE_BYTES"))
    return text
