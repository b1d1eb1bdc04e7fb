"""Golden file names (issue 9, scenario guards).

Golden transcripts are `<file>.golden/<name>.json`. An everyday id keeps the name it always had (spaces and
commas as `_`), so committed goldens stay where they are; an id with other characters (`/`, `?`, `:`, quotes,
newlines…) or longer than MAX_GOLDEN_NAME_BYTES gets a short hash of the real id, so ids that differ only
there get two files and a 300-character name no longer ends in "OSError: File name too long". Ids that still
meet (`a b` and `a_b`; `Greeting` and `greeting`, one file on macOS and Windows) fail naming both scenarios.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.runner.golden import MAX_GOLDEN_NAME_BYTES, golden_name
from tests.conftest import ROOT
from tests.hostile.kit import TINY_BOT, assert_refused, cli, run_suite_beside

HEAD = f"bot: {TINY_BOT.as_posix()}\nscenarios:\n"


def scenarios(*names: str) -> str:
    turn = "    turns: [{user: hello, expect: {task: greet}}]\n"
    return HEAD + "".join(f"  - name: {json.dumps(name, ensure_ascii=False)}\n{turn}" for name in names)


def update(tmp_path: Path, text: str) -> tuple[object, list[str]]:
    (tmp_path / "g.scenario.yaml").write_text(text, encoding="utf-8")
    result = cli("run", tmp_path / "g.scenario.yaml", "--update-golden")
    folder = tmp_path / "g.golden"
    return result, sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


DISTINCT = [
    ("slash-and-question-mark", ("a/b", "a?b")),
    ("colon-and-star", ("check: 1", "check* 1")),
    ("quotes", ('say "hi"', "say 'hi'")),
    ("tab-and-pipe", ("a\tb", "a|b")),
    ("backslash", ("a\\b", "a/b")),
    ("dot-dot", ("..", ".")),
    ("emoji-and-symbols", ("hi 👋", "hi ✋")),
    ("percent-encoding-lookalike", ("a%2Fb", "a/b")),
]


@pytest.mark.parametrize("names", [r[1] for r in DISTINCT], ids=[r[0] for r in DISTINCT])
def test_ids_differing_only_in_punctuation_get_their_own_golden_files(tmp_path: Path, names: tuple[str, ...]
                                                                      ) -> None:
    result, written = update(tmp_path, scenarios(*names))
    assert result.code == 0, result.text
    assert len(written) == len(names), written
    assert all("/" not in name and "\\" not in name and len(name.encode()) <= 255 for name in written)
    again = cli("run", tmp_path / "g.scenario.yaml", "--require-golden")  # found again, compared, no orphans
    assert again.code == 0 and "belong to no scenario" not in again.text, again.text


COLLIDING = [
    ("space-and-underscore", ("room service", "room_service")),
    ("comma-and-space", ("a, b", "a b")),
    ("letter-case", ("Greeting", "greeting")),
    ("double-space", ("a  b", "a b")),
]


@pytest.mark.parametrize("names", [r[1] for r in COLLIDING], ids=[r[0] for r in COLLIDING])
def test_ids_sharing_a_golden_file_fail_naming_both(tmp_path: Path, names: tuple[str, str]) -> None:
    text = scenarios(*names)
    result, document, _ = run_suite_beside(tmp_path, "bad.scenario.yaml", text)
    assert_refused(result, code=1, names="bad.scenario.yaml", line=3, says="would share one golden file")
    assert f"'{names[0]}' and '{names[1]}'" in result.text and f"'{names[1]}' and '{names[0]}'" in result.text
    bad = [c for c in document["cases"] if c["file"].endswith("bad.scenario.yaml")]
    assert [c["status"] for c in bad] == ["error", "error"], bad


def test_row_ids_sharing_a_golden_file_fail_naming_both(tmp_path: Path) -> None:
    text = HEAD + ("  - name: rows\n    parametrize: [{id: x y, say: hello}, {id: x_y, say: hello}]\n"
                   "    turns: [{user: '{{ row.say }}', expect: {task: greet}}]\n")
    result, _, _ = run_suite_beside(tmp_path, "bad.scenario.yaml", text)
    assert_refused(result, code=1, names="bad.scenario.yaml", says="'rows[x y]' and 'rows[x_y]'")


@pytest.mark.parametrize("name", ["n" * 300, "é" * 200, "a b " * 80, "x/" * 150, "🙂" * 100])
def test_a_long_scenario_name_still_makes_a_valid_golden_file(tmp_path: Path, name: str) -> None:
    result, written = update(tmp_path, scenarios(name))
    assert "Traceback" not in result.text and result.code == 0, result.text
    (file,) = written
    assert len(file.encode()) <= MAX_GOLDEN_NAME_BYTES + len(".json")
    document = json.loads((tmp_path / "g.golden" / file).read_text(encoding="utf-8"))
    assert document["scenario"] == name  # the real id is kept inside


def test_two_long_names_with_the_same_start_get_two_files(tmp_path: Path) -> None:
    result, written = update(tmp_path, scenarios("n" * 300 + "a", "n" * 300 + "b"))
    assert result.code == 0 and len(written) == 2, (result.text, written)


def test_a_renamed_hashed_scenario_leaves_an_orphan_that_is_reported(tmp_path: Path) -> None:
    update(tmp_path, scenarios("what?"))
    (tmp_path / "g.scenario.yaml").write_text(scenarios("what!"), encoding="utf-8")
    result = cli("run", tmp_path / "g.scenario.yaml")
    assert result.code == 0 and "1 golden file(s) belong to no scenario" in result.text, result.text
    assert golden_name("what?") in result.text


# Committed goldens keep their names: every everyday id maps to the name it always had.
KEPT = [
    ("greeting[v1]", "greeting[v1].json"),
    ("room items by name[pillows-2]", "room_items_by_name[pillows-2].json"),
    ("room service order, then an agent", "room_service_order_then_an_agent.json"),
    ("the send-to-agent Function is down", "the_send-to-agent_Function_is_down.json"),
    ("agent by HTTP straight away, on WhatsApp", "agent_by_HTTP_straight_away_on_WhatsApp.json"),
]


@pytest.mark.parametrize(("scenario_id", "name"), KEPT)
def test_everyday_ids_keep_their_golden_names(scenario_id: str, name: str) -> None:
    assert golden_name(scenario_id) == name


def test_every_committed_golden_file_is_still_found() -> None:
    # Each committed golden file names the scenario it holds; the name it gets now must be its own.
    files = sorted((ROOT / "scenarios").rglob("*.golden/*.json"))
    assert files
    for path in files:
        scenario_id = json.loads(path.read_text(encoding="utf-8"))["scenario"]
        assert golden_name(scenario_id) == path.name, (scenario_id, path)
