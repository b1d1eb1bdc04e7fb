"""Text as field values are read: `normalize` (shared with the router: samples and utterances are
compared in this form), word tables and longest-first regex alternations."""

from __future__ import annotations

import re
from collections.abc import Iterable

# Text normalisation (shared with the router: samples and utterances are compared in this form)

APOSTROPHES = re.compile(r"['’‘`´]")
# Punctuation inside a value survives (4:30, 7/1, 1,500, jo.smith@x.com, twenty-five, +1…, $5);
# everything else becomes a word break, so "Hello." == "hello" and "can I have more {item}?" ends at the tag.
_PUNCT = re.compile(
    r"(?<=\d)[,:/](?=\d)"
    r"|(?<=\w)[.@\-](?=\w)"
    r"|[+$€£¥₹₩₽₪](?=\d)"
    r"|([^\w\s])"
)


def normalize(text: str) -> str:
    """Lower-case, apostrophes dropped ("I'm" → "im"), other punctuation → spaces unless inside a value."""
    lowered = APOSTROPHES.sub("", text.lower())
    spaced = _PUNCT.sub(lambda m: " " if m.group(1) is not None else m.group(0), lowered)
    return " ".join(spaced.split())


def word_set(text: str) -> frozenset[str]:
    """The space-separated words of `text` (for long word tables)."""
    return frozenset(text.split())


def alternation(phrases: Iterable[str]) -> str:
    """A non-capturing alternation, longest first (so "toilet paper" beats "toilet")."""
    unique = sorted({p for p in phrases if p}, key=lambda p: (-len(p), p))
    if not unique:
        return "(?!)"  # matches nothing
    return "(?:" + "|".join(re.escape(p) for p in unique) + ")"


def title_case(words: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in words.split())

# Words too common to be a code or a name on their own (ALPHANUMERIC, CITY, names).
COMMON_WORDS = word_set(
    "a an and are as at be by do for from go he her him his i id im in is it its me my no of on or "
    "our she so the their them they this to up us was we yes you your please thanks thank hi hey "
    "hello ok okay"
)

_WORD_START = re.compile(r"(?:^|(?<= ))\S")

def word_starts(normalized: str) -> list[int]:
    return [m.start() for m in _WORD_START.finditer(normalized)]
