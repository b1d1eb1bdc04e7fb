"""Studio's Liquid dialect: filters and tags the real flows use, lax undefined, to_json, ChannelAttributes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from harness.clock import FixedClock
from harness.engines.studio.liquid import (
    JsonText,
    StudioLiquid,
    is_template,
    location_from_name,
    studio_context,
    to_json_text,
)
from harness.errors import EngineError, SchemaError
from tests.conftest import real_files, real_path, requires_real


@pytest.fixture(scope="module")
def liquid() -> StudioLiquid:
    return StudioLiquid(clock=FixedClock(datetime(2023, 7, 3, 16, 30, tzinfo=UTC)))  # 09:30 in LA (PDT)


def render(liquid: StudioLiquid, text: str, **roots: Any) -> str:
    return liquid.compile(text, name="t.json#/states/0/properties/body").render(studio_context(**roots))


# --- real flows -----------------------------------------------------------------------------------------


def v2_flows() -> list[Path]:
    return [p for p in real_files("studio")
            if p.parent.name == "studio" and not p.name.startswith(("LEGACY", "official"))]


def templates_in(value: Any, pointer: str = "") -> list[tuple[str, str]]:
    """Every string property holding Liquid markup, with its JSON Pointer."""
    found: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found += templates_in(item, f"{pointer}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += templates_in(item, f"{pointer}/{index}")
    elif is_template(value):
        found.append((pointer, value))
    return found


def real_template(flow: str, pointer: str, expect_snippet: str) -> str:
    data = json.loads(real_path(f"studio/{flow}").read_text(encoding="utf-8"))
    for part in pointer.strip("/").split("/"):
        data = data[int(part)] if isinstance(data, list) else data[part]
    assert expect_snippet in data, f"{flow}#{pointer} changed: {data!r}"
    return data


APALEO = "HlsRobot__twilio-apaleo__studio_flow.json"


@requires_real
def test_the_real_flows_are_found() -> None:
    assert len(v2_flows()) == 17


@pytest.mark.parametrize("flow", v2_flows(), ids=lambda p: p.stem)
def test_every_template_in_a_real_flow_compiles_and_renders_with_an_empty_context(flow: Path) -> None:
    liquid = StudioLiquid()
    templates = templates_in(json.loads(flow.read_text(encoding="utf-8")))
    assert templates, "every real v2 flow holds Liquid"
    empty = studio_context()
    problems = []
    for pointer, text in templates:
        try:
            liquid.compile(text, name=f"{flow.name}#{pointer}").render(empty)
        except (SchemaError, EngineError) as err:
            problems.append(err.render())
    assert not problems, "\n".join(problems)


@requires_real
def test_filters_and_tags_used_by_the_real_flows_are_all_known() -> None:
    used_filters: set[str] = set()
    used_tags: set[str] = set()
    liquid = StudioLiquid()
    for flow in v2_flows():
        for _pointer, text in templates_in(json.loads(flow.read_text(encoding="utf-8"))):
            analysis = liquid.compile(text, name=flow.name)._bound.analyze()
            used_filters |= set(analysis.filters)
            used_tags |= set(analysis.tags)
    assert used_filters == {"downcase", "plus", "strip", "to_json", "minus", "remove", "date"}
    assert used_tags == {"assign", "if", "case", "for"}


@requires_real
def test_an_unterminated_output_in_a_real_flow_is_kept_as_text_with_a_warning() -> None:
    text = real_template(APALEO, "/states/23/properties/parameters/0/value",
                         "{{flow.variables.reservation_id")
    compiled = StudioLiquid().compile(text, name="apaleo#/states/23")
    assert compiled.render(studio_context()) == "{{flow.variables.reservation_id"
    assert "never closed" in compiled.warnings[0]
    with pytest.raises(SchemaError, match="expected '}}'"):
        StudioLiquid(unterminated_output="error").compile(text, name="apaleo#/states/23")


@requires_real
def test_memory_to_json_of_a_widget_that_never_ran_is_null_and_the_attributes_stay_json(
    liquid: StudioLiquid,
) -> None:
    text = real_template("aselo__ca__webchat.json", "/states/1/properties/attributes",
                         "{{widgets.ChatBot.memory | to_json}}")
    channel_attributes = '{"from": "Ann", "channel_type": "web"}'
    trigger = {"message": {"ChannelSid": "CH1", "ChannelAttributes": channel_attributes}}
    attributes = json.loads(render(liquid, text, trigger=trigger))
    assert attributes["memory"] is None
    assert (attributes["name"], attributes["channelType"], attributes["channelSid"]) == ("Ann", "web", "CH1")


MEMORY = {
    "sendToAgent": True,
    "at": "counselor_handoff",
    "twilio": {
        "chat": {"ChannelSid": "CH1", "AssistantName": "", "Attributes": {}, "From": "web:ann"},
        "collected_data": {"survey": {
            "answers": {
                "age": {"answer": "14", "filled": True, "type": "Twilio.NUMBER", "attempts": 1},
                "gender": {"filled": False, "error": {"message": "Invalid Value", "value": "U"}},
            },
            "status": "validation-max-attempts",
        }},
    },
}


@requires_real
def test_nested_bot_memory_goes_through_to_json_unchanged(liquid: StudioLiquid) -> None:
    text = real_template("aselo__ca__webchat.json", "/states/1/properties/attributes", "to_json")
    out = render(liquid, text, trigger={"message": {}}, widgets={"ChatBot": {"memory": MEMORY}})
    assert json.loads(out)["memory"] == MEMORY


@requires_real
def test_a_space_after_a_dot_in_a_path_is_ignored(liquid: StudioLiquid) -> None:
    after = real_template("aselo__ph__with-lex-chatbot-conv-lambda.json", "/states/4/properties/attributes",
                          "trigger.conversation. ChannelAttributes.memory")
    before = real_template("aselo__ph__with-lex-chatbot-conv-lambda.json", "/states/9/properties/attributes",
                           "ChannelAttributes .memory")
    attributes = json.dumps({"from": "+63917", "channel_type": "WhatsApp", "memory": {"lang": "tl"}})
    trigger = {"conversation": {"ChannelAttributes": attributes, "ChannelSid": "CH9", "Source": "SMS"}}
    for text in (after, before):
        out = json.loads(render(liquid, text, trigger=trigger))
        assert out["memory"] == {"lang": "tl"}
        assert (out["name"], out["channelType"], out["twilioNumber"]) == ("+63917", "whatsapp", "")


@requires_real
def test_a_newline_after_a_dot_in_an_if_tag_is_ignored(liquid: StudioLiquid) -> None:
    text = real_template(APALEO, "/states/12/properties/variables/1/value",
                         "widgets. \nget_reservation")
    reservations = [{"id": "R-1"}, {"id": "R-2"}, {"id": "R-3"}]
    one = {"get_reservation": {"parsed": {"count": 1, "reservations": reservations[:1]}}}
    assert render(liquid, text, widgets=one) == "R-1"
    # several: the guest's reply (1-based) minus 1 indexes the list
    many = {"get_reservation": {"parsed": {"count": 3, "reservations": reservations}},
            "give_reservation_options": {"inbound": {"Body": "2"}}}
    assert render(liquid, text, widgets=many) == "R-2"


@requires_real
def test_range_for_loop_with_forloop_index_and_date(liquid: StudioLiquid) -> None:
    text = real_template(APALEO, "/states/14/properties/body",
                         "(1..widgets.get_reservation.parsed.count)")
    reservations = [
        {"status": "Confirmed", "property": {"name": "Berlin"}, "adults": 2,
         "arrival": "2023-08-01T15:00:00+02:00"},
        {"status": "InHouse", "property": {"name": "Munich"}, "adults": 1, "arrival": "2023-08-05"},
    ]
    widgets = {"get_reservation": {"parsed": {"count": 2, "reservations": reservations}}}
    out = render(liquid, text, widgets=widgets)
    assert "Reply *1* for the _Confirmed_ reservation at _Berlin_ for _2_ guests starting on _Aug 01, 2023_" \
        in out
    assert "Reply *2* for the _InHouse_ reservation at _Munich_ for _1_ guests starting on _Aug 05, 2023_" \
        in out


@requires_real
def test_remove_filter_on_a_whatsapp_address(liquid: StudioLiquid) -> None:
    text = real_template(APALEO, "/states/1/properties/variables/0/value",
                         "remove:'whatsapp:'")
    assert render(liquid, text, contact={"channel": {"address": "whatsapp:+4930123"}}) == "+4930123"


@requires_real
def test_counter_idiom_with_if_plus_and_whitespace(liquid: StudioLiquid) -> None:
    text = real_template("mgmuscari__accfb-foodnow__bot_flow.json", "/states/3/properties/variables/0/value",
                         "language_attempts | plus: 1")
    assert render(liquid, text, flow={"variables": {}}).strip() == "0"
    assert render(liquid, text, flow={"variables": {"language_attempts": "2"}}).strip() == "3"
    trimmed = real_template("twilio__twilio-webchat-react-app__studio-flow.json",
                            "/states/6/properties/variables/0/value", "{%- if")
    assert render(liquid, trimmed, flow={"variables": {"count": 4}}) == "5"  # `{%-`/`-%}` strip the newlines
    assert render(liquid, trimmed, flow={"variables": {}}) == "0"


@requires_real
def test_assign_with_a_variable_index(liquid: StudioLiquid) -> None:
    text = real_template("mgmuscari__accfb-foodnow__bot_flow.json", "/states/27/properties/variables/0/value",
                         "sites[idx].site_name")
    sites = {"parsed": {"sites": [{"site_name": "North"}, {"site_name": "South"}]}}
    out = render(liquid, text, widgets={"http_find_pantry": sites}, flow={"variables": {"pantry_index": "1"}})
    assert out == "South"


@requires_real
def test_case_when_else(liquid: StudioLiquid) -> None:
    text = real_template("flex-project-template__voice-flow.json", "/states/4/properties/say", "{% case")
    holiday = render(liquid, text, widgets={"check_schedule": {"parsed": {"closedReason": "holiday"}}})
    other = render(liquid, text, widgets={"check_schedule": {"parsed": {"closedReason": "weather"}}})
    assert "closed due to the holiday" in holiday and "unforseen" not in holiday
    assert "We are currently closed. Please call back" in other and "holiday" not in other


@requires_real
def test_whole_trigger_to_json_inside_a_json_body(liquid: StudioLiquid) -> None:
    text = real_template("aselo__ph__with-lex-chatbot-conv-lambda.json", "/states/1/properties/body",
                         "{{trigger | to_json}}")
    trigger = {"conversation": {"Body": "hi \"you\"", "Source": "SMS", "ConversationSid": "CH1"}}
    body = json.loads(render(liquid, text, trigger=trigger))
    assert body == {"trigger": trigger, "channelType": "sms"}


# --- lax undefined --------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "{{widgets.Missing.memory.sendToAgent}}",
    "{{ nothing }}",
    "{{ trigger.message.Body.deeper.still }}",
    "{{ flow.variables.list[5] }}",
    "{{ widgets.w.inbound.Body[0] }}",  # indexing into a string
])
def test_undefined_paths_render_empty(liquid: StudioLiquid, text: str) -> None:
    widgets = {"w": {"inbound": {"Body": "hello"}}}
    assert render(liquid, text, trigger={"message": {"Body": "x"}}, widgets=widgets,
                  flow={"variables": {"list": [1]}}) == ""


def test_undefined_is_falsy_and_takes_the_default(liquid: StudioLiquid) -> None:
    assert render(liquid, "{% if widgets.Missing.x %}yes{% else %}no{% endif %}") == "no"
    assert render(liquid, "{{ trigger.message.Body | default: 'no message' }}") == "no message"
    assert render(liquid, "{% unless widgets.Missing %}absent{% endunless %}") == "absent"


# --- filters --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("{{ ' Agent ' | downcase }}", " agent "),
    ("{{ ' Agent ' | strip | downcase }}", "agent"),
    ("{{ '4' | plus: 1 }}", "5"),
    ("{{ 'abc' | plus: 1 }}", "1"),
    ("{{ '1.5' | plus: 1 }}", "2.5"),
    ("{{ '3' | minus: 1 }}", "2"),
    ("{{ 'whatsapp:+1555' | remove: 'whatsapp:' }}", "+1555"),
    ("{{ 'a,b,c' | split: ',' | size }}", "3"),
    ("{{ 'a,b,c' | split: ',' | last }}", "c"),
    ("{{ 'hello' | size }}", "5"),
    ("{{ 'a+b' | replace: '+', '%2B' }}", "a%2Bb"),
    ("{{ 'a b&c' | url_encode }}", "a+b%26c"),
    ("{{ 'x' | upcase | append: '!' }}", "X!"),
    ("{{ 'hello world' | capitalize }}", "Hello world"),
    ("{{ '2023-05-01' | date: '%b %d, %Y' }}", "May 01, 2023"),
    ("{{ 'May 1, 2023' | date: '%Y-%m-%d' }}", "2023-05-01"),
])
def test_standard_filters(liquid: StudioLiquid, text: str, expected: str) -> None:
    assert render(liquid, text) == expected


def test_date_now_uses_the_harness_clock_in_studio_time(liquid: StudioLiquid) -> None:
    assert render(liquid, "{{ 'now' | date: '%Y-%m-%d %H:%M %Z' }}") == "2023-07-03 09:30 PDT"
    # an instant with an offset is shown in Studio's zone; a naive one as written
    assert render(liquid, "{{ '2023-01-02T20:00:00Z' | date: '%H:%M' }}") == "12:00"
    assert render(liquid, "{{ '2023-01-02T20:00:00' | date: '%H:%M' }}") == "20:00"
    utc = StudioLiquid(clock=FixedClock(datetime(2023, 7, 3, 16, 30, tzinfo=UTC)), timezone="UTC")
    assert utc.render("{{ 'now' | date: '%H:%M' }}", studio_context()) == "16:30"


@pytest.mark.parametrize(("value", "expected"), [
    ({"a": [1, {"b": None}], "ok": True}, '{"a":[1,{"b":null}],"ok":true}'),
    ("say \"hi\"", '"say \\"hi\\""'),
    (3, "3"),
    (None, "null"),
    ("café", '"café"'),
])
def test_to_json(liquid: StudioLiquid, value: Any, expected: str) -> None:
    assert render(liquid, "{{ flow.variables.v | to_json }}", flow={"variables": {"v": value}}) == expected
    assert json.loads(expected) == value


def test_to_json_of_undefined_is_null() -> None:
    assert StudioLiquid().render("{{ widgets.ChatBot.memory | to_json }}", studio_context()) == "null"
    assert to_json_text(None) == "null"


def test_unknown_filter_is_a_compile_error_naming_it_unless_ignored() -> None:
    with pytest.raises(SchemaError, match=r"unknown filter.*shout") as caught:
        StudioLiquid().compile("{{ x | shout }}", name="f.json#/states/2/properties/body")
    assert caught.value.location.pointer == "/states/2/properties/body"
    lax = StudioLiquid(unknown_filters="ignore")
    assert lax.render("{{ x | shout }}", {"x": "hi"}) == "hi"


# --- tags -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("{% assign n = flow.variables.n | plus: 0 %}{{ n | plus: 1 }}", "3"),
    ("{% if flow.variables.n == 1 %}one{% elsif flow.variables.n == 2 %}two{% else %}many{% endif %}", "two"),
    ("{% unless flow.variables.n == 1 %}not one{% endunless %}", "not one"),
    ("{% for s in flow.variables.list %}{{ forloop.index }}:{{ s }} {% endfor %}", "1:a 2:b "),
    ("{% for i in (1..flow.variables.n) %}{{ i }}{% endfor %}", "12"),
    ("{% case flow.variables.list[1] %}{% when 'a' %}A{% when 'b' %}B{% else %}?{% endcase %}", "B"),
    ("{% capture m %}Hi {{ flow.variables.list | join: ', ' }}{% endcapture %}{{ m | upcase }}", "HI A, B"),
])
def test_tags(liquid: StudioLiquid, text: str, expected: str) -> None:
    assert render(liquid, text, flow={"variables": {"n": 2, "list": ["a", "b"]}}) == expected


# --- output of values -------------------------------------------------------------------------------------


def test_objects_render_as_json_booleans_lowercase_nil_empty(liquid: StudioLiquid) -> None:
    widgets = {"http": {"parsed": {"ok": True, "items": [1, "x"], "none": None}}}
    expected = '{"ok":true,"items":[1,"x"],"none":null}'
    assert render(liquid, "{{ widgets.http.parsed }}", widgets=widgets) == expected
    assert render(liquid, "{{ widgets.http.parsed.ok }}|{{ widgets.http.parsed.none }}", widgets=widgets) \
        == "true|"
    assert render(liquid, "{% echo widgets.http.parsed.items %}", widgets=widgets) == '[1,"x"]'
    python_style = StudioLiquid(objects_as="liquid")
    assert python_style.render("{{ x }}", {"x": ["a", "b"]}) == "ab"


# --- ChannelAttributes ------------------------------------------------------------------------------------

ATTRIBUTES = '{"from": "Ann", "channel_type": "web", "pre_engagement_data": {"friendlyName": "Ann"}}'


def test_channel_attributes_read_by_path_but_render_as_the_original_text(liquid: StudioLiquid) -> None:
    trigger = {"message": {"Body": "hi", "ChannelAttributes": ATTRIBUTES}}
    assert render(liquid, "{{trigger.message.ChannelAttributes.from}}", trigger=trigger) == "Ann"
    assert render(liquid, "{{trigger.message.ChannelAttributes.pre_engagement_data.friendlyName}}",
                  trigger=trigger) == "Ann"
    assert render(liquid, "{{trigger.message.ChannelAttributes}}", trigger=trigger) == ATTRIBUTES
    assert json.loads(render(liquid, "{{trigger.message.ChannelAttributes | to_json}}", trigger=trigger)) == \
        json.loads(ATTRIBUTES)


def test_channel_attributes_that_are_not_a_json_object_stay_text(liquid: StudioLiquid) -> None:
    trigger = {"message": {"ChannelAttributes": "not json {"}}
    assert render(liquid, "{{trigger.message.ChannelAttributes}}", trigger=trigger) == "not json {"
    assert render(liquid, "{{trigger.message.ChannelAttributes.from}}", trigger=trigger) == ""


def test_studio_context_keeps_roots_by_reference_and_leaves_the_caller_trigger_alone() -> None:
    trigger = {"conversation": {"ChannelAttributes": ATTRIBUTES}, "request": {"from": "+1"}}
    widgets: dict[str, Any] = {}
    flow = {"flow_sid": "FW1", "sid": "FN1", "channel": {"address": "+1800"}, "data": {"name": "Zeke"},
            "variables": {}}
    context = studio_context(trigger, widgets, flow, {"channel": {"address": "+1555"}})
    assert set(context) == {"trigger", "widgets", "flow", "contact"}
    assert isinstance(context["trigger"]["conversation"]["ChannelAttributes"], JsonText)
    assert trigger["conversation"]["ChannelAttributes"] == ATTRIBUTES  # the input is not changed
    widgets["ask"] = {"inbound": {"Body": "later"}}  # an execution adds outputs after building the context
    text = "{{flow.flow_sid}} {{flow.sid}} {{flow.channel.address}} {{flow.data.name}} " \
           "{{contact.channel.address}} {{widgets.ask.inbound.Body}} {{trigger.request.from}}"
    assert StudioLiquid().render(text, context) == "FW1 FN1 +1800 Zeke +1555 later +1"


# --- compile and render errors ----------------------------------------------------------------------------


def test_syntax_error_names_the_template_and_the_liquid_position() -> None:
    text = "Hello\n{% if widgets.a.b %}yes{% endfor %}"
    with pytest.raises(SchemaError) as caught:
        StudioLiquid().compile(text, name="flows/x.json#/states/3/properties/body")
    err = caught.value
    assert err.location.path == "flows/x.json" and err.location.pointer == "/states/3/properties/body"
    assert "template line 2, column 27" in err.message and "endfor" in err.message
    assert err.hint.splitlines()[0] == "{% if widgets.a.b %}yes{% endfor %}"
    assert err.render().startswith("flows/x.json#/states/3/properties/body: Liquid syntax error")


def test_unclosed_block_is_reported_at_the_end_of_the_template() -> None:
    with pytest.raises(SchemaError, match=r"template line 1, column 11: expected tag endif"):
        StudioLiquid().compile("{% if x %}", name="x")


def test_render_error_is_an_engine_error_with_the_template_name() -> None:
    compiled = StudioLiquid().compile("{{ 10 | divided_by: flow.variables.zero }}",
                                      name="flows/x.json#/states/5/properties/body")
    with pytest.raises(EngineError, match="cannot render Liquid template") as caught:
        compiled.render(studio_context(flow={"variables": {"zero": 0}}))
    assert caught.value.location.pointer == "/states/5/properties/body"


def test_runaway_loop_is_stopped() -> None:
    text = "{% for i in (1..flow.variables.n) %}.{% endfor %}"
    compiled = StudioLiquid(loop_limit=100).compile(text, name="x")
    assert compiled.render(studio_context(flow={"variables": {"n": 100}})) == "." * 100
    with pytest.raises(EngineError, match="loop"):
        compiled.render(studio_context(flow={"variables": {"n": 101}}))


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="objects_as"):
        StudioLiquid(objects_as="xml")


# --- compile once, render many --------------------------------------------------------------------------


def test_templates_are_parsed_once_per_text_and_keep_their_own_names() -> None:
    liquid = StudioLiquid()
    first = liquid.compile("{{flow.channel.address}}", name="a.json#/states/1/properties/from")
    second = liquid.compile("{{flow.channel.address}}", name="b.json#/states/9/properties/from")
    assert first._bound is second._bound
    assert (first.location.path, second.location.path) == ("a.json", "b.json")


def test_plain_text_is_returned_as_is() -> None:
    compiled = StudioLiquid().compile("no markup {here}", name="x")
    assert compiled.render({}) == "no markup {here}"
    assert not is_template("no markup {here}") and is_template("{% if %}") and is_template("a {{b}}")
    assert not is_template(None)


def test_render_value_renders_nested_strings_and_keeps_other_values() -> None:
    liquid = StudioLiquid()
    value = {"parameters": [{"key": "to", "value": "{{contact.channel.address}}"}],
             "timeout": 3600, "flag": True, "url": "https://example.com", "{{key}}": "keys stay as written"}
    out = liquid.render_value(value, studio_context(contact={"channel": {"address": "+1555"}}))
    assert out == {"parameters": [{"key": "to", "value": "+1555"}], "timeout": 3600, "flag": True,
                   "url": "https://example.com", "{{key}}": "keys stay as written"}
    assert value["parameters"][0]["value"] == "{{contact.channel.address}}"  # the input is not changed


def test_compile_value_names_nested_templates_with_their_pointer() -> None:
    with pytest.raises(SchemaError) as caught:
        StudioLiquid().compile_value({"parameters": [{"key": "k", "value": "{% if %}"}]},
                                     name="f.json#/states/4/properties")
    assert caught.value.location.pointer == "/states/4/properties/parameters/0/value"


def test_location_from_name() -> None:
    assert location_from_name("f.json#/a/b").path == "f.json"
    assert location_from_name("f.json#/a/b").pointer == "/a/b"
    assert location_from_name("f.json").pointer == ""
