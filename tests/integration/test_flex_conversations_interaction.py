"""Flex Conversations (issue 11): Send to Flex under incomingConversationMessage hands off through a Flex
Interaction, which creates the TaskRouter task (reference/taskrouter.md §3.1, §4.2). `expect.handoff.flex.
interaction` asserts it; the contract rules and the linter take a Conversations-only flow as one (no
Programmable Chat channel: `conversationSid` instead of `channelSid`, the default Autopilot sender)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.contracts.twilio_rules import check_autopilot_from, check_flex_attributes
from harness.models.flow import flow_from_dict, load_flow
from tests.conftest import ROOT
from tests.hostile.kit import assert_refused, cli

HOTEL = ROOT / "examples" / "hospitality"
CONVERSATIONS_FLOW = HOTEL / "flows" / "flex_conversations.json"


def run(tmp_path: Path, flow: str, trigger: str, channel: str, interaction: str) -> tuple[int, str]:
    path = tmp_path / "t.scenario.yaml"
    path.write_text(
        f"bot: {json.dumps(str(HOTEL / 'assistant.json'))}\n"
        f"flow: {json.dumps(str(HOTEL / 'flows' / flow))}\n"
        f"workflow: {json.dumps(str(HOTEL / 'workflow.json'))}\n"
        f"queues: {json.dumps(str(HOTEL / 'queues.json'))}\nfunctions: {json.dumps(str(HOTEL))}\n"
        f"trigger: {trigger}\nchannel: {channel}\nclock: 2024-05-01T09:00:00Z\n"
        "scenarios:\n  - name: s\n    turns: [{user: Agent}]\n"
        f"    expect: {{handoff: {{flex: {{interaction: {interaction}}}}}}}\n", encoding="utf-8")
    result = cli("run", path)
    return result.code, result.text


@pytest.mark.parametrize(("channel", "interaction_channel"), [("sms", "sms"), ("whatsapp", "whatsapp"),
                                                              ("chat", "web")])
def test_the_interaction_and_its_channel_pass(tmp_path: Path, channel: str, interaction_channel: str) -> None:
    code, text = run(tmp_path, "flex_conversations.json", "conversation", channel,
                     f"{{channel: {interaction_channel}}}")
    assert code == 0, text


def test_a_wrong_interaction_channel_fails_naming_both(tmp_path: Path) -> None:
    code, text = run(tmp_path, "flex_conversations.json", "conversation", "whatsapp", "{channel: sms}")
    assert code == 1, text
    assert "handoff.interaction.channel" in text and "whatsapp" in text


def test_a_task_without_an_interaction_fails(tmp_path: Path) -> None:
    # Legacy Flex messaging: Send to Flex creates the task directly, no Interaction.
    code, text = run(tmp_path, "flex_messaging.json", "message", "sms", "{}")
    assert code == 1, text
    assert "a task created by a Flex Interaction" in text


def test_interaction_keys_are_checked_by_the_schema(tmp_path: Path) -> None:
    path = tmp_path / "t.scenario.yaml"
    path.write_text(f"bot: {json.dumps(str(HOTEL / 'assistant.json'))}\nscenarios:\n  - name: s\n"
                    "    turns: [{user: hi}]\n    expect: {handoff: {flex: {interaction: {media: sms}}}}\n",
                    encoding="utf-8")
    assert_refused(cli("validate", path), names="t.scenario.yaml", says="media")


def test_a_conversations_task_needs_its_conversation_not_a_chat_channel() -> None:
    # An Interaction-created task carries conversationSid (reference/taskrouter.md §4.2); channelSid is the
    # legacy Programmable Chat channel.
    base = {"name": "+15555550123", "channelType": "sms", "flexInteractionSid": "KD" + "0" * 32}
    problems = check_flex_attributes(json.dumps(base), interaction="i", channel="sms")
    assert [p.path for p in problems] == ["$.conversationSid"]
    assert check_flex_attributes(json.dumps({**base, "conversationSid": "CH" + "0" * 32}),
                                 interaction="i", channel="sms") == []


def test_a_conversations_flow_keeps_the_default_autopilot_sender() -> None:
    assert check_autopilot_from(load_flow(CONVERSATIONS_FLOW), channel="sms") == []
    # The legacy Flex messaging flow still needs the guide's sender.
    legacy = json.loads((HOTEL / "flows" / "flex_messaging.json").read_text())
    legacy["states"][1]["properties"]["from"] = "{{flow.channel.address}}"
    assert check_autopilot_from(flow_from_dict(legacy), channel="sms") != []


def test_the_conversations_flow_lints_clean() -> None:
    result = cli("lint", CONVERSATIONS_FLOW)
    assert result.code == 0 and "0 error(s), 0 warning(s)" in result.text, result.text
