"""Scenario keys of issue 11: `trigger:` (file, defaults or scenario), `parameters:` (flow.data), voice turns
(`user:` with `confidence:`, `digits:`, `wait:`), and no silent pass for a trigger the flow leaves unhandled."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.hostile.kit import assert_refused, cli

HOTEL = ROOT / "examples" / "hospitality"
HEAD = (f"bot: {{UA00000000000000000000000000000001: {json.dumps(str(HOTEL / 'assistant.json'))}}}\n"
        f"flow: {json.dumps(str(HOTEL / 'flows' / 'voice_ivr.json'))}\nclock: 2024-05-01T09:00:00Z\n")


def run(tmp_path: Path, body: str, *extra: str) -> tuple[int, dict, str]:
    path = tmp_path / "t.scenario.yaml"
    path.write_text(HEAD + body, encoding="utf-8")
    result = cli("run", path, "--json", tmp_path / "out.json", *extra)
    data = json.loads((tmp_path / "out.json").read_text()) if (tmp_path / "out.json").exists() else {}
    return result.code, data, result.text


def test_speech_confidence_reaches_the_gather_and_the_transcript(tmp_path: Path) -> None:
    # <Gather input="speech">: SpeechResult and Confidence (twilio.com/docs/voice/twiml/gather#speechresult)
    code, data, text = run(tmp_path, "channel: voice\nscenarios:\n  - name: s\n    turns:\n"
                                     "      - {user: 'I need some food', confidence: 0.42}\n")
    assert code == 0, text
    assert data["cases"][0]["status"] == "passed"


def test_confidence_beside_speech_only(tmp_path: Path) -> None:
    code, _data, text = run(tmp_path, "channel: voice\nscenarios:\n  - name: s\n    turns:\n"
                                      "      - {digits: '1', confidence: 0.4}\n")
    assert code == 2 and "`confidence` is the recognizer's confidence" in text, text


@pytest.mark.parametrize(("body", "says"), [
    ("trigger: phone\nscenarios:\n  - name: s\n    turns: [{user: hi}]\n",
     "one of message, call, conversation, request, subflow"),
    ("channel: voice\nscenarios:\n  - name: s\n    turns: [{digits: '12a'}]\n", "keypad keys"),
    ("channel: voice\nscenarios:\n  - name: s\n    turns: [{digits: '1', user: hi}]\n", "exactly one of"),
    ("parameters: [1]\nscenarios:\n  - name: s\n    turns: [{user: hi}]\n", "object"),
    ("channel: sms\nscenarios:\n  - name: s\n    trigger: call\n    turns: [{user: hi}]\n", "on channel voice"),
], ids=["unknown-trigger", "digits-not-keys", "digits-and-user", "parameters-not-a-mapping", "call-off-voice"])
def test_bad_trigger_keys_are_refused_with_their_place(tmp_path: Path, body: str, says: str) -> None:
    path = tmp_path / "t.scenario.yaml"
    path.write_text(HEAD + body, encoding="utf-8")
    assert_refused(cli("validate", path), names="t.scenario.yaml", says=says)


def test_an_unhandled_trigger_fails_naming_the_handled_ones(tmp_path: Path) -> None:
    code, data, text = run(tmp_path, "scenarios:\n  - name: s\n    trigger: message\n    turns: [{user: hi}]\n")
    assert code != 0
    [result] = data["cases"]
    assert result["status"] == "error"
    assert "no transition for incomingMessage" in text and "handles incomingCall (trigger: call)" in text
    assert "t.scenario.yaml:6" in text  # the scenario's `trigger:` line


def test_file_level_trigger_and_voice_default(tmp_path: Path) -> None:
    # channel: voice defaults to a call; a file-level `trigger:` applies to every scenario
    for head in ("channel: voice\n", "trigger: call\n"):
        code, data, text = run(tmp_path, head + "scenarios:\n  - name: s\n    turns: [{digits: '0'}]\n"
                                                "    expect: {flow: {events: {Trigger: incomingCall}}}\n")
        assert code == 0 and data["cases"][0]["status"] == "passed", text


def test_parameters_need_a_request_or_subflow(tmp_path: Path) -> None:
    code, _data, text = run(tmp_path, "channel: voice\nparameters: {a: 1}\nscenarios:\n  - name: s\n"
                                      "    turns: [{wait: 1s}]\n")
    assert code != 0 and "parameters are the flow.data of a REST or subflow execution" in text, text


def test_digits_need_a_flow(tmp_path: Path) -> None:
    path = tmp_path / "t.scenario.yaml"
    path.write_text(f"bot: {json.dumps(str(HOTEL / 'assistant.json'))}\nchannel: voice\n"
                    "scenarios:\n  - name: s\n    turns: [{digits: '1'}]\n", encoding="utf-8")
    result = cli("run", path)
    assert result.code != 0 and "digits are keypad input on a call through a Studio flow" in result.text
