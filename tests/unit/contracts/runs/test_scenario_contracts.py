"""Contracts in scenario runs (issue 5 §1, §3, §5, §6): the suite writes the HTTP pact, the flow verifies as
the provider of the Flex message pact, mutated flows fail with the reason, xdist writes the same bytes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from examples.contact_center import create_app
from harness.cli import main
from harness.contracts.scenario_runs import case_checks, verify_flow
from harness.contracts.verify import verify
from harness.engines.twilio.server import LocalServer
from harness.errors import ReferenceProblem, SchemaError, UsageError
from harness.models.scenario import load_scenario_file
from harness.runner.scenarios import run_suite

pytestmark = pytest.mark.network  # pact's mock server, the contact center and twilio-run listen on 127.0.0.1

ROOT = Path(__file__).resolve().parents[4]
SCENARIOS = ROOT / "scenarios" / "hospitality"
PACTS = ROOT / "contracts" / "pacts"
HTTP_PACT_NAME = "hospitality-http-contact-center.json"
FLEX_PACT = PACTS / "contact-center-hospitality-flex.json"
FLEX_FLOW = ROOT / "examples" / "hospitality" / "flows" / "flex_messaging.json"
COMMITTED_PACT_DIR = "pact_dir: ../../contracts/pacts"


def scenario_copy(folder: Path, name: str, *, pact_dir: Path | None = None, flow: Path | None = None,
                  extra: str = "") -> Path:
    """A copy of scenarios/hospitality/<name> in `folder` (same file name: same SIDs), its paths absolute."""
    text = (SCENARIOS / name).read_text(encoding="utf-8").replace("../../", f"{ROOT.as_posix()}/")
    if pact_dir is not None:
        committed = COMMITTED_PACT_DIR.replace("../../", f"{ROOT.as_posix()}/")
        assert committed in text
        text = text.replace(committed, f"pact_dir: {pact_dir.as_posix()}")
    if flow is not None:
        text = text.replace(f"flow: {FLEX_FLOW.as_posix()}", f"flow: {flow.as_posix()}")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text + extra, encoding="utf-8")
    return path


# --- the HTTP hand-off: the suite writes the consumer pact ---------------------------------------------------


@pytest.fixture(scope="module")
def run_pact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The HTTP pact one in-process run of the example suite writes."""
    folder = tmp_path_factory.mktemp("serial")
    suite = run_suite([scenario_copy(folder, "http.scenario.yaml", pact_dir=folder / "pacts")],
                      case_checks=case_checks(pact_mode="write"))  # before the autouse env reset
    assert suite.summary["passed"] == 2, [c.failure_text() for c in suite.cases]
    return folder / "pacts" / HTTP_PACT_NAME


def test_the_committed_http_pact_is_what_the_suite_writes(run_pact: Path) -> None:
    # One source of truth: `autopilot-harness run scenarios/hospitality/http.scenario.yaml` writes it.
    assert run_pact.read_bytes() == (PACTS / HTTP_PACT_NAME).read_bytes()
    document = json.loads(run_pact.read_text())
    descriptions = [i["description"] for i in document["interactions"]]
    assert descriptions == ["agent by HTTP after a room service order", "agent by HTTP straight away, on WhatsApp"]
    assert all(i["providerStates"] == [{"name": "hand-offs are accepted"}] for i in document["interactions"])
    rules = document["interactions"][0]["request"]["matchingRules"]["body"]
    assert rules["$.dialogueSid"]["matchers"][0]["regex"] == "^UK[0-9a-fA-F]{32}$"  # from body_schema
    assert "ticket_id" in json.dumps(document["interactions"][0]["response"])  # what the flow reads


def test_example_contact_center_verifies_green_against_the_run_pact(run_pact: Path) -> None:
    with LocalServer(create_app()) as server:
        result = verify(run_pact, server.url("/"))
    assert result.ok, result.render()
    assert len(result.interactions) == 2


def test_serial_and_xdist_runs_write_the_same_pact(tmp_path: Path, run_pact: Path) -> None:
    written = []
    for name, options in (("serial", []), ("xdist", ["-n", "2"])):
        scenario = scenario_copy(tmp_path / name, "http.scenario.yaml", pact_dir=tmp_path / name / "pacts")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("PYTEST_XDIST_TESTRUNUID", None)  # our own run's id must not leak into the child runs
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *options,
                               str(scenario)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        written.append((tmp_path / name / "pacts" / HTTP_PACT_NAME).read_bytes())
    assert written[0] == written[1] == run_pact.read_bytes()


def test_a_request_the_schema_refuses_is_a_contract_mismatch(tmp_path: Path) -> None:
    schema = json.loads((ROOT / "contracts" / "schemas" / "handoff.schema.json").read_text())
    schema["required"] = [*schema.get("required", []), "roomNumber"]
    (tmp_path / "strict.schema.json").write_text(json.dumps(schema))
    scenario = scenario_copy(tmp_path, "http.scenario.yaml", pact_dir=tmp_path / "pacts")
    # The first body_schema is the contract's (the expectation's further down keeps the example schema).
    original = f"body_schema: {ROOT.as_posix()}/contracts/schemas/handoff.schema.json"
    scenario.write_text(scenario.read_text().replace(
        original, f"body_schema: {(tmp_path / 'strict.schema.json').as_posix()}", 1))
    suite = run_suite([scenario], case_checks=case_checks(), select=lambda f, s: "WhatsApp" in s.id)
    [case] = suite.cases
    assert case.status == "failed"
    [mismatch] = case.mismatches
    assert (mismatch.scope, mismatch.path, mismatch.key) == ("contract", "$.roomNumber", "schema")
    assert "contract:\n  $.roomNumber" in case.failure_text()
    assert not (tmp_path / "pacts" / HTTP_PACT_NAME).exists()  # nothing written for a broken hand-off


# --- the Flex hand-off: the flow as the provider of the message pact ----------------------------------------


def test_example_flex_flow_satisfies_the_message_pact(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["contracts", "verify-flow", "--pact", str(FLEX_PACT), "--scenarios", str(SCENARIOS)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "PASS a Flex task for a guest who ordered food, then asked for an agent (given an SMS guest orders " \
           "food, then asks for an agent)" in out
    assert "contract verified: 3/3 interactions passed for provider 'hospitality-flex'" in out


def mutated_flow(tmp_path: Path, change) -> Path:
    """A copy of the example Flex flow whose SendToConcierge attributes template is `change(template)`."""
    flow = json.loads(FLEX_FLOW.read_text())
    [widget] = [s for s in flow["states"] if s["name"] == "SendToConcierge"]
    widget["properties"]["attributes"] = change(widget["properties"]["attributes"])
    path = tmp_path / "flex_messaging.json"
    path.write_text(json.dumps(flow, indent=2))
    return path


@pytest.mark.parametrize(("mutation", "change", "path", "words"), [
    ("attribute removed", lambda t: t.replace('"channelType": "{{trigger.message.ChannelAttributes.channel_type}}", ',
                                              ""), "$.channelType", "required for a sms task, but missing"),
    ("invalid JSON after Liquid", lambda t: t.replace('"{{widgets.HotelBot.CurrentTask}}"',
                                                      "{{widgets.HotelBot.CurrentTask}}"),
     "$", "attributes are not valid JSON after Liquid"),
    ("forbidden field added", lambda t: t.replace('{"name"', '{"card_number": "4111 1111 1111 1111", "name"'),
     "$.card_number", "is forbidden in a hand-off"),
])
def test_mutated_flow_fails_with_the_reason(tmp_path: Path, mutation: str, change, path: str, words: str) -> None:
    flow = mutated_flow(tmp_path, change)
    scenarios = scenario_copy(tmp_path / "scenarios", "flex.scenario.yaml", flow=flow)
    result = verify_flow(FLEX_PACT, [scenarios])
    assert not result.ok, mutation
    problems = [(p.path, p.message) for p in result.problems]
    assert any(p == path and words in m for p, m in problems), problems
    # Every interaction names what broke, and the report says which one.
    assert "FAIL a Flex task for an SMS guest who asked for an agent" in result.render()


def test_a_state_without_a_scenario_fails_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["contracts", "verify-flow", "--pact", str(FLEX_PACT),
                 "--scenarios", str(SCENARIOS / "http.scenario.yaml")])
    out = capsys.readouterr().out
    assert code == 1
    assert "no scenario produces provider state 'a WhatsApp guest asks for an agent'" in out


def test_verify_flow_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["contracts", "verify-flow", "--pact", str(tmp_path / "none.json"),
                 "--scenarios", str(SCENARIOS)]) == 2
    assert main(["contracts", "verify-flow", "--pact", str(FLEX_PACT),
                 "--scenarios", str(tmp_path / "missing")]) == 2


# --- Twilio rules on every hand-off of a run ----------------------------------------------------------------


FORBIDDEN = lambda t: t.replace('{"name"', '{"card_number": "4111 1111 1111 1111", "name"')  # noqa: E731


def test_twilio_rules_run_on_every_handoff_and_can_be_turned_off(tmp_path: Path) -> None:
    flow = mutated_flow(tmp_path, FORBIDDEN)
    checked = scenario_copy(tmp_path / "on", "flex.scenario.yaml", flow=flow)
    off = scenario_copy(tmp_path / "off", "flex.scenario.yaml", flow=flow, extra="contracts: {rules: false}\n")
    wanted = "guest asks for an agent by SMS"
    suite = run_suite([checked, off], case_checks=case_checks(), select=lambda f, s: s.id == wanted)
    on_case, off_case = suite.cases
    assert on_case.status == "failed"
    assert [(m.scope, m.path, m.key) for m in on_case.mismatches] == [("contract", "$.card_number",
                                                                        "twilio.forbidden")]
    assert off_case.status == "passed", off_case.failure_text()


# --- the `contracts` and `provider_state` keys ---------------------------------------------------------------


def test_contracts_key_is_loaded_with_paths_relative_to_the_file() -> None:
    loaded = load_scenario_file(SCENARIOS / "http.scenario.yaml")
    http = loaded.contracts.http
    assert http is not None and (http.consumer, http.provider) == ("hospitality-http", "contact-center")
    assert http.pact_dir == PACTS and http.body_schema == ROOT / "contracts/schemas/handoff.schema.json"
    assert loaded.contracts.rules.enabled
    flex = load_scenario_file(SCENARIOS / "flex.scenario.yaml")
    assert flex.contracts.http is None
    assert flex.scenario("guest asks for an agent by SMS").provider_state == "an SMS guest asks for an agent"


@pytest.mark.parametrize(("contracts", "error", "words"), [
    ("{http: {pact_dir: pacts, consumer: a}}", SchemaError, "provider"),
    ("{http: {pact_dir: no/such/folder/pacts, consumer: a, provider: b}}", ReferenceProblem,
     "parent folder does not exist"),
    ("{rules: {max_attributes: big}}", SchemaError, "max_attributes"),
])
def test_bad_contracts_key_names_the_problem(tmp_path: Path, contracts: str, error, words: str) -> None:
    path = tmp_path / "bad.scenario.yaml"
    path.write_text(f"bot: {ROOT.as_posix()}/examples/hospitality/assistant.json\ncontracts: {contracts}\n"
                    "scenarios:\n  - name: hi\n    turns: [{user: hello}]\n")
    with pytest.raises((error, UsageError)) as caught:
        load_scenario_file(path)
    rendered = caught.value.render()
    assert words in rendered and "bad.scenario.yaml:2" in rendered, rendered
