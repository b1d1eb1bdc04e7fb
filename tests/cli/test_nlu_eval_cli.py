"""`autopilot-harness nlu-eval`: folds that fit the samples, warnings for extra rows naming unknown tasks."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "scenarios"
HOSPITALITY_BOT = (FIXTURES.parents[1].parent / "examples" / "hospitality" / "assistant.json").as_posix()


def test_nlu_eval_folds_must_fit_the_samples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nlu-eval", HOSPITALITY_BOT, "--folds", "500"]) == 2
    assert "--folds 500: expected 2 to " in capsys.readouterr().err
    assert main(["nlu-eval", HOSPITALITY_BOT, "--folds", "1"]) == 2


def test_nlu_eval_warns_about_extra_rows_naming_unknown_tasks(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    extra = tmp_path / "extra.csv"
    extra.write_text("text,task\nbring towels,nosuchtask\nhello,greeting\n", encoding="utf-8")
    assert main(["nlu-eval", HOSPITALITY_BOT, "--folds", "2", "--extra", str(extra), "--json"]) == 0
    err = capsys.readouterr().err
    assert "warning" in err and "'nosuchtask' is not a task" in err and "'greeting'" not in err
