"""Task expectations: `task: null` means no task ran, and a routing failure carries the router's reason."""

from __future__ import annotations

from pathlib import Path

from harness.expectations import check_turn
from harness.models.scenario import TurnExpect, load_scenario_file
from harness.runner.suite import run_suite
from harness.transcript import Turn
from tests.integration.small_bots import write, write_bot


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
