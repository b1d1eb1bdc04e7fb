"""Provider-side rules (sizes, non-empty values, any 2xx) and Twilio rules disabled by id."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask, jsonify, request

from harness.contracts.scenario_runs import rules_for
from harness.contracts.twilio_rules import TwilioRules, check_flex_attributes, check_handoff
from harness.contracts.verify import verify
from harness.engines.twilio.server import LocalServer
from harness.errors import HarnessError
from harness.models.scenario import load_scenario_file
from harness.models.scenario_contracts import RulesSpec
from tests.unit.contracts.handoffs import (
    PACTS,
)
from tests.unit.contracts.runs.test_scenario_contracts import HTTP_PACT_NAME, scenario_copy


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


# --- Twilio rules disabled by id -----------------------------------------------------------------------


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
