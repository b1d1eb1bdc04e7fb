"""QA2 items 7, 8, 9, 10, 11, 15: nlu-eval fallback labels, the twilio-run hint, closed pipes, stale
goldens, the folders `run` skips, coverage that has nothing to measure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import build_parser, main
from harness.engines.twilio.functions import TWILIO_RUN_ENV, find_twilio_run
from harness.errors import UsageError
from harness.insight.coverage import CoverageReport, coverage_failures, coverage_text
from harness.runner.scenarios import collect_files, run_suite
from tests.integration.small_bots import write, write_bot

ROOT = Path(__file__).resolve().parents[2]

# --- 7: nlu-eval --extra fallback labels --------------------------------------------------------------


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


# --- 8: the twilio-run hint ------------------------------------------------------------------------------


def test_twilio_run_missing_names_both_installs_and_each_folder_once(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv(TWILIO_RUN_ENV, raising=False)
    with pytest.raises(UsageError) as caught:
        find_twilio_run(tmp_path, cwd=tmp_path)
    err = caught.value
    assert str(tmp_path.resolve()) in err.message and " and " not in err.message
    assert "npm install --save-dev twilio-run@5.0.1" in err.hint and "npm ci" in err.hint


# --- 9: a reader that goes away -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_lint_into_a_closed_pipe_prints_no_traceback(tmp_path: Path, fmt: str) -> None:
    # Enough findings to overflow the pipe buffer, so the write really meets the closed pipe.
    data = json.loads(write_bot(tmp_path).read_text())
    data["tasks"] += [{"uniqueName": f"t{i}", "actions": {"actions": [{"say": "x"}]}, "fields": [],
                       "samples": []} for i in range(1500)]
    bot = write(tmp_path / "big.json", json.dumps(data))
    command = f"{sys.executable} -m harness lint {bot} --format {fmt} | head -2"
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, cwd=ROOT, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert len(done.stdout.splitlines()) == 2
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr


# --- 10: goldens of scenarios that no longer exist ----------------------------------------------------------

SUITE = """bot: bot.json
scenarios:
  - name: {name}
    tags: [t]
    turns: [{{user: hi}}]
  - name: specials
    turns: [{{user: any specials}}]
"""


def test_update_golden_prunes_stale_goldens_and_a_plain_run_reports_them(tmp_path: Path, monkeypatch,
                                                                         capsys) -> None:
    write_bot(tmp_path)
    path = write(tmp_path / "g.scenario.yaml", SUITE.format(name="hello"))
    monkeypatch.chdir(tmp_path)
    assert main(["run", "-q", "--update-golden", "g.scenario.yaml"]) == 0
    write(path, SUITE.format(name="greeting"))  # renamed: hello.json is stale now
    capsys.readouterr()
    assert main(["run", "-q", "g.scenario.yaml"]) == 0
    out = capsys.readouterr().out
    assert "g.golden/hello.json" in out and "no scenario" in out
    assert run_suite(["g.scenario.yaml"]).golden_orphans == ["g.golden/hello.json"]
    # Under a filter the rest of the file did not run: nothing is removed.
    assert main(["run", "-q", "--update-golden", "--tag", "t", "g.scenario.yaml"]) == 0
    assert (tmp_path / "g.golden" / "hello.json").is_file()
    suite = run_suite(["g.scenario.yaml"], update_golden=True)
    assert suite.golden_pruned == ["g.golden/hello.json"] and suite.to_dict()["golden"]["pruned"]
    assert sorted(p.name for p in (tmp_path / "g.golden").iterdir()) == ["greeting.json", "specials.json"]
    assert "golden" not in run_suite(["g.scenario.yaml"]).to_dict()  # nothing to say: no key


# --- 11: the folders `run` skips, as pytest does ---------------------------------------------------------------


def test_run_skips_pytests_norecursedirs_unless_named(tmp_path: Path) -> None:
    for folder in ("build", "dist", ".hidden", "node_modules/pkg", "venv", "x.egg", "env", "ok/deeper"):
        write(tmp_path / folder / "a.scenario.yaml", "scenarios: []\n")
    write(tmp_path / "env" / "pyvenv.cfg", "home = /usr\n")  # a virtualenv under another name
    found = [p.relative_to(tmp_path).as_posix() for p in collect_files([tmp_path])]
    assert found == ["ok/deeper/a.scenario.yaml"]
    assert collect_files([tmp_path / "build"]) == [tmp_path / "build" / "a.scenario.yaml"]


# --- 15: coverage with nothing to measure -------------------------------------------------------------------


def test_an_empty_dimension_is_na_and_a_limit_on_it_says_so() -> None:
    report = CoverageReport(bots=[], flows=[], cases=1)
    assert report.transition_percent is None and report.to_dict()["summary"]["transitions"] is None
    assert "transitions n/a" in coverage_text(report)
    [line] = coverage_failures(report, transitions=50)
    assert "n/a" in line and "--fail-under-transitions" in line
    assert coverage_failures(report) == []
