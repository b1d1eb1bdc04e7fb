"""`nlu-eval --extra`: fallback labels when nothing routes, and the files `--out` writes."""

from __future__ import annotations

import json
from pathlib import Path

from harness.cli import build_parser, main
from tests.integration.small_bots import write, write_bot


def test_fallback_labels_count_as_correct_when_nothing_routes(tmp_path: Path, capsys) -> None:
    bot = write_bot(tmp_path)
    extra = write(tmp_path / "extra.csv", "text,task\nmy dog is sick,fallback\nsign the form,\n"
                                          "the weather on mars,fallback\nbook a table,make-reservation\n")
    assert main(["nlu-eval", str(bot), "--extra", str(extra), "--json"]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)["extra"]
    assert report["accuracy"] == 1.0
    assert {p["gold"] for p in report["predictions"][:3]} == {"(none)"}
    assert "" not in report["labels"] and "fallback" not in report["labels"]
    assert "not a task" not in captured.err  # `fallback` and '' are known labels, not typos


def test_the_fallback_tasks_own_name_is_a_fallback_label(tmp_path: Path, capsys) -> None:
    bot = write_bot(tmp_path)  # defaults.fallback is task://fallback
    extra = write(tmp_path / "extra.yaml", "fallback: [my dog is sick]\nget-specials: [my dog is sick]\n")
    assert main(["nlu-eval", str(bot), "--extra", str(extra), "--json"]) == 0
    correct = [p["gold"] == p["predicted"] for p in json.loads(capsys.readouterr().out)["extra"]["predictions"]]
    assert correct == [True, False]


def test_nlu_eval_help_names_the_files_out_writes(tmp_path: Path) -> None:
    subparsers = next(a for a in build_parser()._actions if a.dest == "command")
    text = subparsers.choices["nlu-eval"].format_help()
    assert "report.txt" in text and "report.md" not in text
    bot = write_bot(tmp_path)
    assert main(["nlu-eval", str(bot), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "report.txt").is_file()
