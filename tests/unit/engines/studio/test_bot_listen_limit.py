"""Issue 10 rows 4 and 18: the Autopilot widget and the 4-hour limit of a listening dialogue.

Sources: "On messaging channels a pending listen waits 4 hours, then the dialogue times out; this cannot be
changed" (Autopilot's Listen doc, reference/autopilot.md §2.1; §5: the dialogue ends on the 4-hour
timeout); the widget's `timeout` event "when the integration times out" (reference/autopilot.md §6). So a
widget `timeout` above 4 hours does not keep the bot listening longer, and a dialogue that ended by a
timeout is ended in the transcript's dialogues. Which event the widget takes when Autopilot's limit comes
first is not documented: `bot_expiry_event` ("timeout" by default, or "sessionEnded").
"""

from __future__ import annotations

from typing import Any

from harness.clock import FixedClock
from harness.runner.session import FlowConversation
from tests.unit.engines.studio.studio_kit import GUEST, START, bot_widget, hotel_bot, make_env, make_flow, widget

FOUR_HOURS = 4 * 60 * 60
LISTENING = [{"uniqueName": "greeting", "actions": [{"say": "Hello! What can I do?"}, {"remember": {"seen": True}},
                                                    {"listen": True}]}]


def _conversation(timeout: int, **env: Any) -> FlowConversation:
    clock = FixedClock(START)
    flow = make_flow(bot_widget(timeout=timeout, next_={"timeout": "Bye", "sessionEnded": "Bye"}),
                     widget("Bye", "send-message", [{"event": "sent"}], to="{{contact.channel.address}}",
                            **{"from": "{{flow.channel.address}}"},
                            body="Ended after {{widgets.Bot.CurrentTask}} ({{widgets.Bot.memory.seen}})"))
    loaded = make_env({"*": hotel_bot(clock, LISTENING)}, clock, **env).load(flow)
    return FlowConversation(loaded, channel="sms", user=GUEST)


def test_a_widget_timeout_over_four_hours_still_ends_at_four_hours() -> None:
    conversation = _conversation(86400)
    conversation.say("hello")
    clock = conversation._loaded.environment.clock
    assert (conversation.execution.wait.deadline - clock.now()).total_seconds() == FOUR_HOURS
    conversation.wait(FOUR_HOURS - 1)
    assert conversation.execution.waiting == "Bot"  # still listening one second before the limit
    turn = conversation.wait(1)
    step = next(s for s in turn.steps if s["widget"] == "Bot")
    assert step["event"] == "timeout" and step["dialogue_ended"] is True
    assert "Autopilot's limit for a listening dialogue" in step["reason"]
    assert conversation.execution.messages[-1]["body"] == "Ended after greeting (true)"
    transcript = conversation.transcript()
    [dialogue] = transcript.meta["dialogues"]
    assert dialogue["ended"] is True and dialogue["final_memory"]["seen"] is True
    assert transcript.ended is True and turn.ended is True


def test_the_widgets_own_shorter_timeout_ends_the_dialogue_too() -> None:
    conversation = _conversation(600)
    conversation.say("hello")
    dialogue = conversation.execution.wait.data["dialogue"]  # the bot's Autopilot dialogue
    dialogue_sid = dialogue.sid
    turn = conversation.wait(600)
    step = next(s for s in turn.steps if s["widget"] == "Bot")
    assert step["event"] == "timeout" and "widget's timeout of 600 s" in step["reason"]
    assert step["dialogue_sid"] == dialogue_sid
    assert conversation.transcript().meta["dialogues"] == [
        {"sid": dialogue_sid, "ended": True, "final_memory": step["context"]["memory"]}]
    assert dialogue.ended and dialogue.final_memory["seen"] is True  # Autopilot's side ended too


def test_the_event_at_autopilots_limit_is_configurable() -> None:
    conversation = _conversation(86400, bot_expiry_event="sessionEnded")
    conversation.say("hello")
    turn = conversation.wait(FOUR_HOURS)
    step = next(s for s in turn.steps if s["widget"] == "Bot")
    assert step["event"] == "sessionEnded" and step["dialogue_ended"] is True
    assert conversation.transcript().meta["dialogues"][0]["ended"] is True


def test_a_message_after_the_limit_starts_a_new_execution_and_dialogue() -> None:
    conversation = _conversation(86400)
    conversation.say("hello")
    first = conversation.execution
    conversation._loaded.environment.clock.advance(FOUR_HOURS + 5)
    conversation.say("hello again")  # the late message fires the due timeout first
    assert first.status == "ended" and conversation.execution is not first
    dialogues = conversation.transcript().meta["dialogues"]
    assert [d["ended"] for d in dialogues] == [True, False]
