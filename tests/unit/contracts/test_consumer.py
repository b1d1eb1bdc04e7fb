"""HandoffPactWriter: recorded HTTP hand-offs → a deterministic, scrubbed Pact V4 file."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.contracts import ContractFailed, pact_files
from harness.contracts.consumer import HandoffPactWriter, parsed_keys_used, scrub
from harness.errors import UsageError
from harness.models.flow import load_flow
from tests.unit.contracts.handoffs import (
    HANDOFF_SCHEMA,
    HTTP_CONSUMER,
    HTTP_FLOW,
    HTTP_PROVIDER,
    HTTP_WIDGET,
    PACTS,
    ROOT,
    http_handoffs,
    write_committed_pacts,
)

pytestmark = pytest.mark.network  # pact's mock server listens on localhost


def writer(pact_dir: Path, run_id: str = "run-1") -> HandoffPactWriter:
    return HandoffPactWriter(pact_dir, HTTP_CONSUMER, HTTP_PROVIDER, schema=HANDOFF_SCHEMA,
                             response_keys=("ticket_id",), run_id=run_id)


def test_committed_message_pact_matches_the_schema(tmp_path: Path) -> None:
    # Regenerate with `autopilot-harness contracts generate` when the schema changes on purpose. (The
    # HTTP pact is the scenario suite's output: tests/unit/contracts/runs/test_scenario_contracts.py.)
    for built in write_committed_pacts(tmp_path, run_id="committed"):
        assert built.read_text() == (PACTS / built.name).read_text(), f"contracts/pacts/{built.name} is stale"


def test_pact_file_content(tmp_path: Path) -> None:
    (description, handoff) = http_handoffs()[1]
    path = writer(tmp_path).add(handoff, description=description, provider_state="hand-offs are accepted",
                                state_params={"queue": "Room Service"})
    assert path.name == "hospitality-http-contact-center.json"
    text = path.read_text()
    assert "Authorization" not in text and "QUM6c2VjcmV0" not in text  # credentials scrubbed
    assert "Idempotency" not in text and "TwilioProxy" not in text  # per-request noise dropped
    document = json.loads(text)
    assert document["metadata"]["pactSpecification"]["version"] == "4.0"
    [interaction] = document["interactions"]
    assert interaction["providerStates"] == [{"name": "hand-offs are accepted",
                                              "params": {"queue": "Room Service"}}]
    request = interaction["request"]
    assert (request["method"], request["path"]) == ("POST", "/api/handoffs")
    assert request["body"]["content"]["lastInput"] == handoff["body"]["lastInput"]
    rules = request["matchingRules"]["body"]
    assert "$.memory.sendToAgent" not in rules  # `const: true`: the literal, pact's boolean takes "true"
    assert request["body"]["content"]["memory"]["sendToAgent"] is True
    # A regex beside a type matcher: pact's regex alone accepts the number 7 for a string.
    assert rules["$.dialogueSid"]["matchers"] == [{"match": "regex", "regex": "^UK[0-9a-fA-F]{32}$"},
                                                  {"match": "type"}]
    assert rules["$.memory.twilio.collected_data.order_food.status"]["matchers"] == [{"match": "type"}]
    response = interaction["response"]
    assert response["status"] == 201
    assert response["body"]["content"] == {"ticket_id": "T-00001"}  # only what the flow reads
    assert text.endswith("}\n") and "\n  \"consumer\"" in text  # canonical formatting


def test_the_flow_relies_on_ticket_id_only() -> None:
    assert parsed_keys_used(load_flow(HTTP_FLOW), HTTP_WIDGET) == ("ticket_id",)


def test_schema_violation_names_the_path_and_writes_nothing(tmp_path: Path) -> None:
    description, handoff = http_handoffs()[0]
    body = dict(handoff["body"], memory={"sendToAgent": "true"})  # a string: the flow forgot to_json
    del body["lastTask"]
    with pytest.raises(ContractFailed) as failed:
        writer(tmp_path).add(dict(handoff, body=body), description=description)
    paths = {p.path for p in failed.value.problems}
    assert paths == {"$.lastTask", "$.memory.sendToAgent"}
    assert "2 contract problems" in failed.value.render()
    assert not (tmp_path / "hospitality-http-contact-center.json").exists()


def test_pii_in_the_body_is_refused(tmp_path: Path) -> None:
    description, handoff = http_handoffs()[0]
    body = dict(handoff["body"], lastInput="pay with 4111-1111-1111-1111")
    with pytest.raises(ContractFailed) as failed:
        writer(tmp_path).add(dict(handoff, body=body), description=description)
    assert [(p.rule, p.path) for p in failed.value.problems] == [("twilio.forbidden", "$.lastInput")]


def test_bad_handoff_shape_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="kind 'http'"):
        writer(tmp_path).add({"kind": "flex", "attributes": "{}"}, description="x")
    with pytest.raises(UsageError, match="'status' must be a int"):
        writer(tmp_path).add({"kind": "http", "method": "POST", "url": "https://x/y"}, description="x")


def test_scrub_drops_credentials_from_url_query_and_body() -> None:
    request = scrub({"kind": "http", "method": "post", "url": "https://AC1:tok@x.example/h?auth_token=s&q=1",
                     "headers": {"content-type": "application/json", "X-Twilio-Signature": "sig"},
                     "body": {"apiSecret": "s3", "keep": "v"}, "status": 200})
    assert request["method"] == "POST" and request["query"] == [("q", "1")]
    assert request["headers"] == {"content-type": "application/json"}
    assert request["body"] == {"apiSecret": "[redacted]", "keep": "v"}


def test_merge_is_deterministic_and_a_later_run_replaces_by_description(tmp_path: Path) -> None:
    handoffs = http_handoffs()
    first = writer(tmp_path, "run-A")
    for description, handoff in reversed(handoffs):
        first.add(handoff, description=description)
    forward = writer(tmp_path / "other", "run-A")
    for description, handoff in handoffs:
        forward.add(handoff, description=description)
    full = first.pact_path.read_text()
    assert full == forward.pact_path.read_text()  # order of adding does not matter

    foreign = tmp_path / "contact-center-hospitality-flex.json"
    foreign.write_text("{}")
    # A filtered run (-k, --lf, one scenario) writes one interaction: the others stay, the file is unchanged.
    description, handoff = handoffs[0]
    writer(tmp_path, "run-B").add(handoff, description=description)
    assert first.pact_path.read_text() == full
    # What it did write replaces the interaction of the same description (here: a new provider state).
    writer(tmp_path, "run-C").add(handoff, description=description, provider_state="the desk is staffed")
    interactions = json.loads(first.pact_path.read_text())["interactions"]
    assert [i["description"] for i in interactions] == sorted(d for d, _ in handoffs)
    changed = [i["providerStates"] for i in interactions if i["description"] == description]
    assert changed == [[{"name": "the desk is staffed"}]]
    assert foreign.read_text() == "{}"  # files this run does not write are left alone
    # Dropping is by name only (a scenario that ran without an HTTP hand-off).
    assert pact_files.drop_interactions(tmp_path, first.pact_path.name, [description])
    assert not pact_files.drop_interactions(tmp_path, first.pact_path.name, [description])
    left = [i["description"] for i in json.loads(first.pact_path.read_text())["interactions"]]
    assert left == sorted(d for d, _ in handoffs if d != description)


def test_two_processes_write_the_same_file_as_a_serial_run(tmp_path: Path) -> None:
    # What pytest-xdist does: workers share PYTEST_XDIST_TESTRUNUID and merge into one file under the lock.
    script = textwrap.dedent("""
        import sys
        from tests.unit.contracts.handoffs import HANDOFF_SCHEMA, http_handoffs
        from harness.contracts.consumer import HandoffPactWriter
        w = HandoffPactWriter(sys.argv[1], "hospitality-http", "contact-center", schema=HANDOFF_SCHEMA,
                              response_keys=("ticket_id",))
        for index, (description, handoff) in enumerate(http_handoffs()):
            if index % 2 == int(sys.argv[2]):
                w.add(handoff, description=description)
    """)
    parallel = tmp_path / "parallel"
    env = {"PYTEST_XDIST_TESTRUNUID": "xdist-run-1", "PATH": "/usr/bin:/bin", "PACT_DO_NOT_TRACK": "true"}
    workers = [subprocess.Popen([sys.executable, "-c", script, str(parallel), str(n)], cwd=ROOT, env=env)
               for n in (0, 1)]
    assert [w.wait(timeout=60) for w in workers] == [0, 0]

    serial = writer(tmp_path / "serial", "serial-run")
    for description, handoff in http_handoffs():
        serial.add(handoff, description=description)
    assert (parallel / serial.pact_path.name).read_text() == serial.pact_path.read_text()
