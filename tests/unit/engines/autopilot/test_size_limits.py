"""Memory over 16 KB (12 KB under Studio) and an Actions response over 16 KB fail with error 90100
(issue 10, row 12).

Source: Twilio's Autopilot limits page as issue 10 quotes it ("Memory … 16 KB (12 KB when used with Studio)",
"Actions response … 16 KB"; https://www.twilio.com/docs/autopilot/limits) and error 90100 "Invalid Autopilot
Actions JSON" (https://www.twilio.com/docs/api/errors/90100; …/shared/reference/autopilot.md §2.10).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, Response, request

from harness.clock import FixedClock
from harness.engines.autopilot.dialogue import MAX_MEMORY_BYTES, MAX_STUDIO_MEMORY_BYTES
from harness.engines.autopilot.runtime import AutopilotRuntime, TrainedAssistant
from harness.engines.autopilot.webhooks import MAX_ACTIONS_BYTES, WebhookClient
from harness.engines.studio.engine import StudioEnvironment
from harness.engines.twilio.server import LocalServer
from harness.engines.twilio.urlmap import UrlMap
from harness.errors import EngineError, WebhookError
from harness.models.assistant_loader import assistant_from_dict
from harness.models.flow import flow_from_dict

USER = "+14155550123"


def _bot(note_bytes: int) -> TrainedAssistant:
    remember = {"remember": {"note": "x" * note_bytes}}
    return AutopilotRuntime(clock=FixedClock()).train(assistant_from_dict({
        "uniqueName": "desk", "defaults": {"defaults": {"fallback": "task://keep"}}, "styleSheet": {},
        "fieldTypes": [], "modelBuild": {"uniqueName": "v1"},
        "tasks": [{"uniqueName": "keep", "fields": [], "samples": [{"language": "en-US", "taggedText": "keep"}],
                   "actions": {"actions": [remember, {"say": "kept"}, {"listen": True}]}}],
    }, path="desk.json"))


def test_the_limits_are_twilios() -> None:
    assert (MAX_MEMORY_BYTES, MAX_STUDIO_MEMORY_BYTES, MAX_ACTIONS_BYTES) == (16 * 1024, 12 * 1024, 16 * 1024)


def test_memory_over_16_kb_fails_the_turn_with_90100() -> None:
    assert _bot(15 * 1024).start(channel="sms", user=USER).send("keep").texts == ["kept"]
    dialogue = _bot(16 * 1024).start(channel="sms", user=USER)
    with pytest.raises(EngineError, match=r"over Twilio's 16 KB limit \(error 90100"):
        dialogue.send("keep")
    assert dialogue.ended


def test_under_studio_the_limit_is_12_kb() -> None:
    bot = _bot(13 * 1024)
    assert bot.start(channel="sms", user=USER).send("keep").texts == ["kept"]  # fine on its own
    with pytest.raises(EngineError, match="12 KB limit under Studio"):
        bot.start(channel="sms", user=USER, channel_info={"To": "+15005550006"}).send("keep")
    states = [
        {"name": "Trigger", "type": "trigger", "transitions": [{"event": "incomingMessage", "next": "Bot"}],
         "properties": {}},
        {"name": "Bot", "type": "send-to-auto-pilot",
         "transitions": [{"event": "sessionEnded"}, {"event": "failure"}, {"event": "timeout"}],
         "properties": {"autopilot_assistant_sid": "UA" + "1" * 32, "timeout": 14400,
                        "body": "{{trigger.message.Body}}", "from": "{{flow.channel.address}}"}},
    ]
    flow = flow_from_dict({"description": "t", "states": states, "initial_state": "Trigger",
                           "flags": {"allow_concurrent_calls": True}}, path="flow.json")
    env = StudioEnvironment(bots={"*": bot}, clock=FixedClock(), auth_token="t", account_sid="AC" + "a" * 32)
    execution = env.load(flow).start("incomingMessage", From=USER, To="+15005550006", Body="keep")
    step = execution.steps[-1]
    assert step["event"] == "failure" and "error 90100" in json.dumps(step)


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    app = Flask(__name__)

    @app.route("/actions", methods=["POST"])
    def actions() -> Response:
        size = int(request.args["bytes"])
        body: dict[str, Any] = {"actions": [{"say": "y" * size}]}
        return Response(json.dumps(body), mimetype="application/json")

    with LocalServer(app) as running:
        yield running


@pytest.mark.network
def test_an_actions_response_over_16_kb_fails_with_90100(server: LocalServer) -> None:
    client = WebhookClient(url_map=UrlMap({"https://bot.example.com": server.base_url}), timeout=2)
    actions, _ = client.actions("actions_url", "https://bot.example.com/actions?bytes=16000", "POST", {},
                                task_names=(), field_type_names=())
    assert len(actions) == 1
    with pytest.raises(WebhookError, match=r"over Twilio's 16 KB limit \(error 90100\)"):
        client.actions("actions_url", f"https://bot.example.com/actions?bytes={16 * 1024}", "POST", {},
                       task_names=(), field_type_names=())


def test_a_long_collect_answer_counts_too() -> None:
    bot = AutopilotRuntime(clock=FixedClock()).train(assistant_from_dict({
        "uniqueName": "desk", "defaults": {"defaults": {"fallback": "task://note"}}, "styleSheet": {},
        "fieldTypes": [], "modelBuild": {"uniqueName": "v1"},
        "tasks": [{"uniqueName": "note", "fields": [], "samples": [{"language": "en-US", "taggedText": "note"}],
                   "actions": {"actions": [{"collect": {"name": "n", "questions": [
                       {"question": "What should I note?", "name": "text"}],
                       "on_complete": {"redirect": "task://done"}}}]}},
                  {"uniqueName": "done", "fields": [], "samples": [],
                   "actions": {"actions": [{"say": "Noted."}, {"listen": True}]}}],
    }, path="desk.json"))
    dialogue = bot.start(channel="sms", user=USER)
    dialogue.send("note")
    with pytest.raises(EngineError, match="after this turn, over Twilio's 16 KB limit"):
        dialogue.send("x" * (16 * 1024))
