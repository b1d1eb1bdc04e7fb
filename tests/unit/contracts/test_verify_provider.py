"""`contracts verify` against a provider: fail-fast state changes, honest messages for unreachable and slow
providers, redirects through the size guard, folders holding message pacts, range-checked and custom
header options, the committed handoff schema."""

from __future__ import annotations

import json
import time

import pytest
from flask import Flask, jsonify, redirect, request

from examples.contact_center import create_app
from examples.contact_center.app import SCHEMA_PATH
from harness.cli import main
from harness.contracts.verify import parse_headers, verify
from harness.engines.twilio.server import LocalServer
from harness.errors import UsageError
from tests.unit.contracts.handoffs import HANDOFF_SCHEMA, PACTS, ROOT

HTTP_PACT = PACTS / "hospitality-http-contact-center.json"


def test_failing_state_change_url_fails_fast_naming_url_and_status() -> None:
    app, calls = create_app(), []

    @app.post("/_pact/state")
    def state_change():
        calls.append(request.get_json())
        return jsonify({"error": "db down"}), 500

    with LocalServer(app) as server:
        started = time.monotonic()
        state_url = server.url("/_pact/state")
        result = verify(HTTP_PACT, server.url("/"), state_change_url=state_url)
    assert time.monotonic() - started < 5  # Pact alone retries with backoff for minutes
    assert not result.ok and not result.interactions and len(calls) == 1
    text = result.render()
    assert f"state-change URL {state_url} answered 500" in text
    assert "hand-offs are accepted" in text


def test_unreachable_provider_says_so_instead_of_a_made_up_status() -> None:
    result = verify(HTTP_PACT, "http://127.0.0.1:1")
    assert not result.ok and not result.interactions
    text = result.render()
    assert "http://127.0.0.1:1 cannot be reached" in text and "502" not in text


def test_slow_provider_fails_with_timeout_naming_the_provider_not_the_proxy() -> None:
    slow = Flask("slow")

    @slow.route("/", methods=["GET"])
    def health():
        return "ok"

    @slow.post("/api/handoffs")
    def handoff():
        time.sleep(1.5)
        return jsonify({"ticket_id": "T-1"}), 201

    with LocalServer(slow) as server:
        endpoint = server.url("/api/handoffs")
        result = verify(HTTP_PACT, server.url("/"), timeout_ms=500)
    assert not result.ok and len(result.interactions) == 2
    problems = result.problems
    assert all(p.rule == "provider.transport" for p in problems) and len(problems) == 2
    assert "did not answer within 500 ms (timeout)" in problems[0].message
    assert endpoint in problems[0].message


def test_redirect_cannot_skip_the_size_check() -> None:
    app = Flask("redirecting")

    @app.post("/api/handoffs")
    def moved():
        return redirect("http://" + request.host + "/api/handoffs/", code=308)

    @app.post("/api/handoffs/")
    def big():
        return jsonify({"ticket_id": "T-1", "padding": "x" * 70_000}), 201

    with LocalServer(app) as server:
        result = verify(HTTP_PACT, server.url("/"))
    assert not result.ok
    assert any(p.rule == "provider.size" for p in result.problems), result.render()


def test_folder_with_message_pacts_verifies_the_http_pact_without_provider(contact_center_url) -> None:
    # contracts/pacts holds the message pact too; verify cannot check it, so it is skipped in a folder.
    result = verify(PACTS, contact_center_url)
    assert result.ok, result.render()
    assert result.provider == "contact-center" and result.pact_files == [str(HTTP_PACT)]


@pytest.fixture
def contact_center_url():
    with LocalServer(create_app()) as server:
        yield server.url("/")


@pytest.mark.parametrize("value", ["-5", "0", "abc"])
def test_timeout_ms_out_of_range_is_exit_2(value: str, capsys) -> None:
    assert main(["verify", "--pact", str(HTTP_PACT), "--provider-base-url", "http://127.0.0.1:1",
                 "--timeout-ms", value]) == 2
    assert "--timeout-ms" in capsys.readouterr().err


def test_header_option_reaches_the_provider(capsys) -> None:
    app, seen = create_app(), []

    @app.before_request
    def require_token():
        if request.path == "/api/handoffs":
            seen.append(request.headers.get("Authorization"))
            if request.headers.get("Authorization") != "Bearer s3cret":
                return jsonify({"error": "unauthorized"}), 401
        return None

    with LocalServer(app) as server:
        assert main(["verify", "--pact", str(HTTP_PACT), "--provider-base-url", server.url("/")]) == 1
        assert main(["verify", "--pact", str(HTTP_PACT), "--provider-base-url", server.url("/"),
                     "--header", "Authorization=Bearer s3cret", "--json"]) == 0
        out = capsys.readouterr().out
        assert "s3cret" not in out and "Bearer s3cret" in seen
        assert main(["verify", "--pact", str(HTTP_PACT), "--provider-base-url", server.url("/"),
                     "--header", "no-equals-sign"]) == 2


def test_parse_headers() -> None:
    assert parse_headers(["X-Api-Key=a=b", "Authorization=Bearer t"]) == {
        "X-Api-Key": "a=b", "Authorization": "Bearer t"}
    for bad in ("=v", "Bad Name=v", "X=a\nb"):
        with pytest.raises(UsageError, match="NAME=VALUE"):
            parse_headers([bad])


def test_handoff_schema_has_one_home_in_contracts() -> None:
    expected = ROOT / "contracts" / "schemas" / "handoff.schema.json"
    assert SCHEMA_PATH == expected == HANDOFF_SCHEMA and expected.is_file()
    assert not (ROOT / "examples" / "contact_center" / "handoff.schema.json").exists()
    scenario = (ROOT / "scenarios" / "hospitality" / "http.scenario.yaml").read_text()
    assert "body_schema: ../../contracts/schemas/handoff.schema.json" in scenario
    assert "contact_center/handoff" not in scenario
    json.loads(expected.read_text())
    assert "contracts/schemas/handoff.schema.json" in (ROOT / "contracts" / "README.md").read_text()
