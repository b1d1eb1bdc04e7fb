"""`memory_absent: [keys]` (a memory key that must not be set) and `tasks_run: [tasks]` (every task run on a
message, in order): pass when they hold, fail naming the key or the first task that differs, and are
refused at their place when malformed (issue 14, "Scenario expectations users asked for").

Autopilot's `remember` sets memory keys and `redirect: task://…` runs another task on the same message
(docs/autopilot-engine.md; /work/shared/reference, Actions: remember, redirect)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.hostile.kit import assert_refused, cli

BOT = {
    "uniqueName": "desk",
    "tasks": [
        {"uniqueName": "order", "samples": [{"language": "en-US", "taggedText": "i want towels"}],
         "actions": {"actions": [{"remember": {"item": "towels", "order": {"size": "large"}}},
                                 {"redirect": "task://confirm"}]}},
        {"uniqueName": "confirm", "samples": [{"language": "en-US", "taggedText": "confirm it"}],
         "actions": {"actions": [{"say": "Done."}, {"listen": True}]}},
    ],
}


def _scenario(tmp_path: Path, expect: str, final: str = "{}") -> Path:
    (tmp_path / "bot.json").write_text(json.dumps(BOT), encoding="utf-8")
    path = tmp_path / "desk.scenario.yaml"
    path.write_text(f"""\
bot: bot.json
scenarios:
  - name: orders
    turns:
      - user: i want towels
        expect: {expect}
    expect: {final}
""", encoding="utf-8")
    return path


def test_both_expectations_pass_when_they_hold(tmp_path: Path) -> None:
    path = _scenario(tmp_path, "{tasks_run: [order, confirm], memory_absent: [agent, order.color]}",
                     "{memory_absent: [sendToAgent]}")
    result = cli("run", path)
    assert result.code == 0, result.text


@pytest.mark.parametrize(("expect", "final", "line", "says"), [
    ("{tasks_run: [order]}", "{}", 6, "then also ran: confirm"),
    ("{tasks_run: [order, greet]}", "{}", 6, "task 2 of the turn: expected 'greet', ran 'confirm'"),
    ("{tasks_run: []}", "{}", 6, "order → confirm"),
    ("{memory_absent: [agent, item]}", "{}", 6, "memory.item: expected item not set"),
    ("{memory_absent: [order.size]}", "{}", 6, "memory.order.size: expected order.size not set"),
    ("{}", "{memory_absent: [item]}", 7, "memory.item: expected item not set"),
], ids=["one-missing", "wrong-second", "none-expected", "key-set", "dotted-path-set", "after-the-last-turn"])
def test_a_broken_expectation_fails_at_its_line_saying_what_differs(
        tmp_path: Path, expect: str, final: str, line: int, says: str) -> None:
    path = _scenario(tmp_path, expect, final)
    result = cli("run", path)
    assert result.code == 1, result.text
    assert f"desk.scenario.yaml:{line}" in result.text, result.text
    assert says in result.text, result.text


@pytest.mark.parametrize(("expect", "says"), [
    ("{memory_absent: item}", "expected"),
    ("{memory_absent: []}", "at least 1 item"),
    ("{tasks_run: order}", "expected"),
    ("{tasks_run: [1]}", "a task name"),
], ids=["absent-not-a-list", "absent-empty", "tasks-not-a-list", "task-not-a-name"])
def test_a_malformed_expectation_is_refused_at_its_place(tmp_path: Path, expect: str, says: str) -> None:
    path = _scenario(tmp_path, expect)
    assert_refused(cli("validate", path), names=path, line=6, says=says)
