"""Editors get the scenario schema offline: `schema` prints it (or its installed path), and every modeline the
project ships points at a file that exists (issue 14, "Editors and pre-commit")."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.models.json_schema import load_schema
from tests.conftest import ROOT
from tests.hostile.kit import cli

MODELINE = re.compile(r"#\s*yaml-language-server:\s*\$schema=(\S+)")


@pytest.mark.parametrize("name", ["scenario", "assistant", "actions", "flow"])
def test_schema_prints_the_shipped_schema_and_its_path(name: str) -> None:
    printed = cli("schema", name)
    assert printed.code == 0, printed.text
    assert json.loads(printed.out) == load_schema(f"{name}.schema.json")
    where = cli("schema", "--path", name)
    assert where.code == 0, where.text
    path = Path(where.out.strip())
    assert path.is_absolute() and path.is_file(), where.out
    assert json.loads(path.read_text(encoding="utf-8")) == load_schema(f"{name}.schema.json")


def test_schema_defaults_to_the_scenario_schema_and_lists_the_others() -> None:
    assert json.loads(cli("schema").out)["title"].startswith("autopilot-harness scenario file")
    listed = cli("schema", "--list").out
    for name in ("scenario", "assistant", "actions", "flow"):
        assert re.search(rf"^{name}\s+/\S+\.schema\.json", listed, re.M), listed


def test_an_unknown_schema_name_is_a_usage_error() -> None:
    result = cli("schema", "pipeline")
    assert result.code == 2
    assert "invalid choice: 'pipeline'" in result.err


def _modelines() -> list[tuple[Path, str]]:
    files = [*ROOT.glob("scenarios/**/*.scenario.yaml"), *ROOT.glob("tests/fixtures/**/*.yaml")]
    found = []
    for file in files:
        for line in file.read_text(encoding="utf-8").splitlines()[:3]:
            match = MODELINE.search(line)
            if match:
                found.append((file, match.group(1)))
    return found


def test_every_shipped_modeline_points_at_the_packaged_scenario_schema() -> None:
    modelines = _modelines()
    assert len(modelines) >= 6  # the bundled hospitality suite has them
    schema = (ROOT / "harness" / "schemas" / "scenario.schema.json").resolve()
    for file, target in modelines:
        # The YAML language server resolves a relative $schema against the YAML file's folder.
        assert (file.parent / target).resolve() == schema, f"{file}: {target}"


def test_no_document_points_editors_at_an_unpublished_domain() -> None:
    for doc in [ROOT / "README.md", *ROOT.glob("docs/**/*.md"), ROOT / "harness/schemas/scenario.schema.json"]:
        text = doc.read_text(encoding="utf-8")
        assert "$schema=https://autopilot-harness.dev" not in text, doc
