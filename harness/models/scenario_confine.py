"""Where a scenario file may read its data from: the project root, plus folders a setting allows.

Files whose content becomes scenario data — parts files (`include:`), JSON Schema files (`*_schema: FILE`,
also under `contracts:`) and replay recordings — must lie inside the project root: the folder of the
nearest pyproject.toml above the scenario file, or the scenario file's own folder without one. A scenario
that names `/etc/passwd` or `../../secrets.yaml` is refused before the file is opened, and messages about
such a file (or about one that does not parse) never quote its content.

The system under test (`bot:`, `flow:`, `subflows:`, `functions:`, `workflow:`, `queues:`, `wsgi` servers) is
not confined: it is code and configuration the user points the kit at on purpose, often in a sibling folder
(`../../examples/...`), and its content is never copied into scenario data.

More folders are allowed with `[tool.autopilot-harness] allow_paths = ["../shared"]` (relative to the
pyproject.toml) or the environment variable AUTOPILOT_HARNESS_ALLOW_PATHS (folders separated by the system's
path separator, relative to the working directory).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import Location, UsageError

ALLOW_PATHS_ENV = "AUTOPILOT_HARNESS_ALLOW_PATHS"
SETTING = "[tool.autopilot-harness] allow_paths"


@dataclass(frozen=True)
class ProjectRoot:
    """The folders a scenario file may read data files from (all resolved: symlinks followed)."""

    root: Path
    why: str  # "the folder of …/pyproject.toml" or "no pyproject.toml above the scenario file"
    allowed: tuple[Path, ...] = ()

    def permits(self, path: Path) -> bool:
        real = path.resolve()
        return any(real == folder or folder in real.parents for folder in (self.root, *self.allowed))

    def refusal(self, key: str, raw: str, path: Path) -> tuple[str, str]:
        """(message, hint) for a data file outside the root; the file is not read."""
        real = path.resolve()
        shown = f"{raw}" if str(real) == raw else f"{raw} (resolved to {real})"
        return (f"{key}: {shown} is outside the project root {self.root} ({self.why}); scenario data files "
                "are read only from inside it",
                f"allow its folder with {SETTING} = [\"…\"] in pyproject.toml (relative to it) or the "
                f"environment variable {ALLOW_PATHS_ENV}")


def project_root(scenario_path: str | None) -> ProjectRoot:
    """The root for a scenario file at `scenario_path` (None: read from stdin, the working directory)."""
    folder = Path(scenario_path).absolute().parent if scenario_path else Path.cwd()
    pyproject = _nearest_pyproject(folder.resolve())
    env = tuple(Path(p).resolve() for p in os.environ.get(ALLOW_PATHS_ENV, "").split(os.pathsep) if p.strip())
    if pyproject is None:
        return ProjectRoot(folder.resolve(), "no pyproject.toml above the scenario file: its own folder", env)
    stat = pyproject.stat()
    allowed = read_allow_paths(pyproject, stat.st_mtime_ns, stat.st_size)
    return ProjectRoot(pyproject.parent, f"the folder of {pyproject}", (*allowed, *env))


def _nearest_pyproject(folder: Path) -> Path | None:
    for candidate in (folder, *folder.parents):
        if (candidate / "pyproject.toml").is_file():
            return candidate / "pyproject.toml"
    return None


@functools.lru_cache(maxsize=64)
def read_allow_paths(pyproject: Path, _mtime: int = 0, _size: int = 0) -> tuple[Path, ...]:
    """`allow_paths` of pyproject.toml's `[tool.autopilot-harness]`, resolved against its folder.

    A value that is not a list of folder paths is a UsageError naming the file (never ignored). A pyproject
    that cannot be read or parsed allows nothing more (its own reader, `harness.runner.settings`, reports it).
    """
    import tomllib

    try:
        with pyproject.open("rb") as handle:
            table = tomllib.load(handle).get("tool", {}).get("autopilot-harness", {})
    except (OSError, tomllib.TOMLDecodeError):
        return ()
    raw: Any = table.get("allow_paths") if isinstance(table, dict) else None
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(p, str) and p.strip() for p in raw):
        raise UsageError(f"{SETTING}: expected a list of folder paths (strings), found {type(raw).__name__}",
                         Location(str(pyproject)))
    return tuple((pyproject.parent / p).resolve() for p in raw)
