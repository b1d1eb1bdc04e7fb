"""The one place pact-python is imported: telemetry off and FFI logging quiet before the FFI loads."""

from __future__ import annotations

import logging
import os
from types import ModuleType

from harness.errors import UsageError

_INSTALL_HINT = "pip install 'autopilot-harness[contracts]' (pact-python>=4.2,<5)"


def load_pact() -> ModuleType:
    """`import pact`, configured for the kit; a UsageError (not an ImportError) when it is missing."""
    # The FFI pings a usage-metrics endpoint unless told not to; the kit works offline (pact.md §6.10).
    os.environ.setdefault("PACT_DO_NOT_TRACK", "true")
    # The FFI fixes its log level when it first loads; INFO forwards noise into every test's output.
    logger = logging.getLogger("pact.ffi")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.WARNING)
    try:
        import pact
    except ImportError as err:  # pragma: no cover - depends on the installation
        raise UsageError(f"contract tests need pact-python: {err}", hint=_INSTALL_HINT) from None
    return pact
