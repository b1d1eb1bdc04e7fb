"""ST207: a guest's text quoted inside JSON without `| to_json` (Flex attributes, HTTP bodies)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from harness.insight.lint_rules import GUEST_TEXT, LintConfig, lint_flow
from harness.models.flow import flow_from_dict, load_flow
from tests.conftest import EXAMPLES, REAL, requires_real

FLOW = json.loads((EXAMPLES / "hospitality" / "flows" / "flex_messaging.json").read_text())
EXAMPLE_ATTRIBUTES = next(s for s in FLOW["states"] if s["name"] == "SendToConcierge")["properties"]["attributes"]


def flow_with(attributes: str | None = None, *, extra_states: list[dict[str, Any]] = ()) -> Any:
    data = copy.deepcopy(FLOW)
    concierge = next(s for s in data["states"] if s["name"] == "SendToConcierge")
    if attributes is not None:
        concierge["properties"]["attributes"] = attributes
    data["states"].extend(copy.deepcopy(list(extra_states)))
    return flow_from_dict(data, path="flow.json")


def json_findings(flow: Any, config: LintConfig | None = None) -> list[Any]:
    return [f for f in lint_flow(flow, config=config) if f.rule.id in ("ST203", "ST207")]


def with_said(value: str) -> str:
    """The example attributes plus one more key (the case first reported)."""
    return EXAMPLE_ATTRIBUTES[:-1] + f', "said": {value}}}'


def test_the_guest_text_breaks_each_way() -> None:
    # The value the rule renders must hold all three characters that break a hand-quoted JSON string.
    assert '"' in GUEST_TEXT and "\\" in GUEST_TEXT and "\n" in GUEST_TEXT


def test_the_current_input_in_quotes_warns_and_to_json_fixes_it() -> None:
    found = json_findings(flow_with(with_said('"{{widgets.HotelBot.CurrentInput}}"')))
    assert [(f.rule.id, f.severity) for f in found] == [("ST207", "warning")]
    assert "widgets.HotelBot.CurrentInput" in found[0].message
    assert found[0].location.pointer.endswith("/properties/attributes")
    assert "{{widgets.HotelBot.CurrentInput | to_json}} without the surrounding quotes" in found[0].hint
    assert json_findings(flow_with(with_said("{{widgets.HotelBot.CurrentInput | to_json}}"))) == []


@pytest.mark.parametrize("variable", ["trigger.message.Body", "widgets.HotelBot.memory.guest_name",
                                      "widgets.HotelBot.inbound.Body",
                                      "trigger.message.ChannelAttributes.pre_engagement_data.question"])
def test_user_controlled_values_are_suspect(variable: str) -> None:
    found = json_findings(flow_with(with_said(f'"{{{{{variable}}}}}"')))
    assert [f.rule.id for f in found] == ["ST207"] and variable in found[0].message


def test_several_variables_are_named_in_one_finding() -> None:
    found = json_findings(flow_with('{"a": "{{trigger.message.Body}}", "b": "{{widgets.HotelBot.CurrentInput}}"}'))
    assert len(found) == 1
    assert "any of trigger.message.Body, widgets.HotelBot.CurrentInput" in found[0].message


@pytest.mark.parametrize("variable", ["trigger.message.ChannelSid", "widgets.HotelBot.CurrentTask",
                                      "widgets.HotelBot.Channel", "trigger.message.ChannelAttributes.from",
                                      "flow.channel.address", "trigger.call.From",
                                      "widgets.HotelBot.inbound.MessageSid", "flow.data.appointment_id",
                                      "widgets.Ask.outbound.Body"])
def test_values_no_guest_types_are_trusted(variable: str) -> None:
    assert json_findings(flow_with(with_said(f'"{{{{{variable}}}}}"'))) == []


def test_a_guest_field_named_like_a_trusted_one_is_still_suspect() -> None:
    found = json_findings(flow_with(with_said('"{{widgets.HotelBot.memory.from}}"')))
    assert [f.rule.id for f in found] == ["ST207"]


def set_variables(value: str) -> dict[str, Any]:
    return {"name": "Remember", "type": "set-variables", "transitions": [{"event": "next"}],
            "properties": {"variables": [{"key": "picked", "value": value}]}}


@pytest.mark.parametrize(("value", "suspect"), [
    ("sales", False),                                  # a literal
    ("{{widgets.HotelBot.CurrentTask}}", False),       # a trusted value
    ("{{widgets.HotelBot.inbound.Body | strip}}", True),  # the guest's answer
])
def test_flow_variables_inherit_trust_from_what_sets_them(value: str, suspect: bool) -> None:
    loaded = flow_with(with_said('"{{flow.variables.picked}}"'), extra_states=[set_variables(value)])
    found = json_findings(loaded)
    assert [f.rule.id for f in found] == (["ST207"] if suspect else [])
    if suspect:
        assert "flow.variables.picked" in found[0].message


def test_text_mixed_into_a_string_gets_the_capture_hint_and_the_hint_works() -> None:
    found = json_findings(flow_with('{"summary": "Guest said {{trigger.message.Body}} today"}'))
    assert [f.rule.id for f in found] == ["ST207"] and "{% capture text %}" in found[0].hint
    fixed = ('{% capture text %}Guest said {{trigger.message.Body}} today{% endcapture %}'
             '{"summary": {{text | to_json}}}')
    assert json_findings(flow_with(fixed)) == []


def test_escaping_only_the_quotes_by_hand_is_still_caught() -> None:
    # Quotes escaped by hand (`"` → `\"`), but a backslash or a line break still breaks the string.
    half = with_said("\"{{widgets.HotelBot.CurrentInput | replace: '\"', '\\\"'}}\"")
    assert [f.rule.id for f in json_findings(flow_with(half))] == ["ST207"]


def http_state(body: str, content_type: str = "application/json;charset=utf-8") -> dict[str, Any]:
    return {"name": "Notify", "type": "make-http-request",
            "transitions": [{"event": "success"}, {"event": "failed"}],
            "properties": {"method": "POST", "url": "https://example.com/hook", "content_type": content_type,
                           "body": body}}


def test_json_http_bodies_are_checked_too() -> None:
    quoted = '{"text": "{{trigger.message.Body}}", "sid": "{{trigger.message.ChannelSid}}"}'
    found = json_findings(flow_with(extra_states=[http_state(quoted)]))
    assert [f.rule.id for f in found] == ["ST207"]
    assert "make-http-request 'Notify'" in found[0].message and found[0].location.pointer.endswith("/body")
    broken = json_findings(flow_with(extra_states=[http_state('{"text": {{trigger.message.Body}}}')]))
    assert [(f.rule.id, f.severity) for f in broken] == [("ST203", "error")]
    # Form bodies are not JSON: nothing to check.
    assert json_findings(flow_with(extra_states=[http_state(
        quoted, "application/x-www-form-urlencoded;charset=utf-8")])) == []


def test_st207_can_be_disabled_on_its_own() -> None:
    loaded = flow_with(with_said('"{{trigger.message.Body}}"'))
    assert json_findings(loaded, LintConfig(frozenset({"ST207"}))) == []
    assert [f.rule.id for f in json_findings(loaded, LintConfig(frozenset({"ST203"})))] == ["ST207"]


# The real flows' ST207 warnings, each genuinely risky (docs/insight.md lists them).
REAL_WARNINGS = {
    "HlsRobot__twilio-apaleo__studio_flow.json": {
        "flow.variables.customer_name", "flow.variables.reservation_id", "widgets.reservation_action.inbound.Body"},
    "flex-project-template__chat-flow.json": {
        "trigger.conversation.ChannelAttributes.pre_engagement_data.friendlyName"},
    "prebrov__twilio-studio-requestbin__studio-flow.json": {"widgets.intro.inbound.Body"},
    "twilio__twilio-webchat-react-app__studio-flow.json": {
        "widgets.enter_dob.inbound.Body", "widgets.enter_firstname.inbound.Body",
        "widgets.enter_lastname.inbound.Body", "widgets.send_service_options.inbound.Body"},
}


@requires_real
def test_real_flows_get_st207_only_where_a_guest_can_break_them() -> None:
    seen: dict[str, set[str]] = {}
    for path in sorted((REAL / "studio").glob("*.json")):
        try:
            loaded = load_flow(path)
        except Exception:  # legacy / partial files: the loader rejects them
            continue
        for finding in json_findings(loaded):
            assert finding.rule.id == "ST207", finding.render()
            named = finding.message.split(" when ", 1)[1].split(" holds ")[0].removeprefix("any of ")
            seen.setdefault(path.name, set()).update(named.split(", "))
    assert seen == REAL_WARNINGS
