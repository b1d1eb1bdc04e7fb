"""`run -k`'s expressions are pytest's: the same ones parse, the same ones are refused, and each selects
the same names as `_pytest.mark.expression.Expression` (the reference, imported here only: `run` itself
must not import pytest)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from _pytest.mark.expression import Expression
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.errors import UsageError
from harness.runner.selection import keyword_matcher

NAMES = ["hospitality", "hotel.scenario.yaml", "guest asks for towels[v2]", "smoke"]
WORDS = ["hotel", "TOWELS", "v2", "v1", "smoke", "nope", "scenario.yaml", "[v2]", "a-b", "x:y", "and", "or",
         "not", "(", ")", "True", "None", "'q'", "=", ",", "@", "\t"]


def pytest_says(expression: str, names: list[str]) -> bool | str:
    """pytest's -k: `deselect_by_keyword` strips leading space; an empty expression keeps everything."""
    expression = expression.lstrip()
    if not expression:
        return True
    try:
        compiled = Expression.compile(expression)
    except SyntaxError:
        return "refused"

    def matcher(word: str, **kwargs: object) -> bool:
        if kwargs:
            raise pytest.UsageError("call parameters")
        return any(word.lower() in name.lower() for name in names)

    try:
        return compiled.evaluate(matcher)
    except pytest.UsageError:
        return "refused"


def we_say(expression: str, names: list[str]) -> bool | str:
    try:
        return keyword_matcher(expression)(names)
    except UsageError:
        return "refused"


@pytest.mark.parametrize("expression", [
    "hotel", "not hotel", "hotel and smoke", "hotel or nope", "not (hotel or nope)", "((v2))",
    "[v2]", "hospitality and not v1", "a and", "(a", "a b", ")", "", "   ", " hotel", "towels(x=1)",
    "'open", "a @ b", "True", "hotel\n", "x:y or a/b\\c+d", "not not hotel", "and", "hotel or",
])
def test_the_same_verdict_as_pytest(expression: str) -> None:
    assert we_say(expression, NAMES) == pytest_says(expression, NAMES)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=7).map(" ".join))
def test_any_sequence_of_words_gets_pytests_verdict(expression: str) -> None:
    assert we_say(expression, NAMES) == pytest_says(expression, NAMES)


def test_the_cli_does_not_import_pytest_to_select() -> None:
    code = ("import sys; from harness.runner.selection import selector; "
            "selector('hotel and not v2', paths=['.']); print('pytest' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "False"
