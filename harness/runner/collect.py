"""Collecting scenario files from the paths given: files as given, folders searched as pytest does."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable
from pathlib import Path

from harness.errors import (
    UsageError,
)
from harness.runner.paths import SCENARIO_SUFFIX

# pytest's default `norecursedirs`: `run` skips the folders pytest skips, so both faces collect the same
# files (a scenario copied into build/ or a virtualenv is not run twice). A folder given explicitly is
# searched whatever its name.
NORECURSE_DIRS = ("*.egg", ".*", "_darcs", "build", "CVS", "dist", "node_modules", "venv", "{arch}")


def skipped_folder(folder: Path) -> bool:
    """A folder below the paths given that collection does not enter (`lint` walks folders alike)."""
    return (any(fnmatch.fnmatch(folder.name, pattern) for pattern in NORECURSE_DIRS)
            or (folder / "pyvenv.cfg").is_file())  # a virtualenv under any name, as pytest knows them


def collect_files(paths: Iterable[str | Path], *, pattern: str = f"*{SCENARIO_SUFFIX}") -> list[Path]:
    """Scenario files: the files given, and every file whose name matches `pattern` (fnmatch, as the
    plugin's `scenario_glob`) below the folders given (sorted), skipping `NORECURSE_DIRS` below them."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            inside: list[Path] = []
            for folder, subfolders, names in os.walk(path):
                # Pruned in place: os.walk then never enters node_modules and the like (fast, too).
                subfolders[:] = [d for d in subfolders if not skipped_folder(Path(folder) / d)]
                inside += [Path(folder) / name for name in names
                           if fnmatch.fnmatch(name, pattern) and name.endswith((".yaml", ".yml"))
                           and not name.startswith(".")]
            found += sorted(inside)
        elif path.is_file() or path.exists():  # a pipe or device: its loader refuses it, naming why
            found.append(path)
        else:
            raise UsageError(f"{raw}: no such file or folder")
    return list(dict.fromkeys(found))
