"""The router: no task means confidence 0.0, with the reason in the note."""

from __future__ import annotations

import copy
import json

from harness.engines.autopilot.runtime import AutopilotRuntime
from harness.models.assistant_loader import assistant_from_dict
from tests.conftest import EXAMPLES

HOSPITALITY = EXAMPLES / "hospitality"
BOT = json.loads((HOSPITALITY / "assistant.json").read_text())


def test_no_task_means_confidence_zero() -> None:
    minus = copy.deepcopy(BOT)
    minus["tasks"] = [t for t in minus["tasks"] if t["uniqueName"] in ("greeting", "fallback")]
    trained = AutopilotRuntime().train(assistant_from_dict(minus, path="minus.json"))
    routing = trained.route("where is the towels thing")  # one weak shared word: margin 1.0, score < 0.1
    assert routing.task is None and routing.method == "none" and routing.confidence == 0.0
    assert "below min_score" in routing.note
