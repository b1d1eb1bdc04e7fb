"""Who talks on each channel when a scenario names no user, and a channel the flow cannot take.

Twilio addresses the user per channel (the inbound `From`, Autopilot's `UserIdentifier` and
`Memory.twilio.<channel>.From`; reference/autopilot.md §4.2-4.3): an E.164 number on SMS and voice,
`whatsapp:+…` on WhatsApp, `messenger:<page-scoped id>` on Facebook Messenger (Twilio's Messenger channel
docs), a Programmable Chat identity on chat."""

from __future__ import annotations

import json
import re
from pathlib import Path

from harness.cli import main
from harness.models.scenario_loader import load_scenario_file
from harness.runner.cases import run_case
from harness.runner.pool import SessionPool
from harness.runner.session import default_user
from tests.conftest import ROOT

TINY_BOT = (ROOT / "tests" / "fixtures" / "scenarios" / "bot.json").as_posix()
HOTEL = ROOT / "examples" / "hospitality"
E164 = r"\+[1-9]\d{7,14}"


def test_each_channel_s_default_user_is_shaped_as_twilio_addresses_it() -> None:
    assert re.fullmatch(E164, default_user("sms"))
    assert re.fullmatch(E164, default_user("voice"))
    assert re.fullmatch("whatsapp:" + E164, default_user("whatsapp"))
    assert re.fullmatch(r"messenger:\d+", default_user("messenger"))
    assert default_user("chat") and not default_user("chat").startswith("+")


def test_the_bot_sees_each_channel_s_default_user_in_memory(tmp_path: Path) -> None:
    path = tmp_path / "who.scenario.yaml"
    path.write_text(f"bot: {TINY_BOT}\nchannels: [sms, whatsapp, chat, messenger, voice]\nscenarios:\n"
                    "  - name: hi\n    turns: [{user: hello, expect: {task: greet}}]\n", encoding="utf-8")
    loaded = load_scenario_file(path)
    seen = {}
    with SessionPool() as pool:
        for scenario in loaded.scenarios:
            result = run_case(pool, scenario, file=loaded)
            assert result.passed, result.error
            ((key, block),) = result.transcript.final_memory["twilio"].items()
            seen[scenario.id] = (key, block["From"])
    assert seen == {
        "hi[sms]": ("sms", "+15555550100"),
        "hi[whatsapp]": ("messaging.whatsapp", "whatsapp:+15555550100"),
        "hi[chat]": ("chat", "guest"),
        "hi[messenger]": ("messaging.facebook", "messenger:1000000000000001"),
        "hi[voice]": ("voice", "+15555550100"),
    }


def test_voice_through_a_messaging_only_flow_is_refused_not_passed(tmp_path: Path) -> None:
    # flex_messaging.json's Trigger has only an incomingMessage transition: a call never reaches the bot
    # (reference/studio.md §2.1), so the voice run of the matrix must not pass as a message would.
    path = tmp_path / "mixed.scenario.yaml"
    path.write_text(f"bot: {(HOTEL / 'assistant.json').as_posix()}\n"
                    f"flow: {(HOTEL / 'flows' / 'flex_messaging.json').as_posix()}\n"
                    f"functions: {HOTEL.as_posix()}\n"
                    "channels: [sms, voice]\nscenarios:\n"
                    "  - name: towels\n    turns: [{user: I need towels, expect: {task: get_quantity}}]\n",
                    encoding="utf-8")
    out = tmp_path / "run.json"
    assert main(["run", "-q", "--json", str(out), str(path)]) == 1
    cases = {c["id"]: c for c in json.loads(out.read_text(encoding="utf-8"))["cases"]}
    assert cases["towels[sms]"]["status"] == "passed"
    voice = cases["towels[voice]"]
    assert voice["status"] != "passed"
    # voice runs as a call (trigger: call); the flow's Trigger does not handle one (harness.runner.session).
    assert "no transition for incomingCall" in voice["error"] and "handles incomingMessage" in voice["error"]
    assert "mixed.scenario.yaml:" in voice["error"]
