"""`chat --flow` with a run-subflow whose subflow was not given: the step error, the CLI's hint, exit 0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from tests.conftest import EXAMPLES

BOT = str(EXAMPLES / "hospitality" / "assistant.json")
PLACEHOLDER = "${SUBFLOW_SID}"


def _flow(tmp_path: Path, flow_sid: str) -> Path:
    states = [
        {"name": "Trigger", "type": "trigger", "transitions": [{"event": "incomingMessage", "next": "Sub"}],
         "properties": {}},
        {"name": "Sub", "type": "run-subflow", "transitions": [{"event": "completed"}, {"event": "failed"}],
         "properties": {"flow_sid": flow_sid, "flow_revision": "LatestPublished"}},
    ]
    path = tmp_path / "parent.json"
    path.write_text(json.dumps({"description": "t", "states": states, "initial_state": "Trigger",
                                "flags": {"allow_concurrent_calls": True}}))
    return path


def test_chat_names_the_subflow_option_and_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flow = _flow(tmp_path, PLACEHOLDER)
    assert main(["chat", "--flow", str(flow), "--bot", BOT, "--say", "hi"]) == 0  # `failed` is a real event
    out = capsys.readouterr().out
    assert "Sub → failed: no subflow is mapped to flow_sid '${SUBFLOW_SID}'" in out
    assert f"--subflow '{PLACEHOLDER}=FILE'" in out
    assert "subflows={" not in out


def test_chat_maps_a_placeholder_subflow_sid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    child = tmp_path / "child.json"
    child.write_text(json.dumps({"description": "c", "initial_state": "Trigger",
                                 "states": [{"name": "Trigger", "type": "trigger", "properties": {},
                                             "transitions": [{"event": "incomingParent"}]}]}))
    flow = _flow(tmp_path, PLACEHOLDER)
    assert main(["chat", "--flow", str(flow), "--bot", BOT, "--subflow", f"{PLACEHOLDER}={child}",
                 "--say", "hi"]) == 0
    out = capsys.readouterr().out
    assert "Trigger → Sub (ended)" in out and "failed" not in out
