"""Scenario files (`*.scenario.yaml`): the typed model and its loader.

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

Templates: `{{ row.key }}` (a `parametrize` row) and `{{ faker.provider(args) }}` are replaced at load time;
any other `{{ … }}` (Liquid in an expected reply) is left alone. A string that is only one template keeps
the value's type (`{{ row.count }}` stays an integer). Faker is seeded per scenario id with the file's
`seed` (default 0), so values do not change when other scenarios are added, and the same expression text
gives the same value throughout one scenario (a turn and its expectation can both use
`{{ faker.first_name() }}`). Faker is imported only when a file uses it: plugin start-up time matters.
"""

from __future__ import annotations

import ast
import difflib
import functools
import itertools
import json
import math
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from harness.errors import (
    HarnessError,
    Location,
    ReferenceProblem,
    SchemaError,
    join_pointer,
    raise_all,
)
from harness.models.actions import describe_value, jsonschema_messages, load_schema, pointer_order
from harness.models.fastcheck import compile_fast_check
from harness.models.scenario_contracts import ContractsSpec, parse_contracts
from harness.models.scenario_replay import ReplaySpec, parse_replay
from harness.sources import Source, load_source

SCENARIO_SCHEMA_ID = "https://autopilot-harness.dev/schemas/scenario.schema.json"
CHANNELS: tuple[str, ...] = ("sms", "whatsapp", "chat", "messenger", "voice")
DEFAULT_CHANNEL = "sms"
DEFAULT_SEED = 0
MAX_VARIANT_COMBINATIONS = 1000  # a product of variant lists grows fast; past this it is a mistake

__all__ = [
    "CHANNELS",
    "SCENARIO_SCHEMA_ID",
    "Comparison",
    "FieldExpect",
    "FlexHandoffExpect",
    "FlowExpect",
    "HttpHandoffExpect",
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
    "scenario_file_from_source",
]


# --- the model --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    """Where a part of a scenario was written: a file and a JSON Pointer; the line is found when asked."""

    path: str | None
    pointer: str = ""
    source: Source | None = field(default=None, compare=False, repr=False)

    def location(self, *parts: str | int) -> Location:
        pointer = self.pointer + join_pointer(*parts)
        if self.source is not None and self.source.text:
            return self.source.locate(pointer)
        return Location(self.path, pointer)

    def child(self, *parts: str | int) -> Origin:
        return Origin(self.path, self.pointer + join_pointer(*parts), self.source)


_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": lambda a, b: a >= b or math.isclose(a, b, abs_tol=1e-9),
    "<=": lambda a, b: a <= b or math.isclose(a, b, abs_tol=1e-9),
    ">": lambda a, b: a > b and not math.isclose(a, b, abs_tol=1e-9),
    "<": lambda a, b: a < b and not math.isclose(a, b, abs_tol=1e-9),
    "==": lambda a, b: math.isclose(a, b, abs_tol=1e-9),
    "!=": lambda a, b: not math.isclose(a, b, abs_tol=1e-9),
}
_COMPARISON = re.compile(r"^\s*(>=|<=|==|!=|>|<)?\s*([0-9]*\.?[0-9]+)\s*$")


@dataclass(frozen=True)
class Comparison:
    """`confidence: ">= 0.6"`; a bare number means "at least" (a threshold, as Autopilot's own)."""

    op: str
    value: float

    def holds(self, actual: float | None) -> bool:
        return actual is not None and _OPERATORS[self.op](float(actual), self.value)

    def __str__(self) -> str:
        return f"{self.op} {self.value:g}"

    @classmethod
    def parse(cls, raw: Any) -> Comparison:
        """A number or a string such as '>= 0.6'; ValueError otherwise."""
        if isinstance(raw, bool):
            raise ValueError(raw)
        if isinstance(raw, int | float):
            return cls(">=", float(raw))
        match = _COMPARISON.match(str(raw))
        if not match:
            raise ValueError(raw)
        return cls(match.group(1) or ">=", float(match.group(2)))


@dataclass(frozen=True)
class TextMatch:
    """One check of a text: equals (a plain string), contains, regex (searched) or one_of."""

    kind: str  # "equals" | "contains" | "regex" | "one_of"
    value: str | tuple[str, ...]

    def matches(self, text: str | None) -> bool:
        if text is None:
            return False
        if self.kind == "equals":
            return text == self.value
        if self.kind == "contains":
            return str(self.value) in text
        if self.kind == "regex":
            return re.search(str(self.value), text) is not None
        return text in self.value

    def describe(self) -> str:
        if self.kind == "equals":
            return _quote(str(self.value))
        if self.kind == "one_of":
            return "one of " + ", ".join(_quote(v) for v in self.value)
        if self.kind == "regex":
            return f"matching /{self.value}/"
        return f"containing {_quote(str(self.value))}"


@dataclass(frozen=True)
class FieldExpect:
    """An expected field: its value (compared as text; numbers numerically) and optionally its type."""

    value: Any = None
    type: str | None = None


@dataclass(frozen=True)
class TurnExpect:
    """What must hold after one message; None means "not checked"."""

    task: str | None = None
    confidence: Comparison | None = None
    next_best_task: str | None = None
    fields: Mapping[str, FieldExpect | None] | None = None  # None value: the field must be absent
    replies: tuple[TextMatch, ...] | None = None
    memory: Mapping[str, Any] | None = None  # subset; dotted keys are paths
    ended: bool | None = None
    # `task: null`: no task may have run (a URL fallback, a flow-only turn); `task` None alone means
    # "not checked", so the explicit null needs its own flag.
    no_task: bool = False
    origin: Origin = field(default_factory=lambda: Origin(None), compare=False)

    @property
    def is_empty(self) -> bool:
        return not self.no_task and all(getattr(self, name) is None for name in _TURN_KEYS)


_TURN_KEYS = ("task", "confidence", "next_best_task", "fields", "replies", "memory", "ended")


@dataclass(frozen=True)
class TurnSpec:
    """One user message. Before `Scenario.expanded()` a turn may hold `variants` instead of `user`."""

    user: str | None
    expect: TurnExpect = field(default_factory=TurnExpect)
    variants: tuple[str, ...] = ()
    variant: int | None = None  # 1-based: which variant this concrete turn says
    wait: float | None = None  # seconds to let pass instead of a message
    origin: Origin = field(default_factory=lambda: Origin(None), compare=False)

    @property
    def utterances(self) -> tuple[str, ...]:
        return self.variants if self.variants else ((self.user,) if self.user is not None else ())


@dataclass(frozen=True)
class FlowExpect:
    path: tuple[str, ...] | None = None
    mode: str = "exact"  # "exact" | "subsequence"
    events: Mapping[str, tuple[str, ...]] | None = None  # widget → events in order (one: its last)
    events_all: frozenset[str] = frozenset()  # widgets whose events were given as a list (all of them)
    variables: Mapping[str, Any] | None = None
    status: str | None = None


@dataclass(frozen=True)
class MessageExpect:
    body: TextMatch | None = None
    sender: str | None = None  # `from`
    to: str | None = None
    channel: str | None = None
    widget: str | None = None


@dataclass(frozen=True)
class FlexHandoffExpect:
    attributes: Mapping[str, Any] | None = None
    attributes_schema: Mapping[str, Any] | None = None
    workflow: str | None = None
    channel: str | None = None
    queue: str | None = None
    priority: int | None = None
    kind: str = "flex"


@dataclass(frozen=True)
class HttpHandoffExpect:
    method: str | None = None
    url: TextMatch | None = None
    body: Any = None
    body_schema: Mapping[str, Any] | None = None
    status: int | None = None
    response: Any = None
    kind: str = "http"


@dataclass(frozen=True)
class ScenarioExpect:
    """What must hold after the last turn; None means "not checked"."""

    flow: FlowExpect | None = None
    messages: tuple[MessageExpect, ...] | None = None
    handoff: FlexHandoffExpect | HttpHandoffExpect | None = None
    no_handoff: bool = False
    memory: Mapping[str, Any] | None = None
    ended: bool | None = None
    origin: Origin = field(default_factory=lambda: Origin(None), compare=False)


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


# --- loading ----------------------------------------------------------------------------------------


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


@functools.cache
def scenario_validator() -> Draft202012Validator:
    """The scenario file schema, compiled once, with its `$ref`s inlined (twice as fast to validate)."""
    schema = load_schema("scenario.schema.json")
    return Draft202012Validator(_inline_refs(schema, schema["$defs"]))


@functools.cache
def parts_validator() -> Draft202012Validator:
    """The schema of a parts file: the scenario schema's `$defs/parts` as the root."""
    defs = load_schema("scenario.schema.json")["$defs"]
    return Draft202012Validator(_inline_refs(defs["parts"], defs))


_FAST_CHECKS: dict[int, tuple[Draft202012Validator, Callable[[Any], bool] | None]] = {}


def _fast_check(validator: Draft202012Validator) -> Callable[[Any], bool] | None:
    """The schema compiled to a quick valid/invalid test (None if it uses a keyword the compiler lacks).

    Keyed by identity: validators are not hashable, and ours are compiled once (`functools.cache`)."""
    found = _FAST_CHECKS.get(id(validator))
    if found is None or found[0] is not validator:
        found = _FAST_CHECKS[id(validator)] = (validator, compile_fast_check(validator.schema))
    return found[1]


def _inline_refs(node: Any, defs: Mapping[str, Any]) -> Any:
    """Replace `{"$ref": "#/$defs/x"}` by the definition (the schema is not recursive)."""
    if isinstance(node, list):
        return [_inline_refs(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = _inline_refs(defs[ref[len("#/$defs/"):]], defs)
        extra = {k: _inline_refs(v, defs) for k, v in node.items() if k not in ("$ref", "description")}
        return {"allOf": [target], **extra} if extra else target
    return {k: _inline_refs(v, defs) for k, v in node.items() if k not in ("$defs", "$id")}


class _Problems:
    """Collects problems; `found` is how many were added, so a step can tell whether it failed."""

    def __init__(self) -> None:
        self.items: list[HarnessError] = []
        self._seen: set[tuple[str, str]] = set()

    def add(self, error: HarnessError) -> None:
        key = (type(error).__name__, error.render())
        if key not in self._seen:  # a row repeats its scenario's problems: say each once
            self._seen.add(key)
            self.items.append(error)

    def __len__(self) -> int:
        return len(self.items)


class _TemplateProblem(Exception):
    pass


_TEMPLATE = re.compile(r"\{\{\s*((?:faker|row)\b[^{}]*?)\s*\}\}")


class _Renderer:
    """Renders `{{ row.… }}` and `{{ faker.… }}` for one scenario id (one row)."""

    def __init__(self, row: Mapping[str, Any] | None, seed: int | str, scenario_id: str) -> None:
        self.row = row
        self.seed_text = f"{seed}:{scenario_id}"
        self._faker: Any = None
        self._cache: dict[str, Any] = {}

    def tree(self, node: Any, origin: Origin, problems: _Problems) -> Any:
        if isinstance(node, str):
            if "{{" not in node:
                return node
            try:
                return self.text(node)
            except _TemplateProblem as problem:
                problems.add(SchemaError(str(problem), origin.location()))
                return node
        if isinstance(node, dict):
            return {key: self.tree(value, origin.child(key), problems) for key, value in node.items()}
        if isinstance(node, list):
            return [self.tree(value, origin.child(i), problems) for i, value in enumerate(node)]
        return node

    def text(self, text: str) -> Any:
        whole = _TEMPLATE.fullmatch(text.strip())
        if whole:  # a value that is only a template keeps its type
            return self.expression(whole.group(1))
        return _TEMPLATE.sub(lambda m: _as_text(self.expression(m.group(1))), text)

    def expression(self, expression: str) -> Any:
        if expression.startswith("row"):
            value = self.row_value(expression)
            if isinstance(value, str) and "{{ faker" in value.replace("{{faker", "{{ faker"):
                return self.text(value)  # a row may hold faker values
            return value
        key = " ".join(expression.split())
        if key not in self._cache:
            self._cache[key] = self.fake(expression)
        return self._cache[key]

    def row_value(self, expression: str) -> Any:
        if self.row is None:
            raise _TemplateProblem(f"'{{{{ {expression} }}}}' is used but the scenario has no "
                                   "`parametrize` rows")
        parts = expression.split(".")[1:]
        if not parts or not all(parts):
            raise _TemplateProblem(f"expected {{{{ row.<key> }}}}, found '{{{{ {expression} }}}}'")
        value: Any = self.row
        for depth, part in enumerate(parts):
            if isinstance(value, Mapping) and part in value:
                value = value[part]
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                known = ", ".join(str(k) for k in value) if isinstance(value, Mapping) else "none"
                shown = ".".join(["row", *parts[: depth + 1]])
                raise _TemplateProblem(f"'{shown}': the row has no key '{part}' (keys: {known})")
        return value

    def fake(self, expression: str) -> Any:
        provider, args, kwargs = _parse_faker_call(expression)
        faker = self.faker()
        method = getattr(faker, provider, None) if not provider.startswith("_") else None
        if not callable(method):
            close = difflib.get_close_matches(provider, _faker_providers(faker), n=1)
            also = f" (did you mean '{close[0]}'?)" if close else ""
            raise _TemplateProblem(f"faker has no provider '{provider}'{also}")
        try:
            return method(*args, **kwargs)
        except Exception as err:  # the user's arguments: report, do not crash collection
            raise _TemplateProblem(f"faker.{provider}(...) failed: {err}") from None

    def faker(self) -> Any:
        if self._faker is None:
            self._faker = _shared_faker()
            self._faker.seed_instance(self.seed_text)
        return self._faker


@functools.cache
def _shared_faker() -> Any:
    # Lazy: faker costs tens of milliseconds to import; only files that use it pay.
    from faker import Faker

    return Faker()


@functools.cache
def _faker_providers(faker: Any) -> tuple[str, ...]:
    return tuple(name for name in dir(faker) if not name.startswith("_"))


def _parse_faker_call(expression: str) -> tuple[str, list[Any], dict[str, Any]]:
    wanted = "expected {{ faker.<provider> }} or {{ faker.<provider>(literal arguments) }}"
    try:
        tree = ast.parse(expression, mode="eval").body
    except SyntaxError:
        raise _TemplateProblem(f"{wanted}, found '{{{{ {expression} }}}}'") from None
    call = tree if isinstance(tree, ast.Call) else None
    target = call.func if call else tree
    if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
            and target.value.id == "faker"):
        raise _TemplateProblem(f"{wanted}, found '{{{{ {expression} }}}}'")
    try:
        args = [ast.literal_eval(arg) for arg in call.args] if call else []
        kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords if kw.arg} if call else {}
    except ValueError:
        raise _TemplateProblem(f"faker arguments must be literals (numbers, strings, lists), "
                               f"found '{{{{ {expression} }}}}'") from None
    return target.attr, args, kwargs


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _plain(node: Any) -> Any:
    """YAML timestamps → ISO strings, so the data is JSON (unquoted `clock: 2024-05-01T09:00:00Z`)."""
    if isinstance(node, datetime | date):
        text = node.isoformat()
        return text.replace("+00:00", "Z") if isinstance(node, datetime) else text
    if isinstance(node, dict):
        return {key if isinstance(key, str) else _as_text(key): _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(value) for value in node]
    return node


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _Loader:
    """One scenario file (and the parts files it reads): collects every problem, builds the model."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.path = source.path
        self.base = Path(source.path).absolute().parent if source.path else Path.cwd()
        self.problems = _Problems()
        self.parts: dict[Path, tuple[Source, dict[str, Any]] | None] = {}
        self.root = Origin(self.path, "", source)

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
        fast = _fast_check(validator)
        if fast is not None and fast(data):  # a valid file (the usual case): skip jsonschema, ~10x slower
            return True
        before = len(self.problems)
        for pointer, message in jsonschema_messages(validator, data):
            where = Origin(origin.path, origin.pointer + pointer, origin.source)
            self.problems.add(SchemaError(_schema_message(message, pointer), where.location()))
        return len(self.problems) == before

    # -- the file

    def run(self) -> ScenarioFile | None:
        data = self.source.data
        if data is None:
            self.error(SchemaError, "the file is empty: expected a mapping with `scenarios: [...]`",
                       self.root)
            return None
        data = _plain(data)
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
                                      file=lambda raw, at: self.file(raw, self.root.child(*at))),
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
            states = json.loads(flow_path.read_text(encoding="utf-8")).get("states")
        except (OSError, ValueError, AttributeError):
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
            document = json.loads(self.resolve(data["flow"], self.root.child("flow")).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
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
            datetime.fromisoformat(clock.strip().replace("Z", "+00:00"))
        except ValueError:
            self.error(SchemaError, f"expected an ISO 8601 date-time such as 2024-05-01T09:00:00Z, "
                                    f"found {describe_value(clock)}", self.root.child("clock"))

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
        what = "is a folder, expected a file" if path.is_dir() else "file not found"
        self.error(ReferenceProblem, f"{what}: {raw} (resolved to {path})", origin,
                   "paths are relative to the file that names them")
        return None

    def folder(self, raw: str, origin: Origin) -> Path | None:
        path = self.resolve(raw, origin)
        if path.is_dir():
            return path
        what = "is a file, expected a folder" if path.exists() else "folder not found"
        self.error(ReferenceProblem, f"{what}: {raw} (resolved to {path})", origin,
                   "paths are relative to the file that names them")
        return None

    # -- parts files (include)

    def part(self, raw: str, origin: Origin) -> tuple[Source, dict[str, Any]] | None:
        path = self.file(raw, origin)
        if path is None:
            return None
        if path in self.parts:
            return self.parts[path]
        self.parts[path] = None  # while loading: a cycle finds None and is reported by the caller
        try:  # shown as the user wrote it (relative stays relative), read from the resolved path
            shown = os.path.normpath(os.path.join(os.path.dirname(origin.path or ""), raw))
            source = load_source(shown if Path(shown).absolute() == path else path, kind="yaml")
        except HarnessError as err:
            self.problems.add(err)
            return None
        data = _plain(source.data)
        origin_there = Origin(source.path, "", source)
        if not isinstance(data, dict):
            self.error(SchemaError, "expected a parts file (a mapping with `turns` and/or `defaults`), "
                                    f"found {describe_value(data)}", origin_there)
            return None
        if not self.schema_problems(data, origin_there, parts_validator()):
            return None
        self.parts[path] = (source, data)
        return self.parts[path]

    def file_defaults(self, data: dict[str, Any]) -> dict[str, Any]:
        """Parts files' defaults (in order), then the file-level channel/user, then `defaults:`."""
        merged: dict[str, Any] = {}
        for index, raw in enumerate(data.get("include") or ()):
            found = self.part(raw, self.root.child("include", index))
            if found is not None:
                _merge_defaults(merged, found[1].get("defaults") or {})
        _merge_defaults(merged, {key: data[key] for key in ("channel", "user") if key in data})
        _merge_defaults(merged, data.get("defaults") or {})
        return merged

    def spliced_turns(self, turns: Sequence[Any], origin: Origin, stack: tuple[Path, ...]
                      ) -> list[tuple[dict[str, Any], Origin]]:
        """The turns with every `- include: FILE` replaced by that file's turns (recursively)."""
        result: list[tuple[dict[str, Any], Origin]] = []
        for index, turn in enumerate(turns):
            here = origin.child(index)
            if "include" not in turn:
                result.append((turn, here))
                continue
            path = self.resolve(turn["include"], here)
            if path in stack:
                chain = " → ".join(p.name for p in (*stack, path))
                self.error(ReferenceProblem, f"circular include: {chain}", here.child("include"))
                continue
            found = self.part(turn["include"], here.child("include"))
            if found is None:
                continue
            source, part = found
            if "turns" not in part:
                self.error(ReferenceProblem, f"{turn['include']} has no `turns` to include",
                           here.child("include"))
                continue
            result.extend(self.spliced_turns(part["turns"], Origin(source.path, "/turns", source),
                                             (*stack, path)))
        return result

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
            for row_id, row in self.rows(raw, origin):
                scenario = self.scenario(raw, origin, turns, defaults, seed, row_id, row)
                if scenario is not None:
                    built.append(scenario)
        return built

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
            row_id = _row_id(row, index)
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
    ) -> Scenario | None:
        before = len(self.problems)
        params = (row_id,) if row_id is not None else ()
        scenario_id = f"{raw['name']}[{row_id}]" if row_id is not None else raw["name"]
        render = _Renderer(row, seed, scenario_id)

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
        built_turns = []
        for turn_raw, turn_origin in turns:
            turn = self.turn(render.tree(turn_raw, turn_origin, self.problems), turn_origin)
            if turn is not None:
                built_turns.append(turn)
        expect = self.scenario_expect(render.tree(raw.get("expect") or {}, origin.child("expect"),
                                                  self.problems), origin.child("expect"))
        scenario = Scenario(
            name=raw["name"],
            turns=tuple(built_turns),
            expect=expect,
            params=params,
            tags=tuple(tags),
            target_task=value("target_task"),
            memory=memory,
            channel=value("channel") or DEFAULT_CHANNEL,
            user=_as_text(user) if user is not None else None,
            row=row,
            description=raw.get("description"),
            origin=origin,
            provider_state=value("provider_state"),
            replay=self.replay(render.tree(raw["replay"], origin.child("replay"), self.problems), origin)
            if "replay" in raw else None,
        )
        if scenario.variant_count > MAX_VARIANT_COMBINATIONS:
            self.error(SchemaError, f"{scenario.variant_count} variant combinations (at most "
                                    f"{MAX_VARIANT_COMBINATIONS}): split the scenario", origin.child("turns"))
        return scenario if len(self.problems) == before else None

    def replay(self, raw: dict[str, Any], origin: Origin) -> ReplaySpec | None:
        return parse_replay(raw, file=lambda path, at: self.file(path, origin.child(*at)),
                            problem=lambda message, at: self.error(SchemaError, message, origin.child(*at)))

    def turn(self, raw: dict[str, Any], origin: Origin) -> TurnSpec | None:
        expect = self.turn_expect(raw.get("expect") or {}, origin.child("expect"))
        variants = tuple(_as_text(v) for v in raw.get("variants") or ())
        user = raw.get("user")
        wait = _seconds(raw["wait"]) if "wait" in raw else None
        return TurnSpec(user=_as_text(user) if user is not None else None, expect=expect,
                        variants=variants, origin=origin, wait=wait)

    def turn_expect(self, raw: dict[str, Any], origin: Origin) -> TurnExpect:
        confidence = None
        if "confidence" in raw:
            try:
                confidence = Comparison.parse(raw["confidence"])
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
        return TurnExpect(
            task=raw.get("task"), confidence=confidence, next_best_task=raw.get("next_best_task"),
            fields=fields, replies=replies, memory=raw.get("memory"), ended=raw.get("ended"),
            no_task="task" in raw and raw["task"] is None, origin=origin,
        )

    def text_match(self, raw: Any, origin: Origin) -> TextMatch:
        if not isinstance(raw, dict):
            return TextMatch("equals", _as_text(raw))
        ((kind, value),) = raw.items()
        if kind == "one_of":
            return TextMatch(kind, tuple(_as_text(v) for v in value))
        if kind == "regex":
            try:
                re.compile(value)
            except re.error as err:
                self.error(SchemaError, f"invalid regex: {err}", origin.child("regex"))
        return TextMatch(kind, _as_text(value))

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
        handoff: FlexHandoffExpect | HttpHandoffExpect | None = None
        if "handoff" in raw:
            handoff = self.handoff(raw["handoff"], origin.child("handoff"))
        return ScenarioExpect(flow=flow, messages=messages, handoff=handoff,
                              no_handoff=bool(raw.get("no_handoff", False)), memory=raw.get("memory"),
                              ended=raw.get("ended"), origin=origin)

    def message(self, raw: Any, origin: Origin) -> MessageExpect:
        is_check = not isinstance(raw, dict) or set(raw) <= {"equals", "contains", "regex", "one_of"}
        if is_check:
            return MessageExpect(body=self.text_match(raw, origin))
        body = self.text_match(raw["body"], origin.child("body")) if "body" in raw else None
        return MessageExpect(body=body, sender=raw.get("from"), to=raw.get("to"), channel=raw.get("channel"),
                             widget=raw.get("widget"))

    def handoff(self, raw: dict[str, Any], origin: Origin) -> FlexHandoffExpect | HttpHandoffExpect:
        if "flex" in raw:
            spec = raw["flex"]
            here = origin.child("flex")
            return FlexHandoffExpect(
                attributes=spec.get("attributes"),
                attributes_schema=self.json_schema(spec.get("attributes_schema"),
                                                   here.child("attributes_schema")),
                workflow=spec.get("workflow"), channel=spec.get("channel"), queue=spec.get("queue"),
                priority=spec.get("priority"),
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

    def json_schema(self, raw: Any, origin: Origin) -> dict[str, Any] | None:
        if raw is None:
            return None
        schema = raw
        if isinstance(raw, str):
            path = self.file(raw, origin)
            if path is None:
                return None
            try:
                schema = _plain(load_source(path).data)
            except HarnessError as err:
                self.problems.add(err)
                return None
        return self.checked_schema(schema, origin)

    def checked_schema(self, schema: Any, origin: Origin) -> dict[str, Any] | None:
        from jsonschema.exceptions import SchemaError as BadSchema
        from jsonschema.validators import validator_for

        if not isinstance(schema, dict):
            self.error(SchemaError, f"expected a JSON Schema object, found {describe_value(schema)}", origin)
            return None
        try:
            validator_for(schema, default=Draft202012Validator).check_schema(schema)
        except BadSchema as err:
            where = "/".join(str(p) for p in err.absolute_path)
            self.error(SchemaError, f"not a valid JSON Schema: {err.message}" + (f" (at {where})" if where
                                                                                 else ""), origin)
            return None
        return schema


_ONE_KEY = re.compile(r"an action has exactly one key, found (\d+) \((.*)\); put each in its own element")


_KEY_EXPECTED = {
    "bot": "an assistant SID (UA and 32 hex digits)",
    "workflow": "a Workflow SID (WW and 32 hex digits)",
    "subflows": "a flow SID (FW and 32 hex digits)",
    "url_map": "an http(s) URL prefix",
}


def _seconds(value: Any) -> float:
    """`wait:` as seconds: a number, or '90', '30s', '15m', '4h' (the schema has checked the form)."""
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    unit = {"s": 1, "m": 60, "h": 3600}.get(text[-1:], 1)
    return float(text.rstrip("smh").strip()) * unit


def _schema_message(message: str, pointer: str) -> str:
    """The shared jsonschema wording, adjusted where it speaks of Actions or reads badly here."""
    if message.startswith("invalid key ") and message.endswith("expected digits, '*' or '#'"):
        wanted = _KEY_EXPECTED.get(pointer.rsplit("/", 1)[-1], "a valid key")  # the shared text is Actions'
        return message.rsplit(":", 1)[0] + f": expected {wanted}"
    if message.startswith("ambiguous: matches more than one of exactly one of"):
        return "a turn has exactly one of `user`, `variants`, `wait` or `include`; found more than one"
    if message.startswith("empty action {}"):  # shared wording is about Actions; ours are one-key objects
        return "expected exactly one key, found an empty object"
    one_key = _ONE_KEY.fullmatch(message)
    if one_key:
        return f"expected exactly one key, found {one_key.group(1)} ({one_key.group(2)})"
    return message


def _merge_defaults(into: dict[str, Any], new: Mapping[str, Any]) -> None:
    for key, value in new.items():
        if key == "memory":
            into["memory"] = {**into.get("memory", {}), **value}
        elif key == "tags":
            into["tags"] = list(into.get("tags", [])) + [t for t in value if t not in into.get("tags", [])]
        else:
            into[key] = value


_ID_UNSAFE = re.compile(r"[\s\[\]]+")


def _row_id(row: Mapping[str, Any], index: int) -> str:
    """The row's `id`, else its scalar values joined by '-' (short), else `row<N>` (1-based)."""
    if "id" in row:
        return _as_text(row["id"])
    values = list(row.values())
    if all(isinstance(v, str | int | float | bool) and not isinstance(v, dict) for v in values):
        text = "-".join(_ID_UNSAFE.sub("_", _as_text(v)).strip("_") for v in values)
        if text and len(text) <= 40 and "{{" not in text:
            return text
    return f"row{index + 1}"
