"""Hostile inputs: bytes that are not UTF-8 text, and JSON Schemas the kit cannot use (issue 9).

Files are UTF-8 (a leading BOM is dropped): Latin-1 bytes, UTF-16/32, NUL bytes and binary files are refused
with the file, line and column of the first bad byte, exit 2, never a UnicodeDecodeError traceback. A user's
JSON Schema that is invalid, or whose `$ref` points outside the schema, is refused (remote references are
never fetched).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from harness.engines.studio.http import perform
from harness.engines.twilio.server import LocalServer
from harness.errors import LoadError
from harness.models.actions import json_schema_problem
from harness.sources import decode_text
from tests.conftest import ROOT
from tests.hostile.kit import TINY_BOT, assert_refused, cli, run_suite_beside

BOT = TINY_BOT.as_posix()
SCENARIO = f"bot: {BOT}\nscenarios:\n  - name: café\n    turns:\n      - user: hello\n        expect: {{task: greet}}\n"


def _at(text: str, needle: str) -> int:
    return text.count("\n", 0, text.index(needle)) + 1


# --- scenario and part files -------------------------------------------------------------------------------

ENCODED_SCENARIO_ROWS = [
    # (id, bytes, line named or None, what the message says)
    ("latin-1", SCENARIO.encode("latin-1"), _at(SCENARIO, "café"), "not UTF-8 text"),
    ("cp1252 quote", SCENARIO.replace("café", "caf\u2019").encode("cp1252"), 3, "not UTF-8 text"),
    ("utf-16 le bom", SCENARIO.encode("utf-16"), 1, "UTF-16"),
    ("utf-16 be bom", b"\xfe\xff" + SCENARIO.encode("utf-16-be"), 1, "UTF-16"),
    ("utf-16 le no bom", SCENARIO.encode("utf-16-le"), 1, "UTF-16"),
    ("utf-16 be no bom", SCENARIO.encode("utf-16-be"), 1, "UTF-16"),
    ("utf-32", SCENARIO.encode("utf-32"), 1, "UTF-16 or UTF-32"),
    ("nul in the middle", SCENARIO.replace("hello", "hel\x00lo").encode(), 5, "NUL"),
    ("binary", bytes(range(256)) * 4, 1, "not UTF-8"),
    ("png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), 1, "not UTF-8"),
    ("truncated utf-8", SCENARIO.encode()[:SCENARIO.encode().index("café".encode()) + 4], 3, "not UTF-8 text"),
    ("lone surrogate bytes", SCENARIO.replace("hello", "x").encode() + b"\xed\xa0\x80\n", 7, "not UTF-8 text"),
]


@pytest.mark.parametrize(("data", "line", "says"), [row[1:] for row in ENCODED_SCENARIO_ROWS],
                         ids=[row[0] for row in ENCODED_SCENARIO_ROWS])
def test_scenario_file_bytes(tmp_path: Path, data: bytes, line: int, says: str) -> None:
    result, document, _ = run_suite_beside(tmp_path, "bad.scenario.yaml", data)
    assert_refused(result, names="bad.scenario.yaml", line=line, says=says)
    assert any(case["file"].endswith("bad.scenario.yaml") and case["status"] == "error"
               for case in document["cases"])


@pytest.mark.parametrize("data", [SCENARIO.encode("utf-8-sig")], ids=["utf-8 bom"])
def test_utf8_with_bom_is_fine(tmp_path: Path, data: bytes) -> None:
    result, document, _ = run_suite_beside(tmp_path, "bom.scenario.yaml", data)
    assert result.code == 0, result.text
    assert all(case["status"] == "passed" for case in document["cases"])


@pytest.mark.parametrize(("data", "line"), [("turns:\n  - user: café\n".encode("latin-1"), 2),
                                            ("turns:\n  - user: hi\n".encode("utf-16"), 1),
                                            (b"turns:\n  - user: h\x00i\n", 2)],
                         ids=["latin-1", "utf-16", "nul"])
def test_part_file_bytes(tmp_path: Path, data: bytes, line: int) -> None:
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "bad.yaml").write_bytes(data)
    text = f"bot: {BOT}\nscenarios:\n  - name: a\n    turns:\n      - include: parts/bad.yaml\n"
    result, _, _ = run_suite_beside(tmp_path, "uses.scenario.yaml", text)
    assert_refused(result, names="bad.yaml", line=line)


# --- assistant, flow, Actions JSON (lint and run) ----------------------------------------------------------

def _bot() -> str:
    return TINY_BOT.read_text(encoding="utf-8").replace('"Hello!"', '"Héllo!"')


def _flow() -> str:
    return (ROOT / "examples" / "hospitality" / "flows" / "chat_flex.json").read_text(encoding="utf-8")


JSON_FILE_ROWS = [
    ("assistant latin-1", "bot.json", _bot().encode("latin-1"), _at(_bot(), "Héllo")),
    ("assistant utf-16", "bot.json", _bot().encode("utf-16"), 1),
    ("assistant nul", "bot.json", _bot().replace('"tiny"', '"ti\x00ny"').encode(), 2),
    ("assistant binary", "bot.json", bytes(range(255, -1, -1)) * 8, 1),
    ("flow latin-1", "flow.json", _flow().replace('"Trigger"', '"Trigger é"').encode("latin-1"),
     _at(_flow(), '"Trigger"')),
    ("flow utf-16 be", "flow.json", _flow().encode("utf-16-be"), 1),
    ("actions latin-1", "actions.json", '{"actions": [\n {"say": "Olá"}]}'.encode("latin-1"), 2),
    ("actions nul", "actions.json", b'{"actions": [\n {"say": "\x00"}]}', 2),
]


@pytest.mark.parametrize(("name", "data", "line"), [row[1:] for row in JSON_FILE_ROWS],
                         ids=[row[0] for row in JSON_FILE_ROWS])
def test_json_file_bytes_lint(tmp_path: Path, name: str, data: bytes, line: int) -> None:
    (tmp_path / name).write_bytes(data)
    assert_refused(cli("lint", tmp_path / name), names=name, line=line)


def test_latin1_bot_through_a_scenario(tmp_path: Path) -> None:
    (tmp_path / "latin.json").write_bytes(_bot().encode("latin-1"))
    text = "bot: latin.json\nscenarios:\n  - name: a\n    turns:\n      - user: hello\n"
    result, _, _ = run_suite_beside(tmp_path, "uses.scenario.yaml", text)
    assert_refused(result, names="latin.json", line=_at(_bot(), "Héllo"), says="not UTF-8 text")


def test_utf16_flow_through_a_scenario(tmp_path: Path) -> None:
    (tmp_path / "wide.json").write_bytes(_flow().encode("utf-16"))
    text = f"bot: {BOT}\nflow: wide.json\nscenarios:\n  - name: a\n    turns:\n      - user: hello\n"
    result, _, _ = run_suite_beside(tmp_path, "uses.scenario.yaml", text)
    assert_refused(result, names="wide.json", line=1, says="UTF-16")


# --- pacts -------------------------------------------------------------------------------------------------

def _pact() -> str:
    return (ROOT / "contracts" / "pacts" / "hospitality-http-contact-center.json").read_text(encoding="utf-8")


PACT_ROWS = [
    ("binary", bytes(range(256)) * 16, 1),
    ("gzip", b"\x1f\x8b\x08\x00" + bytes(100), 1),
    ("utf-16", _pact().encode("utf-16"), 1),
    ("latin-1", _pact().replace("hospitality-http", "hospitalité").encode("latin-1"), 3),
    ("nul", _pact().replace('"sms"', '"s\x00ms"').encode(), _at(_pact(), '"sms"')),
]


@pytest.mark.parametrize(("data", "line"), [row[1:] for row in PACT_ROWS], ids=[row[0] for row in PACT_ROWS])
def test_pact_bytes_verify(tmp_path: Path, data: bytes, line: int) -> None:
    (tmp_path / "bad.json").write_bytes(data)
    result = cli("verify", "--pact", tmp_path / "bad.json", "--provider-base-url", "http://127.0.0.1:9")
    assert_refused(result, names="bad.json", line=line, says="pact file")


def test_binary_pact_in_a_folder_verify_flow(tmp_path: Path) -> None:
    (tmp_path / "pacts").mkdir()
    (tmp_path / "pacts" / "bad.json").write_bytes(bytes(range(256)))
    (tmp_path / "a.scenario.yaml").write_text(SCENARIO, encoding="utf-8")
    result = cli("contracts", "verify-flow", "--pact", tmp_path / "pacts", "--scenarios", tmp_path / "a.scenario.yaml")
    assert_refused(result, names="bad.json", line=1)


# --- nlu-eval --extra files --------------------------------------------------------------------------------

EXTRA_ROWS = [
    ("csv latin-1", "extra.csv", "text,task\ncafé please,greet\n".encode("latin-1"), 2),
    ("csv binary", "extra.csv", bytes(range(256)) * 4, 1),
    ("csv nul", "extra.csv", b"text,task\nhel\x00lo,greet\n", 2),
    ("csv utf-16", "extra.csv", "text,task\nhello,greet\n".encode("utf-16"), 1),
    ("yaml binary", "extra.yaml", b"\x89PNG\r\n\x1a\n" + bytes(32), 1),
    ("yaml latin-1", "extra.yaml", "greet:\n  - café\n".encode("latin-1"), 2),
    ("yaml duplicate task", "extra.yaml", b"greet: [hello]\ngreet: [hi]\n", 2),
]


@pytest.mark.parametrize(("name", "data", "line"), [row[1:] for row in EXTRA_ROWS], ids=[row[0] for row in EXTRA_ROWS])
def test_nlu_eval_extra_file(tmp_path: Path, name: str, data: bytes, line: int) -> None:
    (tmp_path / name).write_bytes(data)
    result = cli("nlu-eval", TINY_BOT, "--extra", tmp_path / name, "--folds", "2")
    assert_refused(result, names=name, line=line)


# --- HTTP answers ------------------------------------------------------------------------------------------

def _serve(body: bytes, content_type: str) -> object:
    def app(environ: dict, start_response: object) -> list[bytes]:
        start_response("200 OK", [("Content-Type", content_type)])  # type: ignore[operator]
        return [body]
    return app


def test_http_answer_with_an_unknown_charset_fails_the_request() -> None:
    with LocalServer(_serve(b'{"a": 1}', "application/json; charset=klingon")) as server, \
            requests.Session() as session:
        outcome = perform(session, "GET", server.url("/x"))
    assert outcome.error is not None and "unknown charset 'klingon'" in outcome.error, outcome


def test_http_answer_in_its_declared_charset_is_parsed() -> None:
    with LocalServer(_serve('{"city": "Zürich"}'.encode("latin-1"), "application/json; charset=iso-8859-1")) \
            as server, requests.Session() as session:
        outcome = perform(session, "GET", server.url("/x"))
    assert outcome.error is None and outcome.parsed == {"city": "Zürich"}, outcome


@pytest.mark.parametrize(("data", "charset", "says"), [
    (b"\xff\xfe{\x00}\x00", "utf-8", "UTF-16"),
    (b'{"a": "\xe9"}', "utf-8", "byte 0xe9"),
    (b"ok", "no-such-charset", "unknown charset"),
    (b'{"a": "\x00"}', "utf-8", "NUL"),
], ids=["utf-16 as utf-8", "latin-1 as utf-8", "unknown charset", "nul"])
def test_decode_text_names_the_problem(data: bytes, charset: str, says: str) -> None:
    with pytest.raises(LoadError, match=says):
        decode_text(data, path="answer", charset=charset)


# --- JSON Schemas in scenarios -----------------------------------------------------------------------------

def _schema_scenario(schema: dict) -> str:
    return (f"bot: {BOT}\nscenarios:\n  - name: schema\n    memory: {{x: 1}}\n    turns:\n      - user: hello\n"
            "        expect:\n          task: greet\n          memory:\n"
            f"            x: {{$schema: {json.dumps(schema)}}}\n")


INLINE_SCHEMA_ROWS = [
    ("invalid type", {"type": 5}, "not a valid JSON Schema"),
    ("invalid required", {"required": "x"}, "not a valid JSON Schema"),
    ("invalid pattern", {"type": "string", "pattern": "("}, "not a valid JSON Schema"),
    ("remote ref", {"$ref": "https://schemas.example.com/x.json"}, "remote references are never fetched"),
    ("relative ref", {"$ref": "other.schema.json#/x"}, "points outside the schema"),
    ("remote ref deep", {"anyOf": [{"type": "integer"}, {"$ref": "http://127.0.0.1:9/x"}]},
     "never fetched"),
    ("remote dynamicRef", {"$dynamicRef": "https://schemas.example.com/meta"}, "never fetched"),
]


@pytest.mark.parametrize(("schema", "says"), [row[1:] for row in INLINE_SCHEMA_ROWS],
                         ids=[row[0] for row in INLINE_SCHEMA_ROWS])
def test_inline_schema_refused(tmp_path: Path, schema: dict, says: str) -> None:
    """An unusable `$schema` errors that scenario (exit 1, run time), naming the file and the expectation's line."""
    result, document, _ = run_suite_beside(tmp_path, "schema.scenario.yaml", _schema_scenario(schema))
    assert "Traceback" not in result.text, result.text
    assert result.code == 1, result.text
    assert "schema.scenario.yaml:10" in result.text and says in result.text, result.text
    bad = [case for case in document["cases"] if case["file"].endswith("schema.scenario.yaml")]
    assert bad and bad[0]["status"] == "error"


def test_a_local_ref_is_fine(tmp_path: Path) -> None:
    schema = {"$defs": {"one": {"const": 1}}, "$ref": "#/$defs/one"}
    result, _, _ = run_suite_beside(tmp_path, "schema.scenario.yaml", _schema_scenario(schema))
    assert result.code == 0, result.text


@pytest.mark.parametrize("schema", [{"type": 5}, {"properties": []}, {"minimum": "0"}],
                         ids=["type", "properties", "minimum"])
def test_invalid_attributes_schema_at_load_time(tmp_path: Path, schema: dict) -> None:
    """A scenario's `attributes_schema` is checked when the file loads: exit 2, the file and line named."""
    text = (f"bot: {BOT}\nscenarios:\n  - name: a\n    turns:\n      - user: hello\n    expect:\n      handoff:\n"
            f"        flex:\n          attributes_schema: {json.dumps(schema)}\n")
    result, _, _ = run_suite_beside(tmp_path, "schema.scenario.yaml", text)
    assert_refused(result, names="schema.scenario.yaml", line=9, says="not a valid JSON Schema")


@pytest.mark.parametrize(("schema", "problem"), [
    ({"type": "object"}, None),
    ({"$ref": "#/$defs/a", "$defs": {"a": {}}}, None),
    ({"properties": {"$ref": {"type": "string"}}}, None),  # a property named `$ref` is not a reference
    ({"$ref": "https://x.example/s"}, "never fetched"),
    ([], "expected a JSON Schema object"),
], ids=["plain", "local ref", "property named $ref", "remote", "not an object"])
def test_json_schema_problem(schema: object, problem: str | None) -> None:
    found = json_schema_problem(schema)
    assert (found is None) if problem is None else (found is not None and problem in found), found


# --- values the YAML constructor itself rejects (found by tests/hostile/test_fuzz_loaders.py) --------------

@pytest.mark.parametrize("clock", ["2024-02-30T09:00:00Z", "2023-13-01", "2024-04-31 25:00:00"],
                         ids=["feb 30", "month 13", "april 31"])
def test_impossible_date_in_a_scenario(tmp_path: Path, clock: str) -> None:
    """PyYAML raised a bare ValueError for an impossible timestamp: now the file and line are named."""
    text = SCENARIO.replace("scenarios:", f"clock: {clock}\nscenarios:", 1)
    result, _, _ = run_suite_beside(tmp_path, "date.scenario.yaml", text)
    assert_refused(result, names="date.scenario.yaml", line=2, says="not a valid date/time")
