"""A webhook's Actions naming a task that does not exist fail when that redirect fires, not as a whole
(issue 10, row 17); strict rejection is a setting; lint AP102 sees tasks a Function redirects to.

Source: Twilio validated Actions JSON against its schema (error 90100, https://www.twilio.com/docs/api/errors/90100;
…/shared/reference/autopilot.md §2.10), which checks shapes, not task names; a `task://` URI is resolved when
the redirect runs (Redirect doc, https://www.twilio.com/docs/autopilot/actions/redirect; reference §2.6). Which
of the two Twilio did is undocumented: the lenient one is the default, `strict_task_redirects` the other.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response

from harness.clock import FixedClock
from harness.engines.autopilot.options import EngineOptions
from harness.engines.autopilot.runtime import AutopilotRuntime, TrainedAssistant
from harness.engines.twilio.server import LocalServer
from harness.errors import EngineError, UsageError, WebhookError
from harness.insight.lint_rules import lint_assistant
from harness.models.assistant_loader import assistant_from_dict

pytestmark = pytest.mark.network

PROD = "https://hotel-1234.twil.io"
ORDER = {"actions": [{"collect": {
    "name": "order", "questions": [{"question": "Which room?", "name": "room", "type": "Twilio.NUMBER"}],
    "on_complete": {"redirect": "task://room_servce"}}}]}  # a typo: no such task


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    app = Flask(__name__)

    @app.route("/order", methods=["POST"])
    def order() -> Response:
        return Response(json.dumps(ORDER), mimetype="application/json")

    with LocalServer(app) as running:
        yield running


def _schema() -> dict[str, Any]:
    return {
        "uniqueName": "desk", "defaults": {"defaults": {"fallback": "task://order"}}, "styleSheet": {},
        "fieldTypes": [], "modelBuild": {"uniqueName": "v1"},
        "tasks": [{"uniqueName": "order", "actionsUrl": f"{PROD}/order", "fields": [],
                   "samples": [{"language": "en-US", "taggedText": "i want food"}]},
                  {"uniqueName": "room_service", "fields": [], "samples": [],
                   "actions": {"actions": [{"say": "On its way."}]}}],
    }


def _bot(server: LocalServer, options: EngineOptions | None = None) -> TrainedAssistant:
    runtime = AutopilotRuntime(clock=FixedClock(), url_map={PROD: server.base_url},
                               options=options or EngineOptions())
    return runtime.train(assistant_from_dict(_schema(), path="desk.json"))


def test_the_answer_runs_until_the_redirect_fires(server: LocalServer) -> None:
    dialogue = _bot(server).start(channel="sms", user="+14155550123")
    assert dialogue.send("i want food").texts == ["Which room?"]  # the answer was accepted
    with pytest.raises(EngineError, match="task://room_servce names no task"):
        dialogue.send("12")
    assert dialogue.ended


def test_strict_task_redirects_rejects_the_whole_answer(server: LocalServer) -> None:
    dialogue = _bot(server, EngineOptions(strict_task_redirects=True)).start(channel="sms", user="+1415")
    with pytest.raises(WebhookError, match=r"invalid Actions JSON \(error 90100\).*room_servce"):
        dialogue.send("i want food")


@pytest.mark.parametrize(("table", "environ", "strict"), [
    ({}, {}, False),
    ({"strict_task_redirects": True}, {}, True),
    ({"strict_task_redirects": True}, {"AUTOPILOT_HARNESS_STRICT_TASK_REDIRECTS": "0"}, False),  # env wins
    ({}, {"AUTOPILOT_HARNESS_STRICT_TASK_REDIRECTS": "yes"}, True),
])
def test_the_setting_comes_from_pyproject_or_the_environment(table: dict[str, Any], environ: dict[str, str],
                                                              strict: bool) -> None:
    assert EngineOptions.resolve(table, environ=environ).strict_task_redirects is strict


@pytest.mark.parametrize(("table", "environ"), [({"strict_task_redirects": "yes"}, {}),
                                                ({}, {"AUTOPILOT_HARNESS_STRICT_CUSTOM_FIELDS": "maybe"})])
def test_bad_setting_values_are_refused(table: dict[str, Any], environ: dict[str, str]) -> None:
    with pytest.raises(UsageError, match="expected"):
        EngineOptions.resolve(table, environ=environ)


def test_lint_ap102_counts_a_task_a_function_redirects_to(tmp_path: Path) -> None:
    schema = _schema()
    (tmp_path / "assistant.json").write_text(json.dumps(schema))
    assistant = assistant_from_dict(schema, path=str(tmp_path / "assistant.json"))
    unreachable = [f for f in lint_assistant(assistant, route_samples=False) if f.rule.id == "AP102"]
    assert [f.message.split("'")[1] for f in unreachable] == ["room_service"]
    (tmp_path / "functions").mkdir()
    (tmp_path / "functions" / "order.js").write_text(
        "exports.handler = (c, e, cb) => cb(null, {actions: [{redirect: 'task://room_service'}]});\n")
    assert not [f for f in lint_assistant(assistant, route_samples=False) if f.rule.id == "AP102"]


def _project(tmp_path: Path, setting: str, server_url: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(f"[tool.autopilot-harness]\nstrict_task_redirects = {setting}\n")
    (tmp_path / "bot.json").write_text(json.dumps(_schema()))
    (tmp_path / "a.scenario.yaml").write_text(
        f"bot: bot.json\nurl_map: {{'{PROD}': '{server_url}'}}\nscenarios:\n  - name: order\n    turns:\n"
        "      - user: i want food\n        expect: {replies: [Which room?]}\n")
    return tmp_path


@pytest.mark.parametrize(("setting", "code", "says"), [
    ("false", 0, "1 passed"),
    ("true", 1, "invalid Actions JSON (error 90100)"),  # strict, from pyproject.toml
    ('"yes"', 2, "pyproject.toml:2: [tool.autopilot-harness] strict_task_redirects: expected true or false"),
])
def test_the_pyproject_setting_reaches_a_run(tmp_path: Path, server: LocalServer, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch, setting: str, code: int,
                                            says: str) -> None:
    from harness.cli import main

    monkeypatch.delenv("AUTOPILOT_HARNESS_STRICT_TASK_REDIRECTS", raising=False)
    project = _project(tmp_path, setting, server.base_url)
    assert main(["run", str(project)]) == code
    captured = capsys.readouterr()
    assert says in captured.out + captured.err
