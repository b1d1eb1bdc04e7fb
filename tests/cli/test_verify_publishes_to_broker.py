"""`verify --broker-url … --publish --provider-version …`: the vendor verifies the pacts a Pact Broker
serves and pact's own verifier publishes the results back (pb:publish-verification-results), never a
hand-made request. A fake broker, a small WSGI app on 127.0.0.1, records what it is sent; no real broker.

The broker's API as pact's verifier walks it (HAL links): the index's `pb:provider-pacts-for-verification`,
the pact's `pb:publish-verification-results` and `pb:provider` (branch and tag of the provider version).
Reference: https://docs.pact.io/pact_broker/advanced_topics/provider_verification_results."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask, jsonify, request

from examples.contact_center import create_app
from harness.cli import main
from harness.engines.twilio.server import LocalServer
from tests.unit.contracts.handoffs import PACTS

pytestmark = pytest.mark.network  # the broker and the contact center listen on 127.0.0.1

PACT = json.loads((PACTS / "hospitality-http-contact-center.json").read_text(encoding="utf-8"))
PROVIDER = "contact-center"


@dataclass
class FakeBroker:
    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    publish_status: int = 201

    def published(self) -> list[dict[str, Any]]:
        return [r["json"] for r in self.requests if r["path"].endswith("/verification-results")]


def broker_app(state: FakeBroker) -> Flask:
    app = Flask("fake-pact-broker")
    pact_path = f"/pacts/provider/{PROVIDER}/consumer/hospitality-http/pact-version/abc123"

    def base() -> str:
        return request.host_url.rstrip("/")

    @app.before_request
    def record() -> None:
        state.requests.append({"method": request.method, "path": request.path,
                               "auth": request.headers.get("Authorization"),
                               "json": request.get_json(silent=True)})

    @app.get("/")
    def index() -> Any:
        return jsonify({"_links": {"pb:provider-pacts-for-verification": {
            "href": base() + "/pacts/provider/{provider}/for-verification", "templated": True}}})

    @app.route("/pacts/provider/<provider>/for-verification", methods=["GET", "POST"])
    def for_verification(provider: str) -> Any:
        if request.method == "GET":
            return jsonify({"_links": {"self": {"href": base() + request.path}}})
        pacts = [] if provider != PROVIDER else [{
            "shortDescription": "latest from main", "verificationProperties": {"pending": False, "notices": []},
            "_links": {"self": {"href": base() + pact_path, "name": "Pact between hospitality-http and "
                                                                    "contact-center"}}}]
        return jsonify({"_embedded": {"pacts": pacts}})

    @app.get(pact_path)
    def pact() -> Any:
        return jsonify({**PACT, "_links": {
            "pb:provider": {"href": base() + f"/pacticipants/{PROVIDER}"},
            "pb:publish-verification-results": {"href": base() + pact_path + "/verification-results"}}})

    @app.get(f"/pacticipants/{PROVIDER}")
    def pacticipant() -> Any:
        root = base() + f"/pacticipants/{PROVIDER}"
        return jsonify({"name": PROVIDER, "_links": {
            "self": {"href": root},
            "pb:branch-version": {"href": root + "/branches/{branch}/versions/{version}", "templated": True},
            "pb:version-tag": {"href": root + "/versions/{version}/tags/{tag}", "templated": True}}})

    @app.put(f"/pacticipants/{PROVIDER}/<path:rest>")
    def version_detail(rest: str) -> Any:
        return jsonify({"_links": {"self": {"href": base() + request.path}}}), 201

    @app.post(pact_path + "/verification-results")
    def results() -> Any:
        if state.publish_status >= 400:
            return jsonify({"errors": ["the broker is read-only today"]}), state.publish_status
        return jsonify({"success": True, "_links": {"self": {"href": base() + request.path}}}), 201

    return app


@pytest.fixture
def broker() -> Iterator[FakeBroker]:
    state = FakeBroker()
    with LocalServer(broker_app(state)) as server:
        state.url = server.url("/").rstrip("/")
        yield state


@pytest.fixture
def provider_url() -> Iterator[str]:
    with LocalServer(create_app()) as server:
        yield server.url("/")


def verify(*args: str) -> int:
    return main(["verify", "--provider", PROVIDER, *args])


def test_results_are_published_by_pacts_verifier(broker: FakeBroker, provider_url: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code = verify("--broker-url", broker.url, "--provider-base-url", provider_url, "--publish",
                  "--provider-version", "1.2.3", "--provider-branch", "main", "--provider-tag", "prod",
                  "--build-url", "https://ci.example/builds/7")
    out = capsys.readouterr().out
    assert code == 0, out
    [published] = broker.published()
    assert published["providerApplicationVersion"] == "1.2.3" and published["success"] is True
    assert published["buildUrl"] == "https://ci.example/builds/7"
    puts = {r["path"] for r in broker.requests if r["method"] == "PUT"}
    assert puts == {f"/pacticipants/{PROVIDER}/branches/main/versions/1.2.3",
                    f"/pacticipants/{PROVIDER}/versions/1.2.3/tags/prod"}
    assert "2/2 interactions passed" in out
    assert f"verification results published to {broker.url} as provider version 1.2.3" in out


def test_a_failed_verification_is_published_as_failed(broker: FakeBroker, capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    app = create_app()

    @app.before_request
    def refuse() -> Any:
        return jsonify({"error": "down"}), 503

    with LocalServer(app) as server:
        assert verify("--broker-url", broker.url, "--provider-base-url", server.url("/"), "--publish",
                      "--provider-version", "1.2.4") == 1
    [published] = broker.published()
    assert published["success"] is False and published["providerApplicationVersion"] == "1.2.4"


def test_a_refused_publication_fails_the_run(broker: FakeBroker, provider_url: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    broker.publish_status = 403  # a 5xx is retried by pact with backoff for about two minutes
    assert verify("--broker-url", broker.url, "--provider-base-url", provider_url, "--publish",
                  "--provider-version", "1.2.5") == 1
    out = capsys.readouterr().out
    assert f"publishing the verification results to {broker.url} failed" in out
    assert "verification results published" not in out


def test_without_publish_nothing_is_published(broker: FakeBroker, provider_url: str) -> None:
    assert verify("--broker-url", broker.url, "--provider-base-url", provider_url) == 0
    assert broker.published() == [] and not [r for r in broker.requests if r["method"] == "PUT"]


def test_the_token_comes_from_the_environment_and_is_never_printed(
        broker: FakeBroker, provider_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PACT_BROKER_TOKEN", "s3cr3t-token")
    monkeypatch.setenv("PACT_BROKER_BASE_URL", broker.url)  # the broker from the environment too
    assert verify("--provider-base-url", provider_url, "--publish", "--provider-version", "1.2.6",
                  "--json") == 0
    assert {r["auth"] for r in broker.requests} == {"Bearer s3cr3t-token"}
    assert "s3cr3t" not in capsys.readouterr().out


@pytest.mark.parametrize(("args", "says"), [
    (["--pact", str(PACTS / "hospitality-http-contact-center.json"), "--publish", "--provider-version", "1"],
     "--publish needs --broker-url"),
    (["--broker-url", "http://127.0.0.1:1", "--publish"], "--publish needs --provider-version"),
    (["--broker-url", "http://127.0.0.1:1", "--provider-version", "1"], "only apply with --publish"),
    (["--broker-url", "not a url"], "--broker-url must be an http(s) URL"),
    ([], "no pacts"),
])
def test_options_that_cannot_work_are_bad_input(args: list[str], says: str, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("PACT_BROKER_BASE_URL", raising=False)
    assert verify("--provider-base-url", "http://127.0.0.1:1", *args) == 2
    assert says in capsys.readouterr().err


def test_the_broker_url_needs_a_provider(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--broker-url", "http://127.0.0.1:1", "--provider-base-url", "http://127.0.0.1:1"]) == 2
    assert "--broker-url needs --provider" in capsys.readouterr().err
