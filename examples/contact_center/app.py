"""A small contact-center web service: the vendor endpoint of the guide's "Without Flex" hand-off.

The Studio flow `examples/hospitality/flows/http_messaging.json` POSTs the bot's memory here with an
HTTP Request widget when the guest asks for an agent. The service checks the payload against
`contracts/schemas/handoff.schema.json` (the same file the contract tests use), files a ticket and answers

    201 {"ticket_id": "T-00001", "status": "queued", "queue": "Concierge"}

which Studio parses into `widgets.<http widget>.parsed.ticket_id`.

Errors are JSON and name the field:
- 400 when the body is not a JSON object (wrong Content-Type, malformed JSON, an array);
- 422 when it is a JSON object that breaks the schema (missing key, wrong type, bad address,
  `memory.sendToAgent` not `true`). Every problem is listed, the first is repeated at the top.

Also `GET /api/handoffs` (what was received, oldest first), `GET /api/handoffs/<ticket_id>` and
`GET /health`. State lives in memory, one desk per `create_app()`.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from werkzeug.exceptions import HTTPException

# The contract's schema lives with the pacts (contracts/schemas): one file for the service, the scenarios
# and the vendor guide. The examples run from a checkout, so the relative path holds.
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "contracts" / "schemas" / "handoff.schema.json"

# Queue names as in examples/hospitality/queues.json, chosen the way workflow.json routes Flex tasks.
ROOM_SERVICE, HOUSEKEEPING, CONCIERGE = "Room Service", "Housekeeping", "Concierge"
_QUEUE_BY_COLLECT = (
    ("order_food", ROOM_SERVICE),
    ("deliver_roomitems", HOUSEKEEPING),
    ("quantity_of_item", HOUSEKEEPING),
)


def load_schema() -> dict[str, Any]:
    """The hand-off payload schema this service enforces."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def choose_queue(payload: dict[str, Any]) -> str:
    """The desk that takes the ticket: room service or housekeeping after a finished order, else concierge."""
    twilio = payload["memory"].get("twilio")
    collected = twilio.get("collected_data") if isinstance(twilio, dict) else None
    if isinstance(collected, dict):
        for collect_name, queue in _QUEUE_BY_COLLECT:
            record = collected.get(collect_name)
            if isinstance(record, dict) and record.get("status") == "complete":
                return queue
    return CONCIERGE


@dataclass
class HandoffDesk:
    """The tickets one app instance has filed. Thread-safe: the dev server answers in threads."""

    tickets: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def file(self, payload: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            ticket = {
                "ticket_id": f"T-{len(self.tickets) + 1:05d}",
                "status": "queued",
                "queue": choose_queue(payload),
                "received_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "payload": payload,
            }
            self.tickets.append(ticket)
            return ticket

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.tickets)

    def find(self, ticket_id: str) -> dict[str, Any] | None:
        with self._lock:
            return next((t for t in self.tickets if t["ticket_id"] == ticket_id), None)


def create_app(*, schema: dict[str, Any] | None = None) -> Flask:
    """A fresh service with an empty desk (`app.extensions["handoff_desk"]`)."""
    app = Flask("contact_center")
    validator = Draft202012Validator(schema or load_schema())
    desk = HandoffDesk()
    app.extensions["handoff_desk"] = desk

    @app.get("/health")
    def health() -> Response:
        return jsonify(status="ok", handoffs=len(desk.all()))

    @app.post("/api/handoffs")
    def receive_handoff() -> tuple[Response, int]:
        payload, problem = _read_json_object()
        if problem is not None:
            return _error(400, "bad_request", [problem])
        problems = schema_problems(validator, payload)
        if problems:
            return _error(422, "invalid_handoff", problems)
        ticket = desk.file(payload)
        body = {k: ticket[k] for k in ("ticket_id", "status", "queue")}
        response = jsonify(body)
        response.headers["Location"] = f"/api/handoffs/{ticket['ticket_id']}"
        return response, 201

    @app.get("/api/handoffs")
    def list_handoffs() -> Response:
        return jsonify(handoffs=desk.all())

    @app.get("/api/handoffs/<ticket_id>")
    def get_handoff(ticket_id: str) -> Response | tuple[Response, int]:
        ticket = desk.find(ticket_id)
        if ticket is None:
            return _error(404, "not_found", [_problem("ticket_id", f"no ticket {ticket_id!r}")])
        return jsonify(ticket)

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> tuple[Response, int]:
        # Unknown paths and wrong methods answer JSON too, so a vendor test never parses HTML.
        code = (err.name or "error").lower().replace(" ", "_")
        return _error(err.code or 500, code, [_problem(None, err.description or err.name)])

    return app


# --- request reading and validation --------------------------------------------------------------


def _read_json_object() -> tuple[Any, dict[str, Any] | None]:
    if not request.is_json:
        got = request.content_type or "none"
        return None, _problem(None, f"expected Content-Type application/json, got {got}")
    text = request.get_data(as_text=True)
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as err:
        return None, _problem(None, f"malformed JSON: {err.msg} at line {err.lineno} column {err.colno}")
    if not isinstance(payload, dict):
        return None, _problem(None, f"expected a JSON object, got {_json_type(payload)}")
    return payload, None


def schema_problems(validator: Draft202012Validator, payload: Any) -> list[dict[str, Any]]:
    """Every schema violation as {field, pointer, message}: outer fields first, missing keys by name."""
    problems: list[dict[str, Any]] = []
    for error in sorted(validator.iter_errors(payload), key=lambda e: [str(p) for p in e.absolute_path]):
        path = [str(p) for p in error.absolute_path]
        if error.validator == "required":
            missing = _missing_key(error)
            description = error.schema.get("properties", {}).get(missing, {}).get("description")
            message = f"missing; expected {description}" if description else "missing"
            problems.append(_problem_at([*path, missing], message))
        else:
            problems.append(_problem_at(path, _message(error)))
    return problems


def _missing_key(error: ValidationError) -> str:
    # jsonschema reports one "required" error per missing key, as "'name' is a required property".
    for name in error.validator_value:
        if isinstance(error.instance, dict) and name not in error.instance and repr(name) in error.message:
            return str(name)
    return str(error.message.split("'")[1]) if "'" in error.message else "?"


def _message(error: ValidationError) -> str:
    expected = error.schema.get("description") if isinstance(error.schema, dict) else None
    got = json.dumps(error.instance)[:80]
    if error.validator == "type":
        return f"expected {error.validator_value}, got {_json_type(error.instance)}"
    if error.validator == "const":
        return f"expected {json.dumps(error.validator_value)}, got {got}"
    if error.validator in ("pattern", "minLength", "maxLength") and expected:
        return f"expected {expected}, got {got}"
    return error.message


def _problem_at(path: list[str], message: str) -> dict[str, Any]:
    return {
        "field": ".".join(path) or None,
        "pointer": "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in path),
        "message": message,
    }


def _problem(field_name: str | None, message: str) -> dict[str, Any]:
    return {"field": field_name, "pointer": f"/{field_name}" if field_name else "", "message": message}


def _error(status: int, code: str, problems: list[dict[str, Any]]) -> tuple[Response, int]:
    first = problems[0]
    body = {"error": code, "field": first["field"], "message": first["message"], "errors": problems}
    return jsonify(body), status


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"
