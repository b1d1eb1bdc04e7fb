"""The kit and the editor read a scenario file alike: PyYAML reads YAML 1.1, the YAML language server (VS Code,
Neovim) reads YAML 1.2 (its default `yaml.yamlVersion`); plain values the two read differently are refused
at their place, values both read alike load as before (docs/scenarios.md, "YAML 1.2, as your editor reads it")."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from harness.errors import LoadError
from harness.sources import parse_text
from tests.hostile.kit import GOOD_SCENARIO, assert_refused, cli

# YAML 1.2.2, 10.3.2 "Tag Resolution" of the core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution).
CORE12 = [
    (re.compile(r"null|Null|NULL|~|"), lambda t: None),
    (re.compile(r"true|True|TRUE|false|False|FALSE"), lambda t: t.lower() == "true"),
    (re.compile(r"[-+]?[0-9]+"), int),
    (re.compile(r"0o[0-7]+"), lambda t: int(t[2:], 8)),
    (re.compile(r"0x[0-9a-fA-F]+"), lambda t: int(t[2:], 16)),
    (re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?"), float),
]


def yaml12(text: str) -> Any:
    for pattern, build in CORE12:
        if pattern.fullmatch(text):
            return build(text)
    return text


def loaded(text: str) -> Any:
    return parse_text(f"v: {text}\n", path="x.yaml", kind="yaml").data["v"]


@pytest.mark.parametrize(("text", "yaml11", "yaml12_reading"), [
    ("yes", "true", 'the text "yes"'), ("No", "false", 'the text "No"'), ("ON", "true", 'the text "ON"'),
    ("off", "false", 'the text "off"'), ("10:30", "630", 'the text "10:30"'), ("010", "8", "the number 10"),
    ("08", 'the text "08"', "the number 8"), ("1_000", "1000", 'the text "1_000"'),
    ("0b101", "5", 'the text "0b101"'), ("1e5", 'the text "1e5"', "100000.0"),
    ("1.0e5", 'the text "1.0e5"', "100000.0"), ("0o17", 'the text "0o17"', "15"), ("-.5", '"-.5"', "-0.5"),
])
def test_values_yaml_1_1_and_1_2_read_differently_are_refused_at_their_place(
        text: str, yaml11: str, yaml12_reading: str) -> None:
    with pytest.raises(LoadError) as caught:
        parse_text(f"a: 1\nv: {text}\n", path="x.yaml", kind="yaml")
    rendered = caught.value.render()
    assert rendered.startswith("x.yaml:2:4: "), rendered
    assert f"`{text}` is ambiguous" in rendered and yaml11 in rendered and yaml12_reading in rendered
    assert "quote it" in rendered


def test_a_yaml_1_1_boolean_as_a_key_is_refused_too() -> None:
    # `on:` is the classic: YAML 1.1 makes the key True.
    with pytest.raises(LoadError, match=r"x.yaml:2:3: `on` is ambiguous"):
        parse_text("memory:\n  on: 1\n", path="x.yaml", kind="yaml")


@pytest.mark.parametrize("text", ["true", "False", "null", "~", "42", "-3", "+7", "0", "1.5", ".5", "1.",
                                  "1.0e+5", "0x1F", ".inf", "-.inf", "'yes'", '"10:30"', "3-4", "1.2.3",
                                  "+15555550100", "hello", "n", "y"])
def test_values_both_versions_read_alike_load_as_yaml_1_2_reads_them(text: str) -> None:
    value = loaded(text)
    plain = text.strip("'\"")
    if text[0] in "'\"" or text in ("n", "y"):
        assert value == plain
    elif text.endswith("inf"):
        assert value == float(text.replace(".", ""))
    else:
        assert value == yaml12(text) and type(value) is type(yaml12(text))


@given(st.text(alphabet="0123456789_.:eE+-xob", min_size=1, max_size=8))
def test_number_like_text_loads_only_when_both_versions_agree(text: str) -> None:
    try:
        base = yaml.load(f"v: {text}\n", Loader=yaml.SafeLoader)["v"]
    except yaml.YAMLError:
        return  # not a plain scalar at all (`-`, `:`): both parsers refuse it
    except ValueError:
        return  # PyYAML cannot build it (e.g. `0b`), the kit refuses it as malformed
    try:
        value = loaded(text)
    except LoadError as err:
        other = yaml12(text)
        agree = type(base) is type(other) and base == other
        assert not agree or "malformed" in err.message, (text, base, other, err.render())
        return
    assert value == yaml12(text) and type(value) is type(yaml12(text)), (text, value)


def test_a_scenario_file_with_an_unquoted_yes_is_refused_by_validate_and_run_still_runs_the_rest(tmp_path) -> None:
    bad = tmp_path / "answers.scenario.yaml"
    bad.write_text(GOOD_SCENARIO.replace("- user: hello", "- user: hello\n      - user: yes"), encoding="utf-8")
    assert_refused(cli("validate", bad), names=bad, line=6, says="`yes` is ambiguous")
    (tmp_path / "good.scenario.yaml").write_text(GOOD_SCENARIO, encoding="utf-8")
    result = cli("run", tmp_path)
    assert result.code == 2 and "1 passed" in result.text and "answers.scenario.yaml:6:15" in result.text, result.text
