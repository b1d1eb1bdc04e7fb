"""Our JSON Schemas (`harness/schemas/*.schema.json`) and jsonschema's errors as short messages.

Shared by every loader that checks a file against a schema (Actions, assistants, flows, scenario files):
`jsonschema_messages` gives (JSON Pointer, message) per violation in document order, `pointer_order` sorts
problems as their places appear in the file, `describe_value` names a found value briefly.
"""

from __future__ import annotations

import copy
import difflib
import functools
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from harness.errors import escape_pointer

# The messages name the Actions when a one-key object is wrong (the scenario loader rewords them).
ACTION_NAMES: tuple[str, ...] = (
    "say", "play", "collect", "listen", "redirect", "handoff", "remember", "show",
)

__all__ = ["ACTION_NAMES", "describe_value", "json_schema_problem", "jsonschema_messages", "load_schema",
           "pointer_order"]


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
        cls = jsonschema_validator_for(schema, default=Draft202012Validator)
        cls.check_schema(schema, format_checker=_schema_format_checker(cls))
    except BadSchema as err:
        where = "/".join(str(part) for part in err.absolute_path)
        return f"not a valid JSON Schema: {err.message}" + (f" (at /{where})" if where else "")
    return None



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


@functools.cache
def _schema_format_checker(cls: Any) -> Any:
    """The dialect's format checker, with `regex` checked in the flavour the kit matches with (the `regex`
    package: `\\p{L}`, `(?<name>…)`), so a pattern the kit can run is not refused as invalid."""
    from harness.patterns import pattern_problem

    checker = copy.deepcopy(cls.FORMAT_CHECKER)
    checker.checks("regex", raises=ValueError)(lambda value: not isinstance(value, str)
                                               or pattern_problem(value) is None)
    return checker
