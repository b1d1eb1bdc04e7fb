"""Workflows: loading (documents, REST resources, placeholders, errors) and routing; FakeTaskRouter rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.clock import FixedClock
from harness.engines.twilio.taskrouter import (
    DEFAULT_TTL,
    FakeTaskRouter,
    Workflow,
    load_workflow,
    load_workflows,
    workflow_from_dict,
)
from harness.errors import EngineError, HarnessErrors, LoadError, SchemaError, UsageError
from harness.sids import SidFactory, is_sid
from tests.conftest import real_path

WQ_SALES, WQ_SUPPORT, WQ_EVERYONE = ("WQ" + c * 32 for c in "abc")

# WF-DOC's "Complex Routing Example" (reference/taskrouter.md §1.3).
COMPLEX = {"task_routing": {
    "filters": [
        {"filter_friendly_name": "Gold Tickets",
         "expression": "customer_value == 'Gold' AND type == 'ticket'",
         "targets": [{"queue": WQ_SUPPORT, "priority": 10, "timeout": 300}, {"queue": WQ_EVERYONE}]},
        {"filter_friendly_name": "Bronze and Silver Tickets",
         "expression": "customer_value IN ['Silver', 'Bronze'] AND type == 'ticket'",
         "targets": [{"queue": WQ_SUPPORT}]},
        {"filter_friendly_name": "Leads", "expression": "type == 'lead'",
         "targets": [{"queue": WQ_SALES, "priority": 1}]},
    ],
    "default_filter": {"queue": WQ_EVERYONE}}}


@pytest.mark.parametrize(("attributes", "queue", "name", "priority", "timeout"), [
    ({"type": "ticket", "customer_value": "Silver"}, WQ_SUPPORT, "Bronze and Silver Tickets", None, None),
    ({"type": "ticket", "customer_value": "Gold"}, WQ_SUPPORT, "Gold Tickets", 10, 300),
    ({"type": "lead"}, WQ_SALES, "Leads", 1, None),
    ({"type": "other"}, WQ_EVERYONE, None, None, None),
    ({}, WQ_EVERYONE, None, None, None),
])
def test_documented_complex_example_routes_as_the_docs_say(
    attributes: dict[str, Any], queue: str, name: str | None, priority: int | None, timeout: int | None
) -> None:
    routing = workflow_from_dict(COMPLEX).route(attributes)
    assert (routing.queue_sid, routing.filter_name, routing.priority, routing.timeout) == \
        (queue, name, priority, timeout)
    assert routing.is_default is (name is None)
    assert (name or "default_filter") in routing.explanation


def test_route_accepts_json_text_and_explains_what_did_not_match() -> None:
    routing = workflow_from_dict(COMPLEX).route('{"type": "lead"}')
    assert routing.target_index == 0 and routing.filter_index == 2
    assert "'Gold Tickets'" in routing.explanation and "'Bronze and Silver Tickets'" in routing.explanation


def test_later_targets_inherit_the_queue() -> None:
    workflow = workflow_from_dict({"task_routing": {"filters": [
        {"expression": "1==1", "targets": [{"queue": WQ_SALES, "timeout": 30}, {}, {"priority": 5}]}]}})
    assert [t.queue for t in workflow.filters[0].targets] == [WQ_SALES] * 3
    assert workflow.filters[0].targets[2].priority == 5


# --- real workflows ------------------------------------------------------------------------------------

@pytest.mark.real
def test_rest_resource_with_configuration_string_routes_by_type() -> None:
    workflow = load_workflow(real_path("taskrouter/api-snippets__workflows-create-response.json"))
    assert workflow.sid == "WWd42d9fcb655eea2fc0c6210d1b775205"
    assert workflow.friendly_name == "New SalesMarketingSupport Workflow"
    routing = workflow.route({"type": "support"})
    assert (routing.queue_sid, routing.filter_name) == ("WQ224fec815c99f8e60cadead209c2bd45", "support")
    assert workflow.route({"type": "sales"}).queue_sid == "WQea1950600afa0880db95aad6a10d19f8"
    assert workflow.route({"type": "refund"}).is_default


@pytest.mark.real
def test_aselo_skills_cascade_with_substituted_queues() -> None:
    queues = {"task_queues.childhelp_spanish": "WQ" + "1" * 32, "task_queues.courage_first": "WQ" + "2" * 32,
              "task_queues.master": "WQ" + "3" * 32}
    workflow = load_workflow(real_path("taskrouter/aselo__usch__master.json"), placeholders=queues)
    spanish = workflow.route({"channelType": "sms", "service": "ChildHelp", "counselingLanguage": "Spanish"})
    assert (spanish.filter_name, spanish.queue_sid, spanish.priority) == \
        ("Childhelp - ChatText - Spanish", "WQ" + "1" * 32, 25)
    transfer = workflow.route({"transferTargetType": "worker", "targetSid": "WK" + "0" * 32})
    assert (transfer.filter_name, transfer.priority) == ("Direct Transfers", 150)
    assert workflow.filters[0].targets[0].known_worker_sid == "task.targetSid"
    # a targetSid naming the queue (a queue transfer) reaches the Spanish filter whatever the language
    by_queue = workflow.route({"channelType": "web", "targetSid": "WQ" + "1" * 32})
    assert by_queue.filter_name == "Childhelp - ChatText - Spanish"


@pytest.mark.real
def test_empty_string_and_string_booleans_in_nz_messaging() -> None:
    workflow = load_workflow(real_path("taskrouter/aselo__nz__master_messaging.json"))
    web = {"channelType": "web", "preEngagementData": {"reason": "counselling"}, "transferTargetType": ""}
    assert workflow.route(web).filter_name == "Youthline Helpline"
    # clinical is a *string* "true" in production data; the boolean would not match the clinical filter
    assert workflow.route({**web, "clinical": "true"}).filter_name != "Youthline Helpline"


@pytest.mark.real
def test_callback_retry_workflow_waits_on_a_target_that_matches_no_worker() -> None:
    workflow = load_workflow(real_path("taskrouter/flex-project-template__template_example_callback.json"),
                             placeholders={"QUEUE_SID": WQ_SALES})
    first = workflow.route({"callBackData": {"attempts": 1}})
    assert (first.filter_name, first.timeout, first.queue_sid) == ("Retry attempt 1", 600, WQ_SALES)
    assert workflow.route({"callBackData": {"attempts": 3}}).timeout == 3600
    assert workflow.route({}).filter_name == "Initial routing attempt"


@pytest.mark.real
def test_park_resume_empty_target_and_unsubstituted_placeholders() -> None:
    workflow = load_workflow(real_path("taskrouter/flex-project-template__template_example_park_resume.json"))
    back = workflow.route({"originalRouting": {"queueName": "Template Example Sales", "workerSid": "WK1"}})
    assert back.queue_sid == "${QUEUE_SID_TEMPLATE_EXAMPLE_SALES}"  # left verbatim without placeholders
    steps = workflow.filters[1].targets
    assert steps[1].queue == steps[0].queue and steps[1].timeout is None
    assert workflow.route({"selected_queue": "nothing"}).queue_sid == "${QUEUE_SID_EVERYONE}"


@pytest.mark.real
def test_internal_calls_null_checks() -> None:
    path = real_path("taskrouter/flex-project-template__template_example_internal_calls.json")
    workflow = load_workflow(path)
    routing = workflow.route({"targetWorker": "client:alice"})
    assert routing.filter_index == 0 and routing.priority == 1000
    queued = workflow.route({"targetWorker": "client:alice", "callToQueue": "Template Example Sales"})
    assert queued.filter_index == 2  # callToQueue set: the first filter's `callToQueue == null` fails
    assert workflow.match({"targetWorker": None}) is None  # JSON null is the same as missing


@pytest.mark.real
def test_survey_workflow_without_default_filter_refuses_unmatched_tasks() -> None:
    workflow = load_workflow(real_path("taskrouter/aselo__templates__survey.json"))
    assert workflow.match({"isSurveyTask": True}).filter_name == "Post Survey Filter"
    assert workflow.match({"isSurveyTask": "true"}) is None
    with pytest.raises(EngineError, match="no default_filter") as caught:
        workflow.route({})
    assert "14222" in (caught.value.hint or "")


@pytest.mark.real
def test_garbled_target_expression_is_a_warning_with_its_line_or_an_error_when_strict() -> None:
    path = real_path("taskrouter/aselo__usnm__calls-voicemails.json")
    workflow = load_workflow(path)
    [warning] = workflow.warnings
    assert warning.location.line == 124
    assert warning.location.pointer == "/task_routing/filters/7/targets/0/expression"
    assert workflow.filters[7].targets[0].expression is None
    with pytest.raises(SchemaError) as caught:
        load_workflow(path, strict=True)
    assert caught.value.location.line == 124 and "column 42" in caught.value.message


@pytest.mark.real
def test_whole_expression_placeholder_needs_substitution() -> None:
    path = real_path("taskrouter/aselo__templates__master.json")
    with pytest.raises(SchemaError, match="placeholder") as caught:
        load_workflow(path)
    assert caught.value.location.pointer == "/task_routing/filters/1/expression"
    assert caught.value.location.line is not None
    workflow = load_workflow(path, placeholders={"task_routing_filter_expression": "channelType == 'web'",
                                                 "helpline": "Aselo"})
    assert workflow.route({"channelType": "web"}).filter_name == "Aselo"


@pytest.mark.real
def test_list_page_reports_every_broken_workflow_with_lines() -> None:
    path = real_path("taskrouter/api-snippets__workflows-list-response.json")
    with pytest.raises(HarnessErrors) as caught:
        load_workflows(path)
    problems = caught.value.errors
    invalid_json = [p for p in problems if isinstance(p, LoadError)]
    assert [p.location.pointer for p in invalid_json] == \
        ["/workflows/1/configuration", "/workflows/2/configuration"]
    assert all(p.location.line is not None for p in problems)
    assert any("no expression" in p.message for p in problems)
    with pytest.raises(UsageError, match="load_workflows"):
        load_workflow(path)


@pytest.mark.real
def test_numeric_strings_and_old_friendly_name_key_are_accepted() -> None:
    page = json.loads(real_path("taskrouter/api-snippets__workflows-list-response.json").read_text())
    workflow = workflow_from_dict(page["workflows"][3])
    routing = workflow.route({"type": "cases"})
    assert (routing.filter_name, routing.priority, routing.timeout) == ("cases", 1, 30)
    assert workflow.filters[0].targets[1].priority == 5


# --- load errors ---------------------------------------------------------------------------------------

def _write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "workflow.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def test_problems_are_collected_with_pointer_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, {"task_routing": {"filters": [
        {"expression": "type == 'a'", "targets": [{"priority": 1}]},
        {"expression": "type == ", "targets": [{"queue": WQ_SALES, "priority": -1, "timeout": "soon"}]},
        {"expression": "1==1", "targets": [{"queue": WQ_SALES, "known_worker_sid": "task.a",
                                            "known_worker_friendly_name": "task.b"}]},
    ]}})
    with pytest.raises(HarnessErrors) as caught:
        load_workflow(path)
    by_pointer = {p.location.pointer: p for p in caught.value.errors}
    assert set(by_pointer) == {
        "/task_routing/filters/0/targets/0", "/task_routing/filters/1/expression",
        "/task_routing/filters/1/targets/0/priority", "/task_routing/filters/1/targets/0/timeout",
        "/task_routing/filters/2/targets/0"}
    assert "needs a queue" in by_pointer["/task_routing/filters/0/targets/0"].message
    assert by_pointer["/task_routing/filters/1/targets/0/priority"].location.line == 17
    assert all(p.location.path == str(path) for p in caught.value.errors)


def test_unknown_keys_are_warnings(tmp_path: Path) -> None:
    workflow = load_workflow(_write(tmp_path, {"task_routing": {
        "filters": [{"expression": "1==1", "targets": [{"queue": WQ_SALES, "skill": "x"}]}],
        "default_filter": {"queue": WQ_SALES}, "extra": 1}}))
    assert sorted(w.location.pointer for w in workflow.warnings) == \
        ["/task_routing/extra", "/task_routing/filters/0/targets/0/skill"]


def test_missing_task_routing_and_oversized_configuration() -> None:
    with pytest.raises(SchemaError, match="task_routing is missing"):
        workflow_from_dict({"filters": []})
    huge = json.dumps({"task_routing": {"filters": [], "default_filter": {"queue": WQ_SALES}},
                       "padding": "x" * 1_048_576})
    with pytest.raises(SchemaError, match="1048576"):
        workflow_from_dict({"sid": "WW" + "0" * 32, "configuration": huge})


# --- FakeTaskRouter ------------------------------------------------------------------------------------

WW = "WW" + "1" * 32


@pytest.fixture
def router() -> FakeTaskRouter:
    return FakeTaskRouter({WW: workflow_from_dict(COMPLEX)},
                          queues={WQ_SALES: "Sales", WQ_SUPPORT: "Support", WQ_EVERYONE: "Everyone"},
                          sids=SidFactory("test"), clock=FixedClock("2023-03-01T10:00:00Z"))


def test_create_task_routes_and_looks_like_the_rest_resource(router: FakeTaskRouter) -> None:
    task = router.create_task(WW, "chat", '{"type": "ticket", "customer_value": "Gold"}')
    assert is_sid(task.sid, "WT") and task.assignment_status == "pending"
    assert (task.task_queue_sid, task.task_queue_friendly_name) == (WQ_SUPPORT, "Support")
    assert (task.priority, task.timeout) == (10, DEFAULT_TTL)  # the Gold target's priority wins
    assert task.parsed_attributes == {"type": "ticket", "customer_value": "Gold"}
    assert task.task_channel_unique_name == "chat" and is_sid(task.task_channel_sid, "TC")
    body = task.to_dict()
    assert body["date_created"] == "2023-03-01T10:00:00Z" and body["attributes"] == task.attributes
    assert body["url"].endswith(f"/Workspaces/{router.workspace_sid}/Tasks/{task.sid}")
    assert router.tasks == [task]
    assert [e["event_type"] for e in router.events] == \
        ["task.created", "workflow.entered", "workflow.target-matched", "task-queue.entered"]


@pytest.mark.real
def test_task_dict_has_exactly_the_spec_fields(router: FakeTaskRouter) -> None:
    spec = json.loads(real_path("openapi/twilio_taskrouter_v1.json").read_text(encoding="utf-8"))
    fields = set(spec["components"]["schemas"]["taskrouter.v1.workspace.task"]["properties"])
    assert set(router.create_task(WW, "default", "{}").to_dict()) == fields


def test_priority_rules(router: FakeTaskRouter) -> None:
    assert router.create_task(WW, "sms", '{"type": "other"}').priority == 0
    assert router.create_task(WW, "sms", '{"type": "other"}', priority="7").priority == 7
    assert router.create_task(WW, "sms", '{"type": "lead"}', priority=7).priority == 1  # target wins
    for bad in (-1, 2_147_483_648, "high", 1.5):
        with pytest.raises(EngineError, match="Priority"):
            router.create_task(WW, "sms", "{}", priority=bad)


def test_timeout_bounds(router: FakeTaskRouter) -> None:
    assert router.create_task(WW, "sms", "{}", timeout="1").timeout == 1
    assert router.create_task(WW, "sms", "{}", timeout=1_209_600).timeout == 1_209_600
    assert router.create_task(WW, "sms", "{}", timeout="").timeout == DEFAULT_TTL  # Studio's empty field
    for bad in (0, 1_209_601, "tomorrow"):
        with pytest.raises(EngineError, match="Timeout"):
            router.create_task(WW, "sms", "{}", timeout=bad)


def test_attribute_size_limit_counts_characters(router: FakeTaskRouter) -> None:
    def attributes(length: int) -> str:
        text = json.dumps({"note": ""})
        return json.dumps({"note": "é" * (length - len(text))}, ensure_ascii=False)

    assert len(router.create_task(WW, "chat", attributes(4096)).attributes) == 4096
    with pytest.raises(EngineError, match="4097 characters"):
        router.create_task(WW, "chat", attributes(4097))


@pytest.mark.parametrize(("attributes", "fragment"), [
    ('{"type": "lead"', "not valid JSON"),
    ("[1, 2]", "must be a JSON object"),
    ("", "not valid JSON"),
])
def test_invalid_attributes(router: FakeTaskRouter, attributes: str, fragment: str) -> None:
    with pytest.raises(EngineError, match=fragment):
        router.create_task(WW, "chat", attributes)
    assert router.tasks == []


def test_workflow_and_channel_checks(router: FakeTaskRouter) -> None:
    with pytest.raises(EngineError, match="does not exist"):
        router.create_task("WW" + "9" * 32, "chat", "{}")
    assert router.create_task(None, "chat", "{}").workflow_sid == WW  # the only workflow is the default
    with pytest.raises(EngineError, match="unique name"):
        router.create_task(WW, "9lives", "{}")
    unknown_channel = "TC" + "e" * 32
    task = router.create_task(WW, unknown_channel, "{}")
    assert (task.task_channel_sid, task.task_channel_unique_name) == (unknown_channel, None)


def test_task_matching_no_filter_without_default_is_refused() -> None:
    workflow = workflow_from_dict({"task_routing": {"filters": [
        {"expression": "type == 'lead'", "targets": [{"queue": WQ_SALES}]}]}})
    router = FakeTaskRouter({WW: workflow})
    with pytest.raises(EngineError, match="no workflow filter matches"):
        router.create_task(WW, "chat", '{"type": "ticket"}')


def test_unknown_queue_is_refused_and_queue_names_resolve() -> None:
    by_name = workflow_from_dict({"task_routing": {"filters": [
        {"expression": "1==1", "targets": [{"queue": "Sample Queue"}]}]}})
    router = FakeTaskRouter({WW: by_name}, queues={WQ_SALES: "Sample Queue"})
    assert router.create_task(WW, "chat", "{}").task_queue_sid == WQ_SALES
    strict = FakeTaskRouter({WW: workflow_from_dict(COMPLEX)}, queues={WQ_SALES: "Sales"})
    with pytest.raises(EngineError, match="not in the fake workspace"):
        strict.create_task(WW, "chat", '{"type": "other"}')


def test_without_workflows_tasks_are_accepted_unrouted() -> None:
    router = FakeTaskRouter()
    task = router.create_task("WW" + "2" * 32, "chat", '{"name": "Bob"}')
    assert task.task_queue_sid is None and task.routing is None
    with pytest.raises(EngineError, match="WorkflowSid"):
        router.create_task("{{flow.variables.workflow}}", "chat", "{}")


def test_add_workflow_and_same_seed_gives_same_sids() -> None:
    first, second = FakeTaskRouter(sids=SidFactory("s")), FakeTaskRouter(sids=SidFactory("s"))
    assert first.create_task(None, "chat", "{}").sid == second.create_task(None, "chat", "{}").sid
    router = FakeTaskRouter()
    sid = router.add_workflow(workflow_from_dict(COMPLEX))
    assert sid.startswith("WW")
    assert router.create_task(sid, "chat", '{"type": "lead"}').task_queue_sid == WQ_SALES
    assert router.add_workflow(Workflow((), None), "WW" + "3" * 32) == "WW" + "3" * 32
