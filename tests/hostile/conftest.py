"""Fixtures shared by the hostile-input corpus."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.hostile.network_kit import NetworkRecorder, recording


@pytest.fixture
def net(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetworkRecorder]:
    """Every DNS lookup and connection the test makes, recorded (and refused beyond loopback)."""
    with recording(monkeypatch) as record:
        yield record
