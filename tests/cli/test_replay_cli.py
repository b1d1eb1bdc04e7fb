"""`autopilot-harness replay`: a recording with nothing to replay fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main

# --- replays: nothing replayed is never a pass -----------------------------------------------------------


def test_an_empty_request_replay_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "e.json"
    empty.write_text("[]", encoding="utf-8")
    assert main(["replay", "requests", str(empty), "--url", "http://127.0.0.1:9/x"]) == 1
    assert "0 of 0 request(s) matched (FAILED: no requests" in capsys.readouterr().out
