"""split-based-on: the 17 condition types, Studio's comparison rules and which transition wins."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from harness.engines.studio.conditions import (
    CONDITION_TYPES,
    SplitRules,
    evaluate,
    explain,
    first_match,
)
from harness.engines.studio.liquid import StudioLiquid, studio_context
from harness.errors import EngineError, Location
from tests.conftest import real_files, real_path, requires_real


def cond(kind: str, value: str = "") -> dict[str, Any]:
    return {"friendly_name": f"If value {kind} {value}", "arguments": ["{{x}}"], "type": kind, "value": value}


# (type, value, input, expected)
CASES = [
    # equal_to: trimmed, case-insensitive; numbers compare as numbers
    ("equal_to", "true", "true", True),
    ("equal_to", "True", "  TRUE ", True),
    ("equal_to", "yes", "yes please", False),
    ("equal_to", "1", "1.0", True),
    ("equal_to", "2", "02", False),  # a leading zero keeps it text (codes, zip codes)
    ("equal_to", "1", "", False),
    ("equal_to", "", "   ", True),
    ("not_equal_to", "agent", "Agent", False),
    ("not_equal_to", "agent", "bot", True),
    # comma lists with spaces after commas
    ("matches_any_of", "New, Existing", " existing", True),
    ("matches_any_of", "yes,1,yeah,y,yes!", "YES!", True),
    ("matches_any_of", "yes,1,yeah,y,yes!", "1.0", True),
    ("matches_any_of", "Hours, Parking", "hours parking", False),
    ("matches_any_of", "a,,b", "", False),  # empty items are ignored
    ("does_not_match_any_of", "2,no,nope", "Nope", False),
    ("does_not_match_any_of", "2,no,nope", "maybe", True),
    # blank: value ignored (the console stores a label)
    ("is_blank", "Is Blank", "", True),
    ("is_blank", "Is Blank", " \n\t", True),
    ("is_blank", "Is Blank", "x", False),
    ("is_not_blank", "Is Not Blank", "x", True),
    ("is_not_blank", "Is Not Blank", "  ", False),
    # regex: whole string, ignoring case; the real flows' patterns
    ("regex", ".*yes.*", "Oh YES please", True),
    ("regex", ".*(s(i|í)|y).*", "Sí", True),
    ("regex", "(sí|si)", "si", True),
    ("regex", "(sí|si)", "si claro", False),
    ("regex", r"\d{5}", " 12345 ", True),
    ("regex", r"\d{5}", "123456", False),
    # contains / starts_with ignore case
    ("contains", "espanol", "Quiero ESPANOL", True),
    ("contains", "holiday", "weekend", False),
    ("does_not_contain", "no", "NOpe", False),
    ("does_not_contain", "no", "yes", True),
    ("starts_with", "hel", "  Hello", True),
    ("starts_with", "hel", "say hello", False),
    ("does_not_start_with", "hel", "Hello", False),
    ("does_not_start_with", "hel", "oh hello", True),
    # numbers
    ("less_than", "3", "2", True),
    ("less_than", "3", "3", False),
    ("less_than", "10", "9.5", True),
    ("less_than", "3", "abc", False),
    ("less_than", "3", "", False),
    ("greater_than", "2", "10", True),  # numeric, not text ("10" < "2" as text)
    ("greater_than", "0", "-1", False),
    ("greater_than", "1", "nan", False),
    ("greater_than", "1", "inf", False),
    # times HH:MM (24-hour; am/pm and seconds accepted)
    ("is_before_time", "17:00", "09:30", True),
    ("is_before_time", "17:00", "17:00", False),
    ("is_before_time", "17:00", "5:30 pm", False),
    ("is_before_time", "12:30", "12:15 PM", True),
    ("is_after_time", "08:00", "08:00:01", True),
    ("is_after_time", "08:00", "2023-01-02T07:59:00Z", False),
    ("is_after_time", "08:00", "soon", False),
    ("is_after_time", "08:00", "25:00", False),
    # dates YYYY-MM-DD
    ("is_before_date", "2023-08-25", "2023-08-24", True),
    ("is_before_date", "2023-08-25", "2023-08-25", False),
    ("is_after_date", "2023-08-25", "2023-08-26T00:30:00Z", True),
    ("is_after_date", "2023-08-25", "2023-01-02", False),
    ("is_after_date", "2023-08-25", "tomorrow", False),
]


@pytest.mark.parametrize(("kind", "value", "text", "expected"), CASES,
                         ids=[f"{c[0]}-{c[1]!r}-{c[2]!r}" for c in CASES])
def test_condition(kind: str, value: str, text: str, expected: bool) -> None:
    assert evaluate(cond(kind, value), text) is expected


def test_every_type_has_a_true_and_a_false_case() -> None:
    outcomes = {(kind, expected) for kind, _, _, expected in CASES}
    assert {(kind, flag) for kind in CONDITION_TYPES for flag in (True, False)} <= outcomes
    assert len(CONDITION_TYPES) == 17


def test_non_string_inputs_are_compared_as_text() -> None:
    assert evaluate(cond("equal_to", "true"), True)
    assert evaluate(cond("greater_than", "2"), 3)
    assert evaluate(cond("is_blank"), None)


def test_rules_can_be_changed() -> None:
    text_only = SplitRules(numeric_equality=False)
    assert not evaluate(cond("equal_to", "1"), "1.0", rules=text_only)
    search = SplitRules(regex_fullmatch=False)
    assert evaluate(cond("regex", "(sí|si)"), "si claro", rules=search)


def test_reason_says_what_was_compared() -> None:
    assert explain(cond("equal_to", "true"), "true").reason == "'true' equal_to 'true' → matched"
    assert explain(cond("greater_than", "2"), " 10 ").reason == "'10' greater_than '2' (as numbers) → matched"
    not_number = explain(cond("less_than", "3"), "abc").reason
    assert not_number == "'abc' less_than '3' ('abc' is not a number) → no match"
    assert explain(cond("is_blank", "Is Blank"), "x").reason == "'x' is_blank → no match"
    assert "(item 'Existing')" in explain(cond("matches_any_of", "New, Existing"), "existing").reason


def test_unknown_type_is_an_engine_error_naming_it() -> None:
    with pytest.raises(EngineError, match="unknown split condition type 'equals'") as caught:
        evaluate(cond("equals", "x"), "x")
    assert "equal_to" in caught.value.hint


def test_invalid_regex_is_an_engine_error() -> None:
    with pytest.raises(EngineError, match="not a valid regular expression"):
        evaluate(cond("regex", "(unclosed"), "x")


# --- choosing the transition ------------------------------------------------------------------------------

TRANSITIONS = [
    {"event": "noMatch", "next": "fallback"},
    {"event": "match", "next": "agent", "conditions": [cond("matches_any_of", "agent,human")]},
    {"event": "match", "next": "sales", "conditions": [cond("contains", "a")]},
    {"event": "match", "next": "digits", "conditions": [cond("regex", r"\d+")]},
]


def test_first_matching_transition_wins_in_array_order() -> None:
    chosen, trace = first_match(TRANSITIONS, "Agent")  # also contains "a": the earlier one wins
    assert chosen["next"] == "agent"
    assert trace == [(TRANSITIONS[1]["conditions"][0], True, "'Agent' matches_any_of 'agent,human' "
                      "(item 'agent') → matched")]


def test_later_transition_after_failed_ones_and_the_trace_lists_each() -> None:
    chosen, trace = first_match(TRANSITIONS, "42")
    assert chosen["next"] == "digits"
    assert [matched for _, matched, _ in trace] == [False, False, True]


def test_no_match_transition_when_nothing_matches() -> None:
    chosen, trace = first_match(TRANSITIONS, "xyz")
    assert chosen == {"event": "noMatch", "next": "fallback"}
    assert len(trace) == 3 and not any(matched for _, matched, _ in trace)


def test_without_a_no_match_entry_a_bare_no_match_ends_the_execution() -> None:
    chosen, _ = first_match(TRANSITIONS[1:], "xyz")
    assert chosen == {"event": "noMatch"}


def test_all_conditions_of_a_transition_must_hold_and_empty_conditions_never_match() -> None:
    transitions = [
        {"event": "match", "next": "empty", "conditions": []},
        {"event": "match", "next": "both", "conditions": [cond("starts_with", "a"), cond("contains", "z")]},
        {"event": "noMatch", "next": "none"},
    ]
    assert first_match(transitions, "abc")[0]["next"] == "none"
    assert first_match(transitions, "abz")[0]["next"] == "both"


def test_liquid_in_value_is_rendered_by_the_callback() -> None:
    transitions = [{"event": "noMatch", "next": "done"},
                   {"event": "match", "next": "more", "conditions": [cond("less_than", "{{n}}")]}]
    seen: list[str] = []

    def render(text: str) -> str:
        seen.append(text)
        return "3"

    chosen, trace = first_match(transitions, "2", render_value=render)
    assert chosen["next"] == "more" and seen == ["{{n}}"]
    assert trace[0][0]["value"] == "3" and transitions[1]["conditions"][0]["value"] == "{{n}}"


def test_model_objects_work_as_well_as_mappings() -> None:
    @dataclass
    class Condition:
        type: str
        value: str
        friendly_name: str = ""
        arguments: list[str] = field(default_factory=list)

    @dataclass
    class Transition:
        event: str
        next: str | None = None
        conditions: list[Condition] = field(default_factory=list)

    transitions = [Transition("noMatch", "a"), Transition("match", "b", [Condition("equal_to", "{{v}}")])]
    assert first_match(transitions, "yes", render_value=lambda _: "YES")[0].next == "b"


def test_errors_are_placed_at_the_condition_when_the_state_is_known() -> None:
    transitions = [{"event": "noMatch"}, {"event": "match", "conditions": [cond("bogus")]}]
    state = Location("flows/x.json", "/states/7")
    with pytest.raises(EngineError) as caught:
        first_match(transitions, "x", location=state)
    assert caught.value.location.pointer == "/states/7/transitions/1/conditions/0"


# --- the real flows -------------------------------------------------------------------------------------


def real_splits() -> list[tuple[str, dict[str, Any]]]:
    splits = []
    for path in real_files("studio"):
        if path.parent.name != "studio" or path.name.startswith(("LEGACY", "official")):
            continue
        for state in json.loads(path.read_text(encoding="utf-8"))["states"]:
            if state["type"] == "split-based-on":
                splits.append((path.name, state))
    return splits


@requires_real
def test_every_real_split_condition_has_a_known_type_and_evaluates() -> None:
    splits = real_splits()
    assert len(splits) == 96
    liquid = StudioLiquid()
    empty = studio_context()

    def render(text: str) -> str:
        return liquid.render(text, empty, name="split value")

    for name, state in splits:
        for probe in ("", "yes", "2", "Agente"):
            chosen, _ = first_match(state["transitions"], probe, render_value=render)
            assert chosen["event"] in ("match", "noMatch"), name


@requires_real
def test_autopilot_current_task_split_routes_to_the_agent() -> None:
    flow = json.loads(real_path("studio/function-templates__volunteer-comm__Chatbot-Integration_flow.json")
                      .read_text(encoding="utf-8"))
    split = next(s for s in flow["states"] if s["name"] == "split_1")
    liquid = StudioLiquid()

    def route(current_task: str | None) -> str:
        widgets = {"autopilot_1": {"CurrentTask": current_task}} if current_task is not None else {}
        text = liquid.render(split["properties"]["input"], studio_context(widgets=widgets))
        return first_match(split["transitions"], text)[0]["next"]

    assert route("send_to_agent") == "send_message_2"
    assert route(" TEXT_TRY ") == "send_message_2"
    assert route("goodbye") == "send_message_1"
    assert route(None) == "send_message_1"  # the bot never ran: the input renders empty


@requires_real
def test_less_than_with_a_liquid_value_loops_over_the_pantries() -> None:
    flow = json.loads(real_path("studio/mgmuscari__accfb-foodnow__bot_flow.json").read_text(encoding="utf-8"))
    split = next(s for s in flow["states"] if s["name"] == "continue_decision")
    liquid = StudioLiquid()
    widgets = {"http_find_pantry": {"parsed": {"sites": [{"site_name": "A"}, {"site_name": "B"}]}}}

    def route(index: str) -> str:
        context = studio_context(widgets=widgets, flow={"variables": {"pantry_index": index}})
        text = liquid.render(split["properties"]["input"], context)
        chosen, _ = first_match(split["transitions"], text,
                                render_value=lambda v: liquid.render(v, context, name="accfb"))
        return chosen["next"]

    assert route("1") == "set_pantry_voice_english"
    assert route("2") == "no_pantries_voice_english"
