"""FIX-E (QA2 studio items 1–6, 13; QA2 user item 1): pact drift in check mode, failing scenarios never
write, which request is the hand-off, GET query parameters, stricter matchers and the schema in verify-flow,
provider-side size/non-empty rules and any 2xx, stable SIDs, Twilio rules disabled by id."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, jsonify, request

from harness.contracts.consumer import HandoffPactWriter, json_differences
from harness.contracts.messages import verify_messages
from harness.contracts.results import ContractFailed
from harness.contracts.scenario_runs import PACT_MODE_ENV, case_checks, pact_mode, rules_for
from harness.contracts.twilio_rules import TwilioRules, check_flex_attributes, check_handoff
from harness.contracts.verify import verify
from harness.engines.twilio.server import LocalServer
from harness.errors import HarnessError, UsageError
from harness.models.scenario import load_scenario_file
from harness.models.scenario_contracts import RulesSpec
from harness.runner.scenarios import run_suite
from harness.runner.session import handoff_request
from tests.unit.contracts.handoffs import (
    FLEX_SCHEMA,
    HANDOFF_SCHEMA,
    HTTP_CONSUMER,
    HTTP_PROVIDER,
    PACTS,
    http_handoffs,
)
from tests.unit.contracts.runs.test_scenario_contracts import HTTP_PACT_NAME, scenario_copy

pytestmark = pytest.mark.network  # pact's mock server and the providers listen on 127.0.0.1

FLEX_PACT = PACTS / "contact-center-hospitality-flex.json"


def writer(folder: Path, **options: Any) -> HandoffPactWriter:
    return HandoffPactWriter(folder, HTTP_CONSUMER, HTTP_PROVIDER, schema=HANDOFF_SCHEMA,
                             response_keys=["ticket_id"], **options)


# --- 1. check mode and failing scenarios ------------------------------------------------------------------


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
    # The same suite under another file name: other SIDs, the same pact (stand-in SIDs, item 6).
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


# --- 2. which request is the hand-off -------------------------------------------------------------------------


def _step(widget: str, kind: str, event: str = "success") -> dict[str, Any]:
    return {"widget": widget, "type": kind, "event": event}


def _request(widget: str, method: str = "POST") -> dict[str, Any]:
    return {"widget": widget, "method": method, "url": f"https://x.example/{widget}"}


def test_the_handoff_is_the_post_after_the_bot_session_ended() -> None:
    steps = [_step("Hours", "make-http-request"), _step("Lookup", "run-function"), _step("Bot", "send-to-auto-pilot",
             "sessionEnded"), _step("Notify", "make-http-request"), _step("Log", "make-http-request"),
             _step("Fn", "run-function")]
    requests_ = [_request("Hours"), _request("Lookup"), _request("Notify"), _request("Log", "GET"), _request("Fn")]
    assert handoff_request(steps, requests_)["widget"] == "Notify"  # not the GET after it, not the Function
    assert handoff_request(steps, requests_, widget="Log")["widget"] == "Log"  # named: any method
    assert handoff_request(steps, requests_, widget="Nope") is None
    # No session ended: the last make-http-request POST; Run Function calls never count.
    assert handoff_request(steps[:2], requests_[:2])["widget"] == "Hours"
    assert handoff_request([steps[1]], [requests_[1]]) is None


def test_handoff_widget_must_name_a_widget_of_the_flow(tmp_path: Path) -> None:
    path = scenario_copy(tmp_path, "http.scenario.yaml", extra="handoff_widget: NotifyContactCentre\n")
    with pytest.raises(HarnessError) as failed:
        load_scenario_file(path)
    assert "did you mean 'NotifyContactCenter'" in failed.value.render()
    ok = scenario_copy(tmp_path / "ok", "http.scenario.yaml", extra="handoff_widget: NotifyContactCenter\n")
    assert load_scenario_file(ok).handoff_widget == "NotifyContactCenter"


def test_a_get_handoff_carries_its_query_into_the_pact(tmp_path: Path) -> None:
    handoff = {"kind": "http", "method": "GET", "url": "https://cc.example/api/agent?src=bot",
               "headers": {}, "body": "", "query": {"phone": "+14155550123", "task": "send_to_agent"},
               "status": 200, "response": {"ticket_id": "T-1"}}
    path = HandoffPactWriter(tmp_path, "c", "p").add(handoff, description="get")
    [interaction] = json.loads(path.read_text())["interactions"]
    assert interaction["request"]["query"] == {"phone": ["+14155550123"], "src": ["bot"],
                                               "task": ["send_to_agent"]}
    assert "body" not in interaction["request"]


# --- 3./4. stricter consumer checks ----------------------------------------------------------------------------


def test_a_form_body_fails_a_body_schema(tmp_path: Path) -> None:
    description, handoff = http_handoffs()[0]
    form = {**handoff, "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            "body": {"customerAddress": "+14155550123"}}
    with pytest.raises(ContractFailed) as failed:
        writer(tmp_path).add(form, description=description)
    assert [p.message for p in failed.value.problems] == [
        "expected a JSON object body (the body_schema describes one), got form data"]


def _produce(mutate):
    example = json.loads(FLEX_SCHEMA.read_text())["examples"][0]
    return lambda state, params: mutate(json.loads(json.dumps(example)))


@pytest.mark.parametrize(("mutate", "path"), [
    (lambda a: {**a, "memory": {**a["memory"], "sendToAgent": "true"}}, "$.memory.sendToAgent"),
    (lambda a: {**a, "lastTask": 7}, "$.lastTask"),
])
def test_verify_flow_checks_the_attributes_against_the_schema(mutate, path) -> None:
    result = verify_messages(FLEX_PACT, _produce(mutate), schemas=[FLEX_SCHEMA.parent])
    assert not result.ok
    problems = [p for i in result.interactions for p in i.problems]
    assert any(p.path == path and p.rule == "schema" for p in problems), result.render()
    assert any(p.path == path and p.rule == "pact" for p in problems), result.render()  # stricter matchers


# --- 5. provider-side rules -------------------------------------------------------------------------------------


def contact_center(answer) -> Flask:
    app = Flask("cc")

    @app.post("/api/handoffs")
    def receive():
        body, status = answer(request.get_json())
        return jsonify(body), status

    return app


@pytest.mark.parametrize(("name", "answer", "ok", "path"), [
    ("200 is a success too", lambda p: ({"ticket_id": "T-1"}, 200), True, None),
    ("70 kB answer", lambda p: ({"ticket_id": "T-1", "pad": "x" * 70_000}, 201), False, "$"),
    ("empty ticket id", lambda p: ({"ticket_id": ""}, 201), False, "$.ticket_id"),
])
def test_provider_rules(name, answer, ok, path) -> None:
    with LocalServer(contact_center(answer)) as server:
        result = verify(PACTS / HTTP_PACT_NAME, server.url("/"))
    assert result.ok is ok, result.render()
    if path is not None:
        problems = [p for i in result.interactions for p in i.problems]
        assert any(p.path == path for p in problems), result.render()
        if name == "70 kB answer":
            assert any(p.rule == "provider.size" and "64 kB" in p.message for p in problems)


# --- QA2 user item 1: rules disabled by id ----------------------------------------------------------------------


def test_rules_can_be_disabled_by_id() -> None:
    rules = rules_for(RulesSpec(disable=("twilio.required", "twilio.autopilot-from")))
    assert rules.disabled == frozenset({"twilio.required", "twilio.autopilot-from"})
    attributes = {"name": "", "card": "4111 1111 1111 1111"}
    assert {p.rule for p in check_flex_attributes(attributes, channel="sms")} == {"twilio.required",
                                                                                  "twilio.forbidden"}
    assert {p.rule for p in check_flex_attributes(attributes, channel="sms", rules=rules)} == {"twilio.forbidden"}
    off = TwilioRules(disabled=frozenset({"twilio.forbidden"}))
    assert check_handoff({"kind": "http", "body": {"password": "x"}}, rules=off) == []
    assert rules_for(RulesSpec(enabled=False)).keep(check_flex_attributes(attributes, channel="sms")) == []


def test_an_unknown_rule_id_is_refused_at_load(tmp_path: Path) -> None:
    path = scenario_copy(tmp_path, "flex.scenario.yaml", extra="")
    text = path.read_text()
    assert "contracts:" not in text
    path.write_text(text + "contracts: {rules: {disable: [twilio.from]}}\n")
    with pytest.raises(HarnessError) as failed:
        load_scenario_file(path)
    assert "twilio.autopilot-from" in failed.value.render()
