"""Colour follows one rule in every command (a terminal: on; a pipe or file: off; NO_COLOR wins, FORCE_COLOR
turns it on for CI logs), and `-q` means "problems and the final line" in run, lint and validate (issue 14)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from harness.cli.style import colour_wanted
from tests.hostile.kit import GOOD_SCENARIO, TINY_BOT, cli

ESC = "\033["


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("environ", "tty", "wanted"), [
    ({}, True, True),
    ({}, False, False),
    ({"NO_COLOR": "1"}, True, False),
    ({"NO_COLOR": ""}, True, True),  # no-color.org: only a non-empty value counts
    ({"FORCE_COLOR": "1"}, False, True),
    ({"FORCE_COLOR": "0"}, False, False),
    ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, True, False),  # NO_COLOR wins, as in CPython
    ({"TERM": "dumb"}, True, False),
])
def test_colour_rule(environ: dict[str, str], tty: bool, wanted: bool) -> None:
    stream = _Tty() if tty else io.StringIO()
    assert colour_wanted(stream, environ) is wanted


def _suite(tmp_path: Path) -> Path:
    (tmp_path / "good.scenario.yaml").write_text(GOOD_SCENARIO, encoding="utf-8")
    (tmp_path / "bad.scenario.yaml").write_text(GOOD_SCENARIO.replace("task: greet", "task: goodbye"),
                                                encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("command", [["run"], ["run", "-v"], ["validate"]])
def test_commands_colour_only_when_asked_and_never_with_no_color(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]) -> None:
    folder = _suite(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    assert ESC not in cli(*command, folder).text  # captured output is not a terminal
    monkeypatch.setenv("FORCE_COLOR", "1")
    coloured = cli(*command, folder).text
    assert ESC in coloured, coloured
    monkeypatch.setenv("NO_COLOR", "1")
    assert ESC not in cli(*command, folder).text


def test_run_colours_marks_and_the_final_line_by_outcome(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    result = cli("run", _suite(tmp_path))
    assert f"{ESC}31mF{ESC}0m" in result.out and f"{ESC}32m.{ESC}0m" in result.out
    assert f"{ESC}31m1 passed, 1 failed" in result.out


def test_lint_quiet_prints_errors_and_the_final_line_only(tmp_path: Path) -> None:
    # The tiny bot has too few samples: warnings (AP101), no errors.
    full = cli("lint", TINY_BOT)
    quiet = cli("lint", "-q", TINY_BOT)
    assert full.code == quiet.code == 0
    assert "warning:" in full.out and "warning:" not in quiet.out
    assert quiet.out.strip() == "1 file(s) checked: 0 error(s), 2 warning(s)"
    broken = tmp_path / "flow.json"
    broken.write_text('{"states": [}', encoding="utf-8")
    assert "error: " in cli("lint", "-q", broken).out
