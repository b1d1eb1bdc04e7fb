"""A scenario file's `bot:` map must name an assistant SID the flow's Autopilot widgets use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.models.scenario import load_scenario_file
from tests.integration.small_bots import write, write_bot


def _flow(sid: str) -> str:
    return json.dumps({"description": "t", "initial_state": "Trigger", "flags": {"allow_concurrent_calls": True},
                       "states": [
                           {"name": "Trigger", "type": "trigger",
                            "transitions": [{"event": "incomingMessage", "next": "bot"}], "properties": {}},
                           {"name": "bot", "type": "send-to-auto-pilot", "transitions": [],
                            "properties": {"autopilot_assistant_sid": sid, "body": "{{trigger.message.Body}}",
                                           "from": "Bot", "chat_channel": "{{trigger.message.ChannelSid}}",
                                           "timeout": 14400}}]})


SID = "UA" + "1" * 32


def test_a_bot_map_naming_no_widget_sid_is_a_load_error(tmp_path: Path) -> None:
    write_bot(tmp_path)
    write(tmp_path / "flow.json", _flow(SID))
    path = write(tmp_path / "m.scenario.yaml", f"""flow: flow.json
bot:
  UA{"1" * 31}2: bot.json
scenarios:
  - name: hi
    turns: [{{user: hi}}]
""")
    with pytest.raises(HarnessError) as caught:
        load_scenario_file(path)
    text = caught.value.render()
    assert "m.scenario.yaml:3:3" in text and f"the flow's assistant SIDs: {SID}" in text
    assert f"did you mean {SID}?" in text


def test_a_matching_sid_loads(tmp_path: Path) -> None:
    write_bot(tmp_path)
    write(tmp_path / "flow.json", _flow(SID))
    path = write(tmp_path / "m.scenario.yaml", f"""flow: flow.json
bot:
  {SID}: bot.json
scenarios:
  - name: hi
    turns: [{{user: hi}}]
""")
    assert load_scenario_file(path).bots
