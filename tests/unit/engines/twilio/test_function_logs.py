"""A Function's console.log/console.error output is captured per request and shown in the transcript,
`chat`, the failure text and the HTML report (issue 10, row 16).

Source: Twilio Functions write console.log/info/warn/error to the Function's logs, per invocation
(https://www.twilio.com/docs/serverless/functions-assets/functions/logging — shown per execution in the
console). twilio-run prints them to its stdout, mixed; the kit returns each request's lines with its answer.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from harness.engines.twilio.functions import LOGS_HEADER, FunctionsServer, decode_logs
from harness.errors import WebhookError
from harness.insight.html_report import render_report
from harness.runner.results import CaseResult
from harness.runner.session import Session, SessionOptions
from tests.unit.engines.twilio.test_functions import twilio_run_or_skip

pytestmark = pytest.mark.network

LOGGING = """exports.handler = (context, event, callback) => {
  console.log('looking up room', event.CurrentInput);
  setTimeout(() => {  // a later callback still belongs to this request
    console.error('no booking for', event.CurrentInput);
    callback(null, {actions: [{say: 'Let me check.'}, {listen: true}]});
  }, 5);
};
"""
BROKEN = "exports.handler = (context, event, callback) => { console.error('db down'); callback('boom'); };\n"
QUIET = "exports.handler = (context, event, callback) => callback(null, {actions: [{say: 'quiet'}]});\n"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("logs")
    folder = root / "fns"
    (folder / "functions").mkdir(parents=True)
    (folder / "package.json").write_text('{"name": "fns", "version": "1.0.0", "private": true}')
    for name, code in (("lookup", LOGGING), ("broken", BROKEN), ("quiet", QUIET)):
        (folder / "functions" / f"{name}.js").write_text(code)
    tasks = [{"uniqueName": name, "actionsUrl": f"https://hotel-1234.twil.io/{name}", "fields": [],
              "samples": [{"language": "en-US", "taggedText": f"{name} room"}]}
             for name in ("lookup", "broken", "quiet")]
    (root / "bot.json").write_text(json.dumps({
        "uniqueName": "desk", "defaults": {"defaults": {"fallback": "task://quiet"}}, "styleSheet": {},
        "fieldTypes": [], "modelBuild": {"uniqueName": "v1"}, "tasks": tasks}))
    return root


@pytest.fixture(scope="module")
def session(project: Path) -> Iterator[Session]:
    twilio_run_or_skip()
    with Session(SessionOptions(bots={None: project / "bot.json"}, functions=[project / "fns"])) as running:
        yield running


def test_each_request_gets_its_own_lines(project: Path) -> None:
    twilio_run_or_skip()
    with FunctionsServer(project / "fns") as server:
        first = requests.post(server.url("/lookup"), data={"CurrentInput": "101"}, timeout=10)
        second = requests.post(server.url("/lookup"), data={"CurrentInput": "202"}, timeout=10)
        quiet = requests.post(server.url("/quiet"), timeout=10)
    assert decode_logs(first.headers.get(LOGS_HEADER)) == [
        {"level": "log", "message": "looking up room 101"}, {"level": "error", "message": "no booking for 101"}]
    assert [line["message"] for line in decode_logs(second.headers.get(LOGS_HEADER))][-1] == "no booking for 202"
    assert LOGS_HEADER not in quiet.headers


def test_the_transcript_and_chat_show_them(session: Session) -> None:
    from harness.cli.chat import _print_turn

    turn = session.conversation().say("lookup room")
    (call,) = turn.webhooks
    assert call["logs"] == [{"level": "log", "message": "looking up room lookup room"},
                            {"level": "error", "message": "no booking for lookup room"}]
    out = io.StringIO()
    _print_turn(turn, out, explain=False)
    assert "fn[error]> no booking for lookup room" in out.getvalue()
    quiet = session.conversation().say("quiet room")
    assert "logs" not in quiet.webhooks[0]  # a Function that prints nothing adds no key


def test_a_failure_text_and_the_html_report_show_them(session: Session) -> None:
    conversation = session.conversation()
    with pytest.raises(WebhookError) as raised:
        conversation.say("broken room")
    assert "answered HTTP 500" in str(raised.value) and "[error] db down" in str(raised.value)
    turn = session.conversation().say("lookup room")
    transcript = type("T", (), {"turns": (turn,)})()
    case = CaseResult(kind="scenario", file="s.yaml", id="x", name="x", line=1, status="failed",
                      error="expected a reply", transcript=transcript)  # type: ignore[arg-type]
    assert "Function output:" in case.failure_text() and "[error] no booking for lookup room" in case.failure_text()
    html = render_report({"cases": [{"name": "x", "status": "failed", "file": "s.yaml",
                                     "transcript": {"turns": [turn.to_dict()]}}]})
    assert "Function output" in html and "no booking for lookup room" in html


def test_studio_run_function_shows_them_too(project: Path) -> None:
    """Studio's Run Function widget calls a Function the same way (reference/studio.md §2.8): its console
    output lands on the widget's Step, so chat, the failure text and the HTML report show it."""
    from harness.cli.chat import _print_turn

    twilio_run_or_skip()
    flow = project / "flow.json"
    flow.write_text(json.dumps({
        "description": "run a function", "initial_state": "Trigger", "flags": {"allow_concurrent_calls": True},
        "states": [
            {"name": "Trigger", "type": "trigger", "properties": {},
             "transitions": [{"event": "incomingMessage", "next": "Lookup"}]},
            {"name": "Lookup", "type": "run-function", "transitions": [{"event": "success"}, {"event": "fail"}],
             "properties": {"url": "https://hotel-1234.twil.io/lookup",
                            "parameters": [{"key": "CurrentInput", "value": "{{trigger.message.Body}}"}]}}]}))
    with Session(SessionOptions(flow=flow, functions=[project / "fns"])) as running:
        turn = running.conversation().say("303")
    (step,) = [s for s in turn.steps if s["widget"] == "Lookup"]
    assert step["event"] == "success"
    assert step["logs"] == [{"level": "log", "message": "looking up room 303"},
                            {"level": "error", "message": "no booking for 303"}]
    out = io.StringIO()
    _print_turn(turn, out, explain=False)
    assert "fn[error]> no booking for 303" in out.getvalue()
    transcript = type("T", (), {"turns": (turn,)})()
    case = CaseResult(kind="scenario", file="s.yaml", id="x", name="x", line=1, status="failed",
                      error="expected a reply", transcript=transcript)  # type: ignore[arg-type]
    assert "widget Lookup:" in case.failure_text() and "[error] no booking for 303" in case.failure_text()
    html = render_report({"cases": [{"name": "x", "status": "failed", "file": "s.yaml",
                                     "transcript": {"turns": [turn.to_dict()]}}]})
    assert "no booking for 303" in html
