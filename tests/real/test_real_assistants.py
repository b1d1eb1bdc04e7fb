"""Twilio's own assistant exports, Actions examples and stylesheets (read in place from ../shared/real)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import ReferenceProblem, SchemaError
from harness.models.actions import check_actions
from harness.models.assistant_loader import load_assistant, load_style_sheet
from harness.models.field_types import is_builtin
from tests.conftest import REAL, real_files, real_path, requires_real

pytestmark = pytest.mark.real

ASSISTANT_FILES = real_files("autopilot", "schema.json") + real_files("autopilot/autopilot-cli", "*.json")
ACTION_FILES = real_files("autopilot/Actions")
STYLE_SHEETS = real_files("autopilot/StyleSheets")
# Catalogue entries whose file upstream deleted as invalid, and where the kit keeps a copy.
DELETED_AS_INVALID = {"Actions/show/show_image.json": "invalid-examples/show_image_only.json"}


def ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(REAL)) for p in paths]


def is_catalogue(data: object) -> bool:
    """autopilot-templates' templates.json: {title: {gitUrl, shortDescription, fileName}}, not Actions."""
    return (
        isinstance(data, dict)
        and "actions" not in data
        and all(isinstance(entry, dict) and "fileName" in entry for entry in data.values())
    )


@pytest.mark.parametrize("path", ASSISTANT_FILES, ids=ids(ASSISTANT_FILES))
def test_every_real_assistant_loads(path):
    assistant = load_assistant(path)
    assert assistant.tasks
    assert assistant.raw["tasks"] and assistant.path == str(path)
    for task in assistant.tasks:
        assert task.actions, f"{task.unique_name} has no actions"
        for task_field in task.fields:
            assert is_builtin(task_field.field_type) or assistant.field_type(task_field.field_type)


@requires_real
def test_the_search_found_all_five_assistants():
    names = sorted(p.parent.name for p in ASSISTANT_FILES)
    assert names == [
        "AirlineReservations",
        "HelloWorld",
        "Hospitality",
        "RestaurantReservations",
        "autopilot-cli",
    ]


def test_hospitality_model():
    assistant = load_assistant(real_path("autopilot/Hospitality/schema.json"))
    assert assistant.unique_name == "Hospitality"
    assert len(assistant.tasks) == 9
    assert assistant.task("deliver_roomitems") is not None
    assert assistant.task("deliver_room_items") is None
    assert len(assistant.field_type("Custom.ROOMITEMS").values) == 16
    assert len(assistant.field_type("Custom.FOOD").values) == 35
    get_quantity = assistant.task("get_quantity")
    assert get_quantity.field("item").field_type == "Custom.ROOMITEMS"
    assert "need {item}" in [s.tagged_text for s in get_quantity.samples]
    assert assistant.defaults.fallback == "task://fallback"
    assert assistant.style_sheet.say_voice == "Polly.Matthew"
    assert assistant.style_sheet.max_attempts == 4
    assert len(assistant.style_sheet.on_failure_messages) == 3
    assert assistant.model_build == "7"
    assert assistant.warnings == ()
    # the goodbye task has no listen: the dialogue ends there
    assert assistant.task("goodbye").actions == ({"say": "Ok, I'll be here when you need me."},)


def test_hospitality_locations_have_lines():
    path = real_path("autopilot/Hospitality/schema.json")
    assistant = load_assistant(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    location = assistant.location(assistant.task("deliver_roomitems").pointer + "/uniqueName")
    assert '"deliver_roomitems"' in lines[location.line - 1]


def test_airline_template_has_a_dangling_default_that_twilio_accepted():
    path = real_path("autopilot/assistants/AirlineReservations/schema.json")
    assistant = load_assistant(path)
    assert assistant.defaults.fallback.startswith("https://")  # a URL default
    assert [w.location.pointer for w in assistant.warnings] == [
        "/defaults/defaults/collect/validate_on_failure"
    ]
    assert "task://hello_world" in assistant.warnings[0].message
    with pytest.raises(ReferenceProblem) as caught:
        load_assistant(path, strict_defaults=True)
    assert caught.value.location.line is not None


def test_cli_test_assistant_synonyms_and_speech_form():
    assistant = load_assistant(real_path("autopilot/autopilot-cli/test_assistant.json"))
    yes = assistant.field_type("Yes")
    assert yes.canonical("yeah") == "Yes"
    assert yes.canonical("YES PLEASE") == "Yes"
    assert assistant.task("yes-intent").field("Yes").field_type == "Yes"
    assert assistant.task("welcome-intent").actions[0]["say"]["speech"].startswith("Hi!")
    assert assistant.style_sheet.say_voice == "Polly.Salli"


def test_restaurant_template_question_say_form_and_no_model_build():
    assistant = load_assistant(real_path("autopilot/assistants/RestaurantReservations/schema.json"))
    assert assistant.model_build is None
    collect = assistant.task("make-reservation").actions[0]["collect"]
    assert collect["questions"][0]["question"]["say"].startswith("Great")
    assert not assistant.task("welcome").samples  # reached only through assistant_initiation


@pytest.mark.parametrize("path", ACTION_FILES, ids=ids(ACTION_FILES))
def test_every_actions_example_validates(path):
    data = json.loads(path.read_text(encoding="utf-8"))
    if is_catalogue(data):
        for title, entry in data.items():
            assert set(entry) == {"gitUrl", "shortDescription", "fileName"}, title
            listed = REAL / "autopilot" / entry["fileName"]
            if entry["fileName"] in DELETED_AS_INVALID:
                kept = REAL / "autopilot" / DELETED_AS_INVALID[entry["fileName"]]
                assert check_actions(json.loads(kept.read_text(encoding="utf-8"))), title
            else:
                assert listed.is_file(), f"{title}: {listed} missing"
                assert check_actions(json.loads(listed.read_text(encoding="utf-8"))) == [], title
    else:
        assert check_actions(data, path=str(path)) == []


def test_show_without_body_is_rejected():
    path = real_path("autopilot/invalid-examples/show_image_only.json")
    problems = check_actions(json.loads(path.read_text(encoding="utf-8")), path=str(path))
    assert len(problems) == 1
    problem = problems[0]
    assert isinstance(problem, SchemaError)
    assert problem.location.pointer == "/actions/0/show"
    assert "'body'" in problem.message and "90100" in problem.message


@pytest.mark.parametrize("path", STYLE_SHEETS, ids=ids(STYLE_SHEETS))
def test_stylesheets_parse(path):
    style = load_style_sheet(path)
    assert style.say_voice.startswith("Polly.")
    assert len(style.on_failure_messages) == 3 and all(style.on_failure_messages)
    assert style.max_attempts == 4
    assert style.repeat_question is False
    assert style.raw["name"] == path.stem.capitalize()
