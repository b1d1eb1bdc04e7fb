"""Twilio's rule on the Autopilot widget's `from` in a Flex messaging flow, checked in runs and verify-flow;
verify points a message pact to verify-flow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.contracts.scenario_runs import case_checks
from harness.expectations import show
from harness.runner.suite import run_suite
from tests.unit.contracts.runs.test_scenario_contracts import (
    FLEX_FLOW,
    FLEX_PACT,
    SCENARIOS,
    scenario_copy,
)

WRONG_FROM = "{{flow.channel.address}}"  # right without Flex, wrong for a Flex messaging flow


def flow_with_wrong_from(folder: Path) -> Path:
    flow = json.loads(FLEX_FLOW.read_text())
    [bot] = [s for s in flow["states"] if s["type"] == "send-to-auto-pilot"]
    bot["properties"]["from"] = WRONG_FROM
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "flex_messaging.json"
    path.write_text(json.dumps(flow, indent=2))
    return path


def test_verify_flow_fails_a_wrong_autopilot_from_naming_rule_and_widget(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flow = flow_with_wrong_from(tmp_path / "flows")
    scenarios = scenario_copy(tmp_path / "scenarios", "flex.scenario.yaml", flow=flow)
    code = main(["contracts", "verify-flow", "--pact", str(FLEX_PACT), "--scenarios", str(scenarios)])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "0/3 interactions passed" in out
    assert out.count("[twilio.autopilot-from]") == 3, out
    assert "Autopilot widget 'HotelBot'" in out and "{{trigger.message.ChannelAttributes.from}}" in out


def test_a_run_reports_a_wrong_from_on_each_scenario_that_hands_off_unless_rules_are_off(tmp_path: Path) -> None:
    flow = flow_with_wrong_from(tmp_path / "flows")
    checked = scenario_copy(tmp_path / "on", "flex.scenario.yaml", flow=flow)
    off = scenario_copy(tmp_path / "off", "flex.scenario.yaml", flow=flow, extra="contracts: {rules: false}\n")
    wanted = {"guest asks for an agent by SMS", "goodbye ends the flow without a handoff"}
    suite = run_suite([checked, off], case_checks=case_checks(), select=lambda f, s: s.id in wanted)
    on_cases = [c for c in suite.cases if "/on/" in c.file]
    off_cases = [c for c in suite.cases if c not in on_cases]
    assert len(on_cases) == len(off_cases) == 2
    # FIX-E (QA2 user item 1): the rule is about the hand-off, so a conversation without one is not failed.
    [no_handoff] = [c for c in on_cases if "goodbye" in c.id]
    assert [m for m in no_handoff.mismatches if m.scope == "contract"] == []
    for case in [c for c in on_cases if c is not no_handoff]:
        assert case.status == "failed"
        [mismatch] = [m for m in case.mismatches if m.scope == "contract"]
        assert (mismatch.scope, mismatch.key) == ("contract", "twilio.autopilot-from")
        assert mismatch.path.endswith("/properties/from") and "HotelBot" in show(mismatch.actual)
        assert mismatch.location is not None and str(mismatch.location.path).endswith("flex_messaging.json")
        assert mismatch.location.line is not None
    # (The SMS scenario's own `from` expectation still notices the bot answering from the wrong number.)
    assert [m for c in off_cases for m in c.mismatches if m.scope == "contract"] == []
    assert all(c.error is None for c in off_cases), [c.failure_text() for c in off_cases]


def test_the_example_flows_follow_the_from_rule_in_a_run() -> None:
    # The flex (Flex messaging), chat (label) and http (no Flex) example flows are all right.
    suite = run_suite([SCENARIOS / "flex.scenario.yaml", SCENARIOS / "chat.scenario.yaml"],
                      case_checks=case_checks())
    assert suite.cases and all(c.passed for c in suite.cases), [c.failure_text() for c in suite.cases]


def test_verify_given_a_message_pact_points_to_verify_flow(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--pact", str(FLEX_PACT), "--provider-base-url", "http://127.0.0.1:9"]) == 1
    out = capsys.readouterr().out
    assert "3 message interaction(s) cannot be verified here" in out
    assert "autopilot-harness contracts verify-flow" in out and "verify_messages" not in out
