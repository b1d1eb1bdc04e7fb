"""Hostile inputs: YAML alias bombs and deeply nested JSON/YAML (issue 9).

A "billion laughs" file expands a few lines into 10^9 nodes (a hang); deep nesting ended in a RecursionError
(a traceback) or, in libyaml's composer, a crash of the whole process. The loaders now cap both, with named
limits (`MAX_YAML_ALIAS_NODES`, `MAX_NESTING_DEPTH`) that a user can raise by environment variable. Cases that
could hang or crash run in a child process with a hard timeout.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from harness.engines.studio.http import perform
from harness.engines.twilio.server import LocalServer
from harness.errors import LoadError
from harness.sources import MAX_NESTING_DEPTH, MAX_YAML_ALIAS_NODES, parse_text
from tests.hostile.kit import TINY_BOT, assert_refused, cli, cli_subprocess, run_suite_beside

BOT = TINY_BOT.as_posix()
TURN = "    turns:\n      - user: hello\n        expect: {task: greet}\n"
DEPTH_SAYS = f"nested more than {MAX_NESTING_DEPTH} levels deep"


def laughs(levels: int = 9, indent: str = "  ") -> str:
    """YAML anchors each referring 9 times to the one before: 9^levels nodes once expanded."""
    lines = [f"{indent}l0: &l0 [x, x, x, x, x, x, x, x, x]"]
    for n in range(1, levels):
        lines.append(f"{indent}l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def deep_json(levels: int) -> str:
    return '{"a": ' * levels + "1" + "}" * levels


def deep_flow_yaml(levels: int) -> str:
    return "[" * levels + "1" + "]" * levels


# --- alias bombs -------------------------------------------------------------------------------------------

ALIAS_ROWS = [
    ("scenario memory", f"bot: {BOT}\nscenarios:\n  - name: a\n    memory:\n{laughs(indent='      ')}{TURN}", 5),
    ("expected memory", f"bot: {BOT}\nscenarios:\n  - name: a\n    turns:\n      - user: hello\n        expect:\n"
                        f"          memory:\n{laughs(indent='            ')}", 8),
    ("defaults memory", f"bot: {BOT}\ndefaults:\n  memory:\n{laughs(indent='    ')}scenarios:\n  - name: a\n{TURN}", 4),
    ("top-level key", f"bot: {BOT}\n{laughs(indent='')}scenarios:\n  - name: a\n{TURN}", 2),
    ("wide not deep", f"bot: {BOT}\nscenarios:\n  - name: a\n    memory:\n      big: &big [{', '.join(['x'] * 200)}]\n"
                      "      uses: [" + ", ".join(["*big"] * 100) + f"]\n{TURN}", 5),
]


@pytest.mark.parametrize(("text", "line"), [row[1:] for row in ALIAS_ROWS], ids=[row[0] for row in ALIAS_ROWS])
def test_alias_bomb_in_a_scenario_file(tmp_path: Path, text: str, line: int) -> None:
    result, _, _ = run_suite_beside(tmp_path, "bomb.scenario.yaml", text, subprocess_timeout=60)
    assert_refused(result, names="bomb.scenario.yaml", says="YAML aliases expand to more than")
    assert "AUTOPILOT_HARNESS_MAX_YAML_ALIAS_NODES" in result.text, result.text
    assert "bomb.scenario.yaml:" in result.text


def test_alias_bomb_in_a_part_file(tmp_path: Path) -> None:
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "bomb.yaml").write_text(f"defaults:\n  memory:\n{laughs(indent='    ')}turns:\n"
                                                  "  - user: hello\n", encoding="utf-8")
    text = f"bot: {BOT}\nscenarios:\n  - name: a\n    turns:\n      - include: parts/bomb.yaml\n"
    result, _, _ = run_suite_beside(tmp_path, "uses.scenario.yaml", text, subprocess_timeout=60)
    assert_refused(result, names="bomb.yaml", says="YAML aliases expand")


@pytest.mark.parametrize("name", ["bomb.scenario.yaml", "utterances.yaml", "bot.yaml"])
def test_lint_refuses_an_alias_bomb(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text(f"tasks:\n{laughs(indent='  ')}", encoding="utf-8")
    result = cli_subprocess("lint", tmp_path / name, timeout=60)
    assert_refused(result, names=name, says="YAML aliases expand")


RECURSIVE_ROWS = [
    ("memory list", f"bot: {BOT}\nscenarios:\n  - name: a\n    memory: &m {{x: [1, *m]}}\n{TURN}", 4),
    ("expect memory", f"bot: {BOT}\nscenarios:\n  - name: a\n    turns:\n      - user: hello\n"
                      "        expect: {memory: &e [*e]}\n", 6),
]


@pytest.mark.parametrize(("text", "line"), [row[1:] for row in RECURSIVE_ROWS],
                         ids=[row[0] for row in RECURSIVE_ROWS])
def test_recursive_alias(tmp_path: Path, text: str, line: int) -> None:
    result, _, _ = run_suite_beside(tmp_path, "loop.scenario.yaml", text, subprocess_timeout=60)
    assert_refused(result, names="loop.scenario.yaml", line=line, says="refers to a node that contains it")


def test_a_few_aliases_are_fine(tmp_path: Path) -> None:
    text = (f"bot: {BOT}\nscenarios:\n  - name: a\n    memory: &m {{lang: en}}\n    turns:\n      - user: hello\n"
            "        expect: {task: greet, memory: *m}\n  - name: b\n    memory: *m\n" + TURN)
    result, document, _ = run_suite_beside(tmp_path, "fine.scenario.yaml", text)
    assert result.code == 0, result.text
    assert [case["status"] for case in document["cases"]] == ["passed"] * 3


def test_alias_limit_can_be_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = f"a: &a [{', '.join(['x'] * 100)}]\nb: [" + ", ".join(["*a"] * 150) + "]\n"  # 15,000 extra nodes
    with pytest.raises(LoadError, match="MAX_YAML_ALIAS_NODES"):
        parse_text(text, kind="yaml")
    monkeypatch.setenv("AUTOPILOT_HARNESS_MAX_YAML_ALIAS_NODES", "20000")
    assert len(parse_text(text, kind="yaml").data["b"]) == 150
    assert MAX_YAML_ALIAS_NODES == 10_000


# --- deep nesting: files -----------------------------------------------------------------------------------

def _deep_bot(levels: int) -> str:
    bot = json.loads(TINY_BOT.read_text(encoding="utf-8"))
    text = json.dumps(bot, indent=1)
    return text.replace('"uniqueName": "tiny"', f'"uniqueName": "tiny",\n "defaults": {deep_json(levels)}', 1)


def _deep_flow(levels: int) -> str:
    flow = (Path(__file__).parents[2] / "examples" / "hospitality" / "flows" / "chat_flex.json").read_text("utf-8")
    return flow.replace('"properties": {', '"properties": {\n"deep": ' + deep_json(levels) + ",", 1)


JSON_DEPTH_ROWS = [
    ("assistant 100", "bot.json", _deep_bot(100), 3),
    ("assistant 100000", "bot.json", _deep_bot(100_000), 3),
    ("flow 100", "flow.json", _deep_flow(100), None),
    ("flow 100000", "flow.json", _deep_flow(100_000), None),
    ("actions 100", "actions.json", '{"actions": [{"remember": ' + deep_json(100) + "}]}", 1),
    ("lists 5000", "bot.json", "[" * 5000 + "]" * 5000, 1),
]


@pytest.mark.parametrize(("name", "text", "line"), [row[1:] for row in JSON_DEPTH_ROWS],
                         ids=[row[0] for row in JSON_DEPTH_ROWS])
def test_deep_json_file_lint(tmp_path: Path, name: str, text: str, line: int | None) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    result = cli_subprocess("lint", tmp_path / name, timeout=60)
    assert_refused(result, names=name, line=line, says=DEPTH_SAYS)
    assert "AUTOPILOT_HARNESS_MAX_NESTING_DEPTH" in result.text


def test_deep_bot_through_a_scenario(tmp_path: Path) -> None:
    (tmp_path / "deep_bot.json").write_text(_deep_bot(500), encoding="utf-8")
    text = f"bot: deep_bot.json\nscenarios:\n  - name: a\n{TURN}"
    result, _, _ = run_suite_beside(tmp_path, "uses.scenario.yaml", text)
    assert_refused(result, names="deep_bot.json", line=3, says=DEPTH_SAYS)


def test_deep_flow_through_a_scenario(tmp_path: Path) -> None:
    (tmp_path / "deep_flow.json").write_text(_deep_flow(300), encoding="utf-8")
    text = f"bot: {BOT}\nflow: deep_flow.json\nscenarios:\n  - name: a\n    turns:\n      - user: hello\n"
    result, _, _ = run_suite_beside(tmp_path, "uses.scenario.yaml", text)
    assert_refused(result, names="deep_flow.json", says=DEPTH_SAYS)


def _block_yaml(levels: int, indent: str) -> str:
    return "".join(f"{indent}{' ' * n}k{n}:\n" for n in range(levels)) + f"{indent}{' ' * levels}end\n"


YAML_DEPTH_ROWS = [
    ("memory flow 100", f"bot: {BOT}\nscenarios:\n  - name: a\n    memory: {{x: {deep_flow_yaml(100)}}}\n{TURN}", 4),
    ("memory flow 100000", f"bot: {BOT}\nscenarios:\n  - name: a\n    memory: {{x: {deep_flow_yaml(100_000)}}}\n"
                           f"{TURN}", 4),
    ("memory block 80", f"bot: {BOT}\nscenarios:\n  - name: a\n    memory:\n{_block_yaml(80, '      ')}{TURN}", None),
    ("expected memory 100", f"bot: {BOT}\nscenarios:\n  - name: a\n    turns:\n      - user: hello\n"
                            f"        expect: {{memory: {{x: {deep_flow_yaml(100)}}}}}\n", 6),
    ("expected memory 100000", f"bot: {BOT}\nscenarios:\n  - name: a\n    turns:\n      - user: hello\n"
                               f"        expect: {{memory: {{x: {deep_flow_yaml(100_000)}}}}}\n", 6),
    ("mappings 30000", f"bot: {BOT}\nscenarios:\n  - name: a\n    memory: " + "{a: " * 30_000 + "1" + "}" * 30_000
     + f"\n{TURN}", 4),
    ("sequence dashes 3000", f"bot: {BOT}\nscenarios:\n  - name: a\n    memory:\n      x:\n        "
                             + "- " * 3000 + "1\n" + TURN, 6),
]


@pytest.mark.parametrize(("text", "line"), [row[1:] for row in YAML_DEPTH_ROWS],
                         ids=[row[0] for row in YAML_DEPTH_ROWS])
def test_deep_yaml_scenario(tmp_path: Path, text: str, line: int | None) -> None:
    result, _, _ = run_suite_beside(tmp_path, "deep.scenario.yaml", text, subprocess_timeout=60)
    assert_refused(result, names="deep.scenario.yaml", line=line, says=DEPTH_SAYS)


def test_deep_part_file(tmp_path: Path) -> None:
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "deep.yaml").write_text(
        f"turns:\n  - user: hello\n    expect: {{memory: {{x: {deep_flow_yaml(200_000)}}}}}\n", encoding="utf-8")
    text = f"bot: {BOT}\nscenarios:\n  - name: a\n    turns:\n      - include: parts/deep.yaml\n"
    result, _, _ = run_suite_beside(tmp_path, "uses.scenario.yaml", text, subprocess_timeout=60)
    assert_refused(result, names="deep.yaml", line=3, says=DEPTH_SAYS)


def test_lint_deep_yaml(tmp_path: Path) -> None:
    (tmp_path / "deep.yaml").write_text("tasks: " + deep_flow_yaml(100_000), encoding="utf-8")
    assert_refused(cli_subprocess("lint", tmp_path / "deep.yaml", timeout=60), names="deep.yaml", line=1,
                   says=DEPTH_SAYS)


def test_deep_pact(tmp_path: Path) -> None:
    pact = {"consumer": {"name": "c"}, "provider": {"name": "p"}, "interactions": []}
    text = json.dumps(pact).replace('"interactions": []', '"interactions": [' + deep_json(10_000) + "]")
    (tmp_path / "deep.json").write_text(text, encoding="utf-8")
    result = cli_subprocess("verify", "--pact", tmp_path / "deep.json", "--provider-base-url",
                            "http://127.0.0.1:9", timeout=60)
    assert_refused(result, names="deep.json", line=1, says=DEPTH_SAYS)


def test_depth_boundary_and_raising_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """MAX_NESTING_DEPTH levels load; one more is refused; the environment variable raises the limit."""
    assert MAX_NESTING_DEPTH == 64  # real files nest 18 levels at most (an OpenAPI spec in shared/real)
    parse_text("[" * 64 + "]" * 64)
    parse_text("x: " + "[" * 63 + "]" * 63, kind="yaml")  # the mapping is level 1
    with pytest.raises(LoadError, match="nested more than 64"):
        parse_text("[" * 65 + "]" * 65)
    with pytest.raises(LoadError, match="nested more than 64"):
        parse_text("x: " + "[" * 64 + "]" * 64, kind="yaml")
    monkeypatch.setenv("AUTOPILOT_HARNESS_MAX_NESTING_DEPTH", "100")
    parse_text("[" * 100 + "]" * 100)
    parse_text("x: " + "[" * 99 + "]" * 99, kind="yaml")


def test_a_bad_limit_value_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOPILOT_HARNESS_MAX_NESTING_DEPTH", "lots")
    (tmp_path / "bot.json").write_text(TINY_BOT.read_text(encoding="utf-8"), encoding="utf-8")
    assert_refused(cli("lint", tmp_path / "bot.json"), says="AUTOPILOT_HARNESS_MAX_NESTING_DEPTH='lots'")


# --- deep nesting: data in memory (command line, webhook answers) ------------------------------------------

@pytest.mark.parametrize("levels", [65, 1000, 15_000])  # 15,000: near the limit of one argv string
def test_chat_memory_too_deep(levels: int) -> None:
    result = cli_subprocess("chat", "--bot", TINY_BOT, "--memory", deep_json(levels), "--say", "hello", timeout=60)
    assert_refused(result, says=DEPTH_SAYS)
    assert "--memory" in result.text


HOOK = """\
ANSWER = {answer!r}


def create_app():
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/json")])
        return [ANSWER.encode()]
    return app
"""

WEBHOOK_ROWS = [
    ("deep actions", '{"actions": [{"remember": ' + deep_json(200) + "}]}", DEPTH_SAYS),
    ("very deep", "[" * 20_000 + "]" * 20_000, DEPTH_SAYS),  # 40 kB: under Studio's 64 kB body limit
    ("duplicate key", '{"actions": [{"say": "a", "say": "b"}]}', "duplicate key `say`"),
]


@pytest.mark.parametrize(("answer", "says"), [row[1:] for row in WEBHOOK_ROWS], ids=[row[0] for row in WEBHOOK_ROWS])
def test_action_url_answer_refused(tmp_path: Path, answer: str, says: str, request: pytest.FixtureRequest) -> None:
    """An Action URL's answer the kit refuses fails that request (WebhookError), never a traceback."""
    module = f"hook_{abs(hash(request.node.nodeid))}"
    (tmp_path / f"{module}.py").write_text(HOOK.format(answer=answer), encoding="utf-8")
    bot = {"uniqueName": "hooked", "tasks": [
        {"uniqueName": "greet", "actions": {"actions": [{"redirect": "https://hooks.example.com/answer"}]},
         "samples": [{"language": "en-US", "taggedText": "hello"}]}]}
    (tmp_path / "hooked.json").write_text(json.dumps(bot), encoding="utf-8")
    text = (f"bot: hooked.json\nservers:\n  - {{wsgi: '{module}:create_app', url: 'https://hooks.example.com/'}}\n"
            f"scenarios:\n  - name: a\n{TURN}")
    result, document, _ = run_suite_beside(tmp_path, "hooked.scenario.yaml", text)
    assert result.code == 1, result.text  # a run-time failure of that scenario, not bad input
    assert says in result.text and "answered HTTP 200 with invalid JSON" in result.text, result.text
    bad = [case for case in document["cases"] if case["file"].endswith("hooked.scenario.yaml")]
    assert bad and bad[0]["status"] == "error", document["cases"]


@pytest.mark.parametrize(("answer", "says"), [row[1:] for row in WEBHOOK_ROWS], ids=[row[0] for row in WEBHOOK_ROWS])
def test_http_request_widget_answer_refused(answer: str, says: str) -> None:
    """Studio's HTTP Request widget: a refused JSON answer is a failed request (the `failed` transition)."""
    def app(environ: dict, start_response: object) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])  # type: ignore[operator]
        return [answer.encode()]

    with LocalServer(app) as server, requests.Session() as session:
        outcome = perform(session, "GET", server.url("/x"))
    assert outcome.error is not None and says in outcome.error, outcome
    assert not outcome.has_parsed


@pytest.mark.parametrize("levels", [65, 5_000])
def test_engine_api_memory_too_deep(levels: int) -> None:
    """Memory handed to the Autopilot engine's Python API gets the loaders' cap (deepcopy would recurse)."""
    from harness.engines.autopilot.runtime import AutopilotRuntime
    from harness.models.assistant_loader import load_assistant

    memory: dict = {}
    inner = memory
    for _ in range(levels):
        inner["a"] = {}
        inner = inner["a"]
    trained = AutopilotRuntime().train(load_assistant(TINY_BOT))
    with pytest.raises(LoadError, match=f"the initial memory nested more than {MAX_NESTING_DEPTH} levels deep"):
        trained.start(memory=memory)
    trained.start(memory={"a": {"b": [1, 2]}})  # ordinary memory still starts a dialogue
