"""The example flows' hand-offs, rendered the way the Studio engine records them.

The Studio engine renders a widget's templates with `StudioLiquid` and records the hand-off; these
helpers do the same for a few fixed cases, for unit tests of the pact writer and the Twilio rules.

The committed pacts have one source each: `contracts/pacts/hospitality-http-contact-center.json` is
what running `scenarios/hospitality/http.scenario.yaml` writes (tests/unit/contracts/runs checks it);
the message pact is written from `contracts/schemas/flex-attributes.schema.json` —
`autopilot-harness contracts generate --schema contracts/schemas/flex-attributes.schema.json
--pact-dir contracts/pacts` regenerates it (tests/unit/contracts/runs/test_pact_merge.py checks they agree).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from examples.contact_center import create_app
from harness.clock import FixedClock
from harness.engines.studio.liquid import StudioLiquid, studio_context
from harness.models.flow import Flow, flow_from_dict, load_flow
from harness.sids import SidFactory

ROOT = Path(__file__).resolve().parents[3]
FLOWS = ROOT / "examples" / "hospitality" / "flows"
HTTP_FLOW = FLOWS / "http_messaging.json"
FLEX_FLOW = FLOWS / "flex_messaging.json"
HANDOFF_SCHEMA = ROOT / "contracts" / "schemas" / "handoff.schema.json"
FLEX_SCHEMA = ROOT / "contracts" / "schemas" / "flex-attributes.schema.json"
PACTS = ROOT / "contracts" / "pacts"
HTTP_CONSUMER, HTTP_PROVIDER = "hospitality-http", "contact-center"
HTTP_WIDGET, FLEX_WIDGET = "NotifyContactCenter", "SendToConcierge"
PROVIDER_STATE = "hand-offs are accepted"

GUEST, HOTEL = "+14155550123", "+14155550100"
_LIQUID = StudioLiquid(clock=FixedClock("2026-05-01T12:00:00Z"))

ORDER_FOOD = {
    "order_food": {
        "answers": {"food": {"answer": "pizza", "filled": True, "type": "Custom.FOOD", "attempts": 1,
                             "validate_attempts": 1, "confirm_attempts": 0, "confirmed": False}},
        "date_started": "2026-05-01T11:58:00Z", "date_completed": "2026-05-01T11:59:00Z",
        "status": "complete",
    }
}

# (description, channel, guest address, last input, collected data)
HTTP_SCENARIOS: tuple[tuple[str, str, str, str, dict[str, Any]], ...] = (
    ("an SMS guest asks for an agent straight away", "sms", GUEST, "can I talk to a person", {}),
    ("an SMS guest who ordered food asks for an agent", "sms", GUEST,
     'I said "extra cheese" \\ please get me a person', ORDER_FOOD),
    ("a WhatsApp guest asks for an agent", "whatsapp", f"whatsapp:{GUEST}", "agent please", {}),
)


def bot_memory(channel: str, guest: str, collected: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Autopilot's memory after `send_to_agent` remembered sendToAgent (reference/autopilot.md §4.3)."""
    sids = SidFactory(f"memory:{channel}:{guest}")
    key = "sms" if channel == "sms" else f"messaging.{channel}"
    hotel = HOTEL if channel == "sms" else f"{channel}:{HOTEL}"
    twilio: dict[str, Any] = {key: {"From": guest, "To": hotel, "MessageSid": sids.make("SM")}}
    if collected:
        twilio["collected_data"] = dict(collected)
    return {"sendToAgent": True, "twilio": twilio}


def _state(flow: Flow, name: str) -> dict[str, Any]:
    state = flow.state(name)
    assert state is not None, f"{flow.path} has no widget {name}"
    return state.properties


def http_handoff(description: str, channel: str, guest: str, last_input: str,
                 collected: Mapping[str, Any], *, flow: Flow | None = None) -> dict[str, Any]:
    """The HTTP hand-off of http_messaging.json for one scenario, answered by the example contact center."""
    flow = flow or load_flow(HTTP_FLOW)
    widget = _state(flow, HTTP_WIDGET)
    hotel = HOTEL if channel == "sms" else f"{channel}:{HOTEL}"
    context = studio_context(
        trigger={"message": {"Body": last_input, "From": guest, "To": hotel}},
        widgets={"HotelBot": {"DialogueSid": SidFactory(description).make("UK"), "Channel": channel,
                              "CurrentTask": "send_to_agent", "CurrentInput": last_input,
                              "memory": bot_memory(channel, guest, collected)}},
        flow={"channel": {"address": hotel}, "variables": {}, "data": {}},
        contact={"channel": {"address": guest}},
    )
    text = _LIQUID.render(widget["body"], context, name=f"{HTTP_WIDGET}.body")
    body = json.loads(text)
    answer = create_app().test_client().post("/api/handoffs", data=text, content_type=widget["content_type"])
    return {
        "kind": "http", "method": widget["method"], "url": widget["url"],
        # What Studio's HTTP client adds: the kit must not carry these into a pact.
        "headers": {"Content-Type": widget["content_type"], "User-Agent": "TwilioProxy/1.1",
                    "I-Twilio-Idempotency-Token": str(uuid.uuid4()), "Authorization": "Basic QUM6c2VjcmV0"},
        "body": body, "status": answer.status_code, "response": answer.get_json(),
    }


def http_handoffs() -> list[tuple[str, dict[str, Any]]]:
    flow = load_flow(HTTP_FLOW)
    return [(s[0], http_handoff(*s, flow=flow)) for s in HTTP_SCENARIOS]


# --- the Flex flow as a message provider ---------------------------------------------------------------

FLEX_STATES: dict[str, tuple[str, str, dict[str, Any]]] = {
    # provider state → (channel, guest address, collected data); names as in flex-attributes.schema.json
    "an SMS guest asks for an agent": ("sms", GUEST, {}),
    "a WhatsApp guest asks for an agent": ("whatsapp", f"whatsapp:{GUEST}", {}),
    "an SMS guest orders food, then asks for an agent": ("sms", GUEST, ORDER_FOOD),
}


def flex_flow_dict() -> dict[str, Any]:
    return json.loads(FLEX_FLOW.read_text(encoding="utf-8"))


def set_attributes(flow_data: dict[str, Any], attributes: str) -> dict[str, Any]:
    """A copy of a flow definition whose Send to Flex widget renders `attributes` instead."""
    copy = json.loads(json.dumps(flow_data))
    for state in copy["states"]:
        if state["name"] == FLEX_WIDGET:
            state["properties"]["attributes"] = attributes
    return copy


def flex_producer(flow_data: Mapping[str, Any] | None = None, *, last_input: str = "agent please"):
    """`produce(state, params)` for verify_messages: the Flex hand-off the flow records in that state."""
    flow = flow_from_dict(dict(flow_data or flex_flow_dict()), path=str(FLEX_FLOW))
    widget = _state(flow, FLEX_WIDGET)

    def produce(state: str, params: Mapping[str, Any]) -> dict[str, Any]:
        channel, guest, collected = FLEX_STATES[state]
        sids = SidFactory(f"flex:{state}")
        context = studio_context(
            trigger={"message": {"Body": last_input, "ChannelSid": sids.make("CH"),
                                 "InstanceSid": sids.make("IS"),
                                 "ChannelAttributes": json.dumps({"from": guest, "channel_type": channel})}},
            widgets={"HotelBot": {"CurrentTask": "send_to_agent", "CurrentInput": last_input,
                                  "memory": bot_memory(channel, guest, collected)}},
            flow={"channel": {"address": HOTEL}, "variables": {}, "data": {}},
            contact={"channel": {"address": guest}},
        )
        attributes = _LIQUID.render(widget["attributes"], context, name=f"{FLEX_WIDGET}.attributes")
        return {"kind": "flex", "attributes": attributes, "workflow_sid": widget["workflow"],
                "task_channel": widget["channel"], "queue": None, "priority": None}

    return produce


def write_committed_pacts(pact_dir: Path = PACTS, run_id: str | None = None) -> tuple[Path]:
    """Build the committed message pact from the schema (the committed file must equal this). The HTTP
    pact is the scenario suite's output: `autopilot-harness run scenarios/hospitality/http.scenario.yaml`."""
    from harness.contracts.messages import write_message_pacts

    return (write_message_pacts(FLEX_SCHEMA, pact_dir, run_id=run_id or uuid.uuid4().hex),)


if __name__ == "__main__":
    import shutil
    import tempfile

    # Built in a scratch folder, so the lock and run-marker sidecars never land in contracts/pacts.
    with tempfile.TemporaryDirectory() as scratch:
        for built in write_committed_pacts(Path(scratch)):
            shutil.copyfile(built, PACTS / built.name)
            print(f"wrote contracts/pacts/{built.name}")
