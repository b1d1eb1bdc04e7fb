"""Matchers derived from a JSON Schema plus an example: which pact rule each value gets."""

from __future__ import annotations

from types import SimpleNamespace

from harness.contracts.schema_matchers import CHANNEL_ADDRESS, E164, ISO_DATETIME, MatcherBuilder
from tests.unit.contracts.handoffs import HANDOFF_SCHEMA, http_handoffs

# A stand-in for `pact.match` that records which matcher was chosen, so the rules are plain data.
FAKE_MATCH = SimpleNamespace(
    regex=lambda value, regex: ("regex", value, regex),
    str=lambda value: ("type", value),
    bool=lambda value: ("boolean", value),
    int=lambda value: ("integer", value),
    number=lambda value: ("number", value),
    each_like=lambda template, min: ("each_like", template, min),
)


def build(example, schema=None):
    return MatcherBuilder(FAKE_MATCH, schema).build(example)


def test_handoff_schema_gives_regexes_booleans_and_sids() -> None:
    import json

    schema = json.loads(HANDOFF_SCHEMA.read_text())
    _, handoff = http_handoffs()[0]
    body = build(handoff["body"], schema)
    assert body["dialogueSid"] == ("regex", handoff["body"]["dialogueSid"], "^UK[0-9a-fA-F]{32}$")
    assert body["customerAddress"][0] == "regex" and body["customerAddress"][2].startswith("^(\\+[1-9]")
    assert body["memory"]["sendToAgent"] == ("boolean", True)  # `const: true` in the schema
    assert body["lastTask"] == ("regex", "send_to_agent", r"^[\s\S]{1,64}$")  # minLength 1, maxLength 64
    assert body["lastInput"][0] == "type"  # maxLength 4096: too long for a useful regex
    # Keys the schema does not describe are still matched by shape: SIDs and E.164 numbers by regex.
    sms = body["memory"]["twilio"]["sms"]
    assert sms["MessageSid"][2] == "^SM[0-9a-fA-F]{32}$"
    assert sms["From"] == ("regex", "+14155550123", E164)
    assert list(body) == sorted(body)  # stable order


def test_enum_format_unanchored_pattern_and_numbers() -> None:
    schema = {
        "type": "object",
        "properties": {
            "kind": {"enum": ["sms", "web"]},
            "at": {"type": "string", "format": "date-time"},
            "code": {"type": "string", "pattern": "[A-Z]{3}"},
            "look": {"type": "string", "pattern": "^(?=x)x$"},  # look-ahead: Rust's regex cannot run it
            "score": {"type": "number"},
            "count": {"type": "integer"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "nothing": {"type": "null"},
            "fixed": {"const": "v1"},
        },
    }
    example = {"kind": "sms", "at": "2026-05-01T12:00:00Z", "code": "xABCx", "look": "x", "score": 3,
               "count": 2, "tags": ["a", "b"], "nothing": None, "fixed": "v1",
               "wa": "whatsapp:+14155550123"}
    body = build(example, schema)
    assert body["kind"] == ("regex", "sms", "^(sms|web)$")
    assert body["at"] == ("regex", "2026-05-01T12:00:00Z", ISO_DATETIME)
    assert body["code"] == ("regex", "xABCx", r"^[\s\S]*(?:[A-Z]{3})[\s\S]*$")
    assert body["look"] == ("type", "x")
    assert body["score"] == ("number", 3) and body["count"] == ("integer", 2)
    assert body["tags"] == ("each_like", ("type", "a"), 1)  # min 1: pact's default accepts []
    assert body["nothing"] is None and body["fixed"] == "v1"  # literal equality
    assert body["wa"] == ("regex", "whatsapp:+14155550123", CHANNEL_ADDRESS)


def test_refs_and_any_of_pick_the_branch_the_value_satisfies() -> None:
    schema = {
        "$defs": {"sid": {"type": "string", "pattern": "^CH[0-9a-f]{32}$"}},
        "type": "object",
        "properties": {
            "channel": {"$ref": "#/$defs/sid"},
            "either": {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": "^[a-z]+$"}]},
        },
    }
    body = build({"channel": "CH" + "0" * 32, "either": "abc"}, schema)
    assert body["channel"][2] == "^CH[0-9a-f]{32}$"
    assert body["either"] == ("regex", "abc", "^[a-z]+$")
