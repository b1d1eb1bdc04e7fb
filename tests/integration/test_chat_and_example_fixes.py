"""QA fixes for issues 2 and 3 outside the chat CLI: WSGI factories from the working directory, the URL
chain of a redirect loop, the example's own lint, and the flow + bot benchmark."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response

from harness.cli import main
from harness.clock import FixedClock
from harness.engines.autopilot.runtime import AutopilotRuntime
from harness.engines.twilio.server import LocalServer
from harness.errors import EngineError
from harness.models.assistant_loader import assistant_from_dict
from harness.runner.session import Session, SessionOptions
from tests.conftest import EXAMPLES, ROOT

BOT = EXAMPLES / "hospitality" / "assistant.json"

APP_SOURCE = '''
def create_app():
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]
    return app
'''


def test_wsgi_factory_imports_from_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The console script has no '' on sys.path (python -m has): the factory must import all the same."""
    (tmp_path / "fixd_local_service.py").write_text(APP_SOURCE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    monkeypatch.delitem(sys.modules, "fixd_local_service", raising=False)
    options = SessionOptions(bots={None: BOT},
                             servers=[{"url": "https://cc.example.com", "wsgi": "fixd_local_service:create_app"}])
    with Session(options) as session:
        local = session.url_map["https://cc.example.com"]
        assert local.startswith("http://127.0.0.1:")
        import requests

        assert requests.get(local, timeout=5).text == "ok"


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


# --- the example passes the kit's own lint ------------------------------------------------------------


def test_the_example_is_lint_clean(capsys: pytest.CaptureFixture[str]) -> None:
    flows = sorted(str(p) for p in (EXAMPLES / "hospitality" / "flows").glob("*.json"))
    assert main(["lint", str(BOT), *flows, "--bot", str(BOT)]) == 0
    out = capsys.readouterr().out
    assert "0 error(s), 0 warning(s)" in out, out


# --- benchmark: flow + the real bot --------------------------------------------------------------------


def test_bench_studio_runs_flow_and_real_bot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    import bench_studio

    result = bench_studio.run(3)  # raises SystemExit if a conversation did not hand off
    assert result["bot"] == "real" and result["conversations"] == 3 and result["per_second"] > 0
