"""The assistant loader: what it accepts, the model it builds, and one test per kind of bad input."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from harness.errors import HarnessError, HarnessErrors, LoadError, ReferenceProblem, SchemaError
from harness.models.assistant import Assistant
from harness.models.assistant_loader import (
    assistant_from_dict,
    load_assistant,
    sample_tags,
    style_sheet_from_dict,
)

# A small export in the CLI's format, shaped like the Hospitality template.
BASE: dict[str, Any] = {
    "friendlyName": "Room service",
    "logQueries": True,
    "uniqueName": "rooms",
    "defaults": {
        "defaults": {
            "assistant_initiation": "task://greeting",
            "fallback": "task://fallback",
            "collect": {"validate_on_failure": "task://fallback"},
        }
    },
    "styleSheet": {
        "style_sheet": {
            "collect": {
                "validate": {
                    "on_failure": {
                        "repeat_question": False,
                        "messages": [{"say": "Say again?"}, {"say": {"speech": "Once more?"}}],
                    },
                    "on_success": {"say": ""},
                    "max_attempts": 4,
                }
            },
            "voice": {"say_voice": "Polly.Matthew"},
        }
    },
    "fieldTypes": [
        {
            "uniqueName": "Custom.ITEMS",
            "values": [
                {"language": "en-US", "value": "towel", "synonymOf": None},
                {"language": "en-US", "value": "bath towel", "synonymOf": "Towel"},
            ],
        }
    ],
    "tasks": [
        {
            "uniqueName": "get_quantity",
            "actions": {
                "actions": [
                    {"say": "Sure."},
                    {
                        "collect": {
                            "name": "quantity_of_item",
                            "questions": [
                                {"question": "How many?", "name": "quantity", "type": "Twilio.NUMBER"},
                                {"question": "Which?", "name": "item", "type": "Custom.ITEMS"},
                            ],
                            "on_complete": {"redirect": {"method": "POST", "uri": "task://greeting"}},
                        }
                    },
                ]
            },
            "fields": [{"uniqueName": "item", "fieldType": "Custom.ITEMS"}],
            "samples": [
                {"language": "en-US", "taggedText": "need {item}"},
                {"language": "en-US", "taggedText": "{item}"},
            ],
        },
        {
            "uniqueName": "greeting",
            "actions": {"actions": [{"say": "Hi!"}, {"listen": True}]},
            "fields": [],
            "samples": [{"language": "en-US", "taggedText": "hello"}],
        },
        {
            "uniqueName": "fallback",
            "actions": {"actions": [{"say": "Sorry?"}, {"listen": True}]},
            "fields": [],
            "samples": [],
        },
    ],
    "modelBuild": {"uniqueName": "7"},
}


def export(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data.update(changes)
    return data


def problems_of(data: Any, **options: Any) -> list[HarnessError]:
    with pytest.raises(HarnessError) as caught:
        assistant_from_dict(data, path="bot.json", **options)
    error = caught.value
    return error.errors if isinstance(error, HarnessErrors) else [error]


def only_problem(data: Any, kind: type = SchemaError, **options: Any) -> HarnessError:
    found = problems_of(data, **options)
    assert len(found) == 1, [p.render() for p in found]
    assert type(found[0]) is kind
    assert found[0].location.path == "bot.json"
    return found[0]


def write(tmp_path: Path, data: Any, name: str = "schema.json") -> tuple[Path, list[str]]:
    text = json.dumps(data, indent=2)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path, text.splitlines()


def line_of(lines: list[str], needle: str) -> int:
    """1-based number of the only line containing `needle` (independent of the kit's own locator)."""
    hits = [n for n, line in enumerate(lines, 1) if needle in line]
    assert len(hits) == 1, hits
    return hits[0]


# --- what a good export becomes ------------------------------------------------------------------


def test_builds_the_model():
    assistant = assistant_from_dict(export(), path="bot.json", sid="UA" + "0" * 32)
    assert isinstance(assistant, Assistant)
    assert (assistant.unique_name, assistant.friendly_name) == ("rooms", "Room service")
    assert assistant.task_names == ("get_quantity", "greeting", "fallback")
    assert assistant.sid == "UA" + "0" * 32
    assert assistant.path == "bot.json"
    assert assistant.model_build == "7"
    task = assistant.task("get_quantity")
    assert task.pointer == "/tasks/0"
    assert task.actions[0] == {"say": "Sure."}
    assert task.field("item").field_type == "Custom.ITEMS"
    assert [s.tagged_text for s in task.samples] == ["need {item}", "{item}"]
    assert task.actions_url is None
    assert assistant.defaults.assistant_initiation == "task://greeting"
    assert assistant.defaults.validate_on_failure == "task://fallback"
    style = assistant.style_sheet
    assert style.say_voice == "Polly.Matthew"
    assert style.on_failure_messages == ("Say again?", "Once more?")  # both say forms
    assert (style.repeat_question, style.on_success_say, style.max_attempts) == (False, "", 4)
    items = assistant.field_type("Custom.ITEMS")
    assert items.canonical("Bath Towel") == "Towel"
    assert assistant.warnings == ()


def test_raw_is_the_data_itself():
    data = export()
    assert assistant_from_dict(data).raw is data


def test_optional_parts_may_be_missing():
    data = export()
    for key in ("fieldTypes", "modelBuild", "styleSheet", "defaults", "logQueries"):
        data.pop(key)
    data["tasks"][0]["actions"]["actions"][1]["collect"]["questions"].pop()  # it used Custom.ITEMS
    data["tasks"][0].pop("fields")
    data["tasks"][0]["samples"] = [{"taggedText": "need towels"}]
    data["tasks"][1].pop("samples")
    assistant = assistant_from_dict(data)
    assert assistant.field_types == ()
    assert assistant.model_build is None
    assert assistant.defaults.fallback is None
    assert assistant.style_sheet.on_failure_messages == ()
    assert assistant.task("get_quantity").samples[0].language == "en-US"


def test_unknown_top_level_keys_are_ignored():
    assert assistant_from_dict(export(exportedBy="a newer CLI")).unique_name == "rooms"


def test_friendly_name_alone_names_the_assistant():
    data = export()
    data.pop("uniqueName")
    assert assistant_from_dict(data).unique_name == "Room service"


def test_action_url_extension():
    data = export()
    greeting = data["tasks"][1]
    greeting.pop("actions")
    greeting["actionsUrl"] = "https://bot.example.com/greeting"
    greeting["actionsUrlMethod"] = "get"
    data["tasks"][2].pop("actions")
    data["tasks"][2]["actions_url"] = "https://bot.example.com/fallback"
    assistant = assistant_from_dict(data)
    assert assistant.task("greeting").actions_url == "https://bot.example.com/greeting"
    assert assistant.task("greeting").actions_url_method == "GET"
    assert assistant.task("greeting").actions == ()
    assert assistant.task("fallback").actions_url_method == "POST"


def test_builtin_type_sid_is_stored_as_its_name():
    data = export()
    data["tasks"][1]["fields"] = [{"uniqueName": "count", "fieldType": "UB2d5c8ef1654c60cbf8a178c206314612"}]
    assert assistant_from_dict(data).task("greeting").field("count").field_type == "Twilio.NUMBER"


def test_synonyms_match_their_canonical_value_case_insensitively():
    assert assistant_from_dict(export()).field_type("Custom.ITEMS").values[1].synonym_of == "Towel"


def test_yaml_export_loads(tmp_path):
    import yaml

    path = tmp_path / "bot.yaml"
    path.write_text(yaml.safe_dump(export()), encoding="utf-8")
    assert load_assistant(path).task_names == ("get_quantity", "greeting", "fallback")


def test_a_folder_means_its_schema_json(tmp_path):
    write(tmp_path, export())
    assert load_assistant(tmp_path).path == str(tmp_path / "schema.json")


def test_location_has_lines_for_a_file(tmp_path):
    path, lines = write(tmp_path, export())
    assistant = load_assistant(path)
    location = assistant.location("/tasks/2/uniqueName")
    assert location.line == line_of(lines, '"uniqueName": "fallback"')
    assert location.path == str(path)


# --- the top-level shape: one clear error -----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "pointer", "fragment"),
    [
        ([{"uniqueName": "greeting"}], "", "found a list"),
        ("tasks", "", 'found "tasks"'),
        (None, "", "found null"),
        ({"uniqueName": "x", "intents": []}, "/intents", "Twilio Understand export"),
        ({"states": [], "initial_state": "Trigger", "flags": {}}, "", "Studio flow definition"),
        ({"style_sheet": {}}, "", "this is a stylesheet"),
        ({"actions": [{"say": "hi"}]}, "", "Actions JSON document"),
        ({"sid": "UA123", "unique_name": "x"}, "", "Assistant REST resource"),
        ({"uniqueName": "x"}, "", 'missing "tasks"'),
    ],
)
def test_wrong_top_level_shape_gives_one_error(data, pointer, fragment):
    problem = only_problem(data)
    assert problem.location.pointer == pointer
    assert fragment in problem.message


def test_malformed_json_is_a_load_error_with_a_line(tmp_path):
    path = tmp_path / "schema.json"
    path.write_text('{\n  "uniqueName": "x",\n  "tasks": [\n}\n', encoding="utf-8")
    with pytest.raises(LoadError) as caught:
        load_assistant(path)
    assert "malformed JSON" in caught.value.message
    assert caught.value.location.line == 4


def test_missing_file_is_a_load_error(tmp_path):
    with pytest.raises(LoadError, match="file not found"):
        load_assistant(tmp_path / "nope.json")


# --- schema problems ------------------------------------------------------------------------------


def test_neither_name_is_an_error():
    data = export()
    data.pop("uniqueName")
    data.pop("friendlyName")
    problem = only_problem(data)
    assert problem.location.pointer == ""
    assert "uniqueName and/or a friendlyName" in problem.message


def test_typo_in_a_task_key():
    data = export()
    data["tasks"][1]["sample"] = data["tasks"][1].pop("samples")
    problem = only_problem(data)
    assert problem.location.pointer == "/tasks/1/sample"
    assert "unknown key 'sample' (did you mean 'samples'?)" in problem.message


def test_task_name_too_long():
    data = export()
    data["tasks"][2]["uniqueName"] = "f" * 65
    data["defaults"] = {}
    problem = only_problem(data)
    assert problem.location.pointer == "/tasks/2/uniqueName"
    assert "at most 64" in problem.message


def test_default_that_is_neither_task_nor_url():
    data = export()
    data["defaults"]["defaults"]["fallback"] = "fallback"
    problem = only_problem(data)
    assert problem.location.pointer == "/defaults/defaults/fallback"
    assert 'expected "task://<task>" or an http(s) URL, found "fallback"' in problem.message


def test_stylesheet_max_attempts_is_an_integer():
    data = export()
    data["styleSheet"]["style_sheet"]["collect"]["validate"]["max_attempts"] = "4"
    problem = only_problem(data)
    assert problem.location.pointer == "/styleSheet/style_sheet/collect/validate/max_attempts"
    assert 'expected an integer, found "4"' in problem.message


def test_stylesheet_message_without_say():
    data = export()
    data["styleSheet"]["style_sheet"]["collect"]["validate"]["on_failure"]["messages"][0] = {}
    problem = only_problem(data)
    assert problem.location.pointer == "/styleSheet/style_sheet/collect/validate/on_failure/messages/0"
    assert "missing required key 'say'" in problem.message


def test_field_value_without_value():
    data = export()
    data["fieldTypes"][0]["values"].append({"language": "en-US", "synonymOf": None})
    problem = only_problem(data)
    assert problem.location.pointer == "/fieldTypes/0/values/2"
    assert "missing required key 'value'" in problem.message


def test_bad_action_inside_a_task_says_90100_with_the_full_pointer():
    data = export()
    data["tasks"][1]["actions"]["actions"][0] = {"show": {"images": []}}
    problem = only_problem(data)
    assert problem.location.pointer == "/tasks/1/actions/actions/0/show"
    assert problem.message == "missing required key 'body' (error 90100)"


def test_actions_url_must_be_a_url():
    data = export()
    data["tasks"][1].pop("actions")
    data["tasks"][1]["actionsUrl"] = "greeting.json"
    problem = only_problem(data)
    assert problem.location.pointer == "/tasks/1/actionsUrl"
    assert "expected an http(s) URL" in problem.message


# --- checks across places --------------------------------------------------------------------------


def test_task_without_actions():
    data = export()
    data["tasks"][2].pop("actions")
    problem = only_problem(data)
    assert problem.location.pointer == "/tasks/2"
    assert "task 'fallback' has no actions" in problem.message


def test_task_with_actions_and_action_url():
    data = export()
    data["tasks"][2]["actionsUrl"] = "https://bot.example.com/fallback"
    problem = only_problem(data)
    assert problem.location.pointer == "/tasks/2/actionsUrl"
    assert "both static actions and an Action URL" in problem.message


def test_action_url_method_without_url():
    data = export()
    data["tasks"][2]["actionsUrlMethod"] = "GET"
    problem = only_problem(data)
    assert problem.location.pointer == "/tasks/2/actionsUrlMethod"
    assert "without an Action URL" in problem.message


def test_duplicate_task_names():
    data = export()
    data["tasks"][2]["uniqueName"] = "greeting"
    data["defaults"]["defaults"] = {}
    problem = only_problem(data)
    assert problem.location.pointer == "/tasks/2/uniqueName"
    assert "duplicate task name 'greeting' (task 1 has it too)" in problem.message


def test_dangling_task_reference_in_actions():
    data = export()
    data["tasks"][1]["actions"]["actions"][1] = {"redirect": "task://get_quantty"}
    problem = only_problem(data, ReferenceProblem)
    assert problem.location.pointer == "/tasks/1/actions/actions/1/redirect"
    assert "'task://get_quantty' names no task (did you mean 'get_quantity'?)" in problem.message


def test_dangling_listen_task():
    data = export()
    data["tasks"][1]["actions"]["actions"][1] = {"listen": {"tasks": ["get_quantity", "checkout"]}}
    problem = only_problem(data, ReferenceProblem)
    assert problem.location.pointer == "/tasks/1/actions/actions/1/listen/tasks/1"
    assert "'checkout' names no task" in problem.message


def test_dangling_default_is_a_warning_unless_strict():
    data = export()
    data["defaults"]["defaults"]["collect"]["validate_on_failure"] = "task://trouble"
    assistant = assistant_from_dict(data, path="bot.json")
    assert len(assistant.warnings) == 1
    warning = assistant.warnings[0]
    assert isinstance(warning, ReferenceProblem)
    assert warning.location.pointer == "/defaults/defaults/collect/validate_on_failure"
    problem = only_problem(data, ReferenceProblem, strict_defaults=True)
    assert problem.location.pointer == "/defaults/defaults/collect/validate_on_failure"
    assert "'task://trouble' names no task" in problem.message


def test_unknown_field_type_of_a_field():
    data = export()
    data["tasks"][0]["fields"][0]["fieldType"] = "Custom.ITEM"
    problem = only_problem(data, ReferenceProblem)
    assert problem.location.pointer == "/tasks/0/fields/0/fieldType"
    assert "unknown field type 'Custom.ITEM' (did you mean 'Custom.ITEMS'?)" in problem.message


def test_unknown_question_type_is_90104():
    data = export()
    questions = data["tasks"][0]["actions"]["actions"][1]["collect"]["questions"]
    questions[0]["type"] = "Twilio.PHONENUMBER"
    problem = only_problem(data, ReferenceProblem)
    assert problem.location.pointer == "/tasks/0/actions/actions/1/collect/questions/0/type"
    assert "(error 90104)" in problem.message
    assert "did you mean 'Twilio.PHONE_NUMBER'?" in problem.message


def test_miscased_builtin_type_needs_the_option():
    data = export()
    data["tasks"][0]["actions"]["actions"][1]["collect"]["questions"][0]["type"] = "Twilio.Number"
    data["tasks"][1]["fields"] = [{"uniqueName": "n", "fieldType": "Twilio.Number"}]
    assert len(problems_of(data)) == 2
    assistant = assistant_from_dict(data, ignore_type_case=True)
    assert assistant.task("greeting").field("n").field_type == "Twilio.Number"  # kept as written


def test_duplicate_field_names_in_a_task():
    data = export()
    data["tasks"][0]["fields"].append({"uniqueName": "item", "fieldType": "Twilio.NUMBER"})
    problem = only_problem(data)
    assert problem.location.pointer == "/tasks/0/fields/1/uniqueName"
    assert "duplicate field 'item'" in problem.message


def test_duplicate_field_type_names():
    data = export()
    data["fieldTypes"].append({"uniqueName": "Custom.ITEMS", "values": []})
    problem = only_problem(data)
    assert problem.location.pointer == "/fieldTypes/1/uniqueName"
    assert "duplicate field type 'Custom.ITEMS'" in problem.message


def test_sample_tag_must_name_a_field_of_its_task():
    data = export()
    data["tasks"][0]["samples"].append({"language": "en-US", "taggedText": "send {Custom.ITEMS} please"})
    problem = only_problem(data, ReferenceProblem)
    assert problem.location.pointer == "/tasks/0/samples/2/taggedText"
    assert (
        "tags {Custom.ITEMS}, which is not a field of task 'get_quantity' (fields: item)" in problem.message
    )


def test_sample_tag_in_a_task_without_fields():
    data = export()
    data["tasks"][1]["samples"].append({"language": "en-US", "taggedText": "hi {name}"})
    problem = only_problem(data, ReferenceProblem)
    assert problem.location.pointer == "/tasks/1/samples/1/taggedText"
    assert "(fields: none)" in problem.message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("need {item", "'{' at character 6 is never closed"),
        ("need item}", "'}' at character 10 closes no tag"),
        ("need {it{em}}", "opens a tag inside another tag"),
        ("need {} now", "empty tag"),
    ],
)
def test_unbalanced_braces_in_a_sample(text, fragment):
    data = export()
    data["tasks"][0]["samples"][0]["taggedText"] = text
    problem = only_problem(data)
    assert problem.location.pointer == "/tasks/0/samples/0/taggedText"
    assert "unbalanced braces" in problem.message
    assert fragment in problem.message


def test_sample_tags_function():
    assert sample_tags("{date} at {time}") == (["date", "time"], None)
    assert sample_tags("no tags") == ([], None)


def test_synonym_of_a_missing_canonical_value():
    data = export()
    data["fieldTypes"][0]["values"][1]["synonymOf"] = "towels"
    problem = only_problem(data, ReferenceProblem)
    assert problem.location.pointer == "/fieldTypes/0/values/1/synonymOf"
    assert (
        "synonymOf 'towels' names no canonical value of 'Custom.ITEMS' (canonical values: towel)"
        in problem.message
    )


def test_synonym_of_a_synonym_is_rejected():
    data = export()
    data["fieldTypes"][0]["values"].append(
        {"language": "en-US", "value": "big towel", "synonymOf": "bath towel"}
    )
    problem = only_problem(data, ReferenceProblem)
    assert problem.location.pointer == "/fieldTypes/0/values/2/synonymOf"


# --- all problems at once, with lines ------------------------------------------------------------


def test_all_problems_are_reported_together_in_file_order(tmp_path):
    data = export()
    data["tasks"][0]["samples"][1]["taggedText"] = "{itme}"
    data["tasks"][1]["actions"]["actions"].append({"speak": "bye"})
    data["tasks"][2]["uniqueName"] = "greeting"
    path, lines = write(tmp_path, data)
    with pytest.raises(HarnessErrors) as caught:
        load_assistant(path, strict_defaults=True)
    found = {(type(e).__name__, e.location.pointer): e for e in caught.value.errors}
    assert list(found) == [
        ("ReferenceProblem", "/defaults/defaults/fallback"),
        ("ReferenceProblem", "/defaults/defaults/collect/validate_on_failure"),
        ("ReferenceProblem", "/tasks/0/samples/1/taggedText"),
        ("SchemaError", "/tasks/1/actions/actions/2/speak"),
        ("SchemaError", "/tasks/2/uniqueName"),
    ]
    assert found[("SchemaError", "/tasks/1/actions/actions/2/speak")].location.line == line_of(
        lines, '"speak"'
    )
    assert found[("ReferenceProblem", "/tasks/0/samples/1/taggedText")].location.line == line_of(
        lines, "{itme}"
    )
    assert caught.value.render().startswith("5 problems:\n")


@pytest.mark.parametrize(
    ("change", "needle", "pointer"),
    [
        (
            lambda d: d["tasks"][0]["fields"][0].update(fieldType="Custom.ITEMZ"),
            "Custom.ITEMZ",
            "/tasks/0/fields/0/fieldType",
        ),
        (
            lambda d: d["tasks"][0]["actions"]["actions"][1]["collect"]["questions"][0].update(
                type="Twilio.NUMBR"
            ),
            "Twilio.NUMBR",
            "/tasks/0/actions/actions/1/collect/questions/0/type",
        ),
        (
            lambda d: d["fieldTypes"][0]["values"][1].update(synonymOf="Towelz"),
            "Towelz",
            "/fieldTypes/0/values/1/synonymOf",
        ),
        (
            lambda d: d["tasks"][1]["samples"][0].update(taggedText="hello {x"),
            "hello {x",
            "/tasks/1/samples/0/taggedText",
        ),
    ],
)
def test_line_numbers_for_a_file_on_disk(tmp_path, change, needle, pointer):
    data = export()
    change(data)
    path, lines = write(tmp_path, data)
    with pytest.raises(HarnessError) as caught:
        load_assistant(path)
    location = caught.value.location
    assert (location.path, location.pointer) == (str(path), pointer)
    assert location.line == line_of(lines, needle)
    assert caught.value.render().startswith(f"{path}:{location.line}:")


def test_line_numbers_in_yaml(tmp_path):
    text = (
        "uniqueName: rooms\n"
        "tasks:\n"
        "  - uniqueName: greeting\n"
        "    actions:\n"
        "      actions:\n"
        "        - say: Hi\n"
        "        - redirect: task://nowhere\n"
    )
    path = tmp_path / "bot.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ReferenceProblem) as caught:
        load_assistant(path)
    assert caught.value.location.pointer == "/tasks/0/actions/actions/1/redirect"
    assert caught.value.location.line == 7


# --- stylesheets on their own ----------------------------------------------------------------------


def test_style_sheet_from_dict():
    style = style_sheet_from_dict({"style_sheet": {"voice": {"say_voice": "Polly.Amy"}, "name": "Amy"}})
    assert style.say_voice == "Polly.Amy"
    assert style.max_attempts is None


def test_style_sheet_errors():
    with pytest.raises(SchemaError, match=r"expected a stylesheet"):
        style_sheet_from_dict({"voice": {}})
    with pytest.raises(SchemaError) as caught:
        style_sheet_from_dict({"style_sheet": {"collect": {"validate": {"max_attempts": 0}}}})
    assert caught.value.location.pointer == "/style_sheet/collect/validate/max_attempts"
