"""Message pacts of the Flex attributes: written from the JSON Schema, verified against the flow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.contracts import ContractFailed
from harness.contracts.messages import plan_from_schema, verify_messages, write_message_pacts
from harness.errors import SchemaError
from tests.unit.contracts.handoffs import FLEX_SCHEMA, PACTS, flex_flow_dict, flex_producer, set_attributes

pytestmark = pytest.mark.network  # pact's message relay listens on localhost
FLEX_PACT = PACTS / "contact-center-hospitality-flex.json"
ORIGINAL = next(s for s in flex_flow_dict()["states"]
                if s["name"] == "SendToConcierge")["properties"]["attributes"]


def test_written_pact_has_the_schema_examples_and_matchers(tmp_path: Path) -> None:
    path = write_message_pacts(FLEX_SCHEMA, tmp_path, run_id="r")
    document = json.loads(path.read_text())
    names = (document["consumer"]["name"], document["provider"]["name"])
    assert names == ("contact-center", "hospitality-flex")
    interactions = {i["description"]: i for i in document["interactions"]}
    sms = interactions["a Flex task for an SMS guest who asked for an agent"]
    assert sms["type"] == "Asynchronous/Messages"
    assert sms["providerStates"] == [{"name": "an SMS guest asks for an agent", "params": {"channel": "sms"}}]
    rules = sms["matchingRules"]["body"]
    assert rules["$.channelSid"]["matchers"][0]["regex"] == "^CH[0-9a-fA-F]{32}$"
    assert "$.memory.sendToAgent" not in rules  # `const: true` → the literal (equality)
    assert {"match": "type"} in rules["$.channelSid"]["matchers"]  # regex AND type
    food = interactions["a Flex task for a guest who ordered food, then asked for an agent"]
    assert "$.memory.twilio.collected_data.order_food.status" in food["matchingRules"]["body"]


def test_invalid_schema_example_is_refused(tmp_path: Path) -> None:
    schema = json.loads(FLEX_SCHEMA.read_text())
    schema["examples"][0] = dict(schema["examples"][0], channelSid="", lastTask="")
    with pytest.raises(ContractFailed) as failed:
        write_message_pacts(schema, tmp_path)
    paths = {(p.rule, p.path) for p in failed.value.problems}
    assert {("schema", "$.channelSid"), ("schema", "$.lastTask"),
            ("twilio.required", "$.channelSid")} <= paths
    with pytest.raises(SchemaError, match="x-pact"):
        plan_from_schema({"type": "object"}, path="s.json")
    schema = json.loads(FLEX_SCHEMA.read_text())
    schema["x-pact"]["interactions"][0]["example"] = 9
    with pytest.raises(SchemaError, match="not an index"):
        write_message_pacts(schema, tmp_path)


def test_example_flex_flow_satisfies_the_message_pact() -> None:
    result = verify_messages(FLEX_PACT, flex_producer())
    assert result.ok, result.render()
    assert len(result.interactions) == 3 and result.provider == "hospitality-flex"


def test_mutated_flows_fail_with_the_reason() -> None:
    # One verification per mutation costs ~0.5 s (pact's relay); three mutations share one run by
    # producing a different flow per provider state.
    removed = ORIGINAL.replace('"channelSid": "{{trigger.message.ChannelSid}}", ', "")
    # A guest's quote inside "{{…}}" without to_json breaks the JSON; to_json keeps it valid but leaks PII.
    unquoted = ORIGINAL.replace('"lastTask"', '"said": "{{widgets.HotelBot.CurrentInput}}", "lastTask"')
    leaky = ORIGINAL.replace('"lastTask"', '"lastInput": {{widgets.HotelBot.CurrentInput | to_json}}, '
                                           '"lastTask"')
    producers = {
        "an SMS guest asks for an agent": flex_producer(set_attributes(flex_flow_dict(), removed)),
        "a WhatsApp guest asks for an agent": flex_producer(set_attributes(flex_flow_dict(), unquoted),
                                                            last_input='I said "help"'),
        "an SMS guest orders food, then asks for an agent": flex_producer(
            set_attributes(flex_flow_dict(), leaky), last_input="my card is 4111 1111 1111 1111"),
    }
    result = verify_messages(FLEX_PACT, lambda state, params: producers[state](state, params))
    assert not result.ok
    by_state = {i.provider_states[0]: i for i in result.interactions}
    assert not any(i.ok for i in by_state.values())

    removed_problems = by_state["an SMS guest asks for an agent"].problems
    assert any(p.path == "$.channelSid" and p.rule == "pact" for p in removed_problems)
    assert any(p.path == "$.channelSid" and p.rule == "twilio.required" for p in removed_problems)

    invalid = by_state["a WhatsApp guest asks for an agent"].problems
    assert invalid[0].rule == "twilio.json" and "not valid JSON after Liquid" in invalid[0].message

    leaked = by_state["an SMS guest orders food, then asks for an agent"].problems
    assert [(p.rule, p.path) for p in leaked] == [("twilio.forbidden", "$.lastInput")]
    assert "card number" in result.render()


def test_no_message_pact_for_the_provider_is_a_failure(tmp_path: Path) -> None:
    assert not verify_messages(tmp_path, flex_producer()).ok
    result = verify_messages(PACTS, flex_producer(), provider="another-flow")
    assert not result.ok and "no pact for provider" in result.render()
