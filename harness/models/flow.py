"""Typed model and loader of a Twilio Studio flow definition (the v2 format), checked before anything runs.

Accepted input (docs/studio-flows.md): the bare definition the console's "Export to JSON" gives
(`{description, states, initial_state, flags}`), or a wrapper holding it under `definition` (the REST Flow
resource, or `{"friendly_name": …, "definition": {…}}`; `definition` may also be a JSON string). JSON or
YAML by file suffix.

Checks, all collected and raised together (`raise_all`), each with a file, a JSON Pointer and a line:

- shape: our JSON Schema `harness/schemas/flow.schema.json` (draft 2020-12). A fast Python check with the
  same rules runs first; jsonschema only runs to explain a document the fast check rejected;
- state names are unique; every `next` and `initial_state` names a state (`ReferenceProblem`);
- a known widget type only uses its events, each at most once (`match` may repeat on split-based-on), has its
  required properties, and its properties have the right kind (`harness.models.widget_specs`);
- a split-based-on `match` transition has at least one well-formed condition (17 condition types);
- send-to-flex `attributes` is a string (JSON rendered with Liquid), not an object;
- the pre-2019 export format (`InitialState`/`Gather`/`Branch` types, `FF…` state SIDs, no `initial_state`)
  is rejected with one message saying how to get a v2 export.

Non-fatal findings become `Flow.warnings`: unknown widget types (run as a generic pass-through by the
engine), types Twilio knows but we have no table for, unknown property keys of known widgets (typos),
and conditions on transitions other than `match` (Studio ignores them).

Choices where the sources are thin [uncertain]:
- a missing event entry, a missing `next`, `"next": ""` and `"next": null` all end the execution;
- a property set to `null` counts as absent (a required one is then missing);
- a condition `value` may be a number as well as a string; `arguments` needs at least one element;
- unknown top-level, state and transition keys are allowed (Twilio's own schema is only partly published).
  Deploy-time placeholders such as `${WORKFLOW_SID}` are plain strings: no SID format is checked.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from harness.errors import (
    HarnessError,
    LoadError,
    Location,
    ReferenceProblem,
    SchemaError,
    escape_pointer,
    raise_all,
)
from harness.models.json_schema import describe_value, jsonschema_messages, load_schema
from harness.models.widget_specs import (
    LEGACY_TYPES,
    MATCH_EVENT,
    SPLIT_CONDITION_TYPES,
    WIDGET_SPECS,
    PropertyKind,
    WidgetSpec,
    widget_spec,
)
from harness.sources import Source, load_source, loads_json, source_from_data

FLOW_SCHEMA_ID = "https://autopilot-harness.dev/schemas/flow.schema.json"
TWILIO_SCHEMA_URI = "https://schemas.twilio.com/studio/draft/2019-09/flow-definition"
MAX_STATES = 1000

LEGACY_MESSAGE = (
    "this is a pre-2019 Studio flow export (legacy format: widget types such as 'InitialState', 'Gather' "
    "and 'Branch', 'FF…' state SIDs, no 'initial_state'); Studio's v2 API and this kit accept only the "
    "current (v2) format"
)
LEGACY_HINT = (
    "convert it by re-exporting the flow from the Twilio Console (Studio → the flow → Trigger widget → "
    "'Show Flow JSON', or Export to JSON), or fetch it with the v2 REST API (GET /v2/Flows/FW…) and save "
    "its 'definition'"
)
ATTRIBUTES_HINT = (
    "Studio renders 'attributes' with Liquid and parses the result as JSON, so write the object as a "
    'string, e.g. "{\\"name\\": \\"{{trigger.message.From}}\\"}"'
)


# --- the model -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    """One outgoing edge: `event` → `next` (None ends the execution)."""

    event: str
    next: str | None = None
    conditions: tuple[dict[str, Any], ...] = field(default=(), compare=False)  # split `match` only, raw
    pointer: str = ""


@dataclass(frozen=True)
class State:
    """One widget. `properties` stay raw (mostly Liquid templates); the engine renders them."""

    name: str
    type: str
    transitions: tuple[Transition, ...] = ()
    properties: dict[str, Any] = field(default_factory=dict, compare=False)
    pointer: str = ""
    _by_event: dict[str, Transition] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_event: dict[str, Transition] = {}
        for transition in self.transitions:
            by_event.setdefault(transition.event, transition)  # first wins, as for `match`
        object.__setattr__(self, "_by_event", by_event)

    def transition(self, event: str) -> Transition | None:
        """The (first) transition for `event`, or None when the widget has no entry for it."""
        return self._by_event.get(event)

    def has_event(self, event: str) -> bool:
        """Whether the widget lists `event` (with or without a `next`)."""
        return event in self._by_event

    def next_for(self, event: str) -> str | None:
        """The state to go to after `event`; None ends the execution (no entry, or an entry without next)."""
        transition = self._by_event.get(event)
        return transition.next if transition is not None else None

    @property
    def match_transitions(self) -> tuple[Transition, ...]:
        """A split-based-on's `match` transitions, in the order they are tested."""
        return tuple(t for t in self.transitions if t.event == MATCH_EVENT)

    @property
    def spec(self) -> WidgetSpec | None:
        """Our table entry for this widget type (None: unknown type, run as a pass-through)."""
        return WIDGET_SPECS.get(self.type)


@dataclass(frozen=True)
class Flow:
    """One Studio flow definition, checked. `raw` is the definition as loaded."""

    description: str
    states: tuple[State, ...]
    initial_state: str
    flags: dict[str, Any] = field(default_factory=dict, compare=False)
    path: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    warnings: tuple[HarnessError, ...] = field(default=(), compare=False)
    friendly_name: str | None = None  # from a REST Flow resource wrapper, when present
    sid: str | None = None  # "FW…" from a REST Flow resource wrapper, when present
    source: Source | None = field(default=None, repr=False, compare=False)
    _by_name: dict[str, State] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {state.name: state for state in self.states})

    def state(self, name: str) -> State | None:
        """The state called `name`, or None."""
        return self._by_name.get(name)

    @property
    def initial(self) -> State:
        """The state executions start at (the Trigger widget)."""
        return self._by_name[self.initial_state]

    @property
    def conversations_only(self) -> bool:
        """A Flex Conversations flow: its Trigger starts from incomingConversationMessage and not from
        incomingMessage, so messages arrive without Programmable Chat's channel attributes and Send to
        Flex adds the customer's address itself (reference/taskrouter.md §4.2)."""
        trigger = self._by_name.get(self.initial_state)
        return (trigger is not None and trigger.next_for("incomingConversationMessage") is not None
                and trigger.next_for("incomingMessage") is None)

    @property
    def state_names(self) -> tuple[str, ...]:
        return tuple(state.name for state in self.states)

    @property
    def allow_concurrent_calls(self) -> bool:
        """Twilio's default is on for flows created after 2018-10-01."""
        return bool(self.flags.get("allow_concurrent_calls", True))

    def location(self, pointer: str = "") -> Location:
        """Where `pointer` is in the flow's file, with a line when the file's text is known."""
        if self.source is not None:
            return self.source.locate(pointer)
        return Location(self.path, pointer)


# --- loading -------------------------------------------------------------------------------------------


def load_flow(path: str | Path) -> Flow:
    """Read, check and model a Studio flow file; raises `HarnessError`s naming every problem found."""
    return flow_from_source(load_source(path))


def flow_from_dict(data: Any, *, path: str | None = None) -> Flow:
    """Check and model a flow already parsed (no text, so locations carry pointers but no lines)."""
    return flow_from_source(source_from_data(data, path=path))


def flow_from_source(source: Source) -> Flow:
    """Check and model the flow in a parsed `Source`."""
    base, definition, wrapper = _unwrap(source)
    if _is_legacy(definition):
        raise LoadError(LEGACY_MESSAGE, source.locate(base), hint=LEGACY_HINT)
    checker = _Checker(source, base, definition)
    checker.run()
    raise_all(checker.problems)
    return _build(source, base, definition, wrapper, tuple(checker.warnings))


@functools.cache
def flow_validator() -> Draft202012Validator:
    """Our flow JSON Schema, compiled once per process."""
    return Draft202012Validator(load_schema("flow.schema.json"))


def _unwrap(source: Source) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(pointer of the definition, the definition, the wrapper or {}) for a bare or wrapped definition."""
    data = source.data
    if not isinstance(data, dict):
        raise SchemaError(
            "expected a Studio flow definition (a JSON object with 'states' and 'initial_state'), "
            f"found {describe_value(data)}",
            source.locate(""),
        )
    if "states" in data or "definition" not in data:
        return "", data, {}
    definition = data["definition"]
    where = source.locate("/definition")
    if definition is None:
        raise SchemaError(
            "'definition' is null: the Flows list endpoint leaves it out",
            where,
            hint="fetch the single flow (GET /v2/Flows/FW…) or export it from the console",
        )
    if isinstance(definition, str):  # some tools store the definition as a JSON string
        try:  # strict, as for the file itself: no duplicate keys, nesting capped
            definition = loads_json(definition)
        except LoadError as err:
            raise LoadError(f"'definition' is a string but not valid JSON: "
                            f"{err.message.removeprefix('malformed JSON: ')}", where, err.hint) from None
    if not isinstance(definition, dict):
        raise SchemaError(f"'definition' must be an object, found {describe_value(definition)}", where)
    return "/definition", definition, data


def _is_legacy(definition: dict[str, Any]) -> bool:
    states = definition.get("states")
    if not isinstance(states, list):
        return False
    no_initial_state = "initial_state" not in definition
    for state in states:
        if not isinstance(state, dict):
            continue
        widget_type = state.get("type")
        sid = state.get("sid")
        if isinstance(widget_type, str) and widget_type in LEGACY_TYPES:
            return True
        if isinstance(sid, str) and sid.startswith("FF"):
            return True
        if no_initial_state and isinstance(widget_type, str) and widget_type[:1].isupper():
            return True
    return False


def _build(
    source: Source, base: str, definition: dict[str, Any], wrapper: dict[str, Any],
    warnings: tuple[HarnessError, ...],
) -> Flow:
    states = []
    for index, raw_state in enumerate(definition["states"]):
        state_pointer = f"{base}/states/{index}"
        transitions = tuple(
            Transition(
                event=raw["event"],
                next=raw.get("next") or None,
                conditions=tuple(raw.get("conditions") or ()),
                pointer=f"{state_pointer}/transitions/{position}",
            )
            for position, raw in enumerate(raw_state["transitions"])
        )
        states.append(State(raw_state["name"], raw_state["type"], transitions, raw_state["properties"],
                            state_pointer))
    friendly_name = wrapper.get("friendly_name")
    sid = wrapper.get("sid")
    return Flow(
        description=definition.get("description", ""),
        states=tuple(states),
        initial_state=definition["initial_state"],
        flags=definition.get("flags", {}),
        path=source.path,
        raw=definition,
        warnings=warnings,
        friendly_name=friendly_name if isinstance(friendly_name, str) else None,
        sid=sid if isinstance(sid, str) else None,
        source=source,
    )


# --- checks --------------------------------------------------------------------------------------------


class _Checker:
    """Collects every problem (and warning) of one definition; defensive about broken shapes."""

    def __init__(self, source: Source, base: str, definition: dict[str, Any]) -> None:
        self.source = source
        self.base = base
        self.definition = definition
        self.problems: list[HarnessError] = []
        self.warnings: list[HarnessError] = []
        states = definition.get("states")
        self.states: list[Any] = states if isinstance(states, list) else []

    def locate(self, pointer: str) -> Location:
        return self.source.locate(self.base + pointer)

    def error(self, kind: Callable[..., HarnessError], message: str, pointer: str, hint: str | None = None
              ) -> None:
        self.problems.append(kind(message, self.locate(pointer), hint))

    def warn(self, kind: Callable[..., HarnessError], message: str, pointer: str, hint: str | None = None
             ) -> None:
        self.warnings.append(kind(message, self.locate(pointer), hint))

    def label(self, index: int) -> str:
        """`state 'name' (type)`, or `state #index` when the name is unusable."""
        state = self.states[index] if index < len(self.states) else None
        if not isinstance(state, dict) or not isinstance(state.get("name"), str):
            return f"state #{index}"
        widget_type = state.get("type")
        suffix = f" ({widget_type})" if isinstance(widget_type, str) and widget_type else ""
        return f"state '{state['name']}'{suffix}"

    def run(self) -> None:
        if not is_valid_shape(self.definition):
            self.schema_problems()
        names = self.check_names()
        self.check_initial_state(names)
        for index, state in enumerate(self.states):
            if isinstance(state, dict):
                self.check_state(index, state, names)
        self.problems.sort(key=_reading_order)

    def schema_problems(self) -> None:
        for pointer, message in jsonschema_messages(flow_validator(), self.definition):
            parts = pointer.split("/")
            if pointer == "/states" and len(self.states) > MAX_STATES:  # jsonschema would print them all
                message = f"a flow has at most {MAX_STATES} states (Studio's limit), found {len(self.states)}"
            if parts[-1] == "type" and "conditions" in parts:
                condition_type = _value_at(self.definition, parts[1:])
                if isinstance(condition_type, str):
                    message = (f"unknown condition type '{condition_type}'"
                               f"{_did_you_mean(condition_type, SPLIT_CONDITION_TYPES)}; the types are: "
                               f"{', '.join(SPLIT_CONDITION_TYPES)}")
            if len(parts) >= 3 and parts[1] == "states" and parts[2].isdigit():
                message = f"{self.label(int(parts[2]))}: {message}"
            self.error(SchemaError, message, pointer)

    def check_names(self) -> dict[str, int]:
        names: dict[str, int] = {}
        for index, state in enumerate(self.states):
            name = state.get("name") if isinstance(state, dict) else None
            if not isinstance(name, str) or not name:
                continue
            if name in names:
                first = f"/states/{names[name]}"
                self.error(SchemaError,
                           f"state name '{name}' is used twice (first at {self.base}{first}); "
                           "widget names must be unique in a flow",
                           f"/states/{index}/name")
            else:
                names[name] = index
        return names

    def check_initial_state(self, names: dict[str, int]) -> None:
        initial = self.definition.get("initial_state")
        if isinstance(initial, str) and initial and names and initial not in names:
            hint = _did_you_mean(initial, names)
            self.error(ReferenceProblem, f"initial_state '{initial}' is not a state of this flow{hint}",
                       "/initial_state")

    def check_state(self, index: int, state: dict[str, Any], names: dict[str, int]) -> None:
        pointer = f"/states/{index}"
        label = self.label(index)
        widget_type = state.get("type")
        spec = widget_spec(widget_type) if isinstance(widget_type, str) else None
        if isinstance(widget_type, str) and widget_type and spec is None:
            self.warn(SchemaError,
                      f"{label}: unknown widget type '{widget_type}'"
                      f"{_did_you_mean(widget_type, WIDGET_SPECS)}; the engine runs it as a generic "
                      "pass-through",
                      f"{pointer}/type")
        elif spec is not None and spec.events is None:
            self.warn(SchemaError,
                      f"{label}: widget type '{widget_type}' is a Twilio type this kit has no table for; "
                      "its events and properties are not checked",
                      f"{pointer}/type")
        transitions = state.get("transitions")
        if isinstance(transitions, list):
            self.check_transitions(pointer, label, spec, transitions, names)
        properties = state.get("properties")
        if isinstance(properties, dict) and spec is not None and spec.properties is not None:
            self.check_properties(pointer, label, spec, properties)

    def check_transitions(
        self, pointer: str, label: str, spec: WidgetSpec | None, transitions: list[Any], names: dict[str, int]
    ) -> None:
        seen: dict[str, int] = {}
        for position, transition in enumerate(transitions):
            if not isinstance(transition, dict):
                continue
            here = f"{pointer}/transitions/{position}"
            event = transition.get("event")
            if not isinstance(event, str) or not event:
                continue
            target = transition.get("next")
            if isinstance(target, str) and target and names and target not in names:
                self.error(ReferenceProblem,
                           f"{label}: transition '{event}' goes to '{target}', which is not a state of this "
                           f"flow{_did_you_mean(target, names)}",
                           f"{here}/next")
            if spec is not None and spec.events is not None:
                if event not in spec.events:
                    events = ", ".join(sorted(spec.events))
                    self.error(SchemaError,
                               f"{label}: '{event}' is not an event of {spec.type}"
                               f"{_did_you_mean(event, spec.events)}; its events are: {events}",
                               f"{here}/event")
                elif event in seen and event not in spec.repeatable_events:
                    self.error(SchemaError,
                               f"{label}: event '{event}' has two transitions (first at "
                               f"{self.base}{pointer}/transitions/{seen[event]}); a widget follows one edge "
                               "per event",
                               f"{here}/event")
            seen.setdefault(event, position)
            conditions = transition.get("conditions")
            is_split = spec is not None and MATCH_EVENT in spec.repeatable_events
            if event == MATCH_EVENT and is_split:
                if not isinstance(conditions, list) or not conditions:
                    self.error(SchemaError,
                               f"{label}: a 'match' transition needs at least one condition "
                               "({friendly_name, arguments, type, value})",
                               here)
            elif isinstance(conditions, list) and conditions:
                self.warn(SchemaError,
                          f"{label}: conditions on the '{event}' transition are ignored; Studio tests "
                          "conditions only on the 'match' transitions of split-based-on",
                          f"{here}/conditions")

    def check_properties(
        self, pointer: str, label: str, spec: WidgetSpec, properties: dict[str, Any]
    ) -> None:
        here = f"{pointer}/properties"
        for key in spec.required_for(properties):
            if properties.get(key) is None:
                self.error(SchemaError, f"{label}: missing required property '{key}'", here)
        known = spec.properties or {}
        for key, value in properties.items():
            kind = known.get(key)
            if kind is None:
                self.warn(SchemaError,
                          f"{label}: unknown property '{key}'{_did_you_mean(key, known)}; "
                          "the engine ignores it",
                          f"{here}/{escape_pointer(key)}")
            elif value is not None:
                for sub_pointer, problem in _kind_problems(value, kind):
                    hint = ATTRIBUTES_HINT if spec.type == "send-to-flex" and key == "attributes" else None
                    self.error(SchemaError, f"{label}: property '{key}' {problem}",
                               f"{here}/{escape_pointer(key)}{sub_pointer}", hint)
        for key, choices in spec.choices.items():
            value = properties.get(key)
            # Liquid or a ${PLACEHOLDER} is only known at run time (the engine checks the rendered value).
            if not isinstance(value, str) or any(mark in value for mark in ("{{", "{%", "${")):
                continue
            if not choices.allows(value):
                allowed = " or ".join(choices.values)
                extra = " (a ;charset=… parameter is fine)" if choices.media_type else ""
                self.error(SchemaError, f"{label}: property '{key}' is {value!r}; {spec.type} takes "
                           f"{allowed}{extra}", f"{here}/{escape_pointer(key)}")


_KIND_WORDS: dict[str, str] = {
    "string": "a string",
    "scalar": "a string, number or boolean",
    "object": "an object",
    "pairs": "a list of {key, value} objects",
    "strings": "a list of strings",
}


def _kind_problems(value: Any, kind: PropertyKind) -> Iterator[tuple[str, str]]:
    """(pointer below the property, message) for each way `value` is not of `kind`."""
    if kind == "any":
        return
    if kind == "string":
        ok = isinstance(value, str)
    elif kind == "scalar":
        ok = isinstance(value, str | int | float | bool)
    elif kind == "object":
        ok = isinstance(value, dict)
    else:
        ok = isinstance(value, list)
    if not ok:
        yield "", f"must be {_KIND_WORDS[kind]}, found {describe_value(value)}"
        return
    if kind == "strings":
        for position, item in enumerate(value):
            if not isinstance(item, str):
                yield f"/{position}", f"item {position} must be a string, found {describe_value(item)}"
    elif kind == "pairs":
        for position, item in enumerate(value):
            if not isinstance(item, dict):
                found = describe_value(item)
                yield f"/{position}", f"item {position} must be a {{key, value}} object, found {found}"
            elif not isinstance(item.get("key"), str) or not item["key"]:
                yield f"/{position}", f"item {position} needs a non-empty string 'key'"
            elif "value" not in item:
                yield f"/{position}", f"item {position} ('{item['key']}') needs a 'value'"


def _value_at(document: Any, parts: list[str]) -> Any:
    """The value at a split JSON Pointer (without its leading empty part), or None when absent."""
    for part in parts:
        if isinstance(document, list) and part.isdigit() and int(part) < len(document):
            document = document[int(part)]
        elif isinstance(document, dict):
            document = document.get(part.replace("~1", "/").replace("~0", "~"))
        else:
            return None
    return document


def _did_you_mean(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _reading_order(error: HarnessError) -> tuple[int, tuple[tuple[int, Any], ...]]:
    """Problems sorted by line (as a reader meets them), then by JSON Pointer."""
    location = error.location or Location()
    pointer_key = tuple((0, int(p)) if p.isdigit() else (1, p) for p in location.pointer.split("/"))
    return location.line or 0, pointer_key


# --- the fast shape check: the same rules as flow.schema.json, in plain Python ---------------------------

_CONDITION_TYPES = frozenset(SPLIT_CONDITION_TYPES)


def is_valid_shape(definition: Any) -> bool:
    """True when `definition` satisfies flow.schema.json (tests keep the two in step)."""
    if not isinstance(definition, dict):
        return False
    if "$schema" in definition and definition["$schema"] != TWILIO_SCHEMA_URI:
        return False
    if "description" in definition and not isinstance(definition["description"], str):
        return False
    initial = definition.get("initial_state")
    if not isinstance(initial, str) or not initial:
        return False
    if "flags" in definition:
        flags = definition["flags"]
        if not isinstance(flags, dict) or not isinstance(flags.get("allow_concurrent_calls"), bool):
            return False
    states = definition.get("states")
    if not isinstance(states, list) or not 1 <= len(states) <= MAX_STATES:
        return False
    return all(_valid_state(state) for state in states)


def _nonempty_str(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _valid_state(state: Any) -> bool:
    if not isinstance(state, dict):
        return False
    if not _nonempty_str(state.get("name")) or not _nonempty_str(state.get("type")):
        return False
    if not isinstance(state.get("properties"), dict):
        return False
    transitions = state.get("transitions")
    return isinstance(transitions, list) and all(_valid_transition(t) for t in transitions)


def _valid_transition(transition: Any) -> bool:
    if not isinstance(transition, dict) or not _nonempty_str(transition.get("event")):
        return False
    if "next" in transition and not (transition["next"] is None or isinstance(transition["next"], str)):
        return False
    if "conditions" not in transition:
        return True
    conditions = transition["conditions"]
    return isinstance(conditions, list) and all(_valid_condition(c) for c in conditions)


def _valid_condition(condition: Any) -> bool:
    if not isinstance(condition, dict) or not isinstance(condition.get("friendly_name"), str):
        return False
    arguments = condition.get("arguments")
    if not isinstance(arguments, list) or not arguments or not all(isinstance(a, str) for a in arguments):
        return False
    condition_type = condition.get("type")
    if not isinstance(condition_type, str) or condition_type not in _CONDITION_TYPES:
        return False
    value = condition.get("value", None)
    return "value" in condition and isinstance(value, str | int | float) and not isinstance(value, bool)
