"""Stricter consumer checks: a form body fails a body schema; verify-flow checks attributes against the schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.contracts.consumer import HandoffPactWriter
from harness.contracts.messages import verify_messages
from harness.contracts.results import ContractFailed
from tests.unit.contracts.handoffs import (
    FLEX_SCHEMA,
    HANDOFF_SCHEMA,
    HTTP_CONSUMER,
    HTTP_PROVIDER,
    PACTS,
    http_handoffs,
)

FLEX_PACT = PACTS / "contact-center-hospitality-flex.json"


def writer(folder: Path, **options: Any) -> HandoffPactWriter:
    return HandoffPactWriter(folder, HTTP_CONSUMER, HTTP_PROVIDER, schema=HANDOFF_SCHEMA,
                             response_keys=["ticket_id"], **options)


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
