"""Lint AP107: a `handoff` to a template placeholder (taskrouter://undefined, "INSERT TASK ROUTER WORKFLOW
SID") is an error, in an assistant's actions and in an Actions document.

Sources: the Actions templates' own handoff files (`real/autopilot/Actions/handoff/*.json`, reference/
autopilot.md §2.7) ship "taskrouter://INSERT TASK ROUTER WORKFLOW SID" and "INSERT YOUR TWIML_URL HERE";
a Workflow SID is WW + 32 hex digits (reference/taskrouter.md §1.1, OAI); a Function building
"taskrouter://" + an unset variable sends "taskrouter://undefined".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.insight.lint_rules import lint_actions, lint_assistant
from harness.models.assistant_loader import assistant_from_dict
from harness.sources import load_source
from tests.conftest import real_files

WW = "WW" + "c" * 32


def _assistant(handoff: dict[str, Any]) -> Any:
    return assistant_from_dict({"uniqueName": "b", "tasks": [
        {"uniqueName": "agent", "samples": [{"language": "en-US", "taggedText": s} for s in ("agent",) * 10],
         "actions": {"actions": [{"say": "hold on"}, {"handoff": {"channel": "voice", **handoff}}]}}]})


@pytest.mark.parametrize("uri", [
    "taskrouter://undefined", "taskrouter://INSERT TASK ROUTER WORKFLOW SID", "taskrouter://${WORKFLOW_SID}",
    "taskrouter://", "taskrouter://WW123", "taskrouter://null", "INSERT YOUR TWIML_URL HERE",
    "https://YOUR_DOMAIN.twil.io/agent", "https://example.com/twiml?to={{agent}}", "/relative/twiml",
    "https://x.twil.io/undefined",
])
def test_a_placeholder_handoff_uri_is_an_error(uri: str) -> None:
    [finding] = [f for f in lint_assistant(_assistant({"uri": uri}), route_samples=False) if f.rule.id == "AP107"]
    assert finding.severity == "error" and uri in finding.message
    assert finding.location is not None and finding.location.pointer == "/tasks/0/actions/actions/1/handoff/uri"


@pytest.mark.parametrize("uri", [f"taskrouter://{WW}", "https://hotel-1234.twil.io/connect"])
def test_a_real_workflow_sid_or_url_is_fine(uri: str) -> None:
    assert not [f for f in lint_assistant(_assistant({"uri": uri}), route_samples=False) if f.rule.id == "AP107"]


def test_the_wait_and_callback_urls_are_checked_too() -> None:
    findings = lint_assistant(_assistant({"uri": f"taskrouter://{WW}", "wait_url": "INSERT TASK ROUTER WAIT URL",
                                          "voice_status_callback_url": "https://ok.example.com/cb"}),
                              route_samples=False)
    assert [f.location.pointer for f in findings if f.rule.id == "AP107" and f.location] == [
        "/tasks/0/actions/actions/1/handoff/wait_url"]


def test_an_actions_document_is_linted(tmp_path: Path) -> None:
    path = tmp_path / "actions.json"
    path.write_text(json.dumps({"actions": [{"handoff": {"channel": "voice", "uri": "taskrouter://undefined"}}]},
                               indent=1))
    [finding] = lint_actions(load_source(path))
    assert finding.rule.id == "AP107" and finding.location is not None and finding.location.line == 6  # the "uri" line


def test_lint_exits_1_and_can_disable_the_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "actions.json"
    path.write_text('{"actions": [{"handoff": {"channel": "voice", "uri": "taskrouter://undefined"}}]}')
    assert main(["lint", str(path)]) == 1
    assert "[AP107]" in capsys.readouterr().out
    assert main(["lint", "--disable", "AP107", str(path)]) == 0


@pytest.mark.real
@pytest.mark.parametrize("path", [p for p in real_files("autopilot/Actions/handoff") if p.name != "templates.json"],
                         ids=lambda p: Path(p).stem)
def test_the_templates_handoff_files_are_flagged(path: Path) -> None:
    findings = lint_actions(load_source(path))
    uri = [f for f in findings if f.location is not None and f.location.pointer.endswith("/handoff/uri")]
    assert len(uri) == 1 and uri[0].rule.id == "AP107"
