"""The Actions validator: what Twilio rejected with error 90100 "Invalid Autopilot Actions JSON".

An Actions document is `{"actions": [ {<one key>: <value>}, … ]}`: what a task holds and what an Action URL
returns. Its shape is checked with our JSON Schema (`harness/schemas/actions.schema.json`, draft 2020-12);
rules that need more than one place are checked in Python afterwards:

- every `task://name` (redirect, collect `on_complete`, `max_attempts.redirect`, `listen.voice_digits`)
  and every `listen.tasks` entry names a task, when `task_names` is given (`ReferenceProblem`);
- question names are unique within a collect;
- a question `type` is a built-in type (its name, or its `UB…` SID) or, when `field_type_names` is given,
  a custom type of the assistant (error 90104). Without `field_type_names` only `Twilio.*` names can be
  checked; other names are accepted.

Choices where the sources are thin [uncertain], documented in docs/assistant-schema.md:
- unknown keys are rejected everywhere, not only at the action level (Twilio's schema is lost; only the
  `say` object is known to forbid extra keys) — a typo is the likelier cause;
- a redirect string must be `task://…` or an http(s) URL (`function://` is undocumented: rejected);
- `handoff.priority` / `timeout` may be integers or strings of digits (Twilio's templates use strings);
- HTTP methods are GET or POST, upper or lower case;
- mis-cased built-in type names (`Twilio.Number`) are rejected unless `ignore_type_case=True`.

Validators are compiled once per process, lazily. `jsonschema_messages` turns jsonschema's errors into
short messages; the assistant loader uses it too.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource

from harness.errors import Location, ReferenceProblem, SchemaError, escape_pointer, raise_all
from harness.models.field_types import builtin_name, suggest_builtin
from harness.sources import Source

ACTION_NAMES: tuple[str, ...] = (
    "say", "play", "collect", "listen", "redirect", "handoff", "remember", "show",
)
TASK_SCHEME = "task://"
SCHEMA_BASE = "https://autopilot-harness.dev/schemas/"
ACTIONS_SCHEMA_ID = SCHEMA_BASE + "actions.schema.json"
ASSISTANT_SCHEMA_ID = SCHEMA_BASE + "assistant.schema.json"
INVALID_ACTIONS = "90100"
INVALID_FIELD_TYPE = "90104"

Locate = Callable[[str], Location]
Problem = SchemaError | ReferenceProblem


# --- schemas and validators (compiled once) --------------------------------------------------------


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """One of our JSON Schemas (`actions.schema.json`, `assistant.schema.json`) as a dict."""
    text = resources.files("harness").joinpath("schemas", name).read_text(encoding="utf-8")
    return json.loads(text)


def json_schema_problem(schema: Any) -> str | None:
    """Why a user's JSON Schema (a scenario's `*_schema`, an inline `$schema`) cannot be used, or None.

    A `$ref` outside the schema itself is refused: the kit never fetches a schema from the network (a test
    would depend on a server), and a relative file reference has no base to resolve against.
    """
    from jsonschema.exceptions import SchemaError as BadSchema
    from jsonschema.validators import validator_for as jsonschema_validator_for

    if not isinstance(schema, dict | bool):
        return f"expected a JSON Schema object, found {describe_value(schema)}"
    stack: list[tuple[Any, str]] = [(schema, "")]
    while stack:
        value, pointer = stack.pop()
        if isinstance(value, dict):
            for key, child in value.items():
                if key in ("$ref", "$dynamicRef") and isinstance(child, str) and not child.startswith("#"):
                    return (f"`{key}: {child}` (at {pointer or '/'}) points outside the schema; remote "
                            "references are never fetched: put the referenced schema under `$defs` and use "
                            "`#/$defs/...`")
                stack.append((child, f"{pointer}/{escape_pointer(key)}"))
        elif isinstance(value, list):
            stack.extend((child, f"{pointer}/{n}") for n, child in enumerate(value))
    try:
        jsonschema_validator_for(schema, default=Draft202012Validator).check_schema(schema)
    except BadSchema as err:
        where = "/".join(str(part) for part in err.absolute_path)
        return f"not a valid JSON Schema: {err.message}" + (f" (at /{where})" if where else "")
    return None


@functools.cache
def schema_registry() -> Registry:
    """Our schemas by `$id`, so `$ref`s between them resolve offline."""
    resources_ = [
        (schema["$id"], Resource.from_contents(schema))
        for schema in (load_schema("actions.schema.json"), load_schema("assistant.schema.json"))
    ]
    return Registry().with_resources(resources_)


@functools.cache
def validator_for(schema_ref: str) -> Draft202012Validator:
    """A validator for a schema, or a part of one, by URI (`…/assistant.schema.json#/$defs/task`).

    `$ref`s are resolved through `schema_registry()` once, here, and inlined (our schemas are not
    recursive): following references on every validation halved the speed.
    """
    resolved = schema_registry().resolver().lookup(schema_ref)
    return Draft202012Validator(_inline(resolved.contents, resolved.resolver))


def _inline(node: Any, resolver: Any) -> Any:
    if isinstance(node, list):
        return [_inline(item, resolver) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        resolved = resolver.lookup(node["$ref"])
        target = _inline(resolved.contents, resolved.resolver)
        extra = {k: _inline(v, resolver) for k, v in node.items() if k not in ("$ref", "description")}
        return {"allOf": [target], **extra} if extra else target
    return {k: _inline(v, resolver) for k, v in node.items() if k not in ("$defs", "$id", "$schema")}


def actions_validator() -> Draft202012Validator:
    return validator_for(ACTIONS_SCHEMA_ID)


# --- jsonschema errors → short messages -------------------------------------------------------------

_TYPE_WORDS = {
    "object": "an object",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}
_ROOT_MISMATCH = ("type", "const", "enum")


def describe_value(value: Any) -> str:
    """A short description of a JSON value for a message: `an object`, `"text"`, `3`."""
    if isinstance(value, dict):
        return "an object" if value else "an empty object"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "…"


def _pointer(path: Iterable[Any]) -> str:
    return "".join("/" + escape_pointer(p) for p in path)


def jsonschema_messages(validator: Draft202012Validator, instance: Any) -> list[tuple[str, str]]:
    """(JSON Pointer, message) for every violation, in document order, without duplicates."""
    found: dict[tuple[str, str], tuple[Any, ...]] = {}
    for error in validator.iter_errors(instance):
        for path, message in _explain(error):
            found.setdefault((_pointer(path), message), path)
    ordered = sorted(found.items(), key=lambda item: _document_order(instance, item[1]))
    return [key for key, _ in ordered]


def pointer_order(instance: Any, pointer: str) -> tuple[int, ...]:
    """A sort key that puts JSON Pointers into `instance` in the order their places appear in the file."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    return _document_order(instance, tuple(int(p) if p.isdigit() else p for p in parts))


def _document_order(instance: Any, path: tuple[Any, ...]) -> tuple[int, ...]:
    """Positions along `path` (keys by their order in the object), so messages follow the file."""
    positions = []
    node = instance
    for part in path:
        if isinstance(node, dict):
            keys = list(node)
            positions.append(keys.index(part) if part in node else len(keys))
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int):
            positions.append(part)
            node = node[part] if part < len(node) else None
        else:
            break
    return tuple(positions)


def _explain(error: ValidationError, inherited: str | None = None) -> Iterator[tuple[tuple[Any, ...], str]]:
    path = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    # an alternative of an anyOf describes itself through its parent's x-expected
    expected = schema.get("x-expected") or (inherited if not error.relative_path else None)
    kind = error.validator
    instance = error.instance

    if kind in ("anyOf", "oneOf"):
        if not error.context:  # oneOf matched more than one branch
            yield path, f"ambiguous: matches more than one of {expected or 'the allowed forms'}"
            return
        branches: dict[Any, list[ValidationError]] = defaultdict(list)
        for sub in error.context:
            branches[sub.relative_schema_path[0]].append(sub)
        fitting = [
            errs
            for errs in branches.values()
            if not any(not e.relative_path and e.validator in _ROOT_MISMATCH for e in errs)
        ]
        if len(fitting) == 1:  # the value has the shape of one alternative: say what is wrong inside it
            for sub in fitting[0]:
                yield from _explain(sub, expected)
            return
        yield path, f"expected {expected or 'one of the allowed forms'}, found {describe_value(instance)}"
        return

    if kind == "required":
        for key in error.validator_value:
            if isinstance(instance, dict) and key not in instance:
                yield path, f"missing required key '{key}'"
        return

    if kind == "additionalProperties":
        allowed = list(schema.get("properties", {}))
        is_action = tuple(allowed) == ACTION_NAMES
        for key in instance:
            if key in allowed:
                continue
            if is_action:
                yield (*path, key), f"unknown action '{key}'; an action is one of: {', '.join(allowed)}"
            else:
                hint = difflib.get_close_matches(key, allowed, n=1)
                also = f" (did you mean '{hint[0]}'?)" if hint else ""
                yield (*path, key), f"unknown key '{key}'{also}; allowed keys: {', '.join(allowed)}"
        return

    if kind in ("minProperties", "maxProperties") and schema.get("maxProperties") == 1:
        if not instance:
            yield path, f"empty action {{}}; expected exactly one key: {', '.join(ACTION_NAMES)}"
        else:
            keys = ", ".join(instance)
            count = len(instance)
            yield path, f"an action has exactly one key, found {count} ({keys}); put each in its own element"
        return

    if kind == "type":
        if expected is None:
            wanted = error.validator_value
            wanted = wanted if isinstance(wanted, list) else [wanted]
            expected = " or ".join(_TYPE_WORDS.get(t, t) for t in wanted)
        yield path, f"expected {expected}, found {describe_value(instance)}"
        return

    if kind == "const":
        yield path, f"expected {json.dumps(error.validator_value)}, found {describe_value(instance)}"
        return

    if kind == "enum":
        choices = expected or ", ".join(json.dumps(v) for v in error.validator_value)
        yield path, f"expected {choices}, found {describe_value(instance)}"
        return

    if kind == "pattern":
        if "propertyNames" in error.relative_schema_path or "propertyNames" in error.schema_path:
            yield path, f"invalid key {describe_value(instance)}: expected digits, '*' or '#'"
        else:
            wanted = expected or f"text matching {error.validator_value}"
            yield path, f"expected {wanted}, found {describe_value(instance)}"
        return

    if kind == "minItems":
        yield path, f"expected at least {error.validator_value} item(s), found {len(instance)}"
        return

    if kind == "minLength":
        if error.validator_value == 1:
            yield path, "must not be empty"
        else:
            yield path, f"expected at least {error.validator_value} characters"
        return

    if kind == "maxLength":
        yield path, f"too long: {len(instance)} characters, at most {error.validator_value} allowed"
        return

    if kind in ("minimum", "maximum"):
        sign = ">=" if kind == "minimum" else "<="
        yield path, f"expected a number {sign} {error.validator_value}, found {describe_value(instance)}"
        return

    yield path, error.message


# --- the Actions checks -----------------------------------------------------------------------------


def locator(path: str | None = None, source: Source | None = None) -> Locate:
    """Pointer → Location: with line and column when a parsed file is known."""
    if source is not None and source.text:
        if path is None or path == source.path:
            return source.locate
        return lambda pointer: _with_path(source.locate(pointer), path)
    file = path if path is not None else (source.path if source is not None else None)
    return lambda pointer: Location(file, pointer)


def _with_path(location: Location, path: str) -> Location:
    return Location(path, location.pointer, location.line, location.column)


def check_actions(
    document: Any,
    *,
    path: str | None = None,
    pointer: str = "",
    task_names: Collection[str] | None = None,
    field_type_names: Collection[str] | None = None,
    source: Source | None = None,
    ignore_type_case: bool = False,
) -> list[Problem]:
    """Every problem of an Actions document (`{"actions": [...]}`), schema violations first.

    `pointer` is where the document sits in its file (e.g. `/tasks/3/actions`); `source`, when given,
    adds line numbers. `task_names` / `field_type_names` enable the reference checks.
    """
    locate = locator(path, source)
    problems: list[Problem] = [
        SchemaError(f"{message} (error {INVALID_ACTIONS})", locate(pointer + rel))
        for rel, message in jsonschema_messages(actions_validator(), document)
    ]
    problems.extend(
        check_action_rules(
            document,
            pointer=pointer,
            locate=locate,
            task_names=task_names,
            field_type_names=field_type_names,
            ignore_type_case=ignore_type_case,
        )
    )
    return problems


def validate_actions(
    document: Any,
    *,
    path: str | None = None,
    pointer: str = "",
    task_names: Collection[str] | None = None,
    field_type_names: Collection[str] | None = None,
    source: Source | None = None,
    ignore_type_case: bool = False,
) -> None:
    """Raise every problem of an Actions document together (`harness.errors.raise_all`)."""
    raise_all(
        check_actions(
            document,
            path=path,
            pointer=pointer,
            task_names=task_names,
            field_type_names=field_type_names,
            source=source,
            ignore_type_case=ignore_type_case,
        )
    )


def check_action_rules(
    document: Any,
    *,
    pointer: str = "",
    locate: Locate | None = None,
    task_names: Collection[str] | None = None,
    field_type_names: Collection[str] | None = None,
    ignore_type_case: bool = False,
) -> list[Problem]:
    """The checks beyond the JSON Schema (references, unique question names, field types).

    Tolerates documents that break the schema: whatever has the wrong shape is skipped here.
    """
    locate = locate or (lambda p: Location(None, p))
    checker = _RuleChecker(locate, task_names, field_type_names, ignore_type_case)
    actions = document.get("actions") if isinstance(document, dict) else None
    if isinstance(actions, list):
        for index, action in enumerate(actions):
            if isinstance(action, dict) and len(action) == 1:
                ((name, value),) = action.items()
                checker.action(name, value, f"{pointer}/actions/{index}/{escape_pointer(name)}")
    return checker.problems


class _RuleChecker:
    def __init__(
        self,
        locate: Locate,
        task_names: Collection[str] | None,
        field_type_names: Collection[str] | None,
        ignore_type_case: bool,
    ) -> None:
        self.locate = locate
        self.task_names = task_names
        self.field_type_names = field_type_names
        self.ignore_type_case = ignore_type_case
        self.problems: list[Problem] = []

    def action(self, name: str, value: Any, pointer: str) -> None:
        if name == "redirect":
            self.redirect(value, pointer)
        elif name == "listen" and isinstance(value, dict):
            self.listen(value, pointer)
        elif name == "collect" and isinstance(value, dict):
            self.collect(value, pointer)

    def redirect(self, value: Any, pointer: str) -> None:
        if isinstance(value, dict):
            self.target(value.get("uri"), pointer + "/uri")
        else:
            self.target(value, pointer)

    def target(self, uri: Any, pointer: str) -> None:
        if isinstance(uri, str) and uri.startswith(TASK_SCHEME):
            self.task_name(uri[len(TASK_SCHEME) :], pointer, shown=uri)

    def task_name(self, name: str, pointer: str, *, shown: str) -> None:
        if self.task_names is None or name in self.task_names:
            return
        close = difflib.get_close_matches(name, list(self.task_names), n=1)
        also = f" (did you mean '{close[0]}'?)" if close else ""
        known = ", ".join(sorted(self.task_names)) or "none"
        self.problems.append(
            ReferenceProblem(f"'{shown}' names no task{also}; tasks: {known}", self.locate(pointer))
        )

    def listen(self, value: dict[str, Any], pointer: str) -> None:
        tasks = value.get("tasks")
        if isinstance(tasks, list):
            for index, name in enumerate(tasks):
                if isinstance(name, str):
                    self.task_name(name, f"{pointer}/tasks/{index}", shown=name)
        digits = value.get("voice_digits")
        redirects = digits.get("redirects") if isinstance(digits, dict) else None
        if isinstance(redirects, dict):
            for key, uri in redirects.items():
                self.target(uri, f"{pointer}/voice_digits/redirects/{escape_pointer(key)}")

    def collect(self, value: dict[str, Any], pointer: str) -> None:
        questions = value.get("questions")
        if isinstance(questions, list):
            seen: dict[str, int] = {}
            for index, question in enumerate(questions):
                if not isinstance(question, dict):
                    continue
                here = f"{pointer}/questions/{index}"
                name = question.get("name")
                if isinstance(name, str):
                    if name in seen:
                        self.problems.append(
                            SchemaError(
                                f"duplicate question name '{name}' (question {seen[name]} has it too); "
                                "names are unique within a collect",
                                self.locate(here + "/name"),
                            )
                        )
                    else:
                        seen[name] = index
                field_type = question.get("type")
                if isinstance(field_type, str):
                    self.field_type(field_type, here + "/type")
                validate = question.get("validate")
                attempts = validate.get("max_attempts") if isinstance(validate, dict) else None
                if isinstance(attempts, dict) and "redirect" in attempts:
                    self.redirect(attempts["redirect"], here + "/validate/max_attempts/redirect")
        on_complete = value.get("on_complete")
        if isinstance(on_complete, dict) and "redirect" in on_complete:
            self.redirect(on_complete["redirect"], pointer + "/on_complete/redirect")

    def field_type(self, name: str, pointer: str) -> None:
        if builtin_name(name, ignore_case=self.ignore_type_case) is not None:
            return
        if self.field_type_names is not None:
            if name in self.field_type_names:
                return
        elif not name.upper().startswith("TWILIO."):
            return  # a custom type we cannot check without the assistant
        suggestion = suggest_builtin(name)
        if suggestion is None and self.field_type_names:
            close = difflib.get_close_matches(name, list(self.field_type_names), n=1)
            suggestion = close[0] if close else None
        also = f" (did you mean '{suggestion}'?)" if suggestion else ""
        custom = ", ".join(sorted(self.field_type_names or ())) or "none"
        self.problems.append(
            ReferenceProblem(
                f"unknown field type '{name}'{also} (error {INVALID_FIELD_TYPE}); expected a built-in type "
                f"such as Twilio.NUMBER or a custom type of the assistant (custom types: {custom})",
                self.locate(pointer),
            )
        )

