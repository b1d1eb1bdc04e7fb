"""Running a suite (`harness.runner.suite.run_suite`): a malformed file is one error result and the rest
still runs; exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ExitCode, UsageError
from harness.runner.suite import run_suite
from tests.unit.runner.scenario_files import FAILING, PASSING, TINY_BOT, write_scenario


def test_a_malformed_file_is_one_error_result_and_the_rest_still_runs(tmp_path: Path) -> None:
    write_scenario(tmp_path, "a.scenario.yaml", PASSING)
    broken = tmp_path / "b.scenario.yaml"
    broken.write_text(f"bot: {TINY_BOT.as_posix()}\nscenarios:\n  - name: x\n    turns:\n"
                      "      - user: hi\n        expect: {replys: []}\n", encoding="utf-8")
    suite = run_suite([tmp_path])
    kinds = [(c.kind, c.status) for c in suite.cases]
    assert kinds == [("scenario", "passed")] * 3 + [("file", "error")]
    error = suite.cases[-1].error
    assert error.startswith(f"{broken.as_posix()}:6:26 (/scenarios/0/turns/0/expect/replys): unknown key 'replys'")
    assert suite.files[suite.cases[-1].file]["error"] == error
    assert suite.exit_code == ExitCode.BAD_INPUT  # only invalid input failed


def test_exit_code_is_1_when_a_scenario_fails_even_with_invalid_files(tmp_path: Path) -> None:
    write_scenario(tmp_path, "f.scenario.yaml", FAILING)
    (tmp_path / "g.scenario.yaml").write_text("scenarios: 3\n", encoding="utf-8")
    assert run_suite([tmp_path]).exit_code == ExitCode.FAILED


def test_nothing_collected_and_missing_paths(tmp_path: Path) -> None:
    (tmp_path / "not-a-scenario.yaml").write_text("x: 1\n", encoding="utf-8")
    assert run_suite([tmp_path]).exit_code == ExitCode.NOTHING_COLLECTED
    with pytest.raises(UsageError, match="no such file or folder"):
        run_suite([tmp_path / "missing"])
