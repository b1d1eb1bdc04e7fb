"""GET Action URLs: X-Twilio-Signature validates against the URL exactly as requested (issue 10, row 2).

Source: the signature is an HMAC over the full URL (then the sorted POST parameters; a GET has none) —
https://www.twilio.com/docs/usage/security, twilio-node `validateRequest` (…/shared/reference/autopilot.md
§4.6). For a GET every parameter is in the URL's query, so the URL must be signed exactly as requested,
parameters in the order sent. A server that validates the URL it received must pass.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from flask import Flask, Response, request
from twilio.request_validator import RequestValidator

from harness.engines.autopilot.webhooks import WebhookClient
from harness.engines.twilio.server import LocalServer
from harness.engines.twilio.urlmap import UrlMap

pytestmark = pytest.mark.network

TOKEN = "secret-token"
PROD = "https://hotel-1234.twil.io"
# Not in sorted order, and with characters that need encoding: sorting or re-encoding breaks the signature.
PARAMS = {"UserIdentifier": "+15555550123", "CurrentInput": "3 towels & soap", "AccountSid": "AC1",
          "Memory": "{}", "CurrentTask": "get_quantity"}


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    app = Flask(__name__)
    app.config["seen"] = []

    @app.route("/next", methods=["GET"])
    def next_step() -> Response:
        app.config["seen"].append({"query": request.environ.get("QUERY_STRING", ""),
                                   "signature": request.headers.get("X-Twilio-Signature", "")})
        return Response(json.dumps({"actions": [{"say": "ok"}]}), mimetype="application/json")

    with LocalServer(app) as running:
        yield running


@pytest.mark.parametrize("path", ["/next", "/next?step=2&a=1"])
def test_the_signature_validates_against_the_requested_url(server: LocalServer, path: str) -> None:
    client = WebhookClient(url_map=UrlMap({PROD: server.base_url}), auth_token=TOKEN, timeout=2)
    client.call("redirect", f"{PROD}{path}", "GET", PARAMS)
    seen = server.app.config["seen"][-1]  # type: ignore[attr-defined]
    query = seen["query"]
    # The URL's own query first, then the parameters in the order Autopilot sent them (Memory left out).
    names = [pair.split("=", 1)[0] for pair in query.split("&")]
    own = ["step", "a"] if "?" in path else []
    assert names == [*own, "UserIdentifier", "CurrentInput", "AccountSid", "CurrentTask"]
    requested = f"{PROD}/next?{query}"
    assert RequestValidator(TOKEN).validate(requested, {}, seen["signature"])
