"""The Flex Conversations message pact (issue 11): the contact center relies on the attributes of the task
Send to Flex creates through a Flex Interaction — channelType, customerAddress, from, name, customerName
(Twilio's Send to Flex page) and conversationSid, flexInteractionSid (Flex adds them; reference/taskrouter.md
§4.2). Written from contracts/schemas/flex-conversations-attributes.schema.json, verified against
scenarios/hospitality/conversations.scenario.yaml."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.contracts.messages import verify_messages, write_message_pacts
from harness.contracts.scenario_runs import verify_flow
from tests.unit.contracts.handoffs import PACTS, ROOT

pytestmark = pytest.mark.network  # pact's message relay listens on localhost
SCHEMA = ROOT / "contracts" / "schemas" / "flex-conversations-attributes.schema.json"
PACT = PACTS / "contact-center-hospitality-flex-conversations.json"


def test_committed_pact_is_what_the_schema_generates(tmp_path: Path) -> None:
    # Regenerate: autopilot-harness contracts generate --schema <SCHEMA> --pact-dir contracts/pacts
    built = write_message_pacts(SCHEMA, tmp_path, run_id="committed")
    assert built.name == PACT.name
    assert built.read_text() == PACT.read_text(), f"contracts/pacts/{PACT.name} is stale"
    document = json.loads(built.read_text())
    sms = next(i for i in document["interactions"] if "SMS" in i["description"])
    rules = sms["matchingRules"]["body"]
    assert rules["$.flexInteractionSid"]["matchers"][0]["regex"] == "^KD[0-9a-fA-F]{32}$"
    assert rules["$.conversationSid"]["matchers"][0]["regex"] == "^CH[0-9a-fA-F]{32}$"


def test_the_conversations_flow_honours_the_pact_on_every_channel() -> None:
    result = verify_flow(PACT, [ROOT / "scenarios" / "hospitality" / "conversations.scenario.yaml"])
    assert result.ok, result.problems
    assert len(result.interactions) == 3


def test_legacy_flex_messaging_attributes_break_the_conversations_pact() -> None:
    # A task Send to Flex made without an Interaction: no conversationSid, no flexInteractionSid.
    legacy = {"name": "+14155550123", "channelType": "sms", "channelSid": "CH" + "0" * 31 + "1",
              "lastTask": "send_to_agent", "memory": {"sendToAgent": True}}

    def produce(_state: str, _params: Any) -> dict[str, Any]:
        return legacy

    result = verify_messages(PACT, produce, schemas=[SCHEMA])
    assert not result.ok
    assert any("flexInteractionSid" in str(p) or "conversationSid" in str(p) for p in result.problems)
