"""Without twilio-run, a run says once what is missing and how to install it, not once per scenario; every
scenario that needed it still errors (nothing passes by default). Issue 14, "Clean install"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.hostile.kit import GOOD_SCENARIO, TINY_BOT, cli

FUNCTIONS = ROOT / "examples" / "hospitality"  # a Serverless project: functions/*.js and package.json


def _needs_functions(threshold: float) -> str:
    return f"""\
bot: {TINY_BOT.as_posix()}
functions: {FUNCTIONS.as_posix()}
threshold: {threshold}
scenarios:
  - name: first
    turns: [{{user: hello, expect: {{task: greet}}}}]
  - name: second
    turns: [{{user: hello, expect: {{task: greet}}}}]
"""


def test_the_install_hint_is_printed_once_and_each_scenario_needing_twilio_run_errors(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOPILOT_HARNESS_TWILIO_RUN", str(tmp_path / "no-such-twilio-run"))
    # Two configurations (thresholds differ): two sessions that each need twilio-run.
    (tmp_path / "a.scenario.yaml").write_text(_needs_functions(0.4), encoding="utf-8")
    (tmp_path / "b.scenario.yaml").write_text(_needs_functions(0.5), encoding="utf-8")
    (tmp_path / "good.scenario.yaml").write_text(GOOD_SCENARIO, encoding="utf-8")
    result = cli("run", tmp_path, "--json", tmp_path / "results.json")
    assert result.code == 1, result.text
    assert "Traceback" not in result.text
    assert result.text.count("npm install --save-dev twilio-run@") == 1, result.text
    assert result.text.count("no-such-twilio-run: no such file") == 1, result.text
    assert result.text.count("twilio-run is not installed (how to install it: see the first scenario") == 3
    cases = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))["cases"]
    statuses = {(Path(case["file"]).name, case["status"]) for case in cases}
    assert statuses == {("a.scenario.yaml", "error"), ("b.scenario.yaml", "error"), ("good.scenario.yaml", "passed")}
