"""Running one case (`harness.runner.cases.run_case`): every concrete scenario runs, every mismatch is
collected, an engine error is an error result, cases do not depend on what ran before."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import ExitCode, UsageError
from harness.models.scenario_loader import load_scenario_file
from harness.runner.cases import run_case
from harness.runner.pool import SessionPool
from harness.runner.suite import run_suite
from tests.unit.runner.scenario_files import FAILING, PASSING, write_scenario


def test_a_passing_file_runs_every_concrete_scenario(tmp_path: Path) -> None:
    write_scenario(tmp_path, "a.scenario.yaml", PASSING)
    seen: list[str] = []
    suite = run_suite([tmp_path], progress=lambda result: seen.append(result.id))
    assert seen == ["hello then bye", "variants[v1]", "variants[v2]"]
    assert suite.summary == {"passed": 3, "failed": 0, "error": 0, "total": 3}
    assert suite.exit_code == ExitCode.OK
    first = suite.cases[0]
    assert first.tags == ("smoke",) and first.line == 3
    assert [t.task for t in first.transcript.turns] == ["greet", "goodbye"]


def test_every_mismatch_is_collected_not_only_the_first(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, "f.scenario.yaml", FAILING)
    suite = run_suite([path])
    (case,) = suite.cases
    assert case.status == "failed" and suite.exit_code == ExitCode.FAILED
    assert [m.key for m in case.mismatches] == ["task", "replies", "memory"]
    text = case.failure_text()
    assert text.startswith("3 expectations failed")
    assert 'turn 1 ("hello"):\n  task: expected "goodbye", got "greet"' in text
    assert f"[{case.file}:6:" in text  # where the expectation is written
    assert "after the last turn:" in text and "Traceback" not in text


def test_an_engine_error_is_an_error_result_with_the_message(tmp_path: Path) -> None:
    bot = tmp_path / "bot.json"
    bot.write_text(json.dumps({"uniqueName": "broken", "tasks": [
        {"uniqueName": "greet", "actionsUrl": "https://nowhere.example.com/actions",
         "samples": [{"language": "en-US", "taggedText": "hello"}]}]}), encoding="utf-8")
    write_scenario(tmp_path, "e.scenario.yaml", """\
        bot: bot.json
        scenarios:
          - name: webhook down
            turns:
              - user: hello
              - user: hello again
    """)
    (case,) = run_suite([tmp_path]).cases
    assert case.status == "error"
    assert "nowhere.example.com" in case.error and "Traceback" not in case.error
    assert case.transcript is not None  # what happened before the error is kept


def test_cases_do_not_depend_on_what_ran_before(tmp_path: Path) -> None:
    # SIDs are reseeded per case: running a case alone or after others gives the same transcript.
    write_scenario(tmp_path, "a.scenario.yaml", PASSING)
    together = run_suite([tmp_path])
    alone = run_suite([tmp_path], select=lambda file, scenario: scenario.id == "variants[v2]")
    assert alone.deselected == 2
    assert alone.cases[0].transcript == together.cases[2].transcript


def test_run_case_refuses_a_scenario_with_variants(tmp_path: Path) -> None:
    scenario_file = load_scenario_file(write_scenario(tmp_path, "a.scenario.yaml", PASSING))
    with SessionPool() as pool, pytest.raises(UsageError, match="has variants"):
        run_case(pool, scenario_file.scenarios[1], file=scenario_file)
