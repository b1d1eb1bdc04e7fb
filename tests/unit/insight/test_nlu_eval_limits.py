"""nlu-eval on large bots (k-fold with a note) and a missing `--extra` file named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.insight import nlu_eval
from harness.insight.lint_rules import MAX_LEAVE_ONE_OUT, LintConfig, lint_assistant
from harness.models.assistant_loader import assistant_from_dict
from tests.conftest import EXAMPLES

HOSPITALITY = EXAMPLES / "hospitality"


def big_bot(samples_per_task: int = 40, tasks: int = 12) -> Any:
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
             "kilo", "lima", "mike", "november", "oscar", "papa"]
    data = {"uniqueName": "big", "friendlyName": "big", "tasks": [
        {"uniqueName": f"task_{t}", "actions": {"actions": [{"say": "ok"}, {"listen": True}]}, "fields": [],
         "samples": [{"language": "en-US", "taggedText": f"{words[t]} {words[(t + s) % 16]} thing {s}"}
                     for s in range(samples_per_task)]} for t in range(tasks)]}
    return assistant_from_dict(data, path="big.json")


def test_large_bots_use_k_fold_with_a_note() -> None:
    bot = big_bot()
    assert sum(len(t.samples) for t in bot.tasks) > MAX_LEAVE_ONE_OUT
    # Its speed is measured in bench/ (bench_nlu.py), not asserted here.
    report = nlu_eval.evaluate(bot, folds=None)
    lint_assistant(bot, config=LintConfig(frozenset({"AP101"})))
    assert report.method == "10-fold" and "leave-one-out ran as 10-fold" in (report.note or "")
    assert "note: leave-one-out ran as 10-fold" in nlu_eval.report_text(report)
    small = nlu_eval.evaluate(big_bot(samples_per_task=10, tasks=3), folds=None)
    assert small.method == "leave-one-out" and small.note is None


def test_extra_file_missing_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["nlu-eval", str(HOSPITALITY / "assistant.json"), "--extra", str(tmp_path / "nope.csv")]) == 2
    assert str(tmp_path / "nope.csv") in capsys.readouterr().err
