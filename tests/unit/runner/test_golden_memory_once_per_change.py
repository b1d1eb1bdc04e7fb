"""Smaller goldens (issue 14): the memory snapshot is stored once per change, not per turn, yet every turn's
memory is still compared; version-1 goldens (memory on every turn) still compare, unknown versions are refused
with "re-record"; a changed text shows where it differs."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from harness.runner.golden import compact_memory, golden_diff, text_difference, turn_memories
from harness.runner.suite import run_suite
from tests.unit.runner.scenario_files import PASSING, write_scenario

ROOM_12 = {"room": "12"}
ROOM_12_TOWELS = {"room": "12", "towels": 2}


def _full() -> dict:
    """A live transcript: memory on every turn (what version 1 stored)."""
    return {"turns": [{"user": "hi", "task": "greet", "memory": ROOM_12},
                      {"user": "towels", "task": "items", "memory": ROOM_12_TOWELS},
                      {"user": "thanks", "task": "thanks", "memory": ROOM_12_TOWELS},
                      {"user": "bye", "task": "goodbye", "memory": ROOM_12_TOWELS}],
            "final_memory": ROOM_12_TOWELS, "ended": True}


def test_memory_is_stored_only_on_the_turns_where_it_changed() -> None:
    compact = compact_memory(copy.deepcopy(_full()))
    assert [("memory" in turn) for turn in compact["turns"]] == [True, True, False, False]
    assert "final_memory" not in compact  # the same as the last turn's
    assert turn_memories(compact) == ([ROOM_12, ROOM_12_TOWELS, ROOM_12_TOWELS, ROOM_12_TOWELS], ROOM_12_TOWELS)


def test_a_final_memory_that_differs_from_the_last_turn_is_kept() -> None:
    full = _full()
    full["final_memory"] = {}
    assert compact_memory(full)["final_memory"] == {}


def test_both_shapes_compare_equal_and_a_change_shows_on_every_turn_it_reaches() -> None:
    compact = compact_memory(copy.deepcopy(_full()))
    assert golden_diff(_full(), compact, "g.json") == []
    assert golden_diff(compact, _full(), "g.json") == []
    changed = _full()
    for turn in changed["turns"][1:]:
        turn["memory"] = {"room": "12", "towels": 3}
    changed["final_memory"] = changed["turns"][-1]["memory"]
    paths = [m.path for m in golden_diff(compact, compact_memory(changed), "g.json")]
    assert paths == ['turn 2 ("towels") memory.towels', 'turn 3 ("thanks") memory.towels',
                     'turn 4 ("bye") memory.towels', "final_memory.towels"]


def test_a_memory_key_dropped_on_a_later_turn_is_not_hidden_by_compaction() -> None:
    recorded = compact_memory(copy.deepcopy(_full()))
    now = _full()
    now["turns"][3]["memory"] = ROOM_12  # towels forgotten on the last turn only
    now["final_memory"] = ROOM_12
    found = golden_diff(recorded, compact_memory(now), "g.json")
    assert [m.path for m in found] == ['turn 4 ("bye") memory.towels', "final_memory.towels"]
    assert repr(found[0].actual) == "(missing)"


def test_a_one_character_change_gets_a_caret_under_it() -> None:
    recorded = _full()
    now = _full()
    now["turns"][0]["memory"] = {"room": "13"}
    (found,) = [m for m in golden_diff(recorded, now, "g.json") if m.path == 'turn 1 ("hi") memory.room']
    assert found.detail == 'before: 12\nnow:    13\n         ^ first difference at character 2'


def test_a_changed_reply_marks_the_first_differing_character() -> None:
    recorded = {"turns": [{"user": "hi", "replies": ["Your room is 412."]}]}
    now = {"turns": [{"user": "hi", "replies": ["Your room is 413."]}]}
    (found,) = golden_diff(recorded, now, "g.json")
    lines = found.detail.splitlines()
    assert lines[:2] == ["before: Your room is 412.", "now:    Your room is 413."]
    assert lines[2].index("^") == lines[1].index("413") + 2 and "character 16" in lines[2]


def test_a_long_text_gets_a_line_diff_of_the_piece_that_changed() -> None:
    before = "Welcome to the hotel.\nBreakfast is served from 7 to 10.\nCheck-out is at noon."
    after = before.replace("7 to 10", "7 to 11")
    text = text_difference(before, after)
    assert text.startswith("first difference at character ")
    assert "  - Breakfast is served from 7 to 10." in text and "  + Breakfast is served from 7 to 11." in text
    assert "Welcome" not in text and "noon" not in text  # unchanged lines are left out
    assert text_difference(1, 2) == "" and text_difference("a", "a") == ""


def _golden(tmp_path: Path) -> tuple[Path, Path]:
    path = write_scenario(tmp_path, "hotel.scenario.yaml", PASSING)
    run_suite([path], update_golden=True)
    return path, tmp_path / "hotel.golden" / "hello_then_bye.json"


def test_a_version_1_golden_still_compares(tmp_path: Path) -> None:
    path, golden = _golden(tmp_path)
    document = json.loads(golden.read_text(encoding="utf-8"))
    memories, final = turn_memories(document["transcript"])
    for turn, memory in zip(document["transcript"]["turns"], memories, strict=True):
        turn["memory"] = memory
    document["transcript"]["final_memory"] = final
    document["version"] = 1
    golden.write_text(json.dumps(document), encoding="utf-8")
    assert run_suite([path]).cases[0].golden == "matched"
    document["transcript"]["turns"][1]["memory"] = {**memories[1], "vip": True}
    golden.write_text(json.dumps(document), encoding="utf-8")
    case = run_suite([path]).cases[0]
    assert case.golden == "changed" and 'turn 2 ("bye") memory.vip' in case.failure_text()


@pytest.mark.parametrize("version", [3, None, "2", 0])
def test_a_golden_of_an_unknown_format_is_refused_never_passed(tmp_path: Path, version: object) -> None:
    path, golden = _golden(tmp_path)
    document = json.loads(golden.read_text(encoding="utf-8"))
    if version is None:
        del document["version"]
    else:
        document["version"] = version
    golden.write_text(json.dumps(document), encoding="utf-8")
    case = run_suite([path]).cases[0]
    assert case.status == "error" and "cannot read the golden transcript: format version" in case.error
    assert "re-record it with `autopilot-harness run FILE --update-golden`" in case.error
    assert "hello_then_bye.json" in case.error
