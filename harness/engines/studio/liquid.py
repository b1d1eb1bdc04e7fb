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
- **Division by zero** (`divided_by: 0`, `modulo: 0`, a divisor that is not a number, which Liquid reads as
  0) is Shopify Liquid's error "divided by 0", raised as an `EngineError` naming the widget and property:
  never a value.
- **Render budgets** (harness.budgets, docs/reliability.md): one render may run
  `LIQUID_LOOP_LIMIT` loop iterations (python-liquid multiplies nested loops' lengths, so a
  `(1..100000000)` range stops before its first iteration), write `LIQUID_OUTPUT_LIMIT` bytes (captures
  included), hold `LIQUID_NAMESPACE_LIMIT` bytes in assigned variables (string doubling) and take
  `LIQUID_RENDER_SECONDS`; each is python-liquid's own resource limit except the clock, checked at every
  variable lookup, assignment, loop and write. Hitting one raises `BudgetExceeded` naming the limit.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from liquid import Environment, Mode, Undefined
from liquid.builtin.filters.math import divided_by as _builtin_divided_by
from liquid.builtin.filters.math import modulo as _builtin_modulo
from liquid.builtin.filters.misc import date as _builtin_date
from liquid.builtin.output import Output, OutputNode
from liquid.builtin.tags.echo_tag import EchoNode, EchoTag
from liquid.context import RenderContext
from liquid.exceptions import (
    ContextDepthError,
    FilterArgumentError,
    LiquidError,
    LiquidSyntaxError,
    LocalNamespaceLimitError,
    LoopIterationLimitError,
    OutputStreamLimitError,
    ResourceLimitError,
)
from liquid.filter import num_arg, with_environment
from liquid.output import LimitedStringIO
from liquid.stringify import to_liquid_string
from liquid.template import BoundTemplate

from harness.budgets import DEFAULTS, BudgetExceeded, budget, how_to_raise
from harness.clock import Clock, SystemClock
from harness.errors import EngineError, Location, SchemaError, escape_pointer

STUDIO_TIMEZONE = "America/Los_Angeles"
DEFAULT_LOOP_LIMIT = int(DEFAULTS["LIQUID_LOOP_LIMIT"])

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


# --- render budgets ------------------------------------------------------------------------------------


class RenderTimeout(ResourceLimitError):
    """One render took longer than LIQUID_RENDER_SECONDS."""


class DivisionByZero(FilterArgumentError):
    """`divided_by: 0` / `modulo: 0`: Shopify Liquid's ZeroDivisionError, "divided by 0"."""


_CLOCK_EVERY = 32  # read the clock on every 32nd lookup or write: cheap, and still many times a millisecond


def _over_time(holder: Any) -> None:
    holder.ticks += 1
    if holder.ticks % _CLOCK_EVERY == 0 and holder.deadline is not None and time.monotonic() > holder.deadline:
        raise RenderTimeout("render time limit reached", token=None)


class _BudgetedContext(RenderContext):
    """A render context that also checks the wall clock at every lookup, assignment and loop."""

    __slots__ = ("deadline", "ticks")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ticks = 0
        parent = kwargs.get("parent_context")
        seconds = getattr(self.env, "render_seconds", None)
        self.deadline = (getattr(parent, "deadline", None) if parent is not None
                         else (time.monotonic() + seconds if seconds else None))

    def get(self, path: Any, *, token: Any, default: object = Undefined) -> object:  # type: ignore[override]
        _over_time(self)
        if default is Undefined:
            return super().get(path, token=token)
        return super().get(path, token=token, default=default)

    def assign(self, key: str, val: Any) -> None:
        _over_time(self)
        super().assign(key, val)

    def raise_for_loop_limit(self, length: int = 1) -> None:
        _over_time(self)
        super().raise_for_loop_limit(length)

    def get_buffer(self, buf: Any = None) -> Any:
        return _BudgetedBuffer(self.deadline, self.env.output_stream_limit - (
            buf.size if isinstance(buf, LimitedStringIO) else 0))


class _BudgetedBuffer(LimitedStringIO):
    """python-liquid's size-limited output buffer, which also checks the render's deadline."""

    def __init__(self, deadline: float | None, limit: int) -> None:
        super().__init__(limit=limit)
        self.deadline = deadline
        self.ticks = 0

    def write(self, text: str) -> int:
        _over_time(self)
        return super().write(text)


class _BudgetedTemplate(BoundTemplate):
    context_class = _BudgetedContext

    def _get_buffer(self) -> Any:
        seconds = getattr(self.env, "render_seconds", None)
        return _BudgetedBuffer(time.monotonic() + seconds if seconds else None, self.env.output_stream_limit)


class _StudioEnvironment(Environment):
    template_class = _BudgetedTemplate
    loop_iteration_limit = DEFAULT_LOOP_LIMIT
    output_stream_limit = int(DEFAULTS["LIQUID_OUTPUT_LIMIT"])
    local_namespace_limit = int(DEFAULTS["LIQUID_NAMESPACE_LIMIT"])
    render_seconds: float | None = DEFAULTS["LIQUID_RENDER_SECONDS"]


# python-liquid's limit → (our limit's name, what it counts)
_LIMITS: dict[type[ResourceLimitError], tuple[str, str]] = {
    LoopIterationLimitError: ("LIQUID_LOOP_LIMIT", "loop iterations (nested loops multiply)"),
    OutputStreamLimitError: ("LIQUID_OUTPUT_LIMIT", "bytes of output (captures included)"),
    LocalNamespaceLimitError: ("LIQUID_NAMESPACE_LIMIT", "bytes held in assigned variables"),
    RenderTimeout: ("LIQUID_RENDER_SECONDS", "seconds of rendering"),
}


def _limit_value(env: Any, name: str) -> float | None:
    return {"LIQUID_LOOP_LIMIT": env.loop_iteration_limit, "LIQUID_OUTPUT_LIMIT": env.output_stream_limit,
            "LIQUID_NAMESPACE_LIMIT": env.local_namespace_limit,
            "LIQUID_RENDER_SECONDS": getattr(env, "render_seconds", None)}.get(name)


def _budget_error(err: ResourceLimitError, env: Any, where: Location | None) -> EngineError:
    if isinstance(err, ContextDepthError):
        return BudgetExceeded(f"Liquid template{_in_property(where)} stopped: it nests more than "
                              f"{env.context_depth_limit} contexts (a recursive render or include)", where)
    name, what = next((limit for kind, limit in _LIMITS.items() if isinstance(err, kind)),
                      ("", "resources"))
    value = _limit_value(env, name)
    shown = "?" if value is None else f"{int(value)}" if float(value).is_integer() else f"{value:g}"
    return BudgetExceeded(
        f"Liquid template{_in_property(where)} stopped by its render budget: more than {shown} {what} "
        f"({name})", where,
        hint="a loop over an enormous range, nested loops or a string doubled in a loop never ends well in "
        f"Studio either; {how_to_raise(name)}" if name else None)


def _guard_zero(name: str, builtin: Callable[..., Any]) -> Callable[..., Any]:
    """Shopify Liquid raises ZeroDivisionError "divided by 0" for `divided_by: 0` and `modulo: 0`; a divisor
    that is not a number counts as 0 (Liquid's to_number)."""

    def guarded(num: Any, other: Any = None) -> Any:
        try:
            divisor = num_arg(other, default=0)
        except (FilterArgumentError, TypeError, ValueError):
            divisor = 0
        if divisor == 0:
            raise DivisionByZero(f"Liquid error: divided by 0 ({name}: {_liquid_repr(other)})", token=None)
        return builtin(num, other)

    guarded.__name__ = name
    return guarded


def _sized_filter(func: Callable[..., Any], env: Any) -> Callable[..., Any]:
    """`func` that refuses a range longer than the loop budget (`(1..100000000) | join` would build it in
    one call, beyond the reach of loop checks) and a text result beyond the output budget (`replace`
    with a long replacement squares a text's size)."""

    growing = getattr(func, "__name__", "") in _GROWING

    @functools.wraps(func)
    def sized(value: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(value, range) and env.loop_iteration_limit and len(value) > env.loop_iteration_limit:
            raise LoopIterationLimitError("loop iteration limit reached", token=None)
        if growing and isinstance(value, str) and len(args) >= 2 and env.output_stream_limit:
            old, new = str(args[0]), str(args[1])
            count = value.count(old) if old else len(value) + 1
            if len(value) + count * (len(new) - len(old)) > env.output_stream_limit:
                raise OutputStreamLimitError("output stream limit reached", token=None)
        result = func(value, *args, **kwargs)
        if isinstance(result, str) and env.output_stream_limit and len(result) > env.output_stream_limit:
            raise OutputStreamLimitError("output stream limit reached", token=None)
        return result

    return sized


_GROWING = frozenset({"replace", "replace_first", "replace_last"})


def _liquid_repr(value: Any) -> str:
    if isinstance(value, Undefined) or value is None:
        return "nil"
    return json.dumps(value) if isinstance(value, str) else str(value)


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
        except ResourceLimitError as err:
            raise _budget_error(err, self._bound.env, self.location) from None
        except LiquidError as err:
            raise EngineError(
                f"cannot render Liquid template{_in_property(self.location)}: {_first_line(err)}", self.location
            ) from err
        except MemoryError:
            raise BudgetExceeded(f"Liquid template ran out of memory{_in_property(self.location)}",
                                 self.location, hint=how_to_raise("LIQUID_NAMESPACE_LIMIT")) from None
        except (TypeError, ValueError, ArithmeticError, OverflowError) as err:  # a filter on odd data
            raise EngineError(f"cannot render Liquid template{_in_property(self.location)}: {err}",
                              self.location) from err
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
      loop_limit, output_limit, namespace_limit, render_seconds: the render budgets (default: the
        `LIQUID_*` budgets of harness.budgets, which `AUTOPILOT_HARNESS_LIQUID_*` variables change).
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        timezone: str | tzinfo = STUDIO_TIMEZONE,
        objects_as: str = "json",
        unknown_filters: str = "error",
        unterminated_output: str = "literal",
        loop_limit: int | None = None,
        output_limit: int | None = None,
        namespace_limit: int | None = None,
        render_seconds: float | None = None,
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

        env_class = type("StudioEnvironment", (_StudioEnvironment,), {
            "loop_iteration_limit": loop_limit or int(budget("LIQUID_LOOP_LIMIT")),
            "output_stream_limit": output_limit or int(budget("LIQUID_OUTPUT_LIMIT")),
            "local_namespace_limit": namespace_limit or int(budget("LIQUID_NAMESPACE_LIMIT")),
            "render_seconds": render_seconds or budget("LIQUID_RENDER_SECONDS"),
        })
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
        self.env.add_filter("divided_by", _guard_zero("divided_by", _builtin_divided_by))
        self.env.add_filter("modulo", _guard_zero("modulo", _builtin_modulo))
        for filter_name, func in list(self.env.filters.items()):
            self.env.add_filter(filter_name, _sized_filter(func, self.env))
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


def _in_property(where: Location | None) -> str:
    """` in property 'body'` from a template's pointer (`…/states/3/properties/body`), else ""."""
    pointer = where.pointer if where is not None else ""
    _, sep, prop = pointer.partition("/properties/")
    return f" in property '{prop}'" if sep and prop else ""


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
