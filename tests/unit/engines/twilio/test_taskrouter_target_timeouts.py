"""A task moves through its workflow on the scenario clock: target timeouts, the next filter, workflow
timeout, TTL, skip_if, known-worker and order_by targets (the fake workspace has no workers).

Sources: reference/taskrouter.md §1.2 (WF-DOC "Workflows Overview", LIFE-DOC "Lifecycle of a Task"),
§1.3 (WF-DOC's worked example), §1.5 (SKIP-DOC "Skipping based on Worker availability"), §1.6 (KAR-DOC
"Known Agent Routing"), §1.4 (ORDER-DOC), OAI CreateTask.Timeout (TTL), and the real workflows in
`real/taskrouter/` (reference §0 REAL).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.clock import FixedClock
from harness.engines.twilio.taskrouter import FakeTaskRouter, Task, load_workflow, load_workflows, workflow_from_dict
from harness.errors import HarnessError
from tests.conftest import real_files, real_path

WW = "WW" + "0" * 31 + "1"
START = "2024-05-01T09:00:00Z"


def _router(document: dict[str, Any], queues: dict[str, str] | None = None) -> tuple[FakeTaskRouter, FixedClock]:
    clock = FixedClock(START)
    return FakeTaskRouter({WW: workflow_from_dict(document)}, queues=queues, clock=clock), clock


def _wait(router: FakeTaskRouter, clock: FixedClock, seconds: float) -> None:
    clock.advance(seconds)
    router.check_timeouts()


def _queues(task: Task) -> list[str]:
    return [entry["queue_sid"] for entry in task.queue_history]


# WF-DOC's "Complex Routing Example" (reference §1.3): Gold tickets go to WQbbb with priority 10, after
# 300 s to WQccc with the priority kept; they never fall into default_filter, even after a timeout.
COMPLEX = {"task_routing": {
    "filters": [
        {"filter_friendly_name": "Gold Tickets", "expression": "type == 'ticket' AND customer_value == 'Gold'",
         "targets": [{"queue": "WQbbb", "priority": 10, "timeout": 300}, {"queue": "WQccc"}]},
        {"filter_friendly_name": "Leads", "expression": "type == 'lead'",
         "targets": [{"queue": "WQaaa", "priority": 1}]},
    ],
    "default_filter": {"queue": "WQccc"}}}


def test_a_target_timeout_moves_the_task_to_the_next_target_keeping_its_priority() -> None:
    router, clock = _router(COMPLEX)
    task = router.create_task(WW, "chat", {"type": "ticket", "customer_value": "Gold"})
    _wait(router, clock, 299)
    assert task.task_queue_sid == "WQbbb" and _queues(task) == ["WQbbb"]
    _wait(router, clock, 1)  # exactly the timeout
    assert task.task_queue_sid == "WQccc" and task.priority == 10 and task.assignment_status == "pending"
    first, second = task.queue_history
    assert (first["left"], first["left_by"]) == ("2024-05-01T09:05:00Z", "timeout")
    assert (second["entered"], second["left_by"], second["filter"]) == ("2024-05-01T09:05:00Z", None, "Gold Tickets")
    assert task.to_dict()["task_queue_entered_date"] == "2024-05-01T09:05:00Z"
    kinds = [e["event_type"] for e in router.events]
    assert kinds[-2:] == ["task-queue.timeout", "task-queue.moved"]


def test_a_target_without_timeout_keeps_the_task_until_its_ttl() -> None:
    # "Without a timeout the Task stays on the target until it is assigned or its TTL expires" (§1.2.4),
    # and the TTL cancels it with "Task TTL Exceeded" (OAI CreateTask.Timeout).
    router, clock = _router(COMPLEX)
    task = router.create_task(WW, "chat", {"type": "lead"}, timeout=3600)
    _wait(router, clock, 3599)
    assert task.assignment_status == "pending" and _queues(task) == ["WQaaa"]
    _wait(router, clock, 1)
    assert (task.assignment_status, task.reason) == ("canceled", "Task TTL Exceeded")
    assert task.queue_history[-1]["left_by"] == "ttl"


def test_one_long_wait_crosses_every_timeout_at_the_instant_it_fell_due() -> None:
    document = {"task_routing": {"filters": [{"expression": "1==1", "targets": [
        {"queue": "WQ1", "timeout": 10}, {"queue": "WQ2", "timeout": 20}, {"queue": "WQ3", "priority": 9}]}]}}
    router, clock = _router(document)
    task = router.create_task(WW, "voice", {})
    _wait(router, clock, 3600)
    assert _queues(task) == ["WQ1", "WQ2", "WQ3"] and task.priority == 9
    assert [e["entered"] for e in task.queue_history] == [
        "2024-05-01T09:00:00Z", "2024-05-01T09:00:10Z", "2024-05-01T09:00:30Z"]


def test_after_the_last_target_the_next_matching_filter_below_takes_the_task() -> None:
    # "Timeouts control the flow … from one filter to the next matching filter (if existing)" (§1.2.5).
    document = {"task_routing": {"filters": [
        {"filter_friendly_name": "VIP", "expression": "vip == true", "targets": [{"queue": "WQvip", "timeout": 60}]},
        {"filter_friendly_name": "Sales", "expression": "type == 'sales'", "targets": [{"queue": "WQsales"}]},
        {"filter_friendly_name": "Everyone", "expression": "1==1", "targets": [{"queue": "WQall"}]},
    ]}}
    router, clock = _router(document)
    task = router.create_task(WW, "chat", {"vip": True, "type": "support"})
    _wait(router, clock, 60)
    assert _queues(task) == ["WQvip", "WQall"]  # 'Sales' does not match: skipped over
    assert task.queue_history[1]["filter"] == "Everyone"


def test_a_task_that_timed_out_of_its_last_filter_is_canceled_not_sent_to_default() -> None:
    # default_filter "does not count as a subsequent filter for the purposes of a timeout"; the task
    # falls out of the workflow and is canceled, with a workflow.timeout event (§1.2.6).
    document = {"task_routing": {"filters": [
        {"expression": "1==1", "targets": [{"queue": "WQ1", "timeout": 30}]}],
        "default_filter": {"queue": "WQdefault"}}}
    router, clock = _router(document)
    task = router.create_task(WW, "chat", {})
    _wait(router, clock, 31)
    assert task.assignment_status == "canceled" and "Workflow Timeout" in str(task.reason)
    assert _queues(task) == ["WQ1"]
    assert "workflow.timeout" in [e["event_type"] for e in router.events]


def test_skip_if_skips_at_once_when_no_worker_is_free() -> None:
    # SKIP-DOC: skip_if is evaluated when no reservation is created at once; `1==1` and
    # `workers.available == 0` skip a step whose queue has no available worker (reference §1.5).
    document = {"task_routing": {"filters": [{"expression": "1==1", "targets": [
        {"queue": "WQ1", "skip_if": "workers.available == 0", "timeout": 600},
        {"queue": "WQ2", "skip_if": "workers.available > 0"},
        {"queue": "WQ3"}]}]}}
    router, _clock = _router(document)
    task = router.create_task(WW, "chat", {})
    assert _queues(task) == ["WQ1", "WQ2"] and task.task_queue_sid == "WQ2"  # WQ2's skip_if is false
    assert task.queue_history[0]["left_by"] == "skip_if" and task.queue_history[1]["left_by"] is None
    assert "workflow.skipped" in [e["event_type"] for e in router.events]


def test_a_task_that_skipped_out_of_every_filter_goes_to_default_filter() -> None:
    # SKIP-DOC: a task that skipped out of every filter it matched "is evaluated as if the Task didn't
    # match the filter expression" and still qualifies for default_filter (reference §1.2.7).
    document = {"task_routing": {"filters": [
        {"expression": "1==1", "targets": [{"queue": "WQ1", "skip_if": "1==1"}]}],
        "default_filter": {"queue": "WQdefault"}}}
    router, _clock = _router(document)
    task = router.create_task(WW, "chat", {})
    assert _queues(task) == ["WQ1", "WQdefault"] and task.queue_history[1]["filter"] == "default_filter"


def test_known_worker_and_order_by_targets_wait_for_their_timeout_and_say_why() -> None:
    # KAR-DOC: a known worker who is not there keeps the task on the target until its timeout; the fake
    # workspace has no workers, so order_by orders nobody — the history says so, nothing is ignored.
    document = {"task_routing": {"filters": [{"expression": "1==1", "targets": [
        {"queue": "WQ1", "known_worker_sid": "task.agent.sid", "timeout": 30},
        {"queue": "WQ1", "order_by": "worker.level DESC", "expression": "worker.level > 1"}]}]}}
    router, clock = _router(document)
    task = router.create_task(WW, "chat", {"agent": {"sid": "WK" + "1" * 32}})
    note = task.queue_history[0]["note"]
    assert 'known_worker_sid task.agent.sid = "WK111' in note and "no workers in the fake workspace" in note
    _wait(router, clock, 30)
    assert "order_by 'worker.level DESC'" in task.queue_history[1]["note"]
    assert "worker expression 'worker.level > 1'" in task.queue_history[1]["note"]


def test_a_timeout_beyond_the_clocks_range_never_fires() -> None:
    # WF-DOC only says "a positive integer": 10**15 s is accepted, and no wait reaches it (no overflow).
    document = {"task_routing": {"filters": [{"expression": "1==1", "targets": [
        {"queue": "WQ1", "timeout": 10**15}, {"queue": "WQ2"}]}]}}
    router, clock = _router(document)
    task = router.create_task(WW, "chat", {})
    _wait(router, clock, 86_399)
    assert _queues(task) == ["WQ1"] and task.step_deadline is None


def test_reset_forgets_the_tasks_of_an_earlier_case() -> None:
    router, _clock = _router(COMPLEX)
    router.create_task(WW, "chat", {"type": "lead"})
    router.reset()
    assert router.tasks == [] and router.events == []


# --- the real workflows (reference §0 REAL) ---------------------------------------------------------

# Terraform placeholders the Aselo templates leave for deploy time (reference §1.1).
PLACEHOLDERS = {"task_routing_filter_expression": "1==1"}


@pytest.mark.real
@pytest.mark.parametrize("path", real_files("taskrouter"), ids=lambda p: Path(p).stem)
def test_every_real_workflow_loads_or_is_refused_with_its_place(path: Path) -> None:
    # Each real file loads (Terraform placeholders substituted as at deploy time); the one list page
    # whose `configuration` strings are not JSON (reference §2.4) is refused naming the line.
    if path.name == "api-snippets__workflows-list-response.json":
        with pytest.raises(HarnessError) as caught:
            load_workflows(path, placeholders=PLACEHOLDERS)
        assert "configuration is not valid JSON" in caught.value.render() and ":37:" in caught.value.render()
        return
    workflows = load_workflows(path, placeholders=PLACEHOLDERS)
    assert workflows and all(w.filters or w.default_filter is not None for w in workflows)


@pytest.mark.real
def test_aselo_ca_khp_english_escalates_priority_at_each_timeout() -> None:
    # Six targets in one queue with timeouts 210, 390, 300, 300, 300 and priorities 2, 2, 3, 4, 5, 6.
    workflow = load_workflow(real_path("taskrouter/aselo__ca__master.json"),
                             placeholders={"phone_numbers.khp": "+15550000001"})
    clock = FixedClock(START)
    router = FakeTaskRouter({WW: workflow}, clock=clock)
    task = router.create_task(WW, "voice", {"to": "+15550000001", "language": "en-CA"})
    assert task.queue_history[0]["filter"] == "KHP English" and task.priority == 2
    _wait(router, clock, 210 + 390)
    assert task.priority == 3
    _wait(router, clock, 300 * 3)
    assert task.priority == 6 and len(task.queue_history) == 6 and task.assignment_status == "pending"
    assert "order_by 'worker.routing.levels.KHPEN DESC'" in task.queue_history[-1]["note"]


@pytest.mark.real
def test_aselo_nz_youthline_skips_its_first_target_at_once() -> None:
    # skip_if "1==1" on the first target, as SKIP-DOC recommends for "skip whenever no worker is free".
    workflow = load_workflow(real_path("taskrouter/aselo__nz__master_messaging.json"))
    router = FakeTaskRouter({WW: workflow}, clock=FixedClock(START))
    task = router.create_task(WW, "chat", {"channelType": "web", "preEngagementData": {"reason": "counselling"},
                                           "transferTargetType": ""})
    assert [e["filter"] for e in task.queue_history] == ["Youthline Helpline", "Youthline Helpline"]
    assert [e["left_by"] for e in task.queue_history] == ["skip_if", None]
    assert [e["target"] for e in task.queue_history] == [0, 1]


@pytest.mark.real
def test_aselo_nz_clinical_moves_to_the_helpline_after_600_seconds() -> None:
    workflow = load_workflow(real_path("taskrouter/aselo__nz__master_messaging.json"),
                             placeholders={"task_queues.clinical": "WQclinical",
                                           "task_queues.youthline_helpline": "WQhelpline"})
    clock = FixedClock(START)
    router = FakeTaskRouter({WW: workflow}, clock=clock)
    task = router.create_task(WW, "chat", {"clinical": "true", "transferTargetType": ""})
    _wait(router, clock, 600)
    assert _queues(task) == ["WQclinical", "WQhelpline"] and task.priority == 8


@pytest.mark.real
def test_aselo_nz_direct_transfer_waits_on_its_known_worker() -> None:
    workflow = load_workflow(real_path("taskrouter/aselo__nz__master_messaging.json"))
    clock = FixedClock(START)
    router = FakeTaskRouter({WW: workflow}, clock=clock)
    task = router.create_task(WW, "chat", {"transferTargetType": "worker", "targetSid": "WK" + "2" * 32})
    _wait(router, clock, 86_399)  # no timeout on the target: it waits (KAR-DOC) until the TTL
    assert task.assignment_status == "pending" and task.priority == 150
    assert 'known_worker_sid task.targetSid = "WK222' in task.queue_history[0]["note"]


@pytest.mark.real
def test_flex_template_park_resume_goes_back_to_the_queue_after_30_seconds() -> None:
    workflow = load_workflow(real_path("taskrouter/flex-project-template__template_example_park_resume.json"),
                             placeholders={"QUEUE_SID_TEMPLATE_EXAMPLE_SUPPORT": "WQsupport"})
    clock = FixedClock(START)
    router = FakeTaskRouter({WW: workflow}, clock=clock)
    task = router.create_task(WW, "chat", {"originalRouting": {"queueName": "Template Example Support",
                                                               "workerSid": "WK" + "3" * 32}})
    assert "known_worker_sid task.originalRouting.workerSid" in task.queue_history[0]["note"]
    _wait(router, clock, 30)
    assert _queues(task) == ["WQsupport", "WQsupport"] and task.queue_history[1]["target"] == 1


@pytest.mark.real
def test_flex_template_callback_retries_after_its_600_second_hold() -> None:
    # Target expression "1==0" matches no worker on purpose: the task is held 600 s, then routed.
    workflow = load_workflow(real_path("taskrouter/flex-project-template__template_example_callback.json"),
                             placeholders={"QUEUE_SID": "WQcallback"})
    clock = FixedClock(START)
    router = FakeTaskRouter({WW: workflow}, clock=clock)
    task = router.create_task(WW, "voice", {"callBackData": {"attempts": 1}})
    _wait(router, clock, 599)
    assert len(task.queue_history) == 1
    _wait(router, clock, 1)
    assert [e["target"] for e in task.queue_history] == [0, 1] and task.queue_history[0]["left_by"] == "timeout"


@pytest.mark.real
def test_aselo_usvc_spanish_calls_fall_back_to_the_english_queue_after_180_seconds() -> None:
    workflow = load_workflow(real_path("taskrouter/aselo__usvc__master.json"),
                             placeholders={"task_queues.vc_sp": "WQvcsp", "task_queues.vc": "WQvc"})
    clock = FixedClock(START)
    router = FakeTaskRouter({WW: workflow}, clock=clock)
    task = router.create_task(WW, "voice", {"channelType": "voice", "serviceLanguage": "Spanish", "service": "VC"})
    _wait(router, clock, 180)
    assert _queues(task) == ["WQvcsp", "WQvc"] and task.priority == 25


@pytest.mark.real
def test_aselo_zm_skips_the_language_step_to_the_whole_queue() -> None:
    workflow = load_workflow(real_path("taskrouter/aselo__zm__master.json"))
    router = FakeTaskRouter({WW: workflow}, clock=FixedClock(START))
    task = router.create_task(WW, "chat", {"helpline": "ChildLine Zambia (ZM)", "language": "en"})
    assert [e["left_by"] for e in task.queue_history] == ["skip_if", None]  # "1 == 1", spaced
