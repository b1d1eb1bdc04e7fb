"""The Actions validator (Twilio error 90100) and the built-in field types."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from harness.errors import HarnessErrors, ReferenceProblem, SchemaError
from harness.models.actions import (
    ACTION_NAMES,
    ACTIONS_SCHEMA_ID,
    check_actions,
    load_schema,
    validate_actions,
    validator_for,
)
from harness.models.field_types import (
    BUILTIN_FIELD_TYPE_SIDS,
    BUILTIN_FIELD_TYPES,
    builtin_name,
    is_builtin,
    suggest_builtin,
)
from harness.sources import parse_text


def doc(*actions: Any) -> dict[str, Any]:
    return {"actions": list(actions)}


def collect(
    *questions: dict[str, Any], on_complete: Any = "task://done", name: str = "form"
) -> dict[str, Any]:
    return {"collect": {"name": name, "questions": list(questions), "on_complete": {"redirect": on_complete}}}


def only(problems: list, kind: type = SchemaError):
    assert len(problems) == 1, [p.render() for p in problems]
    assert type(problems[0]) is kind
    return problems[0]


# --- valid documents -------------------------------------------------------------------------------

VALID_ACTIONS = {
    "say string": {"say": "Hello"},
    "say speech": {"say": {"speech": "<speak>Hi</speak>"}},
    "play": {"play": {"url": "https://example.com/a.mp3", "loop": 2}},
    "show body only": {"show": {"body": "Hi"}},
    "show with images": {"show": {"body": "Owls", "images": [{"label": "Owl", "url": "https://x/o.png"}]}},
    "remember nested values": {"remember": {"sendToAgent": True, "at": {"step": 1}}},
    "listen true": {"listen": True},
    "listen selective": {"listen": {"tasks": ["checkout"], "barge": False}},
    "listen voice digits": {
        "listen": {"voice_digits": {"num_digits": 1, "finish_on_key": "#", "redirects": {"1": "task://pay"}}}
    },
    "redirect task": {"redirect": "task://greeting"},
    "redirect url string": {"redirect": "https://example.com/actions"},
    "redirect object": {"redirect": {"uri": "https://example.com/a", "method": "GET"}},
    "redirect object lower-case method": {"redirect": {"uri": "task://greeting", "method": "post"}},
    "handoff string numbers": {
        "handoff": {"channel": "voice", "uri": "taskrouter://WW1", "priority": "5", "timeout": "200"}
    },
    "handoff integer numbers": {"handoff": {"channel": "voice", "uri": "https://x/twiml", "priority": 5}},
    "collect question as say": collect({"question": {"say": {"speech": "Name?"}}, "name": "first_name"}),
    "collect with everything": collect(
        {
            "question": "Which city?",
            "name": "city",
            "type": "Twilio.CITY",
            "prefill": "city",
            "voice_digits": {"num_digits": 1, "mapping": {"1": "New York"}},
            "validate": {
                "allowed_values": {"list": ["New York", "SF"]},
                "on_failure": {
                    "messages": [{"say": "Again?"}, {"say": {"speech": "Once more"}}],
                    "repeat_question": True,
                },
                "on_success": {"say": "Got it."},
                "max_attempts": {"redirect": "task://trouble", "num_attempts": 3},
                "webhook": {"url": "https://example.com/validate", "method": "POST"},
            },
        },
        on_complete={"uri": "https://example.com/done", "method": "POST"},
    ),
}


@pytest.mark.parametrize("action", VALID_ACTIONS.values(), ids=VALID_ACTIONS.keys())
def test_valid_actions_have_no_problems(action):
    assert check_actions(doc(action)) == []


def test_empty_action_list_is_valid():
    assert check_actions({"actions": []}) == []


# --- element shape ---------------------------------------------------------------------------------


def test_unknown_action_is_rejected_with_90100():
    problem = only(check_actions(doc({"say": "hi"}, {"speak": "hi"})))
    assert problem.location.pointer == "/actions/1/speak"
    assert "unknown action 'speak'" in problem.message
    assert "90100" in problem.message
    assert "say, play, collect, listen, redirect, handoff, remember, show" in problem.message


def test_element_with_two_keys_is_rejected():
    problem = only(check_actions(doc({"say": "hi", "listen": True})))
    assert problem.location.pointer == "/actions/0"
    assert "exactly one key, found 2 (say, listen)" in problem.message


def test_empty_element_is_rejected():
    problem = only(check_actions(doc({})))
    assert problem.location.pointer == "/actions/0"
    assert "empty action" in problem.message


def test_element_that_is_not_an_object():
    problem = only(check_actions(doc("say hi")))
    assert problem.location.pointer == "/actions/0"
    assert 'expected an object, found "say hi"' in problem.message


@pytest.mark.parametrize(
    ("document", "pointer", "fragment"),
    [
        ([], "", "expected an object, found an empty list"),
        ({}, "", "missing required key 'actions'"),
        ({"actions": {"say": "x"}}, "/actions", "expected a list, found an object"),
        ({"actions": [], "action": []}, "/action", "unknown key 'action' (did you mean 'actions'?)"),
    ],
)
def test_wrong_document_shape(document, pointer, fragment):
    problem = only(check_actions(document))
    assert problem.location.pointer == pointer
    assert fragment in problem.message


# --- each action -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "pointer", "fragment"),
    [
        ({"say": 3}, "/actions/0/say", 'expected a string or {"speech": string}, found 3'),
        ({"say": {"speech": 1}}, "/actions/0/say/speech", "expected a string, found 1"),
        ({"say": {"speech": "a", "voice": "x"}}, "/actions/0/say/voice", "unknown key 'voice'"),
        ({"show": {"images": []}}, "/actions/0/show", "missing required key 'body'"),
        ({"show": {"body": "x", "images": [{"label": "a"}]}}, "/actions/0/show/images/0", "'url'"),
        ({"show": {"body": "x", "text": "y"}}, "/actions/0/show/text", "unknown key 'text'"),
        ({"play": {"loop": 1}}, "/actions/0/play", "missing required key 'url'"),
        ({"play": {"url": "https://x", "loop": -1}}, "/actions/0/play/loop", "expected a number >= 0"),
        ({"remember": ["a"]}, "/actions/0/remember", "expected an object, found a list"),
        ({"listen": False}, "/actions/0/listen", "expected true or an object"),
        ({"listen": {"tasks": "checkout"}}, "/actions/0/listen/tasks", "expected a list"),
        ({"listen": {"barge": "no"}}, "/actions/0/listen/barge", "expected true or false"),
        (
            {"listen": {"voice_digits": {"redirects": {"one": "task://a"}}}},
            "/actions/0/listen/voice_digits/redirects",
            'invalid key "one"',
        ),
        ({"redirect": "greeting"}, "/actions/0/redirect", 'expected "task://<task>" or an http(s) URL'),
        ({"redirect": ""}, "/actions/0/redirect", 'expected "task://<task>" or an http(s) URL, found ""'),
        ({"redirect": "function://send"}, "/actions/0/redirect", 'found "function://send"'),
        ({"redirect": {"uri": 3}}, "/actions/0/redirect/uri", "found 3"),
        (
            {"redirect": {"uri": "task://a", "method": "PUT"}},
            "/actions/0/redirect/method",
            'expected "GET" or "POST", found "PUT"',
        ),
        ({"redirect": {"method": "GET"}}, "/actions/0/redirect", "missing required key 'uri'"),
        ({"redirect": 7}, "/actions/0/redirect", 'expected "task://<task>", an http(s) URL, or {'),
        (
            {"handoff": {"channel": "sms", "uri": "x"}},
            "/actions/0/handoff/channel",
            'expected "voice", found "sms"',
        ),
        ({"handoff": {"channel": "voice"}}, "/actions/0/handoff", "missing required key 'uri'"),
        (
            {"handoff": {"channel": "voice", "uri": "x", "priority": "high"}},
            "/actions/0/handoff/priority",
            "expected an integer or a string of digits",
        ),
        (
            {"handoff": {"channel": "voice", "uri": "x", "wait_url_metod": "GET"}},
            "/actions/0/handoff/wait_url_metod",
            "did you mean 'wait_url_method'?",
        ),
    ],
)
def test_malformed_action(action, pointer, fragment):
    problem = only(check_actions(doc(action)))
    assert problem.location.pointer == pointer
    assert fragment in problem.message
    assert problem.message.endswith("(error 90100)")


@pytest.mark.parametrize(
    ("action", "pointer", "fragment"),
    [
        (
            {
                "collect": {
                    "questions": [{"question": "q", "name": "a"}],
                    "on_complete": {"redirect": "task://x"},
                }
            },
            "/actions/0/collect",
            "missing required key 'name'",
        ),
        (
            collect({"question": "q", "name": "a"}, name="my form"),
            "/actions/0/collect/name",
            'expected a non-empty name without spaces, found "my form"',
        ),
        (collect(), "/actions/0/collect/questions", "expected at least 1 item(s), found 0"),
        (
            {"collect": {"name": "f", "questions": [{"question": "q", "name": "a"}]}},
            "/actions/0/collect",
            "missing required key 'on_complete'",
        ),
        (
            collect({"question": "q", "name": "a"}, on_complete=None),
            "/actions/0/collect/on_complete/redirect",
            "found null",
        ),
        (collect({"name": "a"}), "/actions/0/collect/questions/0", "missing required key 'question'"),
        (
            collect({"question": "q", "name": "first name"}),
            "/actions/0/collect/questions/0/name",
            "without spaces",
        ),
        (
            collect({"question": {}, "name": "a"}),
            "/actions/0/collect/questions/0/question",
            "missing required key 'say'",
        ),
        (
            collect({"question": "q", "name": "a", "type": ""}),
            "/actions/0/collect/questions/0/type",
            "must not be empty",
        ),
        (
            collect({"question": "q", "name": "a", "confirm": True}),
            "/actions/0/collect/questions/0/confirm",
            "unknown key 'confirm'",
        ),
        (
            collect({"question": "q", "name": "a", "validate": {"max_attempts": {"num_attempts": 0}}}),
            "/actions/0/collect/questions/0/validate/max_attempts/num_attempts",
            "expected a number >= 1",
        ),
        (
            collect({"question": "q", "name": "a", "validate": {"webhook": {"url": "example.com"}}}),
            "/actions/0/collect/questions/0/validate/webhook/url",
            "expected an http(s) URL",
        ),
        (
            collect({"question": "q", "name": "a", "validate": {"on_failure": {"messages": ["again"]}}}),
            "/actions/0/collect/questions/0/validate/on_failure/messages/0",
            "expected an object",
        ),
        (
            collect({"question": "q", "name": "a", "validate": {"allowed_values": ["x"]}}),
            "/actions/0/collect/questions/0/validate/allowed_values",
            "expected an object, found a list",
        ),
    ],
)
def test_malformed_collect(action, pointer, fragment):
    problem = only(check_actions(doc(action)))
    assert problem.location.pointer == pointer
    assert fragment in problem.message


def test_question_names_are_unique_within_a_collect():
    action = collect(
        {"question": "a?", "name": "x"}, {"question": "b?", "name": "y"}, {"question": "c?", "name": "x"}
    )
    problem = only(check_actions(doc(action)))
    assert problem.location.pointer == "/actions/0/collect/questions/2/name"
    assert "duplicate question name 'x'" in problem.message


def test_same_question_name_in_two_collects_is_fine():
    first = collect({"question": "a?", "name": "x"}, name="one")
    second = collect({"question": "b?", "name": "x"}, name="two")
    assert check_actions(doc(first, second)) == []


def test_all_problems_are_reported_in_document_order():
    problems = check_actions(doc({"say": 1}, {"speak": "x"}, {"redirect": "nowhere"}))
    assert [p.location.pointer for p in problems] == [
        "/actions/0/say",
        "/actions/1/speak",
        "/actions/2/redirect",
    ]


# --- field types (error 90104) ---------------------------------------------------------------------


def question_type(field_type: str) -> dict[str, Any]:
    return doc(collect({"question": "q", "name": "a", "type": field_type}))


def test_misspelt_builtin_type_is_rejected_with_a_suggestion():
    problem = only(check_actions(question_type("Twilio.PHONENUMBER")), ReferenceProblem)
    assert problem.location.pointer == "/actions/0/collect/questions/0/type"
    assert "90104" in problem.message
    assert "did you mean 'Twilio.PHONE_NUMBER'?" in problem.message


def test_custom_type_is_accepted_when_the_assistant_is_unknown():
    assert check_actions(question_type("Custom.FOOD")) == []


def test_custom_type_must_exist_when_field_type_names_are_given():
    assert check_actions(question_type("Custom.FOOD"), field_type_names={"Custom.FOOD"}) == []
    problem = only(
        check_actions(question_type("Custom.FOD"), field_type_names={"Custom.FOOD"}), ReferenceProblem
    )
    assert "unknown field type 'Custom.FOD' (did you mean 'Custom.FOOD'?)" in problem.message


def test_builtin_sid_is_accepted_as_a_type():
    assert check_actions(question_type("UB2d5c8ef1654c60cbf8a178c206314612"), field_type_names=()) == []


def test_miscased_builtin_is_rejected_unless_asked():
    problem = only(check_actions(question_type("Twilio.Number")), ReferenceProblem)
    assert "did you mean 'Twilio.NUMBER'?" in problem.message
    assert check_actions(question_type("Twilio.Number"), ignore_type_case=True) == []


# --- task references -------------------------------------------------------------------------------

TASKS = ("greeting", "fallback", "complete_order")


@pytest.mark.parametrize(
    ("action", "pointer"),
    [
        ({"redirect": "task://nowhere"}, "/actions/0/redirect"),
        ({"redirect": {"uri": "task://nowhere", "method": "POST"}}, "/actions/0/redirect/uri"),
        ({"listen": {"tasks": ["greeting", "nowhere"]}}, "/actions/0/listen/tasks/1"),
        (
            {"listen": {"voice_digits": {"redirects": {"1": "task://nowhere"}}}},
            "/actions/0/listen/voice_digits/redirects/1",
        ),
        (
            collect({"question": "q", "name": "a"}, on_complete="task://nowhere"),
            "/actions/0/collect/on_complete/redirect",
        ),
        (
            collect({"question": "q", "name": "a"}, on_complete={"uri": "task://nowhere"}),
            "/actions/0/collect/on_complete/redirect/uri",
        ),
        (
            collect(
                {
                    "question": "q",
                    "name": "a",
                    "validate": {"max_attempts": {"redirect": "task://nowhere", "num_attempts": 2}},
                },
                on_complete="task://greeting",
            ),
            "/actions/0/collect/questions/0/validate/max_attempts/redirect",
        ),
    ],
)
def test_task_targets_must_exist(action, pointer):
    problem = only(check_actions(doc(action), task_names=TASKS), ReferenceProblem)
    assert problem.location.pointer == pointer
    assert "names no task" in problem.message
    assert "greeting" in problem.message  # lists the tasks that exist
    assert check_actions(doc(action)) == []  # without task names nothing is checked


def test_close_task_name_is_suggested():
    problem = only(
        check_actions(doc({"redirect": "task://complete_ordr"}), task_names=TASKS), ReferenceProblem
    )
    assert "did you mean 'complete_order'?" in problem.message


def test_url_targets_are_not_task_references():
    assert check_actions(doc({"redirect": "https://example.com/task://x"}), task_names=TASKS) == []


# --- locations -------------------------------------------------------------------------------------


def test_pointer_prefix_and_path_are_used():
    document = doc({"say": "Hi"}, collect({"question": "q", "name": "a", "type": "Twilio.NUMBR"}))
    problem = only(check_actions(document, path="bot.json", pointer="/tasks/3/actions"), ReferenceProblem)
    assert problem.location.path == "bot.json"
    assert problem.location.pointer == "/tasks/3/actions/actions/1/collect/questions/0/type"


def test_source_gives_line_numbers():
    text = json.dumps(doc({"say": "Hi"}, {"show": {"images": []}}), indent=2)
    source = parse_text(text, path="reply.json")
    problem = only(check_actions(source.data, source=source))
    expected_line = text.splitlines().index('      "show": {') + 1
    assert (problem.location.path, problem.location.line) == ("reply.json", expected_line)
    assert problem.render().startswith(f"reply.json:{expected_line}:")


# --- validate_actions ------------------------------------------------------------------------------


def test_validate_actions_raises_one_error_or_all_of_them():
    validate_actions(doc({"say": "ok"}))
    with pytest.raises(SchemaError, match="missing required key 'body'"):
        validate_actions(doc({"show": {}}))
    with pytest.raises(HarnessErrors) as caught:
        validate_actions(doc({"show": {}}, {"redirect": "task://x"}), task_names=["y"])
    assert [type(e) for e in caught.value.errors] == [SchemaError, ReferenceProblem]


# --- the schema files ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["actions.schema.json", "assistant.schema.json"])
def test_schema_files_are_valid_2020_12_with_ids_and_descriptions(name):
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://autopilot-harness.dev/schemas/{name}"
    missing = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, sub in node.get("properties", {}).items():
                if "description" not in sub:
                    missing.append(f"{where}/properties/{key}")
            for key, sub in node.items():
                walk(sub, f"{where}/{key}")
        elif isinstance(node, list):
            for index, sub in enumerate(node):
                walk(sub, f"{where}/{index}")

    walk(schema, "")
    assert missing == []


def test_action_schema_lists_exactly_the_eight_actions():
    assert tuple(load_schema("actions.schema.json")["$defs"]["action"]["properties"]) == ACTION_NAMES


def test_validators_are_compiled_once():
    assert validator_for(ACTIONS_SCHEMA_ID) is validator_for(ACTIONS_SCHEMA_ID)


# --- built-in field types --------------------------------------------------------------------------


def test_there_are_nineteen_builtin_types():
    assert len(BUILTIN_FIELD_TYPES) == 19
    assert {"Twilio.YES_NO", "Twilio.NUMBER", "Twilio.PHONE_NUMBER", "Twilio.LANGUAGE"} <= BUILTIN_FIELD_TYPES
    assert set(BUILTIN_FIELD_TYPE_SIDS.values()) == BUILTIN_FIELD_TYPES
    assert all(sid.startswith("UB") and len(sid) == 34 for sid in BUILTIN_FIELD_TYPE_SIDS)


@pytest.mark.parametrize(
    "name", ["Twilio.ZIP_CODE", "Twilio.LANGUAGES", "Twilio.PHONENUMBER", "Custom.FOOD", ""]
)
def test_names_that_are_not_builtin(name):
    assert not is_builtin(name)


def test_case_and_sid_lookups():
    assert is_builtin("Twilio.DATE")
    assert not is_builtin("Twilio.Number")
    assert is_builtin("Twilio.Number", ignore_case=True)
    assert builtin_name("UB377f7bb9716a4200563feeb205c4b98a") == "Twilio.YES_NO"
    assert builtin_name("twilio.yes_no") is None
    assert builtin_name("twilio.yes_no", ignore_case=True) == "Twilio.YES_NO"
    assert suggest_builtin("Twilio.NUMBR") == "Twilio.NUMBER"
    assert suggest_builtin("Custom.FOOD") is None
