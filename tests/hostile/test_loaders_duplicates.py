"""Hostile inputs: duplicate keys (issue 9). A second `expect:` used to replace the first silently, so a
failing expectation vanished and the run was green. Every format the kit reads refuses a duplicate key and
names BOTH places (line and column of the first and of the second).

YAML 1.2 says mapping keys are unique (https://yaml.org/spec/1.2.2/#mapping); RFC 8259 §4 says names
within a JSON object SHOULD be unique and that parsers disagree on which one wins — so the kit refuses.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.hostile.kit import TINY_BOT, CliResult, cli, run_suite_beside

BOT = TINY_BOT.as_posix()


def assert_both_places(result: CliResult, name: str, first: int, second: int, *, code: int = 2) -> None:
    assert "Traceback" not in result.text, result.text
    assert result.code == code, f"exit {result.code}:\n{result.text}"
    assert f"{name}:{second}:" in result.text, f"{name}:{second} not named in:\n{result.text}"
    assert f"first at line {first}," in result.text, result.text
    assert f"again at line {second}," in result.text, result.text
    assert "duplicate key" in result.text, result.text


# --- scenario files: (id, text, line of the first key, line of the second) ---------------------------------

S = f"bot: {BOT}\n"
TURN = "    turns:\n      - user: hello\n        expect: {task: greet}\n"

SCENARIO_ROWS = [
    ("top bot", f"bot: {BOT}\nbot: {BOT}\nscenarios:\n  - name: a\n{TURN}", 1, 2),
    ("top scenarios", f"{S}scenarios:\n  - name: a\n{TURN}scenarios:\n  - name: b\n{TURN}", 2, 7),
    ("top user", f"{S}user: '+1555'\nuser: '+1666'\nscenarios:\n  - name: a\n{TURN}", 2, 3),
    ("top channel", f"{S}channel: sms\nchannel: whatsapp\nscenarios:\n  - name: a\n{TURN}", 2, 3),
    ("top clock", f"{S}clock: 2024-05-01T09:00:00Z\nclock: 2024-05-02T09:00:00Z\nscenarios:\n  - name: a\n{TURN}",
     2, 3),
    ("top defaults", f"{S}defaults: {{tags: [a]}}\ndefaults: {{tags: [b]}}\nscenarios:\n  - name: a\n{TURN}", 2, 3),
    ("defaults memory key", f"{S}defaults:\n  memory:\n    lang: en\n    lang: fr\nscenarios:\n  - name: a\n{TURN}",
     4, 5),
    ("top seed", f"{S}seed: 1\nseed: 2\nscenarios:\n  - name: a\n{TURN}", 2, 3),
    ("url_map prefix", f"{S}url_map:\n  https://a.example/: http://127.0.0.1:1/\n"
                       f"  https://a.example/: http://127.0.0.1:2/\nscenarios:\n  - name: a\n{TURN}", 3, 4),
    ("scenario name", f"{S}scenarios:\n  - name: a\n    name: b\n{TURN}", 3, 4),
    ("scenario turns", f"{S}scenarios:\n  - name: a\n{TURN}{TURN}", 4, 7),
    ("scenario memory", f"{S}scenarios:\n  - name: a\n    memory: {{x: 1}}\n    memory: {{y: 2}}\n{TURN}", 4, 5),
    ("scenario tags", f"{S}scenarios:\n  - name: a\n    tags: [x]\n    tags: [y]\n{TURN}", 4, 5),
    ("scenario expect", f"{S}scenarios:\n  - name: a\n{TURN}    expect: {{ended: false}}\n"
                        "    expect: {no_handoff: true}\n", 7, 8),
    ("scenario expect ended", f"{S}scenarios:\n  - name: a\n{TURN}    expect:\n      ended: false\n"
                              "      ended: true\n", 8, 9),
    ("turn user", f"{S}scenarios:\n  - name: a\n    turns:\n      - user: hello\n        user: bye\n"
                  "        expect: {task: greet}\n", 5, 6),
    ("turn expect", f"{S}scenarios:\n  - name: a\n    turns:\n      - user: hello\n        expect: {{task: greet}}\n"
                    "        expect: {task: goodbye}\n", 6, 7),
    ("expect task", f"{S}scenarios:\n  - name: a\n    turns:\n      - user: hello\n        expect:\n"
                    "          task: greet\n          task: goodbye\n", 7, 8),
    ("expect replies", f"{S}scenarios:\n  - name: a\n    turns:\n      - user: hello\n        expect:\n"
                       "          replies: [Hello!]\n          replies: [Nope]\n", 7, 8),
    ("expect memory", f"{S}scenarios:\n  - name: a\n    turns:\n      - user: hello\n        expect:\n"
                      "          memory: {x: 1}\n          memory: {y: 1}\n", 7, 8),
    ("expect ended", f"{S}scenarios:\n  - name: a\n    turns:\n      - user: hello\n        expect:\n"
                     "          ended: false\n          ended: true\n", 7, 8),
    ("expect confidence", f"{S}scenarios:\n  - name: a\n    turns:\n      - user: hello\n        expect:\n"
                          "          confidence: '>= 0.1'\n          confidence: '>= 0.9'\n", 7, 8),
    ("memory key block", f"{S}scenarios:\n  - name: a\n    memory:\n      vip: true\n      vip: false\n{TURN}",
     5, 6),
    ("memory key nested", f"{S}scenarios:\n  - name: a\n    memory:\n      guest:\n        room: 1\n"
                          f"        room: 2\n{TURN}", 6, 7),
    ("expected memory key", f"{S}scenarios:\n  - name: a\n    turns:\n      - user: hello\n        expect:\n"
                            "          memory:\n            x: 1\n            x: 2\n", 8, 9),
    ("quoted and plain key", f"{S}scenarios:\n  - name: a\n    turns:\n      - user: hello\n        expect:\n"
                             "          \"task\": greet\n          task: goodbye\n", 7, 8),
    ("second scenario", f"{S}scenarios:\n  - name: a\n{TURN}  - name: b\n    turns:\n      - user: hello\n"
                        "        expect: {task: greet}\n        expect: {task: goodbye}\n", 10, 11),
    ("reply item", f"{S}scenarios:\n  - name: a\n    turns:\n      - user: hello\n        expect:\n"
                   "          replies:\n            - contains: Hello\n              contains: Bye\n", 8, 9),
    ("servers item", f"{S}servers:\n  - url: https://a.example/\n    url: https://b.example/\n"
                     f"scenarios:\n  - name: a\n{TURN}", 3, 4),
]


@pytest.mark.parametrize(("text", "first", "second"), [row[1:] for row in SCENARIO_ROWS],
                         ids=[row[0] for row in SCENARIO_ROWS])
def test_scenario_file_duplicate_key(tmp_path: Path, text: str, first: int, second: int) -> None:
    result, document, _ = run_suite_beside(tmp_path, "bad.scenario.yaml", text)
    assert_both_places(result, "bad.scenario.yaml", first, second)
    assert any(case["file"].endswith("bad.scenario.yaml") and case["status"] == "error"
               for case in document["cases"]), document["cases"]


# A key inside a flow mapping: both on one line, told apart by their columns.
FLOW_MAPPING_ROWS = [
    ("expect flow mapping", "        expect: {task: greet, task: goodbye}\n", "task:"),
    ("memory flow mapping", "        expect: {memory: {a: 1, a: 2}}\n", "a:"),
    ("nested flow mapping", "        expect: {memory: {g: {r: 1, r: 2}}}\n", "r:"),
]


@pytest.mark.parametrize(("line", "key"), [row[1:] for row in FLOW_MAPPING_ROWS],
                         ids=[row[0] for row in FLOW_MAPPING_ROWS])
def test_flow_mapping_duplicate_key(tmp_path: Path, line: str, key: str) -> None:
    first_column = line.index(key) + 1
    second_column = line.index(key, first_column) + 1
    text = f"{S}scenarios:\n  - name: a\n    turns:\n      - user: hello\n{line}"
    result, _, _ = run_suite_beside(tmp_path, "bad.scenario.yaml", text)
    assert_both_places(result, "bad.scenario.yaml", 6, 6)
    assert f"first at line 6, column {first_column}, again at line 6, column {second_column}" in result.text


def test_lint_names_both_places_of_a_scenario_duplicate(tmp_path: Path) -> None:
    bad = tmp_path / "bad.scenario.yaml"
    bad.write_text(f"{S}scenarios:\n  - name: a\n    turns:\n      - user: hello\n        expect:\n"
                   "          task: greet\n          task: goodbye\n", encoding="utf-8")
    assert_both_places(cli("lint", bad), "bad.scenario.yaml", 7, 8)


def test_yaml_merge_keys_may_override(tmp_path: Path) -> None:
    """`<<: *base` then an own key is YAML's merge (https://yaml.org/type/merge.html), not a duplicate."""
    text = (f"{S}scenarios:\n  - name: merged\n    memory: &base {{lang: en, vip: false}}\n    turns:\n"
            "      - user: hello\n        expect: {task: greet}\n  - name: overrides\n"
            "    memory:\n      <<: *base\n      vip: true\n    turns:\n      - user: hello\n"
            "        expect: {task: greet}\n")
    result, document, _ = run_suite_beside(tmp_path, "merge.scenario.yaml", text)
    assert result.code == 0, result.text
    assert sum(case["status"] == "passed" for case in document["cases"]) == 3


# --- part files (include:) -------------------------------------------------------------------------------

PART_ROWS = [
    ("part turns", "turns:\n  - user: hello\nturns:\n  - user: bye\n", 1, 3),
    ("part defaults", "defaults: {tags: [a]}\ndefaults: {tags: [b]}\nturns:\n  - user: hello\n", 1, 2),
    ("part turn expect", "turns:\n  - user: hello\n    expect: {task: greet}\n    expect: {task: goodbye}\n", 3, 4),
    ("part expect task", "turns:\n  - user: hello\n    expect:\n      task: greet\n      task: goodbye\n", 4, 5),
    ("part defaults memory", "defaults:\n  memory:\n    lang: en\n    lang: fr\nturns:\n  - user: hello\n", 3, 4),
    ("part expected memory", "turns:\n  - user: hello\n    expect:\n      memory: {a: 1, b: 2, a: 3}\n", 4, 4),
]


@pytest.mark.parametrize(("part", "first", "second"), [row[1:] for row in PART_ROWS],
                         ids=[row[0] for row in PART_ROWS])
def test_part_file_duplicate_key(tmp_path: Path, part: str, first: int, second: int) -> None:
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "dup.yaml").write_text(part, encoding="utf-8")
    text = f"{S}scenarios:\n  - name: a\n    turns:\n      - include: parts/dup.yaml\n"
    result, _, _ = run_suite_beside(tmp_path, "uses_part.scenario.yaml", text)
    assert_both_places(result, "dup.yaml", first, second)


# --- assistant, flow, Actions JSON (lint) ----------------------------------------------------------------

def _bot_text() -> str:
    return TINY_BOT.read_text(encoding="utf-8")


def _flow_text() -> str:
    return (ROOT / "examples" / "hospitality" / "flows" / "chat_flex.json").read_text(encoding="utf-8")


def _insert_after(text: str, anchor: str, addition: str) -> str:
    """`text` with `addition` right after the first `anchor` (a duplicate written by hand, as a user would)."""
    at = text.index(anchor) + len(anchor)
    return text[:at] + addition + text[at:]


def _line_of(text: str, needle: str, start: int = 0) -> int:
    return text.count("\n", 0, text.index(needle, start)) + 1


JSON_ROWS = [
    # (id, file name, text, (line of the first key, line of the second)) — lines checked by hand
    ("assistant uniqueName", "bot.json",
     _insert_after(_bot_text(), '"uniqueName": "tiny",', '\n  "uniqueName": "other",'), (2, 3)),
    ("assistant tasks", "bot.json", _insert_after(_bot_text(), "{\n", '  "tasks": [],\n'), (2, 4)),
    ("assistant task name", "bot.json",
     _insert_after(_bot_text(), '{"uniqueName": "greet",', '\n "uniqueName": "hi",'), (4, 5)),
    ("assistant task actions", "bot.json",
     _insert_after(_bot_text(), '{"uniqueName": "greet",', '\n "actions": {"actions": []},'), (5, 5)),
    ("assistant actions list", "bot.json",
     _insert_after(_bot_text(), '"actions": {', '\n"actions": [],'), (5, 5)),
    ("assistant sample", "bot.json",
     _insert_after(_bot_text(), '"taggedText": "hello"', ',\n "taggedText": "hi"'), (5, 6)),
    ("assistant defaults", "bot.json",
     _insert_after(_bot_text(), "{\n", '  "defaults": {"defaults": {}},\n  "defaults": {"defaults": {}},\n'), (2, 3)),
    ("flow states", "flow.json", _insert_after(_flow_text(), "{\n", '  "states": [],\n'), (2, 4)),
    ("flow initial_state", "flow.json", _insert_after(_flow_text(), "{\n", '  "initial_state": "x",\n'), (2, 212)),
    ("flow state name", "flow.json", _insert_after(_flow_text(), '"name": "Trigger",', '\n "name": "Again",'), (5, 6)),
    ("flow transition event", "flow.json",
     _insert_after(_flow_text(), '"event": "incomingMessage"', ',\n "event": "incomingCall"'), (10, 11)),
    ("flow properties", "flow.json",
     _insert_after(_flow_text(), '"properties": {', '\n"offset": {"x": 0, "y": 0},'), (26, 27)),
    ("actions say", "actions.json", '{"actions": [\n  {"say": "Hi",\n   "say": "Bye"}\n]}\n', (2, 3)),
    ("actions twice", "actions.json", '{"actions": [{"say": "Hi"}],\n "actions": []}\n', (1, 2)),
    ("actions collect name", "actions.json",
     '{"actions": [{"collect": {"name": "a",\n "name": "b", "questions": [], "on_complete": {}}}]}\n', (1, 2)),
]


@pytest.mark.parametrize(("file_name", "text", "lines"), [row[1:] for row in JSON_ROWS],
                         ids=[row[0] for row in JSON_ROWS])
def test_json_file_duplicate_key_lint(tmp_path: Path, file_name: str, text: str, lines: tuple[int, int]) -> None:
    path = tmp_path / file_name
    path.write_text(text, encoding="utf-8")
    assert_both_places(cli("lint", path), file_name, *lines)


def test_assistant_duplicate_key_through_a_scenario(tmp_path: Path) -> None:
    bot = _insert_after(_bot_text(), '"uniqueName": "tiny",', '\n  "uniqueName": "other",')
    (tmp_path / "dup_bot.json").write_text(bot, encoding="utf-8")
    text = f"bot: dup_bot.json\nscenarios:\n  - name: a\n{TURN}"
    result, _, _ = run_suite_beside(tmp_path, "uses_bot.scenario.yaml", text)
    assert_both_places(result, "dup_bot.json", 2, 3)


def test_flow_duplicate_key_through_a_scenario(tmp_path: Path) -> None:
    flow = _insert_after(_flow_text(), "{\n", '  "states": [],\n')
    (tmp_path / "dup_flow.json").write_text(flow, encoding="utf-8")
    text = f"bot: {BOT}\nflow: dup_flow.json\nscenarios:\n  - name: a\n    turns:\n      - user: hello\n"
    result, _, _ = run_suite_beside(tmp_path, "uses_flow.scenario.yaml", text)
    assert_both_places(result, "dup_flow.json", 2, _line_of(flow, '"states": [', 20))


# --- pacts (verify reads every pact before it calls the provider) -----------------------------------------

def _pact_text() -> str:
    return (ROOT / "contracts" / "pacts" / "hospitality-http-contact-center.json").read_text(encoding="utf-8")


PACT_ROWS = [
    ("pact consumer", '"consumer": {\n    "name": "hospitality-http"\n  },', '\n  "consumer": {"name": "x"},'),
    ("pact consumer name", '"name": "hospitality-http"', ',\n    "name": "other"'),
    ("pact interactions", "{\n", '  "interactions": [],\n'),
    ("pact request body key", '"channel": "sms"', ',\n            "channel": "voice"'),
    ("pact description", '"description": "agent by HTTP after a room service order"', ',\n      "description": "x"'),
]


@pytest.mark.parametrize(("anchor", "addition"), [row[1:] for row in PACT_ROWS], ids=[row[0] for row in PACT_ROWS])
def test_pact_duplicate_key(tmp_path: Path, anchor: str, addition: str) -> None:
    original = _pact_text()
    text = _insert_after(original, anchor, addition)
    path = tmp_path / "dup.json"
    path.write_text(text, encoding="utf-8")
    key = addition.strip(",\n ").split(":", 1)[0]
    second_at = text.index(addition) + addition.index(key)
    first_at = text.rindex(key, 0, second_at) if key != '"interactions"' else text.index(key, second_at + 1)
    first, second = sorted((text.count("\n", 0, first_at) + 1, text.count("\n", 0, second_at) + 1))
    result = cli("verify", "--pact", path, "--provider-base-url", "http://127.0.0.1:9")
    assert_both_places(result, "dup.json", first, second)


# --- memory on the command line --------------------------------------------------------------------------

@pytest.mark.parametrize("memory", ['{"vip": true, "vip": false}', '{"guest": {"room": 1, "room": 2}}',
                                    '{"a": [{"b": 1, "b": 1}]}'], ids=["top", "nested", "in a list"])
def test_chat_memory_duplicate_key(memory: str) -> None:
    result = cli("chat", "--bot", TINY_BOT, "--memory", memory, "--say", "hello")
    assert "Traceback" not in result.text, result.text
    assert result.code == 2, result.text
    assert "--memory" in result.text and "duplicate key" in result.text, result.text
    assert "first at line 1, column" in result.text, result.text


def test_duplicate_keys_in_a_recorded_execution(tmp_path: Path) -> None:
    recording = (ROOT / "tests" / "fixtures" / "replay" / "flex_handoff.json").read_text(encoding="utf-8")
    text = _insert_after(recording, '"status": "ended",', '\n    "status": "active",')
    (tmp_path / "rec.json").write_text(text, encoding="utf-8")
    result = cli("replay", "execution", tmp_path / "rec.json", "--flow",
                 ROOT / "examples" / "hospitality" / "flows" / "flex_messaging.json")
    assert_both_places(result, "rec.json", _line_of(text, '"status": "ended"'), _line_of(text, '"status": "active"'))


def test_duplicate_keys_in_recorded_requests(tmp_path: Path) -> None:
    (tmp_path / "req.jsonl").write_text('{"method": "POST", "url": "https://x.example/a"}\n'
                                        '{"method": "POST", "method": "GET", "url": "https://x.example/b"}\n',
                                        encoding="utf-8")
    result = cli("replay", "requests", tmp_path / "req.jsonl")
    assert "Traceback" not in result.text, result.text
    assert result.code == 2, result.text
    assert "req.jsonl:2" in result.text and "duplicate key `method`" in result.text, result.text


def test_pact_row_count_guard() -> None:
    """The pact rows really hold a duplicate (a typo in an anchor would silently test nothing)."""
    for _, anchor, addition in PACT_ROWS:
        text = _insert_after(_pact_text(), anchor, addition)
        assert text != _pact_text()
        with pytest.raises(ValueError, match="duplicate"):
            json.loads(text, object_pairs_hook=_strict_pairs)


def _strict_pairs(pairs: list[tuple[str, object]]) -> dict[str, object]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate")
    return dict(pairs)


# --- the loader itself: keys that are equal once decoded ---------------------------------------------------

@pytest.mark.parametrize(("text", "kind", "lines"), [
    ('{"a": 1,\n "\\u0061": 2}', "json", (1, 2)),
    ('{"a\\"b": 1,\n "a\\"b": 2}', "json", (1, 2)),
    ('[{"x": 1}, {"x": 1,\n "x": 2}]', "json", (1, 2)),
    ("1: a\n0x1: b\n", "yaml", (1, 2)),
    ("'k': a\n\"k\": b\n", "yaml", (1, 2)),
    ("? k\n: a\nk: b\n", "yaml", (1, 3)),
], ids=["json unicode escape", "json quote escape", "json in a list", "yaml 1 and 0x1", "yaml quotes",
        "yaml explicit key"])
def test_keys_equal_once_decoded(text: str, kind: str, lines: tuple[int, int]) -> None:
    from harness.errors import LoadError
    from harness.sources import parse_text

    with pytest.raises(LoadError) as caught:
        parse_text(text, path="doc", kind=kind)
    message = caught.value.render()
    assert f"doc:{lines[1]}:" in message and f"first at line {lines[0]}," in message, message
