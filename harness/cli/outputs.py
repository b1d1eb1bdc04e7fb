"""Output files and folders of the faces (`run --json/--junit/--coverage-out`, `report -o`, `coverage -o`,
`nlu-eval --out/--export`, `contracts generate --pact-dir`, the pytest plugin's `--autopilot-json` and
`--autopilot-coverage`): one rule for all of them.

Missing parent folders are created; a file path that is a folder, a folder path that is a file, a path
below a file, or one that cannot be created or written, is one `UsageError` naming the option (exit 2),
checked before the work starts so a long run is not wasted.
Standard library only (the pytest plugin uses it).
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path
from typing import TextIO

from harness.errors import UsageError

__all__ = ["output_error", "prepare_output", "prepare_output_folder", "silence_closed_pipe", "write_output"]


def silence_closed_pipe(stream: TextIO | None = None) -> None:
    """After a BrokenPipeError (`autopilot-harness lint --format json | head -2`): point the stream's file
    descriptor at /dev/null, so the interpreter's final flush cannot raise again and print a traceback
    (the recipe in Python's `signal` docs). Every face stops quietly this one way."""
    stream = stream or sys.stdout
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())


def prepare_output(target: str | Path, option: str) -> Path:
    """Check that `target` can be written (creating its parent folders); the path, or a UsageError."""
    path = Path(target)
    if path.is_dir():
        raise UsageError(f"{option} {target}: is a folder, expected a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        blocker = _file_in_the_way(path.parent) if isinstance(err, FileExistsError | NotADirectoryError) else None
        if blocker is not None:
            raise UsageError(f"{option} {target}: {blocker} is a file, not a folder") from None
        raise UsageError(f"{option} {target}: cannot create the folder {path.parent}: {err.strerror}") from None
    if not path.parent.is_dir():
        raise UsageError(f"{option} {target}: {path.parent} is not a folder")
    existed = path.exists()
    try:  # the one sure test of writability (permissions, read-only or virtual file systems)
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as err:
        raise UsageError(f"{option} {target}: cannot write: {err.strerror}") from None
    if not existed:
        path.unlink(missing_ok=True)  # the probe leaves no empty file behind
    return path


def prepare_output_folder(target: str | Path, option: str, *, create: bool = True) -> Path:
    """Check that files can be written in the folder `target` (creating it); the path, or a UsageError.

    `create=False`: check without creating anything (a command that must leave no folder behind when its
    input turns out bad); a file in the way or a read-only parent is still found now."""
    path = Path(target)
    if path.exists() and not path.is_dir():
        raise UsageError(f"{option} {target}: is a file, expected a folder (files are written inside it)")
    blocker = _file_in_the_way(path)
    if blocker is not None:
        raise UsageError(f"{option} {target}: {blocker} is a file, not a folder")
    if not create and not path.exists():
        existing = next(p for p in path.absolute().parents if p.exists())
        if not os.access(existing, os.W_OK | os.X_OK):
            raise UsageError(f"{option} {target}: cannot create the folder: {existing} is not writable")
        return path
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise output_error(option, target, err, creating=True) from None
    probe = path / f".autopilot-harness-write-probe-{os.getpid()}"
    try:  # the one sure test of writability (permissions, read-only or virtual file systems)
        probe.touch()
        probe.unlink()
    except OSError as err:
        raise UsageError(f"{option} {target}: cannot write in this folder: {err.strerror or err}") from None
    return path


def output_error(option: str, target: str | Path, err: OSError, *, creating: bool = False) -> UsageError:
    """The message for an OSError met while writing an output (a file in the way, no permission…)."""
    if isinstance(err, FileExistsError | NotADirectoryError):
        blocker = _file_in_the_way(Path(target))
        if blocker is not None:
            return UsageError(f"{option} {target}: {blocker} is a file, not a folder")
    verb = "cannot create the folder" if creating else "cannot write"
    return UsageError(f"{option} {target}: {verb}: {err.strerror or err}")


def _file_in_the_way(path: Path) -> Path | None:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate if not candidate.is_dir() else None
    return None


def write_output(target: str | Path, text: str, option: str) -> Path:
    """Write `text` to `target` (UTF-8) under the rule above; OSError becomes a UsageError."""
    path = prepare_output(target, option)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as err:
        raise UsageError(f"{option} {target}: cannot write: {err.strerror}") from None
    return path
