"""Every regular expression a user writes (split conditions, reply expectations, lint's pattern checks) is
compiled and matched here: with the `regex` package, cached, and under a time budget.

- Flavour: `regex` in its default VERSION0 mode, which behaves like Python's `re` and also accepts what
  Studio authors copy from JavaScript/.NET/PCRE: named groups `(?<name>…)`, Unicode properties `\\p{L}`,
  possessive quantifiers and atomic groups.
- Budget: one match may take `REGEX_TIMEOUT` seconds (`AUTOPILOT_HARNESS_REGEX_TIMEOUT`, default 1). A
  catastrophic pattern (`(a+)+$` on a long input) raises `BudgetExceeded` naming the pattern and the budget
  instead of hanging the run. `regex` checks its clock periodically, so a timed-out match returns within
  a few times the budget.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import regex

from harness.budgets import BudgetExceeded, budget, how_to_raise
from harness.errors import EngineError, Location

Pattern = Any  # regex.Pattern (the package ships no type stubs)
Match = Any
PatternSyntaxError = regex.error

_SHOWN = 80  # characters of a pattern quoted in a message


def _show(pattern: str) -> str:
    return repr(pattern if len(pattern) <= _SHOWN else pattern[: _SHOWN - 1] + "…")


@lru_cache(maxsize=1024)
def _compiled(pattern: str, flags: int) -> Pattern:
    return regex.compile(pattern, flags)


def compile_pattern(pattern: str, *, ignore_case: bool = False) -> Pattern:
    """The compiled pattern (cached). Raises `PatternSyntaxError` (`regex.error`) for a bad pattern."""
    return _compiled(pattern, regex.IGNORECASE if ignore_case else 0)


def pattern_problem(pattern: str, *, ignore_case: bool = False) -> str | None:
    """Why `pattern` does not compile, or None."""
    try:
        compile_pattern(pattern, ignore_case=ignore_case)
    except PatternSyntaxError as err:
        return str(err)
    except (ValueError, OverflowError, RecursionError) as err:  # e.g. a repeat count too large to hold
        return str(err) or type(err).__name__
    return None


def regex_timeout() -> float:
    """The time budget of one match in seconds (`AUTOPILOT_HARNESS_REGEX_TIMEOUT`)."""
    return budget("REGEX_TIMEOUT")


def _run(method: str, pattern: str, text: str, ignore_case: bool, what: str,
         location: Location | None) -> Match | None:
    try:
        compiled = compile_pattern(pattern, ignore_case=ignore_case)
    except PatternSyntaxError as err:
        raise EngineError(f"{what} {_show(pattern)} is not a valid regular expression: {err}", location) from None
    seconds = regex_timeout()
    try:
        return getattr(compiled, method)(text, timeout=seconds)
    except TimeoutError:
        raise BudgetExceeded(
            f"{what} {_show(pattern)} did not finish matching a {len(text)}-character text within "
            f"{seconds:g} s (REGEX_TIMEOUT): the pattern backtracks catastrophically",
            location,
            hint="rewrite nested quantifiers such as (a+)+ or (a|aa)* (an atomic group (?>…) or a possessive "
            f"a++ stops the backtracking), or {how_to_raise('REGEX_TIMEOUT')}",
        ) from None


def search(pattern: str, text: str, *, ignore_case: bool = False, what: str = "regex",
           location: Location | None = None) -> Match | None:
    """`pattern` anywhere in `text`, under the time budget. `what` names the pattern's role in errors."""
    return _run("search", pattern, text, ignore_case, what, location)


def fullmatch(pattern: str, text: str, *, ignore_case: bool = False, what: str = "regex",
              location: Location | None = None) -> Match | None:
    """`pattern` against the whole of `text`, under the time budget."""
    return _run("fullmatch", pattern, text, ignore_case, what, location)
