"""Scenario-level expectations: flow path/events/variables, messages, handoffs, memory, ended."""

from __future__ import annotations

import pytest

from harness.expectations import MISSING, check_scenario, check_transcript
from harness.transcript import FlowRecord, Transcript, Turn

from ._build import scenario, scenario_expect

CHECK = [{"type": "equal_to", "value": "true", "friendly_name": "wants an agent"}, False,
         "'false' equal_to 'true' → no match"]
STEPS = (
    {"widget": "Trigger", "type": "trigger", "event": "incomingMessage", "next": "HotelBot"},
    {"widget": "HotelBot", "type": "send-to-auto-pilot", "event": "sessionEnded", "next": "CheckHandoff"},
    {"widget": "CheckHandoff", "type": "split-based-on", "input": "false", "event": "noMatch",
     "next": "Goodbye", "conditions": [CHECK]},
    {"widget": "Goodbye", "type": "send-message", "event": "sent"},
)
MESSAGES = (
    {"from": "Hotel Concierge", "to": "guest", "body": "Welcome!", "channel": "chat", "widget": "HotelBot"},
    {"from": "+15550000000", "to": "guest", "body": "Goodbye", "channel": "chat", "widget": "Goodbye"},
)
FLEX = {"kind": "flex",
        "attributes": '{"name": "+15551234", "memory": {"sendToAgent": true}, "lastTask": "agent"}',
        "workflow_sid": "WW" + "0" * 31 + "1", "task_channel": "chat", "queue_sid": "WQ" + "0" * 31 + "2",
        "priority": "0", "task_sid": "WT1"}
HTTP = {"kind": "http", "method": "POST", "url": "https://contact-center.example.com/api/handoffs",
        "headers": {}, "body": {"lastTask": "agent", "memory": {"sendToAgent": True}}, "status": 201,
        "response": {"ticket": "T-1", "agent": "Ann"}}


def transcript(steps=STEPS, messages=MESSAGES, handoff=None, **changes) -> Transcript:
    flow = FlowRecord(flow="flow.json", steps=steps, variables={"lang": "en", "tries": 2}, messages=messages,
                      ended=True, status="ended")
    base = dict(turns=(Turn(index=0, user="hi"),), ended=True, final_memory={"sendToAgent": False},
                flow=flow, handoff=handoff)
    base.update(changes)
    return Transcript(**base)


# --- flow ---------------------------------------------------------------------------------------------


def test_flow_path_exact_and_subsequence_pass() -> None:
    assert check_scenario(scenario_expect("flow: {path: [Trigger, HotelBot, CheckHandoff, Goodbye]}"),
                          transcript()) == []
    assert check_scenario(scenario_expect("flow: {path: [HotelBot, Goodbye], mode: subsequence}"),
                          transcript()) == []


def test_flow_path_left_the_expected_one_at_a_split() -> None:
    (mismatch,) = check_scenario(scenario_expect(
        "flow: {path: [Trigger, HotelBot, CheckHandoff, SendToConcierge]}"), transcript())
    assert mismatch.where == "after the last turn flow.path"
    assert mismatch.detail == (
        "the path left the expected one after 'CheckHandoff' (step 3): expected 'SendToConcierge', "
        "got 'Goodbye'\n"
        "expected: Trigger → HotelBot → CheckHandoff → SendToConcierge\n"
        "actual:   Trigger → HotelBot → CheckHandoff → Goodbye\n"
        "step 3 'CheckHandoff' (split-based-on): input \"false\"; event noMatch → next 'Goodbye'\n"
        "    'false' equal_to 'true' → no match")


def test_flow_path_shorter_or_longer() -> None:
    longer = "flow: {path: [Trigger, HotelBot, CheckHandoff, Goodbye, End]}"
    (short,) = check_scenario(scenario_expect(longer), transcript())
    assert short.detail.startswith("the path stopped after 'Goodbye' (step 4); expected next 'End'")
    (long,) = check_scenario(scenario_expect("flow: {path: [Trigger, HotelBot]}"), transcript())
    assert long.detail.startswith("the path went on after 'HotelBot' (step 2): CheckHandoff → Goodbye\n")
    # the deciding step was no split: the latest split before it is shown too (here there is none)
    assert long.detail.endswith(
        "step 2 'HotelBot' (send-to-auto-pilot): event sessionEnded → next 'CheckHandoff'")


def test_flow_subsequence_names_the_widget_that_never_ran_and_the_splits_after() -> None:
    (mismatch,) = check_scenario(scenario_expect(
        "flow: {path: [HotelBot, SendToConcierge], mode: subsequence}"), transcript())
    assert mismatch.detail == (
        "'SendToConcierge' never ran after 'HotelBot' (step 2); matched so far: HotelBot\n"
        "actual: Trigger → HotelBot → CheckHandoff → Goodbye\n"
        "step 3 'CheckHandoff' (split-based-on): input \"false\"; event noMatch → next 'Goodbye'\n"
        "    'false' equal_to 'true' → no match")


def test_conditions_recorded_as_dicts_are_shown_too() -> None:
    steps = (STEPS[0], {**STEPS[2], "conditions": [
        {"condition": {"type": "equal_to", "value": "true", "friendly_name": "agent"}, "matched": False}]},
        STEPS[3])
    (mismatch,) = check_scenario(scenario_expect("flow: {path: [Trigger, CheckHandoff, Agent]}"),
                                 transcript(steps=steps))
    assert mismatch.detail.endswith('    agent: equal_to "true" → no match')


def test_flow_events_variables_and_status() -> None:
    ok = scenario_expect("""
        flow:
          events: {HotelBot: sessionEnded, CheckHandoff: [noMatch]}
          variables: {lang: en}
          status: ended
    """)
    assert check_scenario(ok, transcript()) == []
    event, never, listed, variable, status = check_scenario(scenario_expect("""
        flow:
          events: {CheckHandoff: match, Agent: sent, HotelBot: [sessionEnded, sessionEnded]}
          variables: {lang: fr}
          status: active
    """), transcript())
    assert (event.path, event.expected, event.actual) == ("flow.events.CheckHandoff", "match", "noMatch")
    assert event.detail.startswith("'CheckHandoff' (split-based-on): input \"false\"; event noMatch")
    assert (never.actual, never.detail) == (MISSING, "'Agent' never ran; path: Trigger → HotelBot → "
                                                     "CheckHandoff → Goodbye")
    assert (listed.expected, listed.actual) == (["sessionEnded", "sessionEnded"], ["sessionEnded"])
    assert (variable.path, variable.expected, variable.actual) == ("flow.variables.lang", "fr", "en")
    assert (status.expected, status.actual) == ("active", "ended")


def test_flow_expected_without_a_flow() -> None:
    (mismatch,) = check_scenario(scenario_expect("flow: {path: [Trigger]}"), transcript(flow=None))
    assert str(mismatch) == "after the last turn flow: expected a Studio flow run, got no flow"


# --- messages -----------------------------------------------------------------------------------------


def test_messages_with_sender() -> None:
    assert check_scenario(scenario_expect("""
        messages:
          - {body: Welcome!, from: Hotel Concierge, widget: HotelBot}
          - {contains: Good}
    """), transcript()) == []
    body, sender = check_scenario(scenario_expect("""
        messages: [Welcome!, {body: {regex: "^Bye"}, from: Hotel Concierge}]
    """), transcript())
    assert (body.path, body.actual) == ("messages[1].body", "Goodbye")
    assert (sender.path, sender.expected, sender.actual) == ("messages[1].from", "Hotel Concierge",
                                                             "+15550000000")
    assert sender.detail == '"Goodbye" from "+15550000000" [Goodbye]'


def test_message_count_lists_what_was_sent() -> None:
    (count,) = check_scenario(scenario_expect("messages: [Welcome!, Goodbye, Again]"), transcript())
    assert count.detail == ('sent:\n  1. "Welcome!" from "Hotel Concierge" [HotelBot]\n'
                            '  2. "Goodbye" from "+15550000000" [Goodbye]')


def test_messages_without_a_flow_are_the_bot_replies() -> None:
    talk = transcript(flow=None, turns=(Turn(index=0, user="hi", replies=("Hello!", "How can I help?")),))
    assert check_scenario(scenario_expect("messages: [Hello!, {contains: help}]"), talk) == []


# --- handoff ------------------------------------------------------------------------------------------


def test_flex_handoff_passes_with_a_subset_schema_and_queue_from_the_workflow() -> None:
    expect = scenario_expect("""
        handoff:
          flex:
            attributes: {memory: {sendToAgent: true}}
            attributes_schema: attributes.schema.json
            workflow: WW00000000000000000000000000000001
            channel: chat
            queue: Concierge
            priority: 0
    """)
    assert check_scenario(expect, transcript(handoff=FLEX), queue_of=lambda handoff: "Concierge") == []


def test_flex_handoff_failures_name_the_json_paths() -> None:
    mismatches = check_scenario(scenario_expect("""
        handoff:
          flex:
            attributes: {name: "+15559999", memory: {sendToAgent: true, room: "12"}}
            attributes_schema:
              {type: object, required: [channelType], properties: {lastTask: {type: integer}}}
            queue: Concierge
            priority: 5
    """), transcript(handoff=FLEX))
    assert [m.summary() for m in mismatches] == [
        'after the last turn handoff.attributes.name: expected "+15559999", got "+15551234"',
        'after the last turn handoff.attributes.memory.room: expected "12", got (missing)',
        "after the last turn handoff.attributes.channelType: expected a value (required by the schema), "
        "got (missing)",
        'after the last turn handoff.attributes.lastTask: expected type "integer" (schema), got "agent"',
        'after the last turn handoff.queue: expected "Concierge", got "WQ00000000000000000000000000000002"',
        'after the last turn handoff.priority: expected 5, got "0"',
    ]
    assert mismatches[3].detail == "'agent' is not of type 'integer'"


def test_flex_expected_but_none_or_http_happened() -> None:
    expect = scenario_expect("handoff: {flex: {queue: Concierge}}")
    (none,) = check_scenario(expect, transcript())
    assert str(none) == "after the last turn handoff: expected a Flex task, got no handoff"
    (other,) = check_scenario(expect, transcript(handoff=HTTP))
    assert str(other) == ("after the last turn handoff: expected a Flex task, got an HTTP handoff: POST "
                          "https://contact-center.example.com/api/handoffs")


def test_http_handoff() -> None:
    ok = scenario_expect("""
        handoff:
          http:
            method: POST
            url: {contains: /api/handoffs}
            body: {memory: {sendToAgent: true}}
            body_schema: {type: object, required: [lastTask, memory]}
            status: 201
            response: {ticket: T-1}
    """)
    assert check_scenario(ok, transcript(handoff=HTTP)) == []
    mismatches = check_scenario(scenario_expect("""
        handoff:
          http:
            method: GET
            url: https://other.example.com/
            body: {lastTask: goodbye}
            body_schema: {type: object, required: [dialogueSid]}
            status: 200
            response: {ticket: T-2}
    """), transcript(handoff=HTTP))
    assert [(m.path, m.expected, m.actual) for m in mismatches][:1] == [("handoff.method", "GET", "POST")]
    assert [m.path for m in mismatches] == [
        "handoff.method", "handoff.url", "handoff.body.lastTask", "handoff.body.dialogueSid",
        "handoff.status", "handoff.response.ticket"]
    assert mismatches[4].detail == 'response: {"ticket": "T-1", "agent": "Ann"}'


def test_http_body_as_a_json_string_or_exact_text() -> None:
    text_body = {**HTTP, "body": '{"lastTask": "agent"}'}
    assert check_scenario(scenario_expect("handoff: {http: {body: {lastTask: agent}}}"),
                          transcript(handoff=text_body)) == []
    (exact,) = check_scenario(scenario_expect("handoff: {http: {body: 'lastTask=agent'}}"),
                              transcript(handoff=text_body))
    assert exact.actual == '{"lastTask": "agent"}'


def test_no_handoff() -> None:
    assert check_scenario(scenario_expect("no_handoff: true"), transcript()) == []
    (mismatch,) = check_scenario(scenario_expect("no_handoff: true"), transcript(handoff=FLEX))
    assert mismatch.actual.text == "a Flex task"
    (queued,) = check_scenario(scenario_expect("no_handoff: true"),
                               transcript(handoff={**FLEX, "queue": "Concierge"}))
    assert str(queued) == ('after the last turn no_handoff: expected null, '
                           'got a Flex task in queue "Concierge"')


# --- memory, ended, whole transcripts -----------------------------------------------------------------


def test_final_memory_and_ended() -> None:
    assert check_scenario(scenario_expect("{memory: {sendToAgent: false}, ended: true}"), transcript()) == []
    wrong = scenario_expect("{memory: {sendToAgent: true}, ended: false}")
    memory, ended = check_scenario(wrong, transcript())
    assert (memory.path, memory.expected, memory.actual) == ("memory.sendToAgent", True, False)
    assert (ended.key, ended.expected, ended.actual) == ("ended", False, True)


@pytest.mark.parametrize("variant", [1, 2])
def test_check_transcript_pairs_turns_and_reports_a_short_conversation(variant: int) -> None:
    spec = scenario("""
        scenarios:
          - name: t
            turns:
              - variants: [hi, hello]
                expect: {task: greet}
              - user: bye
                expect: {task: goodbye}
            expect: {ended: true}
    """)
    concrete = list(spec.expanded())[variant - 1]
    said = concrete.turns[0].user
    talk = transcript(turns=(Turn(index=0, user=said, task="fallback"),), ended=False, flow=None)
    task, short, ended = check_transcript(concrete, talk)
    assert task.where == f'turn 1 ("{said}") task'
    assert (short.where, short.detail) == ("turn 2", "the conversation stopped early")
    assert short.location is not None and short.location.line == 7
    assert ended.key == "ended"
