"""`autopilot-harness chat`: scripted and interactive turns, --json, flows, and bad input (exit 2)."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from harness.cli import build_parser, main
from harness.cli import chat as chat_cli
from tests.conftest import EXAMPLES, ROOT

BOT = str(EXAMPLES / "hospitality" / "assistant.json")
FLOWS = EXAMPLES / "hospitality" / "flows"
WORKFLOW = str(EXAMPLES / "hospitality" / "workflow.json")
FUNCTIONS = str(EXAMPLES / "hospitality")
HAS_TWILIO_RUN = (ROOT / "node_modules" / ".bin" / "twilio-run").exists()
needs_twilio_run = pytest.mark.skipif(not HAS_TWILIO_RUN, reason="twilio-run is not installed: run `npm ci`")


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(["chat", "--json", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_scripted_json_has_the_documented_keys(capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(capsys, "--bot", BOT, "--say", "I need towels", "--say", "3 large towels")
    assert data["ended"] is False
    first, second = data["turns"]
    assert {"user", "task", "confidence", "next_best_task", "fields", "replies", "memory"} <= first.keys()
    assert first["task"] == "get_quantity" and first["fields"]["item"]["value"] == "towels"
    assert first["replies"] == ["How many would you like?"]
    assert second["replies"] == ["Your items will be dropped off within 10 minutes. What else can I help you with?"]
    assert second["memory"]["twilio"]["collected_data"]["quantity_of_item"]["answers"]["quantity"]["answer"] == "3"


def test_text_output_shows_task_confidence_and_end(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat", "--bot", BOT, "--say", "I need towels", "--say", "bye"]) == 0
    out = capsys.readouterr().out
    assert "[get_quantity · confidence" in out and "item=towels" in out
    assert "bot> How many would you like?" in out


def test_options_channel_user_memory_target_task(capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(capsys, "--bot", BOT, "--channel", "whatsapp", "--user", "+447700900123",
                 "--memory", '{"room": "101"}', "--target-task", "greeting", "--say", "I need towels")
    turn = data["turns"][0]
    assert turn["task"] == "greeting" and turn["routing"] == "target"
    assert turn["memory"]["room"] == "101"
    assert turn["memory"]["twilio"]["messaging.whatsapp"]["From"] == "whatsapp:+447700900123"


def test_explain_lists_ranked_candidates(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat", "--bot", BOT, "--explain", "--say", "i need food"]) == 0
    out = capsys.readouterr().out
    assert "order_roomservice" in out.split("bot>")[0]


def test_interactive_reads_lines_from_stdin() -> None:
    args = build_parser().parse_args(["chat", "--bot", BOT])
    out = io.StringIO()
    assert chat_cli.run(args, stdin=io.StringIO("hello\nI need towels\n"), stdout=out) == 0
    text = out.getvalue()
    assert "you> I need towels" in text and "bot> How many would you like?" in text


@pytest.mark.parametrize(("argv", "message"), [
    (["--bot", "nope.json", "--say", "hi"], "nope.json"),
    (["--bot", BOT, "--memory", "{not json", "--say", "hi"], "--memory: not valid JSON"),
    (["--bot", BOT, "--memory", "[1]", "--say", "hi"], "--memory: expected a JSON object"),
    (["--bot", BOT, "--url-map", "nothing", "--say", "hi"], "expected PROD=LOCAL"),
    (["--bot", BOT, "--target-task", "nope", "--say", "hi"], "target task 'nope'"),
    (["--bot", BOT, "--clock", "yesterday", "--say", "hi"], "--clock"),
    (["--say", "hi"], "no bot given"),
    (["--bot", BOT, "--flow", "missing-flow.json", "--say", "hi"], "missing-flow.json"),
    (["--bot", BOT, "--functions", "no-such-folder", "--say", "hi"], "no-such-folder"),
])
def test_bad_input_is_one_message_and_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str],
                                             message: str) -> None:
    assert main(["chat", *argv]) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert "Traceback" not in captured.err + captured.out


def test_a_broken_schema_names_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "bot.json"
    data = json.loads(Path(BOT).read_text())
    data["tasks"][0]["actions"]["actions"].append({"show": {"images": []}})
    broken.write_text(json.dumps(data, indent=2))
    assert main(["chat", "--bot", str(broken), "--say", "hi"]) == 2
    err = capsys.readouterr().err
    assert f"{broken}:" in err and "missing required key 'body'" in err


def test_flow_json_adds_flow_and_handoff(capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(capsys, "--flow", str(FLOWS / "flex_messaging.json"), "--bot", BOT, "--workflow", WORKFLOW,
                 "--say", "i need food", "--say", "pizza", "--say", "no onions", "--say", "bye")
    flow = data["flow"]
    assert {"steps", "variables", "messages", "flex_tasks", "http_requests", "ended"} <= flow.keys()
    assert [s["widget"] for s in flow["steps"]][:2] == ["Trigger", "HotelBot"]
    assert data["turns"][0]["replies"][-1] == "What can the kitchen make for you?"
    assert all(m["to"] == "+15555550100" for m in flow["messages"])


@needs_twilio_run
@pytest.mark.network
def test_example_handoff_through_flex_with_the_real_function(capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(capsys, "--flow", str(FLOWS / "flex_messaging.json"), "--bot", BOT, "--workflow", WORKFLOW,
                 "--functions", FUNCTIONS, "--say", "I need towels", "--say", "3 large towels",
                 "--say", "Can I talk to an agent?")
    last = data["turns"][-1]
    assert last["task"] == "send_to_agent" and last["ended"] is True
    assert data["final_memory"]["sendToAgent"] is True
    handoff = data["handoff"]
    assert handoff["kind"] == "flex" and handoff["attributes"]["memory"]["sendToAgent"] is True
    assert handoff["queue"] == "Housekeeping"  # the workflow's room-items filter
    assert [s["widget"] for s in data["flow"]["steps"]][-2:] == ["CheckHandoff", "SendToConcierge"]


@needs_twilio_run
@pytest.mark.network
def test_example_bot_alone_calls_the_function_through_twilio_run(capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(capsys, "--bot", BOT, "--functions", FUNCTIONS, "--say", "Can I talk to an agent?")
    turn = data["turns"][0]
    assert turn["ended"] is True and data["final_memory"]["sendToAgent"] is True
    webhook = turn["webhooks"][0]
    assert webhook["url"] == "https://hotel-1234.twil.io/send-to-agent"
    assert webhook["called"].startswith("http://127.0.0.1:") and webhook["status"] == 200


def test_twilio_run_missing_is_a_clear_usage_error(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("AUTOPILOT_HARNESS_TWILIO_RUN", "/nonexistent/twilio-run")
    monkeypatch.setattr(shutil, "which", lambda *_a, **_k: None)
    assert main(["chat", "--bot", BOT, "--functions", FUNCTIONS, "--say", "hi"]) == 2
    assert "twilio-run" in capsys.readouterr().err


CONTACT_CENTER = "https://contact-center.example.com=examples.contact_center.app:create_app"


@needs_twilio_run
@pytest.mark.network
def test_example_http_handoff_reaches_the_contact_center_service(capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(capsys, "--flow", str(FLOWS / "http_messaging.json"), "--bot", BOT, "--functions", FUNCTIONS,
                 "--server", CONTACT_CENTER, "--say", "I need towels", "--say", "2",
                 "--say", "Talk to a representative")
    handoff = data["handoff"]
    assert handoff["kind"] == "http" and handoff["status"] == 201
    assert handoff["url"] == "https://contact-center.example.com/api/handoffs"
    assert handoff["body"]["memory"]["sendToAgent"] is True and handoff["body"]["channel"] == "sms"
    assert handoff["body"]["memory"]["twilio"]["collected_data"]["quantity_of_item"]["status"] == "complete"
    assert data["flow"]["messages"][-1]["body"].startswith("Thanks!")


def test_bad_server_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat", "--bot", BOT, "--server", "contact-center", "--say", "hi"]) == 2
    assert "expected PROD=MODULE:FACTORY" in capsys.readouterr().err
    assert main(["chat", "--bot", BOT, "--server", "https://x.example.com=no.such.module:app", "--say", "hi"]) == 2
    assert "cannot import 'no.such.module:app'" in capsys.readouterr().err


def test_clock_sets_dates_in_memory(capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(capsys, "--bot", BOT, "--clock", "2022-12-24T18:30:00Z", "--say", "I need towels", "--say", "2")
    record = data["final_memory"]["twilio"]["collected_data"]["quantity_of_item"]
    assert record["date_started"] == record["date_completed"] == "2022-12-24T18:30:00Z"


def test_subflow_option_needs_a_readable_flow(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat", "--flow", str(FLOWS / "flex_messaging.json"), "--bot", BOT,
                 "--subflow", "FW" + "1" * 32 + "=missing-subflow.json", "--say", "hi"]) == 2
    assert "missing-subflow.json" in capsys.readouterr().err


def test_target_task_with_a_flow_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat", "--flow", str(FLOWS / "flex_messaging.json"), "--bot", BOT,
                 "--target-task", "greeting", "--say", "hi"]) == 2
    assert "memory_parameters decide them" in capsys.readouterr().err


# --- QA fixes (issues 2 and 3): JSON purity, options, handoff, dialogue ends, errors ----------------


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("stdin", [io.StringIO("hi\nI need towels\n"), _Tty("hi\nI need towels\n\n")])
def test_interactive_json_prints_only_json_on_stdout(stdin: io.StringIO,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["chat", "--bot", BOT, "--json"])
    out = io.StringIO()
    assert chat_cli.run(args, stdin=stdin, stdout=out) == 0
    data = json.loads(out.getvalue())  # nothing but the transcript
    assert [t["user"] for t in data["turns"]] == ["hi", "I need towels"]
    if stdin.isatty():
        assert "you> " in capsys.readouterr().err  # prompts still shown, on stderr


HANDOFF_URI = "taskrouter://WW" + "2" * 32


def _handoff_bot(tmp_path: Path) -> str:
    data = json.loads(Path(BOT).read_text())
    data["tasks"].append({"uniqueName": "hand_over", "fields": [],
                          "samples": [{"language": "en-US", "taggedText": "put me through to reception"}],
                          "actions": {"actions": [{"say": "Transferring you now."},
                                                  {"handoff": {"channel": "voice", "uri": HANDOFF_URI}}]}})
    path = tmp_path / "voice-bot.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_voice_handoff_action_is_in_json_and_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bot = _handoff_bot(tmp_path)
    data = _json(capsys, "--bot", bot, "--channel", "voice", "--say", "put me through to reception")
    [turn] = data["turns"]
    # The handoff ran (Hand-off doc): a voice task in the fake TaskRouter, recorded with the action.
    assert (turn["handoff"]["kind"], turn["handoff"]["uri"]) == ("autopilot", HANDOFF_URI)
    assert turn["handoff"]["task_sid"].startswith("WT") and data["handoff"]["kind"] == "autopilot"
    assert turn["ended"] is True and data["turns"][0]["replies"] == ["Transferring you now."]
    assert main(["chat", "--bot", bot, "--channel", "voice", "--say", "put me through to reception"]) == 0
    out = capsys.readouterr().out
    assert f'"uri": "{HANDOFF_URI}"' in out and f"handoff: Autopilot voice handoff to {HANDOFF_URI}: task WT" in out
    assert main(["chat", "--bot", BOT, "--say", "I need towels"]) == 0
    assert "handoff" not in capsys.readouterr().out  # only when the action ran


def test_a_workflow_routes_the_bots_voice_handoff_without_a_flow(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    # The Hand-off doc's taskrouter://WW… handoff creates the task in the workflow's queue (--workflow
    # no longer needs --flow: it routes the bot's own handoffs too).
    workflow = tmp_path / "workflow.json"
    workflow.write_text(json.dumps({"task_routing": {"filters": [], "default_filter": {"queue": "WQ" + "5" * 32}}}))
    bot = _handoff_bot(tmp_path)
    assert main(["chat", "--bot", bot, "--workflow", str(workflow), "--channel", "voice",
                 "--say", "put me through to reception"]) == 0
    assert f"in queue WQ{'5' * 32}" in capsys.readouterr().out


UNUSED_SID = "UA" + "9" * 32


@pytest.mark.parametrize(("argv", "message"), [
    (["--threshold", "5"], "--threshold 5: expected a confidence between 0 and 1"),
    (["--threshold", "-1"], "--threshold -1: expected a confidence between 0 and 1"),
    (["--url-map", "https://a=notaurl"], "LOCAL 'notaurl' is not an http(s) URL"),
    (["--subflow", "FW" + "1" * 32 + "=sub.json"], "--subflow needs --flow"),
    (["--flow", str(FLOWS / "flex_messaging.json"), "--subflow", "x"], "--subflow 'x': expected FW…=FILE"),
    (["--flow", str(FLOWS / "flex_messaging.json"), "--subflow", "sub.json=FW1"], "expected FW…=FILE"),
])
def test_bad_chat_options_exit_2(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat", "--bot", BOT, *argv, "--say", "hi"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_threshold_bounds_are_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    assert _json(capsys, "--bot", BOT, "--threshold", "1", "--say", "i need food and stuff")["turns"]
    assert _json(capsys, "--bot", BOT, "--threshold", "0", "--say", "hi")["turns"]


def test_a_bot_sid_no_widget_uses_is_a_warning_naming_the_flows_sids(capsys: pytest.CaptureFixture[str]) -> None:
    flow_sid = "UA" + "0" * 31 + "1"
    assert main(["chat", "--flow", str(FLOWS / "flex_messaging.json"), "--bot", f"{UNUSED_SID}={BOT}",
                 "--bot", BOT, "--say", "hi"]) == 0
    err = capsys.readouterr().err
    assert f"warning: --bot {UNUSED_SID}=…" in err and flow_sid in err
    assert main(["chat", "--flow", str(FLOWS / "flex_messaging.json"), "--bot", f"{flow_sid}={BOT}",
                 "--say", "hi"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_each_dialogue_end_is_shown_and_kept(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--bot", BOT, "--memory", '{"room": "101"}', "--say", "hi", "--say", "bye", "--say", "hello again"]
    assert main(["chat", *argv]) == 0
    out = capsys.readouterr().out
    ended_at = out.index("(the dialogue has ended)")
    assert "[goodbye" in out[:ended_at] and "[greeting" in out[ended_at:]  # after bye, before the new one
    assert out.count("(the dialogue has ended)") == 1
    data = _json(capsys, *argv)
    first, second = data["meta"]["dialogues"]
    assert first["ended"] is True and first["final_memory"]["room"] == "101"
    assert second["ended"] is False and "room" not in second["final_memory"]
    assert first["sid"] != second["sid"]
    # top level: the last dialogue's
    assert data["ended"] is False and data["final_memory"] == second["final_memory"]


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_json_error_mid_conversation_keeps_the_transcript(capsys: pytest.CaptureFixture[str]) -> None:
    url_map = f"https://*.twil.io=http://127.0.0.1:{_closed_port()}"
    assert main(["chat", "--json", "--bot", BOT, "--url-map", url_map,
                 "--say", "hi", "--say", "Can I talk to an agent?", "--say", "never sent"]) == 2
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert [t["user"] for t in data["turns"]] == ["hi"]
    assert data["error"]["user"] == "Can I talk to an agent?" and data["error"]["turn"] == 1
    assert "send-to-agent" in data["error"]["message"] and "send-to-agent" in captured.err


def test_closed_stdout_is_not_a_traceback() -> None:
    import os
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head` that has already exited
    try:
        result = subprocess.run([sys.executable, "-m", "harness", "chat", "--json", "--bot", BOT,
                                 "--say", "I need towels", "--say", "3"],
                                stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60, cwd=ROOT)
    finally:
        os.close(write_end)
    assert "Traceback" not in result.stderr and "BrokenPipeError" not in result.stderr
    assert result.returncode == 0


def test_chat_flow_messages_are_on_the_chat_channel(capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(capsys, "--flow", str(FLOWS / "chat_flex.json"), "--bot", BOT, "--channel", "chat",
                 "--say", "hello")
    [message] = data["flow"]["messages"]
    assert message["channel"] == "chat" and message["to"] == "guest"  # a chat identity, not a phone number
    assert message["from"] == json.loads(Path(BOT).read_text())["friendlyName"]
    # A user that looks like a phone number is still on chat: the channel's attributes say webchat.
    data = _json(capsys, "--flow", str(FLOWS / "chat_flex.json"), "--bot", BOT, "--channel", "chat",
                 "--user", "+15555550111", "--say", "hello")
    assert data["flow"]["messages"][0]["channel"] == "chat"
    # Flex SMS (a chat channel bridging SMS) stays sms.
    data = _json(capsys, "--flow", str(FLOWS / "flex_messaging.json"), "--bot", BOT, "--say", "hello")
    assert data["flow"]["messages"][0]["channel"] == "sms"
