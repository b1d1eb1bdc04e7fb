"""The bundled Harbour Hotel bot (examples/hospitality/assistant.json): shape, and the guide's two journeys.

The conversations need the Autopilot engine; they skip while it cannot be imported. The hand-off one also
needs twilio-run (`npm ci`), like tests/unit/engines/twilio/test_functions.py.
"""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest

from harness.models.assistant_loader import load_assistant
from tests.conftest import EXAMPLES, ROOT, real_path

HOSPITALITY = EXAMPLES / "hospitality"
BOT = HOSPITALITY / "assistant.json"
TEMPLATE_TASKS = {
    "greeting", "get_quantity", "deliver_roomitems", "order_roomservice", "complete_collect_roomitems",
    "complete_collect_roomservice", "goodbye", "fallback", "collect_fallback",
}
GUIDE_SAMPLES = [
    "Can I talk to an agent?", "Agent", "I want to talk to someone", "Talk to a representative", "Concierge",
    "Talk to concierge", "Can I talk to someone?", "I'd like to talk to an agent", "Concierge please",
    "Representative",
]


def raw() -> dict[str, Any]:
    return json.loads(BOT.read_text())


def test_the_bot_has_the_template_tasks_plus_send_to_agent() -> None:
    assistant = load_assistant(BOT)
    assert {t.unique_name for t in assistant.tasks} == TEMPLATE_TASKS | {"send_to_agent"}
    assert [w.render() for w in assistant.warnings] == []
    agent = next(t for t in assistant.tasks if t.unique_name == "send_to_agent")
    assert agent.actions_url == "https://hotel-1234.twil.io/send-to-agent"
    assert agent.actions_url_method == "POST"
    assert [s.tagged_text for s in agent.samples] == GUIDE_SAMPLES


def test_every_routable_task_has_at_least_ten_samples_and_only_goodbye_ends_without_listen() -> None:
    for task in raw()["tasks"]:
        if task.get("samples"):
            assert len(task["samples"]) >= 10, task["uniqueName"]
        actions = task.get("actions", {}).get("actions", [])
        kinds = [next(iter(a)) for a in actions]
        if task["uniqueName"] == "goodbye":
            assert kinds == ["say"]
        elif actions:
            assert kinds[-1] in {"listen", "collect"}, task["uniqueName"]


def test_custom_types_have_synonyms_and_a_validated_question_exists() -> None:
    data = raw()
    for field_type in data["fieldTypes"]:
        canonical = {v["value"] for v in field_type["values"] if v["synonymOf"] is None}
        synonyms = [v for v in field_type["values"] if v["synonymOf"] is not None]
        assert synonyms and all(v["synonymOf"] in canonical for v in synonyms)
    questions = [q for t in data["tasks"] for a in t.get("actions", {}).get("actions", [])
                 if "collect" in a for q in a["collect"]["questions"]]
    validated = [q["validate"] for q in questions if "validate" in q]
    assert validated and {"allowed_values", "on_failure", "max_attempts"} <= set(validated[0])


def test_our_texts_are_not_the_real_exports() -> None:
    """Only the reference conversation's bot lines and a few one-word samples match the real template."""
    real = real_path("autopilot/Hospitality/schema.json")

    def texts(data: dict[str, Any]) -> set[str]:
        found = {s["taggedText"].lower() for t in data["tasks"] for s in t.get("samples", [])}
        found |= {a["say"] for t in data["tasks"] for a in t.get("actions", {}).get("actions", [])
                  if isinstance(a.get("say"), str)}
        return found

    shared = texts(raw()) & texts(json.loads(real.read_text()))
    allowed = {"How many would you like?",
               "Your items will be dropped off within 10 minutes. What else can I help you with?"}
    generic = {"hi", "hello", "good morning", "good afternoon", "no", "goodbye", "cancel", "stop", "{item}"}
    assert shared <= allowed | generic


# --- conversations (need the engine) -----------------------------------------------------------------


def session(**options: Any) -> Any:
    from harness.runner.session import Session, SessionOptions

    return Session(SessionOptions(bots={None: BOT}, **options))


def test_the_reference_conversation() -> None:
    with session() as running:
        talk = running.conversation()
        first = talk.say("I need towels")
        assert first.task == "get_quantity"
        assert first.replies == ("How many would you like?",)
        second = talk.say("3 large towels")
        assert second.replies == (
            "Your items will be dropped off within 10 minutes. What else can I help you with?",)
        assert not second.ended
        answers = second.memory["twilio"]["collected_data"]["quantity_of_item"]["answers"]
        assert answers["quantity"]["answer"] == "3"
        assert talk.say("no").ended


@pytest.mark.network
def test_asking_for_an_agent_calls_the_function_and_ends_the_dialogue() -> None:
    from harness.engines.twilio.functions import find_twilio_run
    from harness.errors import UsageError

    try:
        find_twilio_run(HOSPITALITY, cwd=ROOT)
    except UsageError:
        if shutil.which("npm") is None:
            pytest.skip("twilio-run is not installed and npm is absent")
        raise
    with session(functions=[HOSPITALITY]) as running:
        talk = running.conversation()
        turn = talk.say("Can I talk to an agent?")
        assert turn.task == "send_to_agent"
        assert turn.ended
        assert "concierge" in " ".join(turn.replies)
        assert talk.transcript().final_memory["sendToAgent"] is True
