"""QA2 items 4, 5, 6, 12, 14: the router's reason shown, `task: null`, misspelt tasks and bot SIDs found
before anything runs, engine errors naming their turn."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.errors import HarnessError
from harness.expectations import check_turn
from harness.models.scenario import TurnExpect, load_scenario_file
from harness.runner.scenarios import run_suite
from harness.transcript import Turn
from tests.integration.small_bots import restaurant, write, write_bot

# --- 4: Routing.note -------------------------------------------------------------------------------


def test_explain_and_json_show_the_routers_reason(tmp_path: Path, capsys) -> None:
    bot = write_bot(tmp_path)
    # The lexical router's note on a lone scoring task (the model router's confidence says how sure it is).
    assert main(["chat", "--bot", str(bot), "--say", "book a table please", "--explain", "--router", "lexical"]) == 0
    text = capsys.readouterr().out
    assert "why: closest sample 'book a table'" in text
    assert "the only task that scored, so confidence is 1.0" in text
    assert main(["chat", "--bot", str(bot), "--say", "my dog is sick", "--json"]) == 0
    turn = json.loads(capsys.readouterr().out)["turns"][0]
    assert turn["task"] == "fallback"
    assert "below min_score" in turn["routing_note"] and "defaults.fallback" in turn["routing_note"]


def test_a_routing_failure_diff_carries_the_reason(tmp_path: Path) -> None:
    bot = write_bot(tmp_path)
    scenario = write(tmp_path / "t.scenario.yaml", f"""bot: {bot.name}
scenarios:
  - name: off topic
    turns:
      - user: my dog is sick
        expect: {{task: greeting}}
""")
    case = run_suite([scenario]).cases[0]
    assert case.status == "failed"
    assert "why: best score" in case.failure_text() and "below min_score" in case.failure_text()


# --- 5: task: null ---------------------------------------------------------------------------------


def test_task_null_loads_and_means_no_task_ran(tmp_path: Path) -> None:
    write_bot(tmp_path)
    scenario_file = load_scenario_file(write(tmp_path / "n.scenario.yaml", """bot: bot.json
scenarios:
  - name: nothing ran
    turns:
      - user: hi
        expect: {task: null}
"""))
    expect = scenario_file.scenarios[0].turns[0].expect
    assert expect.no_task and expect.task is None and not expect.is_empty
    assert check_turn(expect, Turn(index=0, user="x", task=None)) == []
    [mismatch] = check_turn(expect, Turn(index=0, user="x", task="greeting", routing="exact"))
    assert mismatch.key == "task" and mismatch.actual == "greeting" and "task: null" in mismatch.detail
    assert check_turn(TurnExpect(), Turn(index=0, user="x", task="greeting")) == []  # absent: unchecked


def test_task_null_fails_a_turn_that_ran_a_task(tmp_path: Path) -> None:
    write_bot(tmp_path)
    scenario = write(tmp_path / "n.scenario.yaml", """bot: bot.json
scenarios:
  - name: greeting is a task
    turns:
      - user: hi
        expect: {task: null}
""")
    assert run_suite([scenario]).cases[0].status == "failed"


# --- 6: a task the bot does not have ----------------------------------------------------------------


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


# --- 12: engine errors name the turn ----------------------------------------------------------------


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


# --- 14: a bot SID map that names none of the flow's widgets ---------------------------------------


def _flow(sid: str) -> str:
    return json.dumps({"description": "t", "initial_state": "Trigger", "flags": {"allow_concurrent_calls": True},
                       "states": [
                           {"name": "Trigger", "type": "trigger",
                            "transitions": [{"event": "incomingMessage", "next": "bot"}], "properties": {}},
                           {"name": "bot", "type": "send-to-auto-pilot", "transitions": [],
                            "properties": {"autopilot_assistant_sid": sid, "body": "{{trigger.message.Body}}",
                                           "from": "Bot", "chat_channel": "{{trigger.message.ChannelSid}}",
                                           "timeout": 14400}}]})


SID = "UA" + "1" * 32


def test_a_bot_map_naming_no_widget_sid_is_a_load_error(tmp_path: Path) -> None:
    write_bot(tmp_path)
    write(tmp_path / "flow.json", _flow(SID))
    path = write(tmp_path / "m.scenario.yaml", f"""flow: flow.json
bot:
  UA{"1" * 31}2: bot.json
scenarios:
  - name: hi
    turns: [{{user: hi}}]
""")
    with pytest.raises(HarnessError) as caught:
        load_scenario_file(path)
    text = caught.value.render()
    assert "m.scenario.yaml:3:3" in text and f"the flow's assistant SIDs: {SID}" in text
    assert f"did you mean {SID}?" in text


def test_a_matching_sid_loads(tmp_path: Path) -> None:
    write_bot(tmp_path)
    write(tmp_path / "flow.json", _flow(SID))
    path = write(tmp_path / "m.scenario.yaml", f"""flow: flow.json
bot:
  {SID}: bot.json
scenarios:
  - name: hi
    turns: [{{user: hi}}]
""")
    assert load_scenario_file(path).bots
