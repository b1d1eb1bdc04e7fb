"""Studio/Autopilot fidelity (QA2 items 7–13): what the Autopilot widget tells the bot, how HTTP widgets
sign their requests, method/content_type checks, NaN attributes, Step/Execution shapes, missing subflows
and when split equality compares numbers."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jsonschema
import pytest
import responses
from twilio.request_validator import RequestValidator

from harness.clock import FixedClock
from harness.engines.autopilot.runtime import AutopilotRuntime
from harness.engines.studio.conditions import evaluate
from harness.engines.studio.engine import StudioEnvironment
from harness.errors import HarnessError
from harness.models.assistant_loader import assistant_from_dict
from harness.models.flow import Flow, flow_from_dict
from tests.conftest import real_path
from tests.unit.engines.studio.fakebot import ScriptedBot

ACCOUNT = "AC" + "a" * 32
TOKEN = "secret-token"
USER = "+14155550123"
TWILIO_NUMBER = "+15005550006"
WIDGET_SID = "UA" + "2e" * 16
ACTIONS_URL = "https://bot.example.com/actions"
PROD = "https://cc.example.com"
LOCAL = "http://127.0.0.1:9"
LOCAL_ACTIONS = f"{LOCAL}/actions"


def widget(name: str, type_: str, transitions: list[dict[str, Any]], **properties: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "transitions": transitions, "properties": properties}


def make_flow(*states: dict[str, Any], trigger: str = "incomingMessage", path: str = "flow.json") -> Flow:
    trigger_state = widget("Trigger", "trigger", [{"event": trigger, "next": states[0]["name"]}])
    return flow_from_dict({"description": "t", "states": [trigger_state, *states], "initial_state": "Trigger",
                           "flags": {"allow_concurrent_calls": True}}, path=path)


def make_env(bots: Any = None, **kwargs: Any) -> StudioEnvironment:
    kwargs.setdefault("clock", FixedClock("2023-03-01T10:00:00Z"))
    return StudioEnvironment(bots=bots or {"*": ScriptedBot()}, auth_token=TOKEN, account_sid=ACCOUNT, **kwargs)


# --- 7: the Autopilot widget's channel details and assistant SID reach the dialogue --------------------


def _bot_widget(**extra: Any) -> dict[str, Any]:
    return widget("Bot", "send-to-auto-pilot", [{"event": "sessionEnded"}, {"event": "failure"},
                                                {"event": "timeout"}],
                  autopilot_assistant_sid=WIDGET_SID, body="{{trigger.message.Body}}",
                  timeout=14400, **{"from": "{{flow.channel.address}}"}, **extra)


def _real_bot() -> Any:
    """A one-task assistant whose task is an Action URL (so the webhook shows what Autopilot sent)."""
    data = {"uniqueName": "tiny", "friendlyName": "tiny", "defaults": {"defaults": {"fallback": "task://hi"}},
            "tasks": [{"uniqueName": "hi", "actionsUrl": ACTIONS_URL, "fields": [],
                       "samples": [{"language": "en-US", "taggedText": "hello"}]}]}
    # The kit calls only mapped or loopback URLs (network guard): the Action URL goes to LOCAL_ACTIONS.
    runtime = AutopilotRuntime(clock=FixedClock("2023-03-01T10:00:00Z"), url_map={ACTIONS_URL: LOCAL_ACTIONS})
    return runtime.train(assistant_from_dict(data))


@responses.activate
def test_chat_widget_fills_the_chat_block_and_webhooks_use_the_widget_sid() -> None:
    responses.post(LOCAL_ACTIONS, json={"actions": [{"say": "hi"}]})
    bot = _real_bot()
    assert bot.sid != WIDGET_SID  # a "*" map: the bot's own SID is not the one the widget names
    flow = make_flow(_bot_widget(chat_channel="{{trigger.message.ChannelSid}}",
                                 chat_service="{{trigger.message.InstanceSid}}",
                                 chat_attributes='{"channelType": "web"}'))
    execution = make_env({"*": bot}).load(flow).start(
        "incomingMessage", From=USER, Body="hello", ChannelSid="CH" + "1" * 32, InstanceSid="IS" + "2" * 32)
    outputs = execution.widgets["Bot"]
    assert outputs["memory"]["twilio"]["chat"] == {
        "From": USER, "ChannelSid": "CH" + "1" * 32, "ServiceSid": "IS" + "2" * 32, "AssistantName": "",
        "Attributes": {"channelType": "web"}}
    sent = dict(parse_qsl(responses.calls[0].request.body))
    assert sent["AssistantSid"] == outputs["AssistantSid"] == WIDGET_SID
    assert sent["DialoguePayloadUrl"] == outputs["DialoguePayloadUrl"]
    assert f"/Assistants/{WIDGET_SID}/Dialogues/{outputs['DialogueSid']}" in sent["DialoguePayloadUrl"]
    assert json.loads(sent["Memory"])["twilio"]["chat"]["ChannelSid"] == "CH" + "1" * 32


@responses.activate
def test_sms_and_voice_blocks_carry_the_flows_address() -> None:
    responses.post(LOCAL_ACTIONS, json={"actions": [{"say": "hi"}]})
    env = make_env({"*": _real_bot()})
    sms = env.load(make_flow(_bot_widget())).start("incomingMessage", From=USER, To=TWILIO_NUMBER, Body="hello")
    assert sms.widgets["Bot"]["memory"]["twilio"]["sms"] == {"From": USER, "To": TWILIO_NUMBER}
    call = env.load(make_flow(_bot_widget(), trigger="incomingCall", path="voice.json")).start(
        "incomingCall", From=USER, To=TWILIO_NUMBER, CallSid="CA" + "3" * 32)
    block = call.widgets["Bot"]["memory"]["twilio"]["voice"]
    assert block["To"] == TWILIO_NUMBER and block["CallSid"] == "CA" + "3" * 32


def test_whatsapp_block_prefixes_the_flow_address() -> None:
    dialogue = _real_bot().start(channel="whatsapp", user="+1555", channel_info={"To": TWILIO_NUMBER})
    assert dialogue.memory["twilio"]["messaging.whatsapp"] == {"From": "whatsapp:+1555",
                                                              "To": f"whatsapp:{TWILIO_NUMBER}"}


def test_a_port_with_the_old_four_argument_start_still_works() -> None:
    bot = ScriptedBot()  # start(channel, user, memory, target_task) only
    execution = make_env({"*": bot}).load(make_flow(_bot_widget())).start(
        "incomingMessage", From=USER, Body="agent please")
    assert execution.steps[-1]["event"] == "sessionEnded"
    assert execution.widgets["Bot"]["AssistantSid"] == WIDGET_SID
    assert bot.starts and "channel_info" not in bot.starts[0]


def test_a_kwargs_port_gets_the_optional_arguments() -> None:
    seen: dict[str, Any] = {}

    class KwargsBot(ScriptedBot):
        def start(self, **kwargs: Any) -> Any:  # type: ignore[override]
            seen.update(kwargs)
            return super().start(**{k: v for k, v in kwargs.items() if k in ("channel", "user", "memory",
                                                                              "target_task")})

    make_env({"*": KwargsBot()}).load(make_flow(_bot_widget())).start(
        "incomingMessage", From=USER, To=TWILIO_NUMBER, Body="agent")
    assert seen["assistant_sid"] == WIDGET_SID and seen["channel_info"] == {"To": TWILIO_NUMBER}


# --- 8: HTTP Request and Run Function look like Twilio's own requests -------------------------------------


def _http(method: str = "POST", content_type: str = "application/x-www-form-urlencoded;charset=utf-8",
          **extra: Any) -> dict[str, Any]:
    return widget("Call", "make-http-request", [{"event": "success"}, {"event": "failed"}],
                  method=method, content_type=content_type, url=f"{PROD}/api/handoff?src=studio", **extra)


def _run(flow: Flow, **env: Any) -> tuple[Any, Any]:
    execution = make_env(url_map={PROD: LOCAL}, **env).load(flow).start("incomingMessage", From=USER, Body="x")
    return execution, responses.calls[-1].request


def _validator() -> RequestValidator:
    return RequestValidator(TOKEN)


@responses.activate
def test_form_post_is_signed_over_the_configured_url_and_fields() -> None:
    responses.post(f"{LOCAL}/api/handoff", body="ok")
    flow = make_flow(_http(parameters=[{"key": "b", "value": "2"}, {"key": "a", "value": "{{trigger.message.Body}}"}]))
    execution, request = _run(flow)
    headers = request.headers
    assert _validator().validate(f"{PROD}/api/handoff?src=studio", {"a": "x", "b": "2"},
                                 headers["X-Twilio-Signature"])
    assert not _validator().validate(f"{PROD}/api/handoff?src=studio", {"a": "y", "b": "2"},
                                     headers["X-Twilio-Signature"])
    assert headers["User-Agent"].startswith("TwilioProxy/")
    token = headers["I-Twilio-Idempotency-Token"]
    assert token and execution.http_requests[0]["headers"]["I-Twilio-Idempotency-Token"] == token


@responses.activate
def test_get_is_signed_with_its_query_string() -> None:
    responses.get(f"{LOCAL}/api/handoff", body="ok")
    flow = make_flow(_http("GET", parameters=[{"key": "q", "value": "a b"}]))
    _execution, request = _run(flow)
    query = urlsplit(request.url).query
    assert "q=a+b" in query and "src=studio" in query
    assert _validator().validate(f"{PROD}/api/handoff?{query}", {}, request.headers["X-Twilio-Signature"])


@responses.activate
def test_json_body_is_signed_with_body_sha256() -> None:
    responses.post(f"{LOCAL}/api/handoff", json={"ok": True})
    flow = make_flow(_http(content_type="application/json;charset=utf-8", body='{"memory": {"a": 1}}'))
    execution, request = _run(flow)
    sent_query = dict(parse_qsl(urlsplit(request.url).query))
    body = request.body.decode() if isinstance(request.body, bytes) else request.body
    assert sent_query["bodySHA256"] == execution.http_requests[0]["body_sha256"]
    signed_url = f"{PROD}/api/handoff?src=studio&bodySHA256={sent_query['bodySHA256']}"
    assert _validator().validate(signed_url, body, request.headers["X-Twilio-Signature"])
    assert not _validator().validate(signed_url, body + " ", request.headers["X-Twilio-Signature"])
    assert "bodySHA256" not in execution.http_requests[0].get("query", {})  # the contract sees the flow's URL


@responses.activate
def test_signing_can_be_switched_off_and_run_function_is_signed_too() -> None:
    responses.post(f"{LOCAL}/api/handoff", body="ok")
    _execution, request = _run(make_flow(_http()), sign_requests=False)
    assert "X-Twilio-Signature" not in request.headers
    assert request.headers["User-Agent"].startswith("TwilioProxy/")
    function = widget("Fn", "run-function", [{"event": "success"}, {"event": "fail"}],
                      url=f"{PROD}/fn", parameters=[{"key": "k", "value": "v"}])
    responses.post(f"{LOCAL}/fn", body="ok")
    _execution, request = _run(make_flow(function))
    assert _validator().validate(f"{PROD}/fn", {"k": "v"}, request.headers["X-Twilio-Signature"])
    assert request.headers["I-Twilio-Idempotency-Token"]


# --- 9: make-http-request takes GET/POST and form/JSON only -----------------------------------------------


@pytest.mark.parametrize(("prop", "value", "wanted"), [
    ("method", "PUT", "GET or POST"),
    ("method", "post", "GET or POST"),
    ("content_type", "text/xml", "application/x-www-form-urlencoded or application/json"),
])
def test_loader_refuses_other_methods_and_content_types(prop: str, value: str, wanted: str) -> None:
    with pytest.raises(HarnessError) as caught:
        make_flow(_http(**{prop: value}), path="bad.json")
    problems = getattr(caught.value, "errors", [caught.value])
    found = [p for p in problems if f"'{prop}'" in p.message]
    assert found and wanted in found[0].message and repr(value) in found[0].message
    assert found[0].location.path == "bad.json"
    assert found[0].location.pointer == f"/states/1/properties/{prop}"


@pytest.mark.parametrize("content_type", ["application/json", "Application/JSON; charset=utf-8",
                                          "application/x-www-form-urlencoded;charset=utf-8"])
def test_loader_accepts_form_and_json_with_a_charset(content_type: str) -> None:
    make_flow(_http(content_type=content_type))


@responses.activate
def test_a_liquid_method_is_checked_when_rendered() -> None:
    flow = make_flow(_http(method="{{trigger.message.Body}}"))  # the loader cannot know it
    execution = make_env(url_map={PROD: LOCAL}).load(flow).start("incomingMessage", From=USER, Body="PUT")
    assert execution.steps[-1]["event"] == "failed" and "GET or POST" in execution.steps[-1]["error"]
    assert not responses.calls


# --- 10: NaN / Infinity in Send to Flex attributes ----------------------------------------------------------


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_flex_attributes_with_nan_fail_to_enqueue(constant: str) -> None:
    flex = widget("Flex", "send-to-flex", [{"event": "callComplete"}, {"event": "failedToEnqueue"}],
                  workflow="WW" + "1" * 32, channel="TC" + "1" * 32, attributes=f'{{"score": {constant}}}')
    execution = make_env().load(make_flow(flex)).start("incomingMessage", From=USER, Body="x")
    step = execution.steps[-1]
    assert step["event"] == "failedToEnqueue"
    assert constant in step["error"] and "not a JSON value" in step["error"]
    assert not execution.flex_tasks


# --- 11: Steps and the Execution shaped like Studio's REST resources ---------------------------------------


def _openapi_schema(name: str) -> dict[str, Any]:
    spec = json.loads(real_path("openapi/twilio_studio_v2.json").read_text())
    schema = json.loads(json.dumps(spec["components"]["schemas"][name]))
    for prop in schema["properties"].values():  # OpenAPI's `nullable` → JSON Schema's null type
        if prop.pop("nullable", False) and "type" in prop:
            prop["type"] = [prop["type"], "null"]
        prop.pop("$ref", None)  # the status enum; checked below
    schema["required"] = list(schema["properties"])
    return schema


def test_steps_and_execution_match_the_openapi_resources() -> None:
    child = make_flow(widget("Set", "set-variables", [{"event": "next"}], variables=[{"key": "k", "value": "1"}]),
                      trigger="incomingParent", path="child.json")
    sub = widget("Sub", "run-subflow", [{"event": "completed"}, {"event": "failed"}],
                 flow_sid="FW" + "5" * 32, flow_revision="LatestPublished")
    env = make_env(subflows={"FW" + "5" * 32: child})
    execution = env.load(make_flow(sub)).start("incomingMessage", From=USER, Body="x", MessageSid="SM" + "7" * 32)
    step_schema = _openapi_schema("studio.v2.flow.execution.execution_step")
    for step in execution.steps:
        jsonschema.validate(step, step_schema)
        assert step["url"].endswith(f"/Executions/{step['execution_sid']}/Steps/{step['sid']}")
        assert step["links"] == {"step_context": step["url"] + "/Context"}
    top = [s for s in execution.steps if s["execution_sid"] == execution.sid]
    inner = [s for s in execution.steps if s["execution_sid"] != execution.sid]
    assert all(s["parent_step_sid"] is None for s in top)
    sub_step = next(s for s in top if s["widget"] == "Sub")
    assert inner and all(s["parent_step_sid"] == sub_step["sid"] for s in inner)
    assert {s["flow_sid"] for s in inner} == {"FW" + "5" * 32}
    resource = execution.to_dict()
    jsonschema.validate(resource, _openapi_schema("studio.v2.flow.execution"))
    assert resource["status"] in ("active", "ended")
    assert resource["initiated_by"] == "SM" + "7" * 32
    assert resource["contact_sid"].startswith("FC") and resource["flow_version"] == 1
    assert resource["links"] == {"steps": resource["url"] + "/Steps",
                                 "execution_context": resource["url"] + "/Context"}


def test_a_parked_step_starts_when_its_widget_was_entered() -> None:
    ask = widget("Ask", "send-and-wait-for-reply", [{"event": "incomingMessage"}, {"event": "timeout"},
                                                   {"event": "deliveryFailure"}],
                 body="?", timeout="600", **{"from": "{{flow.channel.address}}"})
    clock = FixedClock("2023-03-01T10:00:00Z")
    loaded = make_env(clock=clock).load(make_flow(ask))
    execution = loaded.start("incomingMessage", From=USER, Body="x")
    clock.advance(60)
    execution.deliver("yes")
    step = execution.steps[-1]
    assert (step["date_created"], step["date_updated"]) == ("2023-03-01T10:00:00Z", "2023-03-01T10:01:00Z")
    assert execution.to_dict()["date_updated"] == "2023-03-01T10:01:00Z"


# --- 12: a missing subflow -------------------------------------------------------------------------------


def test_missing_subflow_names_the_sid_without_a_python_hint() -> None:
    sub = widget("Sub", "run-subflow", [{"event": "completed"}, {"event": "failed"}],
                 flow_sid="FW" + "9" * 32, flow_revision="LatestPublished")
    execution = make_env().load(make_flow(sub)).start("incomingMessage", From=USER, Body="x")
    step = execution.steps[-1]
    assert step["event"] == "failed" and step["unmapped_flow_sid"] == "FW" + "9" * 32
    assert "FW" + "9" * 32 in step["error"] and "map it to a subflow file" in step["error"]
    assert "subflows={" not in step["error"]


# --- 13: equality compares numbers only when both sides are plain numbers --------------------------------


@pytest.mark.parametrize(("kind", "value", "text", "expected"), [
    ("equal_to", "15555550100", "+15555550100", False),
    ("equal_to", "+15555550100", "+15555550100", True),
    ("equal_to", "7", "007", False),
    ("equal_to", "02134", "02134", True),
    ("equal_to", "1", "1.0", True),
    ("equal_to", "0.5", ".5", True),
    ("equal_to", "-3", "-3.00", True),
    ("not_equal_to", "7", "007", True),
    ("matches_any_of", "5, 15555550100", "+15555550100", False),
    ("matches_any_of", "5, 10", "10.0", True),
    ("greater_than", "5", "007", True),  # ordering still reads numbers
])
def test_equality_numbers_are_plain_numbers(kind: str, value: str, text: str, expected: bool) -> None:
    assert evaluate({"type": kind, "value": value, "arguments": ["x"], "friendly_name": "c"}, text) is expected
