"""The scenario schema's quick valid/invalid test (the schema compiled by jsonschema-rs) gives jsonschema's
verdict: on every scenario file of the repo and on thousands of mutated copies. A wrong "valid" would let a
broken file through unexplained; without jsonschema-rs, jsonschema alone decides and says the same."""

from __future__ import annotations

import copy
import random
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.errors import HarnessError
from harness.models import scenario_schema
from harness.models.scenario import load_scenario_file, parts_validator, scenario_validator
from harness.models.scenario_yaml import plain

ROOT = Path(__file__).resolve().parents[2]
SCENARIO_FILES = sorted([*ROOT.glob("scenarios/**/*.scenario.yaml"), *ROOT.glob("tests/fixtures/scenarios/*.yaml"),
                         *ROOT.glob("tests/fixtures/scenarios/invalid/*.yaml")])
PARTS_FILES = sorted(ROOT.glob("tests/fixtures/scenarios/parts/*.yaml"))
ODD_VALUES: list[Any] = [None, True, 0, 1.5, -1, "", "x", "https://a.example", [], [1], {}, {"x": 1}]


def documents(paths: list[Path]) -> list[Any]:
    found = []
    for path in paths:
        try:
            found.append(plain(yaml.safe_load(path.read_text(encoding="utf-8"))))
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
    pytest.importorskip("jsonschema_rs")
    compiled = validator()
    fast = scenario_schema.fast_check(compiled)
    assert fast is not None, "jsonschema-rs could not compile the scenario schema"
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


def test_formats_stay_annotations_as_in_jsonschema() -> None:
    pytest.importorskip("jsonschema_rs")
    check = scenario_schema.compiled_check({"type": "string", "format": "date-time"})
    assert check is not None and check("not a date")  # jsonschema asserts no format either


@pytest.mark.parametrize("value", [b"bytes", {1: "int key"}, {"a": {1, 2}}])
def test_a_value_json_has_no_type_for_goes_to_jsonschema(value: Any) -> None:
    pytest.importorskip("jsonschema_rs")
    check = scenario_schema.compiled_check({"type": ["object", "string"], "properties": {"a": {"type": "array"}}})
    assert check is not None and check(value) is False  # "not sure": jsonschema then decides and explains


def test_without_jsonschema_rs_jsonschema_alone_decides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "jsonschema_rs", None)  # the import fails
    assert scenario_schema.compiled_check({"type": "object"}) is None
    monkeypatch.setattr(scenario_schema, "_FAST_CHECKS", {})
    bad = tmp_path / "bad.scenario.yaml"
    bad.write_text("bot: x.json\nscenarios:\n  - name: a\n    turns: 3\n", encoding="utf-8")
    with pytest.raises(HarnessError) as caught:
        load_scenario_file(bad)
    assert caught.value.render().endswith("bad.scenario.yaml:4:12 (/scenarios/0/turns): expected a list, found 3")
