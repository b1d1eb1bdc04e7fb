"""Pact modes: check mode names the drifted JSON path and writes nothing, mode precedence, and a failing
scenario never writes its interaction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.contracts.consumer import HandoffPactWriter, json_differences
from harness.contracts.results import ContractFailed
from harness.contracts.scenario_runs import PACT_MODE_ENV, case_checks, pact_mode
from harness.errors import UsageError
from harness.runner.scenarios import run_suite
from tests.unit.contracts.handoffs import (
    HANDOFF_SCHEMA,
    HTTP_CONSUMER,
    HTTP_PROVIDER,
    http_handoffs,
)
from tests.unit.contracts.runs.test_scenario_contracts import HTTP_PACT_NAME, scenario_copy


def writer(folder: Path, **options: Any) -> HandoffPactWriter:
    return HandoffPactWriter(folder, HTTP_CONSUMER, HTTP_PROVIDER, schema=HANDOFF_SCHEMA,
                             response_keys=["ticket_id"], **options)


def test_check_mode_names_the_drifted_json_path_and_writes_nothing(tmp_path: Path) -> None:
    description, handoff = http_handoffs()[0]
    path = writer(tmp_path).add(handoff, description=description)
    committed = path.read_bytes()
    moved = {**handoff, "url": handoff["url"].replace("/api/handoffs", "/api/handoff")}
    with pytest.raises(ContractFailed) as failed:
        writer(tmp_path, mode="check").add(moved, description=description)
    [drift] = failed.value.problems
    assert (drift.rule, drift.path) == ("pact.drift", "$.request.path")
    assert (drift.expected, drift.actual) == ('"/api/handoffs"', '"/api/handoff"')
    assert "--write-pacts" in drift.message
    assert path.read_bytes() == committed
    # The same hand-off passes, and an unknown scenario is a drift too (nothing committed for it).
    writer(tmp_path, mode="check").add(handoff, description=description)
    with pytest.raises(ContractFailed, match="has no interaction 'new one'"):
        writer(tmp_path, mode="check").add(handoff, description="new one")
    with pytest.raises(ContractFailed, match="made no HTTP hand-off"):
        writer(tmp_path, mode="check").forget(description)
    assert path.read_bytes() == committed


def test_write_false_checks_without_writing(tmp_path: Path) -> None:
    description, handoff = http_handoffs()[0]
    writer(tmp_path).add(handoff, description=description, write=False)
    assert not (tmp_path / HTTP_PACT_NAME).exists()


def test_json_differences_name_each_path() -> None:
    assert json_differences({"a": {"b": 1, "c.d": 2}}, {"a": {"b": "1", "e": 3}}) == [
        ("$.a.b", 1, "1"), ("$.a['c.d']", 2, "(absent)"), ("$.a.e", "(absent)", 3)]


def test_pact_mode_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    assert pact_mode() == "write"
    assert pact_mode("check") == "check"
    monkeypatch.setenv(PACT_MODE_ENV, "write")
    assert pact_mode("check") == "write"  # the environment beats the file (regenerating deliberately)
    assert pact_mode("write", "check") == "check"  # the face's flag beats both
    monkeypatch.setenv(PACT_MODE_ENV, "sometimes")
    with pytest.raises(UsageError, match=PACT_MODE_ENV):
        case_checks()


def test_a_run_in_check_mode_fails_on_drift_and_a_failing_scenario_never_writes(tmp_path: Path) -> None:
    pacts = tmp_path / "pacts"
    good = scenario_copy(tmp_path / "good", "http.scenario.yaml", pact_dir=pacts)
    assert run_suite([good], case_checks=case_checks()).summary["passed"] == 2
    committed = (pacts / HTTP_PACT_NAME).read_bytes()
    # The same suite under another file name: other SIDs, the same pact (stand-in SIDs).
    renamed = scenario_copy(tmp_path / "renamed", "http.scenario.yaml", pact_dir=pacts)
    renamed = renamed.rename(renamed.with_name("renamed_http.scenario.yaml"))
    suite = run_suite([renamed], case_checks=case_checks(pact_mode="check"))
    assert suite.summary["passed"] == 2, [c.failure_text() for c in suite.cases]
    # A scenario whose own expectations fail does not write its (changed) interaction in write mode.
    failing = tmp_path / "failing" / "http.scenario.yaml"
    text = good.read_text().replace('lastInput: "Talk to a representative"', 'lastInput: "something else"')
    failing.parent.mkdir()
    failing.write_text(text.replace("- user: \"Talk to a representative\"", "- user: \"I want a human\""))
    suite = run_suite([failing], case_checks=case_checks(), select=lambda f, s: "room service" in s.id)
    assert suite.summary["failed"] == 1
    assert (pacts / HTTP_PACT_NAME).read_bytes() == committed
    # …and in check mode the changed hand-off is a drift, naming the path.
    passing_changed = tmp_path / "changed" / "http.scenario.yaml"
    passing_changed.parent.mkdir()
    passing_changed.write_text(good.read_text().replace("Talk to a representative", "Get me a representative"))
    suite = run_suite([passing_changed], case_checks=case_checks(pact_mode="check"),
                      select=lambda f, s: "room service" in s.id)
    [case] = suite.cases
    drifts = [m for m in case.mismatches if m.key == "pact.drift"]
    assert [m.path for m in drifts] == ["$.request.body.content.lastInput"], case.failure_text()
    assert (pacts / HTTP_PACT_NAME).read_bytes() == committed
