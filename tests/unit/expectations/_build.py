"""Helpers: expectations are written as scenario YAML (the real way in), transcripts as dataclasses."""

from __future__ import annotations

import textwrap
from pathlib import Path

from harness.models.scenario import Scenario, TurnExpect, scenario_file_from_source
from harness.sources import parse_text

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "scenarios"


def scenario(yaml_text: str) -> Scenario:
    """The first scenario of a file made of `yaml_text` (placed among the fixtures, for relative paths)."""
    text = textwrap.dedent(yaml_text)
    source = parse_text(text, path=str(FIXTURES / "t.scenario.yaml"), kind="yaml")
    return scenario_file_from_source(source).scenarios[0]


def turn_expect(yaml_expect: str) -> TurnExpect:
    """A TurnExpect from the YAML of a turn's `expect:` mapping."""
    body = textwrap.indent(textwrap.dedent(yaml_expect).strip(), " " * 10)
    return scenario(f"scenarios:\n  - name: t\n    turns:\n      - user: x\n        expect:\n{body}\n"
                    ).turns[0].expect


def scenario_expect(yaml_expect: str):
    body = textwrap.indent(textwrap.dedent(yaml_expect).strip(), " " * 6)
    return scenario(f"scenarios:\n  - name: t\n    turns: [{{user: x}}]\n    expect:\n{body}\n").expect
