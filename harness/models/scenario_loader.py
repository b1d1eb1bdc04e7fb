"""Scenario files (`*.scenario.yaml`): the loader.

    scenario_file = load_scenario_file("scenarios/hotel.scenario.yaml")
    for scenario in scenario_file.scenarios:          # one per scenario, or per `parametrize` row
        for concrete in scenario.expanded():          # one per combination of turn `variants`
            for turn in concrete.turns:               # turn.user, turn.expect
                ...

The shape is `harness/schemas/scenario.schema.json` (published for editors); docs/scenarios.md describes
every key. Loading is three passes, each collecting every problem (`raise_all`), each placed at
file:line:column with the key and what was expected:

1. YAML → data (a malformed file: one `LoadError` with line and column);
2. the JSON Schema;
3. what a schema cannot say: paths exist (relative to the file), `include`d parts files are valid and not
   circular, `{{ row.<key> }}` names a key of the row, `{{ faker.<provider>(args) }}` names a provider,
   regexes compile, `confidence` comparisons parse, schema files load, names and ids are unique.

The model is `harness.models.scenario_model` (expectations: `scenario_expect`); templates are rendered by
`scenario_templates`, parts files read by `scenario_parts`, the schema checked by `scenario_schema`."""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from harness.clock import parse_clock
from harness.errors import (
    HarnessError,
    ReferenceProblem,
    SchemaError,
    UsageError,
    raise_all,
)
from harness.models.json_schema import describe_value, json_schema_problem, pointer_order
from harness.models.scenario_confine import ProjectRoot, project_root
from harness.models.scenario_contracts import parse_contracts
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
from harness.models.scenario_model import (
    CHANNELS,
    DEFAULT_CHANNEL,
    DEFAULT_SEED,
    MAX_VARIANT_COMBINATIONS,
    Scenario,
    ScenarioFile,
    ServerSpec,
    TurnSpec,
)
from harness.models.scenario_parts import IncludedParts
from harness.models.scenario_replay import ReplaySpec, parse_replay
from harness.models.scenario_schema import (
    rendered_keys_validator,
    rendered_turn_validator,
    scenario_validator,
    schema_errors,
)
from harness.models.scenario_templates import Renderer, default_row_id
from harness.models.scenario_yaml import Origin, Problems, as_text, describe_kind, plain, without_content
from harness.patterns import pattern_problem
from harness.sources import Source, load_source


def load_scenario_file(path: str | Path) -> ScenarioFile:
    """Read, check and model a scenario file; raises `HarnessError`s naming every problem found."""
    return scenario_file_from_source(load_source(path, kind="yaml"))


def scenario_file_from_source(source: Source) -> ScenarioFile:
    """Check and model a scenario file already parsed (paths resolve against `source.path`'s folder)."""
    loader = _Loader(source)
    result = loader.run()
    raise_all(loader.sorted_problems())
    assert result is not None  # no problems means the file was built
    return result


class _Loader(IncludedParts):
    """One scenario file (and the parts files it reads): collects every problem, builds the model."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.path = source.path
        self.base = Path(source.path).absolute().parent if source.path else Path.cwd()
        self.problems = Problems()
        self.parts: dict[Path, tuple[Source, dict[str, Any]] | None] = {}
        self.root = Origin(self.path, "", source)
        self.project: ProjectRoot | None = None  # found when a data file is first named

    # -- problems

    def error(self, kind: Callable[..., HarnessError], message: str, origin: Origin, hint: str | None = None
              ) -> None:
        self.problems.add(kind(message, origin.location(), hint))

    def sorted_problems(self) -> list[HarnessError]:
        data = self.source.data

        def order(problem: HarnessError) -> tuple[int, Any]:
            location = problem.location
            if location is None or location.path != self.path:
                return (1, ())  # problems in parts files after those of this file
            return (0, pointer_order(data, location.pointer))

        return sorted(self.problems.items, key=order)

    # -- pass 2: the schema

    def schema_problems(self, data: Any, origin: Origin, validator: Draft202012Validator) -> bool:
        before = len(self.problems)
        for error in schema_errors(data, origin, validator):
            self.problems.add(error)
        return len(self.problems) == before

    # -- the file

    def run(self) -> ScenarioFile | None:
        data = self.source.data
        if data is None:
            self.error(SchemaError, "the file is empty: expected a mapping with `scenarios: [...]`",
                       self.root)
            return None
        data = plain(data)
        if not isinstance(data, dict):
            self.error(SchemaError, f"expected a scenario file (a mapping with `scenarios: [...]`), "
                                    f"found {describe_value(data)}", self.root)
            return None
        if not self.schema_problems(data, self.root, scenario_validator()):
            return None

        bots = self.sid_paths(data.get("bot"), "/bot")
        self.check_bot_sids(data)
        workflows = self.sid_paths(data.get("workflow"), "/workflow")
        subflows = {sid: p for sid, raw in (data.get("subflows") or {}).items()
                    if (p := self.file(raw, self.root.child("subflows", sid))) is not None}
        functions_raw = data.get("functions")
        functions_list = [functions_raw] if isinstance(functions_raw, str) else list(functions_raw or [])
        functions_at = (lambda i: self.root.child("functions")) if isinstance(functions_raw, str) else (
            lambda i: self.root.child("functions", i))
        functions = tuple(p for i, raw in enumerate(functions_list)
                          if (p := self.folder(raw, functions_at(i))) is not None)
        clock = data.get("clock")
        if clock is not None:
            self.check_clock(clock)

        defaults = self.file_defaults(data)
        seed = data.get("seed", DEFAULT_SEED)
        scenarios = self.scenarios(data, defaults, seed)

        return ScenarioFile(
            path=Path(self.path) if self.path else Path("<input>"),
            scenarios=tuple(scenarios),
            bots=bots,
            flow=self.file(data["flow"], self.root.child("flow")) if "flow" in data else None,
            subflows=subflows,
            workflows=workflows,
            queues=self.file(data["queues"], self.root.child("queues")) if "queues" in data else None,
            functions=functions,
            servers=tuple(ServerSpec(s["wsgi"], s["url"].rstrip("/")) for s in data.get("servers") or ()),
            url_map={k.rstrip("/"): v.rstrip("/") for k, v in (data.get("url_map") or {}).items()},
            auth_token=data.get("auth_token"),
            clock=clock,
            threshold=data.get("threshold"),
            channel=defaults.get("channel", DEFAULT_CHANNEL),
            seed=seed,
            includes=tuple(path for path, parsed in self.parts.items() if parsed is not None),
            source=self.source,
            contracts=parse_contracts(data.get("contracts"), folder=self.pact_folder,
                                      file=lambda raw, at: self.data_file(raw, self.root.child(*at), at[-1])),
            handoff_widget=self.handoff_widget(data),
        )

    def handoff_widget(self, data: Mapping[str, Any]) -> str | None:
        """`handoff_widget:` names a widget of the flow (checked when the flow file is readable JSON)."""
        name = data.get("handoff_widget")
        if name is None:
            return None
        at = self.root.child("handoff_widget")
        if "flow" not in data:
            self.error(ReferenceProblem, "handoff_widget needs a `flow:` (it names one of its widgets)", at)
            return name
        flow_path = self.resolve(data["flow"], self.root.child("flow"))
        try:
            states = load_source(flow_path, kind="json").data.get("states")
        except (HarnessError, AttributeError):
            return name  # the flow's own loader reports an unreadable flow
        names = [s.get("name") for s in states if isinstance(s, dict)] if isinstance(states, list) else []
        if names and name not in names:
            close = difflib.get_close_matches(name, [n for n in names if isinstance(n, str)], n=1)
            self.error(ReferenceProblem, f"the flow has no widget {name!r}", at,
                       f"did you mean {close[0]!r}?" if close else "name a widget of the flow")
        return name

    def pact_folder(self, raw: str, at: tuple[str, ...]) -> Path | None:
        """A folder pacts are written to: it may not exist yet, but its parent must."""
        origin = self.root.child(*at)
        path = self.resolve(raw, origin)
        if path.is_dir() or (not path.exists() and path.parent.is_dir()):
            return path
        what = "is a file, expected a folder" if path.exists() else "its parent folder does not exist"
        self.error(ReferenceProblem, f"{what}: {raw} (resolved to {path})", origin,
                   "paths are relative to the file that names them")
        return None

    def sid_paths(self, raw: Any, pointer: str) -> dict[str | None, Path]:
        if raw is None:
            return {}
        at = Origin(self.path, pointer, self.source)
        if isinstance(raw, str):
            found = self.file(raw, at, folder_file="schema.json")
            return {None: found} if found is not None else {}
        return {sid: p for sid, value in raw.items()
                if (p := self.file(value, at.child(sid), folder_file="schema.json")) is not None}

    def check_bot_sids(self, data: Mapping[str, Any]) -> None:
        """A `bot: {UA…: path}` map naming none of the SIDs the flow's Autopilot widgets use would fail
        every case at run time: say so here, with the flow's SIDs (checked when the flow file is readable
        JSON; its own loader reports it otherwise)."""
        raw = data.get("bot")
        if not isinstance(raw, dict) or "flow" not in data:
            return
        try:
            document = load_source(self.resolve(data["flow"], self.root.child("flow")), kind="json").data
        except HarnessError:
            return  # the flow's own loader reports it
        if isinstance(document, dict) and isinstance(document.get("definition"), dict):
            document = document["definition"]  # the REST API's shape: the definition inside
        states = document.get("states") if isinstance(document, dict) else None
        used = [str((state.get("properties") or {}).get("autopilot_assistant_sid", ""))
                for state in states if isinstance(state, dict) and state.get("type") == "send-to-auto-pilot"
                and isinstance(state.get("properties") or {}, dict)] if isinstance(states, list) else []
        if not used or any("{" in sid for sid in used) or any(sid in used for sid in raw):
            return  # no Autopilot widget, a SID known only at run time (Liquid), or a match
        known = list(dict.fromkeys(used))
        first = next(iter(raw))
        close = difflib.get_close_matches(str(first), known, n=1, cutoff=0.5)
        self.error(ReferenceProblem,
                   f"no Autopilot widget of {data['flow']} uses {', '.join(map(str, raw))}; "
                   f"the flow's assistant SIDs: {', '.join(known)}",
                   self.root.child("bot", str(first)),
                   (f"did you mean {close[0]}? " if close else "")
                   + "key the map by the widgets' autopilot_assistant_sid")

    def check_clock(self, clock: str) -> None:
        try:
            parse_clock(clock)  # the ISO form and the clock's range (harness.clock); the message names both
        except UsageError as err:
            self.error(SchemaError, err.message, self.root.child("clock"))

    # -- paths

    def resolve(self, raw: str, origin: Origin) -> Path:
        base = Path(origin.path).absolute().parent if origin.path else self.base
        return Path(os.path.normpath(base / raw))

    def file(self, raw: str, origin: Origin, *, folder_file: str | None = None) -> Path | None:
        path = self.resolve(raw, origin)
        if folder_file and path.is_dir() and (path / folder_file).is_file():
            return path / folder_file
        if path.is_file():
            return path
        what = ("is a folder, expected a file" if path.is_dir() else
                "not a regular file (a device, pipe or socket)" if path.exists() else "file not found")
        self.error(ReferenceProblem, f"{what}: {raw} (resolved to {path})", origin,
                   "paths are relative to the file that names them")
        return None

    def data_file(self, raw: str, origin: Origin, key: str) -> Path | None:
        """A file whose content becomes scenario data (a parts file, a JSON Schema, a recording): it must
        exist and lie inside the project root (`scenario_confine`); a file outside is not even opened."""
        path = self.resolve(raw, origin)
        if self.project is None:
            try:
                self.project = project_root(self.path)
            except HarnessError as err:
                self.problems.add(err)
                return None
        if not self.project.permits(path):
            message, hint = self.project.refusal(key, raw, path)
            self.error(ReferenceProblem, message, origin, hint)
            return None
        return self.file(raw, origin)

    def folder(self, raw: str, origin: Origin) -> Path | None:
        path = self.resolve(raw, origin)
        if path.is_dir():
            return path
        what = "is a file, expected a folder" if path.exists() else "folder not found"
        self.error(ReferenceProblem, f"{what}: {raw} (resolved to {path})", origin,
                   "paths are relative to the file that names them")
        return None

    # -- parts files (include)
    # -- scenarios

    def scenarios(self, data: dict[str, Any], defaults: dict[str, Any], seed: int | str) -> list[Scenario]:
        built: list[Scenario] = []
        names: dict[str, int] = {}
        for index, raw in enumerate(data["scenarios"]):
            origin = self.root.child("scenarios", index)
            name = raw["name"]
            if name in names:
                self.error(SchemaError, f"duplicate scenario name '{name}' (scenario {names[name] + 1} "
                                        "has it too); names are unique in a file", origin.child("name"))
                continue
            names[name] = index
            root_path = Path(self.path).absolute() if self.path else self.base
            # A `replay:` scenario has no turns (the schema allows exactly one of the two).
            turns = self.spliced_turns(raw.get("turns") or (), origin.child("turns"), (root_path,))
            if "channel" in raw and "channels" in raw:
                self.error(SchemaError, "a scenario has `channel` (one channel) or `channels` (a matrix), not both",
                           origin.child("channels"))
                continue
            for row_id, row in self.rows(raw, origin):
                for channel, channel_part in self.channel_runs(raw, origin, row_id, row, data.get("channels")):
                    scenario = self.scenario(raw, origin, turns, defaults, seed, row_id, row,
                                             channel=channel, channel_part=channel_part)
                    if scenario is not None:
                        built.append(scenario)
        return built

    def channel_runs(self, raw: dict[str, Any], origin: Origin, row_id: str | None, row: dict[str, Any] | None,
                     file_channels: list[str] | None) -> list[tuple[str | None, str | None]]:
        """(channel, id part) per run of one scenario row: the channel matrix.

        A scenario's `channels:` (else the file's, unless the scenario says `channel:` or its row has a
        `channel` key) runs it once per channel, the channel joining the id (`name[sms]`, `name[row-sms]`).
        A row's `channel` key picks the row's channel (no id part: the row id names it). Two places choosing
        the channel of one scenario is refused rather than one silently winning."""
        row_channel = (row or {}).get("channel")
        row_at = self.row_origin(raw, origin, row_id, row).child("channel")
        if row is not None and "channel" in row:
            if "channel" in raw or "channels" in raw:
                key = "channel" if "channel" in raw else "channels"
                self.error(SchemaError, f"the row's `channel` and the scenario's `{key}` both choose the channel",
                           row_at, "drop one: a row's `channel` key sets that row's channel")
                return []
            if row_channel not in CHANNELS:
                self.error(SchemaError, f"row channel {describe_value(row_channel)}: expected one of "
                                        f"{', '.join(CHANNELS)}", row_at)
                return []
            return [(row_channel, None)]
        channels = raw.get("channels") or (None if "channel" in raw else file_channels)
        if not channels:
            return [(None, None)]
        return [(channel, channel) for channel in channels]

    def row_origin(self, raw: dict[str, Any], origin: Origin, row_id: str | None, row: dict[str, Any] | None
                   ) -> Origin:
        """Where a row is written (its position in `parametrize`), for problems with its keys."""
        spec = raw.get("parametrize")
        if row is None or spec is None:
            return origin
        rows = spec["rows"] if isinstance(spec, dict) else spec
        at = origin.child("parametrize", "rows") if isinstance(spec, dict) else origin.child("parametrize")
        index = next((i for i, r in enumerate(rows) if r is row), 0)
        return at.child(index)

    def rows(self, raw: dict[str, Any], origin: Origin) -> list[tuple[str | None, dict[str, Any] | None]]:
        spec = raw.get("parametrize")
        if spec is None:
            return [(None, None)]
        rows = spec["rows"] if isinstance(spec, dict) else spec
        rows_origin = origin.child("parametrize", "rows") if isinstance(spec, dict) else origin.child(
            "parametrize")
        result: list[tuple[str | None, dict[str, Any] | None]] = []
        seen: dict[str, int] = {}
        for index, row in enumerate(rows):
            row_id = default_row_id(row, index)
            here = rows_origin.child(index)
            if any(ch in row_id for ch in "[]") or not row_id.strip():
                self.error(SchemaError,
                           f"row id {describe_value(row_id)} must be non-empty without '[' or ']'",
                           here.child("id") if "id" in row else here)
                continue
            if row_id in seen:
                self.error(SchemaError, f"duplicate row id '{row_id}' (row {seen[row_id] + 1} has it too)",
                           here.child("id") if "id" in row else here, "give each row a unique `id:`")
                continue
            seen[row_id] = index
            result.append((row_id, row))
        return result

    def scenario(
        self, raw: dict[str, Any], origin: Origin, turns: list[tuple[dict[str, Any], Origin]],
        defaults: dict[str, Any], seed: int | str, row_id: str | None, row: dict[str, Any] | None,
        *, channel: str | None = None, channel_part: str | None = None,
    ) -> Scenario | None:
        before = len(self.problems)
        params = tuple(part for part in (row_id, channel_part) if part is not None)
        scenario_id = f"{raw['name']}[{'-'.join(params)}]" if params else raw["name"]
        render = Renderer(row, seed, scenario_id)

        def value(key: str) -> Any:
            if key in raw:
                return render.tree(raw[key], origin.child(key), self.problems)
            if key in defaults:  # defaults are rendered per scenario, so faker values differ by scenario
                return render.tree(defaults[key], origin, self.problems)
            return None

        memory = dict(render.tree(defaults.get("memory") or {}, origin, self.problems))
        memory.update(render.tree(raw.get("memory") or {}, origin.child("memory"), self.problems))
        tags = list(defaults.get("tags") or ())
        tags += [tag for tag in raw.get("tags") or () if tag not in tags]
        user = value("user")
        if row is not None and "user" in row:  # a row's `user` key is that row's identity
            user = self.row_user(raw, origin, row_id, row, render)
        built_turns = []
        for turn_raw, turn_origin in turns:
            rendered_turn = render.tree(turn_raw, turn_origin, self.problems)
            if not self.rendered_problems(render, rendered_turn, turn_origin, rendered_turn_validator()):
                continue
            turn = self.turn(rendered_turn, turn_origin)
            if turn is not None:
                built_turns.append(turn)
        rendered_expect = render.tree(raw.get("expect") or {}, origin.child("expect"), self.problems)
        rendered = {key: found for key in ("target_task", "channel", "provider_state", "trigger")
                    if (found := value(key)) is not None}
        if user is not None:
            rendered["user"] = user
        parameters = dict(render.tree(defaults.get("parameters") or {}, origin, self.problems))
        parameters.update(render.tree(raw.get("parameters") or {}, origin.child("parameters"), self.problems))
        rendered.update({"memory": memory, "expect": rendered_expect})
        if "replay" in raw:
            rendered["replay"] = render.tree(raw["replay"], origin.child("replay"), self.problems)
        if not self.rendered_problems(render, rendered, origin, rendered_keys_validator()):
            return None
        expect = self.scenario_expect(rendered_expect, origin.child("expect"))
        if rendered.get("trigger") == "call" and rendered.get("channel", "voice") != "voice":
            self.error(SchemaError, f"trigger: call is a phone call, on channel voice, not {rendered['channel']}",
                       origin.child("channel") if "channel" in raw else origin,
                       "drop the channel (a call is voice), or pick another trigger")
        scenario = Scenario(
            name=raw["name"],
            turns=tuple(built_turns),
            expect=expect,
            params=params,
            tags=tuple(tags),
            target_task=value("target_task"),
            memory=memory,
            channel=channel or value("channel") or ("voice" if rendered.get("trigger") == "call"
                                                    else DEFAULT_CHANNEL),
            user=as_text(user) if user is not None else None,
            row=row,
            description=raw.get("description"),
            origin=origin,
            provider_state=value("provider_state"),
            replay=self.replay(rendered["replay"], origin) if "replay" in raw else None,
            trigger=rendered.get("trigger"),
            parameters=parameters,
        )
        if scenario.variant_count > MAX_VARIANT_COMBINATIONS:
            self.error(SchemaError, f"{scenario.variant_count} variant combinations (at most "
                                    f"{MAX_VARIANT_COMBINATIONS}): split the scenario", origin.child("turns"))
        return scenario if len(self.problems) == before else None

    def row_user(self, raw: dict[str, Any], origin: Origin, row_id: str | None, row: dict[str, Any],
                 render: Renderer) -> Any:
        at = self.row_origin(raw, origin, row_id, row).child("user")
        if "user" in raw:
            self.error(SchemaError, "the row's `user` and the scenario's `user` both choose the user", at,
                       "drop one: a row's `user` key sets that row's identity")
            return None
        found = render.tree(row["user"], at, self.problems)
        if not isinstance(found, str) or not found:
            self.error(SchemaError, f"row user {describe_value(found)}: expected the user's identity as text "
                                    "(a phone number, whatsapp:+1…, messenger:…, a chat identity)", at)
            return None
        return found

    def rendered_problems(self, render: Renderer, data: Any, origin: Origin,
                          validator: Draft202012Validator) -> bool:
        """Check values `{{ … }}` rendered against the schema again: a template may give a value the schema
        does not allow there (`user: "{{ faker.pyint }}"` gives a number where text is expected). Each
        problem names the template. True when there is none (or nothing was rendered)."""
        if not render.places:
            return True
        errors = schema_errors(data, origin, validator)
        for error in errors:
            pointer = error.location.pointer if error.location else ""
            made = [(at, template) for at, template in render.places
                    if at.path == origin.path and (pointer == at.pointer or pointer.startswith(at.pointer + "/")
                                                   or at.pointer.startswith(pointer + "/"))]
            if made:
                error = type(error)(f"{error.message} — from `{made[-1][1][:80]}`", error.location,
                                    "a template that is the whole value keeps the value's type: quote or wrap "
                                    "it in text where text is expected")
            self.problems.add(error)
        return not errors

    def replay(self, raw: dict[str, Any], origin: Origin) -> ReplaySpec | None:
        def file(path: str, at: tuple[str, ...]) -> Path | None:
            if at[-1] == "flow":  # the system under test, not data
                return self.file(path, origin.child(*at))
            return self.data_file(path, origin.child(*at), f"replay {at[-1]}")

        return parse_replay(raw, file=file,
                            problem=lambda message, at: self.error(SchemaError, message, origin.child(*at)))

    def turn(self, raw: dict[str, Any], origin: Origin) -> TurnSpec | None:
        expect = self.turn_expect(raw.get("expect") or {}, origin.child("expect"))
        variants = tuple(as_text(v) for v in raw.get("variants") or ())
        user = raw.get("user")
        wait = _seconds(raw["wait"]) if "wait" in raw else None
        digits = as_text(raw["digits"]) if "digits" in raw else None
        if "confidence" in raw and user is None:
            self.error(SchemaError, "`confidence` is the recognizer's confidence of the caller's speech: it "
                                    "goes beside `user`", origin.child("confidence"))
        return TurnSpec(user=as_text(user) if user is not None else None, expect=expect,
                        variants=variants, origin=origin, wait=wait, digits=digits,
                        confidence=float(raw["confidence"]) if "confidence" in raw else None)

    def turn_expect(self, raw: dict[str, Any], origin: Origin) -> TurnExpect:
        confidence = None
        if "confidence" in raw:
            try:
                confidence = Comparison.parse(raw["confidence"])
                if not math.isfinite(confidence.value):  # "99…9" (400 digits) is a float infinity
                    raise ValueError(raw["confidence"])
            except ValueError:
                self.error(SchemaError, "expected a number or a comparison such as '>= 0.6', found "
                                        f"{describe_value(raw['confidence'])}", origin.child("confidence"))
        fields = None
        if "fields" in raw:
            fields = {name: (None if spec is None else FieldExpect(spec.get("value"), spec.get("type"))
                             if isinstance(spec, dict) else FieldExpect(spec))
                      for name, spec in raw["fields"].items()}
        replies = None
        if "replies" in raw:
            replies = tuple(self.text_match(item, origin.child("replies", i))
                            for i, item in enumerate(raw["replies"]))
        handoff = None
        if "handoff" in raw:
            handoff = self.autopilot_handoff(raw["handoff"]["autopilot"], origin.child("handoff", "autopilot"))
        return TurnExpect(
            task=raw.get("task"), confidence=confidence, next_best_task=raw.get("next_best_task"),
            fields=fields, replies=replies, memory=raw.get("memory"), ended=raw.get("ended"),
            memory_absent=_keys(raw.get("memory_absent")), tasks_run=_keys(raw.get("tasks_run")),
            handoff=handoff, no_task="task" in raw and raw["task"] is None, origin=origin,
        )

    def text_match(self, raw: Any, origin: Origin) -> TextMatch:
        if not isinstance(raw, dict):
            return TextMatch("equals", as_text(raw))
        ((kind, value),) = raw.items()
        if kind == "one_of":
            return TextMatch(kind, tuple(as_text(v) for v in value))
        if kind == "regex":
            problem = pattern_problem(value)
            if problem is not None:
                self.error(SchemaError, f"invalid regex: {problem}", origin.child("regex"))
        return TextMatch(kind, as_text(value))

    def scenario_expect(self, raw: dict[str, Any], origin: Origin) -> ScenarioExpect:
        flow = None
        if "flow" in raw:
            spec = raw["flow"]
            events = spec.get("events")
            flow = FlowExpect(
                path=tuple(spec["path"]) if "path" in spec else None,
                mode=spec.get("mode", "exact"),
                events={w: (e,) if isinstance(e, str) else tuple(e) for w, e in events.items()}
                if events is not None else None,
                events_all=frozenset(w for w, e in (events or {}).items() if isinstance(e, list)),
                variables=spec.get("variables"),
                status=spec.get("status"),
            )
        messages = None
        if "messages" in raw:
            messages = tuple(self.message(item, origin.child("messages", i))
                             for i, item in enumerate(raw["messages"]))
        handoff: FlexHandoffExpect | HttpHandoffExpect | AutopilotHandoffExpect | None = None
        if "handoff" in raw:
            handoff = self.handoff(raw["handoff"], origin.child("handoff"))
        return ScenarioExpect(flow=flow, messages=messages, handoff=handoff,
                              no_handoff=bool(raw.get("no_handoff", False)), memory=raw.get("memory"),
                              memory_absent=_keys(raw.get("memory_absent")), ended=raw.get("ended"),
                              origin=origin)

    def message(self, raw: Any, origin: Origin) -> MessageExpect:
        is_check = not isinstance(raw, dict) or set(raw) <= {"equals", "contains", "regex", "one_of"}
        if is_check:
            return MessageExpect(body=self.text_match(raw, origin))
        body = self.text_match(raw["body"], origin.child("body")) if "body" in raw else None
        return MessageExpect(body=body, sender=raw.get("from"), to=raw.get("to"), channel=raw.get("channel"),
                             widget=raw.get("widget"))

    def handoff(self, raw: dict[str, Any], origin: Origin
                ) -> FlexHandoffExpect | HttpHandoffExpect | AutopilotHandoffExpect:
        if "autopilot" in raw:
            return self.autopilot_handoff(raw["autopilot"], origin.child("autopilot"))
        if "flex" in raw:
            spec = raw["flex"]
            here = origin.child("flex")
            return FlexHandoffExpect(
                attributes=spec.get("attributes"),
                attributes_schema=self.json_schema(spec.get("attributes_schema"),
                                                   here.child("attributes_schema")),
                workflow=spec.get("workflow"), channel=spec.get("channel"), queue=spec.get("queue"),
                priority=spec.get("priority"), status=spec.get("status"),
                queue_history=tuple(spec["queue_history"]) if "queue_history" in spec else None,
                interaction=(InteractionExpect(channel=spec["interaction"].get("channel"))
                             if "interaction" in spec else None),
            )
        spec = raw["http"]
        here = origin.child("http")
        return HttpHandoffExpect(
            method=spec["method"].upper() if "method" in spec else None,
            url=self.text_match(spec["url"], here.child("url")) if "url" in spec else None,
            body=spec.get("body"),
            body_schema=self.json_schema(spec.get("body_schema"), here.child("body_schema")),
            status=spec.get("status"),
            response=spec.get("response"),
        )

    def autopilot_handoff(self, spec: dict[str, Any], origin: Origin) -> AutopilotHandoffExpect:
        """`handoff.autopilot` (after the last turn, or a turn's `handoff.autopilot`)."""
        return AutopilotHandoffExpect(
            channel=spec.get("channel"),
            uri=self.text_match(spec["uri"], origin.child("uri")) if "uri" in spec else None,
            method=spec["method"].upper() if "method" in spec else None,
            priority=int(spec["priority"]) if "priority" in spec else None,
            timeout=int(spec["timeout"]) if "timeout" in spec else None,
            workflow=spec.get("workflow"), queue=spec.get("queue"), status=spec.get("status"),
            queue_history=tuple(spec["queue_history"]) if "queue_history" in spec else None,
            schema=self.json_schema(spec.get("schema"), origin.child("schema")),
        )

    def json_schema(self, raw: Any, origin: Origin) -> dict[str, Any] | None:
        if raw is None:
            return None
        schema = raw
        if isinstance(raw, str):
            key = origin.pointer.rsplit("/", 1)[-1]
            path = self.data_file(raw, origin, key)
            if path is None:
                return None
            try:
                schema = plain(load_source(path).data)
            except HarnessError as err:
                self.problems.add(without_content(err))
                return None
            if not isinstance(schema, dict):  # said here: the file's content is not quoted
                self.error(SchemaError, f"{key}: {raw} holds {describe_kind(schema)}, expected a JSON Schema "
                                        "object", origin)
                return None
        return self.checked_schema(schema, origin)

    def checked_schema(self, schema: Any, origin: Origin) -> dict[str, Any] | None:
        if not isinstance(schema, dict):
            self.error(SchemaError, f"expected a JSON Schema object, found {describe_value(schema)}", origin)
            return None
        problem = json_schema_problem(schema)  # invalid, or a remote $ref (never fetched)
        if problem is not None:
            self.error(SchemaError, problem, origin)
            return None
        return schema


def _keys(raw: Any) -> tuple[str, ...] | None:
    """`memory_absent:` / `tasks_run:` as a tuple (the schema has checked they are lists of strings)."""
    return tuple(raw) if raw is not None else None


def _seconds(value: Any) -> float:
    """`wait:` as seconds: a number, or '90', '30s', '15m', '4h' (the schema has checked the form)."""
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    unit = {"s": 1, "m": 60, "h": 3600}.get(text[-1:], 1)
    return float(text.rstrip("smh").strip()) * unit
