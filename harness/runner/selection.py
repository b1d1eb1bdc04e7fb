"""Selecting cases: `-k EXPR` exactly as `pytest -k EXPR` selects the same items, and `--tag`.

pytest's `-k` matches an expression against an item's keywords: the names of the item and of its parents
(the folders below the rootdir, the file name), its markers (our tags) and extra keywords (none here). A
word matches when it is a case-insensitive substring of one of them; `and`, `or`, `not` and parentheses
combine words (pytest's `_pytest/mark/expression.py` grammar, replicated here because `run` must not import
pytest, which is only a test dependency). The folders count from pytest's rootdir, found the way pytest
finds it (`pytest_rootdir`), so `run -k hospitality scenarios/` selects what `pytest -k hospitality
scenarios/` selects (a test runs both faces on the same folders and compares the ids).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import UsageError
from harness.models.scenario_model import Scenario

Select = Callable[[str, Scenario], bool]  # (file as displayed, concrete scenario) → run it?
Matcher = Callable[[Sequence[str]], bool]  # lower-cased keywords → selected?

BROKEN_FILE_KEYWORD = "(file)"  # the name of a broken file's item in both faces (pytest's node id ends so)

# pytest's identifier: `(:?\w|:|\+|-|\.|\[|\]|\\|/)+`, so `v2`, `hotel.scenario.yaml`, `variants[v1]`.
_IDENT = re.compile(r"(:?\w|:|\+|-|\.|\[|\]|\\|/)+")


@dataclass(frozen=True)
class _Token:
    kind: str  # "(" ")" "or" "and" "not" "ident" "=" "," "string" "eof"
    value: str
    pos: int


# pytest's names of token kinds in its messages ("expected not OR left parenthesis OR identifier; …").
_SHOWN = {"(": "left parenthesis", ")": "right parenthesis", "or": "or", "and": "and", "not": "not",
          "ident": "identifier", "eof": "end of input", "=": "=", ",": ",", "string": "string literal"}


def _problem(expression: str, column: int, message: str) -> UsageError:
    return UsageError(f"-k {expression!r}: at column {column}: {message}",
                      hint="the grammar of pytest -k: words, and, or, not, parentheses")


def _tokens(expression: str) -> list[_Token]:
    tokens, pos = [], 0
    while pos < len(expression):
        char = expression[pos]
        if char in " \t":
            pos += 1
        elif char in "()=,":
            tokens.append(_Token(char, char, pos))
            pos += 1
        elif char in "'\"":
            end = expression.find(char, pos + 1)
            if end == -1:
                raise _problem(expression, pos + 1, f'closing quote "{char}" is missing')
            tokens.append(_Token("string", expression[pos:end + 1], pos))
            pos = end + 1
        elif found := _IDENT.match(expression, pos):
            word = found.group(0)
            tokens.append(_Token(word if word in ("or", "and", "not") else "ident", word, pos))
            pos += len(word)
        else:
            raise _problem(expression, pos + 1, f'unexpected character "{char}"')
    tokens.append(_Token("eof", "", pos))
    return tokens


def keyword_matcher(expression: str) -> Callable[[Iterable[str]], bool]:
    """pytest's `-k EXPR` as a test of an item's keywords; a UsageError (at which column, what was
    expected) for an expression pytest refuses. An empty expression selects everything, as in pytest."""
    expression = expression.lstrip()
    if not expression:
        return lambda names: True
    tokens = _tokens(expression)
    position = 0

    def accept(kind: str) -> _Token | None:
        nonlocal position
        token = tokens[position]
        if token.kind != kind:
            return None
        if kind != "eof":
            position += 1
        return token

    def reject(*expected: str) -> UsageError:
        token = tokens[position]
        wanted = " OR ".join(_SHOWN[kind] for kind in expected)
        return _problem(expression, token.pos + 1, f"expected {wanted}; got {_SHOWN[token.kind]}")

    def parse_or() -> Matcher:
        left = parse_and()
        while accept("or"):
            left = (lambda a, b: lambda names: a(names) or b(names))(left, parse_and())
        return left

    def parse_and() -> Matcher:
        left = parse_not()
        while accept("and"):
            left = (lambda a, b: lambda names: a(names) and b(names))(left, parse_not())
        return left

    def parse_not() -> Matcher:
        if accept("not"):
            inner = parse_not()
            return lambda names: not inner(names)
        if accept("("):
            inner = parse_or()
            if not accept(")"):
                raise reject(")")
            return inner
        ident = accept("ident")
        if ident is None:
            raise reject("not", "(", "ident")
        if tokens[position].kind == "(":  # pytest parses `name(k=v)`, then -k refuses it
            raise UsageError(f"-k {expression!r}: keyword expressions do not support call parameters "
                             f"(at column {tokens[position].pos + 1})")
        word = ident.value.lower()
        return lambda names: any(word in name for name in names)

    matcher = parse_or()
    if not accept("eof"):
        raise reject("eof")
    return lambda names: matcher([name.lower() for name in names])


# --- pytest's rootdir: the folders above it are not keywords -----------------------------------------


_CONFIG_NAMES = ("pytest.toml", ".pytest.toml", "pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini",
                 "setup.cfg")


def _ini_sections(path: Path) -> set[str]:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return set()
    return {line.strip()[1:-1].strip() for line in lines if line.strip().startswith("[") and line.strip().endswith("]")}


def _has_pytest_config(path: Path) -> bool:
    """pytest's `load_config_dict_from_file(path) is not None`."""
    if path.name in ("pytest.ini", ".pytest.ini", "pytest.toml", ".pytest.toml"):
        return True
    if path.name == "tox.ini":
        return "pytest" in _ini_sections(path)
    if path.name == "setup.cfg":
        return "tool:pytest" in _ini_sections(path)
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    table = data.get("tool", {}).get("pytest", {})
    table = table if isinstance(table, dict) else {}
    return bool({k for k in table if k != "ini_options"}) or "ini_options" in table


def _locate_config(args: Sequence[Path]) -> Path | None:
    """pytest's `locate_config`: the first folder up from each arg with a pytest configuration file, else the
    folder of the first pyproject.toml met (pytest ≥ 8.1 takes it as the rootdir)."""
    first_pyproject: Path | None = None
    for arg in args:
        for base in (arg, *arg.parents):
            for name in _CONFIG_NAMES:
                candidate = base / name
                if candidate.is_file():
                    if name == "pyproject.toml" and first_pyproject is None:
                        first_pyproject = candidate
                    if _has_pytest_config(candidate):
                        return base
    return first_pyproject.parent if first_pyproject is not None else None


def _common_ancestor(invocation_dir: Path, paths: Iterable[Path]) -> Path:
    existing = [p for p in paths if p.exists()]
    if not existing:
        return invocation_dir
    common = Path(os.path.commonpath([str(p) for p in existing]))
    return common.parent if common.is_file() else common


def pytest_rootdir(paths: Sequence[str | Path], invocation_dir: Path | None = None) -> Path:
    """The rootdir `pytest PATHS` would pick from `invocation_dir` (pytest's `determine_setup`, without
    `-c` or `--rootdir`)."""
    invocation_dir = Path(os.path.abspath(invocation_dir or Path.cwd()))
    absolute = [Path(os.path.abspath(p)) for p in paths]
    dirs = [p if p.is_dir() else p.parent for p in absolute if p.exists()]
    ancestor = _common_ancestor(invocation_dir, dirs)
    found = _locate_config([ancestor])
    if found is not None:
        return found
    for folder in (ancestor, *ancestor.parents):
        if (folder / "setup.py").is_file():
            return folder
    if dirs != [ancestor]:
        found = _locate_config(dirs)
        if found is not None:
            return found
    root = _common_ancestor(invocation_dir, [invocation_dir, ancestor])
    return ancestor if os.path.splitdrive(str(root))[1] == os.sep else root


# --- selection ---------------------------------------------------------------------------------------


@dataclass
class Selection:
    """A `select` for run_suite: `-k EXPR` over pytest's keywords of each case, and `--tag` (any of them).

    Call it with (file as displayed, concrete scenario); `broken_file(file)` says whether a file that cannot
    be loaded is selected (pytest's `(file)` item: -k decides; --tag alone keeps it, so it is not hidden).
    """

    keyword: str | None = None
    tags: Sequence[str] = ()
    paths: Sequence[str | Path] = ()  # the paths given, for pytest's rootdir
    _matches: Callable[[Iterable[str]], bool] | None = field(init=False, default=None)
    _root: Path | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.keyword:
            self._matches = keyword_matcher(self.keyword)
            self._root = pytest_rootdir(self.paths or ["."])

    def keywords(self, file: str) -> list[str]:
        """The folders between pytest's rootdir and the file, and its name (the item's parents' names)."""
        path = Path(os.path.abspath(file))
        base = self._base(path)
        folders = list(path.parent.relative_to(base).parts) if base is not None else []
        return [*folders, path.name]

    def _base(self, path: Path) -> Path | None:
        """pytest's chain starts at the rootdir, or, for a path outside it, at the path given."""
        candidates = [self._root] if self._root is not None else []
        candidates += [Path(os.path.abspath(p)) for p in self.paths]
        for base in candidates:
            folder = base if base.is_dir() else base.parent
            if path.parent == folder or folder in path.parents:
                return folder
        return None

    def __call__(self, file: str, scenario: Scenario) -> bool:
        if self.tags and not set(self.tags) & set(scenario.tags):
            return False
        return self._matches is None or self._matches([*self.keywords(file), scenario.id, *scenario.tags])

    def broken_file(self, file: str) -> bool:
        return self._matches is None or self._matches([*self.keywords(file), BROKEN_FILE_KEYWORD])


def selector(keyword: str | None = None, tags: Sequence[str] = (),
             paths: Sequence[str | Path] = ()) -> Selection | None:
    """A `select` for run_suite from `-k EXPR` and `--tag` (any of them); None selects everything.
    `paths` are the paths given to the run: pytest's rootdir, where folder keywords start, comes from them."""
    if not (keyword or "").strip() and not tags:
        return None
    return Selection(keyword=keyword, tags=tuple(tags), paths=tuple(paths))
