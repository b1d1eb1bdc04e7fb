"""TaskRouter expressions: the reference's example table, precedence, NULL rules, real workflows, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.engines.twilio.expressions import compile_expression
from harness.errors import SchemaError
from tests.conftest import real_files, real_path

# reference/taskrouter.md §2.5 (rows needing workers use {"task": …, "worker": …} as the data).
TABLE: list[tuple[str, dict[str, Any], bool]] = [
    ("1==1", {}, True),
    ("1==0", {}, False),
    ("type == 'ticket'", {"type": "ticket"}, True),
    ('type=="ticket"', {"type": "ticket"}, True),
    ("type = 'ticket'", {"type": "ticket"}, True),
    ("type != 'lead'", {"type": "ticket"}, True),
    ("type == 'ticket' AND customer_value IN ['Silver', 'Bronze']",
     {"type": "ticket", "customer_value": "Gold"}, False),
    ('language IN ["en", "es"]', {"language": "es"}, True),
    ('(language == "en" OR language == "fr") AND skill_rating >= 5.1', {"language": "fr", "skill_rating": 4},
     False),
    ("(condition_a == true) OR (condition_b == true)", {"condition_a": False, "condition_b": True}, True),
    ('object.attr == "bar"', {"object": {"attr": "bar"}}, True),
    ('object.array[2] == "c"', {"object": {"array": ["a", "b", "c"]}}, True),
    ("skills HAS 'support'", {"skills": ["support", "sales"]}, True),
    ("skills == 'support'", {"skills": ["support"]}, False),
    ('department HAS "billing"', {"department": "billing"}, False),
    ('language CONTAINS "en-CA"', {"language": "en-CA"}, True),
    ('language CONTAINS "EN"', {"language": "en-CA"}, False),
    ("type == 'Ticket'", {"type": "ticket"}, False),
    ("preferred_agents != null", {}, False),
    ("targetWorker != null AND callToQueue == null", {"targetWorker": "client:bob"}, True),
    ("transferTargetType != 'worker'", {}, True),
    ("transferTargetType == 'worker'", {}, False),
    ("priority_level > 1", {}, False),
    ("key > 1", {"key": "2"}, False),
    ("isContactlessTask == true", {"isContactlessTask": "true"}, False),
    ("transferTargetType ==''", {"transferTargetType": ""}, True),
    ("preEngagementData.reason IN ['counselling','Unknown']",
     {"preEngagementData": {"reason": "counselling"}}, True),
    ("task.requested_agent==worker.agent_id",
     {"task": {"requested_agent": "a7"}, "worker": {"agent_id": "a7"}}, True),
    ("worker.sid NOT IN task.workerSidsInConversation",
     {"task": {"workerSidsInConversation": ["WK1"]}, "worker": {"sid": "WK2"}}, True),
    ("worker.sid NOT IN task.workerSidsInConversation", {"task": {}, "worker": {"sid": "WK2"}}, False),
    ("'Spanish' IN worker.routing.skills",
     {"worker": {"routing": {"skills": ["ChatText", "Spanish"]}}}, True),
    ("worker.routing.skills HAS task.language",
     {"worker": {"routing": {"skills": ["en", "fr"]}}, "task": {"language": "fr"}}, True),
    ("worker.channel.voice.assigned_tasks == 0",
     {"worker": {"channel": {"voice": {"assigned_tasks": 0}}}}, True),
    ("worker.activity_name in ['Generally Available', 'High Value Tasks']",
     {"worker": {"activity_name": "Generally Available"}}, True),
    ("workers.available == 0", {"workers": {"available": 0}}, True),
    ("NOT (type == 'lead')", {"type": "ticket"}, True),
    ("worker.routing.skills HAS 'Swahili'", {"channelType": "web"}, False),
]


@pytest.mark.parametrize(("text", "data", "expected"), TABLE, ids=[row[0][:50] for row in TABLE])
def test_reference_example_table(text: str, data: dict[str, Any], expected: bool) -> None:
    assert compile_expression(text).evaluate(data) is expected


@pytest.mark.parametrize(("text", "expected"), [
    # AND binds tighter than OR: a OR (b AND c)
    ("a == 1 OR b == 1 AND c == 1", True),
    ("(a == 1 OR b == 1) AND c == 1", False),
    # NOT binds tighter than AND
    ("NOT a == 2 AND b == 2", True),
    ("NOT (a == 2 AND b == 3)", True),
    ("!(a == 1)", False),
])
def test_precedence(text: str, expected: bool) -> None:
    assert compile_expression(text).evaluate({"a": 1, "b": 2, "c": 3}) is expected


def test_keywords_are_case_insensitive_but_values_are_not() -> None:
    data = {"channel": "sms", "flag": True}
    assert compile_expression("channel in ['sms'] and flag == TRUE").evaluate(data)
    assert compile_expression("channel Not In ['web'] Or flag == false").evaluate(data)
    assert not compile_expression("channel == 'SMS'").evaluate(data)


def test_nested_keys_and_indexes() -> None:
    data = {"memory": {"twilio": {"collected_data": {"x": {"answers": {"n": {"answer": 3}}}}}},
            "list": [{"k": "v"}]}
    assert compile_expression("memory.twilio.collected_data.x.answers.n.answer >= 3").evaluate(data)
    assert compile_expression("list[0].k == 'v'").evaluate(data)
    assert compile_expression("list[5].k == null").evaluate(data)  # out of range is NULL
    assert compile_expression("memory.twilio.nothing.deeper == null").evaluate(data)
    # a segment after a dot may start with a digit (worker.routing.levels.988ENsk, real)
    assert compile_expression("levels.988ENsk > 2").evaluate({"levels": {"988ENsk": 3}})


def test_types_are_not_coerced_and_numbers_compare_numerically() -> None:
    assert compile_expression("n == 1").evaluate({"n": 1.0})
    assert not compile_expression("n == 1").evaluate({"n": True})  # a boolean is not a number
    assert not compile_expression("n == '1'").evaluate({"n": 1})
    assert compile_expression("n != '1'").evaluate({"n": 1})
    assert compile_expression("n > -2.5").evaluate({"n": -1})
    assert compile_expression("s < 'b'").evaluate({"s": "a"})
    assert not compile_expression("xs != 'a'").evaluate({"xs": ["b"]})  # scalar operator on an array


def test_in_and_has_handle_null_and_mixed_lists() -> None:
    assert compile_expression("x IN [1, 'a', null]").evaluate({})  # missing key is NULL, which is listed
    assert not compile_expression("x IN ['a']").evaluate({})
    assert compile_expression("x NOT IN ['a']").evaluate({})
    assert not compile_expression("x NOT IN y").evaluate({"x": "a"})  # right side not an array
    assert compile_expression("xs HAS 2").evaluate({"xs": [1, 2.0]})
    assert not compile_expression("x IN ['a']").evaluate({"x": ["a"]})  # array on the left


def test_string_escapes_and_hyphens_inside_quotes() -> None:
    assert compile_expression(r"name == 'O\'Brien'").evaluate({"name": "O'Brien"})
    assert compile_expression('language CONTAINS "fr-CA"').evaluate({"language": "fr-CA"})


def test_undocumented_operators_warn_in_lax_mode_and_fail_in_strict_mode() -> None:
    lax = compile_expression("NOT (type == 'lead') AND tags NOT HAS 'vip'")
    assert len(lax.warnings) == 2
    assert lax.evaluate({"type": "ticket", "tags": ["new"]})
    with pytest.raises(SchemaError, match="not documented"):
        compile_expression("NOT (type == 'lead')", strict=True)
    assert compile_expression("x NOT IN ['a']", strict=True).warnings == ()


def test_references_lists_the_keys_read() -> None:
    expression = compile_expression("a.b == 1 AND (c IN ['x'] OR a.b > 2)")
    assert expression.references == ("a.b", "c")


@pytest.mark.parametrize(("text", "column", "fragment"), [
    ("type == 'ticket' &&  x == 1", 18, "write AND"),
    ("skill-level > 3", 6, "hyphens"),
    ("(a == 1 OR b == 2", 18, "closing the '('"),
    ("a == 1)", 7, "no matching '('"),
    ("a == ", 6, "expected a key"),
    ("isSurveyTask", 13, "comparison"),
    ("name == 'open", 9, "unterminated"),
    ("x IN ['a', y]", 12, "constants only"),
    ("a == 1 b == 2", 8, "AND, OR"),
    ("${task_routing_filter_expression}", 1, "placeholder"),
    ("", 1, "empty"),
    ("a.[0] == 1", 3, "after '.'"),
])
def test_syntax_errors_name_the_column(text: str, column: int, fragment: str) -> None:
    with pytest.raises(SchemaError) as caught:
        compile_expression(text)
    error = caught.value
    assert error.location is not None and error.location.column == column
    assert f"column {column}" in error.message
    assert fragment in error.render()
    assert "^" in (error.hint or "")  # the caret points into the expression


def test_compiled_expressions_are_reused() -> None:
    assert compile_expression("a == 1") is compile_expression("a == 1")


# --- every expression in the real workflows -----------------------------------------------------------

# The garbled step of filter "EN STD Voicemail" (INDEX.md: "a parser should reject it").
GARBLED = ("aselo__usnm__calls-voicemails.json", "true mail.assigned_tasks")
# Whole-expression Terraform placeholders are substituted before parsing, as a deploy would.
WHOLE_PLACEHOLDER = "${task_routing_filter_expression}"


def _expressions(path: Path) -> list[str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    documents = []
    for resource in data.get("workflows", [data]) if "task_routing" not in data else [data]:
        if "task_routing" in resource:
            documents.append(resource)
        else:
            try:
                documents.append(json.loads(resource["configuration"]))
            except ValueError:
                continue  # the invalid configuration strings are the loader's test
    found = []
    for document in documents:
        for filter_ in document["task_routing"].get("filters", []):
            if "expression" in filter_:
                found.append(filter_["expression"])
            for target in filter_.get("targets", []):
                found += [target[key] for key in ("expression", "skip_if") if key in target]
    return found


@pytest.mark.real
@pytest.mark.parametrize("path", real_files("taskrouter"), ids=lambda p: p.name)
def test_every_real_workflow_expression_parses(path: Path) -> None:
    expressions = _expressions(path)
    assert expressions or "assign_to_anyone" in path.name
    for text in expressions:
        if path.name == GARBLED[0] and GARBLED[1] in text:
            with pytest.raises(SchemaError, match="column 42"):
                compile_expression(text)
            continue
        compile_expression(text.replace(WHOLE_PLACEHOLDER, "1==1"), strict=True)


@pytest.mark.real
def test_real_expressions_evaluate_as_production_expects() -> None:
    path = real_path("taskrouter/aselo__templates__master.json")
    master = json.loads(path.read_text(encoding="utf-8"))
    target = master["task_routing"]["filters"][1]["targets"][0]["expression"]
    expression = compile_expression(target)
    # An ordinary chat task and a worker lacking the optional attributes must match (reference §2.3).
    worker = {"sid": "WK1", "channel": {"voice": {"assigned_tasks": 0}, "chat": {"assigned_tasks": 1}}}
    assert expression.evaluate({"task": {"channelType": "web"}, "worker": worker})
    busy = {**worker, "channel": {"voice": {"assigned_tasks": 1}}}
    assert not expression.evaluate({"task": {"channelType": "web"}, "worker": busy})
