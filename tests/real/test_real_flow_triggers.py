"""Every real v2 flow in shared/real/studio is driven past its Trigger from a scenario file with the trigger
it handles (issue 11): `trigger: message | call | conversation | request | subflow`. The trigger events
and their `trigger.<kind>` roots are Studio's (reference/studio.md §2.1, "Trigger (Start) widget"); a REST
execution's Parameters become `flow.data` ("REST API" trigger); a scenario whose trigger the Trigger does
not handle fails and names the events it does handle (no silent pass)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.models.flow import load_flow
from harness.models.scenario import load_scenario_file
from harness.runner.cases import run_case
from harness.runner.pool import SessionPool
from harness.runner.session import STARTED_TRIGGERS, TRIGGERS
from tests.conftest import ROOT, real_files, requires_real

pytestmark = [pytest.mark.real, requires_real]

HOTEL_BOT = ROOT / "examples" / "hospitality" / "assistant.json"
KIND_OF = {event: kind for kind, event in TRIGGERS.items()}
V2_FLOWS = [path for path in real_files("studio")
            if "widget-definitions" not in path.parts and "PARTIAL" not in path.name and "LEGACY_" not in path.name]


def handled(path: Path) -> list[str]:
    """The trigger events the flow's Trigger connects to a widget."""
    return [t.event for t in load_flow(path).initial.transitions if t.next]


CASES = [pytest.param(path, event, id=f"{path.stem}-{KIND_OF[event]}") for path in V2_FLOWS
         for event in handled(path)]


def scenario_text(flow: Path, kind: str, *, turns: str, expect: str = "", extra: str = "") -> str:
    channel = "voice" if kind == "call" else "chat" if kind == "conversation" else "sms"
    return (f"bot: {json.dumps(str(HOTEL_BOT))}\nflow: {json.dumps(str(flow))}\nchannel: {channel}\n"
            f"trigger: {kind}\nuser: '+15555550123'\nclock: 2024-05-01T09:00:00Z\n{extra}"
            f"scenarios:\n  - name: driven past the trigger\n    turns: {turns}\n"
            + (f"    expect: {expect}\n" if expect else ""))


def run_text(tmp_path: Path, text: str) -> Any:
    path = tmp_path / "real.scenario.yaml"
    path.write_text(text, encoding="utf-8")
    scenario_file = load_scenario_file(path)
    with SessionPool() as pool:
        return run_case(pool, scenario_file.scenarios[0], file=scenario_file)


@pytest.mark.parametrize(("flow", "event"), CASES)
def test_each_real_flow_runs_past_its_trigger_with_the_trigger_it_handles(flow: Path, event: str,
                                                                          tmp_path: Path) -> None:
    kind = KIND_OF[event]
    # A call, REST request or subflow starts without a message (the first turn starts it); silence then
    # lets the first widget run. A message or Conversations message starts with the contact's text.
    turns = "[{wait: 1s}]" if event in STARTED_TRIGGERS else "[{user: hello}]"
    extra = "parameters: {event_type: APPOINTMENT_CONFIRMED, campaignid: c1}\n" if kind in ("request", "subflow") \
        else ""
    result = run_text(tmp_path, scenario_text(flow, kind, turns=turns,
                                              expect=f"{{flow: {{events: {{Trigger: {event}}}}}}}", extra=extra))
    assert result.error is None, result.error
    assert result.passed, [str(m) for m in result.mismatches]
    flow_record = result.transcript.flow
    steps = flow_record.steps
    assert steps[0]["widget"] == load_flow(flow).initial_state and steps[0]["event"] == event
    # past the Trigger: another widget completed, or one is waiting for the contact
    assert len(steps) > 1 or flow_record.status == "active"


@pytest.mark.parametrize(("flow", "event"), CASES)
def test_a_trigger_the_real_flow_does_not_handle_fails_naming_those_it_does(flow: Path, event: str,
                                                                            tmp_path: Path) -> None:
    missing = [e for e in TRIGGERS.values() if e not in handled(flow) and e in ("incomingCall", "incomingMessage")]
    if not missing:
        pytest.skip("the flow handles both calls and messages")
    kind = KIND_OF[missing[0]]
    result = run_text(tmp_path, scenario_text(flow, kind, turns="[{user: hello}]" if kind != "call" else
                                              "[{wait: 1s}]"))
    assert not result.passed
    assert f"no transition for {missing[0]}" in result.error
    for other in handled(flow):
        assert other in result.error


def test_rest_parameters_become_flow_data_in_the_real_requestbin_flow(tmp_path: Path) -> None:
    """prebrov's requestbin: the REST execution texts the contact first (its To), the reply goes to the
    waiting widget, and the callback posts {{flow.data.campaignid}} (Studio's REST trigger: Parameters →
    flow.data; reference/studio.md §2.1)."""
    flow = next((p for p in V2_FLOWS if "requestbin" in p.name), None)
    if flow is None:
        pytest.skip("the requestbin flow is missing from shared/real")
    result = run_text(tmp_path, scenario_text(
        flow, "request",
        turns="[{user: Ana, expect: {replies: [{contains: 'how may I address you'}, {contains: 'meet you, Ana'}]}}]",
        extra="parameters: {campaignid: spring-42}\n"))
    assert result.error is None, result.error
    assert result.passed, [str(m) for m in result.mismatches]
    record = result.transcript.flow
    assert record.steps[0]["event"] == "incomingRequest"
    [request] = record.http_requests
    assert "spring-42" in json.dumps(request) and "Ana" in json.dumps(request)


def test_a_real_voice_flow_takes_keypad_input_and_speech(tmp_path: Path) -> None:
    """Cedric's joke hotline: the call rings, the menu (gather-input-on-call) hears `digits: "2"` as its
    keypress; speech goes to the gather's `speech` event (Gather verb: Digits / SpeechResult)."""
    flow = next((p for p in V2_FLOWS if "joke-hotline" in p.name), None)
    if flow is None:
        pytest.skip("cedrics-joke-hotline flow is missing from shared/real")
    result = run_text(tmp_path, scenario_text(flow, "call", turns="[{digits: '2'}]",
                                              expect="{flow: {events: {menu: keypress}}}"))
    assert result.error is None, result.error
    assert result.passed, [str(m) for m in result.mismatches]
    menu = next(step for step in result.transcript.flow.steps if step["widget"] == "menu")
    assert menu["context"] == {"Digits": "2"}
    assert result.transcript.turns[0].digits == "2"
    assert any(m["channel"] == "voice" and "joke" in m["body"].lower() for m in result.transcript.flow.messages)
