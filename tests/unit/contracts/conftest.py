"""Contract tests choose their pact mode themselves: CI's AUTOPILOT_HARNESS_PACT_MODE=check (tox.ini) is for
the scenario suite against the committed pacts, not for tests that write pacts into temporary folders."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _default_pact_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTOPILOT_HARNESS_PACT_MODE", raising=False)
    monkeypatch.delenv("CI", raising=False)  # $CI alone switches the default to check
