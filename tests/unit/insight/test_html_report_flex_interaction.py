"""The HTML report shows a Flex Conversations handoff's Interaction beside the task it created
(issue 11; reference/taskrouter.md §3.1: "The Interactions resource uses TaskRouter for all routing")."""

from __future__ import annotations

import json
import re
from pathlib import Path

from harness.insight.html_report import render_report
from tests.conftest import ROOT
from tests.hostile.kit import cli

SUITE = ROOT / "scenarios" / "hospitality" / "conversations.scenario.yaml"


def results_of(tmp_path: Path, select: str) -> dict:
    out = tmp_path / "results.json"
    result = cli("run", SUITE, "-k", select, "--json", out)
    assert result.code == 0, result.text
    return json.loads(out.read_text())


def test_a_conversations_handoff_shows_its_interaction_and_task(tmp_path: Path) -> None:
    results = results_of(tmp_path, "Interaction")
    case = next(c for c in results["cases"] if c["id"].endswith("[whatsapp]"))
    handoff = case["transcript"]["handoff"]
    [interaction] = case["transcript"]["flow"]["interactions"]
    html = render_report({**results, "cases": [case]})
    panel = re.search(r"<details open class='interaction'>.*?</details>", html, re.S)
    assert panel is not None, html
    text = panel.group(0)
    assert handoff["interaction_sid"].startswith("KD") and handoff["interaction_sid"] in text
    assert "<th>channel type</th><td><code>whatsapp</code>" in text
    assert interaction["channel"]["sid"].startswith("UO") and interaction["channel"]["sid"] in text
    assert handoff["task_sid"].startswith("WT") and f"<th>task created</th><td><code>{handoff['task_sid']}" in text
    assert "Handed off to an agent (flex: Concierge) via Interaction (whatsapp)" in html


def test_a_handoff_without_an_interaction_has_no_interaction_panel(tmp_path: Path) -> None:
    results = results_of(tmp_path, "asks and agent")
    case = results["cases"][0]
    case["transcript"]["handoff"].pop("interaction_sid")  # as legacy Flex messaging records it
    html = render_report({**results, "cases": [case]})
    assert "class='interaction'" not in html and "via Interaction" not in html
    assert "Handed off to an agent (flex: Concierge)" in html
