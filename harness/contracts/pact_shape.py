"""The shape of a pact file, checked where pacts are read for verification (`verify`, `contracts verify-flow`).

A pact whose interaction has a `request` that is not an object, no `method` or `path`, `interactions` that
are not a list, or messages without `contents` cannot be verified as its consumer meant; the pact FFI
skips or misreads such interactions, and the verification could then pass without checking them (a false
pass). So each file is checked against a small JSON Schema of the Pact file format first, and every
violation is reported with the file, the line and the JSON Pointer (exit 2).

The schema follows the Pact specification's file format (V2/V3 HTTP interactions and V3 `messages`,
https://github.com/pact-foundation/pact-specification/tree/version-3; V4 typed `interactions`,
https://github.com/pact-foundation/pact-specification/tree/version-4, whose JSON Schema is published at
https://github.com/pactflow/pact-schemas): only what verification relies on is required, and keys it does
not read stay free, like the pact tools' own robust reading.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from harness.errors import HarnessError, Location, SchemaError, raise_all

# Problems listed for one file: the first ones tell what is wrong.
MAX_PACT_SHAPE_PROBLEMS = 20

HTTP = "Synchronous/HTTP"
ASYNC_MESSAGE = "Asynchronous/Messages"
SYNC_MESSAGE = "Synchronous/Messages"

_HEADERS = {
    "type": "object",
    "additionalProperties": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
                             "x-expected": "a header value: a string or a list of strings"},
    "x-expected": "an object of header name → string (or list of strings)",
}
_PROVIDER_STATES = {
    "type": "array",
    "items": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"},
                                                                      "params": {"type": "object"}}},
    "x-expected": "a list of {name, params} objects",
}
_HTTP_REQUEST = {
    "type": "object",
    "required": ["method", "path"],
    "properties": {
        "method": {"type": "string", "pattern": "^[A-Za-z]+$", "x-expected": "an HTTP method such as POST"},
        "path": {"type": "string", "x-expected": "the request path, a string such as /api/handoffs"},
        "query": {"type": ["string", "object"], "x-expected": "a query string or an object of parameters"},
        "headers": _HEADERS,
    },
    "x-expected": "the HTTP request, an object with 'method' and 'path'",
}
_HTTP_RESPONSE = {
    "type": "object",
    "required": ["status"],
    "properties": {
        "status": {"type": "integer", "minimum": 100, "maximum": 599, "x-expected": "an HTTP status (100-599)"},
        "headers": _HEADERS,
    },
    "x-expected": "the HTTP response, an object with 'status'",
}
_COMMON = {
    "description": {"type": "string", "minLength": 1, "x-expected": "a non-empty description"},
    "providerState": {"type": "string"},
    "providerStates": _PROVIDER_STATES,
    "metadata": {"type": "object"},
    "metaData": {"type": "object"},
}
_INTERACTION = {
    "type": "object",
    "required": ["description"],
    "properties": {**_COMMON, "type": {"enum": [HTTP, ASYNC_MESSAGE, SYNC_MESSAGE],
                                       "x-expected": f"one of {HTTP}, {ASYNC_MESSAGE}, {SYNC_MESSAGE}"}},
    "allOf": [
        {  # no `type` (V2/V3) or Synchronous/HTTP
            "if": {"anyOf": [{"not": {"required": ["type"]}},
                             {"required": ["type"], "properties": {"type": {"const": HTTP}}}]},
            "then": {"required": ["request", "response"],
                     "properties": {"request": _HTTP_REQUEST, "response": _HTTP_RESPONSE}},
        },
        {
            "if": {"required": ["type"], "properties": {"type": {"const": ASYNC_MESSAGE}}},
            "then": {"required": ["contents"]},
        },
        {
            "if": {"required": ["type"], "properties": {"type": {"const": SYNC_MESSAGE}}},
            "then": {"required": ["request", "response"],
                     "properties": {"request": {"type": "object", "x-expected": "an object with 'contents'"},
                                    "response": {"type": "array", "items": {"type": "object"},
                                                 "x-expected": "a list of response message objects"}}},
        },
    ],
    "x-expected": "an interaction object",
}
_MESSAGE = {  # V3 `messages`
    "type": "object",
    "required": ["description", "contents"],
    "properties": _COMMON,
    "x-expected": "a message object with 'description' and 'contents'",
}
_PACTICIPANT = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}},
                "x-expected": "an object with a 'name'"}

PACT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Pact file (the parts verification relies on)",
    "type": "object",
    "required": ["consumer", "provider"],
    "properties": {
        "consumer": _PACTICIPANT,
        "provider": _PACTICIPANT,
        "interactions": {"type": "array", "items": _INTERACTION, "x-expected": "a list of interaction objects"},
        "messages": {"type": "array", "items": _MESSAGE, "x-expected": "a list of message objects"},
        "metadata": {"type": "object"},
    },
    "x-expected": "a pact file: an object with 'consumer', 'provider' and 'interactions'",
}


@cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(PACT_SCHEMA)


def check_pact_shape(document: Any, path: str | Path) -> None:
    """Raise SchemaError(s) naming the file, line and JSON Pointer of each place `document` (a parsed pact
    file) breaks the Pact file format in a way verification relies on."""
    from harness.models.actions import jsonschema_messages

    found = jsonschema_messages(_validator(), document)[:MAX_PACT_SHAPE_PROBLEMS]
    if not found:
        return
    source = _source(path)
    problems: list[HarnessError] = []
    for pointer, message in found:
        where = source.locate(pointer) if source is not None else Location(str(path), pointer)
        problems.append(SchemaError(f"malformed pact: {message}", where,
                                    hint="a malformed interaction cannot be verified; fix or regenerate the pact"))
    raise_all(problems)


def read_checked_pact(path: Path) -> dict[str, Any]:
    """A pact file read for verification: `pact_files.read_pact`, then its shape checked (exit 2 if bad)."""
    from harness.contracts import pact_files

    document = pact_files.read_pact(path)
    check_pact_shape(document, path)
    return document


def _source(path: str | Path) -> Any:
    """The file parsed again for line numbers (only when there is something to report)."""
    from harness.sources import parse_text

    try:
        return parse_text(Path(path).read_text(encoding="utf-8"), path=str(path), kind="json")
    except (OSError, ValueError, HarnessError):
        return None
