"""`FieldResolver`: built-in and custom field types behind one interface (parse, slot pattern, canonical
value, values inside an utterance); the rules are in fieldtypes.py's docstring."""

from __future__ import annotations

import re
from collections.abc import Callable

from harness.clock import Clock
from harness.engines.autopilot.field_cities import MAX_CITY_WORDS, find_cities
from harness.engines.autopilot.field_numbers import (
    ALNUM_SLOT,
    DATE_SLOT,
    MONTH_WORDS,
    NO_WORDS,
    NUMBER_SLOT,
    SEQUENCE_SLOT,
    TIME_SLOT,
    WEEKDAY_ALT,
    YES_WORDS,
    parse_alphanumeric,
    parse_date,
    parse_day_of_week,
    parse_month,
    parse_number,
    parse_number_sequence,
    parse_time,
    parse_yes_no,
)
from harness.engines.autopilot.field_people import (
    EMAIL_SLOT,
    NAME_SLOT,
    PHONE_SLOT,
    parse_email,
    parse_name,
    parse_phone_number,
)
from harness.engines.autopilot.field_places import (
    parse_city,
    parse_country,
    parse_currency,
    parse_language,
    parse_us_state,
)
from harness.engines.autopilot.field_tables import (
    COUNTRIES,
    COUNTRY_KEYS,
    CURRENCY_CODES,
    CURRENCY_NAMES,
    LANGUAGE_KEYS,
    LANGUAGES,
    STATE_KEYS,
    US_STATES,
)
from harness.engines.autopilot.field_text import alternation, normalize, word_starts
from harness.errors import EngineError
from harness.models.assistant import Assistant, FieldType
from harness.models.field_types import BUILTIN_FIELD_TYPES, builtin_name

_BUILTIN_SLOTS: dict[str, str] = {
    "Twilio.YES_NO": alternation(normalize(w) for w in (*YES_WORDS, *NO_WORDS)),
    "Twilio.NUMBER": NUMBER_SLOT,
    "Twilio.NUMBER_SEQUENCE": SEQUENCE_SLOT,
    "Twilio.ALPHANUMERIC": ALNUM_SLOT,
    "Twilio.PHONE_NUMBER": PHONE_SLOT,
    "Twilio.DATE": DATE_SLOT,
    "Twilio.TIME": TIME_SLOT,
    "Twilio.FIRST_NAME": NAME_SLOT,
    "Twilio.LAST_NAME": NAME_SLOT,
    "Twilio.EMAIL": EMAIL_SLOT,
    # Broad (one to MAX_CITY_WORDS words without digits); parse_city confirms against the city list.
    "Twilio.CITY": rf"[^\W\d_][\w.'-]*(?: [^\W\d_][\w.'-]*){{0,{MAX_CITY_WORDS - 1}}}",
    "Twilio.US_STATE": alternation([*STATE_KEYS, *(c.lower() for c in US_STATES)]),
    "Twilio.COUNTRY": alternation([*COUNTRY_KEYS, *(c.lower() for c in COUNTRIES),
                                    *(a3.lower() for a3, _ in COUNTRIES.values())]),
    "Twilio.MONTH": alternation(MONTH_WORDS),
    "Twilio.DAY_OF_WEEK": WEEKDAY_ALT,
    "Twilio.CURRENCY": alternation([*CURRENCY_NAMES, *(c.lower() for c in CURRENCY_CODES)]),
    "Twilio.LANGUAGE": alternation([*LANGUAGE_KEYS, *LANGUAGES]),
}
_BUILTIN_SLOTS["Twilio.COUNTRY_ISO_ALPHA2"] = _BUILTIN_SLOTS["Twilio.COUNTRY"]
_BUILTIN_SLOTS["Twilio.COUNTRY_ISO_ALPHA3"] = _BUILTIN_SLOTS["Twilio.COUNTRY"]
assert set(_BUILTIN_SLOTS) == BUILTIN_FIELD_TYPES

# Built-in types whose values stand out inside a sentence; the router looks for them in utterances.
# Names (any word) and lenient cities would match almost anything, so they only fill tags of samples.
DISTINCTIVE_BUILTINS = frozenset(BUILTIN_FIELD_TYPES - {"Twilio.FIRST_NAME", "Twilio.LAST_NAME"})

class _CustomType:
    """A custom type prepared for matching: normalised value/synonym → canonical value."""

    def __init__(self, field_type: FieldType) -> None:
        canonical_rows = {v.value.lower(): v.value for v in field_type.values if not v.synonym_of}
        self.lookup: dict[str, str] = {}
        for v in field_type.values:
            # A synonym resolves to the canonical row as the export spells it (case-insensitive match).
            target = canonical_rows.get(v.synonym_of.lower(), v.synonym_of) if v.synonym_of else v.value
            key = normalize(v.value)
            if key and key not in self.lookup:
                self.lookup[key] = target
        self.pattern = alternation(self.lookup)
        self.at = re.compile(self.pattern + r"(?!\w)")


class FieldResolver:
    """Reads text as values of built-in and custom field types (see the module docstring for the rules)."""

    def __init__(self, assistant: Assistant, clock: Clock) -> None:
        self.assistant = assistant
        self.clock = clock
        self._custom: dict[str, _CustomType] = {
            ft.unique_name: _CustomType(ft) for ft in assistant.field_types
        }
        self._parsers: dict[str, Callable[[str], str | None]] = {
            "Twilio.YES_NO": parse_yes_no,
            "Twilio.NUMBER": parse_number,
            "Twilio.NUMBER_SEQUENCE": parse_number_sequence,
            "Twilio.ALPHANUMERIC": parse_alphanumeric,
            "Twilio.PHONE_NUMBER": parse_phone_number,
            "Twilio.DATE": self._date,
            "Twilio.TIME": parse_time,
            "Twilio.FIRST_NAME": lambda text: parse_name(text, first=True),
            "Twilio.LAST_NAME": lambda text: parse_name(text, first=False),
            "Twilio.EMAIL": parse_email,
            "Twilio.CITY": parse_city,
            "Twilio.US_STATE": parse_us_state,
            "Twilio.COUNTRY": lambda text: parse_country(text, "name"),
            "Twilio.COUNTRY_ISO_ALPHA2": lambda text: parse_country(text, "alpha2"),
            "Twilio.COUNTRY_ISO_ALPHA3": lambda text: parse_country(text, "alpha3"),
            "Twilio.MONTH": parse_month,
            "Twilio.DAY_OF_WEEK": parse_day_of_week,
            "Twilio.CURRENCY": parse_currency,
            "Twilio.LANGUAGE": parse_language,
        }

    # -- type names -------------------------------------------------------------------------------

    def type_key(self, field_type: str) -> str:
        """The type's canonical name: a custom type's unique name or a built-in name (SIDs and `Twilio.Number`
        spellings accepted). Raises EngineError for an unknown type."""
        if field_type in self._custom:
            return field_type
        builtin = builtin_name(field_type, ignore_case=True)
        if builtin is not None:
            return builtin
        custom = ", ".join(sorted(self._custom)) or "none"
        raise EngineError(
            f"unknown field type {field_type!r} (Twilio error 90104)",
            self.assistant.location(),
            hint=f"expected a built-in Twilio.* type or a custom type of {self.assistant.unique_name} "
                 f"(custom types: {custom})",
        )

    def is_custom(self, field_type: str) -> bool:
        return self.type_key(field_type) in self._custom

    # -- the three questions ----------------------------------------------------------------------

    def parse(self, field_type: str, text: str) -> str | None:
        """The answer `text` as a value of `field_type`, or None when it is not one."""
        key = self.type_key(field_type)
        custom = self._custom.get(key)
        if custom is not None:
            return _custom_value(custom, text)
        return self._parsers[key](text)

    def slot_pattern(self, field_type: str) -> str:
        """A regex fragment without capturing groups for a `{field}` tag, matched against `normalize(text)`.

        Custom types: their values and synonyms, longest first. Built-ins: a broad pattern whose matches are
        confirmed by `parse` (so a slot that looks right but reads as nothing does not match)."""
        key = self.type_key(field_type)
        custom = self._custom.get(key)
        return custom.pattern if custom is not None else _BUILTIN_SLOTS[key]

    def canonical(self, field_type: str, matched_text: str) -> str:
        """The value a slot resolves to; text the type cannot read is returned stripped, as matched."""
        value = self.parse(field_type, matched_text)
        return value if value is not None else matched_text.strip()

    def resolve_slot(self, field_type: str, matched_text: str) -> str | None:
        """Like `canonical`, but None when the matched text is not a value of the type (the router then
        rejects the match)."""
        return self.parse(field_type, matched_text)

    def find_values(self, field_type: str, normalized: str) -> list[tuple[int, int, str]]:
        """Values of the type inside `normalize`d text: (start, end, canonical), the longest at each word
        start, in order of position. Used by the router to spot fields in free-form utterances."""
        key = self.type_key(field_type)
        custom = self._custom.get(key)
        found: list[tuple[int, int, str]] = []
        if custom is not None:
            for start in word_starts(normalized):
                match = custom.at.match(normalized, start)
                if match and match.end() > start:
                    found.append((start, match.end(), custom.lookup[match.group(0)]))
            return found
        if key == "Twilio.CITY":  # a dictionary walk: the city list is too long for one regex
            return find_cities(normalized)
        at = _builtin_at(key)
        for start in word_starts(normalized):
            match = at.match(normalized, start)
            if match and match.end() > start:
                value = self.parse(key, match.group(0))
                if value is not None:
                    found.append((start, match.end(), value))
        return found

    # -- DATE needs the clock ---------------------------------------------------------------------

    def _date(self, text: str) -> str | None:
        found = parse_date(text, self.clock.now().date())
        return found.isoformat() if found else None

_BUILTIN_AT: dict[str, re.Pattern[str]] = {}

def _builtin_at(key: str) -> re.Pattern[str]:
    if key not in _BUILTIN_AT:
        _BUILTIN_AT[key] = re.compile(_BUILTIN_SLOTS[key] + r"(?![\w])")
    return _BUILTIN_AT[key]


def _custom_value(custom: _CustomType, text: str) -> str | None:
    norm = normalize(text)
    if norm in custom.lookup:
        return custom.lookup[norm]
    best: tuple[int, int, str] | None = None  # (-length, start, value): longest, then leftmost
    for start in word_starts(norm):
        match = custom.at.match(norm, start)
        if match and match.end() > start:
            candidate = (start - match.end(), start, custom.lookup[match.group(0)])
            if best is None or candidate < best:
                best = candidate
    return best[2] if best else None
