"""Task routing (harness/engines/autopilot/router.py): exact samples, scored matches, threshold, explain."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness.clock import FixedClock
from harness.engines.autopilot.fieldtypes import FieldResolver, normalize
from harness.engines.autopilot.router import Router, Routing
from harness.errors import EngineError
from harness.models.assistant import Assistant, FieldType, FieldValue, Sample, Task, TaskField, task_target
from harness.models.assistant_loader import load_assistant
from tests.conftest import REAL, real_files, real_path, requires_real

MONDAY = datetime(2024, 3, 4, 10, 0, tzinfo=UTC)


def make_router(assistant: Assistant, **options) -> Router:
    return Router(assistant, resolver=FieldResolver(assistant, FixedClock(MONDAY)), **options)


def task(name: str, *samples: str, fields: tuple[TaskField, ...] = ()) -> Task:
    return Task(name, fields=fields, samples=tuple(Sample(s) for s in samples))


DISH = FieldType("Custom.DISH", (FieldValue("burger"), FieldValue("cheeseburger"),
                                 FieldValue("cheese burger", synonym_of="cheeseburger"), FieldValue("fries")))
RESTAURANT = Assistant("restaurant", "Restaurant", (
    task("greeting", "Hi", "hello", "hello there", "good morning"),
    task("order", "order a {dish}", "i want {dish}", "i am hungry", "can i order food",
         fields=(TaskField("dish", "Custom.DISH"),)),
    task("book", "book a table for {when}", "{when} at {time}", "reserve a table",
         fields=(TaskField("when", "Twilio.DATE"), TaskField("time", "Twilio.TIME"))),
    task("names", "{first}", "my name is {first}", fields=(TaskField("first", "Twilio.FIRST_NAME"),)),
    task("help_a", "help", "i need assistance"),
    task("help_b", "help", "support please"),
    task("goodbye", "bye", "goodbye", "no thanks"),
    task("fallback"),
), field_types=(DISH,))


@pytest.fixture(scope="module")
def router() -> Router:
    return make_router(RESTAURANT, fallback_task="fallback")


# -- exact matches ---------------------------------------------------------------------------------

def test_exact_match_ignores_case_and_punctuation(router):
    routed = router.route("HELLO there!!")
    assert (routed.task, routed.method, routed.confidence, routed.next_best_task) == ("greeting", "exact", 1.0, "")
    assert routed.ranking[0].sample == "hello there"


def test_exact_match_fills_custom_slots_with_the_canonical_value(router):
    routed = router.route("Order a Cheese Burger.")
    assert routed.task == "order" and routed.method == "exact"
    assert routed.fields == {"dish": {"value": "cheeseburger", "type": "Custom.DISH"}}


def test_exact_match_fills_builtin_slots_against_the_clock(router):
    routed = router.route("tomorrow at 4pm")
    assert routed.task == "book" and routed.method == "exact"
    assert routed.fields == {"when": {"value": "2024-03-05", "type": "Twilio.DATE"},
                             "time": {"value": "16:00", "type": "Twilio.TIME"}}


def test_a_slot_that_does_not_resolve_is_no_exact_match(router):
    assert router.route("book a table for february 30").method != "exact"
    assert router.route("book a table for march 3rd").fields == {
        "when": {"value": "2025-03-03", "type": "Twilio.DATE"}}


def test_a_literal_sample_beats_a_slot_only_sample(router):
    # "hello" is also a one-word {first} name; the literal sample is more specific.
    routed = router.route("hello")
    assert (routed.task, routed.confidence, routed.next_best_task) == ("greeting", 1.0, "")
    assert [r.task for r in routed.ranking] == ["greeting", "names"] and "less specific" in routed.note
    named = router.route("maria")
    assert named.task == "names" and named.fields == {"first": {"value": "Maria", "type": "Twilio.FIRST_NAME"}}


def test_the_same_sample_in_two_tasks_is_a_tie_broken_by_task_order(router):
    routed = router.route("Help!")
    assert (routed.task, routed.method, routed.confidence, routed.next_best_task) == ("help_a", "exact", 0.0,
                                                                                      "help_b")
    assert "tie" in routed.note and "help_b" in routed.note


# -- scored matches --------------------------------------------------------------------------------

def test_scored_match_with_fields_from_a_sample_inside_the_input(router):
    routed = router.route("could I please order a cheese burger now")
    assert routed.task == "order" and routed.method == "scored"
    assert routed.fields == {"dish": {"value": "cheeseburger", "type": "Custom.DISH"}}
    assert 0.4 <= routed.confidence < 1.0
    assert routed.note.startswith("closest sample")


def test_scored_match_takes_a_field_value_seen_anywhere(router):
    routed = router.route("fries for me i am so hungry")
    assert routed.task == "order" and routed.fields == {"dish": {"value": "fries", "type": "Custom.DISH"}}


def test_confidence_is_relative_margin_of_the_two_best_tasks(router):
    routed = router.route("i want to reserve a table tonight")
    p1, p2 = routed.ranking[0].score, routed.ranking[1].score
    assert routed.task == "book"
    assert routed.confidence == pytest.approx((p1 - p2) / p1, abs=1e-5)
    assert routed.next_best_task == routed.ranking[1].task


def test_below_the_threshold_nothing_is_chosen(router):
    # "table" and "order" pull towards two tasks equally: the margin is small.
    ambiguous = "order table"
    routed = router.route(ambiguous)
    assert routed.task is None and routed.method == "none" and "threshold" in routed.note
    assert routed.ranking and routed.confidence < 0.4
    loose = make_router(RESTAURANT, threshold=0.0).route(ambiguous)
    assert loose.task == routed.ranking[0].task and loose.method == "scored"


def test_unrelated_input_routes_nowhere(router):
    for text in ("qwerty asdf", "", "   ?!"):
        routed = router.route(text)
        assert routed.task is None and routed.method == "none" and routed.fields == {}
    assert router.route("").note == "empty input"


def test_a_weak_best_score_is_below_min_score(router):
    routed = make_router(RESTAURANT, min_score=0.9).route("i am very hungry now")
    assert routed.task is None and "min_score" in routed.note
    assert make_router(RESTAURANT).route("i am very hungry now").task == "order"


def test_next_best_task_is_empty_when_it_is_the_fallback():
    assistant = Assistant("bot", "bot", (
        task("weather", "what is the weather", "weather forecast"),
        task("fallback", "what is this"),
    ))
    routed = make_router(assistant, fallback_task="fallback", threshold=0.0).route("what is the weather today")
    assert routed.task == "weather" and routed.ranking[1].task == "fallback"
    assert routed.next_best_task == ""
    assert make_router(assistant, threshold=0.0).route("what is the weather today").next_best_task == "fallback"


# -- candidates (listen.tasks) ---------------------------------------------------------------------

def test_candidates_restrict_exact_and_scored_matches(router):
    assert router.route("hi", candidates=["order", "goodbye"]).task is None
    routed = router.route("i am hungry", candidates=["greeting", "goodbye"])
    assert routed.task != "order" and all(r.task in ("greeting", "goodbye") for r in routed.ranking)
    assert router.route("i am hungry", candidates=("order", "no_such_task")).task == "order"
    assert router.route("hello", candidates=[]).task is None


# -- explain ---------------------------------------------------------------------------------------

def test_explain_ranks_every_candidate_task(router):
    routed = router.route("could I please order a cheese burger now")
    explained = router.explain("could I please order a cheese burger now")
    assert (explained.task, explained.confidence, explained.fields, explained.method) == (
        routed.task, routed.confidence, routed.fields, routed.method)
    assert [r.task for r in explained.ranking][: len(routed.ranking)] == [r.task for r in routed.ranking]
    assert sorted(r.task for r in explained.ranking) == sorted(t.unique_name for t in RESTAURANT.tasks)
    scores = [r.score for r in explained.ranking]
    assert scores == sorted(scores, reverse=True)
    fallback = next(r for r in explained.ranking if r.task == "fallback")
    assert (fallback.score, fallback.sample) == (0.0, None)
    assert explained.ranking[0].sample in ("order a {dish}", "i want {dish}", "can i order food")


def test_explain_of_an_exact_match_keeps_the_decision(router):
    explained = router.explain("hello there")
    assert explained.task == "greeting" and explained.confidence == 1.0 and explained.method == "exact"
    assert explained.ranking[0].score == 1.0 and len(explained.ranking) == len(RESTAURANT.tasks)
    assert router.explain("hello", candidates=["greeting", "order"]).ranking[-1].task == "order"


def test_routing_to_dict_is_json(router):
    data = json.loads(json.dumps(router.explain("order a burger").to_dict()))
    assert data["task"] == "order" and data["fields"]["dish"] == {"value": "burger", "type": "Custom.DISH"}
    assert {"task", "score", "sample"} == set(data["ranking"][0]) and data["method"] == "exact"


def test_routing_is_deterministic():
    first = [make_router(RESTAURANT).explain(t) for t in ("order table", "i need help with food", "bye now")]
    second = [make_router(RESTAURANT).explain(t) for t in ("order table", "i need help with food", "bye now")]
    assert first == second and all(isinstance(r, Routing) for r in first)


def test_a_tag_naming_no_field_is_a_harness_error():
    bad = Assistant("bot", "bot", (Task("t", samples=(Sample("send {thing}"),), pointer="/tasks/0"),))
    with pytest.raises(EngineError) as caught:
        make_router(bad)
    assert "{thing}" in caught.value.message and caught.value.location.pointer == "/tasks/0/samples/0/taggedText"


# -- the real exports ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hospitality() -> Router:
    assistant = load_assistant(real_path("autopilot/Hospitality/schema.json"))
    return make_router(assistant, fallback_task=task_target(assistant.defaults.fallback or ""))


@requires_real
@pytest.mark.parametrize(("text", "expected", "method"), [
    ("i need food", "order_roomservice", "exact"),
    ("I need towels", "get_quantity", "scored"),
    ("i need toiletries", "deliver_roomitems", "exact"),
    ("no", "goodbye", "exact"),
])
def test_hospitality_overlaps(hospitality, text, expected, method):
    routed = hospitality.route(text)
    assert (routed.task, routed.method) == (expected, method)
    assert routed.confidence >= hospitality.threshold


@requires_real
def test_hospitality_i_need_towels_fills_item(hospitality):
    routed = hospitality.route("I need towels")
    assert routed.fields == {"item": {"value": "towels", "type": "Custom.ROOMITEMS"}}
    assert routed.ranking[0].sample == "need {item}" and routed.next_best_task in ("order_roomservice",
                                                                                   "deliver_roomitems")


@requires_real
@pytest.mark.parametrize(("text", "expected", "item"), [
    ("can I get some toilet paper", "get_quantity", "toilet paper"),
    ("I'd like a toothbrush please", "get_quantity", "toothbrush"),
    ("i'm starving, can i order dinner", "order_roomservice", None),
    ("please i need toiletries", "deliver_roomitems", None),
    ("no thank you", "goodbye", None),
])
def test_hospitality_paraphrases(hospitality, text, expected, item):
    routed = hospitality.route(text)
    assert routed.task == expected and routed.method == "scored"
    assert routed.fields.get("item", {}).get("value") == item


# Example values for built-in tags when real samples are replayed.
EXAMPLE_VALUES = {"Twilio.DATE": "tomorrow", "Twilio.TIME": "4pm", "Twilio.NUMBER": "3",
                  "Twilio.FIRST_NAME": "maria", "Twilio.LAST_NAME": "lopez", "Twilio.YES_NO": "yes"}
REAL_ASSISTANTS = real_files("autopilot", "schema.json") + real_files("autopilot/autopilot-cli", "*.json")


def _fill_tags(assistant: Assistant, owner: Task, text: str) -> str:
    for task_field in owner.fields:
        custom = assistant.field_type(task_field.field_type)
        value = custom.values[0].value if custom else EXAMPLE_VALUES[task_field.field_type]
        text = text.replace("{" + task_field.unique_name + "}", value)
    return text


@requires_real
@pytest.mark.parametrize("path", REAL_ASSISTANTS, ids=[str(p.relative_to(REAL)) for p in REAL_ASSISTANTS])
def test_real_assistants_route_their_own_samples(path: Path):
    assistant = load_assistant(path)
    router = make_router(assistant, fallback_task=task_target(assistant.defaults.fallback or ""))
    total = hits = 0
    misses = []
    for owner in assistant.tasks:
        for sample in owner.samples:
            text = _fill_tags(assistant, owner, sample.tagged_text)
            routed = router.route(text)
            total += 1
            if routed.task == owner.unique_name:
                hits += 1
                assert routed.method == "exact"
            else:
                misses.append((text, owner.unique_name, routed.task))
    accuracy = hits / total
    print(f"{path.relative_to(REAL)}: {hits}/{total} samples route to their own task ({accuracy:.3f})")
    assert accuracy >= 0.95, misses
    # A miss is only acceptable where the same sample text is also a sample of the task it went to.
    for text, _owner, routed_to in misses:
        other = assistant.task(routed_to) if routed_to else None
        assert other and normalize(text) in {normalize(s.tagged_text) for s in other.samples}, text
