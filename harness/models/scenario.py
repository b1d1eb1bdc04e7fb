"""Scenario files (`*.scenario.yaml`): the typed model and its loader.

    scenario_file = load_scenario_file("scenarios/hotel.scenario.yaml")
    for scenario in scenario_file.scenarios:          # one per scenario, or per `parametrize` row
        for concrete in scenario.expanded():          # one per combination of turn `variants`
            for turn in concrete.turns:               # turn.user, turn.expect
                ...

This module is a facade: the names are re-exported from the modules that hold them, so existing imports
keep working.

- `harness.models.scenario_yaml`: `Origin` (file + JSON Pointer → line), YAML values made JSON
- `harness.models.scenario_templates`: `{{ row.… }}` and `{{ faker.… }}`, row ids
- `harness.models.scenario_parts`: `include:` of parts files (defaults, turns)
- `harness.models.scenario_expect`: the expectation models (`TurnExpect`, `ScenarioExpect`, …)
- `harness.models.scenario_model`: `ScenarioFile`, `Scenario`, `TurnSpec`, `ServerSpec`
- `harness.models.scenario_schema`: the JSON Schema checks; `harness.models.scenario_loader`: the loader
- `harness.models.json_schema`: jsonschema's errors as short messages (shared with the other loaders)
"""

from __future__ import annotations

from harness.models.scenario_expect import (
    AutopilotHandoffExpect,
    Comparison,
    FieldExpect,
    FlexHandoffExpect,
    FlowExpect,
    HttpHandoffExpect,
    InteractionExpect,
    MessageExpect,
    ScenarioExpect,
    TextMatch,
    TurnExpect,
)
from harness.models.scenario_loader import load_scenario_file, scenario_file_from_source
from harness.models.scenario_model import (
    CHANNELS,
    DEFAULT_CHANNEL,
    DEFAULT_SEED,
    MAX_VARIANT_COMBINATIONS,
    SCENARIO_SCHEMA_ID,
    Scenario,
    ScenarioFile,
    ServerSpec,
    TurnSpec,
)
from harness.models.scenario_schema import parts_validator, scenario_validator
from harness.models.scenario_yaml import Origin

__all__ = [
    "CHANNELS",
    "DEFAULT_CHANNEL",
    "DEFAULT_SEED",
    "MAX_VARIANT_COMBINATIONS",
    "SCENARIO_SCHEMA_ID",
    "AutopilotHandoffExpect",
    "Comparison",
    "FieldExpect",
    "FlexHandoffExpect",
    "FlowExpect",
    "HttpHandoffExpect",
    "InteractionExpect",
    "MessageExpect",
    "Origin",
    "Scenario",
    "ScenarioExpect",
    "ScenarioFile",
    "ServerSpec",
    "TextMatch",
    "TurnExpect",
    "TurnSpec",
    "load_scenario_file",
    "parts_validator",
    "scenario_file_from_source",
    "scenario_validator",
]
