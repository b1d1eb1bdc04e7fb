"""Scenario files and paths as users read them: the suffix, display paths, a scenario's project root."""

from __future__ import annotations

from pathlib import Path

SCENARIO_SUFFIX = ".scenario.yaml"


def display_path(path: str | Path) -> str:
    """A path as a user reads it: relative to the working directory when below it, with '/'."""
    path = Path(path)
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def import_root(scenario_file: str | Path) -> Path:
    """Where a scenario's `servers:` modules are imported from: the folder of the nearest pyproject.toml
    above the file, else the file's folder — like paths, relative to the scenario's project, not the cwd."""
    folder = Path(scenario_file).resolve().parent
    for candidate in (folder, *folder.parents):
        if (candidate / "pyproject.toml").is_file():
            return candidate
    return folder
