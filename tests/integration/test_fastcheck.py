"""The fast schema check gives jsonschema's verdict: on every scenario file of the repo, on thousands of
mutated copies of them, and keyword by keyword. A wrong "valid" would let a broken file through unexplained."""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from harness.models.fastcheck import compile_fast_check
from harness.models.scenario import parts_validator, scenario_validator

ROOT = Path(__file__).resolve().parents[2]
SCENARIO_FILES = sorted([*ROOT.glob("scenarios/**/*.scenario.yaml"), *ROOT.glob("tests/fixtures/scenarios/*.yaml"),
                         *ROOT.glob("tests/fixtures/scenarios/invalid/*.yaml")])
PARTS_FILES = sorted(ROOT.glob("tests/fixtures/scenarios/parts/*.yaml"))
ODD_VALUES: list[Any] = [None, True, 0, 1.5, -1, "", "x", "https://a.example", [], [1], {}, {"x": 1}]


def documents(paths: list[Path]) -> list[Any]:
    found = []
    for path in paths:
        try:
            found.append(yaml.safe_load(path.read_text(encoding="utf-8")))
        except yaml.YAMLError:
            continue  # the malformed-YAML fixture has no data to check
    return found


def places(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a document (to mutate it there)."""
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += places(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += places(value, (*path, index))
    return found


def mutated(document: Any, rng: random.Random) -> Any:
    """A copy with one change: a value replaced, a key removed or added, a list item dropped or doubled."""
    copied = copy.deepcopy(document)
    path = rng.choice(places(copied)[1:] or [()])
    if not path:
        return rng.choice(ODD_VALUES)
    parent = copied
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    action = rng.randrange(4)
    if action == 0:
        parent[last] = rng.choice(ODD_VALUES)
    elif action == 1:
        del parent[last]
    elif action == 2 and isinstance(parent[last], dict):
        parent[last][rng.choice(["unknown", "user", "turns", "replay", "expect", "task", "requests"])] = \
            rng.choice(ODD_VALUES)
    elif isinstance(parent, list):
        parent.append(copy.deepcopy(parent[last]))
    else:
        parent[last] = str(parent[last])
    return copied


@pytest.mark.parametrize("validator", [scenario_validator, parts_validator], ids=["scenario", "parts"])
def test_the_verdict_is_jsonschemas_on_real_and_mutated_files(validator: Any) -> None:
    compiled = validator()
    fast = compile_fast_check(compiled.schema)
    assert fast is not None, "the scenario schema uses a keyword the fast check lacks"
    originals = documents(SCENARIO_FILES if validator is scenario_validator else PARTS_FILES)
    assert len(originals) >= 4
    rng = random.Random(7)
    checked = valid = 0
    for document in originals:
        for candidate in [document, *(mutated(document, rng) for _ in range(150))]:
            expected = compiled.is_valid(candidate)
            assert fast(candidate) == expected, candidate
            checked += 1
            valid += expected
    assert 0 < valid < checked  # both verdicts were exercised


@pytest.mark.parametrize(("schema", "good", "bad"), [
    ({"type": "integer"}, [1, 2.0], [True, 1.5, "1"]),
    ({"type": "number"}, [1, 1.5], [False, None]),
    ({"enum": [1, "a"]}, [1, 1.0, "a"], [True, "b"]),
    ({"const": False}, [False], [0, None]),
    ({"required": ["a"], "properties": {"a": {"minLength": 2}}}, [{"a": "xy"}, [1]], [{}, {"a": "x"}]),
    ({"patternProperties": {"^x": {"type": "string"}}, "additionalProperties": False},
     [{"xa": "s"}], [{"xa": 1}, {"y": 1}]),
    ({"propertyNames": {"pattern": "^[a-z]+$"}, "maxProperties": 1}, [{"ab": 1}], [{"A": 1}, {"a": 1, "b": 2}]),
    ({"items": {"type": "string"}, "minItems": 1, "uniqueItems": True}, [["a"]], [[], [1], ["a", "a"]]),
    ({"oneOf": [{"minimum": 0}, {"maximum": 10}]}, [-1, 11], [5]),
    ({"not": {"anyOf": [{"type": "null"}, {"allOf": [{"type": "string"}, {"maxLength": 0}]}]}}, ["a", 0], [None, ""]),
    ({"if": {"type": "string"}, "then": {"minLength": 1}, "else": {"exclusiveMinimum": 0}}, ["a", 1], ["", 0]),
])
def test_each_keyword_agrees_with_jsonschema(schema: dict[str, Any], good: list[Any], bad: list[Any]) -> None:
    fast = compile_fast_check(schema)
    assert fast is not None
    reference = Draft202012Validator(schema)
    for value in good:
        assert fast(value) and reference.is_valid(value), value
    for value in bad:
        assert not fast(value) and not reference.is_valid(value), value


@pytest.mark.parametrize("schema", [{"$ref": "#/$defs/x"}, {"prefixItems": [{}]}, {"type": "decimal"},
                                    {"properties": {"a": {"dependentSchemas": {}}}}])
def test_a_keyword_it_does_not_know_means_no_fast_check(schema: dict[str, Any]) -> None:
    assert compile_fast_check(schema) is None  # the loader then runs jsonschema, never a wrong "valid"
