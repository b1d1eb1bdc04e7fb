"""`autopilot-harness run`: progress, failure diffs, the summary table, report files and exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import pytest

from harness.cli import main

TINY_BOT = (Path(__file__).resolve().parents[1] / "fixtures" / "scenarios" / "bot.json").as_posix()

GOOD = f"""\
bot: {TINY_BOT}
scenarios:
  - name: hello
    tags: [smoke]
    turns:
      - variants: [hello, hello there]
        expect: {{task: greet}}
"""
BAD_EXPECTATION = f"""\
bot: {TINY_BOT}
scenarios:
  - name: expects the wrong task
    turns:
      - user: bye
        expect: {{task: greet}}
"""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # paths in the output are relative to the working directory
    (tmp_path / "suite").mkdir()
    (tmp_path / "suite" / "good.scenario.yaml").write_text(GOOD, encoding="utf-8")
    return tmp_path / "suite"


def test_all_passed_exit_0_with_progress_and_table(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(folder)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == ".."
    assert "file                      scenario   status  time" in out
    assert "suite/good.scenario.yaml  hello[v2]  passed" in out
    assert lines[-1].startswith("2 passed, 2 without golden in ")  # no golden files: said, not silent


def test_verbose_prints_one_line_per_case(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "-v", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "PASSED  suite/good.scenario.yaml::hello[v1]  (" in out


def test_a_failure_exits_1_and_shows_the_diff(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (folder / "bad.scenario.yaml").write_text(BAD_EXPECTATION, encoding="utf-8")
    assert main(["run", "--quiet", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "suite/bad.scenario.yaml::expects the wrong task" in out
    assert 'task: expected "greet", got "goodbye"  [suite/bad.scenario.yaml:6:24]' in out
    assert "file " not in out  # --quiet: no table
    assert out.splitlines()[-1].startswith("2 passed, 1 failed, 3 without golden in ")


def test_only_invalid_input_exits_2(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (folder / "broken.scenario.yaml").write_text("scenarios: [\n", encoding="utf-8")
    assert main(["run", str(folder)]) == 2
    out = capsys.readouterr().out
    assert out.startswith("E..\n") and "suite/broken.scenario.yaml:2:1: malformed YAML" in out
    assert "Traceback" not in out


def test_nothing_collected_exits_5(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(tmp_path)]) == 5
    assert "no scenarios ran" in capsys.readouterr().out


def test_usage_errors_exit_2(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "missing/"]) == 2
    assert "missing/: no such file or folder" in capsys.readouterr().err
    assert main(["run", "-k", "a and", str(folder)]) == 2
    assert "-k 'a and'" in capsys.readouterr().err


def test_selection_by_k_and_tag(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (folder / "bad.scenario.yaml").write_text(BAD_EXPECTATION, encoding="utf-8")
    assert main(["run", "-q", "-k", "v2", str(folder)]) == 0
    assert "1 passed, 2 deselected" in capsys.readouterr().out
    assert main(["run", "-q", "--tag", "smoke", str(folder)]) == 0
    assert "2 passed, 1 deselected" in capsys.readouterr().out


def test_junit_and_json_files(folder: Path, tmp_path: Path) -> None:
    (folder / "bad.scenario.yaml").write_text(BAD_EXPECTATION, encoding="utf-8")
    junit, results = tmp_path / "out" / "junit.xml", tmp_path / "out" / "results.json"
    assert main(["run", "-q", "--junit", str(junit), "--json", str(results), str(folder)]) == 1
    root = ElementTree.parse(junit).getroot()
    assert (root.get("tests"), root.get("failures")) == ("3", "1")
    data = json.loads(results.read_text(encoding="utf-8"))
    assert data["summary"] == {"passed": 2, "failed": 1, "error": 0, "total": 3}
    assert sorted(data["files"]) == ["suite/bad.scenario.yaml", "suite/good.scenario.yaml"]


def test_update_golden_reports_what_it_wrote(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--update-golden", str(folder)]) == 0
    assert "2 golden written" in capsys.readouterr().out
    assert sorted(p.name for p in (folder / "good.golden").iterdir()) == ["hello[v1].json", "hello[v2].json"]
