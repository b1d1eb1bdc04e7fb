"""JUnit XML of a run's cases, as CI servers read it (the JSON shape is `SuiteResult.to_dict()`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from xml.etree import ElementTree

from harness.runner.paths import SCENARIO_SUFFIX
from harness.runner.results import ERROR, FAILED, CaseResult


def junit_xml(cases: Sequence[CaseResult], *, started: datetime | None = None, duration: float = 0.0) -> str:
    """JUnit XML as CI servers read it: one <testsuite> per scenario file, one <testcase> per scenario."""
    root = ElementTree.Element("testsuites", name="autopilot-harness", tests=str(len(cases)),
                               failures=str(sum(c.status == FAILED for c in cases)),
                               errors=str(sum(c.status == ERROR for c in cases)), time=f"{duration:.3f}")
    by_file: dict[str, list[CaseResult]] = {}
    for case in cases:
        by_file.setdefault(case.file, []).append(case)
    for file, members in by_file.items():
        suite = ElementTree.SubElement(
            root, "testsuite", name=file, tests=str(len(members)),
            failures=str(sum(c.status == FAILED for c in members)),
            errors=str(sum(c.status == ERROR for c in members)), skipped="0",
            time=f"{sum(c.duration for c in members):.3f}",
        )
        if started is not None:
            suite.set("timestamp", started.isoformat(timespec="seconds"))
        for case in members:
            element = ElementTree.SubElement(suite, "testcase", classname=_classname(file), name=case.id,
                                             file=file, time=f"{case.duration:.3f}")
            if case.line is not None:
                element.set("line", str(case.line))
            if case.status == FAILED:
                count = len(case.mismatches)
                failure = ElementTree.SubElement(element, "failure", type="ExpectationFailed",
                                                 message=f"{count} expectation{'s' if count != 1 else ''} failed")
                failure.text = case.failure_text()
            elif case.status == ERROR:
                error = ElementTree.SubElement(element, "error", type="HarnessError",
                                               message=(case.error or "").splitlines()[0] if case.error else "")
                error.text = case.failure_text()
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"


def _classname(file: str) -> str:
    """pytest's style (dotted path without the suffix), so CI groups both faces' results alike."""
    name = file[: -len(SCENARIO_SUFFIX)] if file.endswith(SCENARIO_SUFFIX) else file
    return name.replace("/", ".")
