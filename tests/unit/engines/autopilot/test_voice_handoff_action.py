"""The Autopilot `handoff` action is performed on voice: a TwiML request to its `uri`, or a task in the fake
TaskRouter for `taskrouter://WW…` with the action's priority and timeout; on messaging it is refused.

Sources: Hand-off doc https://www.twilio.com/docs/autopilot/actions/hand-off (reference/autopilot.md §2.1
"handoff: voice only; Autopilot session terminates; TwiML fetched from uri", §2.7 the keys, string-typed
priority/timeout), §4.1 (the same parameter set goes to handoff URLs as to Action URLs), and the
volunteer-communication-center Function that appends `taskrouter://` + a Workflow SID on voice (§8).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, Response, request

from harness.clock import FixedClock
from harness.engines.autopilot.runtime import AutopilotRuntime, TrainedAssistant
from harness.engines.twilio.server import LocalServer
from harness.engines.twilio.taskrouter import FakeTaskRouter, workflow_from_dict
from harness.errors import EngineError, WebhookError
from harness.models.assistant_loader import assistant_from_dict

WW = "WW" + "a" * 32
WORKFLOW = {"task_routing": {"filters": [
    {"filter_friendly_name": "Agents", "expression": "sendToAgent == true",
     "targets": [{"queue": "WQ1", "timeout": 30}, {"queue": "WQ2"}]}],
    "default_filter": {"queue": "WQ2"}}}


def _bot(handoff: dict[str, Any], *, taskrouter: FakeTaskRouter | None = None, **runtime: Any) -> TrainedAssistant:
    data = {"uniqueName": "tiny", "defaults": {"defaults": {"fallback": "task://fallback"}}, "tasks": [
        {"uniqueName": "fallback", "actions": {"actions": [{"say": "what?"}, {"listen": True}]}},
        {"uniqueName": "agent", "samples": [{"language": "en-US", "taggedText": "agent"}],
         "actions": {"actions": [{"remember": {"sendToAgent": True}}, {"say": "Connecting you."},
                                 {"handoff": handoff}, {"say": "never said"}]}},
    ]}
    return AutopilotRuntime(clock=FixedClock("2024-05-01T09:00:00Z"), taskrouter=taskrouter,
                            **runtime).train(assistant_from_dict(data))


def _taskrouter() -> FakeTaskRouter:
    return FakeTaskRouter({WW: workflow_from_dict(WORKFLOW)}, queues={"WQ1": "Concierge", "WQ2": "Front Desk"},
                          clock=FixedClock("2024-05-01T09:00:00Z"))


def test_taskrouter_handoff_creates_a_voice_task_with_the_actions_priority_and_ttl() -> None:
    taskrouter = _taskrouter()
    bot = _bot({"channel": "voice", "uri": f"taskrouter://{WW}", "priority": "5", "timeout": "200"},
               taskrouter=taskrouter)
    dialogue = bot.start(channel="voice", user="+15555550123")
    turn = dialogue.send("agent")
    assert turn.texts == ["Connecting you."] and turn.ended and dialogue.ended  # later actions never run
    [task] = taskrouter.tasks
    assert (task.workflow_sid, task.task_channel_unique_name, task.priority, task.timeout) == (WW, "voice", 5, 200)
    assert task.task_queue_friendly_name == "Concierge"
    # [uncertain] the attributes are the dialogue's Memory (docs/autopilot-engine.md)
    assert task.parsed_attributes["sendToAgent"] is True
    assert task.parsed_attributes["twilio"]["voice"]["From"] == "+15555550123"
    handoff = turn.handoff
    assert handoff is not None
    assert (handoff["kind"], handoff["uri"], handoff["priority"], handoff["timeout"]) == (
        "autopilot", f"taskrouter://{WW}", "5", "200")
    assert (handoff["task_sid"], handoff["queue"], handoff["task_status"]) == (task.sid, "Concierge", "pending")
    assert [e["queue"] for e in handoff["queue_history"]] == ["Concierge"]


def test_a_taskrouter_handoff_to_an_unknown_workflow_fails_naming_it() -> None:
    bot = _bot({"channel": "voice", "uri": "taskrouter://WW" + "b" * 32}, taskrouter=_taskrouter())
    with pytest.raises(EngineError, match=r"handoff to taskrouter://WWb+: workflow WWb+ does not exist"):
        bot.start(channel="voice").send("agent")


def test_a_placeholder_workflow_sid_fails_at_run_time_too() -> None:
    # The Actions template's own "taskrouter://INSERT TASK ROUTER WORKFLOW SID" (lint AP107 catches it first).
    bot = _bot({"channel": "voice", "uri": "taskrouter://INSERT TASK ROUTER WORKFLOW SID"})
    with pytest.raises(EngineError, match="WorkflowSid must be WW followed by 32 hex digits"):
        bot.start(channel="voice").send("agent")


@pytest.mark.parametrize("channel", ["sms", "chat", "whatsapp"])
def test_handoff_on_a_messaging_channel_is_refused(channel: str) -> None:
    # "voice only" (Hand-off doc): Twilio does not transfer a messaging conversation with it.
    bot = _bot({"channel": "voice", "uri": f"taskrouter://{WW}"}, taskrouter=_taskrouter())
    with pytest.raises(EngineError, match=f"hands off on {channel}: the handoff action is voice only"):
        bot.start(channel=channel).send("agent")


def _twiml_app() -> Flask:
    app = Flask("twiml")
    app.config["requests"] = []

    @app.route("/connect", methods=["GET", "POST"])
    def connect() -> Response:
        app.config["requests"].append({"method": request.method, **request.values.to_dict(),
                                       "signature": request.headers.get("X-Twilio-Signature")})
        return Response('<?xml version="1.0" encoding="UTF-8"?><Response><Dial>+15550001111</Dial></Response>',
                        mimetype="text/xml")

    @app.post("/json")
    def json_answer() -> Response:
        return Response('{"actions": []}', mimetype="application/json")

    return app


@pytest.fixture(scope="module")
def twiml() -> Iterator[LocalServer]:
    with LocalServer(_twiml_app()) as server:
        yield server


@pytest.mark.network
def test_twiml_handoff_requests_its_uri_with_the_autopilot_parameters(twiml: LocalServer) -> None:
    bot = _bot({"channel": "voice", "uri": "https://hotel.example.com/connect", "method": "POST"},
               url_map={"https://hotel.example.com": twiml.base_url})
    dialogue = bot.start(channel="voice", user="+15555550123")
    turn = dialogue.send("agent")
    sent = twiml.app.config["requests"][-1]  # type: ignore[attr-defined]
    assert sent["method"] == "POST" and sent["Channel"] == "voice" and sent["CurrentTask"] == "agent"
    assert sent["DialogueSid"] == dialogue.sid and '"sendToAgent":true' in sent["Memory"] and sent["signature"]
    handoff = turn.handoff
    assert handoff is not None and handoff["status"] == 200 and "<Dial>" in handoff["twiml"]
    assert turn.webhooks[-1]["purpose"] == "handoff" and turn.ended


@pytest.mark.network
def test_twiml_handoff_with_get_sends_no_memory(twiml: LocalServer) -> None:
    # GET sends the parameters in the query string, without Memory (reference §4.1).
    bot = _bot({"channel": "voice", "uri": "https://hotel.example.com/connect", "method": "GET"},
               url_map={"https://hotel.example.com": twiml.base_url})
    bot.start(channel="voice").send("agent")
    sent = twiml.app.config["requests"][-1]  # type: ignore[attr-defined]
    assert sent["method"] == "GET" and "Memory" not in sent and sent["CurrentTask"] == "agent"


@pytest.mark.network
def test_a_handoff_uri_that_answers_no_twiml_fails_the_call(twiml: LocalServer) -> None:
    bot = _bot({"channel": "voice", "uri": "https://hotel.example.com/json"},
               url_map={"https://hotel.example.com": twiml.base_url})
    with pytest.raises(WebhookError, match=r"without a TwiML <Response> document .*error 12100"):
        bot.start(channel="voice").send("agent")


@pytest.mark.network
def test_an_unmapped_twiml_uri_fails_naming_it() -> None:
    bot = _bot({"channel": "voice", "uri": "https://nowhere.invalid/twiml"})
    with pytest.raises(WebhookError, match=r"handoff POST https://nowhere.invalid/twiml"):
        bot.start(channel="voice").send("agent")
