"""Where lint rules apply: ST204 skips voice-only widgets, AP105 only for a task that asks, ST205 covers
message and call failures, ST202 suggests a widget name."""

from __future__ import annotations

import copy
import json
from typing import Any

from harness.insight.lint_rules import LintConfig, lint_assistant, lint_flow
from harness.models.assistant_loader import assistant_from_dict
from harness.models.flow import flow_from_dict
from tests.conftest import EXAMPLES, real_path

HOSPITALITY = EXAMPLES / "hospitality"
BOT = json.loads((HOSPITALITY / "assistant.json").read_text())
FLOW = json.loads((HOSPITALITY / "flows" / "flex_messaging.json").read_text())
MESSAGE = {"body": "hi", "from": "{{flow.channel.address}}", "to": "{{contact.channel.address}}"}


def ids(findings: list[Any]) -> list[str]:
    return [f.rule.id for f in findings]


def test_st204_skips_voice_only_widgets() -> None:
    found = lint_flow(flow_from_dict(json.loads(real_path(
        "studio/function-templates__volunteer-comm__VoiceToFlex.json").read_text()), path="v.json"))
    flagged = [f.message.split("'")[1] for f in found if f.rule.id == "ST204"]
    assert "autopilot_1" not in flagged and "autopilot_4" not in flagged and flagged  # 2 and 3: messages


def test_ap105_only_for_a_task_that_asks() -> None:
    def ends(say: str) -> list[str]:
        data = copy.deepcopy(BOT)
        data["tasks"].append({"uniqueName": "complete_booking", "samples": [],
                              "actions": {"actions": [{"say": say}]}, "fields": []})
        return ids(lint_assistant(assistant_from_dict(data, path="b.json"), config=LintConfig(
            frozenset({"AP101", "AP102", "AP104"}))))
    assert ends("Your table is booked. See you at 7!") == []
    assert ends("Anything else I can do for you?") == ["AP105"]


def test_st205_covers_message_and_call_failures() -> None:
    states = [{"name": "Trigger", "type": "trigger", "properties": {},
               "transitions": [{"event": "incomingMessage", "next": "intro"}, {"event": "incomingCall",
                                                                               "next": "gather"}]},
              {"name": "intro", "type": "send-message", "properties": MESSAGE,
               "transitions": [{"event": "sent", "next": "ask"}, {"event": "failed"}]},
              {"name": "ask", "type": "send-and-wait-for-reply", "properties": {**MESSAGE, "timeout": "3600"},
               "transitions": [{"event": "incomingMessage", "next": "bye"}, {"event": "timeout", "next": "bye"},
                               {"event": "deliveryFailure"}]},
              {"name": "bye", "type": "send-message", "properties": MESSAGE,
               "transitions": [{"event": "sent"}, {"event": "failed"}]},
              {"name": "gather", "type": "gather-input-on-call", "properties": {"say": "press"},
               "transitions": [{"event": "keypress", "next": "queue"}, {"event": "speech", "next": "queue"},
                               {"event": "timeout"}]},
              {"name": "queue", "type": "enqueue-call", "properties": {"workflow_sid": "WW" + "0" * 32},
               "transitions": [{"event": "callComplete"}, {"event": "failedToEnqueue"}, {"event": "callFailure"}]}]
    flow = flow_from_dict({"description": "d", "states": states, "initial_state": "Trigger",
                           "flags": {"allow_concurrent_calls": True}}, path="f.json")
    flagged = {f.message.split("'")[1]: f.message for f in lint_flow(flow) if f.rule.id == "ST205"}
    assert set(flagged) == {"intro", "ask", "gather", "queue"}  # not `bye`: the flow ends there anyway
    assert "'deliveryFailure'" in flagged["ask"] and "'failedToEnqueue' and 'callFailure'" in flagged["queue"]


def test_st202_did_you_mean() -> None:
    changed = copy.deepcopy(FLOW)
    bye = next(s for s in changed["states"] if s["type"] == "send-message")
    bye["properties"]["body"] = "{{widgets.HotelBott.CurrentTask}}"
    found = [f for f in lint_flow(flow_from_dict(changed, path="f.json")) if f.rule.id == "ST202"]
    assert found and found[0].hint == "did you mean 'HotelBot'?"
