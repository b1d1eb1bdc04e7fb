"""A fast yes/no check of a document against one of our JSON Schemas, for the common case: a valid file.

jsonschema explains problems well but is slow on valid documents (about 0.5 ms per scenario: each keyword
descends through `evolve`/`descend`); collecting 1,000 scenarios spent half its time there, and every
pytest-xdist worker collects them all again. So loaders first ask `fast_validator(schema)(data)`:

- `True` — the document is valid (the same verdict as jsonschema's for the keywords compiled here);
- `False` — it is not; run jsonschema to explain where and why.

The check is *compiled from the schema itself* (closures per keyword), so a key added to a schema is
checked without touching this file. A schema using a keyword not listed in `_COMPILERS` cannot be compiled:
`compile_fast_check` returns None and callers simply run jsonschema (never a wrong "valid").
`tests/unit/models/test_fastcheck.py` checks the verdicts against jsonschema's on valid and broken files.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], bool]

#: Keywords that only describe (no effect on validity).
_ANNOTATIONS = frozenset({"description", "title", "x-expected", "$schema", "$id", "$comment", "default",
                          "examples", "deprecated", "readOnly", "writeOnly", "format", "markdownDescription"})


class _Unsupported(Exception):
    """The schema uses a keyword this compiler does not implement."""


def compile_fast_check(schema: Mapping[str, Any] | bool) -> Check | None:
    """A function `data -> bool` equivalent to `Draft202012Validator(schema).is_valid`, or None when the
    schema uses a keyword not implemented here (`$ref`s must be inlined first)."""
    try:
        return _compile(schema)
    except _Unsupported:
        return None


def _is_type(value: Any, name: str) -> bool:
    """JSON Schema types as jsonschema reads them: bool is not a number, 1.0 is an integer."""
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "string":
        return isinstance(value, str)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    if isinstance(value, bool):
        return False
    if name == "number":
        return isinstance(value, int | float)
    if name == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    raise _Unsupported(f"type {name!r}")


def _equal(a: Any, b: Any) -> bool:
    """jsonschema's equality: booleans never equal numbers; containers compare deeply."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, str) != isinstance(b, str):
        return False
    return bool(a == b)


def _compile(schema: Mapping[str, Any] | bool) -> Check:
    if schema is True:
        return lambda value: True
    if schema is False:
        return lambda value: False
    if not isinstance(schema, Mapping):
        raise _Unsupported("a schema is an object or a boolean")
    checks: list[Check] = []
    handled = set(_ANNOTATIONS)
    for keyword, compiler in _COMPILERS.items():
        if keyword in schema or (keyword == "properties" and not _OBJECT_KEYWORDS.isdisjoint(schema)):
            check = compiler(schema)
            if check is not None:
                checks.append(check)
            handled.add(keyword)
    handled |= _COMPANIONS
    unknown = set(schema) - handled
    if unknown:
        raise _Unsupported(", ".join(sorted(unknown)))
    if not checks:
        return lambda value: True
    if len(checks) == 1:
        return checks[0]
    return lambda value: all(check(value) for check in checks)


# --- one compiler per keyword (each returns a check of the whole instance) ------------------------------


def _type(schema: Mapping[str, Any]) -> Check:
    wanted = schema["type"]
    names = [wanted] if isinstance(wanted, str) else list(wanted)
    for name in names:
        _is_type(None, name)  # unknown type names fail at compile time
    return lambda value: any(_is_type(value, name) for name in names)


def _properties(schema: Mapping[str, Any]) -> Check:
    """properties + patternProperties + additionalProperties together (the last depends on the others)."""
    named = {key: _compile(sub) for key, sub in (schema.get("properties") or {}).items()}
    patterns = [(re.compile(p), _compile(sub)) for p, sub in (schema.get("patternProperties") or {}).items()]
    extra_schema = schema.get("additionalProperties", True)
    extra = None if extra_schema is True else _compile(extra_schema)

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        for key, item in value.items():
            matched = False
            sub = named.get(key)
            if sub is not None:
                matched = True
                if not sub(item):
                    return False
            for pattern, pattern_check in patterns:
                if pattern.search(key):
                    matched = True
                    if not pattern_check(item):
                        return False
            if not matched and extra is not None and not extra(item):
                return False
        return True

    return check


def _required(schema: Mapping[str, Any]) -> Check:
    keys = tuple(schema["required"])
    return lambda value: not isinstance(value, dict) or all(key in value for key in keys)


def _items(schema: Mapping[str, Any]) -> Check:
    sub = _compile(schema["items"])
    return lambda value: not isinstance(value, list) or all(sub(item) for item in value)


def _count(keyword: str, kind: type | tuple[type, ...], at_least: bool) -> Callable[[Mapping[str, Any]], Check]:
    def compiler(schema: Mapping[str, Any]) -> Check:
        limit = schema[keyword]
        if at_least:
            return lambda value: not isinstance(value, kind) or len(value) >= limit
        return lambda value: not isinstance(value, kind) or len(value) <= limit
    return compiler


def _pattern(schema: Mapping[str, Any]) -> Check:
    regex = re.compile(schema["pattern"])
    return lambda value: not isinstance(value, str) or regex.search(value) is not None


def _enum(schema: Mapping[str, Any]) -> Check:
    options = list(schema["enum"])
    return lambda value: any(_equal(value, option) for option in options)


def _const(schema: Mapping[str, Any]) -> Check:
    expected = schema["const"]
    return lambda value: _equal(value, expected)


def _bound(keyword: str, holds: Callable[[Any, Any], bool]) -> Callable[[Mapping[str, Any]], Check]:
    def compiler(schema: Mapping[str, Any]) -> Check:
        limit = schema[keyword]
        return lambda value: not _is_type(value, "number") or holds(value, limit)
    return compiler


def _any_of(schema: Mapping[str, Any]) -> Check:
    subs = [_compile(sub) for sub in schema["anyOf"]]
    return lambda value: any(sub(value) for sub in subs)


def _all_of(schema: Mapping[str, Any]) -> Check:
    subs = [_compile(sub) for sub in schema["allOf"]]
    return lambda value: all(sub(value) for sub in subs)


def _one_of(schema: Mapping[str, Any]) -> Check:
    subs = [_compile(sub) for sub in schema["oneOf"]]
    return lambda value: sum(1 for sub in subs if sub(value)) == 1


def _not(schema: Mapping[str, Any]) -> Check:
    sub = _compile(schema["not"])
    return lambda value: not sub(value)


def _property_names(schema: Mapping[str, Any]) -> Check:
    sub = _compile(schema["propertyNames"])
    return lambda value: not isinstance(value, dict) or all(sub(key) for key in value)


def _if_then_else(schema: Mapping[str, Any]) -> Check:
    condition = _compile(schema["if"])
    then = _compile(schema.get("then", True))
    otherwise = _compile(schema.get("else", True))
    return lambda value: then(value) if condition(value) else otherwise(value)


def _unique_items(schema: Mapping[str, Any]) -> Check | None:
    if not schema["uniqueItems"]:
        return None

    def check(value: Any) -> bool:
        if not isinstance(value, list):
            return True
        return not any(_equal(a, b) for i, a in enumerate(value) for b in value[i + 1:])

    return check


_COMPILERS: dict[str, Callable[[Mapping[str, Any]], Check | None]] = {
    "type": _type,
    "enum": _enum,
    "const": _const,
    "required": _required,
    "properties": _properties,
    "items": _items,
    "pattern": _pattern,
    "minLength": _count("minLength", str, True),
    "maxLength": _count("maxLength", str, False),
    "minItems": _count("minItems", list, True),
    "maxItems": _count("maxItems", list, False),
    "minProperties": _count("minProperties", dict, True),
    "maxProperties": _count("maxProperties", dict, False),
    "minimum": _bound("minimum", lambda v, limit: v >= limit),
    "maximum": _bound("maximum", lambda v, limit: v <= limit),
    "exclusiveMinimum": _bound("exclusiveMinimum", lambda v, limit: v > limit),
    "exclusiveMaximum": _bound("exclusiveMaximum", lambda v, limit: v < limit),
    "anyOf": _any_of,
    "allOf": _all_of,
    "oneOf": _one_of,
    "not": _not,
    "propertyNames": _property_names,
    "if": _if_then_else,
    "uniqueItems": _unique_items,
}
_OBJECT_KEYWORDS = frozenset({"properties", "patternProperties", "additionalProperties"})
#: Keywords read by another keyword's compiler (`properties` reads these; `if` reads then/else).
_COMPANIONS = frozenset({"patternProperties", "additionalProperties", "then", "else"})
