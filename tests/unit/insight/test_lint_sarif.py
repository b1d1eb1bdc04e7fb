"""SARIF output of lint: artifact URIs relative to the base inside it, file URIs outside, `%SRCROOT%` from the CLI."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.errors import LoadError, Location
from harness.insight.lint_rules import sarif_artifact, to_sarif
from tests.conftest import EXAMPLES

FLOW = json.loads((EXAMPLES / "hospitality" / "flows" / "flex_messaging.json").read_text())
EXAMPLE_ATTRIBUTES = next(s for s in FLOW["states"] if s["name"] == "SendToConcierge")["properties"]["attributes"]


def with_said(value: str) -> str:
    """The example attributes plus one more key (the case first reported)."""
    return EXAMPLE_ATTRIBUTES[:-1] + f', "said": {value}}}'


# --- SARIF ---------------------------------------------------------------------------------------------


def test_sarif_artifact_relative_inside_the_base_and_file_uri_outside(tmp_path: Path) -> None:
    base = tmp_path / "repo"
    assert sarif_artifact("flows/a b.json", base) == {"uri": "flows/a%20b.json", "uriBaseId": "%SRCROOT%"}
    assert sarif_artifact(base / "flows" / "x.json", base) == {"uri": "flows/x.json", "uriBaseId": "%SRCROOT%"}
    assert sarif_artifact("sub/../x.json", base) == {"uri": "x.json", "uriBaseId": "%SRCROOT%"}
    outside = sarif_artifact("../other/y.json", base)
    assert outside == {"uri": (tmp_path / "other" / "y.json").as_uri()}
    assert outside["uri"].startswith("file:///")


def test_cli_sarif_uses_srcroot_and_file_uris(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    repo, elsewhere = tmp_path / "repo", tmp_path / "elsewhere"
    (repo / "flows").mkdir(parents=True)
    elsewhere.mkdir()
    data = copy.deepcopy(FLOW)
    next(s for s in data["states"] if s["name"] == "SendToConcierge")["properties"]["attributes"] = \
        with_said('"{{widgets.HotelBot.CurrentInput}}"')
    for target in (repo / "flows" / "flow.json", elsewhere / "flow.json"):
        target.write_text(json.dumps(data, indent=2))
    monkeypatch.chdir(repo)
    assert main(["lint", "--format", "sarif", "flows/flow.json", str(repo / "flows" / "flow.json"),
                 str(elsewhere / "flow.json")]) == 0  # ST207 is a warning
    run = json.loads(capsys.readouterr().out)["runs"][0]
    artifacts = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"]]
    assert [r["ruleId"] for r in run["results"]] == ["ST207"] * 3
    assert artifacts == [{"uri": "flows/flow.json", "uriBaseId": "%SRCROOT%"}] * 2 + [
        {"uri": (elsewhere / "flow.json").as_uri()}]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": repo.as_uri() + "/"}}
    assert all(not a["uri"].startswith("/") for a in artifacts)


def test_sarif_without_relative_locations_has_no_base_ids(tmp_path: Path) -> None:
    outside = tmp_path.parent / "x.json"

    class Report:
        path = str(outside)
        errors = [LoadError("cannot read", Location(str(outside), "", 3, 1))]
        warnings: list[Any] = []

    run = to_sarif([Report()], base=tmp_path)["runs"][0]
    assert run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": outside.as_uri()}
    assert "originalUriBaseIds" not in run
