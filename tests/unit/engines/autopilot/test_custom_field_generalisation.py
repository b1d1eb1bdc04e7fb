"""Custom field types generalise as the FieldValue docs describe; the strict behaviour is a setting
(issue 10, row 11).

Source: FieldValue — "You do not need to enter every possible value. Twilio's Autopilot is smart enough to
detect cities even [if] you haven't explicitly entered every option as a value"
(https://www.twilio.com/docs/autopilot/api/field-value; …/shared/reference/field-types.md "Custom types"
and §3.10). How far the model generalised is undocumented: here, a short phrase where a tagged sample puts
the field (MAX_GENERALISED_WORDS).
"""

from __future__ import annotations

import pytest

from harness.clock import FixedClock
from harness.engines.autopilot.options import EngineOptions
from harness.engines.autopilot.router import MAX_GENERALISED_WORDS
from harness.engines.autopilot.runtime import AutopilotRuntime, TrainedAssistant
from harness.models.assistant_loader import assistant_from_dict

SCHEMA = {
    "uniqueName": "shop", "defaults": {"defaults": {"fallback": "task://fallback"}}, "styleSheet": {},
    "modelBuild": {"uniqueName": "v1"},
    "fieldTypes": [{"uniqueName": "Custom.COLOR", "values": [
        {"language": "en-US", "value": "red", "synonymOf": None},
        {"language": "en-US", "value": "blue", "synonymOf": None},
        {"language": "en-US", "value": "navy", "synonymOf": "blue"}]}],
    "tasks": [
        {"uniqueName": "buy_shirt", "fields": [{"uniqueName": "color", "fieldType": "Custom.COLOR"}],
         "samples": [{"language": "en-US", "taggedText": "i want a {color} shirt"},
                     {"language": "en-US", "taggedText": "do you have {color} shirts"}],
         "actions": {"actions": [{"say": "ok"}, {"listen": True}]}},
        {"uniqueName": "fallback", "fields": [], "samples": [],
         "actions": {"actions": [{"say": "pardon?"}, {"listen": True}]}},
    ],
}


def _bot(strict: bool) -> TrainedAssistant:
    runtime = AutopilotRuntime(clock=FixedClock(), options=EngineOptions(strict_custom_fields=strict))
    return runtime.train(assistant_from_dict(SCHEMA, path="shop.json"))


@pytest.mark.parametrize(("text", "value"), [
    ("i want a green shirt", "green"),          # not listed: generalised from the sample
    ("do you have dark green shirts", "dark green"),
    ("i want a navy shirt", "blue"),            # listed synonym → its canonical value, as before
    ("i want a red shirt", "red"),
    ("hello i want a green shirt please", "green"),  # the sample inside a longer message
])
def test_an_unlisted_value_fills_the_field_where_a_sample_puts_it(text: str, value: str) -> None:
    turn = _bot(strict=False).start().send(text)
    assert turn.task == "buy_shirt"
    assert turn.fields == {"color": {"value": value, "type": "Custom.COLOR"}}


def test_a_long_phrase_is_not_taken_for_a_value() -> None:
    words = " ".join(["very"] * MAX_GENERALISED_WORDS + ["green"])
    turn = _bot(strict=False).start().send(f"i want a {words} shirt")
    assert "color" not in turn.fields


def test_strict_custom_fields_fills_only_listed_values() -> None:
    turn = _bot(strict=True).start().send("i want a green shirt")
    assert turn.task == "buy_shirt" and "color" not in turn.fields
    assert _bot(strict=True).start().send("i want a navy shirt").fields["color"]["value"] == "blue"
