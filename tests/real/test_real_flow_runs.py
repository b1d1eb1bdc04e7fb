"""Real Studio flows from shared/real/studio run offline with a scripted bot: every v2 flow starts and takes
its first steps without engine errors; the three real Autopilot + Flex flows reach the Flex task with valid
attributes JSON; the Aselo webchat flow runs its system-down subflow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.clock import FixedClock
from harness.engines.studio.engine import StudioEnvironment
from harness.models.flow import Flow, flow_from_dict, load_flow
from tests.conftest import real_files, real_path, requires_real
from tests.unit.engines.studio.fakebot import ScriptedBot

pytestmark = [pytest.mark.real, requires_real]

V2_FLOWS = [
    path
    for path in real_files("studio")
    if "widget-definitions" not in path.parts and "PARTIAL" not in path.name and "LEGACY_" not in path.name
]
ACCOUNT = "AC" + "a" * 32
USER = "+14155550123"
TWILIO_NUMBER = "+14155550000"
CHAT = {
    "ChannelSid": "CH" + "c" * 32,
    "InstanceSid": "IS" + "d" * 32,
    "ChannelAttributes": json.dumps({"from": "Ana", "channel_type": "web"}),
}


def make_env(bot: ScriptedBot | None = None, **kwargs: Any) -> StudioEnvironment:
    return StudioEnvironment(
        bots={"*": bot or ScriptedBot()},
        clock=FixedClock("2023-03-01T10:00:00Z"),
        auth_token="secret",
        account_sid=ACCOUNT,
        **kwargs,
    )


def substituted(path: Path, values: dict[str, str]) -> Flow:
    """The flow with deploy-time `${…}` placeholders replaced, as Terraform would before deploying."""

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            for name, replacement in values.items():
                value = value.replace("${" + name + "}", replacement)
            return value
        if isinstance(value, list):
            return [walk(item) for item in value]
        if isinstance(value, dict):
            return {key: walk(item) for key, item in value.items()}
        return value

    return flow_from_dict(walk(json.loads(path.read_text(encoding="utf-8"))), path=str(path))


@pytest.mark.parametrize("path", V2_FLOWS, ids=lambda p: p.name)
def test_every_real_flow_starts_and_runs_its_first_steps(path: Path) -> None:
    flow = load_flow(path)
    loaded = make_env().load(flow)
    started = 0
    for transition in flow.initial.transitions:
        if not transition.next or transition.event == "incomingParent":
            continue
        if transition.event == "incomingRequest":
            execution = loaded.start("incomingRequest", To=USER, From=TWILIO_NUMBER, Parameters="{}")
        else:
            execution = loaded.start(transition.event, From=USER, To=TWILIO_NUMBER, Body="hello", **CHAT)
        for reply in ("1", "yes"):
            if execution.status != "active":
                break
            execution.deliver(reply)
        assert execution.steps[0]["event"] == transition.event
        assert execution.status == "ended" or execution.waiting is not None
        json.dumps(execution.record(), default=str)
        execution.end()
        started += 1
    if flow.initial.next_for("incomingParent"):  # a subflow: started as a parent would start it
        execution = loaded.start(
            "incomingParent", From=USER, To=TWILIO_NUMBER, parameters={"system_down": "true"}
        )
        assert execution.steps[0]["event"] == "incomingParent" and len(execution.steps) >= 2
        started += 1
    assert started >= 1


def test_volunteer_chatbot_integration_hands_off_to_flex() -> None:
    flow = load_flow(real_path("studio/function-templates__volunteer-comm__Chatbot-Integration_flow.json"))
    loaded = make_env().load(flow)
    execution = loaded.inbound(USER, "hi", To=TWILIO_NUMBER, **CHAT)
    assert execution.waiting == "autopilot_1"
    loaded.inbound(USER, "talk to an agent")
    assert execution.path == ["Trigger", "autopilot_1", "split_1", "send_message_2", "send_to_flex_1"]
    [task] = execution.flex_tasks
    assert json.loads(task["attributes"]) == {
        "name": "Ana",
        "channelType": "web",
        "channelSid": CHAT["ChannelSid"],
    }
    assert task["workflow_sid"] == "WW2cc9ef4cbd96328adf7e90e4e1fef1c0"
    assert execution.messages[-1]["body"] == "Trying to connect you in"


def test_aselo_with_chatbot_carries_the_bot_memory_into_the_task() -> None:
    webchat = json.loads(real_path("studio/aselo__ca__webchat.json").read_text(encoding="utf-8"))
    # Aselo's own default attributes template (from the production webchat flow) for ${channel_attributes}.
    attributes = next(s for s in webchat["states"] if s["name"] == "defaultAttributes")["properties"][
        "attributes"
    ]
    flow = substituted(
        real_path("studio/aselo__default__with-chatbot.json"),
        {
            "pre_survey_bot_sid": "UA" + "1" * 32,
            "target_task_name": "pre_survey",
            "channel_attributes": attributes,
            "master_workflow_sid": "WW" + "2" * 32,
            "chat_task_channel_sid": "chat",
        },
    )
    bot = ScriptedBot(handoff_task="counselor_handoff")
    loaded = make_env(bot).load(flow)
    execution = loaded.inbound(USER, "hi", To=TWILIO_NUMBER, **CHAT)
    loaded.inbound(USER, "I need a counsellor, an agent")
    assert execution.path == ["Trigger", "ChatBot", "check_counselor_handoff", "attributes"]
    assert bot.starts[0]["target_task"] == "pre_survey" and execution.messages[0]["from"] == "Bot"
    [task] = execution.flex_tasks
    parsed = json.loads(task["attributes"])
    assert parsed["memory"]["sendToAgent"] is True and parsed["memory"]["twilio"]["chat"]["From"] == USER
    assert parsed["name"] == "Ana" and parsed["channelType"] == "web"


def test_volunteer_voice_to_flex_by_call_and_by_sms() -> None:
    flow = load_flow(real_path("studio/function-templates__volunteer-comm__VoiceToFlex.json"))
    loaded = make_env().load(flow)
    call = loaded.start("incomingCall", From=USER, To=TWILIO_NUMBER)
    call.deliver("get me an agent")
    assert call.waiting == "gather_1"
    call.deliver("", Digits="1")
    assert call.path[-3:] == ["gather_1", "say_play_1", "send_to_flex_1"]
    assert json.loads(call.flex_tasks[0]["attributes"]) == {"type": "inbound", "name": USER}
    assert {m["channel"] for m in call.messages} == {"voice"}

    sms = loaded.inbound("+14155550777", "bye", To=TWILIO_NUMBER)
    # split_2 reads widgets.autopilot_1 (a widget of the voice branch): empty here, so noMatch — as in Studio.
    assert sms.path[-2:] == ["autopilot_2", "split_2"] and sms.steps[-1]["input"] == ""
    assert sms.waiting == "send_and_reply_1"
    loaded.inbound("+14155550777", "Coordinator")
    assert sms.path[-2:] == ["send_message_1", "send_to_flex_2"]
    assert json.loads(sms.flex_tasks[0]["attributes"])["channelType"] == ""


def test_aselo_webchat_runs_the_system_down_subflow() -> None:
    subflow_sid = "FW" + "7" * 32
    webchat = substituted(
        real_path("studio/aselo__ca__webchat.json"), {"system_down_studio_subflow_sid": subflow_sid}
    )
    env = make_env(subflows={subflow_sid: load_flow(real_path("studio/aselo__templates__system-down.json"))})
    execution = env.load(webchat).inbound(USER, "hello", To=TWILIO_NUMBER, **CHAT)
    child_steps = [step for step in execution.steps if step.get("parent_step_sid")]
    run_step = next(step for step in execution.steps if step["widget"] == "run_subflow_system_down")
    assert child_steps[0]["event"] == "incomingParent" and child_steps[1]["widget"] == "set_var_system_down"
    assert run_step["event"] == "completed" and {s["parent_step_sid"] for s in child_steps} == {
        run_step["sid"]
    }
    assert "system_down" in execution.widgets["run_subflow_system_down"]
    # the subflow's Flex configuration lookup goes to flex-api.twilio.com: refused, never sent
    assert any("twilio.com" in r["url"] and r["status"] is None for r in execution.http_requests)


# --- the same real flows with our real engine and the example bot --------------------------------------


@pytest.fixture(scope="module")
def example_bot_env():
    """The example hotel bot on the real Autopilot engine, its send-to-agent Function served by twilio-run."""
    from harness.engines.autopilot.runtime import AutopilotRuntime
    from harness.engines.twilio.functions import FunctionsServer
    from harness.models.assistant_loader import load_assistant
    from tests.conftest import EXAMPLES, ROOT

    if not (ROOT / "node_modules" / ".bin" / "twilio-run").exists():
        pytest.skip("twilio-run is not installed: run `npm ci`")
    with FunctionsServer(EXAMPLES / "hospitality") as functions:
        clock = FixedClock("2023-03-01T10:00:00Z")
        runtime = AutopilotRuntime(clock=clock, url_map={"https://*.twil.io": functions.base_url})
        bot = runtime.train(load_assistant(EXAMPLES / "hospitality" / "assistant.json"))
        yield StudioEnvironment(bots={"*": bot}, clock=clock, auth_token="secret", account_sid=ACCOUNT)


@pytest.mark.network
def test_volunteer_chatbot_integration_with_the_example_bot(example_bot_env: StudioEnvironment) -> None:
    flow = load_flow(real_path("studio/function-templates__volunteer-comm__Chatbot-Integration_flow.json"))
    loaded = example_bot_env.load(flow)
    execution = loaded.inbound(USER, "I need towels", To=TWILIO_NUMBER, **CHAT)
    assert execution.messages[-1]["body"] == "How many would you like?"
    loaded.inbound(USER, "3 large towels")
    loaded.inbound(USER, "Can I talk to an agent?")
    assert execution.path == ["Trigger", "autopilot_1", "split_1", "send_message_2", "send_to_flex_1"]
    assert execution.widgets["autopilot_1"]["memory"]["sendToAgent"] is True
    assert execution.widgets["autopilot_1"]["CurrentTask"] == "send_to_agent"
    [task] = execution.flex_tasks
    assert json.loads(task["attributes"])["channelSid"] == CHAT["ChannelSid"]


@pytest.mark.network
def test_aselo_flow_carries_the_example_bot_memory(example_bot_env: StudioEnvironment) -> None:
    webchat = json.loads(real_path("studio/aselo__ca__webchat.json").read_text(encoding="utf-8"))
    attributes = next(s for s in webchat["states"] if s["name"] == "defaultAttributes")["properties"]["attributes"]
    flow = substituted(real_path("studio/aselo__default__with-chatbot.json"), {
        "pre_survey_bot_sid": "UA" + "1" * 32, "target_task_name": "greeting", "channel_attributes": attributes,
        "master_workflow_sid": "WW" + "2" * 32, "chat_task_channel_sid": "chat",
    })
    # Aselo hands off when CurrentTask is counselor_handoff (our bot's handoff task is send_to_agent).
    loaded = example_bot_env.load(flow)
    execution = loaded.inbound(USER, "hi", To=TWILIO_NUMBER, **CHAT)
    assert execution.messages[0]["from"] == "Bot" and execution.waiting == "ChatBot"
    loaded.inbound(USER, "bye")  # goodbye ends the dialogue: not a counsellor handoff
    assert execution.path[:3] == ["Trigger", "ChatBot", "check_counselor_handoff"]
    assert execution.widgets["ChatBot"]["CurrentTask"] == "goodbye"
