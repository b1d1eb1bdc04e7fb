"""The dialogue engine on the real Hospitality export and on small assistants of our own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, Response, request

from harness.clock import FixedClock
from harness.engines.autopilot.runtime import AutopilotRuntime, TrainedAssistant
from harness.engines.twilio.server import LocalServer
from harness.errors import EngineError, WebhookError
from harness.models.assistant_loader import assistant_from_dict, load_assistant
from tests.conftest import real_path

CLOCK_START = "2023-03-01T10:00:00Z"


@pytest.fixture(scope="module")
def hospitality() -> TrainedAssistant:
    runtime = AutopilotRuntime(clock=FixedClock(CLOCK_START))
    return runtime.train(load_assistant(real_path("autopilot/Hospitality/schema.json")))


def test_reference_conversation(hospitality: TrainedAssistant) -> None:
    dialogue = hospitality.start(channel="sms", user="+15555550123")
    first = dialogue.send("I need towels")
    assert first.task == "get_quantity" and first.routing in ("exact", "scored")
    assert first.fields == {"item": {"value": "towels", "type": "Custom.ROOMITEMS"}}
    assert first.texts == ["How many would you like?"]
    assert first.collect == {"name": "quantity_of_item", "question": "quantity"}
    second = dialogue.send("3 large towels")
    assert second.routing == "collect"
    assert second.texts == ["Your items will be dropped off within 10 minutes. What else can I help you with?"]
    assert second.tasks_run == ("complete_collect_roomitems",)
    record = second.memory["twilio"]["collected_data"]["quantity_of_item"]
    assert record == {
        "answers": {"quantity": {"answer": "3", "type": "Twilio.NUMBER", "filled": True, "attempts": 1,
                                 "validate_attempts": 1, "confirm_attempts": 0, "confirmed": False}},
        "date_started": "2023-03-01T10:00:00Z", "status": "complete", "date_completed": "2023-03-01T10:00:00Z",
    }
    assert second.memory["twilio"]["sms"]["From"] == "+15555550123"
    assert not dialogue.ended


def test_goodbye_ends_the_dialogue_and_keeps_final_memory(hospitality: TrainedAssistant) -> None:
    dialogue = hospitality.start(memory={"guest": "Ada"})
    dialogue.send("hi")
    turn = dialogue.send("no")
    assert turn.task == "goodbye" and turn.ended and dialogue.ended
    assert turn.texts == ["Ok, I'll be here when you need me."]
    assert dialogue.final_memory["guest"] == "Ada"
    with pytest.raises(EngineError, match="has ended"):
        dialogue.send("hello again")


def test_typed_answer_failures_cycle_stylesheet_messages_then_collect_fallback(
        hospitality: TrainedAssistant) -> None:
    dialogue = hospitality.start()
    dialogue.send("I need towels")
    replies = [dialogue.send("lots and lots").texts for _ in range(3)]
    assert replies == [["I didn't get that. What did you say?"], ["I still didn't catch that. Please repeat."],
                       ["Let's try one last time. Say it again please."]]
    last = dialogue.send("many")
    assert last.tasks_run == ("collect_fallback",)
    assert last.texts[0].startswith("Looks like I'm having trouble.")
    record = last.memory["twilio"]["collected_data"]["quantity_of_item"]
    assert record["status"] == "validation-max-attempts"
    assert record["answers"]["quantity"] == {
        "filled": False, "type": "Twilio.NUMBER", "error": {"message": "Invalid Value", "value": "many"},
        "attempts": 4, "validate_attempts": 4, "confirm_attempts": 0, "confirmed": False}


def test_two_question_collect_and_free_text(hospitality: TrainedAssistant) -> None:
    dialogue = hospitality.start()
    turn = dialogue.send("i need food")
    assert turn.task == "order_roomservice"
    assert turn.texts == ["Our kitchen is open and serving the full menu.", "What would you like to eat?"]
    dialogue.send("a burger please")
    done = dialogue.send("no onions")
    answers = done.memory["twilio"]["collected_data"]["order_food"]["answers"]
    assert answers["Food"]["answer"] == "burger"
    assert answers["special_requests"]["answer"] == "no onions" and "type" not in answers["special_requests"]


def test_unknown_input_goes_to_the_fallback_with_low_confidence(hospitality: TrainedAssistant) -> None:
    turn = hospitality.start().send("purple elephants dance quietly")
    assert turn.routing == "none" and turn.tasks_run == ("fallback",)
    assert turn.texts == ["I'm sorry didn't quite get that. Please say that again."]


def test_target_task_skips_routing(hospitality: TrainedAssistant) -> None:
    turn = hospitality.start(target_task="greeting").send("I need towels")
    assert turn.task == "greeting" and turn.routing == "target" and turn.confidence == 1.0
    with pytest.raises(EngineError, match="target task 'nope'"):
        hospitality.start(target_task="nope")


# --- small assistants of our own ------------------------------------------------------------------


def _assistant(tasks: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "uniqueName": "tiny", "friendlyName": "tiny",
        "defaults": {"defaults": {"fallback": "task://fallback"}},
        "tasks": [{"uniqueName": "fallback", "actions": {"actions": [{"say": "what?"}, {"listen": True}]},
                   "fields": [], "samples": []}, *tasks],
    }
    data.update(extra)
    return data


def _task(name: str, actions: list[dict[str, Any]] | None, samples: tuple[str, ...] = (), **extra: Any) -> dict:
    task = {"uniqueName": name, "fields": [], "samples": [{"language": "en-US", "taggedText": s} for s in samples],
            **extra}
    if actions is not None:
        task["actions"] = {"actions": actions}
    return task


def _train(data: dict[str, Any], **runtime: Any) -> TrainedAssistant:
    return AutopilotRuntime(clock=FixedClock(CLOCK_START), **runtime).train(assistant_from_dict(data))


def test_more_than_five_redirects_is_an_error() -> None:
    loop = [_task(f"t{i}", [{"redirect": f"task://t{(i + 1) % 3}"}], ("go",) if i == 0 else ()) for i in range(3)]
    dialogue = _train(_assistant(loop)).start()
    with pytest.raises(EngineError, match="more than 5 redirects in one request"):
        dialogue.send("go")
    assert dialogue.ended


def test_five_redirects_are_allowed() -> None:
    chain = [_task(f"t{i}", [{"redirect": f"task://t{i + 1}"}], ("go",) if i == 0 else ()) for i in range(5)]
    chain.append(_task("t5", [{"say": "end of chain"}, {"listen": True}]))
    turn = _train(_assistant(chain)).start().send("go")
    assert turn.texts == ["end of chain"] and turn.tasks_run == tuple(f"t{i}" for i in range(6))


def test_remember_merges_and_overwrites_and_show_play_continue() -> None:
    tasks = [_task("a", [{"remember": {"x": 1, "y": {"z": 1}}}, {"remember": {"x": 2}},
                         {"show": {"body": "look", "images": [{"label": "owl", "url": "https://e.x/owl.png"}]}},
                         {"play": {"url": "https://e.x/a.mp3"}}, {"listen": True}], ("start",))]
    turn = _train(_assistant(tasks)).start(memory={"keep": True, "x": 0}).send("start")
    assert turn.memory["x"] == 2 and turn.memory["y"] == {"z": 1} and turn.memory["keep"] is True
    assert [(r.kind, r.text, r.media) for r in turn.replies] == [
        ("show", "look", ("https://e.x/owl.png",)), ("play", "https://e.x/a.mp3", ("https://e.x/a.mp3",))]


def test_listen_tasks_restrict_the_next_routing() -> None:
    tasks = [_task("menu", [{"say": "pizza or pasta?"}, {"listen": {"tasks": ["pizza"]}}], ("menu",)),
             _task("pizza", [{"say": "pizza!"}, {"listen": True}], ("pizza",)),
             _task("pasta", [{"say": "pasta!"}, {"listen": True}], ("pasta",))]
    dialogue = _train(_assistant(tasks)).start()
    dialogue.send("menu")
    assert dialogue.send("pasta").tasks_run == ("fallback",)  # pasta is not a candidate now
    assert dialogue.send("pasta").task == "pasta"  # the fallback listens to every task again


def test_allowed_values_and_question_level_max_attempts() -> None:
    collect = {"collect": {"name": "city", "questions": [{
        "question": "Which city?", "name": "city",
        "validate": {"allowed_values": {"list": ["Paris", "Rome"]},
                     "on_failure": {"messages": [{"say": "We only fly to Paris or Rome."}], "repeat_question": True},
                     "on_success": {"say": "Great."},
                     "max_attempts": {"redirect": "task://sorry", "num_attempts": 2}}}],
        "on_complete": {"redirect": "task://done"}}}
    tasks = [_task("book", [collect], ("book a flight",)),
             _task("done", [{"say": "booked"}]), _task("sorry", [{"say": "sorry"}])]
    bot = _train(_assistant(tasks))
    dialogue = bot.start()
    dialogue.send("book a flight")
    assert dialogue.send("London").texts == ["We only fly to Paris or Rome.", "Which city?"]
    assert dialogue.send("rome").texts == ["Great.", "booked"] and dialogue.ended
    failing = bot.start()
    failing.send("book a flight")
    failing.send("London")
    assert failing.send("Oslo").tasks_run == ("sorry",)


def test_prefill_answers_from_the_routed_field() -> None:
    data = _assistant(
        [_task("order", [{"collect": {"name": "o", "questions": [
            {"question": "What item?", "name": "item", "type": "Custom.ITEM", "prefill": "item"},
            {"question": "How many?", "name": "n", "type": "Twilio.NUMBER"}],
            "on_complete": {"redirect": "task://ok"}}}], ("i want {item}",))
         | {"fields": [{"uniqueName": "item", "fieldType": "Custom.ITEM"}]},
         _task("ok", [{"say": "ok"}])],
        fieldTypes=[{"uniqueName": "Custom.ITEM",
                     "values": [{"language": "en-US", "value": "soap", "synonymOf": None}]}],
    )
    turn = _train(data).start().send("i want soap")
    assert turn.texts == ["How many?"]
    assert turn.memory["twilio"]["collected_data"]["o"]["answers"]["item"]["answer"] == "soap"


def test_handoff_ends_the_dialogue_and_is_recorded() -> None:
    # Hand-off doc: voice only; taskrouter://WW… creates the task (reference/autopilot.md §2.7).
    uri = "taskrouter://WW" + "1" * 32
    tasks = [_task("agent", [{"say": "connecting"}, {"handoff": {"channel": "voice", "uri": uri}}], ("agent",))]
    dialogue = _train(_assistant(tasks)).start(channel="voice")
    turn = dialogue.send("agent")
    assert turn.ended and turn.handoff is not None
    assert (turn.handoff["kind"], turn.handoff["channel"], turn.handoff["uri"]) == ("autopilot", "voice", uri)
    assert turn.handoff["task_sid"].startswith("WT") and turn.handoff["workflow_sid"] == "WW" + "1" * 32


def test_initiate_runs_assistant_initiation(hospitality: TrainedAssistant) -> None:
    turn = hospitality.start(channel="voice").initiate()
    assert turn.tasks_run == ("greeting",) and turn.texts[0].startswith("Hi, I can get you items")


# --- Action URLs, redirects to URLs, validate webhooks ----------------------------------------------


def _functions_app() -> Flask:
    app = Flask(__name__)
    app.config["requests"] = []

    def reply(actions: list[dict[str, Any]]) -> Response:
        return Response(json.dumps({"actions": actions}), mimetype="application/json")

    @app.post("/agent")
    def agent() -> Response:
        app.config["requests"].append(request.form.to_dict())
        memory = json.loads(request.form["Memory"])
        return reply([{"remember": {"sendToAgent": True, "seen": memory.get("guest")}},
                      {"say": "Please hold."}])

    @app.post("/next")
    def next_() -> Response:
        return reply([{"say": f"you said {request.form['CurrentInput']}"}, {"listen": True}])

    @app.post("/check")
    def check() -> Response:
        return Response(json.dumps({"valid": request.form["ValidateFieldAnswer"] == "7"}),
                        mimetype="application/json")

    @app.post("/broken")
    def broken() -> Response:
        return Response("nope", status=502)

    return app


@pytest.fixture(scope="module")
def functions() -> Iterator[LocalServer]:
    with LocalServer(_functions_app()) as server:
        yield server


@pytest.mark.network
def test_action_url_task_gets_twilio_parameters(functions: LocalServer) -> None:
    tasks = [_task("send_to_agent", None, ("talk to an agent",), actionsUrl="https://x-1.twil.io/agent")]
    bot = _train(_assistant(tasks), url_map={"https://*.twil.io": functions.base_url})
    dialogue = bot.start(user="+15555550199", memory={"guest": "Ada"})
    turn = dialogue.send("talk to an agent")
    assert turn.texts == ["Please hold."] and turn.ended
    assert dialogue.final_memory["sendToAgent"] is True and dialogue.final_memory["seen"] == "Ada"
    sent = functions.app.config["requests"][-1]  # type: ignore[attr-defined]
    assert sent["CurrentTask"] == "send_to_agent" and sent["CurrentInput"] == "talk to an agent"
    assert sent["UserIdentifier"] == "+15555550199" and sent["DialogueSid"] == dialogue.sid
    assert sent["AssistantSid"] == bot.sid and sent["CurrentTaskConfidence"] == "1.0"
    assert sent["Channel"] == "sms" and sent["NextBestTask"] == ""
    assert turn.webhooks[0]["called"] == f"{functions.base_url}/agent"


@pytest.mark.network
def test_redirect_to_url_and_validate_webhook(functions: LocalServer) -> None:
    collect = {"collect": {"name": "n", "questions": [{
        "question": "Lucky number?", "name": "n", "type": "Twilio.NUMBER",
        "validate": {"webhook": {"url": "https://x-1.twil.io/check", "method": "POST"},
                     "on_failure": {"messages": [{"say": "Not lucky."}]}}}],
        "on_complete": {"redirect": {"uri": "https://x-1.twil.io/next", "method": "POST"}}}}
    tasks = [_task("lucky", [collect], ("lucky",))]
    dialogue = _train(_assistant(tasks), url_map={"https://*.twil.io": functions.base_url}).start()
    dialogue.send("lucky")
    assert dialogue.send("3").texts == ["Not lucky."]
    done = dialogue.send("seven")
    assert done.texts == ["you said seven"]
    assert [w["purpose"] for w in done.webhooks] == ["validate", "on_complete"]


@pytest.mark.network
def test_a_failing_action_url_names_url_and_status(functions: LocalServer) -> None:
    tasks = [_task("t", [{"redirect": "https://x-1.twil.io/broken"}], ("go",))]
    dialogue = _train(_assistant(tasks), url_map={"https://*.twil.io": functions.base_url}).start()
    with pytest.raises(WebhookError, match=r"https://x-1.twil.io/broken .*answered HTTP 502: nope"):
        dialogue.send("go")


def test_an_idle_dialogue_expires_after_four_hours() -> None:
    clock = FixedClock(CLOCK_START)
    bot = AutopilotRuntime(clock=clock).train(load_assistant(real_path("autopilot/Hospitality/schema.json")))
    dialogue = bot.start()
    dialogue.send("I need towels")
    clock.advance(4 * 3600 - 1)
    assert not dialogue.expire() and not dialogue.ended
    clock.advance(1)
    assert dialogue.expire() and dialogue.ended and dialogue.timed_out
    assert dialogue.final_memory["twilio"]["collected_data"]["quantity_of_item"]["answers"] == {}
