"""Lint settings from `[tool.autopilot-harness.lint]`: found from the files linted (per-file patterns
relative to the pyproject's folder), badly typed settings and typo keys are one message with exit 2, folders
are linted."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from tests.conftest import EXAMPLES

HOSPITALITY = EXAMPLES / "hospitality"
FLOW = json.loads((HOSPITALITY / "flows" / "flex_messaging.json").read_text())


def write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def project(tmp_path: Path, lint_table: str) -> Path:
    """A project folder: pyproject.toml with `lint_table`, a flow with unwired failures under flows/."""
    broken = copy.deepcopy(FLOW)
    bot_state = next(s for s in broken["states"] if s["name"] == "HotelBot")
    bot_state["transitions"] = [t for t in bot_state["transitions"] if t["event"] != "failure"]  # ST205 (+ST206)
    write(tmp_path / "proj" / "flows" / "bad.json", broken)
    write(tmp_path / "proj" / "pyproject.toml", "[tool.autopilot-harness.lint]\n" + lint_table)
    return tmp_path / "proj"


@pytest.mark.parametrize("how", ["relative", "absolute", "from_subfolder", "from_outside"])
def test_per_file_patterns_apply_however_the_file_is_typed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], how: str) -> None:
    root = project(tmp_path, 'per-file-disable = {"flows/*.json" = ["ST205", "ST206"]}\n')
    cwd, arg = {"relative": (root, "flows/bad.json"), "absolute": (root, str(root / "flows/bad.json")),
                "from_subfolder": (root / "flows", "bad.json"),
                "from_outside": (tmp_path, "proj/flows/bad.json")}[how]
    monkeypatch.chdir(cwd)
    main(["lint", arg])
    out = capsys.readouterr().out
    assert "ST205" not in out and "ST206" not in out
    monkeypatch.chdir(tmp_path)  # control: without the table the same file has both findings
    (root / "pyproject.toml").write_text("[project]\nname='x'\n")
    main(["lint", "proj/flows/bad.json"])
    out = capsys.readouterr().out
    assert "[ST205]" in out and "[ST206]" in out


@pytest.mark.parametrize(("table", "expected"), [
    ("[tool.autopilot-harness.lint]\ndisable = 5\n", "disable: expected a list of rule ids"),
    ('[tool.autopilot-harness.lint]\ndisable = "AP101"\n', "found 'AP101' (str)"),
    ('[tool.autopilot-harness.lint]\ndisabled = ["AP101"]\n', "unknown key 'disabled'"),
    ('[tool.autopilot-harness.lint]\nper-file-disable = {"x" = "ST205"}\n', "per-file-disable.x"),
    ('[tool.autopilot-harness.lint]\ndisable = ["AP999"]\n', "unknown lint rule id(s): AP999"),
    ("[tool.autopilot-harness]\nlint = 5\n", "[tool.autopilot-harness.lint]: expected a table"),
])
def test_bad_lint_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str, expected: str
                             ) -> None:
    write(tmp_path / "pyproject.toml", table)
    flow_file = write(tmp_path / "f.json", FLOW)
    assert main(["lint", str(flow_file)]) == 2
    err = capsys.readouterr().err
    assert expected in err and "pyproject.toml" in err and "Traceback" not in err


def test_typo_key_gets_a_did_you_mean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "pyproject.toml", '[tool.autopilot-harness.lint]\ndisabled = ["AP101"]\n')
    assert main(["lint", str(write(tmp_path / "f.json", FLOW))]) == 2
    assert "did you mean 'disable'?" in capsys.readouterr().err


def test_lint_accepts_folders(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", str(HOSPITALITY / "flows")]) == 0
    assert "5 file(s) checked" in capsys.readouterr().out  # the hotel's five flows
