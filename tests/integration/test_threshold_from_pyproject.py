"""QA2 item 2: chat, nlu-eval and lint (AP104) read `[tool.autopilot-harness] threshold`; --threshold wins."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from harness.cli import build_parser, main
from harness.cli.chat import options_from_args
from harness.insight.lint_rules import LintConfig, lint_assistant
from harness.models.assistant_loader import load_assistant
from tests.integration.small_bots import restaurant, write, write_bot


def _project(tmp_path: Path, threshold: float) -> Path:
    write(tmp_path / "pyproject.toml", f"[tool.autopilot-harness]\nthreshold = {threshold}\n")
    return write_bot(tmp_path)


def _chat_args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["chat", *argv])


def test_chat_takes_the_threshold_of_the_pyproject_above_the_bot(tmp_path: Path, monkeypatch) -> None:
    bot = _project(tmp_path / "proj", 0.99)
    monkeypatch.chdir(tmp_path)  # not the project folder: the bot's location decides
    assert options_from_args(_chat_args("--bot", str(bot), "--say", "hi")).threshold == 0.99
    assert options_from_args(_chat_args("--bot", str(bot), "--threshold", "0.2")).threshold == 0.2


def test_chat_routes_with_it(tmp_path: Path, monkeypatch, capsys) -> None:
    bot = _project(tmp_path, 1.0)
    monkeypatch.chdir(tmp_path)
    # "soup table" is no sample (a scored match is at most 0.99 sure): the 1.0 threshold sends it to the
    # fallback.
    assert main(["chat", "--bot", str(bot), "--say", "soup table", "--json"]) == 0
    turn = json.loads(capsys.readouterr().out)["turns"][0]
    assert turn["task"] == "fallback" and "below the threshold 1.0" in turn["routing_note"]


def test_nlu_eval_reads_it_and_the_option_overrides(tmp_path: Path, capsys) -> None:
    bot = _project(tmp_path, 1.0)
    extra = write(tmp_path / "extra.csv", "text,task\nsoup table,get-specials\n")
    assert main(["nlu-eval", str(bot), "--extra", str(extra), "--json"]) == 0
    strict = json.loads(capsys.readouterr().out)["extra"]["predictions"][0]
    assert strict["predicted"] == "(none)"
    assert main(["nlu-eval", str(bot), "--extra", str(extra), "--json", "--threshold", "0.1"]) == 0
    loose = json.loads(capsys.readouterr().out)["extra"]["predictions"][0]
    assert loose["predicted"] != "(none)"


def _misrouting_bot(folder: Path) -> Path:
    data = restaurant()
    # A greeting sample that, held out, routes to make-reservation with confidence ~0.56: AP104 at a low
    # threshold, the fallback (no finding) at 1.0.
    data["tasks"][0]["samples"].append({"language": "en-US", "taggedText": "table tonight please"})
    return write_bot(folder, data)


def test_lint_ap104_uses_the_threshold(tmp_path: Path) -> None:
    assistant = load_assistant(_misrouting_bot(tmp_path))
    loose = [f for f in lint_assistant(assistant, config=LintConfig(threshold=0.0)) if f.rule.id == "AP104"]
    strict = [f for f in lint_assistant(assistant, config=LintConfig(threshold=1.0)) if f.rule.id == "AP104"]
    assert loose and len(strict) < len(loose)


def test_lint_cli_reads_pyproject_and_threshold_option(tmp_path: Path, capsys) -> None:
    write(tmp_path / "pyproject.toml", "[tool.autopilot-harness]\nthreshold = 1.0\n")
    bot = _misrouting_bot(tmp_path)
    main(["lint", str(bot), "--json"])
    configured = json.dumps(json.loads(capsys.readouterr().out)).count("AP104")
    main(["lint", str(bot), "--json", "--threshold", "0"])
    overridden = json.dumps(json.loads(capsys.readouterr().out)).count("AP104")
    assert overridden > configured


def test_a_bad_threshold_in_pyproject_is_exit_2(tmp_path: Path, capsys) -> None:
    write(tmp_path / "pyproject.toml", "[tool.autopilot-harness]\nthreshold = 7\n")
    bot = write_bot(tmp_path)
    assert main(["nlu-eval", str(bot)]) == 2
    assert "threshold: expected a number from 0 to 1" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["1.5", "x"])
def test_lint_threshold_option_is_checked(value: str, capsys) -> None:
    assert main(["lint", "nothing.json", "--threshold", value]) == 2
