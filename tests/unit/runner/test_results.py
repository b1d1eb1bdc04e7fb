"""The JSON of a run's results (docs/run-results.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.runner.suite import run_suite
from tests.unit.runner.scenario_files import FAILING, FIXTURES, PASSING, write_scenario

# --- reports ------------------------------------------------------------------------------------------


def test_json_results_shape(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES.parents[2])  # paths in the results are relative to the working directory
    write_scenario(tmp_path, "a.scenario.yaml", PASSING)
    write_scenario(tmp_path, "f.scenario.yaml", FAILING)
    data = json.loads(run_suite([tmp_path]).to_json())
    # `golden` appears because these scenarios have no golden files (`golden.missing`).
    assert set(data) == {"version", "started", "duration", "summary", "cwd", "files", "cases", "golden"}
    assert data["cwd"] == str(FIXTURES.parents[2].resolve())
    assert data["version"] == 1 and data["started"].endswith("Z")
    assert data["summary"] == {"passed": 3, "failed": 1, "error": 0, "total": 4}
    (file_a, file_f) = sorted(data["files"])
    assert data["files"][file_a] == {"bot": "tests/fixtures/scenarios/bot.json", "flow": None, "error": None}
    failed = data["cases"][-1]
    assert {"kind", "file", "id", "name", "tags", "status", "duration", "mismatches", "transcript",
            "error", "failure", "golden", "line"} <= set(failed)
    assert failed["file"] == file_f and failed["status"] == "failed"
    assert failed["mismatches"][0] == {
        "where": 'turn 1 ("hello") task', "scope": 'turn 1 ("hello")', "key": "task", "path": None,
        "expected": '"goodbye"', "actual": '"greet"', "detail": failed["mismatches"][0]["detail"],
        "location": failed["mismatches"][0]["location"]}
    assert failed["mismatches"][0]["location"].endswith(":6:24 (/scenarios/0/turns/0/expect/task)")
    assert failed["transcript"]["turns"][0]["task"] == "greet"
