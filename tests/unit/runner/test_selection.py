"""Selecting cases: `-k` expressions and `--tag`."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.runner.selection import keyword_matcher, selector
from harness.runner.suite import run_suite
from tests.unit.runner.scenario_files import PASSING, write_scenario

# --- selection ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("expression", "names", "expected"), [
    ("towels", ["hotel.scenario.yaml", "Guest asks for towels"], True),
    ("TOWELS and not chat", ["hotel.scenario.yaml", "towels", "chat"], False),
    ("pizza or (towels and smoke)", ["towels", "smoke"], True),
    ("not (a or b)", ["c"], True),
    ("", ["x"], True),
])
def test_keyword_matcher(expression: str, names: list[str], expected: bool) -> None:
    assert keyword_matcher(expression)(names) is expected


@pytest.mark.parametrize("expression", ["a and", "(a", "a b", "and a", ")"])
def test_keyword_matcher_rejects_bad_expressions(expression: str) -> None:
    with pytest.raises(UsageError, match="-k"):
        keyword_matcher(expression)


def test_selector_by_tag_and_keyword(tmp_path: Path) -> None:
    write_scenario(tmp_path, "a.scenario.yaml", PASSING)
    assert [c.id for c in run_suite([tmp_path], select=selector(tags=["smoke"])).cases] == ["hello then bye"]
    assert [c.id for c in run_suite([tmp_path], select=selector("v2")).cases] == ["variants[v2]"]
    assert selector() is None
