"""The example contact center (examples/contact_center) served for real by LocalServer on 127.0.0.1."""

from __future__ import annotations

import copy
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from jsonschema import Draft202012Validator
from liquid import Environment
from liquid.undefined import Undefined

from examples.contact_center import create_app, load_schema
from examples.contact_center.__main__ import main as contact_center_main
from harness.engines.twilio.server import LocalServer
from harness.errors import UsageError
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.network

HTTP_FLOW = EXAMPLES / "hospitality" / "flows" / "http_messaging.json"

GOOD: dict[str, Any] = {
    "dialogueSid": "UK" + "0123456789abcdef" * 2,
    "customerAddress": "+14155550123",
    "channelAddress": "+14155550199",
    "channel": "sms",
    "lastTask": "send_to_agent",
    "lastInput": "can I talk to someone?",
    "memory": {"sendToAgent": True, "twilio": {"sms": {"From": "+14155550123"}}},
}


def with_changes(**changes: Any) -> dict[str, Any]:
    payload = copy.deepcopy(GOOD)
    for key, value in changes.items():
        if value is ...:
            del payload[key]
        else:
            payload[key] = value
    return payload


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(create_app()) as running:
        yield running


@pytest.fixture
def fresh() -> Iterator[LocalServer]:
    with LocalServer(create_app()) as running:
        yield running


def post(server: LocalServer, payload: Any) -> requests.Response:
    return requests.post(server.url("/api/handoffs"), json=payload, timeout=5)


# --- the happy path ------------------------------------------------------------------------------


def test_a_good_handoff_files_a_ticket(fresh: LocalServer) -> None:
    response = post(fresh, GOOD)
    assert response.status_code == 201
    assert response.json() == {"ticket_id": "T-00001", "status": "queued", "queue": "Concierge"}
    assert response.headers["Location"] == "/api/handoffs/T-00001"
    assert post(fresh, GOOD).json()["ticket_id"] == "T-00002"


def test_received_handoffs_are_listed_in_order_and_by_id(fresh: LocalServer) -> None:
    post(fresh, GOOD)
    post(fresh, with_changes(customerAddress="whatsapp:+447700900123"))
    listed = requests.get(fresh.url("/api/handoffs"), timeout=5).json()["handoffs"]
    assert [t["ticket_id"] for t in listed] == ["T-00001", "T-00002"]
    assert listed[1]["payload"]["customerAddress"] == "whatsapp:+447700900123"
    one = requests.get(fresh.url("/api/handoffs/T-00002"), timeout=5)
    assert one.status_code == 200 and one.json()["payload"] == listed[1]["payload"]
    missing = requests.get(fresh.url("/api/handoffs/T-09999"), timeout=5)
    assert missing.status_code == 404 and missing.json()["field"] == "ticket_id"


def test_health(server: LocalServer) -> None:
    response = requests.get(server.url("/health"), timeout=5)
    assert response.status_code == 200 and response.json()["status"] == "ok"


@pytest.mark.parametrize(
    ("collect", "queue"),
    [
        ("order_food", "Room Service"),
        ("deliver_roomitems", "Housekeeping"),
        ("quantity_of_item", "Housekeeping"),
    ],
)
def test_a_finished_order_goes_to_its_desk(server: LocalServer, collect: str, queue: str) -> None:
    record = {"status": "complete", "answers": {}}
    memory = {"sendToAgent": True, "twilio": {"collected_data": {collect: record}}}
    assert post(server, with_changes(memory=memory)).json()["queue"] == queue


def test_an_unfinished_order_goes_to_the_concierge(server: LocalServer) -> None:
    record = {"status": "validation-max-attempts", "answers": {}}
    memory = {"sendToAgent": True, "twilio": {"collected_data": {"order_food": record}}}
    assert post(server, with_changes(memory=memory)).json()["queue"] == "Concierge"


def test_extra_keys_are_accepted_and_kept(fresh: LocalServer) -> None:
    assert post(fresh, with_changes(hotel="Seaside")).status_code == 201
    assert requests.get(fresh.url("/api/handoffs/T-00001"), timeout=5).json()["payload"]["hotel"] == "Seaside"


# --- bad payloads --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field", "says"),
    [
        (with_changes(memory=...), "memory", "missing"),
        (with_changes(dialogueSid=...), "dialogueSid", "missing; expected the Autopilot DialogueSid"),
        (with_changes(memory={"twilio": {}}), "memory.sendToAgent", "missing"),
        (with_changes(memory={"sendToAgent": False}), "memory.sendToAgent", "expected true, got false"),
        (with_changes(memory={"sendToAgent": "true"}), "memory.sendToAgent", 'expected true, got "true"'),
        (with_changes(memory="{\"sendToAgent\": true}"), "memory", "expected object, got string"),
        (with_changes(memory={"sendToAgent": True, "twilio": []}), "memory.twilio", "expected object"),
        (with_changes(customerAddress="4155550123"), "customerAddress", "expected the guest's address"),
        (with_changes(customerAddress="+0123"), "customerAddress", "E.164"),
        (with_changes(customerAddress=""), "customerAddress", "expected the guest's address"),
        (with_changes(channelAddress="front desk"), "channelAddress", "expected the hotel's address"),
        (with_changes(dialogueSid="UK123"), "dialogueSid", "32 hex digits"),
        (with_changes(lastInput=42), "lastInput", "expected string, got number"),
        (with_changes(lastTask=""), "lastTask", "got \"\""),
        (with_changes(channel=None), "channel", "expected string, got null"),
    ],
)
def test_a_payload_breaking_the_schema_is_422_naming_the_field(
    server: LocalServer, payload: dict[str, Any], field: str, says: str
) -> None:
    response = post(server, payload)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_handoff"
    assert body["field"] == field
    assert says in body["message"]
    assert body["errors"][0]["pointer"] == "/" + field.replace(".", "/")


def test_every_problem_is_listed(server: LocalServer) -> None:
    body = post(server, {"customerAddress": "nowhere", "memory": {}}).json()
    fields = {e["field"] for e in body["errors"]}
    assert {"customerAddress", "memory.sendToAgent", "dialogueSid", "lastTask", "lastInput"} <= fields


def test_a_rejected_handoff_files_nothing(fresh: LocalServer) -> None:
    post(fresh, with_changes(memory={"sendToAgent": False}))
    assert requests.get(fresh.url("/api/handoffs"), timeout=5).json()["handoffs"] == []


@pytest.mark.parametrize(
    ("data", "content_type", "says"),
    [
        ("{not json", "application/json", "malformed JSON"),
        ("[1, 2]", "application/json", "expected a JSON object, got array"),
        ("null", "application/json;charset=utf-8", "expected a JSON object, got null"),
        (json.dumps(GOOD), "application/x-www-form-urlencoded", "expected Content-Type application/json"),
        (json.dumps(GOOD), None, "got none"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_400(
    server: LocalServer, data: str, content_type: str | None, says: str
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = requests.post(server.url("/api/handoffs"), data=data.encode(), headers=headers, timeout=5)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "bad_request" and body["field"] is None and says in body["message"]


def test_unknown_paths_and_methods_answer_json(server: LocalServer) -> None:
    assert requests.get(server.url("/nope"), timeout=5).json()["error"] == "not_found"
    wrong = requests.delete(server.url("/api/handoffs"), timeout=5)
    assert wrong.status_code == 405 and wrong.json()["error"] == "method_not_allowed"


# --- the schema file and the flow that feeds it --------------------------------------------------


def test_the_schema_file_is_a_valid_schema_accepting_the_good_payload() -> None:
    schema = load_schema()
    Draft202012Validator.check_schema(schema)
    assert Draft202012Validator(schema).is_valid(GOOD)
    assert not Draft202012Validator(schema).is_valid(with_changes(memory={"sendToAgent": False}))


def _to_json(value: object) -> str:
    # Studio's to_json; undefined renders as null so a JSON body stays JSON.
    return "null" if isinstance(value, Undefined) else json.dumps(value)


def render_http_flow_body(context: dict[str, Any]) -> str:
    flow = json.loads(Path(HTTP_FLOW).read_text(encoding="utf-8"))
    (widget,) = [s for s in flow["states"] if s["type"] == "make-http-request"]
    env = Environment()
    env.filters["to_json"] = _to_json
    return env.from_string(widget["properties"]["body"]).render(**context)


def test_the_http_flow_body_is_accepted_by_the_service(fresh: LocalServer) -> None:
    # The Studio side and the vendor side agree: the flow's body template, rendered for an SMS guest
    # whose last words contain quotes, is a payload the service files.
    bot = {
        "DialogueSid": "UK" + "f" * 32,
        "CurrentTask": "send_to_agent",
        "CurrentInput": 'I need a "real" person',
        "Channel": "sms",
        "memory": {"sendToAgent": True, "twilio": {"sms": {"From": "+14155550123"}}},
    }
    context = {
        "widgets": {"HotelBot": bot},
        "contact": {"channel": {"address": "+14155550123"}},
        "flow": {"channel": {"address": "+14155550199"}},
        "trigger": {"message": {"Body": "agent", "From": "+14155550123"}},
    }
    body = render_http_flow_body(context)
    response = requests.post(
        fresh.url("/api/handoffs"),
        data=body.encode(),
        headers={"Content-Type": "application/json;charset=utf-8"},
        timeout=5,
    )
    assert response.status_code == 201, response.text
    filed = requests.get(fresh.url("/api/handoffs/T-00001"), timeout=5).json()["payload"]
    assert filed["lastInput"] == 'I need a "real" person'
    assert filed["memory"] == bot["memory"]


# --- LocalServer ---------------------------------------------------------------------------------


def test_local_server_binds_loopback_on_a_free_port_and_frees_it() -> None:
    server = LocalServer(create_app())
    assert not server.running
    with server:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert server.url("health") == server.url("/health") == f"{server.base_url}/health"
        port = server.port
        assert requests.get(server.url("/health"), timeout=5).ok
    assert not server.running
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/health", timeout=2)
    server.stop()  # twice is fine


def test_local_server_refuses_non_loopback_hosts() -> None:
    for host in ("0.0.0.0", "192.168.1.10", "example.com"):
        with pytest.raises(UsageError, match="loopback"):
            LocalServer(create_app(), host=host)


def test_local_server_reports_a_taken_port() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(UsageError, match=f"cannot listen on 127.0.0.1:{port}") as caught:
            LocalServer(create_app(), port=port).start()
        assert "port=0" in (caught.value.hint or "")


def test_local_server_port_before_start_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="not running"):
        _ = LocalServer(create_app()).base_url


def test_servers_run_side_by_side() -> None:
    with LocalServer(create_app()) as one, LocalServer(create_app()) as two:
        assert one.port != two.port
        post(one, GOOD)
        assert requests.get(two.url("/api/handoffs"), timeout=5).json()["handoffs"] == []


def test_main_rejects_a_bad_port(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        contact_center_main(["--port", "70000"])
    assert "between 1 and 65535" in capsys.readouterr().err
