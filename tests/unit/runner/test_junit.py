"""JUnit XML of a run, as CI servers read it."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

from harness.runner.suite import run_suite
from tests.unit.runner.scenario_files import FAILING, PASSING, write_scenario


def test_junit_xml_shape(tmp_path: Path) -> None:
    write_scenario(tmp_path, "a.scenario.yaml", PASSING)
    write_scenario(tmp_path, "f.scenario.yaml", FAILING)
    (tmp_path / "z.scenario.yaml").write_text("scenarios: [\n", encoding="utf-8")
    root = ElementTree.fromstring(run_suite([tmp_path]).to_junit_xml())
    assert root.tag == "testsuites" and root.get("tests") == "5"
    assert (root.get("failures"), root.get("errors")) == ("1", "1")
    suites = root.findall("testsuite")
    assert [s.get("tests") for s in suites] == ["3", "1", "1"]
    failure = suites[1].find("testcase/failure")
    assert suites[1].find("testcase").get("name") == "wrong everywhere"
    assert failure.get("message") == "3 expectations failed" and 'expected "goodbye"' in failure.text
    error = suites[2].find("testcase/error")
    assert "z.scenario.yaml:" in error.get("message")
