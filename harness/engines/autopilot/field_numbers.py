"""Field types of numbers, codes and dates: `Twilio.YES_NO`, `NUMBER`, `NUMBER_SEQUENCE`, `ALPHANUMERIC`,
`DATE`, `TIME`, `MONTH` and `DAY_OF_WEEK` (parsers and slot patterns; the rules: fieldtypes.py)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from harness.engines.autopilot.field_text import APOSTROPHES, COMMON_WORDS, alternation, normalize, word_set

YES_WORDS = ("yes", "y", "yeah", "yea", "yep", "yup", "ya", "yah", "sure", "ok", "okay", "correct", "right",
             "affirmative", "absolutely", "definitely", "certainly", "of course", "uh huh")
NO_WORDS = ("no", "n", "nope", "nah", "not", "negative", "incorrect", "wrong", "never")

_UNITS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
          "nine": 9}
_TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
          "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}
_SCALES = {"thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000}
_ORDINAL_UNITS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
                  "eighth": 8, "ninth": 9}
_ORDINAL_TEENS = {"tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
                  "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19}
_ORDINAL_TENS = {"twentieth": 20, "thirtieth": 30, "fortieth": 40, "fiftieth": 50, "sixtieth": 60,
                 "seventieth": 70, "eightieth": 80, "ninetieth": 90}
_NUMBER_WORDS = (set(_UNITS) | set(_TEENS) | set(_TENS) | set(_SCALES) | {"hundred", "hundredth"}
                 | set(_ORDINAL_UNITS) | set(_ORDINAL_TEENS) | set(_ORDINAL_TENS))
_SPOKEN_DIGITS = {**{w: str(v) for w, v in _UNITS.items()}, "oh": "0", "o": "0"}

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
MONTH_WORDS: dict[str, int] = {}
for _index, parse_name in enumerate(MONTHS, start=1):
    MONTH_WORDS[parse_name.lower()] = _index
    MONTH_WORDS[parse_name.lower()[:3]] = _index
MONTH_WORDS["sept"] = 9

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WEEKDAY_WORDS: dict[str, int] = {}
for _index, parse_name in enumerate(WEEKDAYS):
    _WEEKDAY_WORDS[parse_name.lower()] = _index
    _WEEKDAY_WORDS[parse_name.lower() + "s"] = _index  # "mondays"
    _WEEKDAY_WORDS[parse_name.lower()[:3]] = _index
for _abbr, _index in (("tues", 1), ("weds", 2), ("thur", 3), ("thurs", 3)):
    _WEEKDAY_WORDS[_abbr] = _index

_MONTH_ALT = alternation(MONTH_WORDS)
WEEKDAY_ALT = alternation(_WEEKDAY_WORDS)
_NUMBER_WORD_ALT = alternation(_NUMBER_WORDS)
_ORDINAL_WORD_ALT = alternation([*_ORDINAL_UNITS, *_ORDINAL_TEENS, *_ORDINAL_TENS])
_SMALL_NUMBER_ALT = alternation([*_UNITS, *_TEENS, *_TENS])

# Numbers written as words

def _classify(word: str) -> tuple[str, int, bool] | None:
    """(kind, value, is_ordinal) of a number word, or None."""
    for table, kind, ordinal in ((_UNITS, "unit", False), (_TEENS, "teen", False), (_TENS, "tens", False),
                                 (_ORDINAL_UNITS, "unit", True), (_ORDINAL_TEENS, "teen", True),
                                 (_ORDINAL_TENS, "tens", True), (_SCALES, "scale", False)):
        if word in table:
            return kind, table[word], ordinal
    if word in ("hundred", "hundredth"):
        return "hundred", 100, word == "hundredth"
    return None


def read_number_words(words: list[str], start: int) -> tuple[int, int, bool] | None:
    """The number spelled by `words[start:]` as (value, end index, ordinal); None if none starts there.

    A word that cannot continue the number ends it: "four thirty" reads as 4 (then 30), "twenty five" as 25.
    """
    total = current = 0
    last: str | None = None
    index = start
    ordinal = False
    while index < len(words):
        word = words[index]
        nxt = words[index + 1] if index + 1 < len(words) else ""
        if word == "and" and last in ("hundred", "scale") and nxt in _NUMBER_WORDS:
            index += 1
            continue
        if word in ("a", "an") and last is None and nxt in ("hundred", *_SCALES):
            current, last = 1, "unit"
            index += 1
            continue
        found = _classify(word)
        if found is None:
            break
        kind, value, is_ordinal = found
        if kind in ("unit", "teen"):
            if last in ("unit", "teen") or (last == "tens" and kind == "teen"):
                break
            current += value
        elif kind == "tens":
            if last in ("unit", "teen", "tens"):
                break
            current += value
        elif kind == "hundred":
            if last in ("hundred",):
                break
            current = (current or 1) * 100
        else:  # thousand, million, billion
            if last == "scale":
                break
            total += (current or 1) * value
            current = 0
        last = kind
        index += 1
        if is_ordinal:
            ordinal = True
            break
    if last is None:
        return None
    return total + current, index, ordinal


_WORD = re.compile(r"[a-z]+")


def _digitize(text: str) -> str:
    """Replace number words by digits ("half past four" → "half past 4", "march third" → "march 3")."""
    matches = list(_WORD.finditer(text))
    words = [m.group(0) for m in matches]
    out: list[str] = []
    cursor = 0
    index = 0
    while index < len(words):
        read = read_number_words(words, index) if words[index] in _NUMBER_WORDS or words[index] in (
            "a", "an") else None
        if read is None or (words[index] in ("a", "an") and read[1] == index + 1):
            index += 1
            continue
        value, end, _ordinal = read
        out.append(text[cursor:matches[index].start()])
        out.append(str(value))
        cursor = matches[end - 1].end()
        index = end
    out.append(text[cursor:])
    return "".join(out)

_AMPM = r"(?:[ap]\.?m|[ap] m)"
_TIME_PERIOD = (r"(?: (?:in the (?:morning|afternoon|evening)|at night|tonight"
                r"|this (?:morning|afternoon|evening)))?")
TIME_SLOT = (
    r"(?:(?:at )?(?:noon|midday|midnight"
    rf"|(?:half|quarter|\d{{1,2}}|{_SMALL_NUMBER_ALT})(?: minutes)? (?:past|after|to|before|til|till)"
    rf" (?:\d{{1,2}}|{_SMALL_NUMBER_ALT}|noon|midnight)"
    rf"|\d{{1,2}}[:.]\d{{2}}(?: ?{_AMPM})?"
    rf"|\d{{1,2}} ?{_AMPM}"
    rf"|{_SMALL_NUMBER_ALT}(?: {_SMALL_NUMBER_ALT})*(?: ?{_AMPM}| oclock)"
    r"|\d{3,4}(?: hours)?"
    r"|\d{1,2}(?: oclock)?"
    rf"){_TIME_PERIOD})"
)
_DAY_NUM = rf"(?:\d{{1,2}}(?:st|nd|rd|th)?|{_ORDINAL_WORD_ALT}|(?:twenty|thirty) {_ORDINAL_WORD_ALT})"
DATE_SLOT = (
    r"(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}/\d{1,2}(?:/\d{2,4})?"
    r"|(?:the )?day (?:after tomorrow|before yesterday)|today|tonight|tomorrow|yesterday"
    rf"|in (?:\d+|a|an|{_SMALL_NUMBER_ALT}) (?:days?|weeks?|months?|years?)"
    rf"|(?:(?:next|this|coming|last|on) )?{WEEKDAY_ALT}"
    rf"|{_MONTH_ALT} (?:the )?{_DAY_NUM}(?: \d{{4}})?"
    rf"|(?:the )?{_DAY_NUM}(?: of)? {_MONTH_ALT}(?: \d{{4}})?"
    rf"|{_MONTH_ALT} \d{{4}})"
)
NUMBER_SLOT = (rf"(?:-?\d+(?:,\d{{3}})*(?:\.\d+)?(?:st|nd|rd|th)?"
                rf"|(?:an? )?{_NUMBER_WORD_ALT}(?:[ -](?:and )?{_NUMBER_WORD_ALT})*)")
DIGIT_WORD_ALT = alternation([*_SPOKEN_DIGITS, "double", "triple"])
SEQUENCE_SLOT = rf"(?:(?:\d+|{DIGIT_WORD_ALT})(?:[ -](?:\d+|{DIGIT_WORD_ALT}))*)"

ALNUM_SLOT = r"(?:(?:[a-z]{1,3}[ -]?)?[a-z0-9]*\d[a-z0-9]*(?:[ -][a-z0-9]*\d[a-z0-9]*)*)"

_YES_SET = {normalize(w) for w in YES_WORDS}
_NO_SET = {normalize(w) for w in NO_WORDS}


def parse_yes_no(text: str) -> str | None:
    norm = normalize(text)
    words = norm.split()
    if not words:
        return None
    # A phrase starting with a yes/no word; two-word phrases ("of course", "uh huh") checked first.
    for candidate in (" ".join(words[:2]), words[0]):
        if candidate in _YES_SET:
            return "Yes"
        if candidate in _NO_SET:
            return "No"
    return None


_DIGIT_NUMBER = re.compile(
    r"(?<![\w.,])(-?)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?:st|nd|rd|th)?(?![\w]|[.,]\d)"
)


def _format_decimal(sign: str, whole: str, fraction: str | None) -> str | None:
    try:
        value = Decimal(sign + whole.replace(",", "") + (fraction or ""))
    except InvalidOperation:
        return None
    text = format(value.normalize(), "f") if fraction else str(int(value))
    return "0" if text in ("-0", "") else text


def parse_number(text: str) -> str | None:
    low = APOSTROPHES.sub("", text.lower())
    digit = _DIGIT_NUMBER.search(low)
    words = list(_WORD.finditer(low))
    tokens = [m.group(0) for m in words]
    for index, match in enumerate(words):
        if digit is not None and match.start() > digit.start():
            break
        read = read_number_words(tokens, index)
        if read is not None:
            return str(read[0])
    if digit is not None:
        return _format_decimal(digit.group(1), digit.group(2), digit.group(3))
    return None


_SEQUENCE_FILLERS = word_set(
    "my the number is its it code pin account card zip postal sequence digits digit please thanks "
    "thank you uh um er and"
)
_SEQUENCE_TOKEN = re.compile(r"\d+|[a-z]+|[^\s\da-z]")


def digit_runs(text: str, *, fillers: frozenset[str] | None) -> list[str] | None:
    """Digits of the text in order, grouped into runs broken by other words.

    With `fillers`, any word that is neither a digit nor a filler makes the whole text unreadable (None);
    without, such words only break runs."""
    low = APOSTROPHES.sub("", text.lower())
    runs: list[str] = []
    current: list[str] = []
    repeat = 1
    for token in _SEQUENCE_TOKEN.findall(low):
        if token.isdigit():
            current.append(token * repeat if repeat > 1 and len(token) == 1 else token)
            repeat = 1
        elif token in _SPOKEN_DIGITS:
            current.append(_SPOKEN_DIGITS[token] * repeat)
            repeat = 1
        elif token in ("double", "triple"):
            repeat = 2 if token == "double" else 3
        elif token in "+-.()/" or (fillers is not None and token in fillers):
            continue
        elif fillers is not None and not token.isalpha():
            continue  # stray punctuation
        elif fillers is not None:
            return None
        else:
            if current:
                runs.append("".join(current))
            current = []
            repeat = 1
    if current:
        runs.append("".join(current))
    return runs


def parse_number_sequence(text: str) -> str | None:
    runs = digit_runs(text, fillers=_SEQUENCE_FILLERS)
    digits = "".join(runs or [])
    return digits or None

_ALNUM_TOKEN = re.compile(r"[a-z0-9]+")


def parse_alphanumeric(text: str) -> str | None:
    low = text.lower()
    tokens = list(_ALNUM_TOKEN.finditer(low))

    def usable(token: str) -> bool:
        has_digit = any(c.isdigit() for c in token)
        return has_digit or (len(token) <= 3 and token not in COMMON_WORDS)

    index = 0
    while index < len(tokens):
        if not usable(tokens[index].group(0)):
            index += 1
            continue
        end = index + 1
        while (end < len(tokens) and usable(tokens[end].group(0))
               and re.fullmatch(r"[\s-]*", low[tokens[end - 1].end():tokens[end].start()])):
            end += 1
        run = [t.group(0) for t in tokens[index:end]]
        if any(any(c.isdigit() for c in t) for t in run):
            return "".join(run).upper()
        index = end
    return None

def parse_month(text: str) -> str | None:
    norm = normalize(text)
    if norm.isdigit() and 1 <= int(norm) <= 12:
        return MONTHS[int(norm) - 1]
    for word in norm.split():
        if word in MONTH_WORDS:
            return MONTHS[MONTH_WORDS[word] - 1]
    return None


def parse_day_of_week(text: str) -> str | None:
    for word in normalize(text).split():
        if word in _WEEKDAY_WORDS:
            return WEEKDAYS[_WEEKDAY_WORDS[word]]
    return None

# -- DATE ------------------------------------------------------------------------------------------

_ISO_DATE = re.compile(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b")
_US_DATE = re.compile(r"\b(\d{1,2})[/-](\d{1,2})(?:[/-](\d{4}|\d{2}))?\b")
_MONTH_DAY = re.compile(rf"\b({_MONTH_ALT})\s+(?:the\s+)?(\d{{1,2}})\b(?:\s+(\d{{4}})\b)?")
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})\s+(?:of\s+)?({_MONTH_ALT})\b(?:\s+(\d{{4}})\b)?")
_MONTH_YEAR = re.compile(rf"\b({_MONTH_ALT})\s+(\d{{4}})\b")
_IN_PERIOD = re.compile(r"\bin\s+(\d+|a|an)\s+(day|week|month|year)s?\b")
_PERIOD_FROM_NOW = re.compile(r"\b(\d+|a|an)\s+(day|week|month|year)s?\s+from\s+(?:now|today)\b")
_WEEKDAY = re.compile(rf"\b(?:(next|this|coming|last|on)\s+)?({WEEKDAY_ALT})\b")
_DAY_OF_MONTH = re.compile(r"\bthe\s+(\d{1,2})\b")
_ORDINAL_SUFFIX = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\b")


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _next_occurrence(month: int, day: int, today: date) -> date | None:
    """The first month/day strictly after today (Feb 29 waits for a leap year); None if never valid."""
    for year in range(today.year, today.year + 9):
        found = _safe_date(year, month, day)
        if found is not None and found > today:
            return found
    return None


def _full_year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 70 else 1900
    return year


def _add_months(start: date, months: int) -> date:
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    for day in range(start.day, 27, -1):  # clamp Jan 31 + 1 month to the end of February
        found = _safe_date(year, month, day)
        if found:
            return found
    return date(year, month, min(start.day, 28))


def _shift(today: date, amount: str, unit: str) -> date:
    count = 1 if amount in ("a", "an") else int(amount)
    if unit == "day":
        return today + timedelta(days=count)
    if unit == "week":
        return today + timedelta(weeks=count)
    return _add_months(today, count * (12 if unit == "year" else 1))


def _month_day(month_word: str, day: str, year: str | None, today: date) -> date | None:
    month = MONTH_WORDS[month_word]
    if year:
        return _safe_date(_full_year(year), month, int(day))
    return _next_occurrence(month, int(day), today)


def parse_date(text: str, today: date) -> date | None:
    """A date in `text` (see the module docstring); yearless dates and weekdays are in the future."""
    s = _ORDINAL_SUFFIX.sub(r"\1", _digitize(normalize(text)))
    if m := _ISO_DATE.search(s):
        return _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if m := _US_DATE.search(s):
        month, day = int(m.group(1)), int(m.group(2))
        if m.group(3):
            return _safe_date(_full_year(m.group(3)), month, day)
        return _next_occurrence(month, day, today) if _safe_date(2000, month, day) else None
    if m := _MONTH_DAY.search(s):
        return _month_day(m.group(1), m.group(2), m.group(3), today)
    if m := _DAY_MONTH.search(s):
        return _month_day(m.group(2), m.group(1), m.group(3), today)
    if m := _MONTH_YEAR.search(s):
        return date(int(m.group(2)), MONTH_WORDS[m.group(1)], 1)
    if re.search(r"\bday after tomorrow\b", s):
        return today + timedelta(days=2)
    if re.search(r"\bday before yesterday\b", s):
        return today - timedelta(days=2)
    if re.search(r"\b(?:today|tonight|this (?:morning|afternoon|evening))\b", s):
        return today
    if re.search(r"\btomorrow\b", s):
        return today + timedelta(days=1)
    if re.search(r"\byesterday\b", s):
        return today - timedelta(days=1)
    if m := (_IN_PERIOD.search(s) or _PERIOD_FROM_NOW.search(s)):
        return _shift(today, m.group(1), m.group(2))
    if re.search(r"\bnext week\b", s):
        return today + timedelta(weeks=1)
    if m := _WEEKDAY.search(s):
        wanted = _WEEKDAY_WORDS[m.group(2)]
        if m.group(1) == "last":
            return today - timedelta(days=(today.weekday() - wanted - 1) % 7 + 1)
        return today + timedelta(days=(wanted - today.weekday() - 1) % 7 + 1)
    if m := _DAY_OF_MONTH.search(s):
        day = int(m.group(1))
        for months_ahead in range(0, 13):
            first = _add_months(today.replace(day=1), months_ahead)
            found = _safe_date(first.year, first.month, day)
            if found and found > today:
                return found
    return None


# -- TIME ------------------------------------------------------------------------------------------

_AMPM_TEXT = re.compile(r"\b([ap])\.?\s?m\b\.?")
_RELATIVE_TIME = re.compile(
    r"\b(half|quarter|\d{1,2})(?:\s+minutes?)?\s+(past|after|to|before|til|till)\s+(\d{1,2}|noon|midnight)\b")
_CLOCK_TIME = re.compile(r"\b(\d{1,2})[:.](\d{2})\b(?:\s*([ap]m)\b)?")
_SPOKEN_TIME = re.compile(r"\b(\d{1,2})\s+([0-5]\d)\b(?:\s*([ap]m)\b)?")
_HOUR_AMPM = re.compile(r"\b(\d{1,2})\s*([ap]m)\b")
_MILITARY = re.compile(r"\b(\d{3,4})\b(?:\s*(hours|h)\b)?")
_BARE_HOUR = re.compile(r"\b(\d{1,2})\b(?:\s*oclock\b)?")
_PM_WORDS = re.compile(r"\b(?:in the (?:afternoon|evening)|at night|tonight|this (?:afternoon|evening))\b")
_AM_WORDS = re.compile(r"\b(?:in the morning|this morning)\b")


def _clock(hour: int, minute: int, marker: str | None, s: str) -> str | None:
    if marker:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if marker == "pm" else 0)
    elif _PM_WORDS.search(s) and hour < 12:
        hour += 12
    elif _AM_WORDS.search(s) and hour == 12:
        hour = 0
    if hour == 24 and minute == 0:
        hour = 0
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return f"{hour:02d}:{minute:02d}"


def parse_time(text: str) -> str | None:
    s = APOSTROPHES.sub("", text.lower())
    s = _AMPM_TEXT.sub(lambda m: m.group(1) + "m", s).replace("o clock", "oclock")
    s = _digitize(s)
    marker_match = re.search(r"\b([ap]m)\b", s)
    marker = marker_match.group(1) if marker_match else None
    if re.search(r"\b(?:noon|midday)\b", s) and not _RELATIVE_TIME.search(s):
        return "12:00"
    if re.search(r"\bmidnight\b", s) and not _RELATIVE_TIME.search(s):
        return "00:00"
    if m := _RELATIVE_TIME.search(s):
        amount = {"half": 30, "quarter": 15}.get(m.group(1))
        minutes = amount if amount is not None else int(m.group(1))
        target = {"noon": 12, "midnight": 0}.get(m.group(3))
        hour = target if target is not None else int(m.group(3))
        if m.group(2) in ("to", "before", "til", "till"):
            hour, minutes = (hour - 1) % 24, 60 - minutes
        if target is not None:
            return f"{hour:02d}:{minutes:02d}" if 0 <= minutes <= 59 else None
        return _clock(hour, minutes, marker, s)
    if m := _CLOCK_TIME.search(s):
        return _clock(int(m.group(1)), int(m.group(2)), m.group(3) or marker, s)
    if m := _SPOKEN_TIME.search(s):  # "four thirty pm" → "4 30 pm" (before "30 pm" reads as an hour)
        return _clock(int(m.group(1)), int(m.group(2)), m.group(3) or marker, s)
    if m := _HOUR_AMPM.search(s):
        return _clock(int(m.group(1)), 0, m.group(2), s)
    if m := _MILITARY.search(s):
        digits = m.group(1)
        return _clock(int(digits[:-2]), int(digits[-2:]), marker, s)
    if m := _BARE_HOUR.search(s):
        return _clock(int(m.group(1)), 0, marker, s)
    return None
