"""Which request of a run is the hand-off: the POST after the bot session ended, `handoff_widget`, a GET's query."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.contracts.consumer import HandoffPactWriter
from harness.errors import HarnessError
from harness.models.scenario import load_scenario_file
from harness.runner.session import handoff_request
from tests.unit.contracts.runs.test_scenario_contracts import scenario_copy


def _step(widget: str, kind: str, event: str = "success") -> dict[str, Any]:
    return {"widget": widget, "type": kind, "event": event}


def _request(widget: str, method: str = "POST") -> dict[str, Any]:
    return {"widget": widget, "method": method, "url": f"https://x.example/{widget}"}


def test_the_handoff_is_the_post_after_the_bot_session_ended() -> None:
    steps = [_step("Hours", "make-http-request"), _step("Lookup", "run-function"), _step("Bot", "send-to-auto-pilot",
             "sessionEnded"), _step("Notify", "make-http-request"), _step("Log", "make-http-request"),
             _step("Fn", "run-function")]
    requests_ = [_request("Hours"), _request("Lookup"), _request("Notify"), _request("Log", "GET"), _request("Fn")]
    assert handoff_request(steps, requests_)["widget"] == "Notify"  # not the GET after it, not the Function
    assert handoff_request(steps, requests_, widget="Log")["widget"] == "Log"  # named: any method
    assert handoff_request(steps, requests_, widget="Nope") is None
    # No session ended: the last make-http-request POST; Run Function calls never count.
    assert handoff_request(steps[:2], requests_[:2])["widget"] == "Hours"
    assert handoff_request([steps[1]], [requests_[1]]) is None


def test_handoff_widget_must_name_a_widget_of_the_flow(tmp_path: Path) -> None:
    path = scenario_copy(tmp_path, "http.scenario.yaml", extra="handoff_widget: NotifyContactCentre\n")
    with pytest.raises(HarnessError) as failed:
        load_scenario_file(path)
    assert "did you mean 'NotifyContactCenter'" in failed.value.render()
    ok = scenario_copy(tmp_path / "ok", "http.scenario.yaml", extra="handoff_widget: NotifyContactCenter\n")
    assert load_scenario_file(ok).handoff_widget == "NotifyContactCenter"


def test_a_get_handoff_carries_its_query_into_the_pact(tmp_path: Path) -> None:
    handoff = {"kind": "http", "method": "GET", "url": "https://cc.example/api/agent?src=bot",
               "headers": {}, "body": "", "query": {"phone": "+14155550123", "task": "send_to_agent"},
               "status": 200, "response": {"ticket_id": "T-1"}}
    path = HandoffPactWriter(tmp_path, "c", "p").add(handoff, description="get")
    [interaction] = json.loads(path.read_text())["interactions"]
    assert interaction["request"]["query"] == {"phone": ["+14155550123"], "src": ["bot"],
                                               "task": ["send_to_agent"]}
    assert "body" not in interaction["request"]
