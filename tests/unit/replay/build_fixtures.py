"""Regenerate tests/fixtures/replay/: run the hospitality flows through our engine, export the Steps.

    python3 -m tests.unit.replay.build_fixtures

The bot is the real example assistant; its `send_to_agent` Function and the contact center are local
Flask stand-ins (so no twilio-run is needed). The divergent copy is edited by hand afterwards (see
`DIVERGENT` below, which is written from the handoff recording with one widget's event changed).
"""

from __future__ import annotations

import json
from pathlib import Path

from flask import Flask, jsonify

from harness.engines.twilio.server import LocalServer
from harness.runner.replay import export_execution
from harness.runner.session import Session, SessionOptions

ROOT = Path(__file__).resolve().parents[3]
HOSPITALITY = ROOT / "examples" / "hospitality"
OUT = ROOT / "tests" / "fixtures" / "replay"


def _function_app() -> Flask:
    app = Flask("send-to-agent")

    @app.post("/send-to-agent")
    def send_to_agent():  # the same answer as examples/hospitality/functions/send-to-agent.js
        return jsonify({"actions": [{"remember": {"sendToAgent": True}},
                                    {"say": "One moment please: I am connecting you with our concierge team."}]})

    return app


def _record(flow: str, messages: list[str], url_map: dict[str, str]) -> dict:
    options = SessionOptions(bots={None: HOSPITALITY / "assistant.json"}, flow=HOSPITALITY / "flows" / flow,
                             workflow=HOSPITALITY / "workflow.json", url_map=dict(url_map),
                             clock="2023-01-02T09:00:00Z")
    with Session(options) as session:
        conversation = session.conversation(channel="sms", user="+15555550100")
        for text in messages:
            conversation.say(text)
        return export_execution(conversation.execution)


def _record_room(replies: list[str], *, time_out: bool = False) -> dict:
    """Our own send-and-wait flow (tests/fixtures/replay/room_flow.json): replies, then maybe a timeout."""
    from harness.clock import FixedClock
    from harness.engines.studio.engine import StudioEnvironment
    from harness.models.flow import load_flow

    env = StudioEnvironment(bots={}, clock=FixedClock("2023-01-02T09:00:00Z"), auth_token="t",
                            account_sid="AC" + "0" * 31 + "1")
    loaded = env.load(load_flow(OUT / "room_flow.json"))
    execution = loaded.start("incomingMessage", From="+15555550100", To="+15005550006", Body="hi")
    for text in replies:
        execution.advance_clock(60)
        execution.deliver(text)
    if time_out:
        execution.advance_clock(3601)
    return export_execution(execution)


def _divergent(handoff: dict) -> dict:
    """The hand-edited copy: as if production's split had sent the guest to Goodbye instead."""
    data = json.loads(json.dumps(handoff))
    split, last = data["steps"][2], data["steps"][3]
    split["name"], split["transitioned_to"] = "noMatch", "Goodbye"
    last.update({"transitioned_from": "Goodbye", "name": "sent", "type": "send-message", "context": {}})
    return data


def main() -> None:
    from examples.contact_center.app import create_app

    with LocalServer(_function_app()) as functions, LocalServer(create_app()) as center:
        url_map = {"https://hotel-1234.twil.io": functions.base_url,
                   "https://contact-center.example.com": center.base_url}
        recordings = {
            "flex_goodbye.json": _record("flex_messaging.json", ["I need towels", "3", "bye"], url_map),
            "flex_handoff.json": _record("flex_messaging.json", ["I want to talk to an agent"], url_map),
            "http_handoff.json": _record("http_messaging.json", ["Concierge"], url_map),
        }
    recordings["flex_handoff_divergent.json"] = _divergent(recordings["flex_handoff.json"])
    recordings["room_replies.json"] = _record_room(["the blue one", "412"])
    recordings["room_timeout.json"] = _record_room(["no idea"], time_out=True)
    for name, data in recordings.items():
        (OUT / name).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        print(name, [s["transitioned_from"] + "→" + s["transitioned_to"] for s in data["steps"]])


if __name__ == "__main__":
    main()
