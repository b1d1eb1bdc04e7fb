"""Goldens guard the bot's voice handoff (its URI, channel, timeout) and where a handed-off task went once it
moved on the clock, without churning the goldens of tasks that never moved.

Sources: Hand-off doc (reference/autopilot.md §2.7); reference/taskrouter.md §1.2 (target timeouts move a task).
"""

from __future__ import annotations

from typing import Any

from harness.runner.golden import golden_diff, golden_view


def _entry(queue: str, left_by: str | None) -> dict[str, Any]:
    return {"queue": queue, "queue_sid": "WQ" + queue, "left_by": left_by}


def _transcript(**handoff: Any) -> dict[str, Any]:
    return {"turns": [], "handoff": {"kind": "autopilot", "channel": "voice", "uri": "taskrouter://WW1",
                                     "timeout": "600", "queue": "Concierge", "task_status": "pending",
                                     "queue_history": [_entry("Concierge", None)], **handoff}}


def test_a_task_that_never_moved_adds_no_history_or_status_to_the_view() -> None:
    view = golden_view(_transcript())["handoff"]
    assert view == {"kind": "autopilot", "channel": "voice", "uri": "taskrouter://WW1", "timeout": "600",
                    "queue": "Concierge"}


def test_a_moved_or_canceled_task_is_guarded() -> None:
    moved = _transcript(queue="Front Desk", task_status="canceled",
                        queue_history=[_entry("Concierge", "timeout"), _entry("Front Desk", "ttl")])
    view = golden_view(moved)["handoff"]
    assert view["queue_history"] == ["Concierge (timeout)", "Front Desk (ttl)"] and view["task_status"] == "canceled"
    found = {m.path for m in golden_diff(_transcript(), moved, "x.json")}
    assert found == {"handoff.queue", "handoff.queue_history", "handoff.task_status"}


def test_a_changed_handoff_uri_is_a_golden_change() -> None:
    [change] = golden_diff(_transcript(), _transcript(uri="https://x.example.com/twiml"), "x.json")
    assert (change.path, change.expected, change.actual) == ("handoff.uri", "taskrouter://WW1",
                                                              "https://x.example.com/twiml")
