"""Output files of the faces (`run --json/--junit/--coverage-out`, `report -o`, `coverage -o`, the pytest
plugin's `--autopilot-json`): one rule for all of them.

Missing parent folders are created; a path that is a folder, or that cannot be created or written, is one
`UsageError` naming the option (exit 2), checked before a run starts so a long run is not wasted.
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

__all__ = ["prepare_output", "silence_closed_pipe", "write_output"]


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


def write_output(target: str | Path, text: str, option: str) -> Path:
    """Write `text` to `target` (UTF-8) under the rule above; OSError becomes a UsageError."""
    path = prepare_output(target, option)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as err:
        raise UsageError(f"{option} {target}: cannot write: {err.strerror}") from None
    return path
