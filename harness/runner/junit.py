"""JUnit XML of a run's cases, as CI servers read it (the JSON shape is `SuiteResult.to_dict()`).

The dialect is Jenkins' junit-10.xsd (which GitLab's and GitHub's test reporters read too; a test validates
against it): a <testcase> has only name, classname, time (no file or line: the schema refuses them), so
the scenario's `file:line` opens the failure text, and the file is the <testsuite>'s `file`. Names and
classnames are pytest's (`--junitxml`), so both faces' reports group alike in CI.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from xml.etree import ElementTree

from harness.runner.results import ERROR, FAILED, PASSED, CaseResult

BROKEN_FILE_NAME = "(file)"  # the test case of a file that cannot be loaded, as pytest's item is named

# Characters XML 1.0 does not allow, even escaped (control characters in a reply or a broken file's text):
# shown as `#x1B`, as pytest's --junitxml shows them, so the report stays well-formed.
_NOT_XML = re.compile("[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")


def xml_safe(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"#x{ord(m.group()):02X}", text)


@dataclass(frozen=True)
class JUnitCase:
    """One <testcase>: `outcome` passed, failed (<failure>) or error (<error>)."""

    name: str
    classname: str
    time: float = 0.0
    outcome: str = PASSED
    message: str = ""  # the one-line `message` attribute
    text: str = ""  # the body (the whole failure text)
    type: str = ""


@dataclass(frozen=True)
class JUnitSuite:
    """One <testsuite>; `file` is its source file when it has one."""

    name: str
    cases: Sequence[JUnitCase]
    file: str | None = None
    time: float | None = None  # default: the sum of the cases'


def junit_document(suites: Sequence[JUnitSuite], *, name: str = "autopilot-harness",
                   started: datetime | None = None, duration: float = 0.0) -> str:
    """JUnit XML in the dialect of Jenkins' junit-10.xsd (what Jenkins, GitLab and GitHub reporters read)."""
    every = [case for suite in suites for case in suite.cases]
    root = ElementTree.Element("testsuites", name=xml_safe(name), tests=str(len(every)),
                               failures=str(sum(c.outcome == FAILED for c in every)),
                               errors=str(sum(c.outcome == ERROR for c in every)), time=f"{duration:.3f}")
    for suite in suites:
        element = ElementTree.SubElement(
            root, "testsuite", name=xml_safe(suite.name), tests=str(len(suite.cases)),
            failures=str(sum(c.outcome == FAILED for c in suite.cases)),
            errors=str(sum(c.outcome == ERROR for c in suite.cases)), skipped="0",
            time=f"{suite.time if suite.time is not None else sum(c.time for c in suite.cases):.3f}",
        )
        if suite.file is not None:
            element.set("file", xml_safe(suite.file))
        if started is not None:
            element.set("timestamp", started.isoformat(timespec="seconds"))
        for case in suite.cases:
            testcase = ElementTree.SubElement(element, "testcase", classname=xml_safe(case.classname),
                                              name=xml_safe(case.name), time=f"{case.time:.3f}")
            if case.outcome in (FAILED, ERROR):
                tag = "failure" if case.outcome == FAILED else "error"
                problem = ElementTree.SubElement(testcase, tag, message=xml_safe(case.message))
                if case.type:
                    problem.set("type", case.type)
                problem.text = xml_safe(case.text)
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"


def junit_xml(cases: Sequence[CaseResult], *, started: datetime | None = None, duration: float = 0.0) -> str:
    """A run's JUnit XML: one <testsuite> per scenario file, one <testcase> per scenario (pytest's names)."""
    by_file: dict[str, list[CaseResult]] = {}
    for case in cases:
        by_file.setdefault(case.file, []).append(case)
    suites = [JUnitSuite(name=file, file=file, cases=[_junit_case(case) for case in members])
              for file, members in by_file.items()]
    return junit_document(suites, started=started, duration=duration)


def _junit_case(case: CaseResult) -> JUnitCase:
    name = BROKEN_FILE_NAME if case.kind == "file" else case.id
    where = f"{case.file}:{case.line}" if case.line is not None else case.file
    if case.status == FAILED:
        count = len(case.mismatches)
        return JUnitCase(name, _classname(case.file), case.duration, FAILED,
                         f"{count} expectation{'s' if count != 1 else ''} failed",
                         f"{where}\n{case.failure_text()}", "ExpectationFailed")
    if case.status == ERROR:
        message = case.error.splitlines()[0] if case.error else ""
        text = case.failure_text() if case.kind == "file" else f"{where}\n{case.failure_text()}"
        return JUnitCase(name, _classname(case.file), case.duration, ERROR, message, text, "HarnessError")
    return JUnitCase(name, _classname(case.file), case.duration)


def _classname(file: str) -> str:
    """pytest's (`mangle_test_address`: the node id's path with dots for slashes), so CI groups both faces'
    results alike."""
    return file.replace("/", ".")
