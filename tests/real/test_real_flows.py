"""Every real Studio flow in shared/real/studio loads cleanly; the legacy export is rejected; our widget table
agrees with the RJPearson94 widget definitions and Twilio's published type enum."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import HarnessErrors, LoadError
from harness.models.flow import LEGACY_MESSAGE, load_flow
from harness.models.widget_specs import MATCH_EVENT, WIDGET_SPECS
from tests.conftest import real_files, real_path, requires_real

pytestmark = [pytest.mark.real, requires_real]

FLOW_FILES = [
    path for path in real_files("studio")
    if "widget-definitions" not in path.parts and "PARTIAL" not in path.name
]
V2_FLOWS = [path for path in FLOW_FILES if not path.name.startswith("LEGACY_")]
LEGACY_FLOWS = [path for path in FLOW_FILES if path.name.startswith("LEGACY_")]
WIDGET_DEFINITIONS = real_files("studio/widget-definitions")
LARGEST = "studio/mgmuscari__accfb-foodnow__bot_flow.json"


def test_the_real_flow_set_is_complete() -> None:
    assert (len(V2_FLOWS), len(LEGACY_FLOWS), len(WIDGET_DEFINITIONS)) == (17, 1, 21)


@pytest.mark.parametrize("path", V2_FLOWS, ids=lambda p: p.name)
def test_real_v2_flow_loads_without_errors_or_warnings(path: Path) -> None:
    flow = load_flow(path)
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert flow.warnings == ()  # every widget type, event and property of the real flows is in our table
    assert flow.state_names == tuple(state["name"] for state in raw["states"])
    assert flow.initial.type == "trigger"
    for state in flow.states:
        assert state.spec is not None
        for transition in state.transitions:
            assert transition.next is None or flow.state(transition.next) is not None
            if transition.event == MATCH_EVENT:
                assert transition.conditions


@pytest.mark.parametrize("path", LEGACY_FLOWS, ids=lambda p: p.name)
def test_real_legacy_flow_is_rejected_with_the_legacy_message(path: Path) -> None:
    with pytest.raises(LoadError) as info:
        load_flow(path)
    assert not isinstance(info.value, HarnessErrors)
    assert info.value.message == LEGACY_MESSAGE


def test_largest_real_flow_loads() -> None:
    # Its load time is a benchmark's business (bench/), not a wall-clock assertion on a shared CI machine.
    assert len(load_flow(real_path(LARGEST)).states) == 129


@pytest.mark.parametrize("path", WIDGET_DEFINITIONS, ids=lambda p: p.name)
def test_widget_table_matches_the_rjpearson94_definition(path: Path) -> None:
    definition = json.loads(path.read_text(encoding="utf-8"))
    spec = WIDGET_SPECS[definition["type"]]
    assert spec.events is not None and spec.properties is not None
    events = {t["value"] for t in definition["transitions"] + definition.get("conditionalTransitions", [])}
    assert events <= spec.events
    assert set(spec.required) == {p["value"] for p in definition["properties"] if p["required"]}
    assert {p["value"] for p in definition["properties"]} <= set(spec.properties)


def test_every_type_of_twilios_published_enum_is_known_by_name() -> None:
    schema = json.loads(real_path("studio/official_flow_definition_schema.PARTIAL.json").read_text("utf-8"))
    published = schema["properties"]["states"]["items"]["properties"]["type"]["enum"]
    assert set(published) <= set(WIDGET_SPECS)
