"""The scenario model: a file (`ScenarioFile`), its scenarios (`Scenario`, expanded into concrete runs by
turn `variants`) and their turns (`TurnSpec`)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.errors import (
    Location,
)
from harness.models.scenario_contracts import ContractsSpec
from harness.models.scenario_expect import ScenarioExpect, TurnExpect
from harness.models.scenario_replay import ReplaySpec
from harness.models.scenario_yaml import Origin
from harness.sources import Source

SCENARIO_SCHEMA_ID = "https://autopilot-harness.dev/schemas/scenario.schema.json"
CHANNELS: tuple[str, ...] = ("sms", "whatsapp", "chat", "messenger", "voice")
DEFAULT_CHANNEL = "sms"
DEFAULT_SEED = 0
MAX_VARIANT_COMBINATIONS = 1000  # a product of variant lists grows fast; past this it is a mistake


@dataclass(frozen=True)
class TurnSpec:
    """One user message. Before `Scenario.expanded()` a turn may hold `variants` instead of `user`."""

    user: str | None
    expect: TurnExpect = field(default_factory=TurnExpect)
    variants: tuple[str, ...] = ()
    variant: int | None = None  # 1-based: which variant this concrete turn says
    wait: float | None = None  # seconds to let pass instead of a message
    digits: str | None = None  # keypad input on a call (Digits) instead of speech
    confidence: float | None = None  # the speech recognizer's Confidence of `user` on a call
    origin: Origin = field(default_factory=lambda: Origin(None), compare=False)

    @property
    def utterances(self) -> tuple[str, ...]:
        return self.variants if self.variants else ((self.user,) if self.user is not None else ())


@dataclass(frozen=True)
class ServerSpec:
    """A local WSGI service: `module:factory` answering for the production URL prefix `url`."""

    wsgi: str
    url: str

    def as_dict(self) -> dict[str, str]:
        return {"wsgi": self.wsgi, "url": self.url}


@dataclass(frozen=True)
class Scenario:
    """One scenario (or one `parametrize` row of it); `expanded()` gives the concrete runs."""

    name: str
    turns: tuple[TurnSpec, ...]
    expect: ScenarioExpect = field(default_factory=ScenarioExpect)
    params: tuple[str, ...] = ()  # id parts: the row id, then one `vN` per variant turn
    tags: tuple[str, ...] = ()
    target_task: str | None = None
    memory: Mapping[str, Any] = field(default_factory=dict)
    channel: str = DEFAULT_CHANNEL
    user: str | None = None
    row: Mapping[str, Any] | None = None
    description: str | None = None
    origin: Origin = field(default_factory=lambda: Origin(None), compare=False)
    provider_state: str | None = None  # the message-pact provider state this scenario produces
    replay: ReplaySpec | None = None  # a recording replayed instead of turns (the recording is the expectation)
    trigger: str | None = None  # how the flow starts: message, call, conversation, request, subflow (None: default)
    parameters: Mapping[str, Any] = field(default_factory=dict)  # flow.data of a request or subflow execution

    @property
    def id(self) -> str:
        """`name`, or `name[row-v1]` with parameters (the pytest item name)."""
        return f"{self.name}[{'-'.join(self.params)}]" if self.params else self.name

    @property
    def is_concrete(self) -> bool:
        return not any(turn.variants for turn in self.turns)

    @property
    def variant_count(self) -> int:
        return math.prod(len(turn.variants) for turn in self.turns if turn.variants)

    def expanded(self) -> Iterator[Scenario]:
        """One concrete scenario per combination of variants (itself when there are none).

        Ids are stable: `vN` is the 1-based variant of each variant turn, in turn order
        (`name[v2]`, `name[pizza-v1-v3]`).
        """
        choosers = [i for i, turn in enumerate(self.turns) if turn.variants]
        if not choosers:
            yield self
            return
        ranges = [range(len(self.turns[i].variants)) for i in choosers]
        for combination in itertools.product(*ranges):
            turns = list(self.turns)
            for turn_index, choice in zip(choosers, combination, strict=True):
                turn = turns[turn_index]
                turns[turn_index] = replace(turn, user=turn.variants[choice], variants=(), variant=choice + 1)
            parts = tuple(f"v{choice + 1}" for choice in combination)
            yield replace(self, turns=tuple(turns), params=self.params + parts)

    def location(self, *parts: str | int) -> Location:
        return self.origin.location(*parts)


@dataclass(frozen=True)
class ScenarioFile:
    """A loaded scenario file: what to run (resolved paths) and its scenarios."""

    path: Path
    scenarios: tuple[Scenario, ...]
    bots: Mapping[str | None, Path] = field(default_factory=dict)  # SID (None: "the" bot) → export
    flow: Path | None = None
    subflows: Mapping[str, Path] = field(default_factory=dict)
    workflows: Mapping[str | None, Path] = field(default_factory=dict)  # SID (None: "the" workflow)
    queues: Path | None = None
    functions: tuple[Path, ...] = ()
    servers: tuple[ServerSpec, ...] = ()
    url_map: Mapping[str, str] = field(default_factory=dict)
    auth_token: str | None = None
    clock: str | None = None
    threshold: float | None = None
    channel: str = DEFAULT_CHANNEL
    seed: int | str = DEFAULT_SEED
    includes: tuple[Path, ...] = ()  # every parts file read (for caches and watchers)
    source: Source | None = field(default=None, compare=False, repr=False)
    contracts: ContractsSpec = field(default_factory=ContractsSpec)  # pacts fed and Twilio rules
    handoff_widget: str | None = None  # the HTTP Request widget whose request is the hand-off

    @property
    def workflow(self) -> Path | None:
        """The only workflow, when one is given without a SID."""
        return self.workflows.get(None)

    def scenario(self, name: str) -> Scenario:
        for scenario in self.scenarios:
            if scenario.id == name or scenario.name == name:
                return scenario
        raise KeyError(name)
