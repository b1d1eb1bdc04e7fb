"""`autopilot-harness run` and `report`: pyproject settings, output paths created or refused (exit 2)
before running, malformed bot files as invalid input, range-checked options, empty replay scenarios,
report cards' case ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from tests.conftest import EXAMPLES
from tests.scenario_texts import HOSPITALITY_BOT, LOW_CONFIDENCE, TINY_BOT

GOOD = f"""\
bot: {TINY_BOT}
scenarios:
  - name: greeting
    turns:
      - variants: [hello, hello there]
        expect: {{task: greet}}
"""
FAILING = f"""\
bot: {TINY_BOT}
scenarios:
  - name: wrong
    turns:
      - user: bye
        expect: {{task: greet}}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "suite").mkdir()
    (tmp_path / "suite" / "good.scenario.yaml").write_text(GOOD, encoding="utf-8")
    return tmp_path


def write_pyproject(folder: Path, body: str) -> None:
    (folder / "pyproject.toml").write_text(f"[tool.autopilot-harness]\n{body}", encoding="utf-8")


# --- run reads [tool.autopilot-harness] like the plugin ----------------------------------------------------


def test_run_uses_the_pyproject_threshold_and_the_option_overrides_it(project: Path) -> None:
    (project / "suite" / "low.scenario.yaml").write_text(LOW_CONFIDENCE, encoding="utf-8")
    assert main(["run", "suite/low.scenario.yaml", "-q"]) == 1  # default threshold: fallback
    write_pyproject(project, "threshold = 0.05\n")
    assert main(["run", "suite/low.scenario.yaml", "-q"]) == 0
    assert main(["run", "suite/low.scenario.yaml", "-q", "--threshold", "0.9"]) == 1


def test_run_uses_the_pyproject_scenario_glob(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "suite" / "other.scn.yaml").write_text(FAILING, encoding="utf-8")
    assert main(["run", "suite", "-q"]) == 0
    write_pyproject(project, 'scenario_glob = "*.scn.yaml"\n')
    capsys.readouterr()
    assert main(["run", "suite", "-v"]) == 1
    out = capsys.readouterr().out
    assert "other.scn.yaml::wrong" in out and "good.scenario.yaml" not in out


def test_a_bad_pyproject_value_is_exit_2_with_one_message(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_pyproject(project, 'threshold = "high"\n')
    assert main(["run", "suite"]) == 2
    captured = capsys.readouterr()
    assert "pyproject.toml:2: [tool.autopilot-harness] threshold: expected a number from 0 to 1" in captured.err
    assert "Traceback" not in captured.err + captured.out and captured.out == ""


# --- output paths -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("option", "target", "expected"), [
    ("--json", "/proc/x.json", "cannot"),
    ("--junit", ".", "is a folder"),
    ("--coverage-out", "suite", "is a folder"),
])
def test_bad_output_paths_are_one_message_and_exit_2_before_running(
        project: Path, capsys: pytest.CaptureFixture[str], option: str, target: str, expected: str) -> None:
    assert main(["run", "suite", option, target]) == 2
    captured = capsys.readouterr()
    assert f"{option} {target}: " in captured.err and expected in captured.err
    assert "Traceback" not in captured.err and captured.out == ""  # nothing ran


def test_missing_parent_folders_are_created_for_every_output(project: Path) -> None:
    assert main(["run", "suite", "-q", "--json", "out/a/results.json", "--junit", "out/b/junit.xml"]) == 0
    assert json.loads((project / "out/a/results.json").read_text(encoding="utf-8"))["summary"]["passed"] == 2
    assert main(["report", "out/a/results.json", "-o", "out/c/report.html"]) == 0
    assert (project / "out/c/report.html").is_file()
    assert main(["coverage", "out/a/results.json", "-o", "out/d/coverage.txt"]) == 0
    assert (project / "out/d/coverage.txt").is_file()


def test_report_to_an_unwritable_path_is_exit_2(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "suite", "-q", "--json", "results.json"]) == 0
    capsys.readouterr()
    assert main(["report", "results.json", "-o", "/proc/no/report.html"]) == 2
    assert main(["report", "results.json", "-o", "suite"]) == 2
    err = capsys.readouterr().err
    assert "-o /proc/no/report.html: cannot create the folder" in err and "-o suite: is a folder" in err
    assert "Traceback" not in err


# --- exit codes: a malformed referenced file is invalid input ---------------------------------------------


def test_a_malformed_bot_file_is_invalid_input_exit_2(project: Path) -> None:
    (project / "broken.json").write_text('{"uniqueName": "x", "tasks": [', encoding="utf-8")
    (project / "suite" / "good.scenario.yaml").unlink()
    (project / "suite" / "b.scenario.yaml").write_text(
        "bot: ../broken.json\nscenarios:\n  - name: a\n    turns:\n      - user: hi\n", encoding="utf-8")
    assert main(["run", "suite", "-q", "--json", "r.json"]) == 2
    case = json.loads((project / "r.json").read_text(encoding="utf-8"))["cases"][0]
    assert case["status"] == "error" and case["invalid_input"] is True and "malformed JSON" in case["error"]
    # A real failure beside it still makes the run exit 1.
    (project / "suite" / "f.scenario.yaml").write_text(FAILING, encoding="utf-8")
    assert main(["run", "suite", "-q"]) == 1


def test_a_flow_given_as_the_bot_is_invalid_input(project: Path) -> None:
    flow = EXAMPLES / "hospitality" / "flows" / "flex_messaging.json"
    (project / "suite" / "good.scenario.yaml").write_text(
        f"bot: {flow.as_posix()}\nscenarios:\n  - name: a\n    turns:\n      - user: hi\n", encoding="utf-8")
    assert main(["run", "suite", "-q"]) == 2


# --- range checks -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [
    ["run", "suite", "--threshold", "2"],
    ["run", "suite", "--threshold", "-0.1"],
    ["run", "suite", "--fail-under-tasks", "150"],
    ["run", "suite", "--fail-under-transitions", "abc"],
    ["coverage", "results.json", "--fail-under-tasks", "-5"],
    ["nlu-eval", HOSPITALITY_BOT, "--threshold", "1.5"],
])
def test_values_out_of_range_exit_2(project: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "expected a" in err and ("0 to 1" in err or "0 to 100" in err)


def test_an_empty_replay_scenario_fails(project: Path) -> None:
    (project / "suite" / "e.json").write_text("[]", encoding="utf-8")
    (project / "suite" / "good.scenario.yaml").write_text(
        "url_map: {}\nscenarios:\n  - name: nothing\n    replay: {requests: e.json, url: 'http://127.0.0.1:9/x'}\n",
        encoding="utf-8")
    assert main(["run", "suite", "-q", "--json", "r.json"]) == 1
    case = json.loads((project / "r.json").read_text(encoding="utf-8"))["cases"][0]
    assert case["mismatches"][0]["actual"] == '"none in the recording"'


# --- the HTML report shows case ids ---------------------------------------------------------------------


def test_report_cards_show_the_case_id_of_each_variant(project: Path) -> None:
    assert main(["run", "suite", "-q", "--json", "results.json"]) == 0
    assert main(["report", "results.json", "-o", "report.html"]) == 0
    html = (project / "report.html").read_text(encoding="utf-8")
    assert "greeting[v1]" in html and "greeting[v2]" in html
