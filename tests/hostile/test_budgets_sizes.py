"""Oversize utterances (issue 9): a user message of several MB in `chat --say`, on stdin (a 20 MB line) or in
a scenario turn is refused with a message naming the limit (MAX_UTTERANCE_BYTES) and how to raise it; the
stdin reader never holds such a line in memory.

Source of the cap: Twilio Conversations accepts an inbound message Body of up to 32 KB (outbound SMS and
WhatsApp 1600 characters, chat 32 KB), https://www.twilio.com/docs/conversations/conversations-limits.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest

from harness.budgets import DEFAULTS, BudgetExceeded
from harness.cli.chat import _Oversize, _read_line
from harness.clock import FixedClock
from harness.engines.autopilot.runtime import AutopilotRuntime
from harness.models.assistant_loader import load_assistant
from tests.hostile.kit import TINY_BOT, assert_refused, cli, cli_subprocess, run_suite_beside

LIMIT = int(DEFAULTS["MAX_UTTERANCE_BYTES"])
SAYS = "MAX_UTTERANCE_BYTES"

ECHO_FLOW = {"description": "echo", "initial_state": "Trigger", "flags": {"allow_concurrent_calls": True},
             "states": [{"name": "Trigger", "type": "trigger", "properties": {},
                         "transitions": [{"event": "incomingMessage", "next": "Echo"}]},
                        {"name": "Echo", "type": "send-message",
                         "transitions": [{"event": "sent"}, {"event": "failed"}],
                         "properties": {"from": "{{flow.channel.address}}", "to": "{{contact.channel.address}}",
                                        "body": "you said {{trigger.message.Body | size}} characters"}}]}

OVERSIZE = {
    "one byte over": "a" * (LIMIT + 1),
    "several MB": "x" * 5_000_000,
    "multi-byte characters over in bytes only": "é" * (LIMIT // 2 + 1),  # fewer characters than the limit
    "emoji": "😀" * (LIMIT // 4 + 1),
}


def _echo_flow(tmp_path: Path) -> Path:
    flow = tmp_path / "echo.json"
    flow.write_text(json.dumps(ECHO_FLOW), "utf-8")
    return flow


@pytest.mark.parametrize("text", list(OVERSIZE.values()), ids=list(OVERSIZE))
def test_chat_say_refuses_an_oversize_message_to_a_bot(text: str) -> None:
    result = cli("chat", "--bot", TINY_BOT, "--say", text)
    assert_refused(result, says=SAYS)
    assert "AUTOPILOT_HARNESS_MAX_UTTERANCE_BYTES" in result.text and "turn 1" in result.text
    assert len(result.text) < 5000  # the message is named by its start, not echoed whole


@pytest.mark.parametrize("text", list(OVERSIZE.values())[:2], ids=list(OVERSIZE)[:2])
def test_chat_say_refuses_an_oversize_message_to_a_flow(tmp_path: Path, text: str) -> None:
    result = cli("chat", "--flow", _echo_flow(tmp_path), "--say", text)
    assert_refused(result, says=SAYS)
    assert "you said" not in result.text  # the flow never saw it


def test_chat_say_json_keeps_the_transcript_and_the_error() -> None:
    result = cli("chat", "--bot", TINY_BOT, "--json", "--say", "hello", "--say", OVERSIZE["several MB"])
    assert_refused(result, says=SAYS)
    document = json.loads(result.out)
    assert len(document["turns"]) == 1 and SAYS in document["error"]["message"]


def test_chat_say_through_a_real_process_exits_2() -> None:
    # argv strings are capped by the OS (128 KiB on Linux): 100 kB still exceeds the 32 KB limit.
    result = cli_subprocess("chat", "--bot", TINY_BOT, "--say", "y" * 100_000, timeout=60)
    assert_refused(result, says=SAYS)


def test_a_message_at_the_limit_is_accepted(tmp_path: Path) -> None:
    result = cli("chat", "--flow", _echo_flow(tmp_path), "--say", "a" * LIMIT)
    assert result.code == 0 and f"you said {LIMIT} characters" in result.text, result.text


def test_the_limit_can_be_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOPILOT_HARNESS_MAX_UTTERANCE_BYTES", str(2 * LIMIT))
    result = cli("chat", "--flow", _echo_flow(tmp_path), "--say", "a" * (LIMIT + 1))
    assert result.code == 0 and f"you said {LIMIT + 1} characters" in result.text, result.text


def test_a_bad_limit_setting_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOPILOT_HARNESS_MAX_UTTERANCE_BYTES", "lots")
    assert_refused(cli("chat", "--bot", TINY_BOT, "--say", "hello"), says="AUTOPILOT_HARNESS_MAX_UTTERANCE_BYTES")


# --- interactive stdin --------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [LIMIT + 1, 20_000_000], ids=["just over", "20 MB"])
def test_stdin_line_over_the_limit_is_refused_and_the_session_goes_on(size: int) -> None:
    stdin = b"hello\n" + b"x" * size + b"\nhello\n"
    started = time.perf_counter()
    result = cli_subprocess("chat", "--bot", TINY_BOT, stdin=stdin, timeout=90)
    assert time.perf_counter() - started < 60
    assert_refused(result, says=SAYS)
    assert f"is {size} characters" in result.text and result.text.count("bot> Hello!") == 2


def test_stdin_line_of_multibyte_characters_is_refused_by_bytes() -> None:
    result = cli("chat", "--bot", TINY_BOT, stdin="é" * (LIMIT // 2 + 1) + "\n")
    assert_refused(result, says=SAYS)


def test_stdin_without_a_final_newline() -> None:
    result = cli_subprocess("chat", "--bot", TINY_BOT, stdin=b"z" * 3_000_000, timeout=60)
    assert_refused(result, says=SAYS)


class _CountingStdin(io.StringIO):
    """Records the largest read the reader asks for."""

    largest = 0

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        assert size is not None and size >= 0, "an unbounded readline"
        self.largest = max(self.largest, size)
        return super().readline(size)


def test_the_stdin_reader_never_asks_for_an_unbounded_line() -> None:
    stream = _CountingStdin("w" * 1_000_000 + "\nnext\n")
    first = _read_line(stream)
    assert isinstance(first, _Oversize) and first.length == 1_000_000 and len(first.head) <= 40
    assert _read_line(stream) == "next\n"
    assert stream.largest <= max(LIMIT + 1, 1 << 16)  # the line's start, then fixed-size chunks


# --- scenario turns ------------------------------------------------------------------------------------------


def test_an_oversize_turn_in_a_scenario_fails_its_case_only(tmp_path: Path) -> None:
    text = (f"bot: {TINY_BOT.as_posix()}\nscenarios:\n  - name: huge\n    turns:\n"
            f"      - user: {'q' * 2_000_000}\n        expect: {{task: greet}}\n")
    result, document, _junit = run_suite_beside(tmp_path, "huge.scenario.yaml", text)
    bad = [case for case in document["cases"] if case["file"].endswith("huge.scenario.yaml")]
    assert bad and bad[0]["status"] == "error" and SAYS in result.text, result.text
    assert "turn 1" in result.text and "huge.scenario.yaml" in result.text


def test_an_oversize_turn_to_a_flow_fails_its_case_only(tmp_path: Path) -> None:
    flow = _echo_flow(tmp_path)
    text = (f"flow: {flow.as_posix()}\nscenarios:\n  - name: huge\n    turns:\n"
            f"      - user: {'é' * (LIMIT // 2 + 1)}\n")
    result, document, _junit = run_suite_beside(tmp_path, "huge.scenario.yaml", text)
    bad = [case for case in document["cases"] if case["file"].endswith("huge.scenario.yaml")]
    assert bad and bad[0]["status"] == "error" and SAYS in result.text, result.text


def test_the_autopilot_dialogue_refuses_it_and_stays_usable() -> None:
    trained = AutopilotRuntime(clock=FixedClock("2024-05-01T09:00:00Z")).train(load_assistant(TINY_BOT))
    dialogue = trained.start(channel="sms", user="+15555550100")
    with pytest.raises(BudgetExceeded, match=SAYS):
        dialogue.send("x" * 5_000_000)
    assert not dialogue.ended and dialogue.send("hello").task == "greet"
