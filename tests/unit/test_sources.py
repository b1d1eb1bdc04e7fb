"""YAML syntax errors placed at the real line:column (`harness.sources`)."""

from __future__ import annotations

import pytest

from harness.errors import LoadError
from harness.sources import parse_text

# --- YAML syntax errors ---------------------------------------------------------------------------------


def yaml_error(text: str) -> LoadError:
    with pytest.raises(LoadError) as info:
        parse_text(text, path="f.scenario.yaml", kind="yaml")
    return info.value


def test_an_unclosed_bracket_points_where_it_opens_not_at_the_end_of_the_file() -> None:
    text = "bot: b.json\nscenarios:\n  - name: a\n    turns:\n      - user: [unclosed\n\n\n"
    err = yaml_error(text)
    assert (err.location.line, err.location.column) == (5, 15)
    assert "`user`" in err.message and "never closed" not in err.message  # the hint says it
    assert err.hint and "closed" in err.hint
    assert err.render().startswith("f.scenario.yaml:5:15: malformed YAML")


def test_an_unclosed_quote_points_at_the_quote() -> None:
    err = yaml_error('name: x\nchannel: "sms\n')
    assert (err.location.line, err.location.column) == (2, 10) and "`channel`" in err.message


def test_a_problem_inside_the_file_keeps_the_parsers_problem_mark_and_says_where_the_construct_began() -> None:
    err = yaml_error("a: [1, 2\nb: 3\n")
    assert (err.location.line, err.location.column) == (2, 2)
    assert "starts at line 1, column 4" in err.message and "`a`" in err.message
    assert err.hint is None


def test_a_bad_mapping_value_names_its_key() -> None:
    err = yaml_error("bot: x\nscenarios:\n  - name: a: b\n")
    assert (err.location.line, err.location.column) == (3, 12) and "`name`" in err.message
