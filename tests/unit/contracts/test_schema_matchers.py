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
    type=lambda value: ("type", value),
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
    assert body["memory"]["sendToAgent"] is True  # `const: true` in the schema: the literal
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


# --- FIX-E: stricter matchers ---------------------------------------------------------------------------------


def test_a_boolean_without_const_is_matched_by_json_type_not_pacts_boolean() -> None:
    # pact's `boolean` matcher accepts the string "true"; `type` demands a JSON boolean.
    assert build({"vip": False}, {"properties": {"vip": {"type": "boolean"}}}) == {"vip": ("type", False)}


def test_regex_strings_get_a_type_rule_on_their_path() -> None:
    builder = MatcherBuilder(FAKE_MATCH, {"properties": {"lastTask": {"type": "string", "minLength": 1}}})
    builder.build({"lastTask": "x", "memory": {"a.b": "+14155550123"}, "items": ["CH" + "0" * 32]})
    assert builder.typed_paths == ["$.items[0]", "$.lastTask", "$.memory['a.b']"]
    rules = builder.extra_rules()
    assert rules == {"body": {p: {"combine": "AND", "matchers": [{"match": "type"}]}
                              for p in builder.typed_paths}}
    assert MatcherBuilder(FAKE_MATCH).extra_rules() is None


def test_canonical_sids_do_not_depend_on_the_seed() -> None:
    one = MatcherBuilder(FAKE_MATCH, canonical_sids=True).build({"a": "UK" + "1" * 32, "b": "UK" + "1" * 32,
                                                                  "c": "CH" + "2" * 32})
    two = MatcherBuilder(FAKE_MATCH, canonical_sids=True).build({"a": "UK" + "f" * 32, "b": "UK" + "f" * 32,
                                                                  "c": "CH" + "e" * 32})
    assert one == two  # same shape, different SIDs: the same pact
    assert one["a"] == one["b"] and one["a"][1] != "UK" + "1" * 32  # the same SID keeps one stand-in
    assert one["a"][1].startswith("UK") and one["c"][1].startswith("CH")
    plain = MatcherBuilder(FAKE_MATCH).build({"a": "UK" + "1" * 32})
    assert plain["a"][1] == "UK" + "1" * 32  # off by default (message pacts keep the schema's examples)
