"""Issue 10 row 8: HTTP Request URLs with credentials (`https://user:pw@host/…`).

Source: Twilio's Security page, "HTTP authentication" (https://www.twilio.com/docs/usage/security#http-authentication):
"Twilio supports HTTP Basic and Digest Authentication … provide a username and password using the
following URL format: https://username:password@www.myserver.com/my_secure_document". So the widget sends
`Authorization: Basic base64(user:pw)`, and the URL map (production prefix → local server) matches the
host without the user info. The transcript's request record hides the password.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from harness.engines.twilio.server import LocalServer
from tests.unit.engines.studio.fakebot import ScriptedBot
from tests.unit.engines.studio.studio_kit import GUEST, make_env, make_flow, widget

PROD = "https://cc.example.com"


def _echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = json.dumps({"authorization": environ.get("HTTP_AUTHORIZATION"), "path": environ.get("PATH_INFO")})
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body.encode()]


@pytest.fixture(scope="module")
def server() -> Any:
    with LocalServer(_echo) as running:
        yield running


def _request(url: str, server: Any, **props: Any) -> Any:
    flow = make_flow(widget("Call", "make-http-request", [{"event": "success"}, {"event": "failed"}],
                            method="POST", content_type="application/json", url=url, body='{"a": 1}', **props))
    env = make_env({"*": ScriptedBot()}, url_map={PROD: server.base_url})
    return env.load(flow).start("incomingMessage", From=GUEST, Body="hi")


def test_url_credentials_are_sent_as_basic_auth_to_the_mapped_server(server: Any) -> None:
    execution = _request("https://agent:s3cr%40t@cc.example.com/tickets", server)
    assert execution.steps[-1]["event"] == "success"
    answer = execution.widgets["Call"]["parsed"]
    assert answer == {"authorization": "Basic " + base64.b64encode(b"agent:s3cr@t").decode(), "path": "/tickets"}
    [record] = execution.http_requests
    assert record["headers"]["Authorization"] == "Basic agent:***"
    assert record["url"] == "https://agent:***@cc.example.com/tickets"
    assert "s3cr" not in json.dumps(record)


def test_without_credentials_no_authorization_is_sent(server: Any) -> None:
    execution = _request("https://cc.example.com/tickets", server)
    assert execution.widgets["Call"]["parsed"]["authorization"] is None
    assert "Authorization" not in execution.http_requests[0]["headers"]


def test_authenticate_with_twilio_replaces_url_credentials(server: Any) -> None:
    execution = _request("https://agent:pw@cc.example.com/tickets", server, add_twilio_auth=True)
    sent = execution.widgets["Call"]["parsed"]["authorization"]
    assert base64.b64decode(sent.split()[1]).decode().startswith("AC")
    assert execution.http_requests[0]["headers"]["Authorization"].startswith("Basic AC")


def test_an_unmapped_host_with_credentials_is_refused_without_showing_the_password(server: Any) -> None:
    execution = _request("https://agent:s3cret@elsewhere.example.com/x", server)
    assert execution.steps[-1]["event"] == "failed"
    assert "s3cret" not in json.dumps(execution.http_requests) + json.dumps(execution.steps)
