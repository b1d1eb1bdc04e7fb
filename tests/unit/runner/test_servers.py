"""WSGI services of a session: factories import from the working directory."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness.runner.session import Session, SessionOptions
from tests.conftest import EXAMPLES

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
