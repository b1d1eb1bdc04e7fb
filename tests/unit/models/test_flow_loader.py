"""The Studio flow loader: what it accepts, each check with a failing and a passing example, locations."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from harness.errors import HarnessError, HarnessErrors, LoadError, ReferenceProblem, SchemaError
from harness.models.flow import (
    Flow,
    flow_from_dict,
    flow_validator,
    is_valid_shape,
    load_flow,
)
from harness.models.widget_specs import SPLIT_CONDITION_TYPES, WIDGET_SPECS, widget_spec
from tests.conftest import real_path


def trigger(next_state: str | None = "ask", **events: str) -> dict[str, Any]:
    transitions = [
        {"event": "incomingMessage", "next": next_state} if next_state else {"event": "incomingMessage"}
    ]
    transitions += [{"event": e, "next": n} for e, n in events.items()]
    return {
        "name": "Trigger",
        "type": "trigger",
        "transitions": transitions,
        "properties": {"offset": {"x": 0, "y": 0}},
    }


def split(name: str = "check", conditions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    conditions = (
        conditions
        if conditions is not None
        else [
            {
                "friendly_name": "yes",
                "arguments": ["{{widgets.ask.inbound.Body}}"],
                "type": "equal_to",
                "value": "yes",
            }
        ]
    )
    return {
        "name": name,
        "type": "split-based-on",
        "transitions": [{"event": "noMatch"}, {"event": "match", "next": "agent", "conditions": conditions}],
        "properties": {"input": "{{widgets.ask.inbound.Body}}"},
    }


def minimal() -> dict[str, Any]:
    """Trigger → send-and-wait → split → send-to-flex: the shape of the real handoff flows."""
    return {
        "description": "A New Flow",
        "states": [
            trigger(),
            {
                "name": "ask",
                "type": "send-and-wait-for-reply",
                "transitions": [
                    {"event": "incomingMessage", "next": "check"},
                    {"event": "timeout"},
                    {"event": "deliveryFailure"},
                ],
                "properties": {"from": "{{flow.channel.address}}", "body": "Agent?", "timeout": "3600"},
            },
            split(),
            {
                "name": "agent",
                "type": "send-to-flex",
                "transitions": [
                    {"event": "callComplete"},
                    {"event": "failedToEnqueue"},
                    {"event": "callFailure"},
                ],
                "properties": {
                    "workflow": "${WORKFLOW_SID}",
                    "channel": "${CHAT_CHANNEL_SID}",
                    "attributes": '{"name": "{{trigger.message.From}}"}',
                },
            },
        ],
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
    }


def state(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in data["states"] if s["name"] == name)


def problems(data: Any) -> list[HarnessError]:
    """Every error the loader raises for `data` (one or several)."""
    with pytest.raises(HarnessError) as info:
        flow_from_dict(data, path="flow.json")
    err = info.value
    return list(err.errors) if isinstance(err, HarnessErrors) else [err]


def only_problem(data: Any) -> HarnessError:
    found = problems(data)
    assert len(found) == 1, [e.render() for e in found]
    return found[0]


# --- the model -----------------------------------------------------------------------------------------


def test_minimal_flow_loads_into_the_model() -> None:
    flow = flow_from_dict(minimal(), path="flow.json")
    assert isinstance(flow, Flow)
    assert flow.description == "A New Flow"
    assert flow.initial_state == "Trigger" and flow.initial.type == "trigger"
    assert flow.state_names == ("Trigger", "ask", "check", "agent")
    assert flow.allow_concurrent_calls is True
    assert flow.warnings == ()
    ask = flow.state("ask")
    assert ask is not None and ask.pointer == "/states/1"
    assert ask.next_for("incomingMessage") == "check"
    assert ask.transition("timeout") is not None and ask.next_for("timeout") is None  # listed, ends
    assert flow.state("nope") is None
    check = flow.state("check")
    assert check is not None
    assert [t.next for t in check.match_transitions] == ["agent"]
    assert check.match_transitions[0].conditions[0]["type"] == "equal_to"
    assert check.match_transitions[0].pointer == "/states/2/transitions/1"
    assert check.spec is widget_spec("split-based-on")


def test_missing_next_empty_next_null_next_and_missing_event_all_end_the_execution() -> None:
    data = minimal()
    state(data, "Trigger")["transitions"] += [
        {"event": "incomingCall", "next": ""},
        {"event": "incomingRequest", "next": None},
    ]
    start = flow_from_dict(data).initial
    assert start.next_for("incomingCall") is None and start.has_event("incomingCall")
    assert start.next_for("incomingRequest") is None and start.has_event("incomingRequest")
    assert start.next_for("incomingParent") is None and not start.has_event("incomingParent")


def test_flags_are_optional() -> None:
    data = minimal()
    del data["flags"]
    flow = flow_from_dict(data)
    assert flow.flags == {} and flow.allow_concurrent_calls is True


# --- accepted wrappers ---------------------------------------------------------------------------------


def test_rest_flow_resource_wrapper_is_accepted_and_pointers_include_definition() -> None:
    wrapped = {"sid": "FW" + "a" * 32, "friendly_name": "Handoff", "definition": minimal()}
    flow = flow_from_dict(wrapped)
    assert (flow.sid, flow.friendly_name) == ("FW" + "a" * 32, "Handoff")
    assert flow.state("ask").pointer == "/definition/states/1"  # type: ignore[union-attr]
    state(wrapped["definition"], "ask")["transitions"][0]["next"] = "chek"
    err = only_problem(wrapped)
    assert err.location is not None and err.location.pointer == "/definition/states/1/transitions/0/next"


def test_definition_as_a_json_string_is_accepted() -> None:
    flow = flow_from_dict({"friendly_name": "x", "definition": json.dumps(minimal())})
    assert flow.state_names[0] == "Trigger"


@pytest.mark.parametrize(
    ("definition", "fragment"),
    [(None, "'definition' is null"), ("{oops", "not valid JSON"), ([1], "'definition' must be an object")],
)
def test_unusable_definition_wrappers_are_rejected(definition: Any, fragment: str) -> None:
    err = only_problem({"friendly_name": "x", "definition": definition})
    assert fragment in err.message and err.location is not None and err.location.pointer == "/definition"


def test_a_document_that_is_not_an_object_is_rejected() -> None:
    err = only_problem([minimal()])
    assert isinstance(err, SchemaError) and "expected a Studio flow definition" in err.message


# --- the legacy format ---------------------------------------------------------------------------------


def test_real_legacy_export_is_rejected_with_one_message_saying_how_to_convert() -> None:
    path = real_path("studio/LEGACY_stuartlogan82__geolocator__studioFlow.json")
    with pytest.raises(LoadError) as info:
        load_flow(path)
    err = info.value
    assert not isinstance(err, HarnessErrors)
    assert "pre-2019" in err.message and "v2" in err.message
    assert err.hint is not None and "re-export" in err.hint
    assert err.location is not None and err.location.path == str(path) and err.location.line == 1


def test_legacy_is_recognised_by_ff_sids_even_with_kebab_types() -> None:
    data = minimal()
    del data["initial_state"]
    data["states"][0]["sid"] = "FF" + "0" * 32
    assert "pre-2019" in only_problem(data).message


def test_a_v2_flow_without_initial_state_is_not_called_legacy() -> None:
    data = minimal()
    del data["initial_state"]
    err = only_problem(data)
    assert "pre-2019" not in err.message and "initial_state" in err.message


# --- names and references ------------------------------------------------------------------------------


def test_duplicate_state_names_are_rejected() -> None:
    data = minimal()
    data["states"][3]["name"] = "ask"
    found = problems(data)
    duplicate = next(e for e in found if "used twice" in e.message)
    assert isinstance(duplicate, SchemaError)
    assert duplicate.location.pointer == "/states/3/name"  # type: ignore[union-attr]
    assert "state name 'ask'" in duplicate.message and "/states/1" in duplicate.message


def test_next_must_name_a_state_with_a_suggestion() -> None:
    data = minimal()
    state(data, "ask")["transitions"][0]["next"] = "chek"
    err = only_problem(data)
    assert isinstance(err, ReferenceProblem)
    assert err.location.pointer == "/states/1/transitions/0/next"  # type: ignore[union-attr]
    assert "state 'ask' (send-and-wait-for-reply)" in err.message
    assert "goes to 'chek', which is not a state" in err.message and "did you mean 'check'?" in err.message


def test_next_may_loop_back_to_an_earlier_state() -> None:
    data = minimal()
    state(data, "ask")["transitions"][1]["next"] = "ask"  # timeout → ask again
    assert flow_from_dict(data).state("ask").next_for("timeout") == "ask"  # type: ignore[union-attr]


def test_initial_state_must_name_a_state() -> None:
    data = minimal()
    data["initial_state"] = "trigger"
    err = only_problem(data)
    assert isinstance(err, ReferenceProblem) and err.location.pointer == "/initial_state"  # type: ignore[union-attr]
    assert (
        "initial_state 'trigger' is not a state" in err.message and "did you mean 'Trigger'?" in err.message
    )


# --- events --------------------------------------------------------------------------------------------


def test_an_event_the_widget_cannot_emit_is_rejected() -> None:
    data = minimal()
    state(data, "agent")["transitions"][1]["event"] = "failed"
    err = only_problem(data)
    assert isinstance(err, SchemaError)
    assert err.location.pointer == "/states/3/transitions/1/event"  # type: ignore[union-attr]
    assert "state 'agent' (send-to-flex): 'failed' is not an event of send-to-flex" in err.message
    assert "callComplete" in err.message


def test_run_function_fails_with_fail_not_failed() -> None:
    data = minimal()
    data["states"].append(
        {
            "name": "fn",
            "type": "run-function",
            "properties": {"url": "https://x.twil.io/f"},
            "transitions": [{"event": "success"}, {"event": "failed"}],
        }
    )
    err = only_problem(data)
    assert "'failed' is not an event of run-function" in err.message and "did you mean 'fail'?" in err.message


def test_trigger_accepts_all_five_start_events() -> None:
    data = minimal()
    data["states"][0] = trigger(
        incomingCall="ask", incomingConversationMessage="ask", incomingRequest="ask", incomingParent="ask"
    )
    assert len(flow_from_dict(data).initial.transitions) == 5


def test_duplicate_events_are_rejected_but_several_match_transitions_are_not() -> None:
    data = minimal()
    state(data, "ask")["transitions"].append({"event": "timeout", "next": "ask"})
    err = only_problem(data)
    assert err.location.pointer == "/states/1/transitions/3/event"  # type: ignore[union-attr]
    assert "event 'timeout' has two transitions" in err.message

    data = minimal()
    check = state(data, "check")
    check["transitions"].append(copy.deepcopy(check["transitions"][1]))
    assert len(flow_from_dict(data).state("check").match_transitions) == 2  # type: ignore[union-attr]

    check["transitions"].append({"event": "noMatch"})
    assert "event 'noMatch' has two transitions" in only_problem(data).message


def test_missing_event_entries_are_allowed() -> None:
    data = minimal()
    state(data, "ask")["transitions"] = [{"event": "incomingMessage", "next": "check"}]  # no timeout entry
    assert flow_from_dict(data).state("ask").has_event("timeout") is False  # type: ignore[union-attr]


# --- properties ----------------------------------------------------------------------------------------


def test_a_missing_required_property_is_named() -> None:
    data = minimal()
    del state(data, "agent")["properties"]["workflow"]
    err = only_problem(data)
    assert isinstance(err, SchemaError) and err.location.pointer == "/states/3/properties"  # type: ignore[union-attr]
    assert "state 'agent' (send-to-flex): missing required property 'workflow'" in err.message


def test_a_null_required_property_counts_as_missing() -> None:
    data = minimal()
    state(data, "check")["properties"]["input"] = None
    assert "missing required property 'input'" in only_problem(data).message


def test_a_null_optional_property_is_fine() -> None:
    data = minimal()
    state(data, "agent")["properties"]["priority"] = None
    flow_from_dict(data)


def test_content_template_messages_need_content_sid_instead_of_body() -> None:
    data = minimal()
    props = state(data, "ask")["properties"]
    del props["body"]
    assert "missing required property 'body'" in only_problem(data).message
    props["message_type"] = "content_template"
    assert "missing required property 'content_sid'" in only_problem(data).message
    props["content_sid"] = "HX" + "0" * 32
    flow_from_dict(data)


def test_send_to_flex_attributes_must_be_a_string() -> None:
    data = minimal()
    state(data, "agent")["properties"]["attributes"] = {"name": "{{trigger.message.From}}"}
    err = only_problem(data)
    assert err.location.pointer == "/states/3/properties/attributes"  # type: ignore[union-attr]
    assert (
        "state 'agent' (send-to-flex): property 'attributes' must be a string, found an object" in err.message
    )
    assert err.hint is not None and "JSON" in err.hint


def test_timeouts_may_be_numbers_or_strings_but_not_objects() -> None:
    data = minimal()
    state(data, "ask")["properties"]["timeout"] = 3600
    flow_from_dict(data)
    state(data, "ask")["properties"]["timeout"] = {"seconds": 3600}
    assert "property 'timeout' must be a string, number or boolean" in only_problem(data).message


def test_key_value_lists_are_checked_item_by_item() -> None:
    data = minimal()
    data["states"].append(
        {
            "name": "vars",
            "type": "set-variables",
            "transitions": [{"event": "next"}],
            "properties": {"variables": [{"key": "queue", "value": "sales", "index": "0"}, {"value": "x"}]},
        }
    )
    err = only_problem(data)
    assert err.location.pointer == "/states/4/properties/variables/1"  # type: ignore[union-attr]
    assert "property 'variables' item 1 needs a non-empty string 'key'" in err.message


def test_terraform_placeholders_are_plain_strings() -> None:
    data = minimal()
    data["description"] = "${flow_description}"
    state(data, "agent")["properties"].update(
        workflow="${workflow_sids.master}", channel="${CHAT_CHANNEL_SID}"
    )
    flow = flow_from_dict(data)
    assert flow.state("agent").properties["workflow"] == "${workflow_sids.master}"  # type: ignore[union-attr]


# --- split-based-on conditions -------------------------------------------------------------------------


def test_a_match_transition_needs_conditions() -> None:
    data = minimal()
    data["states"][2] = split(conditions=[])
    err = only_problem(data)
    assert err.location.pointer == "/states/2/transitions/1"  # type: ignore[union-attr]
    assert "a 'match' transition needs at least one condition" in err.message


@pytest.mark.parametrize(
    ("change", "pointer", "fragment"),
    [
        (
            lambda c: c.pop("friendly_name"),
            "/states/2/transitions/1/conditions/0",
            "missing required key 'friendly_name'",
        ),
        (lambda c: c.pop("value"), "/states/2/transitions/1/conditions/0", "missing required key 'value'"),
        (
            lambda c: c.update(arguments="{{x}}"),
            "/states/2/transitions/1/conditions/0/arguments",
            "expected a list",
        ),
        (lambda c: c.update(arguments=[]), "/states/2/transitions/1/conditions/0/arguments", "at least 1"),
        (
            lambda c: c.update(type="equals"),
            "/states/2/transitions/1/conditions/0/type",
            "unknown condition type 'equals' (did you mean 'equal_to'?)",
        ),
        (lambda c: c.update(value={"a": 1}), "/states/2/transitions/1/conditions/0/value", "found an object"),
    ],
)
def test_malformed_conditions_are_rejected(change: Any, pointer: str, fragment: str) -> None:
    data = minimal()
    change(state(data, "check")["transitions"][1]["conditions"][0])
    err = only_problem(data)
    assert err.location is not None and err.location.pointer == pointer
    assert fragment in err.message and "state 'check' (split-based-on)" in err.message


@pytest.mark.parametrize("condition_type", SPLIT_CONDITION_TYPES)
def test_all_seventeen_condition_types_are_accepted(condition_type: str) -> None:
    data = minimal()
    data["states"][2] = split(
        conditions=[{"friendly_name": "c", "arguments": ["{{x}}"], "type": condition_type, "value": "1"}]
    )
    flow_from_dict(data)


def test_a_numeric_condition_value_is_accepted() -> None:
    data = minimal()
    data["states"][2] = split(
        conditions=[{"friendly_name": "c", "arguments": ["{{x}}"], "type": "greater_than", "value": 3}]
    )
    flow_from_dict(data)


# --- warnings ------------------------------------------------------------------------------------------


def test_an_unknown_widget_type_is_a_warning_not_an_error() -> None:
    data = minimal()
    data["states"].append(
        {"name": "x", "type": "send-mesage", "transitions": [{"event": "whatever"}], "properties": {}}
    )
    flow = flow_from_dict(data)
    (warning,) = flow.warnings
    assert warning.location.pointer == "/states/4/type"  # type: ignore[union-attr]
    assert "unknown widget type 'send-mesage' (did you mean 'send-message'?)" in warning.message
    assert flow.state("x").spec is None  # type: ignore[union-attr]


def test_a_twilio_type_without_a_table_is_a_warning_and_its_events_are_not_checked() -> None:
    data = minimal()
    data["states"].append(
        {
            "name": "nlu",
            "type": "understand",
            "transitions": [{"event": "anything"}],
            "properties": {"anything": 1},
        }
    )
    (warning,) = flow_from_dict(data).warnings
    assert "'understand' is a Twilio type this kit has no table for" in warning.message


def test_an_unknown_property_key_is_a_warning_with_a_suggestion() -> None:
    data = minimal()
    state(data, "agent")["properties"]["atributes"] = "{}"
    (warning,) = flow_from_dict(data).warnings
    assert warning.location.pointer == "/states/3/properties/atributes"  # type: ignore[union-attr]
    assert "unknown property 'atributes' (did you mean 'attributes'?)" in warning.message


def test_conditions_on_a_transition_other_than_match_are_a_warning() -> None:
    data = minimal()
    state(data, "ask")["transitions"][1]["conditions"] = copy.deepcopy(
        state(data, "check")["transitions"][1]["conditions"]
    )
    (warning,) = flow_from_dict(data).warnings
    assert "conditions on the 'timeout' transition are ignored" in warning.message


# --- shape (JSON Schema) -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "pointer", "fragment"),
    [
        (lambda d: d.update(states=[]), "/states", "at least 1"),
        (
            lambda d: d["states"].extend(dict(d["states"][3], name=f"s{i}") for i in range(1000)),
            "/states",
            "at most 1000",
        ),
        (lambda d: d.update(initial_state=""), "/initial_state", "empty"),
        (lambda d: d.update(flags={}), "/flags", "missing required key 'allow_concurrent_calls'"),
        (
            lambda d: d.update(flags={"allow_concurrent_calls": "yes"}),
            "/flags/allow_concurrent_calls",
            "expected true or false",
        ),
        (lambda d: d.update(description=5), "/description", "expected a string"),
        (
            lambda d: d["states"][1].pop("properties"),
            "/states/1",
            "state 'ask' (send-and-wait-for-reply): missing required key 'properties'",
        ),
        (
            lambda d: d["states"][1]["transitions"][0].pop("event"),
            "/states/1/transitions/0",
            "missing required key 'event'",
        ),
        (
            lambda d: d["states"][1]["transitions"][0].update(next=3),
            "/states/1/transitions/0/next",
            "expected a string or null",
        ),
    ],
)
def test_shape_problems_come_from_the_json_schema(change: Any, pointer: str, fragment: str) -> None:
    data = minimal()
    change(data)
    found = problems(data)
    assert any(
        e.location is not None and e.location.pointer == pointer and fragment in e.message for e in found
    ), [e.render() for e in found]


def test_all_problems_are_reported_together_in_reading_order(tmp_path: Path) -> None:
    data = minimal()
    state(data, "ask")["transitions"][0]["next"] = "nowhere"
    del state(data, "agent")["properties"]["channel"]
    state(data, "check")["transitions"][1]["conditions"][0]["type"] = "equals"
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    with pytest.raises(HarnessErrors) as info:
        load_flow(path)
    found = info.value.errors
    assert len(found) == 3
    lines = [e.location.line for e in found]  # type: ignore[union-attr]
    assert all(lines) and lines == sorted(lines)
    assert info.value.render().startswith("3 problems:")


# --- files on disk: exact lines ------------------------------------------------------------------------

FLOW_TEXT = """\
{
  "description": "line test",
  "states": [
    {
      "name": "Trigger",
      "type": "trigger",
      "transitions": [
        {"event": "incomingMessage", "next": "to_agent"}
      ],
      "properties": {"offset": {"x": 0, "y": 0}}
    },
    {
      "name": "to_agent",
      "type": "send-to-flex",
      "transitions": [
        {"event": "callComplete"},
        {"event": "failedToEnqueue", "next": "sorry"}
      ],
      "properties": {
        "workflow": "${WORKFLOW_SID}",
        "channel": "${CHAT_CHANNEL_SID}",
        "attributes": {"name": "{{trigger.message.From}}"}
      }
    }
  ],
  "initial_state": "Trigger",
  "flags": {"allow_concurrent_calls": true}
}
"""


def test_errors_in_a_file_carry_path_pointer_and_line(tmp_path: Path) -> None:
    path = tmp_path / "handoff.json"
    path.write_text(FLOW_TEXT, encoding="utf-8")
    with pytest.raises(HarnessErrors) as info:
        load_flow(path)
    dangling, attributes = info.value.errors
    assert dangling.location is not None and attributes.location is not None
    assert (dangling.location.path, dangling.location.pointer, dangling.location.line) == (
        str(path),
        "/states/1/transitions/1/next",
        17,
    )
    assert "state 'to_agent' (send-to-flex): transition 'failedToEnqueue' goes to 'sorry'" in dangling.message
    assert (attributes.location.pointer, attributes.location.line) == ("/states/1/properties/attributes", 22)
    assert f"{path}:22:" in attributes.render()


def test_warnings_in_a_file_carry_lines_too(tmp_path: Path) -> None:
    path = tmp_path / "handoff.json"
    path.write_text(
        FLOW_TEXT.replace('"next": "sorry"', '"next": "Trigger"').replace(
            '"attributes": {"name": "{{trigger.message.From}}"}', '"atributes": "{}"'
        ),
        encoding="utf-8",
    )
    (warning,) = load_flow(path).warnings
    assert warning.location is not None and warning.location.line == 22


def test_malformed_json_is_a_load_error_with_a_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text(FLOW_TEXT.replace('"type": "trigger",', '"type": "trigger"'), encoding="utf-8")
    with pytest.raises(LoadError) as info:
        load_flow(path)
    assert info.value.location is not None and info.value.location.line == 7


def test_a_missing_file_is_a_load_error(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="file not found"):
        load_flow(tmp_path / "absent.json")


def test_yaml_flows_load_too(tmp_path: Path) -> None:
    import yaml

    path = tmp_path / "flow.yaml"
    path.write_text(yaml.safe_dump(minimal()), encoding="utf-8")
    assert load_flow(path).state_names == ("Trigger", "ask", "check", "agent")


# --- the schema file and the fast shape check ----------------------------------------------------------


def test_schema_is_draft_2020_12_with_an_id_and_a_description_on_every_property() -> None:
    schema = flow_validator().schema
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith("/flow.schema.json")

    def walk(node: dict[str, Any], where: str) -> int:
        """Check every subschema under `properties`; returns how many were checked."""
        checked = 0
        for name, sub in node.get("properties", {}).items():
            assert "description" in sub, f"{where}/properties/{name} has no description"
            checked += 1 + walk(sub, f"{where}/properties/{name}")
        for keyword in ("items", "additionalProperties"):
            if isinstance(node.get(keyword), dict):
                checked += walk(node[keyword], f"{where}/{keyword}")
        for name, sub in node.get("$defs", {}).items():
            checked += walk(sub, f"{where}/$defs/{name}")
        return checked

    assert walk(schema, "") >= 15


_ODD_VALUES: list[Any] = [None, 0, 1.5, True, "", "x", [], {}, ["x"], "equal_to"]


def _mutations(document: Any) -> list[Any]:
    """Copies of `document` with one value replaced or one key removed, everywhere in it."""
    found: list[Any] = []

    def paths(node: Any, path: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        out = [path]
        if isinstance(node, dict):
            for k, v in node.items():
                out += paths(v, (*path, k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                out += paths(v, (*path, i))
        return out

    for path in paths(document, ())[1:]:
        for replacement in [*_ODD_VALUES, "DELETE"]:
            copy_ = copy.deepcopy(document)
            parent = copy_
            for part in path[:-1]:
                parent = parent[part]
            if replacement == "DELETE":
                del parent[path[-1]]
            else:
                parent[path[-1]] = replacement
            found.append(copy_)
    return found


def test_fast_shape_check_agrees_with_the_json_schema() -> None:
    validator = flow_validator()
    document = minimal()
    document["$schema"] = "https://schemas.twilio.com/studio/draft/2019-09/flow-definition"
    cases = _mutations(document)
    assert len(cases) > 500
    for case in cases:
        assert is_valid_shape(case) == validator.is_valid(case), json.dumps(case)[:300]


def test_every_table_entry_is_consistent() -> None:
    for name, spec in WIDGET_SPECS.items():
        assert spec.type == name
        if spec.events is not None and spec.properties is not None:
            assert set(spec.required) <= set(spec.properties), name
            assert "offset" in spec.properties, name


def test_the_widget_table_in_the_docs_matches_the_code() -> None:
    doc = (Path(__file__).resolve().parents[3] / "docs" / "studio-flows.md").read_text(encoding="utf-8")
    rows = {}
    for line in doc.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`") and cells[0].strip("`") in WIDGET_SPECS:
            rows[cells[0].strip("`")] = cells

    def names(cell: str) -> set[str]:
        return {part.strip().strip("`") for part in cell.split(",")} - {"—", "not checked"}

    documented = {name for name, spec in WIDGET_SPECS.items() if spec.events is not None}
    assert set(rows) == documented
    for name, (_, events, required, _) in rows.items():
        spec = WIDGET_SPECS[name]
        assert names(events) == spec.events, name
        assert names(required) == set(spec.required), name
