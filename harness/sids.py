"""Twilio-shaped SIDs: a two-letter prefix and 32 hex digits, deterministic when seeded."""

from __future__ import annotations

import hashlib
import itertools


class SidFactory:
    """Makes SIDs like UK0123…; the same seed gives the same sequence, so transcripts are reproducible."""

    def __init__(self, seed: str = "autopilot-harness") -> None:
        self._seed = seed
        self._counter = itertools.count(1)

    def make(self, prefix: str) -> str:
        n = next(self._counter)
        digest = hashlib.sha1(f"{self._seed}:{prefix}:{n}".encode()).hexdigest()[:32]
        return prefix + digest

    def reseed(self, seed: str) -> None:
        """Restart the sequence from `seed`: a test case reseeds with its own id, so its SIDs do not
        depend on which cases ran before it in the same process (xdist, -k, --lf)."""
        self._seed = seed
        self._counter = itertools.count(1)


def is_sid(value: str, prefix: str) -> bool:
    return (
        len(value) == 34
        and value.startswith(prefix)
        and all(c in "0123456789abcdef" for c in value[2:].lower())
    )
