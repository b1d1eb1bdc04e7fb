"""`verify --junit` and `contracts verify-flow --junit`: JUnit XML CI servers accept (Jenkins' xUnit plugin's
junit-10.xsd, tests/ci_schemas.py), one test case per interaction; nothing verified is an error, never an
empty green report."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest
from flask import jsonify

from examples.contact_center import create_app
from harness.cli import main
from harness.engines.twilio.server import LocalServer
from tests.ci_schemas import junit_schema
from tests.unit.contracts.handoffs import PACTS, ROOT

pytestmark = pytest.mark.network  # the contact center listens on 127.0.0.1

HTTP_PACT = PACTS / "hospitality-http-contact-center.json"
FLEX_PACT = PACTS / "contact-center-hospitality-flex.json"
SCENARIOS = ROOT / "scenarios" / "hospitality"


def cases(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    assert [error.reason for error in junit_schema().iter_errors(text)] == []
    found = {}
    for case in ElementTree.fromstring(text).iter("testcase"):
        kinds = [child.tag for child in case if child.tag in ("failure", "error")]
        found[case.get("name")] = kinds[0] if kinds else "passed"
    return found


def test_verify_writes_one_valid_test_case_per_interaction(tmp_path: Path) -> None:
    with LocalServer(create_app()) as server:
        assert main(["verify", "--pact", str(HTTP_PACT), "--provider-base-url", server.url("/"),
                     "--junit", str(tmp_path / "ok.xml")]) == 0
    found = cases(tmp_path / "ok.xml")
    assert len(found) == 2 and set(found.values()) == {"passed"}


def test_a_failing_interaction_is_a_failure_naming_the_field(tmp_path: Path) -> None:
    app = create_app()

    @app.before_request
    def no_ticket():
        return jsonify({"ticket": None}), 201

    with LocalServer(app) as server:
        assert main(["verify", "--pact", str(HTTP_PACT), "--provider-base-url", server.url("/"),
                     "--junit", str(tmp_path / "bad.xml")]) == 1
    found = cases(tmp_path / "bad.xml")
    assert set(found.values()) == {"failure"}
    failure = ElementTree.parse(tmp_path / "bad.xml").getroot().find(".//failure")
    assert "$.ticket_id" in failure.text


def test_nothing_verified_is_an_error_case(tmp_path: Path) -> None:
    assert main(["verify", "--pact", str(HTTP_PACT), "--provider-base-url", "http://127.0.0.1:1",
                 "--junit", str(tmp_path / "down.xml")]) == 1
    assert cases(tmp_path / "down.xml") == {"(verification)": "error"}


def test_verify_flow_writes_junit(tmp_path: Path) -> None:
    assert main(["contracts", "verify-flow", "--pact", str(FLEX_PACT), "--scenarios", str(SCENARIOS),
                 "--junit", str(tmp_path / "flow.xml")]) == 0
    found = cases(tmp_path / "flow.xml")
    assert len(found) == 3 and set(found.values()) == {"passed"}


def test_an_unwritable_junit_file_is_bad_input_before_anything_runs(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("", encoding="utf-8")
    assert main(["verify", "--pact", str(HTTP_PACT), "--provider-base-url", "http://127.0.0.1:1",
                 "--junit", str(tmp_path / "file" / "x.xml")]) == 2
    assert "--junit" in capsys.readouterr().err
