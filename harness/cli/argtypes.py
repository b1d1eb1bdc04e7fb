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
