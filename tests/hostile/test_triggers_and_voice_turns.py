"""Hostile trigger and voice-turn inputs (issue 11): each row is one bad scenario file run beside a good one;
the bad one is refused or fails with its place and reason, the good one still passes, nothing is lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.hostile.kit import run_suite_beside

HOTEL = ROOT / "examples" / "hospitality"
PHONE = (f"bot: {{UA00000000000000000000000000000001: {json.dumps(str(HOTEL / 'assistant.json'))}}}\n"
         f"flow: {json.dumps(str(HOTEL / 'flows' / 'voice_ivr.json'))}\nclock: 2024-05-01T09:00:00Z\n")
BOT_ONLY = f"bot: {json.dumps(str(HOTEL / 'assistant.json'))}\n"

# (id, file text, status of the bad case: "invalid" = refused at load (exit 2), "error" = the run stops,
#  text the message must hold, line it must name or None)
ROWS = [
    ("unknown-trigger", PHONE + "trigger: sms\nscenarios:\n  - name: s\n    turns: [{user: hi}]\n",
     "invalid", "one of message, call, conversation, request, subflow", 4),
    ("trigger-a-number", PHONE + "scenarios:\n  - name: s\n    trigger: 1\n    turns: [{user: hi}]\n",
     "invalid", "one of message, call", 6),
    ("trigger-a-list", PHONE + "defaults: {trigger: [call]}\nscenarios:\n  - name: s\n    turns: [{user: hi}]\n",
     "invalid", "one of message, call", 4),
    ("digits-letters", PHONE + "channel: voice\nscenarios:\n  - name: s\n    turns: [{digits: 'one'}]\n",
     "invalid", "keypad keys", 7),
    ("digits-empty", PHONE + "channel: voice\nscenarios:\n  - name: s\n    turns: [{digits: ''}]\n",
     "invalid", "keypad keys", 7),
    ("digits-number", PHONE + "channel: voice\nscenarios:\n  - name: s\n    turns: [{digits: 1}]\n",
     "invalid", 'quote them: digits: "1"', 7),
    ("digits-and-wait", PHONE + "channel: voice\nscenarios:\n  - name: s\n    turns: [{digits: '1', wait: 2}]\n",
     "invalid", "exactly one of", 7),
    ("confidence-over-1", PHONE + "channel: voice\nscenarios:\n  - name: s\n"
     "    turns: [{user: hi, confidence: 1.5}]\n", "invalid", "1", 7),
    ("confidence-text", PHONE + "channel: voice\nscenarios:\n  - name: s\n"
     "    turns: [{user: hi, confidence: high}]\n", "invalid", "number", 7),
    ("confidence-alone", PHONE + "channel: voice\nscenarios:\n  - name: s\n    turns: [{confidence: 0.5}]\n",
     "invalid", "exactly one of", 7),
    ("parameters-text", PHONE + "trigger: request\nparameters: campaign\nscenarios:\n  - name: s\n"
     "    turns: [{wait: 1s}]\n", "invalid", "object", 5),
    ("call-on-whatsapp", PHONE + "scenarios:\n  - name: s\n    trigger: call\n    channel: whatsapp\n"
     "    turns: [{wait: 1s}]\n", "invalid", "on channel voice", 7),
    ("unhandled-message", PHONE + "scenarios:\n  - name: s\n    trigger: message\n    turns: [{user: hi}]\n",
     "error", "handles incomingCall (trigger: call)", 6),
    ("unhandled-request", PHONE + "scenarios:\n  - name: s\n    trigger: request\n    turns: [{wait: 1s}]\n",
     "error", "no transition for incomingRequest", 6),
    ("unhandled-conversation", PHONE + "scenarios:\n  - name: s\n    trigger: conversation\n"
     "    turns: [{user: hi}]\n", "error", "no transition for incomingConversationMessage", 6),
    ("unhandled-subflow", PHONE + "scenarios:\n  - name: s\n    trigger: subflow\n    turns: [{wait: 1s}]\n",
     "error", "no transition for incomingParent", 6),
    ("parameters-on-a-call", PHONE + "channel: voice\nparameters: {a: 1}\nscenarios:\n  - name: s\n"
     "    turns: [{wait: 1s}]\n", "error", "parameters are the flow.data of a REST or subflow execution", None),
    ("digits-without-flow", BOT_ONLY + "channel: voice\nscenarios:\n  - name: s\n    turns: [{digits: '1'}]\n",
     "error", "digits are keypad input on a call through a Studio flow", None),
    ("confidence-without-flow", BOT_ONLY + "channel: voice\nscenarios:\n  - name: s\n"
     "    turns: [{user: hi, confidence: 0.5}]\n", "error", "confidence is the speech recognizer's", None),
    ("trigger-without-flow", BOT_ONLY + "scenarios:\n  - name: s\n    trigger: request\n"
     "    turns: [{user: hi}]\n", "error", "needs a Studio flow", None),
    ("speech-after-hang-up", PHONE + "channel: voice\nscenarios:\n  - name: s\n"
     "    turns: [{wait: 6s}, {user: hello}]\n", "error", "the call has ended", None),
]


@pytest.mark.parametrize(("text", "status", "says", "line"), [row[1:] for row in ROWS], ids=[row[0] for row in ROWS])
def test_bad_trigger_or_voice_turn_is_named_and_nothing_is_lost(tmp_path: Path, text: str, status: str, says: str,
                                                                line: int | None) -> None:
    result, document, junit = run_suite_beside(tmp_path, "bad.scenario.yaml", text)
    bad = [case for case in document["cases"] if case.get("file", "").endswith("bad.scenario.yaml")]
    assert bad, document["cases"]
    assert all(case["status"] == "error" for case in bad), bad
    if status == "invalid":
        assert result.code == 2, result.text  # invalid input
    else:
        assert result.code != 0, result.text
    assert says in result.text, result.text
    where = "bad.scenario.yaml" + (f":{line}:" if line is not None else "")
    assert where in result.text, result.text
    assert "bad.scenario.yaml" in junit
