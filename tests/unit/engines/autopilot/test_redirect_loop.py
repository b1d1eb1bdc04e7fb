"""A redirect loop through Action URLs: the error shows the chain of URLs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, Response

from harness.clock import FixedClock
from harness.engines.autopilot.runtime import AutopilotRuntime
from harness.engines.twilio.server import LocalServer
from harness.errors import EngineError
from harness.models.assistant_loader import assistant_from_dict

# --- a redirect loop between URLs names the URLs -----------------------------------------------------


def _loop_app() -> Flask:
    app = Flask(__name__)

    def redirect_to(path: str) -> Response:
        body = {"actions": [{"redirect": {"uri": f"https://x-1.twil.io/{path}", "method": "POST"}}]}
        return Response(json.dumps(body), mimetype="application/json")

    app.add_url_rule("/ping", "ping", lambda: redirect_to("pong"), methods=["POST"])
    app.add_url_rule("/pong", "pong", lambda: redirect_to("ping"), methods=["POST"])
    return app


@pytest.fixture(scope="module")
def loop_server() -> Iterator[LocalServer]:
    with LocalServer(_loop_app()) as server:
        yield server


def _bot(actions: list[dict[str, Any]], url_map: dict[str, str]) -> Any:
    data = {"uniqueName": "loop", "defaults": {"defaults": {"fallback": "task://start"}},
            "tasks": [{"uniqueName": "start", "fields": [], "samples": [{"language": "en-US", "taggedText": "go"}],
                       "actions": {"actions": actions}}]}
    return AutopilotRuntime(clock=FixedClock(), url_map=url_map).train(assistant_from_dict(data))


@pytest.mark.network
def test_url_redirect_loop_shows_the_url_chain(loop_server: LocalServer) -> None:
    bot = _bot([{"redirect": "https://x-1.twil.io/ping"}], {"https://*.twil.io": loop_server.base_url})
    with pytest.raises(EngineError) as caught:
        bot.start().send("go")
    message = caught.value.message
    assert "more than 5 redirects" in message
    assert "https://x-1.twil.io/ping → https://x-1.twil.io/pong → https://x-1.twil.io/ping" in message
