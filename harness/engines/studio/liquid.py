"""Studio's Liquid: one python-liquid environment configured the way Twilio Studio renders templates.

Three lifetimes, like the rest of the Studio engine: a `StudioLiquid` (configuration, caches) compiles
each template text ONCE into a `CompiledTemplate`; an execution renders it many times with a context
built by `studio_context`.

Dialect (see docs/liquid-and-splits.md for the sources and the full table):

- **Lax undefined.** A missing variable, or an attribute of one (`{{widgets.Missing.memory.x}}`),
  renders as "" and is falsy in `{% if %}`; indexing into a string is undefined too. Studio never raises
  for an unknown path (`| default: "…"` is the documented idiom), so neither do we.
- **Syntax errors are errors.** Parsing is strict: a bad tag or expression raises `SchemaError` with the
  template's name and the Liquid line/column. One exception, on purpose: an output statement opened
  with `{{` and never closed (`"{{flow.variables.reservation_id"` in a real published flow) renders as
  literal text and is reported in `CompiledTemplate.warnings` [uncertain: what Studio did is not
  documented; `unterminated_output="error"` makes it an error].
- **Unknown filters** are reported when the template is compiled (`unknown_filters="error"`, the
  default) [uncertain: Shopify's lax Liquid ignores them; a test kit should not].
- **Objects in output.** `{{widgets.http.parsed}}` renders a dict or list as compact JSON
  [uncertain: Studio's exact formatting is undocumented; `objects_as="liquid"` restores python-liquid's
  own rendering]. `true`/`false` render in lower case, `nil` as "".
- **`to_json`** serialises any value as compact JSON: objects, arrays, strings (quoted), numbers,
  booleans; nil *and undefined* become `null`, so `"memory": {{widgets.ChatBot.memory | to_json}}` stays
  valid JSON when the widget never ran [uncertain, reference §3.1 [I]].
- **`ChannelAttributes`** arrives as a JSON *string* on `trigger.message` / `trigger.conversation`.
  `studio_context` replaces it with a `JsonText`: a dict of the parsed attributes (so
  `{{trigger.message.ChannelAttributes.from}}` works) that still renders as the original text in an
  output statement and in string filters. `| to_json` gives the parsed object.
- **Whitespace inside paths.** `{{ trigger.conversation. ChannelAttributes.memory }}` and a newline after
  a dot (both in real flows) resolve as if the whitespace were absent, as Shopify's lax parser does;
  python-liquid's tokenizer already skips whitespace between path segments.
- **Hyphens** are allowed in names (`widgets.new-customer-send-reply.inbound.Body`).
- **`date`** reads "now"/"today" from the harness clock and shows times in Studio's time zone,
  America/Los_Angeles ("PST" in Twilio's docs); a value with an offset (`…Z`, epoch seconds) is
  converted to it, a naive value is shown as written [uncertain: configurable with `timezone=`].
- Loops are capped at `loop_limit` iterations per template render (a guard for the step loop's speed).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from liquid import Environment, Mode, Undefined
from liquid.builtin.filters.misc import date as _builtin_date
from liquid.builtin.output import Output, OutputNode
from liquid.builtin.tags.echo_tag import EchoNode, EchoTag
from liquid.exceptions import FilterArgumentError, LiquidError, LiquidSyntaxError
from liquid.filter import with_environment
from liquid.stringify import to_liquid_string

from harness.clock import Clock, SystemClock
from harness.errors import EngineError, Location, SchemaError, escape_pointer

STUDIO_TIMEZONE = "America/Los_Angeles"
DEFAULT_LOOP_LIMIT = 10_000

#: The roots of a Studio execution context (reference/studio.md §3.2).
CONTEXT_ROOTS = ("trigger", "widgets", "flow", "contact")
#: Trigger kinds found under `trigger.` (one per execution).
TRIGGER_KINDS = ("message", "call", "conversation", "request", "parent")


def is_template(text: object) -> bool:
    """True when `text` is a string holding Liquid markup (`{{` or `{%`); a fast check, no parsing."""
    return isinstance(text, str) and ("{{" in text or "{%" in text)


# --- values -------------------------------------------------------------------------------------------


class JsonText(dict):
    """A JSON object that arrived as text (`ChannelAttributes`): a dict for path lookups, the original
    text when output or passed to a string filter."""

    __slots__ = ("text",)

    def __init__(self, text: str, parsed: Mapping[str, Any]) -> None:
        super().__init__(parsed)
        self.text = text

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"JsonText({self.text!r})"


def parse_channel_attributes(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a trigger payload whose `ChannelAttributes` JSON string is readable by path.

    Text that is not a JSON object stays a plain string (paths into it are then undefined, as in Studio).
    """
    copy = dict(payload)
    raw = copy.get("ChannelAttributes")
    if isinstance(raw, str) and raw.lstrip().startswith("{"):
        try:
            parsed = json.loads(raw)
        except ValueError:
            return copy
        if isinstance(parsed, dict):
            copy["ChannelAttributes"] = JsonText(raw, parsed)
    return copy


def studio_context(
    trigger: Mapping[str, Any] | None = None,
    widgets: Mapping[str, Any] | None = None,
    flow: Mapping[str, Any] | None = None,
    contact: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The Liquid context of one Studio execution.

    Roots (reference/studio.md §3.2):

    - `trigger.message|call|conversation|request|parent.*` — the webhook that started the execution,
      verbatim; `ChannelAttributes` (a JSON string) is parsed, see `parse_channel_attributes`.
    - `widgets.<name>.*` — each widget's outputs once it has run (`inbound.Body`, `parsed.x`, `memory`…).
    - `flow.flow_sid` (FW…), `flow.sid` (the *execution* SID, FN…), `flow.channel.address` (the Twilio
      side), `flow.data.*` (REST `Parameters`), `flow.variables.*` (Set Variables).
    - `contact.channel.address` — the end user's address.

    `widgets`, `flow` and `contact` are kept by reference (an execution updates them in place between
    steps); only the trigger payloads are copied, once, to parse their `ChannelAttributes`.
    """
    parsed_trigger: dict[str, Any] = {}
    for kind, payload in (trigger or {}).items():
        if isinstance(payload, Mapping) and "ChannelAttributes" in payload:
            parsed_trigger[kind] = parse_channel_attributes(payload)
        else:
            parsed_trigger[kind] = payload
    return {
        "trigger": parsed_trigger,
        "widgets": widgets if widgets is not None else {},
        "flow": flow if flow is not None else {"variables": {}, "data": {}},
        "contact": contact if contact is not None else {},
    }


def to_json_text(value: object) -> str:
    """Studio's `to_json`: compact JSON; nil and undefined → `null`."""
    if isinstance(value, Undefined) or value is None:
        return "null"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def _json_default(value: object) -> object:
    if isinstance(value, Undefined):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, tuple | set | frozenset | range):
        return list(value)
    return str(value)


def _stringify_json_objects(value: object, autoescape: bool) -> str:
    """Output rule with `objects_as="json"`: dicts and lists as JSON, everything else as Liquid does."""
    if type(value) is str:
        return value
    if isinstance(value, JsonText):
        return value.text
    if isinstance(value, Undefined):
        return ""
    if isinstance(value, dict | list):
        return to_json_text(value)
    return to_liquid_string(value, autoescape)


def _stringify_liquid(value: object, autoescape: bool) -> str:
    if isinstance(value, JsonText):
        return value.text
    return to_liquid_string(value, autoescape)


# --- the environment ----------------------------------------------------------------------------------


def _output_tags(stringify: Callable[[object, bool], str]) -> tuple[type[Output], type[EchoTag]]:
    """`{{ }}` and `{% echo %}` with Studio's output rule."""

    class StudioOutputNode(OutputNode):
        __slots__ = ()

        def render_to_output(self, context: Any, buffer: Any) -> int:
            return buffer.write(stringify(self.expression.evaluate(context), False))

    class StudioEchoNode(EchoNode):
        __slots__ = ()

        def render_to_output(self, context: Any, buffer: Any) -> int:
            return buffer.write(stringify(self.expression.evaluate(context), False))

    class StudioOutput(Output):
        node_class = StudioOutputNode

    class StudioEcho(EchoTag):
        node_class = StudioEchoNode

    return StudioOutput, StudioEcho


class _StudioEnvironment(Environment):
    loop_iteration_limit = DEFAULT_LOOP_LIMIT


@dataclass(frozen=True, slots=True)
class CompiledTemplate:
    """One parsed template, ready to render many times."""

    text: str
    name: str
    location: Location | None
    warnings: tuple[str, ...] = ()
    _bound: Any = None  # python-liquid's BoundTemplate; None when the text holds no markup
    _literal_tail: str = ""  # an unterminated `{{…` kept as text

    def render(self, context: Mapping[str, Any]) -> str:
        """Render with a context from `studio_context`. Raises `EngineError` naming the template."""
        if self._bound is None:
            return self.text
        try:
            out = self._bound.render(context)
        except LiquidError as err:
            raise EngineError(
                f"cannot render Liquid template: {_first_line(err)}", self.location
            ) from err
        except (TypeError, ValueError, ArithmeticError, OverflowError) as err:  # a filter on odd data
            raise EngineError(f"cannot render Liquid template: {err}", self.location) from err
        return out + self._literal_tail if self._literal_tail else out


class CompiledValue:
    """A JSON-like value (dicts, lists, strings…) whose every template string is compiled once."""

    __slots__ = ("_render",)

    def __init__(self, render: Callable[[Mapping[str, Any]], Any]) -> None:
        self._render = render

    def render(self, context: Mapping[str, Any]) -> Any:
        """A new value of the same shape with every string rendered (keys are left as they are)."""
        return self._render(context)


class StudioLiquid:
    """Studio's Liquid dialect: compile once (cached by text), render many times.

    Options (the defaults follow docs/liquid-and-splits.md):
      clock: where `{{ "now" | date: … }}` reads the time (the harness clock in tests).
      timezone: the zone `date` shows times in (Studio documents PST).
      objects_as: "json" renders dicts/lists in output statements as compact JSON; "liquid" as
        python-liquid does.
      unknown_filters: "error" rejects a template using a filter Studio does not have; "ignore" passes
        the value through unchanged (Shopify's lax behaviour).
      unterminated_output: "literal" keeps a never-closed `{{…` as text with a warning; "error" rejects it.
      loop_limit: most `for` iterations in one render.
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        timezone: str | tzinfo = STUDIO_TIMEZONE,
        objects_as: str = "json",
        unknown_filters: str = "error",
        unterminated_output: str = "literal",
        loop_limit: int = DEFAULT_LOOP_LIMIT,
    ) -> None:
        for option, value, allowed in (
            ("objects_as", objects_as, ("json", "liquid")),
            ("unknown_filters", unknown_filters, ("error", "ignore")),
            ("unterminated_output", unterminated_output, ("literal", "error")),
        ):
            if value not in allowed:
                raise ValueError(f"{option} must be one of {', '.join(allowed)}, not {value!r}")
        self.clock: Clock = clock or SystemClock()
        self.timezone: tzinfo = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
        self.unknown_filters = unknown_filters
        self.unterminated_output = unterminated_output

        env_class = type("StudioEnvironment", (_StudioEnvironment,), {"loop_iteration_limit": loop_limit})
        # STRICT tolerance only makes *syntax* and filter errors raise; undefined stays lax (Undefined).
        self.env: Environment = env_class(
            tolerance=Mode.STRICT, undefined=Undefined, strict_filters=unknown_filters == "error"
        )
        stringify = _stringify_json_objects if objects_as == "json" else _stringify_liquid
        output_tag, echo_tag = _output_tags(stringify)
        self.env.add_tag(output_tag)
        self.env.add_tag(echo_tag)
        self.env.add_filter("to_json", to_json_text)
        self.env.add_filter("date", self._date_filter())
        self._bound_cache: dict[str, tuple[Any, str, tuple[str, ...]]] = {}

    # -- compiling

    def compile(self, text: str, *, name: str, location: Location | None = None) -> CompiledTemplate:
        """Parse `text` once (cached by text). `name` says where it comes from, e.g.
        "flows/x.json#/states/3/properties/body"; `location` (optional) adds the file line.

        Raises `SchemaError` on a Liquid syntax error, with the Liquid line and column.
        """
        where = location or location_from_name(name)
        if not is_template(text):
            return CompiledTemplate(text, name, where)
        cached = self._bound_cache.get(text)
        if cached is None:
            cached = self._parse(text, name, where)
            self._bound_cache[text] = cached
        bound, tail, warnings = cached
        return CompiledTemplate(text, name, where, warnings, bound, tail)

    def compile_value(self, value: Any, *, name: str, location: Location | None = None) -> CompiledValue:
        """Compile every string inside `value` (dicts and lists, e.g. a `parameters` list) once.

        Template names of nested strings extend `name` with a JSON Pointer (`…/parameters/0/value`).
        """
        base = location or location_from_name(name)
        return CompiledValue(self._compile_tree(value, name, base))

    def render_value(self, value: Any, context: Mapping[str, Any], *, name: str = "") -> Any:
        """Render every string inside nested dicts/lists; other values are returned unchanged."""
        return self.compile_value(value, name=name).render(context)

    def render(self, text: str, context: Mapping[str, Any], *, name: str = "") -> str:
        """Compile (cached) and render in one call."""
        return self.compile(text, name=name).render(context)

    def _compile_tree(self, value: Any, name: str, where: Location) -> Callable[[Mapping[str, Any]], Any]:
        if isinstance(value, str):
            if not is_template(value):
                return lambda _context: value
            return self.compile(value, name=name, location=where).render
        if isinstance(value, Mapping):
            parts = [
                (key, self._compile_tree(item, _child_name(name, key), where.child(key)))
                for key, item in value.items()
            ]
            return lambda context: {key: render(context) for key, render in parts}
        if isinstance(value, list | tuple):
            items = [
                self._compile_tree(item, _child_name(name, index), where.child(index))
                for index, item in enumerate(value)
            ]
            return lambda context: [render(context) for render in items]
        return lambda _context: value

    def _parse(self, text: str, name: str, where: Location | None) -> tuple[Any, str, tuple[str, ...]]:
        source, tail, warnings = text, "", ()
        if self.unterminated_output == "literal":
            start = _unterminated_output_start(text)
            if start is not None:
                source, tail = text[:start], text[start:]
                line, column = _line_column(text, start)
                warnings = (
                    f"'{{{{' at template line {line}, column {column} is never closed with '}}}}'; "
                    "it is kept as literal text",
                )
        try:
            bound = self.env.from_string(source, name=name)
        except LiquidSyntaxError as err:
            raise _syntax_error(err, source, where) from None
        except LiquidError as err:
            raise SchemaError(f"Liquid template cannot be parsed: {_first_line(err)}", where) from None
        if self.unknown_filters == "error":
            unknown = sorted(set(bound.analyze().filters) - set(self.env.filters))
            if unknown:
                raise SchemaError(
                    f"Liquid template uses unknown filter(s): {', '.join(unknown)}",
                    where,
                    hint="Studio's filters are Shopify Liquid's standard filters plus to_json "
                    "(see docs/liquid-and-splits.md)",
                )
        return bound, tail, warnings

    def _date_filter(self) -> Callable[..., str]:
        clock, zone = self.clock, self.timezone

        @with_environment
        def studio_date(value: object, fmt: object = None, *, environment: Environment) -> str:
            if isinstance(value, Undefined) or value is None:
                return ""
            if fmt is None or isinstance(fmt, Undefined):
                return str(value)
            moment = _studio_moment(value, clock, zone)
            if moment is None:  # other spellings ("May 1, 2023"): python-liquid's parser, shown as written
                return _builtin_date(value, fmt, environment=environment)
            # formatted here, not by python-liquid: its date cache treats equal instants in two zones as one
            try:
                return moment.strftime(str(fmt))
            except ValueError as err:
                raise FilterArgumentError(f"date: {err}", token=None) from err

        return studio_date


def _studio_moment(value: object, clock: Clock, zone: tzinfo) -> datetime | None:
    """`value` as a datetime in Studio's zone when it names an absolute instant, else None."""
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in ("now", "today"):
            return clock.now().astimezone(zone)
        if text.isdigit():
            return datetime.fromtimestamp(int(text), UTC).astimezone(zone)
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None  # python-liquid's parser tries other forms ("May 1, 2023")
        return parsed.astimezone(zone) if parsed.tzinfo else parsed
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC).astimezone(zone)
    if isinstance(value, datetime):
        return value.astimezone(zone) if value.tzinfo else value
    return None


# --- helpers ------------------------------------------------------------------------------------------


def location_from_name(name: str) -> Location:
    """`"flows/x.json#/states/3/properties/body"` → Location(path, pointer)."""
    path, sep, pointer = name.partition("#")
    if not sep:
        return Location(name or None, "")
    return Location(path or None, pointer)


def _child_name(name: str, part: str | int) -> str:
    piece = "/" + escape_pointer(part)
    return name + piece if "#" in name else f"{name}#{piece}"


def _unterminated_output_start(text: str) -> int | None:
    """Where a final `{{` with no `}}` after it starts, if any."""
    start = text.rfind("{{")
    if start < 0 or "}}" in text[start + 2 :]:
        return None
    return start


def _line_column(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


def _first_line(err: LiquidError) -> str:
    message = err.message if err.message is not None else err
    return str(message).splitlines()[0] if str(message) else type(err).__name__


_HINT_INDENT = len("  hint: ")  # HarnessError.render() prints the hint after this prefix


def _syntax_error(err: LiquidSyntaxError, text: str, where: Location | None) -> SchemaError:
    """A SchemaError with the Liquid line/column and the offending line, a caret under the spot."""
    message = str(err.message)
    token = err.token
    if token is not None and token.start_index >= 0 and token.source:
        index = min(token.start_index, len(token.source))
    else:
        index = len(text)  # python-liquid gives no position for "expected tag endif": the end of the text
    line, column = _line_column(text, index)
    lines = text.splitlines() or [""]
    source_line = lines[min(line, len(lines)) - 1]
    hint = f"{source_line}\n{' ' * (_HINT_INDENT + column - 1)}^"
    position = f"template line {line}, column {column}"
    return SchemaError(f"Liquid syntax error at {position}: {message}", where, hint=hint)
