"""`autopilot-harness validate PATH…` loads scenario files as `run` does, without running them: every problem of
every file with its place, exit 2 on bad input, the other files still checked (issue 14, pre-commit)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hostile.kit import GOOD_SCENARIO, TINY_BOT, assert_refused, cli

BAD_FILES = [
    # (why, scenario text, line named, what is said)
    ("unknown key", GOOD_SCENARIO.replace("expect: {task: greet}", "expekt: {task: greet}"), 6, "unknown key"),
    ("unquoted yes", GOOD_SCENARIO.replace("user: hello", "user: yes"), 5, "`yes` is ambiguous"),
    ("malformed YAML", GOOD_SCENARIO + "  - name: [oops\n", 7, "malformed YAML"),
    ("bot missing", GOOD_SCENARIO.replace(TINY_BOT.as_posix(), "missing.json"), 1, "file not found"),
    ("bad regex", GOOD_SCENARIO.replace("expect: {task: greet}", "expect: {replies: [{regex: '(' }]}"), 6,
     "invalid regex"),
]


@pytest.mark.parametrize(("text", "line", "says"), [row[1:] for row in BAD_FILES], ids=[row[0] for row in BAD_FILES])
def test_a_bad_scenario_file_is_refused_at_its_place_and_the_good_one_still_checked(
        tmp_path: Path, text: str, line: int, says: str) -> None:
    bad = tmp_path / "bad.scenario.yaml"
    bad.write_text(text, encoding="utf-8")
    (tmp_path / "good.scenario.yaml").write_text(GOOD_SCENARIO, encoding="utf-8")
    result = cli("validate", tmp_path)
    assert_refused(result, names=bad, line=line, says=says)
    assert "ok  " in result.out and "good.scenario.yaml" in result.out
    assert "1 valid, 1 invalid scenario files" in result.err


def test_a_malformed_bot_or_flow_the_file_names_is_refused_once_with_its_own_place(tmp_path: Path) -> None:
    (tmp_path / "bot.json").write_text('{"tasks": [}', encoding="utf-8")
    text = GOOD_SCENARIO.replace(TINY_BOT.as_posix(), "bot.json")
    for name in ("a", "b"):
        (tmp_path / f"{name}.scenario.yaml").write_text(text, encoding="utf-8")
    result = cli("validate", tmp_path)
    assert_refused(result, names="bot.json", line=1, says="malformed JSON")
    assert result.err.count("bot.json:1:") == 2  # named for each file that uses it, read once


def test_valid_files_exit_0_and_quiet_prints_nothing(tmp_path: Path) -> None:
    good = tmp_path / "good.scenario.yaml"
    good.write_text(GOOD_SCENARIO, encoding="utf-8")
    assert cli("validate", good).code == 0
    quiet = cli("validate", "--quiet", good)
    assert (quiet.code, quiet.out, quiet.err) == (0, "", "")


def test_nothing_to_validate_exits_5_and_a_missing_path_2(tmp_path: Path) -> None:
    (tmp_path / "notes.yaml").write_text("a: 1\n", encoding="utf-8")
    empty = cli("validate", tmp_path)
    assert empty.code == 5 and "no scenario files" in empty.err
    assert_refused(cli("validate", tmp_path / "nope.scenario.yaml"), says="no such file or folder")


def test_the_bundled_suite_validates() -> None:
    from tests.conftest import ROOT

    result = cli("validate", ROOT / "scenarios")
    assert result.code == 0, result.text
    files = len(list((ROOT / "scenarios").rglob("*.scenario.yaml")))
    assert files >= 6 and f"{files} valid, 0 invalid" in result.out
