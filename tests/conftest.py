"""Shared test helpers. Real Twilio artifacts are read in place from ../shared/real (never copied)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

# numpy (the model router) cannot be loaded twice in one process, and pytester's in-process runs drop the
# modules they import: load it once, before any pytester run.
with contextlib.suppress(ImportError):
    import numpy  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("AUTOPILOT_HARNESS_SHARED", ROOT.parent / "shared"))
REAL = SHARED / "real"
EXAMPLES = ROOT / "examples"

NO_SHARED_REASON = (
    f"real Twilio artifacts not found at {REAL} (clone the project beside 'shared/', "
    "or set AUTOPILOT_HARNESS_SHARED); CI always has them"
)


def real_path(relative: str) -> Path:
    """A path under ../shared/real, skipping the calling test with a clear reason where it is absent."""
    path = REAL / relative
    if not path.exists():
        pytest.skip(NO_SHARED_REASON if not REAL.exists() else f"{path} is missing from shared/real")
    return path


def real_files(relative_dir: str, pattern: str = "*.json") -> list[Path]:
    """Files for parametrizing; an empty list (the test then skips) where shared/ is absent."""
    folder = REAL / relative_dir
    return sorted(folder.rglob(pattern)) if folder.exists() else []


requires_real = pytest.mark.skipif(not REAL.exists(), reason=NO_SHARED_REASON)
