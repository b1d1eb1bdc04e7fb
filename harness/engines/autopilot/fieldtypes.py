"""Field values: Autopilot's 19 built-in field types and an assistant's custom types.

`FieldResolver(assistant, clock)` answers three questions about a field type:

- `parse(field_type, text)`: the whole answer text (a collect answer) read as a value of the type, or
  None when it is not one (the collect then counts a failed attempt);
- `slot_pattern(field_type)`: a regex fragment (no capturing groups) for a `{field}` tag of a sample,
  matched against `normalize(utterance)`;
- `canonical(field_type, matched_text)`: what a slot that matched resolves to (`Field_<f>_Value`).

Every value is a string. Twilio's page of built-in types is gone (docs/field-types.md has the table of
inputs → values and the evidence; /work/shared/reference/field-types.md has the sources), so most rules
below are our choice, made deterministic on purpose. Summary:

- Custom types: a value or a synonym, case-insensitively, gives the canonical value (`synonymOf`); the
  whole answer, or failing that the longest whole-word value inside the answer ("a towel please").
- `Twilio.YES_NO`: "Yes"/"No" from yes/no words or phrases starting with one ("yeah sure", "nope").
- `Twilio.NUMBER`: the first number, digits or English words, as a plain decimal ("3 large towels" →
  "3", "twenty five" → "25", "1,500" → "1500"); ordinals count ("third" → "3").
- `Twilio.NUMBER_SEQUENCE`: every digit in order, leading zeros kept ("oh four one two" → "0412").
- `Twilio.ALPHANUMERIC`: the run of letter/digit groups around a digit, upper-cased ("ab 12-34" → "AB1234").
- `Twilio.PHONE_NUMBER`: 7–15 digits, digits only ("+1 (415) 555-0100" → "14155550100").
- `Twilio.DATE`: YYYY-MM-DD against the clock's today; yearless dates and weekdays mean the next one
  strictly after today ("tomorrow", "next friday", "March 3rd", "7/1", "2023-03-04", "in 2 weeks").
- `Twilio.TIME`: HH:MM, 24-hour ("4pm", "4:30 p.m.", "half past four", "noon", "4 in the afternoon").
- `Twilio.FIRST_NAME` / `LAST_NAME`: lead-ins removed ("my name is"), first / last word, first letter
  upper-cased.
- `Twilio.EMAIL`: the first address, lower-cased; spoken "john dot smith at example dot com" too.
- `Twilio.CITY`: a bundled list (aliases kept as said: "nyc" → "NYC"), else — leniently — any 1–4 word
  answer without digits, title-cased. In samples only the list matches (a lenient slot would swallow
  every short utterance).
- `Twilio.US_STATE`, `COUNTRY`, `COUNTRY_ISO_ALPHA2/3`, `MONTH`, `DAY_OF_WEEK`, `CURRENCY`,
  `LANGUAGE`: names, abbreviations and codes from small built-in tables → a canonical name or code.
  Two/three-letter codes that are also English words ("in", "it", "us") count only as the whole answer
  or when written in capitals.

Unknown type names raise `EngineError` (the loader rejects them earlier; reaching here is a caller bug).

Layout (this module is a facade that re-exports the names callers use): `field_text` (normalisation and
word tables), `field_tables` (our country, state, currency, language and city tables), one module per
family of parsers — `field_numbers` (numbers, codes, dates and times), `field_places` (places and locales),
`field_people` (names and contact details) — and `field_resolver` (`FieldResolver`).
"""

from __future__ import annotations

from harness.engines.autopilot.field_numbers import (
    MONTHS,
    NO_WORDS,
    WEEKDAYS,
    YES_WORDS,
    parse_date,
    read_number_words,
)
from harness.engines.autopilot.field_resolver import DISTINCTIVE_BUILTINS, FieldResolver
from harness.engines.autopilot.field_tables import COUNTRIES, CURRENCY_CODES, LANGUAGES, US_STATES
from harness.engines.autopilot.field_text import normalize, word_set

__all__ = [
    "COUNTRIES",
    "CURRENCY_CODES",
    "DISTINCTIVE_BUILTINS",
    "LANGUAGES",
    "MONTHS",
    "NO_WORDS",
    "US_STATES",
    "WEEKDAYS",
    "YES_WORDS",
    "FieldResolver",
    "normalize",
    "parse_date",
    "read_number_words",
    "word_set",
]
