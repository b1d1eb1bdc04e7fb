"""Which bot lint checks a flow against: linked by SID only, and a flow without an Autopilot widget needs none."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from tests.conftest import EXAMPLES, real_path

HOSPITALITY = EXAMPLES / "hospitality"
BOT = json.loads((HOSPITALITY / "assistant.json").read_text())
FLOW = json.loads((HOSPITALITY / "flows" / "flex_messaging.json").read_text())
SID = "UA" + "9" * 32
MESSAGE = {"body": "hi", "from": "{{flow.channel.address}}", "to": "{{contact.channel.address}}"}


def write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_bot_for_another_sid_is_not_linked(capsys: pytest.CaptureFixture[str]) -> None:
    flow_file = real_path("studio/function-templates__volunteer-comm__Chatbot-Integration_flow.json")
    schema = real_path("autopilot/Hospitality/schema.json")
    assert main(["lint", f"--bot={SID}={schema}", str(flow_file)]) == 0
    assert "XF301" not in capsys.readouterr().out
    assert main(["lint", f"--bot={schema}", str(flow_file)]) == 1  # `--bot path` is every widget's bot
    assert "XF301" in capsys.readouterr().out


def test_lone_assistant_is_not_linked_to_a_flow_driving_two_assistants(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def flow_with_second_bot(sid: str) -> dict[str, Any]:
        data = copy.deepcopy(FLOW)
        first = next(s for s in data["states"] if s["type"] == "send-to-auto-pilot")
        second = copy.deepcopy(first)
        second["name"] = "OtherBot"
        second["properties"].update(autopilot_assistant_sid=sid, target_task="no_such_task")
        data["states"].append(second)
        return data

    bot_file = str(write(tmp_path / "bot.json", BOT))
    first_sid = next(s for s in FLOW["states"] if s["type"] == "send-to-auto-pilot")["properties"][
        "autopilot_assistant_sid"]
    main(["lint", bot_file, str(write(tmp_path / "two.json", flow_with_second_bot(SID)))])
    assert "XF301" not in capsys.readouterr().out  # which of the two is this bot? unknown: not checked
    main(["lint", bot_file, str(write(tmp_path / "one.json", flow_with_second_bot(first_sid)))])
    assert "'no_such_task' is not a task" in capsys.readouterr().out


def test_no_bot_needed_without_an_autopilot_widget(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flow = {"description": "echo", "initial_state": "Trigger", "flags": {"allow_concurrent_calls": True},
            "states": [{"name": "Trigger", "type": "trigger", "properties": {},
                        "transitions": [{"event": "incomingMessage", "next": "say"}]},
                       {"name": "say", "type": "send-message",
                        "properties": {**MESSAGE, "body": "Hello {{trigger.message.Body}}"},
                        "transitions": [{"event": "sent"}, {"event": "failed"}]}]}
    write(tmp_path / "flow.json", flow)
    write(tmp_path / "a.scenario.yaml", "flow: flow.json\nchannel: sms\nscenarios:\n  - name: hello\n"
          "    turns:\n      - user: hi\n        expect: {replies: [\"Hello hi\"]}\n")
    assert main(["run", str(tmp_path)]) == 0
    assert main(["chat", "--flow", str(tmp_path / "flow.json"), "--say", "hi"]) == 0
    assert "Hello hi" in capsys.readouterr().out
    assert main(["chat", "--flow", str(HOSPITALITY / "flows" / "flex_messaging.json"), "--say", "hi"]) == 2
    assert "no bot given, but" in capsys.readouterr().err
