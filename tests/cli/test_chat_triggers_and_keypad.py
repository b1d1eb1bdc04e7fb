"""`chat --trigger/--param/--digits` (issue 11): a call through the hotel's phone flow takes keypad input
and speech in the order given; a trigger the flow does not handle, or parameters for a message, exit 2."""

from __future__ import annotations

import json

from tests.conftest import ROOT
from tests.hostile.kit import assert_refused, cli

HOTEL = ROOT / "examples" / "hospitality"
PHONE = ["--bot", f"UA00000000000000000000000000000001={HOTEL / 'assistant.json'}",
         "--flow", str(HOTEL / "flows" / "voice_ivr.json"), "--clock", "2024-05-01T09:00:00Z"]


def test_digits_and_say_interleave_in_the_order_given_on_a_call() -> None:
    # gather-input-on-call: a keypress is Digits, speech is SpeechResult (Twilio's <Gather> verb)
    result = cli("chat", *PHONE, "--channel", "voice", "--digits", "7", "--digits", "1", "--say", "hi", "--json")
    assert result.code == 0, result.text
    data = json.loads(result.out)
    turns = data["turns"]
    assert [(t["user"], t.get("digits")) for t in turns] == [("", "7"), ("", "1"), ("hi", None)]
    path = [step["widget"] for step in data["flow"]["steps"]]
    assert path[:5] == ["Trigger", "MainMenu", "MenuChoice", "InvalidChoice", "MainMenu"]
    assert turns[0]["replies"][1] == "Sorry, that is not an option."
    assert turns[1]["task"] == "greeting"  # pressing 1 starts the bot with no speech: assistant_initiation
    heard = [m for m in data["flow"]["messages"] if m["channel"] == "voice"]
    assert heard and all(m["to"] == "+15555550100" for m in heard)


def test_the_trigger_can_be_named_and_voice_defaults_to_a_call() -> None:
    named = cli("chat", *PHONE, "--trigger", "call", "--digits", "0", "--json")
    assert named.code == 0, named.text
    assert json.loads(named.out)["flow"]["steps"][0]["event"] == "incomingCall"


def test_a_trigger_the_flow_does_not_handle_exits_2_naming_the_ones_it_does() -> None:
    result = cli("chat", *PHONE, "--say", "hello")  # sms: incomingMessage, which voice_ivr leaves unconnected
    assert_refused(result, says="no transition for incomingMessage")
    assert "handles incomingCall (trigger: call)" in result.err


def test_params_are_for_request_or_subflow_executions() -> None:
    result = cli("chat", *PHONE, "--channel", "voice", "--param", "a=1", "--digits", "0")
    assert_refused(result, says="parameters are the flow.data of a REST or subflow execution")
    bad = cli("chat", *PHONE, "--trigger", "request", "--param", "novalue", "--say", "x")
    assert_refused(bad, says="--param 'novalue': expected K=V")


def test_digits_without_a_flow_or_off_a_call_are_refused() -> None:
    no_flow = cli("chat", "--bot", str(HOTEL / "assistant.json"), "--digits", "1")
    assert_refused(no_flow, says="--digits is keypad input on a call through a Studio flow")
    flex = HOTEL / "flows" / "flex_messaging.json"
    messaging = cli("chat", "--bot", f"UA00000000000000000000000000000001={HOTEL / 'assistant.json'}",
                    "--flow", str(flex), "--digits", "1")
    assert_refused(messaging, says="digits are keypad input on a call")
