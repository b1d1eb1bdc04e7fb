"""Text → data, plus a way back from a JSON Pointer to a line and column.

Data is parsed with the fast parsers (json, PyYAML's C loader). Lines are found only when an error is
shown: the text is scanned again then (as python-liquid computes line/column only for a message).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.errors import LoadError, Location

try:  # the C loader is much faster; fall back where libyaml is missing
    _YamlLoader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _YamlLoader = yaml.SafeLoader


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


def read_text(path: str | Path) -> str:
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise LoadError("file not found", Location(str(path))) from None
    except IsADirectoryError:
        raise LoadError("is a directory, expected a file", Location(str(path))) from None
    except UnicodeDecodeError as err:
        raise LoadError(f"not UTF-8 text ({err.reason} at byte {err.start})", Location(str(path))) from None
    except OSError as err:
        raise LoadError(f"cannot read: {err.strerror}", Location(str(path))) from None


def load_source(path: str | Path, *, kind: str | None = None) -> Source:
    """Read and parse a JSON or YAML file (by suffix unless `kind` is given)."""
    text = read_text(path)
    if kind is None:
        kind = "yaml" if str(path).lower().endswith((".yaml", ".yml")) else "json"
    return parse_text(text, path=str(path), kind=kind)


def parse_text(text: str, *, path: str | None = None, kind: str = "json") -> Source:
    if kind == "yaml":
        try:
            data = yaml.load(text, Loader=_YamlLoader)
        except yaml.MarkedYAMLError as err:
            raise _yaml_syntax_error(err, text, path) from None
        except yaml.YAMLError as err:
            raise LoadError(f"malformed YAML: {err}", Location(path)) from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise LoadError(f"malformed JSON: {err.msg}", Location(path, "", err.lineno, err.colno)) from None
    return Source(path, text, data, kind)


def _yaml_syntax_error(err: yaml.MarkedYAMLError, text: str, path: str | None) -> LoadError:
    """Where the YAML is really wrong, and under which key.

    The parser's problem mark is where it noticed; for a bracket or quote never closed that is the end of
    the file, far from the mistake, so the place the construct opened (the context mark) is shown instead.
    """
    problem, context = err.problem_mark, err.context_mark
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

    import bisect

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
    root = yaml.compose(text, Loader=_YamlLoader)
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
