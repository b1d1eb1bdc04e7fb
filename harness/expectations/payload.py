"""Subset comparison of JSON payloads (memory, task attributes, HTTP bodies), reporting JSON paths.

Rules:
- an expected object's keys must be present in the actual object and match; other actual keys are fine;
  a key with dots (`twilio.collected_data.order_food.answers.Food.answer`) is a path when the actual
  object has no such literal key; digits in a path index lists;
- lists compare element by element and must have the same length;
- scalars compare with `==`, but a number never equals a string and a boolean never equals a number
  (YAML `2` is not Autopilot's "2": the message says to quote it);
- an expected object `{"$schema": {...}}` validates the actual value with that JSON Schema; so does an
  object carrying a `"$schema"` dialect URI string (the object is then the schema itself); a key
  `<name>_schema` validates the actual `<name>` when the actual object has no literal `<name>_schema`.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from harness.errors import LoadError, SchemaError
from harness.expectations.mismatch import MISSING, Expected
from harness.models.actions import json_schema_problem
from harness.patterns import search
from harness.sources import is_malformed, loads_json

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


@dataclass(frozen=True)
class Difference:
    path: str
    expected: Any
    actual: Any
    reason: str = ""
    key: str | None = None  # the expected payload's top-level key it comes from (to place it in the file)


def join_path(base: str, key: str | int) -> str:
    """`memory` + `order` → `memory.order`; + 0 → `memory.order[0]`; odd keys as `["a b"]`."""
    if isinstance(key, int):
        return f"{base}[{key}]"
    if _IDENTIFIER.match(key):
        return f"{base}.{key}" if base else key
    return f"{base}[{json.dumps(key, ensure_ascii=False)}]"


def is_schema(expected: Any) -> bool:
    return (isinstance(expected, Mapping) and "$schema" in expected
            and isinstance(expected["$schema"], Mapping | str))


def schema_of(expected: Mapping[str, Any]) -> Mapping[str, Any]:
    wrapped = expected["$schema"]
    return wrapped if isinstance(wrapped, Mapping) else expected


def subset_diff(expected: Any, actual: Any, path: str = "") -> list[Difference]:
    """Every place where `actual` does not contain `expected` (see the module's rules)."""
    if isinstance(expected, Mapping) and not is_schema(expected) and isinstance(actual, Mapping):
        # Remember each top-level key, so a report can point at the line that expects it.
        return [replace(d, key=str(key)) for key, wanted in expected.items()
                for d in _diff({key: wanted}, actual, path)]
    return _diff(expected, actual, path)


def _diff(expected: Any, actual: Any, path: str) -> list[Difference]:
    if is_schema(expected):
        return schema_diff(schema_of(expected), actual, path)
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return [Difference(path, expected, actual, "expected an object")]
        found: list[Difference] = []
        for key, wanted in expected.items():
            key = str(key)
            if key.endswith("_schema") and key not in actual and key[: -len("_schema")] in actual:
                name = key[: -len("_schema")]
                found += schema_diff(wanted, actual[name], join_path(path, name))
                continue
            value, where, reason = lookup(actual, key, path)
            if value is MISSING:
                found.append(Difference(where, wanted, MISSING, reason))
            else:
                found += _diff(wanted, value, where)
        return found
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [Difference(path, expected, actual, "expected a list")]
        found = []
        if len(expected) != len(actual):
            found.append(Difference(path, expected, actual,
                                    f"expected {len(expected)} item(s), got {len(actual)}"))
        for index, (wanted, value) in enumerate(zip(expected, actual, strict=False)):
            found += _diff(wanted, value, join_path(path, index))
        return found
    if scalar_equal(expected, actual):
        return []
    return [Difference(path, expected, actual, type_hint(expected, actual))]


def scalar_equal(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return expected == actual
    return type(expected) is type(actual) and expected == actual


def type_hint(expected: Any, actual: Any) -> str:
    kinds = {type(expected), type(actual)}
    if str in kinds and kinds & {int, float, bool}:
        return "a string vs a number/boolean: quote the value in YAML to expect text"
    return ""


def lookup(actual: Mapping[str, Any], key: str, path: str) -> tuple[Any, str, str]:
    """The value at `key` (literal, else a dotted path), its JSON path, and, when missing, what is."""
    if key in actual:
        return actual[key], join_path(path, key), ""
    if "." not in key:
        return MISSING, join_path(path, key), ""
    node: Any = actual
    where = path
    parts = key.split(".")
    for depth, part in enumerate(parts):
        if isinstance(node, Mapping) and part in node:
            node, where = node[part], join_path(where, part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node, where = node[int(part)], join_path(where, int(part))
        else:
            index = int(part) if isinstance(node, list) and part.isdigit() else part
            full = join_path(where, index) + "".join("." + rest for rest in parts[depth + 1:])
            have = ", ".join(map(str, node)) if isinstance(node, Mapping) else show_kind(node)
            return MISSING, full, f"{join_path(where, index)} is missing ({where or 'the value'} has: {have})"
    return node, where, ""


def show_kind(value: Any) -> str:
    return f"a list of {len(value)}" if isinstance(value, list) else type(value).__name__


def schema_diff(schema: Mapping[str, Any], actual: Any, path: str = "") -> list[Difference]:
    """One Difference per JSON Schema violation, at the violating value's path."""
    if actual is MISSING:
        return [Difference(path, Expected("a value matching the schema"), MISSING, "missing")]
    found: list[Difference] = []
    errors = _validator(json.dumps(schema, sort_keys=True)).iter_errors(actual)
    for error in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path]):
        where = path
        for part in error.absolute_path:
            where = join_path(where, part)
        if error.validator == "required" and isinstance(error.instance, Mapping):
            found += [Difference(join_path(where, key), Expected("a value (required by the schema)"), MISSING,
                                 "missing") for key in error.validator_value if key not in error.instance]
            continue
        wanted = Expected(f"{error.validator} {json.dumps(error.validator_value, ensure_ascii=False)} "
                          "(schema)")
        found.append(Difference(where, wanted, error.instance, error.message))
    return found


@functools.lru_cache(maxsize=64)
def _validator(schema_text: str) -> Any:
    """A validator for a user's schema; an unusable one (invalid, a remote `$ref`) is a SchemaError.

    An empty Registry resolves nothing from outside: jsonschema would otherwise fetch remote `$ref`s.
    """
    # Lazy: jsonschema is only needed when a scenario uses a schema; compiled once per schema.
    from jsonschema import Draft202012Validator
    from jsonschema.validators import validator_for
    from referencing import Registry

    schema = json.loads(schema_text)
    problem = json_schema_problem(schema)
    if problem is not None:
        raise SchemaError(problem)
    return _budgeted(validator_for(schema, default=Draft202012Validator))(schema, registry=Registry())


def _budgeted(cls: Any) -> Any:
    """`cls` whose `pattern` and `patternProperties` match with harness.patterns (time-budgeted, the `regex`
    flavour) instead of `re`: a catastrophic pattern in a payload schema stops with BudgetExceeded."""
    from jsonschema import ValidationError
    from jsonschema.validators import extend

    def pattern(validator: Any, wanted: str, instance: Any, _schema: Any) -> Any:
        if validator.is_type(instance, "string") and search(wanted, instance, what="schema pattern") is None:
            yield ValidationError(f"{instance!r} does not match {wanted!r}")

    def pattern_properties(validator: Any, wanted: Mapping[str, Any], instance: Any, _schema: Any) -> Any:
        if not validator.is_type(instance, "object"):
            return
        for key_pattern, subschema in wanted.items():
            for key, value in instance.items():
                if search(key_pattern, key, what="schema patternProperties key") is not None:
                    yield from validator.descend(value, subschema, path=key, schema_path=key_pattern)

    return extend(cls, {"pattern": pattern, "patternProperties": pattern_properties})


def parse_json_text(value: Any) -> Any:
    """A JSON string → its data (task attributes and bodies are often strings); anything else as is.

    Text the strict loader refuses (a duplicate key, nesting beyond MAX_NESTING_DEPTH) is a LoadError.
    """
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            return value
    if isinstance(value, str):
        try:
            return loads_json(value)
        except LoadError as err:
            if is_malformed(err):
                return value
            raise
    return value
