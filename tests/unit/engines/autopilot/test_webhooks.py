"""Webhook requests as Twilio sent them: form POST / GET, the signature, and every bad answer."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from flask import Flask, Response, request
from twilio.request_validator import RequestValidator

from harness.engines.autopilot.webhooks import WebhookClient
from harness.engines.twilio.server import LocalServer
from harness.engines.twilio.urlmap import UrlMap
from harness.errors import WebhookError

pytestmark = pytest.mark.network

TOKEN = "secret-token"
PROD = "https://hotel-1234.twil.io"


def _app() -> Flask:
    app = Flask(__name__)
    app.config["seen"] = []

    @app.route("/echo", methods=["GET", "POST"])
    def echo() -> Response:
        app.config["seen"].append({"method": request.method, "form": request.form.to_dict(),
                                   "args": request.args.to_dict(), "headers": dict(request.headers),
                                   "url": request.url})
        return Response(json.dumps({"actions": [{"say": "hi"}]}), mimetype="application/json")

    @app.route("/status/<int:code>", methods=["POST"])
    def status(code: int) -> Response:
        return Response("boom: database is down", status=code)

    @app.route("/notjson", methods=["POST"])
    def notjson() -> Response:
        return Response("<html>oops</html>", mimetype="text/html")

    @app.route("/badactions", methods=["POST"])
    def badactions() -> Response:
        return Response(json.dumps({"actions": [{"show": {"images": []}}]}), mimetype="application/json")

    @app.route("/slow", methods=["POST"])
    def slow() -> Response:
        time.sleep(1.0)
        return Response("{}", mimetype="application/json")

    @app.route("/validate", methods=["POST"])
    def validate() -> Response:
        return Response(json.dumps({"valid": request.form["ValidateFieldAnswer"] == "ok"}),
                        mimetype="application/json")

    return app


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(_app()) as running:
        yield running


@pytest.fixture
def client(server: LocalServer) -> WebhookClient:
    return WebhookClient(url_map=UrlMap({PROD: server.base_url}), auth_token=TOKEN, timeout=0.5)


PARAMS = {"CurrentInput": "I need towels", "Memory": json.dumps({"twilio": {"sms": {"From": "+1555"}}}),
          "CurrentTask": "get_quantity"}


def _seen(server: LocalServer) -> list[dict]:
    return server.app.config["seen"]  # type: ignore[attr-defined]


def test_post_is_form_encoded_and_signed_over_the_production_url(client: WebhookClient,
                                                                 server: LocalServer) -> None:
    data, record = client.call("actions_url", f"{PROD}/echo", "POST", PARAMS)
    assert data == {"actions": [{"say": "hi"}]}
    seen = _seen(server)[-1]
    assert seen["form"] == PARAMS
    assert seen["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    validator = RequestValidator(TOKEN)
    signature = seen["headers"]["X-Twilio-Signature"]
    assert validator.validate(f"{PROD}/echo", seen["form"], signature)
    tampered = dict(seen["form"], CurrentInput="I need food")
    assert not validator.validate(f"{PROD}/echo", tampered, signature)
    assert not RequestValidator("other-token").validate(f"{PROD}/echo", seen["form"], signature)
    assert record.called == f"{server.base_url}/echo" and record.status == 200


def test_get_sends_no_memory_and_signs_the_query_url(client: WebhookClient, server: LocalServer) -> None:
    client.call("redirect", f"{PROD}/echo", "get", PARAMS)
    seen = _seen(server)[-1]
    assert seen["method"] == "GET" and "Memory" not in seen["args"]
    assert seen["args"]["CurrentInput"] == "I need towels"
    query = seen["url"].split("?", 1)[1]
    assert RequestValidator(TOKEN).validate(f"{PROD}/echo?{query}", {}, seen["headers"]["X-Twilio-Signature"])


def test_signing_can_use_the_local_url_or_be_off(server: LocalServer) -> None:
    local = WebhookClient(url_map=UrlMap({PROD: server.base_url}), auth_token=TOKEN, sign_local_url=True)
    local.call("actions_url", f"{PROD}/echo", "POST", PARAMS)
    seen = _seen(server)[-1]
    assert RequestValidator(TOKEN).validate(seen["url"], seen["form"], seen["headers"]["X-Twilio-Signature"])
    unsigned = WebhookClient(url_map=UrlMap({PROD: server.base_url}), sign=False)
    unsigned.call("actions_url", f"{PROD}/echo", "POST", PARAMS)
    assert "X-Twilio-Signature" not in _seen(server)[-1]["headers"]


@pytest.mark.parametrize(("path", "expected"), [
    ("/status/500", r"answered HTTP 500: boom: database is down"),
    ("/status/404", r"answered HTTP 404"),
    ("/notjson", r"invalid JSON .*<html>oops</html>"),
    ("/badactions", r"invalid Actions JSON \(error 90100\): /actions/0/show: missing required key 'body'"),
    ("/slow", r"no answer within 0.5 s"),
])
def test_bad_answers_name_the_url_status_and_body(client: WebhookClient, server: LocalServer, path: str,
                                                   expected: str) -> None:
    with pytest.raises(WebhookError, match=expected) as caught:
        client.actions("actions_url", f"{PROD}{path}", "POST", PARAMS, task_names=(), field_type_names=())
    assert f"{PROD}{path} (called {server.base_url}{path})" in str(caught.value)


def test_unreachable_host_says_to_map_it() -> None:
    client = WebhookClient(timeout=0.5)
    with pytest.raises(WebhookError) as caught:
        client.call("actions_url", "http://127.0.0.1:9/nothing", "POST", PARAMS)
    assert "connection refused" in str(caught.value)
    assert "--url-map" in (caught.value.hint or "")


def test_validate_webhook_reads_valid(client: WebhookClient) -> None:
    ok, _ = client.validate(f"{PROD}/validate", "POST", {"ValidateFieldAnswer": "ok"})
    bad, _ = client.validate(f"{PROD}/validate", "POST", {"ValidateFieldAnswer": "nope"})
    assert (ok, bad) == (True, False)
    with pytest.raises(WebhookError, match=r'expected \{"valid": true\|false\}'):
        client.validate(f"{PROD}/echo", "POST", {})
