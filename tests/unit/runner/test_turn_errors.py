"""Task names and turn errors in a run: misspelt tasks are invalid input (exit 2) with a suggestion, and an
engine error names the turn it broke (in a scenario and in chat)."""

from __future__ import annotations

from pathlib import Path

from harness.cli import main
from harness.runner.suite import run_suite
from tests.integration.small_bots import restaurant, write, write_bot


def test_a_misspelt_task_is_invalid_input_with_did_you_mean(tmp_path: Path) -> None:
    write_bot(tmp_path)
    scenario = write(tmp_path / "typo.scenario.yaml", """bot: bot.json
scenarios:
  - name: typo
    turns:
      - user: book a table
        expect: {task: make_reservation, next_best_task: get_specials}
""")
    suite = run_suite([scenario])
    case = suite.cases[0]
    assert case.status == "error" and case.invalid_input
    assert "typo.scenario.yaml:6:24" in case.error
    assert "the bot has no task 'make_reservation'" in case.error
    assert "did you mean 'make-reservation'?" in case.error
    assert "did you mean 'get-specials'?" in case.error
    assert int(suite.exit_code) == 2


def test_cli_run_exits_2_for_a_misspelt_task(tmp_path: Path, monkeypatch, capsys) -> None:
    write_bot(tmp_path)
    write(tmp_path / "typo.scenario.yaml", """bot: bot.json
scenarios:
  - name: typo
    target_task: make_reservaton
    turns: [{user: hi}]
""")
    monkeypatch.chdir(tmp_path)
    assert main(["run", "."]) == 2
    assert "the bot has no task 'make_reservaton'" in capsys.readouterr().out


def _broken_webhook_bot(folder: Path) -> Path:
    # The reservation task calls a URL nobody answers: a WebhookError on that turn.
    return write_bot(folder, restaurant(book_actions=[{"redirect": "http://127.0.0.1:9/book"}]))


def test_a_webhook_error_in_a_scenario_names_the_turn(tmp_path: Path) -> None:
    _broken_webhook_bot(tmp_path)
    scenario = write(tmp_path / "w.scenario.yaml", """bot: bot.json
scenarios:
  - name: webhook down
    turns:
      - user: hi
      - user: book a table
""")
    case = run_suite([scenario]).cases[0]
    assert case.status == "error"
    assert case.error.startswith('turn 2 ("book a table"): ')


def test_a_webhook_error_in_chat_names_the_turn(tmp_path: Path, capsys) -> None:
    bot = _broken_webhook_bot(tmp_path)
    assert main(["chat", "--bot", str(bot), "--say", "hi", "--say", "book a table"]) == 2
    assert 'autopilot-harness chat: turn 2 ("book a table"): ' in capsys.readouterr().err
