"""argparse types shared by the commands and the pytest plugin's options (kept import-light)."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def number_between(low: float, high: float, what: str) -> Callable[[str], float]:
    """An argparse type accepting a number from `low` to `high`; out of range is a usage error, not a typo kept."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what} from {low:g} to {high:g}, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {what} from {low:g} to {high:g}, got {text}")
        return value

    parse.__name__ = what.replace(" ", "_")  # argparse names the type in its messages
    return parse


fraction = number_between(0, 1, "a number")  # a routing threshold
percent = number_between(0, 100, "a percentage")  # a coverage limit


def _checked(convert: Callable[[str], float], accept: Callable[[float], bool], name: str) -> Callable[[str], float]:
    """An argparse type whose ValueError argparse reports as "invalid <name> value: …" (exit 2)."""

    def parse(text: str) -> float:
        value = convert(text)
        if not accept(value):
            raise ValueError(text)
        return value

    parse.__name__ = name
    return parse


positive_int = _checked(int, lambda v: v > 0, "positive integer")  # e.g. verify --timeout-ms
non_negative_int = _checked(int, lambda v: v >= 0, "non-negative integer")  # broker --retries
positive_number = _checked(float, lambda v: 0 < v < float("inf"), "positive number")  # broker --timeout
