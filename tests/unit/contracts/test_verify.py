"""Provider verification against the example contact center and mutated copies of it; the verify CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from flask import Flask, jsonify, request

from examples.contact_center import create_app
from harness.cli import main
from harness.contracts.verify import verify
from harness.engines.twilio.server import LocalServer
from harness.errors import LoadError, UsageError
from tests.unit.contracts.handoffs import PACTS

pytestmark = pytest.mark.network
HTTP_PACT = PACTS / "hospitality-http-contact-center.json"
FLEX_PACT = PACTS / "contact-center-hospitality-flex.json"


@pytest.fixture(scope="module")
def contact_center():
    with LocalServer(create_app()) as server:
        yield server.url("/")


def mutant(answer) -> Flask:
    """A contact center whose POST /api/handoffs answers `answer(payload)` → (body, status)."""
    app = Flask("mutant")

    @app.post("/api/handoffs")
    def receive():
        body, status = answer(request.get_json())
        return jsonify(body), status

    return app


def verify_app(app: Flask, pact=HTTP_PACT, **options):
    with LocalServer(app) as server:
        return verify(pact, server.url("/"), **options)


def test_example_contact_center_verifies_green(contact_center: str) -> None:
    result = verify(PACTS, contact_center, provider="contact-center")
    assert result.ok, result.render()
    # One interaction per HTTP scenario of scenarios/hospitality/http.scenario.yaml (the pact's source).
    assert len(result.interactions) == 2 and result.pact_files == [str(HTTP_PACT)]
    assert "contract verified: 2/2" in result.render()


@pytest.mark.parametrize(("name", "answer", "path", "words"), [
    ("field dropped", lambda p: ({"status": "queued", "queue": "Concierge"}, 201), "$.ticket_id", "missing"),
    ("field renamed", lambda p: ({"ticketId": "T-1", "status": "queued"}, 201), "$.ticket_id", "missing"),
    ("wrong status", lambda p: ({"ticket_id": "T-1"}, 500), "status",
     "expected a 2xx status (the pact records 201), got 500"),
    ("ticket id a number", lambda p: ({"ticket_id": 1}, 201), "$.ticket_id", "String"),
])
def test_mutated_contact_center_verifies_red_naming_the_field(name, answer, path, words) -> None:
    result = verify_app(mutant(answer))
    assert not result.ok
    assert all(not i.ok for i in result.interactions) and len(result.interactions) == 2
    problems = result.interactions[0].problems
    assert any(p.path == path and words in p.message for p in problems), result.render()
    assert f"    {path}: " in result.render()


def test_provider_that_renamed_a_request_field_fails() -> None:
    # The vendor now insists on "guestAddress": our requests break its contract (422 instead of 201).
    def answer(payload):
        if "guestAddress" not in payload:
            return {"error": "invalid_handoff", "field": "guestAddress"}, 422
        return {"ticket_id": "T-1"}, 201

    result = verify_app(mutant(answer))
    assert not result.ok
    assert any(p.path == "status" and "got 422" in p.message for p in result.problems)


def test_state_change_url_receives_the_provider_state() -> None:
    app, states = create_app(), []

    @app.post("/_pact/state")
    def state_change():
        states.append(request.get_json())
        return jsonify({})

    with LocalServer(app) as server:
        result = verify(HTTP_PACT, server.url("/"), state_change_url=server.url("/_pact/state"))
    assert result.ok, result.render()
    assert {"state": "hand-offs are accepted", "action": "setup"}.items() <= states[0].items()


def test_nothing_verified_is_a_failure(tmp_path: Path, contact_center: str) -> None:
    empty = verify(tmp_path, contact_center)
    assert not empty.ok and "no pact files" in empty.render()
    wrong = verify(PACTS, contact_center, provider="crm")  # a directory with no pact for this provider
    assert not wrong.ok and "no pact for provider 'crm'" in wrong.render() and not wrong.interactions
    named = verify(HTTP_PACT, contact_center, provider="crm")  # a file named explicitly
    assert not named.ok and "not 'crm'" in named.render()
    no_interactions = tmp_path / "a-contact-center.json"
    no_interactions.write_text(json.dumps({"consumer": {"name": "a"}, "provider": {"name": "contact-center"},
                                           "interactions": []}))
    assert "no interactions" in verify(no_interactions, contact_center).render()
    messages = verify(FLEX_PACT, contact_center)  # a message pact cannot be verified over HTTP
    assert not messages.ok and "message interaction" in messages.render()


def test_bad_input_raises(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="no such pact file"):
        verify(tmp_path / "missing.json", "http://127.0.0.1:1")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(LoadError, match="not valid JSON"):
        verify(broken, "http://127.0.0.1:1")
    with pytest.raises(UsageError, match="http"):
        verify(HTTP_PACT, "127.0.0.1:8080")
    with pytest.raises(UsageError, match="positive"):
        verify(HTTP_PACT, "http://127.0.0.1:1", timeout_ms=0)


def test_verify_cli_exit_codes(tmp_path: Path, contact_center: str, capsys) -> None:
    assert main(["verify", "--pact", str(HTTP_PACT), "--provider-base-url", contact_center]) == 0
    assert "contract verified: 2/2" in capsys.readouterr().out

    with LocalServer(mutant(lambda p: ({"ticket_id": "T-1"}, 500))) as server:
        assert main(["verify", "--pact", str(HTTP_PACT), "--provider-base-url", server.url("/"),
                     "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["interactions"][0]["problems"][0]["path"] == "status"

    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["verify", "--pact", str(empty), "--provider-base-url", contact_center]) == 1
    assert main(["verify", "--pact", str(PACTS), "--provider-base-url", contact_center,
                 "--provider", "someone-else"]) == 1
    assert main(["verify", "--pact", str(tmp_path / "nope"), "--provider-base-url", contact_center]) == 2
    assert "no such pact file" in capsys.readouterr().err
    assert main(["verify", "--pact", str(HTTP_PACT)]) == 2  # argparse: --provider-base-url is required
    shutil.copy(HTTP_PACT, empty / HTTP_PACT.name)
    assert main(["verify", "--pact", str(empty), "--provider-base-url", "ftp://x"]) == 2
