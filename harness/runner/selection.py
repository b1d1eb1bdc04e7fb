"""Selecting cases: pytest's `-k` expressions over file, scenario id and tags, and `--tag`."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from harness.errors import (
    UsageError,
)
from harness.models.scenario_model import Scenario

Select = Callable[[str, Scenario], bool]  # (file as displayed, concrete scenario) → run it?


_TOKEN = re.compile(r"\s*(\(|\)|[^\s()]+)")


def keyword_matcher(expression: str) -> Callable[[Iterable[str]], bool]:
    """pytest's `-k`: words match case-insensitively as substrings of any name; `and`, `or`, `not`, ()."""
    tokens = _TOKEN.findall(expression)
    if not tokens:
        return lambda names: True
    position = 0

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> str:
        nonlocal position
        token = peek()
        if token is None:
            raise UsageError(f"-k {expression!r}: the expression ends too early")
        position += 1
        return token

    def parse_or() -> Callable[[list[str]], bool]:
        left = parse_and()
        while peek() == "or":
            take()
            right = parse_and()
            left = (lambda a, b: lambda names: a(names) or b(names))(left, right)
        return left

    def parse_and() -> Callable[[list[str]], bool]:
        left = parse_not()
        while peek() == "and":
            take()
            right = parse_not()
            left = (lambda a, b: lambda names: a(names) and b(names))(left, right)
        return left

    def parse_not() -> Callable[[list[str]], bool]:
        token = take()
        if token == "not":
            inner = parse_not()
            return lambda names: not inner(names)
        if token == "(":
            inner = parse_or()
            if take() != ")":
                raise UsageError(f"-k {expression!r}: expected ')'")
            return inner
        if token in (")", "and", "or"):
            raise UsageError(f"-k {expression!r}: unexpected {token!r}")
        word = token.lower()
        return lambda names: any(word in name for name in names)

    matcher = parse_or()
    if peek() is not None:
        raise UsageError(f"-k {expression!r}: unexpected {peek()!r}")
    return lambda names: matcher([name.lower() for name in names])


def selector(keyword: str | None = None, tags: Sequence[str] = ()) -> Select | None:
    """A `select` for run_suite from `-k EXPR` (file, scenario id and tags) and `--tag` (any of them)."""
    if not keyword and not tags:
        return None
    matches = keyword_matcher(keyword) if keyword else None
    wanted = set(tags)

    def select(file: str, scenario: Scenario) -> bool:
        if wanted and not wanted & set(scenario.tags):
            return False
        return matches is None or matches([Path(file).name, scenario.id, *scenario.tags])

    return select


