"""The `split-based-on` widget: Studio's 17 condition types and how the matching transition is chosen.

The caller renders the Liquid first (`properties.input`, which every real flow also stores as the
condition's single `arguments` entry, and any Liquid in `value`); this module compares plain text.

Studio's comparison rules (reference/studio.md §2.3, §3.3; the table is in docs/liquid-and-splits.md):

- Text is compared **trimmed and case-insensitively** ("Studio conditions are not case-sensitive and
  automatically trim leading and trailing spaces of the values").
- `equal_to`, `not_equal_to`, `matches_any_of`, `does_not_match_any_of` compare **as numbers when both
  sides are plain numbers** ("1" equals "1.0"), else as text [uncertain: Studio documents numbers only for
  less/greater; `SplitRules(numeric_equality=False)` compares text only]. A plain number has no leading
  '+' and no leading zero ("0" and "0.5" are fine), so phone numbers ("+15555550100" vs "15555550100")
  and codes ("007" vs "7", zip "02134") stay text: equal only when written the same.
- `matches_any_of` / `does_not_match_any_of`: `value` is a comma-separated list; each item is trimmed
  and empty items are ignored.
- `is_blank` / `is_not_blank` ignore `value` (the console stores a label such as "Is Blank").
- `regex`: case-insensitive and **whole-string** (`fullmatch`) [D: TW-AI;
  `SplitRules(regex_fullmatch=False)` searches anywhere instead]. A bad pattern is an `EngineError`.
  Patterns are compiled by `harness.patterns` (the `regex` package: `(?<name>…)` and `\\p{L}` work) and
  matched under its time budget: a catastrophic pattern raises `BudgetExceeded` naming it.
- `less_than` / `greater_than` are numeric; when either side is not a number the condition does not
  match [uncertain: undocumented].
- `is_before_time` / `is_after_time` compare 24-hour times `HH:MM` (seconds and `am`/`pm` accepted; an
  ISO date-time input contributes its time of day); `is_before_date` / `is_after_date` compare
  `YYYY-MM-DD` dates (an ISO date-time contributes its date). Wall-clock values are compared as written,
  no time-zone conversion; strict before/after; unparseable text does not match [uncertain].
- All conditions of one transition must hold (real transitions have exactly one); a `match` transition
  without conditions never matches [uncertain].
- Transitions are tried in array order; the first `match` whose conditions hold wins, else `noMatch`
  [uncertain: evaluation order is undocumented].
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from harness.errors import EngineError, Location
from harness.patterns import fullmatch, pattern_problem, search

CONDITION_TYPES = (
    "equal_to",
    "not_equal_to",
    "matches_any_of",
    "does_not_match_any_of",
    "is_blank",
    "is_not_blank",
    "regex",
    "contains",
    "does_not_contain",
    "starts_with",
    "does_not_start_with",
    "less_than",
    "greater_than",
    "is_before_time",
    "is_after_time",
    "is_before_date",
    "is_after_date",
)

NO_MATCH = "noMatch"
MATCH = "match"


@dataclass(frozen=True, slots=True)
class SplitRules:
    """The choices Studio leaves undocumented, in one place (defaults: docs/liquid-and-splits.md)."""

    numeric_equality: bool = True  # "1" equal_to "1.0"
    regex_fullmatch: bool = True  # the whole (trimmed) input must match


DEFAULT_RULES = SplitRules()


@dataclass(frozen=True, slots=True)
class ConditionResult:
    """One condition's outcome, for transcripts and failure diffs."""

    condition: Mapping[str, Any]
    matched: bool
    reason: str

    def __iter__(self):  # unpacks as (condition, matched, reason)
        return iter((self.condition, self.matched, self.reason))


# --- parsing values ------------------------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*([ap]\.?m\.?)?", re.IGNORECASE)


def _number(text: str) -> float | None:
    """`text` (already trimmed) as a number; None for anything else (including "nan", "inf", "")."""
    if not _NUMBER.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


# What equality treats as a number: no sign but '-', no leading zero, so identifiers stay text.
_PLAIN_NUMBER = re.compile(r"-?(?:(?:0|[1-9]\d*)(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?")


def _plain_number(text: str) -> float | None:
    """`text` as a number for equality: None for '+1555…', '007' and anything `_number` refuses."""
    return _number(text) if _PLAIN_NUMBER.fullmatch(text) else None


def _time_of_day(text: str) -> time | None:
    match = _TIME.fullmatch(text)
    if match is None:
        moment = _iso_datetime(text)
        return moment.time().replace(tzinfo=None) if moment and "T" in text.upper() else None
    hour, minute = int(match[1]), int(match[2])
    second = int(match[3] or 0)
    meridiem = (match[4] or "").replace(".", "").lower()
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return time(hour, minute, second)


def _calendar_date(text: str) -> date | None:
    moment = _iso_datetime(text)
    return moment.date() if moment else None


def _iso_datetime(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None


def _show(text: str) -> str:
    return repr(text)


# --- the operators -------------------------------------------------------------------------------------
# Each takes the trimmed input and value (original case) and returns (matched, how it was compared).


def _equal(left: str, right: str, rules: SplitRules) -> tuple[bool, str]:
    if rules.numeric_equality:
        a, b = _plain_number(left), _plain_number(right)
        if a is not None and b is not None:
            return a == b, " (as numbers)"
    return left.casefold() == right.casefold(), ""


def _list_items(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _matches_any(left: str, right: str, rules: SplitRules) -> tuple[bool, str]:
    for item in _list_items(right):
        if _equal(left, item, rules)[0]:
            return True, f" (item {_show(item)})"
    return False, ""


def _compare_numbers(left: str, right: str, wanted: Callable[[float, float], bool]) -> tuple[bool, str]:
    a, b = _number(left), _number(right)
    if a is None or b is None:
        which = _show(left) if a is None else _show(right)
        return False, f" ({which} is not a number)"
    return wanted(a, b), " (as numbers)"


def _compare_parsed(
    left: str, right: str, parse: Callable[[str], Any], kind: str, before: bool
) -> tuple[bool, str]:
    a, b = parse(left), parse(right)
    if a is None or b is None:
        which = _show(left) if a is None else _show(right)
        return False, f" ({which} is not a {kind})"
    return (a < b if before else a > b), f" (as {kind}s)"


def _regex(left: str, right: str, rules: SplitRules) -> tuple[bool, str]:
    problem = pattern_problem(right, ignore_case=True)
    if problem is not None:
        raise EngineError(
            f"split condition regex {_show(right)} is not a valid regular expression: {problem}",
            hint="Studio regexes are matched against the whole input, ignoring case",
        )
    # Time-budgeted (harness.patterns): a catastrophic pattern stops the run with BudgetExceeded.
    match = fullmatch if rules.regex_fullmatch else search
    found = match(right, left, ignore_case=True, what="split condition regex")
    return found is not None, ""


def _negate(operator: Callable[[str, str, SplitRules], tuple[bool, str]]):
    def negated(left: str, right: str, rules: SplitRules) -> tuple[bool, str]:
        matched, how = operator(left, right, rules)
        return not matched, how

    return negated


def _contains(left: str, right: str, _rules: SplitRules) -> tuple[bool, str]:
    return right.casefold() in left.casefold(), ""


def _starts_with(left: str, right: str, _rules: SplitRules) -> tuple[bool, str]:
    return left.casefold().startswith(right.casefold()), ""


def _is_blank(left: str, _right: str, _rules: SplitRules) -> tuple[bool, str]:
    return left == "", ""


_OPERATORS: dict[str, Callable[[str, str, SplitRules], tuple[bool, str]]] = {
    "equal_to": _equal,
    "not_equal_to": _negate(_equal),
    "matches_any_of": _matches_any,
    "does_not_match_any_of": _negate(_matches_any),
    "is_blank": _is_blank,
    "is_not_blank": _negate(_is_blank),
    "regex": _regex,
    "contains": _contains,
    "does_not_contain": _negate(_contains),
    "starts_with": _starts_with,
    "does_not_start_with": _negate(_starts_with),
    "less_than": lambda a, b, _r: _compare_numbers(a, b, lambda x, y: x < y),
    "greater_than": lambda a, b, _r: _compare_numbers(a, b, lambda x, y: x > y),
    "is_before_time": lambda a, b, _r: _compare_parsed(a, b, _time_of_day, "time", before=True),
    "is_after_time": lambda a, b, _r: _compare_parsed(a, b, _time_of_day, "time", before=False),
    "is_before_date": lambda a, b, _r: _compare_parsed(a, b, _calendar_date, "date", before=True),
    "is_after_date": lambda a, b, _r: _compare_parsed(a, b, _calendar_date, "date", before=False),
}
_VALUELESS = frozenset({"is_blank", "is_not_blank"})
assert set(_OPERATORS) == set(CONDITION_TYPES)


# --- public API ----------------------------------------------------------------------------------------


def _get(obj: Any, key: str, default: Any = None) -> Any:
    """A field of a JSON mapping or of a model object (the flow loader may give either)."""
    if isinstance(obj, Mapping):
        return obj.get(key, default)
    return getattr(obj, key, default)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def explain(
    condition: Mapping[str, Any], input_value: object, *, rules: SplitRules = DEFAULT_RULES
) -> ConditionResult:
    """Evaluate one condition against the rendered input and say why, e.g.
    `'true' equal_to 'true' → matched`.

    `condition` is `{type, value, arguments, friendly_name}` with `value` already rendered.
    Raises `EngineError` for an unknown condition type or an invalid regex.
    """
    kind = _get(condition, "type")
    operator = _OPERATORS.get(kind) if isinstance(kind, str) else None
    if operator is None:
        raise EngineError(
            f"unknown split condition type {kind!r}",
            hint="expected one of " + ", ".join(CONDITION_TYPES),
        )
    left = _text(input_value).strip()
    right = _text(_get(condition, "value", "")).strip()
    matched, how = operator(left, right, rules)
    outcome = "matched" if matched else "no match"
    if kind in _VALUELESS:
        reason = f"{_show(left)} {kind}{how} → {outcome}"
    else:
        reason = f"{_show(left)} {kind} {_show(right)}{how} → {outcome}"
    return ConditionResult(condition, matched, reason)


def evaluate(condition: Mapping[str, Any], input_value: object, *, rules: SplitRules = DEFAULT_RULES) -> bool:
    """Does `condition` hold for the rendered `input_value`? (See `explain` for the reason.)"""
    return explain(condition, input_value, rules=rules).matched


def first_match(
    transitions: Iterable[Any],
    input_value: object,
    *,
    render_value: Callable[[str], str] | None = None,
    rules: SplitRules = DEFAULT_RULES,
    location: Location | None = None,
    widget: str | None = None,
) -> tuple[Any, list[tuple[Mapping[str, Any], bool, str]]]:
    """The transition a split takes for `input_value`, and the trace of every condition evaluated.

    `transitions` are the state's transitions (JSON mappings or model objects with `event`,
    `conditions`, `next`). `render_value`, when given, renders Liquid inside a condition's `value`
    (`"{{widgets.http.parsed.sites.size}}"`) before comparing; it is only called for values holding
    markup. Returns the first `match` transition whose conditions all hold, else the `noMatch`
    transition, else a bare `{"event": "noMatch"}` (no `next`: the execution ends).
    `location` (the state's) is used to place errors at `…/transitions/<i>/conditions/<j>`; `widget`
    (`"state 'x' (split-based-on)"`) prefixes their message, with the transition and condition numbers.
    """
    trace: list[tuple[Mapping[str, Any], bool, str]] = []
    no_match: Any = None
    for index, transition in enumerate(transitions):
        event = _get(transition, "event")
        if event == NO_MATCH:
            if no_match is None:
                no_match = transition
            continue
        if event != MATCH:
            continue
        conditions = _get(transition, "conditions") or ()
        if not conditions:
            trace.append(({}, False, f"transition {index} has no conditions → no match"))
            continue
        holds = True
        for number, condition in enumerate(conditions):
            try:
                if render_value is not None:
                    value = _get(condition, "value", "")
                    if isinstance(value, str) and ("{{" in value or "{%" in value):
                        condition = {**_as_dict(condition), "value": render_value(value)}
                result = explain(condition, input_value, rules=rules)
            except EngineError as err:
                if location is not None and err.location is None:
                    err.location = location.child("transitions", index, "conditions", number)
                if widget is not None and not err.message.startswith("state '"):
                    err.message = f"{widget}, transition {index} condition {number}: {err.message}"
                    err.args = (err.message,)
                raise
            trace.append((result.condition, result.matched, result.reason))
            if not result.matched:
                holds = False
                break
        if holds:
            return transition, trace
    return (no_match if no_match is not None else {"event": NO_MATCH}), trace


def _as_dict(condition: Any) -> dict[str, Any]:
    if isinstance(condition, Mapping):
        return dict(condition)
    return {key: _get(condition, key) for key in ("friendly_name", "arguments", "type", "value")}
