"""Pact matchers derived from a JSON Schema and an example value (the payload the flow really sent).

The example stays the pact's example; the schema decides how loosely a real payload may differ:

| schema / value                         | matcher                                                  |
|----------------------------------------|----------------------------------------------------------|
| `pattern` (anchored or not)            | `regex` (full match, so an unanchored one gets `.*` ends) |
| `enum` of strings                      | `regex` `^(a|b|c)$`                                       |
| `format: date-time`                    | ISO 8601 regex (pact's datetime matcher rejects `Z`, §6.9) |
| boolean                                | `type` (pact's `boolean` matcher accepts the string "true") |
| boolean with `const: true/false`       | the literal (equality: only that boolean)                |
| integer / number                       | `integer` / `number`                                     |
| a string shaped like a Twilio SID      | `regex` `^XX[0-9a-fA-F]{32}$` with the SID's own prefix   |
| a string shaped like an E.164 number   | E.164 regex; `whatsapp:+1…`-style channel addresses too   |
| `minLength`/`maxLength` (≤ 256)        | `regex` `^[\\s\\S]{min,max}$`                              |
| other strings                          | `type`                                                   |
| arrays with an `items` schema          | `each_like(min=1)` (pact's default min 0 accepts `[]`)    |

A string with a `regex` matcher also gets a `type` matcher on the same path (`extra_rules()`, added with
`with_matching_rules`): pact's regex matcher turns a number into text first, so `7` would pass
`^.{1,64}$`. With `canonical_sids=True`, example values shaped like Twilio SIDs are replaced by
stable stand-ins (same SID → same stand-in, in walk order), so a pact does not change with the
scenario file's name or the SID seed; the SID regex still matches what the flow really sent.

Objects are walked key by key (sorted, for stable output): pact matches request objects exactly, so
every key the flow sent is in the pact. `const` other than booleans, `null` and schema-less
non-string scalars stay literal (equality). Patterns pact's Rust regex engine cannot run (look-around,
back-references) fall back to `type`; the JSON Schema check before writing still enforces them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from jsonschema import validators

E164 = r"^\+[1-9][0-9]{1,14}$"
CHANNEL_ADDRESS = r"^(\+[1-9][0-9]{1,14}|[a-z][a-z0-9.-]*:\S+)$"
ISO_DATETIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$"
_SID_SHAPE = re.compile(r"[A-Z]{2}[0-9a-fA-F]{32}")
_CHANNEL_ADDRESS_SHAPE = re.compile(r"(whatsapp|messenger|fb|line|rcs|apple|gbm):\S+")
_RUST_UNSUPPORTED = re.compile(r"\(\?[=!<]|\\[1-9]|\\k<")
_MAX_LENGTH_REGEX = 256  # longer `{0,n}` regexes are slow in every engine and add nothing over `type`


def sid_regex(prefix: str) -> str:
    return f"^{re.escape(prefix)}[0-9a-fA-F]{{32}}$"


class MatcherBuilder:
    """Builds a body of pact matchers from (example, schema). One per schema: refs resolve against it."""

    def __init__(self, match: Any, schema: Mapping[str, Any] | None = None, *,
                 canonical_sids: bool = False) -> None:
        self.match = match  # the `pact.match` module (imported lazily by the caller)
        self.root: Mapping[str, Any] = schema or {}
        cls = validators.validator_for(self.root) if self.root else None
        self._validator_cls = cls
        self.canonical_sids = canonical_sids
        self.typed_paths: list[str] = []  # JSON paths of regex-matched strings (see extra_rules)
        self._sids: dict[str, str] = {}

    def build(self, example: Any, schema: Mapping[str, Any] | None = None) -> Any:
        self.typed_paths = []
        self._sids = {}
        return self._derive(example, self.root if schema is None else schema, "$")

    def extra_rules(self, category: str = "body") -> dict[str, Any] | None:
        """Matching rules to add with `with_matching_rules` after the body: `type` beside each `regex`."""
        if not self.typed_paths:
            return None
        return {category: {path: {"combine": "AND", "matchers": [{"match": "type"}]}
                           for path in self.typed_paths}}

    # --- walking ----------------------------------------------------------------------------------

    def _derive(self, value: Any, schema: Any, path: str) -> Any:
        schema = self._resolve(schema if isinstance(schema, Mapping) else {}, value)
        if isinstance(value, Mapping):
            return self._object(value, schema, path)
        if isinstance(value, list):
            return self._array(value, schema, path)
        if isinstance(value, bool):
            # `const: true` pins the value; else the JSON type (pact's boolean matcher takes "true" too).
            return value if "const" in schema else self.match.type(value)
        if "const" in schema or value is None:
            return value
        if isinstance(value, str):
            return self._string(value, schema, path)
        if isinstance(value, int):
            return self.match.number(value) if _types(schema) == {"number"} else self.match.int(value)
        if isinstance(value, float):
            return self.match.number(value)
        return value

    def _object(self, value: Mapping[str, Any], schema: Mapping[str, Any], path: str) -> dict[str, Any]:
        properties = schema.get("properties") if isinstance(schema.get("properties"), Mapping) else {}
        extra = schema.get("additionalProperties")
        extra_schema = extra if isinstance(extra, Mapping) else {}
        return {key: self._derive(value[key], properties.get(key, extra_schema), child_path(path, str(key)))
                for key in sorted(value)}

    def _array(self, value: list[Any], schema: Mapping[str, Any], path: str) -> Any:
        items = schema.get("items")
        if isinstance(items, Mapping) and items and value:
            return self.match.each_like(self._derive(value[0], items, f"{path}[*]"), min=1)
        return [self._derive(item, {}, f"{path}[{index}]") for index, item in enumerate(value)]

    def _string(self, value: str, schema: Mapping[str, Any], path: str) -> Any:
        regex = self._string_regex(value, schema)
        if regex is not None:
            self.typed_paths.append(path)
            return self.match.regex(self._stand_in(value, regex), regex=regex)
        return self.match.str(value)

    def _stand_in(self, value: str, regex: str) -> str:
        """A stable example for a SID-shaped value (only where the regex accepts the stand-in)."""
        if not self.canonical_sids or not _SID_SHAPE.fullmatch(value):
            return value
        if value not in self._sids:
            digest = hashlib.sha256(f"{value[:2]}#{len(self._sids)}".encode()).hexdigest()[:32]
            self._sids[value] = value[:2] + digest
        stand_in = self._sids[value]
        return stand_in if re.fullmatch(regex, stand_in) else value

    def _string_regex(self, value: str, schema: Mapping[str, Any]) -> str | None:
        pattern = schema.get("pattern")
        if isinstance(pattern, str) and _usable_pattern(pattern):
            return _full_match(pattern)
        enum = schema.get("enum")
        if isinstance(enum, list) and enum and all(isinstance(v, str) for v in enum):
            return "^(" + "|".join(re.escape(v) for v in enum) + ")$"
        if schema.get("format") == "date-time":
            return ISO_DATETIME
        if _SID_SHAPE.fullmatch(value):
            return sid_regex(value[:2])
        if re.fullmatch(E164, value):
            return E164
        if _CHANNEL_ADDRESS_SHAPE.fullmatch(value):
            return CHANNEL_ADDRESS
        low, high = schema.get("minLength"), schema.get("maxLength")
        if isinstance(high, int) and high <= _MAX_LENGTH_REGEX:
            return rf"^[\s\S]{{{int(low or 0)},{high}}}$"
        if isinstance(low, int) and low > 0:
            return rf"^[\s\S]{{{low},}}$"
        return None

    # --- schema plumbing ------------------------------------------------------------------------------

    def _resolve(self, schema: Mapping[str, Any], value: Any, depth: int = 0) -> Mapping[str, Any]:
        """Follow local `$ref`s and pick the `anyOf`/`oneOf` branch the value satisfies."""
        if depth > 20:
            return schema
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#"):
            target = _pointer(self.root, ref[1:])
            merged = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
            return self._resolve(merged, value, depth + 1)
        for keyword in ("anyOf", "oneOf"):
            branches = schema.get(keyword)
            if isinstance(branches, list):
                for branch in branches:
                    if isinstance(branch, Mapping) and self._valid(value, branch):
                        rest = {k: v for k, v in schema.items() if k != keyword}
                        return self._resolve({**rest, **branch}, value, depth + 1)
        all_of = schema.get("allOf")
        if isinstance(all_of, list):
            merged = {k: v for k, v in schema.items() if k != "allOf"}
            for branch in all_of:
                if isinstance(branch, Mapping):
                    branch = self._resolve(branch, value, depth + 1)
                    props = {**merged.get("properties", {}), **branch.get("properties", {})}
                    merged = {**branch, **merged, "properties": props}
            return merged
        return schema

    def _valid(self, value: Any, schema: Mapping[str, Any]) -> bool:
        if self._validator_cls is None:
            return True
        # Validate against the branch with the root's definitions in reach, for `$ref`s inside it.
        wrapped = {**schema, "$defs": self.root.get("$defs", {}),
                   "definitions": self.root.get("definitions", {})}
        return self._validator_cls(wrapped).is_valid(value)


def child_path(path: str, key: str) -> str:
    """A pact JSON path one key down: `$.a.b`, or `$.a['b.c']` for keys that are not plain names."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", key):
        return f"{path}.{key}"
    return f"{path}['{key}']"


def _types(schema: Mapping[str, Any]) -> set[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return {kind}
    return {k for k in kind if isinstance(k, str)} if isinstance(kind, list) else set()


def _usable_pattern(pattern: str) -> bool:
    if _RUST_UNSUPPORTED.search(pattern):
        return False
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


def _full_match(pattern: str) -> str:
    # JSON Schema patterns search; pact regexes must match the whole value (pact.md §6.9).
    if pattern.startswith("^") and pattern.endswith("$") and not pattern.endswith("\\$"):
        return pattern
    return rf"^[\s\S]*(?:{pattern})[\s\S]*$"


def _pointer(document: Any, pointer: str) -> Mapping[str, Any]:
    node = document
    for part in [p for p in pointer.split("/") if p]:
        part = part.replace("~1", "/").replace("~0", "~")
        node = node.get(part, {}) if isinstance(node, Mapping) else {}
    return node if isinstance(node, Mapping) else {}
