"""Text → data, plus a way back from a JSON Pointer to a line and column.

Data is parsed with the fast parsers (json, PyYAML's C loader). Lines are found only when an error is
shown: the text is scanned again then (as python-liquid computes line/column only for a message).

Every JSON and YAML document the kit reads (files, HTTP answers, command-line JSON) goes through
`parse_text` / `loads_json`, which refuse what the plain parsers would silently accept or choke on:

- a duplicate key (a second `expect:` would silently replace the first) — both places are named;
- nesting deeper than `MAX_NESTING_DEPTH` (deep data ends in a RecursionError, or a crash of the C parser);
- YAML aliases that expand to more than `MAX_YAML_ALIAS_NODES` nodes ("billion laughs"), or that refer to
  a node containing them.
"""

from __future__ import annotations

import bisect
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.errors import LoadError, Location

try:  # the C loader is much faster; fall back where libyaml is missing
    _BaseYamlLoader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _BaseYamlLoader = yaml.SafeLoader


def _limit_from_env(name: str, default: int) -> int:
    """A limit: `default`, or the positive integer in $AUTOPILOT_HARNESS_<name> (read at each use)."""
    raw = os.environ.get(f"AUTOPILOT_HARNESS_{name}", "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        from harness.errors import UsageError

        raise UsageError(f"AUTOPILOT_HARNESS_{name}={raw!r}: expected a positive whole number")
    return value


# The deepest real file we know (an OpenAPI spec in /work/shared/real) nests 18 levels; assistants, flows and
# scenario files nest 14 at most. 64 leaves headroom while staying far from Python's recursion limit in the
# code that walks the data afterwards (schema checks, Liquid, JSON output).
MAX_NESTING_DEPTH = 64
NESTING_DEPTH_ENV = "AUTOPILOT_HARNESS_MAX_NESTING_DEPTH"
# Nodes that YAML aliases may add to a document beyond those written out (each use of `*anchor` adds the
# anchored node's whole subtree). Real files reuse a few anchored expectations: thousands of nodes at most.
MAX_YAML_ALIAS_NODES = 10_000
YAML_ALIAS_NODES_ENV = "AUTOPILOT_HARNESS_MAX_YAML_ALIAS_NODES"
# The largest file read (scenario, parts, bot, flow, schema, recording): real exports are a few MB at most;
# a bigger file is a mistake (a log, a dump, a device) and would be held in memory whole.
MAX_FILE_BYTES = 32 * 1024 * 1024
FILE_BYTES_ENV = "AUTOPILOT_HARNESS_MAX_FILE_BYTES"
# Below this many possible nesting levels the C composer is safe to call directly; beyond it (only for
# hostile or very unusual text) the nesting is first measured on the parser's event stream, which does not
# recurse: libyaml's composer recurses in C and crashes the process at a few ten thousand levels.
_SAFE_TO_COMPOSE = 2_000


def max_nesting_depth() -> int:
    return _limit_from_env("MAX_NESTING_DEPTH", MAX_NESTING_DEPTH)


def max_yaml_alias_nodes() -> int:
    return _limit_from_env("MAX_YAML_ALIAS_NODES", MAX_YAML_ALIAS_NODES)


def _depth_hint() -> str:
    return (f"the limit is {max_nesting_depth()} levels (MAX_NESTING_DEPTH); set {NESTING_DEPTH_ENV} "
            "to raise it")


@dataclass
class Source:
    """One parsed file: its data, its text and where it came from."""

    path: str | None
    text: str
    data: Any
    kind: str = "json"  # "json" or "yaml"
    _index: dict[str, tuple[int, int]] | None = field(default=None, repr=False)

    def locate(self, pointer: str = "") -> Location:
        """The location of `pointer`; the nearest existing parent's line when the pointer itself is absent."""
        index = self._line_index()
        probe = pointer
        while True:
            if probe in index:
                line, column = index[probe]
                return Location(self.path, pointer, line, column)
            if not probe:
                return Location(self.path, pointer)
            probe = probe.rsplit("/", 1)[0]

    def _line_index(self) -> dict[str, tuple[int, int]]:
        if self._index is None:
            try:
                self._index = _yaml_index(self.text) if self.kind == "yaml" else _json_index(self.text)
            except Exception:  # locating is best effort: a message without a line beats no message
                self._index = {}
        return self._index


def max_file_bytes() -> int:
    return _limit_from_env("MAX_FILE_BYTES", MAX_FILE_BYTES)


def read_text(path: str | Path) -> str:
    """A file's text: UTF-8 (a leading BOM is dropped); anything else is a LoadError naming the byte.

    Only regular files are read (a folder, a device such as /dev/zero, a pipe or a socket is refused before
    any byte is read: reading one never ends), and at most MAX_FILE_BYTES: the size is checked with stat()
    and the read is bounded too, for a file that grows while it is read.
    """
    p = Path(path)
    limit = max_file_bytes()
    try:
        status = p.stat()
        if stat.S_ISDIR(status.st_mode):
            raise IsADirectoryError
        if not stat.S_ISREG(status.st_mode):
            raise LoadError("not a regular file (a device, pipe or socket): only files are read",
                            Location(str(path)))
        if status.st_size > limit:
            raise _too_big(path, status.st_size, limit)
        with p.open("rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise LoadError("file not found", Location(str(path))) from None
    except IsADirectoryError:
        raise LoadError("is a directory, expected a file", Location(str(path))) from None
    except OSError as err:
        raise LoadError(f"cannot read: {err.strerror}", Location(str(path))) from None
    if len(data) > limit:
        raise _too_big(path, None, limit)
    return decode_text(data, path=str(path))


def _too_big(path: str | Path, size: int | None, limit: int) -> LoadError:
    shown = f"{size} bytes" if size is not None else "more than that"
    return LoadError(f"the file is {shown}; the limit is {limit} bytes (MAX_FILE_BYTES)", Location(str(path)),
                     f"raise it with the environment variable {FILE_BYTES_ENV}")


def decode_text(data: bytes, *, path: str | None = None, charset: str = "utf-8") -> str:
    """Bytes → text in `charset` (UTF-8 by default; a UTF-8 BOM is dropped).

    Undecodable bytes, an unknown charset, UTF-16/32 text (told apart by its BOM or NUL bytes) and NUL
    characters are a LoadError with the line and column of the first bad byte.
    """
    where = path
    utf8 = charset.lower().replace("_", "-") in ("utf-8", "utf8")
    if utf8 and (data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:4]):
        raise LoadError("not UTF-8 text: UTF-16 or UTF-32 (a byte-order mark or NUL bytes at the start), "
                        "or binary data", Location(where, "", 1, 1), "save the file as UTF-8")
    try:
        text = data.decode("utf-8-sig" if utf8 else charset)
    except LookupError:
        raise LoadError(f"unknown charset {charset!r}", Location(where)) from None
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        raise LoadError(f"not {'UTF-8' if utf8 else charset} text "
                        f"({err.reason}: byte 0x{data[err.start]:02x} at offset {err.start})",
                        Location(where, "", line, column), "save the file as UTF-8") from None
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        column = nul - (text.rfind("\n", 0, nul) + 1) + 1
        raise LoadError("binary data: a NUL character in the text", Location(where, "", line, column))
    return text


def load_source(path: str | Path, *, kind: str | None = None) -> Source:
    """Read and parse a JSON or YAML file (by suffix unless `kind` is given)."""
    text = read_text(path)
    if kind is None:
        kind = "yaml" if str(path).lower().endswith((".yaml", ".yml")) else "json"
    return parse_text(text, path=str(path), kind=kind)


def parse_text(text: str, *, path: str | None = None, kind: str = "json") -> Source:
    """Parse JSON or YAML text strictly (see the module's docstring); any problem is a LoadError."""
    data = _load_yaml(text, path) if kind == "yaml" else loads_json(text, path=path)
    return Source(path, text, data, kind)


def loads_json(text: str, *, path: str | None = None) -> Any:
    """Strict `json.loads`: duplicate keys and nesting beyond MAX_NESTING_DEPTH are a LoadError.

    For every JSON the kit reads: files, HTTP answers (`path` then names the request), command-line JSON.
    """
    duplicate = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal duplicate
        result = dict(items)
        if len(result) != len(items):
            duplicate = True
        return result

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as err:
        raise LoadError(f"malformed JSON: {err.msg}", Location(path, "", err.lineno, err.colno)) from None
    except RecursionError:
        _json_problem(text, path, max_nesting_depth())  # raises the depth error with its place
        raise LoadError("JSON nested too deeply", Location(path), _depth_hint()) from None
    if duplicate:
        _json_problem(text, path, max_nesting_depth())
        raise LoadError("duplicate key in a JSON object", Location(path))  # pragma: no cover - located above
    if _too_deep(data, max_nesting_depth()):
        _json_problem(text, path, max_nesting_depth())
        raise LoadError("JSON nested too deeply", Location(path), _depth_hint())
    return data


def is_malformed(err: LoadError) -> bool:
    """Whether the text was no JSON/YAML at all, as opposed to refused (a duplicate key, too deep, an alias bomb).

    Where Twilio takes broken JSON as text (an HTTP answer, chat attributes), only malformed text does that.
    """
    return err.message.startswith("malformed ")


def check_depth(data: Any, location: Location | None = None, *, what: str = "data") -> None:
    """Refuse data built in memory (memory given on the command line, a parsed answer) that nests too deeply."""
    if _too_deep(data, max_nesting_depth()):
        raise LoadError(f"{what} nested more than {max_nesting_depth()} levels deep", location, _depth_hint())


def _too_deep(data: Any, limit: int) -> bool:
    """Whether `data` nests more than `limit` containers deep (iterative: the data may be anything)."""
    if not isinstance(data, (dict, list)):
        return False
    level: list[Any] = [data]
    depth = 1
    while level:
        if depth > limit:
            return True
        below: list[Any] = []
        for value in level:
            children = value.values() if isinstance(value, dict) else value
            below.extend(child for child in children if isinstance(child, (dict, list)))
        level = below
        depth += 1
    return False


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]')


def _json_problem(text: str, path: str | None, limit: int) -> None:
    """Find the place of a duplicate key or of too deep nesting in valid JSON and raise it (error path only)."""
    starts = _line_starts(text)
    stack: list[dict[str, int] | None] = []  # one entry per open container: the keys seen (objects) or None
    last_string: tuple[str, int] | None = None
    for token in _JSON_TOKEN.finditer(text):
        ch = token.group()
        if ch in "{[":
            stack.append({} if ch == "{" else None)
            if len(stack) > limit:
                raise LoadError(f"JSON nested more than {limit} levels deep",
                                _offset_location(path, starts, token.start()), _depth_hint())
        elif ch in "}]":
            if stack:
                stack.pop()
        elif ch == ":":
            keys = stack[-1] if stack else None
            if keys is not None and last_string is not None:
                key, offset = last_string
                if key in keys:
                    raise _duplicate_error(key, _offset_location(path, starts, keys[key]),
                                           _offset_location(path, starts, offset))
                keys[key] = offset
        elif ch.startswith('"'):
            last_string = (json.loads(ch), token.start())
            continue
        last_string = None


def _line_starts(text: str) -> list[int]:
    starts = [0]
    find = text.find
    at = find("\n")
    while at >= 0:
        starts.append(at + 1)
        at = find("\n", at + 1)
    return starts


def _offset_location(path: str | None, starts: list[int], offset: int) -> Location:
    line = bisect.bisect_right(starts, offset)
    return Location(path, "", line, offset - starts[line - 1] + 1)


def _duplicate_error(key: Any, first: Location, again: Location) -> LoadError:
    return LoadError(f"duplicate key `{key}`: first at line {first.line}, column {first.column}, again at line "
                     f"{again.line}, column {again.column} (the second would silently replace the first)",
                     again, "remove or rename one of them; to repeat a check, make it a list item")


# --- strict YAML ------------------------------------------------------------------------------------


class _StrictYamlLoader(_BaseYamlLoader):  # type: ignore[misc, valid-type]
    """PyYAML's (C) safe loader, plus: duplicate keys refused, nesting and alias expansion capped."""

    path: str | None = None
    has_aliases: bool = True

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        if self.has_aliases:
            _check_yaml_graph(node, self.path)
        else:  # a tree: only its depth needs measuring (the common case, and the fast one)
            _check_yaml_tree_depth(node, self.path)
        return self.construct_document(node)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # `<<: *defaults`: the node's own keys may override merged ones (YAML merge spec)
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:
                    continue  # an unhashable key: the base constructor reports it
                if first is not None:
                    mark = first.start_mark
                    again = key_node.start_mark
                    raise _duplicate_error(key, Location(self.path, "", mark.line + 1, mark.column + 1),
                                           Location(self.path, "", again.line + 1, again.column + 1))
                seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def _construct_timestamp(loader: _StrictYamlLoader, node: Any) -> Any:
    """A YAML timestamp; an impossible date (2024-02-30) is a YAML error at its place, not a ValueError."""
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError) as err:
        raise yaml.constructor.ConstructorError(None, None, f"`{node.value}` is not a valid date/time ({err})",
                                                node.start_mark) from None


_StrictYamlLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


# --- YAML 1.1 vs 1.2 -------------------------------------------------------------------------------
# PyYAML reads YAML 1.1; editors (the YAML language server behind VS Code's YAML extension) read YAML 1.2.
# The two read some plain values differently: `yes`/`no`/`on`/`off` are booleans in 1.1 and text in 1.2,
# `10:30` is the number 630 in 1.1 and text in 1.2, `010` is 8 in 1.1 and 10 in 1.2, `1e5` is text in
# PyYAML and a number in 1.2. Rather than pick one reading (and disagree with the editor, or with older
# tools), the kit refuses these plain values at their place and asks for quotes or an unambiguous form.
# The check costs nothing for other values: it is a resolver tried only for scalars starting with these
# characters.
_YAML11_BOOL_TAG = "tag:autopilot-harness,2024:yaml11-bool"
_NUMBERISH_TAG = "tag:autopilot-harness,2024:numberish"
_YAML11_BOOL = re.compile(r"^(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)$")
# A superset of what YAML 1.1 or 1.2 reads as a number (not .inf/.nan, read alike by both).
_NUMBERISH = re.compile(r"^[-+]?(?:[0-9]|\.[0-9])[0-9a-fA-FxXoO_.:+-]*$")
# The YAML 1.2 core schema's numbers (https://yaml.org/spec/1.2.2/#1023-core-schema).
_CORE12_INT = re.compile(r"[-+]?[0-9]+")
_CORE12_OCT = re.compile(r"0o[0-7]+")
_CORE12_HEX = re.compile(r"0x[0-9a-fA-F]+")
_CORE12_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")


def yaml12_core_value(text: str) -> Any:
    """What YAML 1.2's core schema reads a plain number-like scalar as (a number, else the text)."""
    if _CORE12_INT.fullmatch(text):
        return int(text)
    if _CORE12_OCT.fullmatch(text):
        return int(text[2:], 8)
    if _CORE12_HEX.fullmatch(text):
        return int(text[2:], 16)
    if _CORE12_FLOAT.fullmatch(text):
        return float(text)
    return text


def _yaml11_tag(text: str) -> str:
    for tag, pattern in yaml.resolver.Resolver.yaml_implicit_resolvers.get(text[:1], []):
        if pattern.match(text):
            return tag
    return "tag:yaml.org,2002:str"


def _yaml_reading(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    return f"the text {json.dumps(value)}"


def _ambiguous(loader: _StrictYamlLoader, node: Any, yaml11: Any, yaml12: Any) -> LoadError:
    mark = node.start_mark
    text = node.value
    hint = (f"quote it ('{text}') if you mean text, or write true/false for a boolean" if isinstance(yaml11, bool)
            else f"quote it ('{text}') if you mean text; write a number so that both read it alike: no leading "
                 "zero, `_` or `:`, an exponent after a dot and with a sign (1.0e+5)")
    return LoadError(f"`{text}` is ambiguous: YAML 1.1 (PyYAML) reads {_yaml_reading(yaml11)}, YAML 1.2 (editors) "
                     f"reads {_yaml_reading(yaml12)}; the kit refuses it rather than guess",
                     Location(loader.path, "", mark.line + 1, mark.column + 1), hint)


def _construct_yaml11_bool(loader: _StrictYamlLoader, node: Any) -> Any:
    raise _ambiguous(loader, node, yaml.constructor.SafeConstructor.construct_yaml_bool(loader, node), node.value)


def _construct_numberish(loader: _StrictYamlLoader, node: Any) -> Any:
    """A number-like plain scalar: its YAML 1.1 value when YAML 1.2 reads it the same, else refused."""
    tag = _yaml11_tag(node.value)
    if tag == "tag:yaml.org,2002:timestamp":
        return _construct_timestamp(loader, node)  # a date: text in YAML 1.2, made ISO text by the kit too
    if tag == "tag:yaml.org,2002:int":
        yaml11: Any = yaml.constructor.SafeConstructor.construct_yaml_int(loader, node)
    elif tag == "tag:yaml.org,2002:float":
        yaml11 = yaml.constructor.SafeConstructor.construct_yaml_float(loader, node)
    else:
        yaml11 = node.value
    yaml12 = yaml12_core_value(node.value)
    if type(yaml11) is not type(yaml12) or yaml11 != yaml12:
        raise _ambiguous(loader, node, yaml11, yaml12)
    return yaml11


def _agreeing_resolvers() -> dict[str, list[tuple[str, Any]]]:
    """PyYAML's implicit resolvers, with the checks above tried first for the characters they start with."""
    table = {key: list(value) for key, value in yaml.resolver.Resolver.yaml_implicit_resolvers.items()}
    for first in "yYnNoO":
        table.setdefault(first, []).insert(0, (_YAML11_BOOL_TAG, _YAML11_BOOL))
    for first in "-+.0123456789":
        table.setdefault(first, []).insert(0, (_NUMBERISH_TAG, _NUMBERISH))
    return table


_StrictYamlLoader.yaml_implicit_resolvers = _agreeing_resolvers()
_StrictYamlLoader.add_constructor(_YAML11_BOOL_TAG, _construct_yaml11_bool)
_StrictYamlLoader.add_constructor(_NUMBERISH_TAG, _construct_numberish)


def _load_yaml(text: str, path: str | None) -> Any:
    if _possible_depth(text) > _SAFE_TO_COMPOSE:
        _check_yaml_event_depth(text, path)
    loader = _StrictYamlLoader(text)
    loader.path = path
    loader.has_aliases = "*" in text  # no `*`, no alias: the composed document is a tree
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as err:
        raise _yaml_syntax_error(err, text, path) from None
    except yaml.YAMLError as err:
        raise LoadError(f"malformed YAML: {err}", Location(path)) from None
    except RecursionError:  # pragma: no cover - the depth checks above come first
        raise LoadError("YAML nested too deeply", Location(path), _depth_hint()) from None
    except (ValueError, TypeError, OverflowError) as err:  # a constructor's own error: still bad input
        raise LoadError(f"malformed YAML: {err}", Location(path)) from None
    finally:
        loader.dispose()


def _possible_depth(text: str) -> int:
    """An upper bound of the nesting a YAML text can express: flow brackets plus block levels (each block
    level takes at least one more column of indentation or a `- `/`? ` indicator on the line)."""
    longest = max((len(line) for line in text.splitlines()), default=0)
    return text.count("[") + text.count("{") + 2 * longest + 2


def _check_yaml_event_depth(text: str, path: str | None) -> None:
    """Measure nesting on libyaml's event stream (no recursion) before anything composes the text."""
    limit = max_nesting_depth()
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_BaseYamlLoader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > limit:
                    mark = event.start_mark
                    raise LoadError(f"YAML nested more than {limit} levels deep",
                                    Location(path, "", mark.line + 1, mark.column + 1), _depth_hint())
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.MarkedYAMLError as err:
        raise _yaml_syntax_error(err, text, path) from None
    except yaml.YAMLError as err:
        raise LoadError(f"malformed YAML: {err}", Location(path)) from None


def _check_yaml_graph(root: Any, path: str | None) -> None:
    """Nesting depth, alias expansion and alias cycles of a composed YAML document (one pass, iterative).

    An alias is the same node object reached again, so the document as the kit will walk it has
    `expanded(root)` nodes while only `len(seen)` are written out.
    """
    depth_limit, alias_limit = max_nesting_depth(), max_yaml_alias_nodes()
    expanded: dict[int, int] = {}  # node id -> nodes in its subtree, aliases expanded
    height: dict[int, int] = {}  # node id -> container levels from it down
    uses: dict[int, int] = {}
    nodes: dict[int, Any] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            open_nodes.discard(key)
            children = _children(node)
            expanded[key] = 1 + sum(expanded[id(child)] for child in children)
            height[key] = 1 + max((height[id(child)] for child in children), default=0)
            if expanded[key] - len(expanded) > alias_limit:
                _alias_bomb(node, nodes, uses, expanded, path, alias_limit)
            continue
        uses[key] = uses.get(key, 0) + 1
        if key in expanded:
            continue
        if key in open_nodes:
            mark = node.start_mark
            raise LoadError("a YAML alias refers to a node that contains it (a recursive structure)",
                            Location(path, "", mark.line + 1, mark.column + 1), "write the value out instead")
        if not isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            expanded[key], height[key] = 1, 0
            continue
        open_nodes.add(key)
        nodes[key] = node
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(_children(node)))
    if height[id(root)] > depth_limit:
        node, level = root, 1
        while level <= depth_limit:
            node = max((child for child in _children(node)), key=lambda child: height[id(child)])
            level += 1
        mark = node.start_mark
        raise LoadError(f"YAML nested more than {depth_limit} levels deep",
                        Location(path, "", mark.line + 1, mark.column + 1), _depth_hint())
    if expanded[id(root)] - len(expanded) > alias_limit:  # pragma: no cover - caught during the walk
        _alias_bomb(root, nodes, uses, expanded, path, alias_limit)


def _check_yaml_tree_depth(root: Any, path: str | None) -> None:
    limit = max_nesting_depth()
    mapping, sequence = yaml.MappingNode, yaml.SequenceNode
    level = [root] if isinstance(root, (mapping, sequence)) else []
    depth = 1
    while level:
        if depth > limit:
            mark = level[0].start_mark
            raise LoadError(f"YAML nested more than {limit} levels deep",
                            Location(path, "", mark.line + 1, mark.column + 1), _depth_hint())
        below: list[Any] = []
        for node in level:
            if isinstance(node, mapping):
                for key, value in node.value:
                    if isinstance(key, (mapping, sequence)):
                        below.append(key)
                    if isinstance(value, (mapping, sequence)):
                        below.append(value)
            else:
                below.extend(item for item in node.value if isinstance(item, (mapping, sequence)))
        level = below
        depth += 1


def _children(node: Any) -> list[Any]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _alias_bomb(node: Any, nodes: dict[int, Any], uses: dict[int, int], expanded: dict[int, int],
                path: str | None, limit: int) -> None:
    """Name the anchored node whose reuse costs the most (where the bomb is defined)."""
    reused = [(expanded[key] * uses[key], key) for key in nodes if uses.get(key, 0) > 1 and key in expanded]
    culprit = nodes[max(reused)[1]] if reused else node
    mark = culprit.start_mark
    raise LoadError(f"YAML aliases expand to more than {limit} extra nodes (an alias bomb?)",
                    Location(path, "", mark.line + 1, mark.column + 1),
                    f"the limit is MAX_YAML_ALIAS_NODES; set {YAML_ALIAS_NODES_ENV} to raise it")


def _yaml_syntax_error(err: yaml.MarkedYAMLError, text: str, path: str | None) -> LoadError:
    """Where the YAML is really wrong, and under which key.

    The parser's problem mark is where it noticed; for a bracket or quote never closed that is the end of
    the file, far from the mistake, so the place the construct opened (the context mark) is shown instead.
    """
    problem, context = err.problem_mark, err.context_mark
    if "maximum nesting depth" in str(err.problem or ""):
        # libyaml ≥ 0.2.5 (PyYAML 6.0.4 wheels) stops very deep text itself, in its scanner, before our own
        # measure sees the events: the same refusal, named as ours (the place is where libyaml stopped).
        where = problem or context
        return LoadError(f"YAML nested more than {max_nesting_depth()} levels deep",
                         Location(path, "", where.line + 1 if where else None,
                                  where.column + 1 if where else None), _depth_hint())
    at_end = problem is not None and not text[problem.index:].strip()
    mark = context if (problem is None or at_end) and context is not None else problem
    if mark is None:
        return LoadError(f"malformed YAML: {err.problem or err}", Location(path))
    message = f"malformed YAML: {err.problem or 'syntax error'}"
    if err.context:
        message += f" ({err.context}"
        if context is not None and mark is not context:
            message += f" that starts at line {context.line + 1}, column {context.column + 1}"
        message += ")"
    key = _key_before(text, mark.line, mark.column) or (
        _key_before(text, context.line, context.column) if context is not None else None)
    if key:
        message += f", in the value of `{key}`"
    hint = "the file ends before this bracket or quote is closed" if at_end and mark is context else None
    return LoadError(message, Location(path, "", mark.line + 1, mark.column + 1), hint)


_KEY_AT_LINE = re.compile(r"""^\s*(?:-\s+)*(?:"([^"]+)"|'([^']+)'|([^\s#:'"\[\]{},][^:#]*?))\s*:(?:\s|$)""")


def _key_before(text: str, line: int, column: int) -> str | None:
    """The mapping key whose value holds (line, column): the key on that line, else the nearest one above
    that is less indented (best effort; a wrong guess is worse than none, so give up on flow collections)."""
    lines = text.splitlines()
    if line >= len(lines):
        return None
    found = _KEY_AT_LINE.match(lines[line][:column] if column else lines[line])
    if found and column:
        return next(group for group in found.groups() if group).strip()
    indent = len(lines[line]) - len(lines[line].lstrip())
    for above in reversed(lines[:line]):
        stripped = above.lstrip()
        if not stripped or stripped.startswith("#"):
            continue
        if len(above) - len(stripped) < indent:
            found = _KEY_AT_LINE.match(above)
            return next(group for group in found.groups() if group).strip() if found else None
    return None


def source_from_data(data: Any, *, path: str | None = None) -> Source:
    """A Source for data built in memory (no text, so no lines)."""
    return Source(path, "", data, "data", {})


# --- pointer → (line, column) indexes -------------------------------------------------------------

_decoder = json.JSONDecoder()
_WS = " \t\n\r"


def _json_index(text: str) -> dict[str, tuple[int, int]]:
    """Map every JSON Pointer in `text` to the 1-based line and column where its value starts."""
    line_starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            line_starts.append(i + 1)

    def position(offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(line_starts, offset)
        return line, offset - line_starts[line - 1] + 1

    index: dict[str, tuple[int, int]] = {}

    def skip(i: int) -> int:
        while i < len(text) and text[i] in _WS:
            i += 1
        return i

    def value(i: int, pointer: str) -> int:
        i = skip(i)
        index[pointer] = position(i)
        ch = text[i]
        if ch == "{":
            i = skip(i + 1)
            if text[i] == "}":
                return i + 1
            while True:
                i = skip(i)
                key, i = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
                i = skip(i)  # at ':'
                i = value(i + 1, pointer + "/" + key.replace("~", "~0").replace("/", "~1"))
                i = skip(i)
                if text[i] == ",":
                    i += 1
                    continue
                return i + 1  # '}'
        if ch == "[":
            i = skip(i + 1)
            if text[i] == "]":
                return i + 1
            n = 0
            while True:
                i = value(i, f"{pointer}/{n}")
                n += 1
                i = skip(i)
                if text[i] == ",":
                    i += 1
                    continue
                return i + 1  # ']'
        _, end = _decoder.raw_decode(text, i)
        return end

    value(0, "")
    return index


def _yaml_index(text: str) -> dict[str, tuple[int, int]]:
    if _possible_depth(text) > _SAFE_TO_COMPOSE:
        _check_yaml_event_depth(text, None)  # never let the C composer recurse into a crash
    root = yaml.compose(text, Loader=_BaseYamlLoader)
    index: dict[str, tuple[int, int]] = {}

    def walk(node: Any, pointer: str) -> None:
        index[pointer] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = str(key_node.value).replace("~", "~0").replace("/", "~1")
                walk(value_node, f"{pointer}/{key}")
        elif isinstance(node, yaml.SequenceNode):
            for n, item in enumerate(node.value):
                walk(item, f"{pointer}/{n}")

    if root is not None:
        walk(root, "")
    return index
