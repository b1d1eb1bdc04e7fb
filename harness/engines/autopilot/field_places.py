"""Field types of places and locales: `Twilio.CITY`, `US_STATE`, `COUNTRY`, `COUNTRY_ISO_ALPHA2/3`,
`CURRENCY` and `LANGUAGE` (parsers; the tables are in `field_tables`)."""

from __future__ import annotations

import re

from harness.engines.autopilot.field_cities import find_cities, whole_city
from harness.engines.autopilot.field_numbers import parse_yes_no
from harness.engines.autopilot.field_tables import (
    ALPHA3_TO_ALPHA2,
    CODE_LOOKALIKES,
    COUNTRIES,
    COUNTRY_KEYS,
    CURRENCY_CODES,
    CURRENCY_NAMES,
    CURRENCY_SYMBOLS,
    LANGUAGE_KEYS,
    LANGUAGES,
    STATE_KEYS,
    US_STATES,
)
from harness.engines.autopilot.field_text import alternation, normalize, word_starts

_PLACE_LEADIN = re.compile(
    r"^(?:i(?:m| am) (?:flying |going |traveling |travelling |leaving |driving )?(?:from|to|in)|"
    r"i live in|i(?:m| am) from|from|to|in|its|it is|the city of|city of|the state of|state of)\s+"
)


def _place_text(text: str) -> str:
    return _PLACE_LEADIN.sub("", normalize(text))


def _longest_key(norm: str, keys: dict[str, str], pattern: re.Pattern[str]) -> str | None:
    """The value of the longest (then leftmost) key occurring as whole words in `norm`."""
    best: tuple[int, int, str] | None = None
    for start in word_starts(norm):
        match = pattern.match(norm, start)
        if match and match.end() > start:
            candidate = (start - match.end(), start, keys[match.group(0)])
            if best is None or candidate < best:
                best = candidate
    return best[2] if best else None


def parse_city(text: str) -> str | None:
    """A city named by the answer (field_cities: GeoNames' cities of 15,000+ people and our aliases)."""
    rest = _place_text(text)
    if not rest or parse_yes_no(rest) is not None:
        return None
    whole = whole_city(rest)
    if whole is not None:
        return whole
    found = find_cities(rest)
    if not found:
        return None
    return max(found, key=lambda f: (f[1] - f[0], -f[0]))[2]  # the longest name, then the first


_STATE_AT = re.compile(alternation(STATE_KEYS) + r"(?!\w)")
_CAPITAL_CODE = re.compile(r"\b[A-Z]{2,3}\b")


def parse_us_state(text: str) -> str | None:
    rest = _place_text(text)
    if rest.upper() in US_STATES:
        return US_STATES[rest.upper()]
    named = _longest_key(rest, STATE_KEYS, _STATE_AT)
    if named:
        return named
    for code in _CAPITAL_CODE.findall(text):  # "I live in PA": codes inside a sentence only in capitals
        if code in US_STATES:
            return US_STATES[code]
    return None


_COUNTRY_AT = re.compile(alternation(COUNTRY_KEYS) + r"(?!\w)")


def _country_code(text: str) -> str | None:
    rest = _place_text(text)
    upper = rest.upper().replace(" ", "")
    if upper in COUNTRIES:
        return upper
    if upper in ALPHA3_TO_ALPHA2:
        return ALPHA3_TO_ALPHA2[upper]
    named = _longest_key(rest, COUNTRY_KEYS, _COUNTRY_AT)
    if named:
        return named
    for code in _CAPITAL_CODE.findall(text):
        if code in COUNTRIES:
            return code
        if code in ALPHA3_TO_ALPHA2:
            return ALPHA3_TO_ALPHA2[code]
    return None


def parse_country(text: str, form: str) -> str | None:
    code = _country_code(text)
    if code is None:
        return None
    if form == "alpha2":
        return code
    alpha3, name = COUNTRIES[code]
    return alpha3 if form == "alpha3" else name

_CURRENCY_AT = re.compile(alternation(CURRENCY_NAMES) + r"(?!\w)")


def parse_currency(text: str) -> str | None:
    norm = normalize(text)
    if norm.upper() in CURRENCY_CODES:
        return norm.upper()
    for symbol, code in CURRENCY_SYMBOLS.items():
        if symbol in text:
            return code
    # A code inside a sentence: a whole 3-letter word, in capitals or not an English look-alike ("try").
    for token in re.findall(r"(?<![A-Za-z])[A-Za-z]{3}(?![A-Za-z])", text):
        upper = token.upper()
        if upper in CURRENCY_CODES and (token.isupper() or token.lower() not in CODE_LOOKALIKES):
            return upper
    return _longest_key(norm, CURRENCY_NAMES, _CURRENCY_AT)


_LANGUAGE_AT = re.compile(alternation(LANGUAGE_KEYS) + r"(?!\w)")


def parse_language(text: str) -> str | None:
    norm = _PLACE_LEADIN.sub("", normalize(text))
    if norm in LANGUAGES:
        return LANGUAGES[norm]
    return _longest_key(norm, LANGUAGE_KEYS, _LANGUAGE_AT)
