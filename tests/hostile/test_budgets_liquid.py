"""Hostile Liquid (issue 9): runaway templates stop within a render budget naming the widget, the property and
the limit; division by zero is Liquid's own error; Send to Flex attributes that are not a JSON object fail the
run.

Sources: Studio templates are Shopify Liquid (reference/studio.md §3.1, [D: LIQUID]); Shopify Liquid raises
ZeroDivisionError "divided by 0" for `divided_by: 0` and `modulo: 0` (https://shopify.github.io/liquid/,
liquid/standardfilters.rb); Send to Flex `attributes` must render to a JSON object (reference/studio.md §2.6,
"The rendered string must be valid JSON"), TaskRouter's `Attributes` is a JSON string (reference/taskrouter.md).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from harness.budgets import BudgetExceeded
from harness.clock import FixedClock
from harness.engines.studio.engine import StudioEnvironment
from harness.errors import EngineError
from harness.models.flow import flow_from_dict
from tests.hostile.kit import assert_refused, cli_subprocess, run_suite_beside

ACCOUNT = "AC" + "a" * 32
USER = "+14155550123"
FAST = 5.0  # seconds: every bomb must stop well within this


def _flow(*states: dict[str, Any], name: str = "flow.json") -> Any:
    trigger = {"name": "Trigger", "type": "trigger", "properties": {},
               "transitions": [{"event": "incomingMessage", "next": states[0]["name"]}]}
    return flow_from_dict({"description": "hostile", "states": [trigger, *states], "initial_state": "Trigger",
                           "flags": {"allow_concurrent_calls": True}}, path=name)


def _flow_dict(*states: dict[str, Any]) -> dict[str, Any]:
    trigger = {"name": "Trigger", "type": "trigger", "properties": {},
               "transitions": [{"event": "incomingMessage", "next": states[0]["name"]}]}
    return {"description": "hostile", "states": [trigger, *states], "initial_state": "Trigger",
            "flags": {"allow_concurrent_calls": True}}


def _say(name: str, body: str, next_: str | None = None) -> dict[str, Any]:
    sent: dict[str, Any] = {"event": "sent", **({"next": next_} if next_ else {})}
    return {"name": name, "type": "send-message", "transitions": [sent, {"event": "failed"}],
            "properties": {"from": "{{flow.channel.address}}", "to": "{{contact.channel.address}}", "body": body}}


def _http(body: str) -> dict[str, Any]:
    return {"name": "Notify", "type": "make-http-request",
            "transitions": [{"event": "success"}, {"event": "failed"}],
            "properties": {"method": "POST", "content_type": "application/json;charset=utf-8",
                           "url": "https://example.com/hook", "body": body}}


def _set(value: str) -> dict[str, Any]:
    return {"name": "Remember", "type": "set-variables", "transitions": [{"event": "next"}],
            "properties": {"variables": [{"key": "x", "value": value}]}}


def _flex(attributes: str, fallback: str | None = None) -> dict[str, Any]:
    failed: dict[str, Any] = {"event": "failedToEnqueue", **({"next": fallback} if fallback else {})}
    return {"name": "ToAgent", "type": "send-to-flex", "transitions": [{"event": "callComplete"}, failed],
            "properties": {"workflow": "WW" + "1" * 32, "channel": "TC" + "1" * 32, "attributes": attributes}}


# widget builder, its name, the property named in the error
PLACES = {
    "say body": (lambda t: _say("Reply", t), "Reply", "property 'body'"),
    "HTTP body": (_http, "Notify", "property 'body'"),
    "set variables": (_set, "Remember", "property 'variables/0/value'"),
    "flex attributes": (lambda t: _flex('{"x": "' + t + '"}'), "ToAgent", "property 'attributes'"),
}

# (template, the limit or error the message names)
BOMBS = {
    "range of 100 million": ("{% for i in (1..100000000) %}x{% endfor %}", "LIQUID_LOOP_LIMIT"),
    "nested loops": ("{% for i in (1..1000) %}{% for j in (1..1000) %}x{% endfor %}{% endfor %}",
                     "LIQUID_LOOP_LIMIT"),
    "three nested loops": ("{% for i in (1..100) %}{% for j in (1..100) %}{% for k in (1..100) %}{% endfor %}"
                           "{% endfor %}{% endfor %}", "LIQUID_LOOP_LIMIT"),
    "append doubling": ('{% assign s = "ab" %}{% for i in (1..64) %}{% assign s = s | append: s %}{% endfor %}'
                        "{{ s | size }}", "LIQUID_"),
    "capture doubling": ('{% assign s = "ab" %}{% for i in (1..64) %}{% capture s %}{{s}}{{s}}{% endcapture %}'
                         "{% endfor %}{{ s | size }}", "LIQUID_OUTPUT_LIMIT"),
    "replace squaring": ('{% assign s = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" %}'
                         '{% for i in (1..8) %}{% assign s = s | replace: "a", s %}{% endfor %}',
                         "LIQUID_OUTPUT_LIMIT"),
    "join of a huge range": ('{{ (1..100000000) | join: "," }}', "LIQUID_LOOP_LIMIT"),
    "output flood": ('{% for i in (1..9999) %}{{ "' + "z" * 200 + '" }}{% endfor %}', "LIQUID_OUTPUT_LIMIT"),
    "divided_by zero": ("{{ 1 | divided_by: 0 }}", "divided by 0"),
    "modulo zero": ("{{ 7 | modulo: 0 }}", "divided by 0"),
    "float modulo zero": ("{{ 7.5 | modulo: 0 }}", "divided by 0"),
    "divided_by text": ('{{ 10 | divided_by: "none" }}', "divided by 0"),
    "divided_by a missing variable": ("{{ 10 | divided_by: flow.variables.count }}", "divided by 0"),
}


def _env(**kwargs: Any) -> StudioEnvironment:
    return StudioEnvironment(bots={}, clock=FixedClock("2024-05-01T09:00:00Z"), auth_token="secret",
                             account_sid=ACCOUNT, **kwargs)


@pytest.mark.parametrize("place", list(PLACES))
@pytest.mark.parametrize("bomb", list(BOMBS))
def test_liquid_bomb_stops_naming_widget_property_and_limit(bomb: str, place: str) -> None:
    template, names = BOMBS[bomb]
    build, widget, prop = PLACES[place]
    if place == "flex attributes" and '"' in template:
        template = template.replace('"', "'")  # keep the attributes' JSON string intact around the template
    loaded = _env().load(_flow(build(template)))
    started = time.perf_counter()
    with pytest.raises(EngineError) as caught:
        loaded.start("incomingMessage", From=USER, Body="hi")
    assert time.perf_counter() - started < FAST
    message = caught.value.render()
    assert f"state '{widget}'" in message and prop in message and names in message, message
    if names.startswith("LIQUID_"):  # a budget: the message says how to raise it
        assert isinstance(caught.value, BudgetExceeded) and "AUTOPILOT_HARNESS_LIQUID_" in message


def test_division_by_zero_is_never_a_silent_value_in_a_split_value() -> None:
    # A split's condition value rendered with Liquid (reference/studio.md §2.3: `value` can be Liquid).
    split = {"name": "Check", "type": "split-based-on", "properties": {"input": "{{trigger.message.Body}}"},
             "transitions": [{"event": "noMatch"}, {"event": "match", "conditions": [
                 {"friendly_name": "x", "arguments": ["{{trigger.message.Body}}"], "type": "less_than",
                  "value": "{{ 10 | divided_by: 0 }}"}]}]}
    with pytest.raises(EngineError) as caught:
        _env().load(_flow(split)).start("incomingMessage", From=USER, Body="3")
    assert "state 'Check' (split-based-on)" in caught.value.message and "divided by 0" in caught.value.message


def test_a_budget_can_be_raised_for_a_legitimately_long_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    template = "{% for i in (1..20000) %}{% endfor %}done"
    with pytest.raises(BudgetExceeded):
        _env().load(_flow(_say("Reply", template))).start("incomingMessage", From=USER, Body="hi")
    monkeypatch.setenv("AUTOPILOT_HARNESS_LIQUID_LOOP_LIMIT", "20000")
    execution = _env().load(_flow(_say("Reply", template))).start("incomingMessage", From=USER, Body="hi")
    assert execution.messages[-1]["body"] == "done"


def test_a_slow_template_stops_at_the_render_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    # Within every size budget but slow: 9,000 iterations each upcasing ~100 kB.
    monkeypatch.setenv("AUTOPILOT_HARNESS_LIQUID_RENDER_SECONDS", "0.2")
    template = ('{% assign s = "' + "a" * 1000 + '" %}{% for i in (1..6) %}{% assign s = s | append: s %}'
                "{% endfor %}{% for i in (1..9000) %}{% assign t = s | upcase %}{% endfor %}")
    started = time.perf_counter()
    with pytest.raises(BudgetExceeded, match="LIQUID_RENDER_SECONDS"):
        _env().load(_flow(_say("Reply", template))).start("incomingMessage", From=USER, Body="hi")
    assert time.perf_counter() - started < FAST


def test_a_bad_budget_variable_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.errors import UsageError

    monkeypatch.setenv("AUTOPILOT_HARNESS_LIQUID_LOOP_LIMIT", "lots")
    with pytest.raises(UsageError, match="AUTOPILOT_HARNESS_LIQUID_LOOP_LIMIT='lots'"):
        _env()


# --- through the CLI: the run fails with exit 2, the widget and property named, no traceback ----------------


@pytest.mark.parametrize("template,names", [BOMBS["range of 100 million"], BOMBS["append doubling"],
                                            BOMBS["divided_by zero"]], ids=["loop", "doubling", "zero"])
def test_chat_flow_with_a_liquid_bomb_exits_2(tmp_path: Path, template: str, names: str) -> None:
    flow = tmp_path / "bomb.json"
    flow.write_text(json.dumps(_flow_dict(_say("Reply", template))), encoding="utf-8")
    result = cli_subprocess("chat", "--flow", flow, "--say", "hi", timeout=60)
    assert_refused(result, names=flow, says="state 'Reply' (send-message)")
    assert "property 'body'" in result.text and names in result.text


# --- Send to Flex attributes that are not a JSON object ----------------------------------------------------

NOT_JSON = {
    "empty render": "{{ widgets.Missing.attributes }}",
    "blank": "   ",
    "unclosed object": '{"name": "{{trigger.message.Body}}"',
    "a list": '["{{trigger.message.Body}}"]',
    "a string": '"{{trigger.message.Body}}"',
    "a number": "{{ 3 | plus: 4 }}",
    "null": "null",
    "NaN": '{"score": NaN}',
    "Infinity": '{"score": -Infinity}',
    "out-of-range number": '{"score": 1e400}',
    "an unquoted text value": '{"name": {{trigger.message.Body}}}',
    "single quotes": "{'name': 'x'}",
    "trailing comma": '{"a": 1,}',
}


@pytest.mark.parametrize("attributes", list(NOT_JSON.values()), ids=list(NOT_JSON))
def test_flex_attributes_that_are_not_a_json_object_are_refused(attributes: str) -> None:
    execution = _env().load(_flow(_flex(attributes, "Sorry"), _say("Sorry", "sorry"))).start(
        "incomingMessage", From=USER, Body="Ana")
    step = execution.steps[1]
    # Studio takes failedToEnqueue when the task cannot be created (reference/studio.md §2.6)...
    assert step["event"] == "failedToEnqueue" and not execution.flex_tasks
    assert "state 'ToAgent' (send-to-flex), property 'attributes'" in step["error"]
    # ...and the kit marks it so that every scenario run fails (see the suite test below).
    assert step["invalid_attributes"] == "attributes"


def test_a_flow_with_a_fallback_still_fails_the_scenario_run(tmp_path: Path) -> None:
    flow = tmp_path / "flex_flow.json"
    flow.write_text(json.dumps(_flow_dict(_flex(NOT_JSON["an unquoted text value"], "Sorry"),
                                          _say("Sorry", "Sorry, no agent"))), encoding="utf-8")
    scenario = (f"flow: {flow.as_posix()}\nscenarios:\n  - name: handoff\n    turns:\n"
                "      - user: Ana\n        expect: {replies: [\"Sorry, no agent\"]}\n")
    result, document, _junit = run_suite_beside(tmp_path, "flex.scenario.yaml", scenario)
    bad = [case for case in document["cases"] if case["file"].endswith("flex.scenario.yaml")]
    assert result.code == 1 and bad and bad[0]["status"] == "failed", result.text
    assert "property 'attributes'" in result.text and "ToAgent" in result.text and "JSON object" in result.text
    assert "replies" not in result.text  # the expected reply came: the attributes alone fail the case


def test_a_well_formed_flex_handoff_still_passes() -> None:
    attributes = '{"name": {{trigger.message.Body | to_json}}, "memory": {{widgets.none.memory | to_json}}}'
    execution = _env().load(_flow(_flex(attributes))).start("incomingMessage", From=USER, Body="Ana")
    assert execution.steps[1]["event"] == "callComplete"
    assert execution.flex_tasks[0]["parsed_attributes"] == {"name": "Ana", "memory": None}
