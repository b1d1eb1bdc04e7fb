"""Pacts written by runs: a filtered run merges into the committed HTTP pact instead of cutting it down;
`contracts generate` writes the committed message pact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.contracts.scenario_runs import case_checks
from harness.runner.suite import run_suite
from tests.unit.contracts.runs.test_scenario_contracts import (
    FLEX_PACT,
    HTTP_PACT_NAME,
    PACTS,
    ROOT,
    scenario_copy,
)

FLEX_SCHEMA = ROOT / "contracts" / "schemas" / "flex-attributes.schema.json"


def test_a_filtered_run_keeps_the_interactions_it_did_not_run(tmp_path: Path) -> None:
    pacts = tmp_path / "pacts"
    pacts.mkdir()
    committed = json.loads((PACTS / HTTP_PACT_NAME).read_text())
    seeded = json.loads(json.dumps(committed))
    template = committed["interactions"][0]
    # A scenario this run skips (kept) and one that runs but no longer hands off over HTTP (dropped).
    seeded["interactions"] += [{**template, "description": "a skipped scenario", "key": "k1"},
                               {**template, "description": "a guest says hello", "key": "k2"}]
    (pacts / HTTP_PACT_NAME).write_text(json.dumps(seeded))
    hello = "  - name: a guest says hello\n    turns: [{user: hello}]\n"
    scenario = scenario_copy(tmp_path, "http.scenario.yaml", pact_dir=pacts, extra=hello)

    suite = run_suite([scenario], case_checks=case_checks(),
                      select=lambda f, s: s.id in ("agent by HTTP straight away, on WhatsApp", "a guest says hello"))
    assert [c.status for c in suite.cases] == ["passed", "passed"], [c.failure_text() for c in suite.cases]
    assert suite.deselected == 1

    written = json.loads((pacts / HTTP_PACT_NAME).read_text())
    assert [i["description"] for i in written["interactions"]] == [
        "a skipped scenario", "agent by HTTP after a room service order", "agent by HTTP straight away, on WhatsApp"]
    # Without the skipped one, it is the committed pact: the deselected scenario's interaction is untouched.
    written["interactions"] = written["interactions"][1:]
    assert json.dumps(written, indent=2, sort_keys=True, ensure_ascii=False) + "\n" == \
        (PACTS / HTTP_PACT_NAME).read_text()


def test_running_one_scenario_of_the_committed_pact_leaves_its_bytes_alone(tmp_path: Path) -> None:
    pacts = tmp_path / "pacts"
    pacts.mkdir()
    (pacts / HTTP_PACT_NAME).write_bytes((PACTS / HTTP_PACT_NAME).read_bytes())
    scenario = scenario_copy(tmp_path, "http.scenario.yaml", pact_dir=pacts)
    for wanted in ("WhatsApp", "room service"):  # each half on its own, as `-k` would
        suite = run_suite([scenario], case_checks=case_checks(), select=lambda f, s, w=wanted: w in s.id)
        assert len(suite.cases) == 1 and suite.cases[0].passed, suite.cases[0].failure_text()
        assert (pacts / HTTP_PACT_NAME).read_bytes() == (PACTS / HTTP_PACT_NAME).read_bytes()


def test_contracts_generate_writes_the_committed_message_pact(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "new" / "pacts"
    code = main(["contracts", "generate", "--schema", str(FLEX_SCHEMA), "--pact-dir", str(target)])
    assert code == 0
    assert "contact-center-hospitality-flex.json (3 interactions)" in capsys.readouterr().out
    assert (target / FLEX_PACT.name).read_bytes() == FLEX_PACT.read_bytes()
    assert sorted(p.name for p in target.iterdir()) == [FLEX_PACT.name]  # no lock or run-marker sidecars
    # Run again over a stale file: replaced as a whole, same bytes.
    (target / FLEX_PACT.name).write_text('{"consumer": {"name": "x"}, "provider": {"name": "y"}}')
    assert main(["contracts", "generate", "--schema", str(FLEX_SCHEMA), "--pact-dir", str(target)]) == 0
    assert (target / FLEX_PACT.name).read_bytes() == FLEX_PACT.read_bytes()


def test_contracts_generate_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["contracts", "generate", "--schema", str(tmp_path / "none.json"),
                 "--pact-dir", str(tmp_path)]) == 2
    schema = json.loads(FLEX_SCHEMA.read_text())
    schema["examples"][0]["name"] = ""  # an example that breaks the Twilio rules
    (tmp_path / "bad.schema.json").write_text(json.dumps(schema))
    assert main(["contracts", "generate", "--schema", str(tmp_path / "bad.schema.json"),
                 "--pact-dir", str(tmp_path / "out")]) == 2
    assert "$.name" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
