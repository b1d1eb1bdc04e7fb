"""The scenario file's JSON Schema checks: validators compiled once (with `$ref`s inlined and a fast
valid/invalid pre-check), and the shared jsonschema wording adjusted for scenario files.

The pre-check is the same schema compiled by jsonschema-rs (Rust; ~35x faster than the hand-written check
it replaced and ~180x faster than jsonschema on valid files, bench/RESULTS.md): the schema is the one
source of truth. jsonschema still writes every message. Without jsonschema-rs (or for a value it cannot
take, such as a date or bytes) jsonschema alone decides: slower, never a different verdict."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from jsonschema import Draft202012Validator

from harness.errors import SchemaError, escape_pointer
from harness.models.json_schema import jsonschema_messages, load_schema
from harness.models.scenario_yaml import Origin


@functools.cache
def scenario_validator() -> Draft202012Validator:
    """The scenario file schema, compiled once, with its `$ref`s inlined (twice as fast to validate)."""
    schema = load_schema("scenario.schema.json")
    return Draft202012Validator(_inline_refs(schema, schema["$defs"]))


@functools.cache
def parts_validator() -> Draft202012Validator:
    """The schema of a parts file: the scenario schema's `$defs/parts` as the root."""
    defs = load_schema("scenario.schema.json")["$defs"]
    return Draft202012Validator(_inline_refs(defs["parts"], defs))


@functools.cache
def rendered_turn_validator() -> Draft202012Validator:
    """One turn after its templates are rendered: the scenario schema's `$defs/turn`."""
    defs = load_schema("scenario.schema.json")["$defs"]
    return Draft202012Validator(_inline_refs(defs["turn"], defs))


@functools.cache
def rendered_keys_validator() -> Draft202012Validator:
    """A scenario's rendered keys (`user`, `memory`, `expect`, `replay`, …) after its templates are rendered:
    the properties of `$defs/scenario`, none of them required."""
    defs = load_schema("scenario.schema.json")["$defs"]
    properties = defs["scenario"]["properties"]
    return Draft202012Validator(_inline_refs({"type": "object", "properties": properties}, defs))


_FAST_CHECKS: dict[int, tuple[Draft202012Validator, Callable[[Any], bool] | None]] = {}


def fast_check(validator: Draft202012Validator) -> Callable[[Any], bool] | None:
    """The validator's schema compiled by jsonschema-rs to a quick valid/invalid test; None without
    jsonschema-rs (callers then run jsonschema alone).

    Keyed by identity: validators are not hashable, and ours are compiled once (`functools.cache`)."""
    found = _FAST_CHECKS.get(id(validator))
    if found is None or found[0] is not validator:
        found = _FAST_CHECKS[id(validator)] = (validator, compiled_check(validator.schema))
    return found[1]


def compiled_check(schema: Mapping[str, Any] | bool) -> Callable[[Any], bool] | None:
    """`data -> bool`, Draft 2020-12 as jsonschema reads it (formats are annotations, not assertions), or
    None when jsonschema-rs is not installed or cannot compile the schema. Imported lazily: a run that
    loads no scenario file does not pay for it."""
    try:
        import jsonschema_rs
    except ImportError:
        return None
    try:
        rust = jsonschema_rs.Draft202012Validator(schema, validate_formats=False)
    except Exception:  # e.g. a regex its dialect lacks: jsonschema decides alone
        return None

    def is_valid(data: Any) -> bool:
        try:
            return bool(rust.is_valid(data))
        except (ValueError, TypeError, OverflowError):  # a value JSON has no type for: let jsonschema say
            return False

    return is_valid


def _inline_refs(node: Any, defs: Mapping[str, Any]) -> Any:
    """Replace `{"$ref": "#/$defs/x"}` by the definition (the schema is not recursive)."""
    if isinstance(node, list):
        return [_inline_refs(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = _inline_refs(defs[ref[len("#/$defs/"):]], defs)
        extra = {k: _inline_refs(v, defs) for k, v in node.items() if k not in ("$ref", "description")}
        return {"allOf": [target], **extra} if extra else target
    return {k: _inline_refs(v, defs) for k, v in node.items() if k not in ("$defs", "$id")}


_ONE_KEY = re.compile(r"an action has exactly one key, found (\d+) \((.*)\); put each in its own element")


_KEY_EXPECTED = {
    "bot": "an assistant SID (UA and 32 hex digits)",
    "workflow": "a Workflow SID (WW and 32 hex digits)",
    "subflows": "a flow SID (FW and 32 hex digits)",
    "url_map": "an http(s) URL prefix",
}


def scenario_message(message: str, pointer: str) -> str:
    """The shared jsonschema wording, adjusted where it speaks of Actions or reads badly here."""
    if message.startswith("invalid key ") and message.endswith("expected digits, '*' or '#'"):
        wanted = _KEY_EXPECTED.get(pointer.rsplit("/", 1)[-1], "a valid key")  # the shared text is Actions'
        return message.rsplit(":", 1)[0] + f": expected {wanted}"
    if message.startswith("ambiguous: matches more than one of exactly one of"):
        return "a turn has exactly one of `user`, `variants`, `wait`, `digits` or `include`; found more than one"
    if message.startswith("empty action {}"):  # shared wording is about Actions; ours are one-key objects
        return "expected exactly one key, found an empty object"
    one_key = _ONE_KEY.fullmatch(message)
    if one_key:
        return f"expected exactly one key, found {one_key.group(1)} ({one_key.group(2)})"
    return message


def schema_errors(data: Any, origin: Origin, validator: Draft202012Validator) -> list[SchemaError]:
    """Every schema violation of `data` (found at `origin`), placed and worded for scenario files."""
    not_finite = [SchemaError(f"{shown}: not a number JSON can hold; expected a finite number",
                              Origin(origin.path, origin.pointer + pointer, origin.source).location())
                  for pointer, shown in non_finite_numbers(data)]
    fast = fast_check(validator)
    if fast is not None and fast(data):  # a valid file (the usual case): skip jsonschema, ~180x slower
        return not_finite
    return not_finite + [SchemaError(scenario_message(message, pointer),
                                     Origin(origin.path, origin.pointer + pointer, origin.source).location())
                         for pointer, message in jsonschema_messages(validator, data)]


def non_finite_numbers(data: Any) -> list[tuple[str, str]]:
    """(JSON Pointer, YAML spelling) of every NaN or infinity in `data`.

    YAML's `.nan`, `.inf` and `-.inf` load as Python floats, which JSON Schema's `number` accepts and every
    comparison with NaN answers False (so `threshold: .nan` passed `minimum: 0` and `maximum: 1`). JSON
    has neither, nor has Twilio: refused wherever they appear in a scenario or parts file.
    """
    found: list[tuple[str, str]] = []
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        pointer, value = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            found.append((pointer, ".nan" if value != value else ".inf" if value > 0 else "-.inf"))
        elif isinstance(value, dict):
            stack.extend((f"{pointer}/{escape_pointer(str(k))}", v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((f"{pointer}/{i}", v) for i, v in enumerate(value))
    return sorted(found)
