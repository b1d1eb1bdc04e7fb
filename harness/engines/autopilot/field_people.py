"""Field types of people and contact details: `Twilio.FIRST_NAME`, `LAST_NAME`, `EMAIL` and `PHONE_NUMBER`
(parsers and slot patterns)."""

from __future__ import annotations

import re

from harness.engines.autopilot.field_numbers import DIGIT_WORD_ALT, digit_runs, parse_yes_no
from harness.engines.autopilot.field_text import normalize

PHONE_SLOT = rf"(?:\+?\d[\d .()-]{{5,}}\d|{DIGIT_WORD_ALT}(?: (?:\d+|{DIGIT_WORD_ALT})){{6,}})"
EMAIL_SLOT = (r"(?:[\w.%+-]+@[\w-]+(?:\.[\w-]+)+"
               r"|\w+(?: (?:dot|underscore|dash) \w+)* at \w+(?: dot \w+)+)")

NAME_SLOT = r"(?:[^\W\d_][\w'-]*)"

def parse_phone_number(text: str) -> str | None:
    for run in digit_runs(text, fillers=None) or []:
        if 7 <= len(run) <= 15:
            return run
    return None

_NAME_LEADIN = re.compile(
    r"^\s*(?:(?:hi|hello|hey)\W+)?(?:my (?:first |last |full |sur)?name is|my surname is|the name is|"
    r"name['’]?s|name is|i am|i['’]?m|it is|it['’]?s|this is|call me|they call me)\s+",
    re.IGNORECASE,
)
_NAME_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_POLITE = frozenset({"please", "thanks", "thank", "you", "thx"})


def parse_name(text: str, *, first: bool) -> str | None:
    if parse_yes_no(text) is not None and len(normalize(text).split()) <= 2:
        return None
    rest = _NAME_LEADIN.sub("", text)
    words = [w for w in _NAME_WORD.findall(rest)]
    while words and words[-1].lower() in _POLITE:
        words.pop()
    if not words:
        return None
    word = words[0] if first else words[-1]
    return word[:1].upper() + word[1:]


_EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
_SPOKEN_CONNECTORS = {"dot": ".", "underscore": "_", "dash": "-", "hyphen": "-"}


def parse_email(text: str) -> str | None:
    found = _EMAIL.search(text)
    if found:
        return found.group(0).lower().rstrip(".")
    words = normalize(text).split()
    if "at" not in words:
        return None
    at = len(words) - 1 - words[::-1].index("at")
    domain = words[at + 1:]
    if len(domain) < 3 or "dot" not in domain:
        return None
    # Domain: words joined by "dot"; stop at the first word that is neither a label nor a connector.
    host: list[str] = []
    expect_label = True
    for word in domain:
        if expect_label and word.isalnum():
            host.append(word)
        elif not expect_label and word == "dot":
            host.append(".")
        else:
            break
        expect_label = not expect_label
    if host and host[-1] == ".":
        host.pop()
    # Local part: walk left from "at" over word (connector word)* pairs.
    local: list[str] = []
    index = at - 1
    while index >= 0 and re.fullmatch(r"[\w.+-]+", words[index]):
        local.insert(0, words[index])
        if index - 1 >= 0 and words[index - 1] in _SPOKEN_CONNECTORS and index - 2 >= 0:
            local.insert(0, _SPOKEN_CONNECTORS[words[index - 1]])
            index -= 2
            continue
        break
    address = "".join(local) + "@" + "".join(host)
    return address if local and "." in "".join(host) else None
