"""Twilio rules pact cannot express: JSON after Liquid, size, required keys, PII, the Autopilot 'from'."""

from __future__ import annotations

import json

from harness.contracts.twilio_rules import (
    TwilioRules,
    check_autopilot_from,
    check_flex_attributes,
    check_handoff,
    forbidden_problems,
)
from harness.models.flow import flow_from_dict, load_flow
from tests.unit.contracts.handoffs import FLEX_FLOW, FLOWS, HTTP_FLOW, flex_flow_dict, http_handoffs

GOOD = {"name": "+14155550123", "channelType": "sms", "channelSid": "CH" + "0" * 31 + "1",
        "memory": {"sendToAgent": True}}


def rules_of(problems):
    return [(p.rule, p.path) for p in problems]


def test_good_attributes_pass_as_text_and_as_object() -> None:
    assert check_flex_attributes(json.dumps(GOOD)) == []
    assert check_flex_attributes(GOOD) == []


def test_invalid_json_after_liquid_is_reported_with_the_place() -> None:
    text = '{"name": "+14155550123", "lastInput": "I said "hi""}'
    [problem] = check_flex_attributes(text)
    assert problem.rule == "twilio.json" and "not valid JSON" in problem.message
    assert "column" in problem.message
    assert rules_of(check_flex_attributes("[1, 2]")) == [("twilio.json", "$")]  # must be an object


def test_size_limits_of_send_to_flex_and_taskrouter() -> None:
    big = dict(GOOD, notes="x" * 1100)
    [problem] = check_flex_attributes(json.dumps(big))
    assert problem.rule == "twilio.size" and "1024" in problem.message
    huge = dict(GOOD, notes="x" * 5000)
    assert "4096" in check_flex_attributes(json.dumps(huge))[0].message
    assert check_flex_attributes(json.dumps(big), rules=TwilioRules(size_limit=4096)) == []


def test_required_keys_per_channel_and_empty_liquid_values() -> None:
    missing = {k: v for k, v in GOOD.items() if k != "channelSid"}
    assert rules_of(check_flex_attributes(missing)) == [("twilio.required", "$.channelSid")]
    empty_name = dict(GOOD, name="")  # what lax Liquid renders for an undefined ChannelAttributes.from
    found = check_flex_attributes(empty_name)
    assert ("twilio.required", "$.name") in rules_of(found)
    assert any("empty" in p.message for p in found)
    assert ("twilio.required", "$.customerAddress") in rules_of(found)  # no address left at all
    assert check_flex_attributes({"name": "Guest", "channelType": "web", "channelSid": "CH1"}) == []
    assert check_flex_attributes({"type": "inbound", "name": "+14155550123"}, channel="voice") == []


def test_pii_card_numbers_ssn_and_forbidden_keys() -> None:
    payload = {"lastInput": "my card is 4111 1111 1111 1111",
               "memory": {"cvv": "123", "ssn_note": "078-05-1120"},
               "sid": "UK" + "0" * 31 + "1", "phone": "+14155550123", "order": "12345678901234"}
    found = rules_of(forbidden_problems(payload))
    assert ("twilio.forbidden", "$.lastInput") in found
    assert ("twilio.forbidden", "$.memory.cvv") in found
    assert ("twilio.forbidden", "$.memory.ssn_note") in found  # SSN pattern in the value
    # SIDs, phone numbers and numbers failing the Luhn check are not cards.
    assert not {"$.sid", "$.phone", "$.order"} & {path for _, path in found}


def test_http_handoff_checks_the_body() -> None:
    _, handoff = http_handoffs()[0]
    assert check_handoff(handoff) == []
    leaking = dict(handoff, body=dict(handoff["body"], lastInput="card 5500 0000 0000 0004"))
    assert rules_of(check_handoff(leaking)) == [("twilio.forbidden", "$.lastInput")]
    broken = dict(handoff, body='{"a": ')
    assert rules_of(check_handoff(broken)) == [("twilio.json", "$")]
    assert rules_of(check_handoff({"kind": "fax"})) == [("twilio.kind", "$")]


def test_autopilot_from_follows_the_guide_per_flow_kind() -> None:
    assert check_autopilot_from(load_flow(FLEX_FLOW)) == []
    assert check_autopilot_from(load_flow(HTTP_FLOW)) == []
    assert check_autopilot_from(load_flow(FLOWS / "chat_flex.json"), channel="web") == []

    data = flex_flow_dict()
    for state in data["states"]:
        if state["type"] == "send-to-auto-pilot":
            state["properties"]["from"] = "{{flow.channel.address}}"
    [problem] = check_autopilot_from(flow_from_dict(data))
    assert problem.rule == "twilio.autopilot-from" and problem.interaction == "HotelBot"
    assert problem.expected == "{{trigger.message.ChannelAttributes.from}}"
    # A label is right for chat but wrong for a messaging flow.
    [label] = check_autopilot_from(load_flow(FLOWS / "chat_flex.json"), channel="sms")
    assert label.actual == "The Harbour Hotel guest concierge"
