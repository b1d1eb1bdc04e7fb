"""`context.DOMAIN_NAME` in a Function served by twilio-run is the production domain the URL map maps
(issue 10, row 15), so a Function that builds its next URL from it works unchanged.

Source: a Function's `context` carries DOMAIN_NAME, the service's own domain such as example-1234.twil.io
(https://www.twilio.com/docs/serverless/functions-assets/functions/invocation, the context object).
twilio-run 5 builds context as {DOMAIN_NAME: <its URL without scheme>, ...the .env} (dist/runtime/route.js
constructContext), so a .env naming DOMAIN_NAME sets it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.runner.session import Session, SessionOptions
from tests.unit.engines.twilio.test_functions import twilio_run_or_skip

pytestmark = pytest.mark.network

FIRST = """exports.handler = (context, event, callback) => callback(null, {actions: [
  {say: 'checking'}, {redirect: `https://${context.DOMAIN_NAME}/second`}]});
"""
SECOND = "exports.handler = (context, event, callback) => callback(null, {actions: [{say: 'reached'}]});\n"


def _project(tmp_path: Path, *, urls: tuple[str, ...]) -> tuple[Path, Path]:
    folder = tmp_path / "fns"
    (folder / "functions").mkdir(parents=True)
    (folder / "package.json").write_text('{"name": "fns", "version": "1.0.0", "private": true}')
    (folder / "functions" / "first.js").write_text(FIRST)
    (folder / "functions" / "second.js").write_text(SECOND)
    tasks = [{"uniqueName": f"t{i}", "actionsUrl": url, "fields": [],
              "samples": [{"language": "en-US", "taggedText": f"check {i}"}]} for i, url in enumerate(urls)]
    bot = tmp_path / "bot.json"
    bot.write_text(json.dumps({"uniqueName": "desk", "defaults": {"defaults": {"fallback": "task://t0"}},
                               "styleSheet": {}, "fieldTypes": [], "modelBuild": {"uniqueName": "v1"},
                               "tasks": tasks}))
    return folder, bot


def test_a_function_builds_its_next_url_from_domain_name(tmp_path: Path) -> None:
    twilio_run_or_skip()
    folder, bot = _project(tmp_path, urls=("https://hotel-1234.twil.io/first",))
    with Session(SessionOptions(bots={None: bot}, functions=[folder])) as session:
        turn = session.conversation().say("check 0")
        assert turn.replies == ("checking", "reached")
        assert [c["url"] for c in turn.webhooks] == ["https://hotel-1234.twil.io/first",
                                                     "https://hotel-1234.twil.io/second"]
        assert not session.warnings


def test_several_domains_leave_localhost_with_a_warning(tmp_path: Path) -> None:
    twilio_run_or_skip()
    folder, bot = _project(tmp_path, urls=("https://hotel-1234.twil.io/first", "https://other-9.twil.io/first"))
    with Session(SessionOptions(bots={None: bot}, functions=[folder])) as session:
        assert any("several Functions domains" in w and "hotel-1234.twil.io" in w for w in session.warnings)
