"""Widget by widget: waits and timeouts, subflows, loops, HTTP, Functions, Send to Flex, voice."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from flask import Flask, Response, jsonify, request

from harness.clock import FixedClock
from harness.engines.studio.engine import StudioEnvironment
from harness.engines.studio.http import UrlMap
from harness.engines.twilio.server import LocalServer
from harness.errors import EngineError, UsageError
from harness.models.flow import Flow, flow_from_dict
from tests.unit.engines.studio.fakebot import ScriptedBot

ACCOUNT = "AC" + "a" * 32
USER = "+14155550123"
SUBFLOW_SID = "FW" + "5" * 32


def widget(name: str, type_: str, transitions: list[dict[str, Any]], **properties: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "transitions": transitions, "properties": properties}


def make_flow(
    *states: dict[str, Any],
    trigger: str = "incomingMessage",
    first: str | None = None,
    name: str = "flow.json",
) -> Flow:
    start = first or states[0]["name"]
    trigger_state = widget("Trigger", "trigger", [{"event": trigger, "next": start}])
    return flow_from_dict(
        {
            "description": "test",
            "states": [trigger_state, *states],
            "initial_state": "Trigger",
            "flags": {"allow_concurrent_calls": True},
        },
        path=name,
    )


def make_env(**kwargs: Any) -> StudioEnvironment:
    kwargs.setdefault("clock", FixedClock("2023-03-01T10:00:00Z"))
    kwargs.setdefault("bots", {"*": ScriptedBot()})
    return StudioEnvironment(auth_token="secret", account_sid=ACCOUNT, **kwargs)


def say(name: str, body: str, next_: str | None = None) -> dict[str, Any]:
    sent = {"event": "sent", "next": next_} if next_ else {"event": "sent"}
    return widget(
        name,
        "send-message",
        [sent, {"event": "failed"}],
        to="{{contact.channel.address}}",
        **{"from": "{{flow.channel.address}}"},
        body=body,
    )


# --- send-and-wait, set-variables, split -----------------------------------------------------------


ASK = widget(
    "ask",
    "send-and-wait-for-reply",
    [
        {"event": "incomingMessage", "next": "check"},
        {"event": "timeout", "next": "late"},
        {"event": "deliveryFailure"},
    ],
    **{"from": "{{flow.channel.address}}"},
    body="Yes or no?",
    timeout="600",
)
CHECK = widget(
    "check",
    "split-based-on",
    [
        {"event": "noMatch", "next": "no"},
        {
            "event": "match",
            "next": "yes",
            "conditions": [
                {
                    "friendly_name": "yes",
                    "arguments": ["{{widgets.ask.inbound.Body}}"],
                    "type": "regex",
                    "value": ".*{{flow.variables.word}}.*",
                }
            ],
        },
    ],
    input="{{widgets.ask.inbound.Body}}",
)


def yes_no_flow() -> Flow:
    setvars = widget(
        "vars",
        "set-variables",
        [{"event": "next", "next": "ask"}],
        variables=[{"key": "word", "value": "yes"}, {"key": "who", "value": "{{contact.channel.address}}"}],
    )
    return make_flow(
        setvars,
        ASK,
        CHECK,
        say("yes", "Great, {{flow.variables.who}}"),
        say("no", "Pity"),
        say("late", "Too late"),
    )


def test_send_and_wait_reply_goes_through_a_split_with_a_liquid_value() -> None:
    execution = make_env().load(yes_no_flow()).start("incomingMessage", From=USER, Body="hi")
    assert execution.waiting == "ask" and execution.messages[0]["body"] == "Yes or no?"
    assert execution.variables == {"word": "yes", "who": USER}
    assert execution.widgets["vars"] == {"word": "yes", "who": USER}
    execution.deliver("Oh YES sure")
    assert execution.path == ["Trigger", "vars", "ask", "check", "yes"]
    assert execution.widgets["ask"]["inbound"]["Body"] == "Oh YES sure"
    assert execution.widgets["ask"]["outbound"]["Body"] == "Yes or no?"
    assert execution.steps[3]["conditions"][0]["value"] == ".*yes.*"  # rendered, recorded for diffs
    assert execution.messages[-1]["body"] == f"Great, {USER}"


def test_send_and_wait_times_out_on_the_clock() -> None:
    env = make_env()
    execution = env.load(yes_no_flow()).start("incomingMessage", From=USER, Body="hi")
    assert execution.check_timeouts() is False
    env.clock.advance(599)  # type: ignore[attr-defined]
    assert execution.check_timeouts() is False
    env.clock.advance(1)  # type: ignore[attr-defined]
    assert execution.check_timeouts() is True
    assert execution.path[-2:] == ["ask", "late"] and execution.steps[-2]["event"] == "timeout"
    assert "inbound" not in execution.widgets["ask"]


def test_a_late_reply_fires_the_timeout_first() -> None:
    env = make_env()
    loaded = env.load(yes_no_flow())
    execution = loaded.inbound(USER, "hi")
    env.clock.advance(3600)  # type: ignore[attr-defined]
    fresh = loaded.inbound(USER, "yes")  # the old execution times out; the reply starts a new one
    assert execution.path[-1] == "late" and fresh is not execution and fresh.waiting == "ask"


def test_deliver_needs_an_active_execution_and_advance_clock_a_controllable_clock() -> None:
    class WallClock:
        def now(self):
            return FixedClock().now()

    execution = make_env(clock=WallClock()).load(yes_no_flow()).start("incomingMessage", From=USER)
    with pytest.raises(UsageError, match="controllable clock"):
        execution.advance_clock(10)
    with pytest.raises(UsageError, match="unknown trigger"):
        make_env().load(yes_no_flow()).start("incomingSms", From=USER)


# --- loops ------------------------------------------------------------------------------------------


def test_the_step_limit_stops_a_loop_and_names_its_widgets() -> None:
    count = widget(
        "count",
        "set-variables",
        [{"event": "next", "next": "again"}],
        variables=[{"key": "n", "value": "{{flow.variables.n | plus: 1}}"}],
    )
    again = widget(
        "again",
        "split-based-on",
        [
            {"event": "noMatch", "next": "count"},
            {
                "event": "match",
                "conditions": [
                    {"friendly_name": "never", "arguments": ["x"], "type": "equal_to", "value": "never"}
                ],
            },
        ],
        input="x",
    )
    loaded = make_env(step_limit=50).load(make_flow(count, again))
    with pytest.raises(EngineError) as caught:
        loaded.start("incomingMessage", From=USER)
    message = caught.value.render()
    assert "stopped after 50 steps" in message
    assert "loops through again → count → again" in message and "#/states/2" in message
    assert not loaded.active


# --- subflows ---------------------------------------------------------------------------------------


def subflow() -> Flow:
    setvar = widget(
        "remember",
        "set-variables",
        [{"event": "next", "next": "ask_name"}],
        variables=[
            {"key": "greeting", "value": "hi {{trigger.parent.parameters.who}}"},
            {"key": "kind", "value": "{{trigger.parent.trigger_type}}"},
        ],
    )
    ask = widget(
        "ask_name",
        "send-and-wait-for-reply",
        [{"event": "incomingMessage", "next": "store"}, {"event": "timeout"}],
        **{"from": "{{flow.channel.address}}"},
        body="Your name?",
        timeout=60,
    )
    store = widget(
        "store",
        "set-variables",
        [{"event": "next"}],
        variables=[{"key": "name", "value": "{{widgets.ask_name.inbound.Body}}"}],
    )
    return make_flow(setvar, ask, store, trigger="incomingParent", name="sub.json")


def parent_flow(flow_sid: str = SUBFLOW_SID) -> Flow:
    run = widget(
        "run_sub",
        "run-subflow",
        [{"event": "completed", "next": "done"}, {"event": "failed"}],
        flow_sid=flow_sid,
        flow_revision="LatestPublished",
        parameters=[{"key": "who", "value": "{{contact.channel.address}}"}],
    )
    return make_flow(run, say("done", "Thanks {{widgets.run_sub.name}} ({{widgets.run_sub.greeting}})"))


def test_run_subflow_waits_for_its_child_and_gets_its_variables() -> None:
    env = make_env(subflows={SUBFLOW_SID: subflow()})
    loaded = env.load(parent_flow())
    execution = loaded.inbound(USER, "start")
    assert execution.waiting == "run_sub" and execution.messages[-1]["body"] == "Your name?"
    assert loaded.inbound(USER, "Ana") is execution
    assert execution.status == "ended"
    assert execution.widgets["run_sub"] == {"greeting": f"hi {USER}", "kind": "message", "name": "Ana"}
    assert execution.messages[-1]["body"] == f"Thanks Ana (hi {USER})"
    run_step = next(s for s in execution.steps if s["widget"] == "run_sub")
    child_steps = [s for s in execution.steps if s.get("parent_step_sid")]
    assert [s["widget"] for s in child_steps] == ["Trigger", "remember", "ask_name", "store"]
    assert {s["parent_step_sid"] for s in child_steps} == {run_step["sid"]}
    assert child_steps[0]["event"] == "incomingParent" and run_step["event"] == "completed"


def test_a_subflow_wait_times_out_through_the_parent() -> None:
    env = make_env(subflows={SUBFLOW_SID: subflow()})
    execution = env.load(parent_flow()).inbound(USER, "start")
    assert execution.advance_clock(60) is True
    assert execution.status == "ended" and execution.widgets["run_sub"]["kind"] == "message"


def test_an_unknown_subflow_takes_failed() -> None:
    execution = make_env().load(parent_flow("FW" + "9" * 32)).inbound(USER, "start")
    assert execution.steps[-1]["event"] == "failed" and "no subflow is mapped" in execution.steps[-1]["error"]


# --- HTTP and Functions -------------------------------------------------------------------------------


def echo_app() -> Flask:
    app = Flask("echo")

    @app.route("/echo", methods=["GET", "POST"])
    def echo() -> Response:
        auth = request.headers.get("Authorization", "")
        user = base64.b64decode(auth.split()[1]).decode() if auth else None
        return jsonify(
            method=request.method,
            form=request.form.to_dict(),
            args=request.args.to_dict(),
            json=request.get_json(silent=True),
            content_type=request.content_type,
            auth=user,
        )

    @app.route("/missing", methods=["GET", "POST"])
    def missing() -> tuple[Response, int]:
        return jsonify(error="nope"), 404

    @app.route("/big")
    def big() -> str:
        return "x" * (70 * 1024)

    @app.route("/fn/hello", methods=["POST"])
    def function() -> tuple[Response, int]:
        if request.form.get("fail"):
            return jsonify(error="boom"), 500
        return jsonify(greeting=f"hello {request.form.get('name')}"), 200

    return app


@pytest.fixture(scope="module")
def server():
    with LocalServer(echo_app()) as running:
        yield running


def http_widget(name: str, url: str, method: str = "POST", **properties: Any) -> dict[str, Any]:
    return widget(
        name,
        "make-http-request",
        [{"event": "success"}, {"event": "failed"}],
        method=method,
        url=url,
        content_type=properties.pop("content_type", "application/x-www-form-urlencoded"),
        **properties,
    )


def run_http(server: LocalServer, state: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    env = make_env(url_map={"https://api.vendor.example": server.base_url})
    execution = env.load(make_flow(state)).start("incomingMessage", From=USER, Body="hi")
    return execution.steps[-1], execution.http_requests[-1]


def test_http_form_post_with_parameters_and_twilio_auth(server: LocalServer) -> None:
    step, record = run_http(
        server,
        http_widget(
            "call",
            "https://api.vendor.example/echo",
            add_twilio_auth=True,
            parameters=[{"key": "from", "value": "{{contact.channel.address}}"}, {"key": "n", "value": "1"}],
        ),
    )
    assert step["event"] == "success"
    parsed = step["context"]["parsed"]
    assert parsed["form"] == {"from": USER, "n": "1"} and parsed["auth"] == f"{ACCOUNT}:secret"
    assert step["context"]["status_code"] == 200 and step["context"]["content_type"] == "application/json"
    assert record["headers"]["Authorization"] == f"Basic {ACCOUNT}:***"
    assert "secret" not in json.dumps(record["headers"])
    assert record["body"] == "from=%2B14155550123&n=1"


def test_http_json_body_and_get_query(server: LocalServer) -> None:
    step, record = run_http(
        server,
        http_widget(
            "call",
            "https://api.vendor.example/echo",
            content_type="application/json;charset=utf-8",
            body='{"user": {{contact.channel.address | to_json}}}',
        ),
    )
    assert step["context"]["parsed"]["json"] == {"user": USER}
    assert record["headers"]["Content-Type"] == "application/json;charset=utf-8"
    step, _ = run_http(
        server,
        http_widget(
            "call",
            "https://api.vendor.example/echo",
            method="GET",
            parameters=[{"key": "q", "value": "rooms"}],
        ),
    )
    assert (
        step["context"]["parsed"]["args"] == {"q": "rooms"} and step["context"]["parsed"]["method"] == "GET"
    )


def test_http_4xx_is_failed_with_outputs_and_a_big_body_is_failed_without(server: LocalServer) -> None:
    step, record = run_http(server, http_widget("call", "https://api.vendor.example/missing"))
    assert step["event"] == "failed" and step["context"]["status_code"] == 404
    assert step["context"]["parsed"] == {"error": "nope"} and record["status"] == 404
    step, record = run_http(server, http_widget("call", "https://api.vendor.example/big", method="GET"))
    assert step["event"] == "failed" and step["context"] == {} and "64 kB" in record["error"]


def test_run_function_through_the_wildcard_twil_io_mapping(server: LocalServer) -> None:
    function = widget(
        "fn",
        "run-function",
        [{"event": "success", "next": "tell"}, {"event": "fail"}],
        url="https://my-service-1234-dev.twil.io/hello",
        parameters=[{"key": "name", "value": "{{trigger.message.Body}}"}],
    )
    env = make_env(url_map={"https://*.twil.io": server.base_url + "/fn"})
    loaded = env.load(make_flow(function, say("tell", "{{widgets.fn.parsed.greeting}}")))
    execution = loaded.start("incomingMessage", From=USER, Body="Ana")
    assert execution.messages[-1]["body"] == "hello Ana"
    assert execution.http_requests[0]["sent_to"] == server.base_url + "/fn/hello"
    function["properties"]["parameters"].append({"key": "fail", "value": "yes"})
    failed = make_env(url_map={"https://*.twil.io": server.base_url + "/fn"}).load(
        make_flow(function, say("tell", "x"))
    )
    assert failed.start("incomingMessage", From=USER, Body="x").steps[-1]["event"] == "fail"


def test_url_map_longest_prefix_boundary_and_wildcard() -> None:
    url_map = UrlMap(
        {
            "https://x.example.com": "http://127.0.0.1:1",
            "https://x.example.com/api/v2": "http://127.0.0.1:2/",
            "https://*.twil.io": "http://127.0.0.1:3",
        }
    )
    assert url_map.mapped("https://x.example.com/api/v2/items?a=1") == "http://127.0.0.1:2/items?a=1"
    assert url_map.mapped("https://x.example.com/api/v20") == "http://127.0.0.1:1/api/v20"
    assert url_map.mapped("https://x.example.com.evil.net/") is None
    assert url_map.mapped("https://a-1-dev.twil.io/fn") == "http://127.0.0.1:3/fn"
    assert url_map.mapped("https://twil.io/fn") is None and url_map.mapped("http://a.twil.io/fn") is None
    with pytest.raises(UsageError):
        UrlMap({"x.example.com": "http://127.0.0.1"})


# --- Send to Flex -----------------------------------------------------------------------------------


def flex(attributes: str) -> dict[str, Any]:
    return widget(
        "flex",
        "send-to-flex",
        [{"event": "callComplete"}, {"event": "failedToEnqueue", "next": "sorry"}],
        workflow="WW" + "1" * 32,
        channel="chat",
        attributes=attributes,
        priority="3",
        timeout="600",
    )


@pytest.mark.parametrize(
    ("attributes", "reason"),
    [
        ('{"name": "{{trigger.message.Body}}"', "not valid JSON"),
        ('["a list"]', "must be a JSON object"),
        ('{"pad": "' + "x" * 1100 + '"}', "at most 1024"),
    ],
)
def test_send_to_flex_refuses_bad_attributes(attributes: str, reason: str) -> None:
    execution = (
        make_env()
        .load(make_flow(flex(attributes), say("sorry", "Sorry")))
        .start("incomingMessage", From=USER, Body="Ana")
    )
    step = execution.steps[1]
    assert step["event"] == "failedToEnqueue" and reason in step["error"]
    assert execution.path[-1] == "sorry" and execution.flex_tasks == []


def test_send_to_flex_creates_a_task_and_exposes_its_fields() -> None:
    env = make_env()
    execution = env.load(
        make_flow(
            flex('{"name": {{trigger.message.Body | to_json}}, "m": {{widgets.none.memory | to_json}}}'),
            say("sorry", "Sorry"),
        )
    ).start("incomingMessage", From=USER, Body='A "q"')
    [task] = execution.flex_tasks
    assert task["parsed_attributes"] == {"name": 'A "q"', "m": None}
    assert task["priority"] == 3 and task["timeout"] == 600 and task["task_channel_unique_name"] == "chat"
    assert execution.widgets["flex"]["sid"] == task["sid"] == env.taskrouter.tasks[0].sid


# --- voice, REST, unknown widgets ----------------------------------------------------------------------


def voice_flow() -> Flow:
    gather = widget(
        "menu",
        "gather-input-on-call",
        [
            {"event": "keypress", "next": "pressed"},
            {"event": "speech", "next": "spoke"},
            {"event": "timeout", "next": "bye"},
        ],
        say="Press 1 or speak",
        timeout=5,
    )
    pressed = widget(
        "pressed",
        "say-play",
        [{"event": "audioComplete", "next": "dial"}],
        say="You pressed {{widgets.menu.Digits}}",
    )
    spoke = widget(
        "spoke", "say-play", [{"event": "audioComplete"}], say="You said {{widgets.menu.SpeechResult}}"
    )
    bye = widget("bye", "say-play", [{"event": "audioComplete"}], say="Goodbye")
    dial = widget(
        "dial",
        "connect-call-to",
        [{"event": "callCompleted"}, {"event": "hangup"}],
        noun="number",
        to="+14155550999",
        caller_id="{{contact.channel.address}}",
    )
    return make_flow(gather, pressed, spoke, bye, dial, trigger="incomingCall")


@pytest.mark.parametrize(
    ("inputs", "path_end", "said"),
    [
        ({"Digits": "1"}, ["pressed", "dial"], "You pressed 1"),
        ({"SpeechResult": "agent please"}, ["spoke"], "You said agent please"),
        ({"body": "2"}, ["pressed", "dial"], "You pressed 2"),
    ],
)
def test_gather_takes_scripted_digits_or_speech(
    inputs: dict[str, str], path_end: list[str], said: str
) -> None:
    execution = make_env().load(voice_flow()).start("incomingCall", From=USER, To="+14155550000")
    assert execution.waiting == "menu" and execution.messages[0] == {
        "from": "+14155550000",
        "to": USER,
        "body": "Press 1 or speak",
        "channel": "voice",
        "widget": "menu",
    }
    body = inputs.pop("body", "")
    execution.deliver(body, **inputs)
    assert execution.path[-len(path_end) :] == path_end
    assert said in [m["body"] for m in execution.messages]
    if "dial" in path_end:
        assert execution.steps[-1]["dialed"] == {"noun": "number", "to": "+14155550999", "caller_id": USER}


def test_gather_timeout_and_scripted_widget_events() -> None:
    execution = make_env().load(voice_flow()).start("incomingCall", From=USER)
    execution.advance_clock(5)
    assert execution.path[-2:] == ["menu", "bye"]
    scripted = make_env(widget_events={"menu": "speech"}).load(voice_flow()).start("incomingCall", From=USER)
    assert scripted.status == "ended" and scripted.path[-2:] == ["menu", "spoke"]


def test_rest_trigger_fills_flow_data_and_refuses_the_bot() -> None:
    bot = widget(
        "bot",
        "send-to-auto-pilot",
        [{"event": "sessionEnded"}, {"event": "failure", "next": "hello"}],
        autopilot_assistant_sid="UA" + "1" * 32,
        body="hi",
        timeout=60,
        **{"from": "Bot"},
    )
    loaded = make_env().load(
        make_flow(bot, say("hello", "Hello {{flow.data.name}}"), trigger="incomingRequest")
    )
    execution = loaded.start("incomingRequest", To=USER, From="+14155550000", Parameters='{"name": "Zeke"}')
    assert execution.steps[1]["event"] == "failure" and "81020" in execution.steps[1]["error"]
    assert execution.messages[-1] == {
        "from": "+14155550000",
        "to": USER,
        "body": "Hello Zeke",
        "channel": "sms",
        "widget": "hello",
    }


def test_unknown_widget_types_pass_through_with_a_warning() -> None:
    odd = widget("odd", "understand", [{"event": "whatever", "next": "hello"}])
    execution = make_env().load(make_flow(odd, say("hello", "hi"))).start("incomingMessage", From=USER)
    assert execution.path == ["Trigger", "odd", "hello"]
    assert "not run by this kit" in execution.steps[1]["warning"] and execution.warnings


def test_no_bot_for_the_assistant_is_a_usage_error() -> None:
    bot = widget(
        "bot",
        "send-to-auto-pilot",
        [{"event": "sessionEnded"}],
        autopilot_assistant_sid="UA" + "1" * 32,
        body="hi",
        timeout=60,
        **{"from": "Bot"},
    )
    with pytest.raises(UsageError, match="no bot for assistant SID"):
        make_env(bots={}).load(make_flow(bot)).start("incomingMessage", From=USER)


def test_a_timeout_that_renders_to_no_number_names_state_and_property() -> None:
    ask = widget("ask", "send-and-wait-for-reply",
                 [{"event": "incomingMessage"}, {"event": "timeout"}, {"event": "deliveryFailure"}],
                 body="Yes?", timeout="{{trigger.message.Body}}", **{"from": "+15005550006"})
    loaded = make_env().load(make_flow(ask))
    with pytest.raises(EngineError) as caught:
        loaded.start("incomingMessage", From=USER, Body="soon")
    assert str(caught.value) == ("flow.json#/states/1/properties/timeout: state 'ask' (send-and-wait-for-reply): "
                                 "'timeout' must be a number of seconds, got 'soon'")
