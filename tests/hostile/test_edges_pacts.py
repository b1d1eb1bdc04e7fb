"""Hostile pacts (issue 9, edges).

Shape: a pact whose interaction `request` is not an object verified as passed (a false pass): the pact FFI
skipped what it could not read. `verify` and `contracts verify-flow` now check every pact file they read
against the Pact file format (harness.contracts.pact_shape; pact-specification V3/V4) and refuse a
malformed one with the file, line and JSON Pointer (exit 2), before any provider is contacted.

Names: pacts are written as `<consumer>-<provider>.json` (by the kit and by the pact FFI), so a name with
`/`, `..`, a NUL, an absolute path or too long could steer the write out of the pact folder. Such names
are refused where they come from (the scenario file's `contracts.http`, a schema's `x-pact`), and nothing
is written.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.hostile.kit import TINY_BOT, assert_refused, cli, run_suite_beside

PACTS = ROOT / "contracts" / "pacts"
HTTP_PACT = json.loads((PACTS / "hospitality-http-contact-center.json").read_text(encoding="utf-8"))
MESSAGE_PACT = json.loads((PACTS / "contact-center-hospitality-flex.json").read_text(encoding="utf-8"))
FLEX_SCHEMA = ROOT / "contracts" / "schemas" / "flex-attributes.schema.json"
NOBODY = "http://127.0.0.1:9"  # never contacted: a malformed pact is refused before the provider is probed


def _first(document: dict[str, Any]) -> dict[str, Any]:
    return document["interactions"][0]


# (row id, how the HTTP pact is broken, the JSON Pointer named, what the message says)
HTTP_ROWS: list[tuple[str, Callable[[dict[str, Any]], Any], str, str]] = [
    ("request-is-a-string", lambda d: _first(d).__setitem__("request", "GET /"), "/interactions/0/request",
     "expected the HTTP request, an object with 'method' and 'path'"),
    ("request-is-null", lambda d: _first(d).__setitem__("request", None), "/interactions/0/request",
     "expected the HTTP request"),
    ("request-missing", lambda d: _first(d).pop("request"), "/interactions/0", "missing required key 'request'"),
    ("method-missing", lambda d: _first(d)["request"].pop("method"), "/interactions/0/request",
     "missing required key 'method'"),
    ("path-missing", lambda d: _first(d)["request"].pop("path"), "/interactions/0/request",
     "missing required key 'path'"),
    ("method-is-a-number", lambda d: _first(d)["request"].__setitem__("method", 1), "/interactions/0/request/method",
     "an HTTP method"),
    ("path-is-a-number", lambda d: _first(d)["request"].__setitem__("path", 5), "/interactions/0/request/path",
     "the request path"),
    ("header-value-is-a-number", lambda d: _first(d)["request"].__setitem__("headers", {"X-Id": 1}),
     "/interactions/0/request/headers/X-Id", "a header value"),
    ("response-is-a-list", lambda d: _first(d).__setitem__("response", []), "/interactions/0/response",
     "expected the HTTP response, an object with 'status'"),
    ("response-missing", lambda d: _first(d).pop("response"), "/interactions/0", "missing required key 'response'"),
    ("status-is-text", lambda d: _first(d)["response"].__setitem__("status", "200"),
     "/interactions/0/response/status", "an HTTP status (100-599)"),
    ("status-out-of-range", lambda d: _first(d)["response"].__setitem__("status", 999),
     "/interactions/0/response/status", "999"),
    ("interactions-is-an-object", lambda d: d.__setitem__("interactions", {"a": 1}), "/interactions",
     "expected a list of interaction objects"),
    ("interaction-is-a-string", lambda d: d["interactions"].append("hi"), "/interactions/",
     "expected an interaction object"),
    ("description-missing", lambda d: _first(d).pop("description"), "/interactions/0",
     "missing required key 'description'"),
    ("unknown-interaction-type", lambda d: _first(d).__setitem__("type", "Synchronous/Carrier-Pigeon"),
     "/interactions/0/type", "one of Synchronous/HTTP"),
    ("provider-states-is-an-object", lambda d: _first(d).__setitem__("providerStates", {"name": "x"}),
     "/interactions/0/providerStates", "a list of {name, params} objects"),
    ("v3-messages-without-contents", lambda d: d.__setitem__("messages", [{"description": "m"}]), "/messages/0",
     "missing required key 'contents'"),
]


def _broken(document: dict[str, Any], breaks: Callable[[dict[str, Any]], Any]) -> str:
    copied = copy.deepcopy(document)
    breaks(copied)
    return json.dumps(copied, indent=2)


@pytest.mark.parametrize(("breaks", "pointer", "says"), [row[1:] for row in HTTP_ROWS],
                         ids=[row[0] for row in HTTP_ROWS])
def test_verify_refuses_a_malformed_pact(tmp_path: Path, breaks: Callable[[dict[str, Any]], Any], pointer: str,
                                         says: str) -> None:
    pact = tmp_path / "bad-pact.json"
    pact.write_text(_broken(HTTP_PACT, breaks), encoding="utf-8")
    result = cli("verify", "--pact", pact, "--provider-base-url", NOBODY)
    assert_refused(result, code=2, names="bad-pact.json", says=says)
    assert f"({pointer}" in result.text and "malformed pact" in result.text, result.text


def test_a_malformed_pact_in_a_folder_is_refused_too(tmp_path: Path) -> None:
    (tmp_path / "good.json").write_text(json.dumps(HTTP_PACT), encoding="utf-8")
    (tmp_path / "broken.json").write_text(_broken(HTTP_PACT, lambda d: _first(d).__setitem__("request", "x")),
                                          encoding="utf-8")
    result = cli("verify", "--pact", tmp_path, "--provider-base-url", NOBODY)
    assert_refused(result, code=2, names="broken.json", says="(/interactions/0/request")


MESSAGE_ROWS: list[tuple[str, Callable[[dict[str, Any]], Any], str, str]] = [
    ("message-without-contents", lambda d: _first(d).pop("contents"), "/interactions/0",
     "missing required key 'contents'"),
    ("interactions-is-text", lambda d: d.__setitem__("interactions", "x"), "/interactions",
     "expected a list of interaction objects"),
    ("message-is-a-number", lambda d: d["interactions"].__setitem__(0, 5), "/interactions/0",
     "expected an interaction object"),
    ("metadata-is-a-list", lambda d: _first(d).__setitem__("metadata", []), "/interactions/0/metadata",
     "expected an object"),
    ("sync-message-response-not-a-list", lambda d: d["interactions"].append(
        {"type": "Synchronous/Messages", "description": "s", "request": {"contents": {}}, "response": {}}),
     "/interactions/", "a list of response message objects"),
]


@pytest.mark.parametrize(("breaks", "pointer", "says"), [row[1:] for row in MESSAGE_ROWS],
                         ids=[row[0] for row in MESSAGE_ROWS])
def test_verify_flow_refuses_a_malformed_message_pact(tmp_path: Path, breaks: Callable[[dict[str, Any]], Any],
                                                      pointer: str, says: str) -> None:
    pact = tmp_path / "bad-messages.json"
    pact.write_text(_broken(MESSAGE_PACT, breaks), encoding="utf-8")
    result = cli("contracts", "verify-flow", "--pact", pact, "--scenarios", ROOT / "scenarios" / "hospitality")
    assert_refused(result, code=2, names="bad-messages.json", says=says)
    assert f"({pointer}" in result.text, result.text


def test_the_committed_pacts_have_a_valid_shape() -> None:
    from harness.contracts.pact_shape import read_checked_pact

    for path in sorted(PACTS.glob("*.json")):
        read_checked_pact(path)  # raises on a malformed file


# --- consumer and provider names ------------------------------------------------------------------------

# (row id, consumer, provider, what the message says)
NAME_ROWS = [
    ("consumer-climbs-out", "../escape", "contact-center", "consumer name '../escape' contains '/'"),
    ("provider-climbs-out", "hospitality-http", "../../etc/evil", "provider name '../../etc/evil' contains '/'"),
    ("consumer-is-absolute", "/tmp/evil", "contact-center", "contains '/'"),
    ("consumer-is-dot-dot", "..", "contact-center", "is '..' or starts with '.'"),
    ("consumer-has-a-backslash", "a\\\\b", "contact-center", "contains '\\\\'"),
    ("consumer-has-a-nul", "a\\0b", "contact-center", "control character"),
    ("consumer-has-a-newline", "a\\nb", "contact-center", "control character"),
    ("consumer-is-a-drive", "C:evil", "contact-center", "contains ':'"),
    ("consumer-too-long", "x" * 150, "contact-center", "is 150 bytes long; at most 100"),
    ("consumer-is-hidden", ".pact-write", "contact-center", "starts with '.'"),
]


@pytest.mark.parametrize(("consumer", "provider", "says"), [row[1:] for row in NAME_ROWS],
                         ids=[row[0] for row in NAME_ROWS])
def test_a_pact_name_that_would_leave_the_pact_folder_is_refused(tmp_path: Path, consumer: str, provider: str,
                                                                 says: str) -> None:
    text = (f"bot: {TINY_BOT.as_posix()}\n"
            "contracts:\n  http:\n    pact_dir: pacts\n"
            f"    consumer: \"{consumer}\"\n    provider: \"{provider}\"\n"
            "scenarios:\n  - name: named\n    turns:\n      - user: hello\n        expect: {task: greet}\n")
    before = set(tmp_path.parent.iterdir())
    result, document, _ = run_suite_beside(tmp_path, "named.scenario.yaml", text)
    # The failure of that one scenario, the name's place in the file named; nothing written anywhere.
    role = "provider" if provider != "contact-center" else "consumer"
    line = 5 if role == "consumer" else 6
    assert_refused(result, code=1, names="named.scenario.yaml", line=line, says=says)
    assert f"/contracts/http/{role}" in result.text
    bad = [c for c in document["cases"] if c["file"].endswith("named.scenario.yaml")]
    assert bad and bad[0]["status"] == "error", bad
    assert not (tmp_path / "pacts").exists()
    assert set(tmp_path.parent.iterdir()) == before


@pytest.mark.parametrize(("consumer", "says"), [
    ("../../outside", "contains '/'"),
    ("", "must be a non-empty string"),
    ("x" * 101, "at most 100"),
], ids=["climbs-out", "empty", "too-long"])
def test_generate_refuses_a_schema_whose_pact_names_leave_the_folder(tmp_path: Path, consumer: str,
                                                                      says: str) -> None:
    schema = json.loads(FLEX_SCHEMA.read_text(encoding="utf-8"))
    schema["x-pact"]["consumer"] = consumer
    path = tmp_path / "attributes.schema.json"
    path.write_text(json.dumps(schema), encoding="utf-8")
    result = cli("contracts", "generate", "--schema", path, "--pact-dir", tmp_path / "pacts")
    assert_refused(result, code=2, names="attributes.schema.json", says=says)
    assert "/x-pact/consumer" in result.text
    assert list(tmp_path.rglob("*.json")) == [path]


def test_the_writer_api_refuses_a_bad_name_without_a_file(tmp_path: Path) -> None:
    from harness.contracts.consumer import HandoffPactWriter
    from harness.errors import UsageError

    with pytest.raises(UsageError, match=r"from HandoffPactWriter\(consumer, provider\)"):
        HandoffPactWriter(tmp_path, "../x", "provider")
