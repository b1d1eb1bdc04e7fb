"""JUnit XML that CI servers accept: `run --junit` and pytest's own `--junitxml` on the same folder both
validate against Jenkins' junit-10.xsd (tests/ci_schemas.py: the schema Jenkins' xUnit plugin
ships; GitLab's and GitHub's test reporters read the same dialect), and tell the same story: the same
test cases, names, classnames and outcomes — a malformed file is an error in both faces."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest

import harness.engines.autopilot.runtime
import harness.runner.scenarios  # noqa: F401  (loaded once: pytester's in-process runs drop new modules)
from harness.cli import main
from tests.ci_schemas import junit_schema

pytest_plugins = ["pytester"]

TINY_BOT = (Path(__file__).resolve().parents[1] / "fixtures" / "scenarios" / "bot.json").as_posix()
SKIP_SLOW_PLUGINS = ("-p", "no:faker", "-p", "no:pact", "-p", "no:hypothesispytest", "-p", "no:benchmark")

GOOD = f"""\
bot: {TINY_BOT}
scenarios:
  - name: hello
    turns:
      - variants: [hello, hello there]
        expect: {{task: greet}}
"""
# The expected reply holds control characters (ESC, BEL) that XML 1.0 cannot carry even escaped.
FAILING = f"""\
bot: {TINY_BOT}
scenarios:
  - name: expects a coloured reply
    turns:
      - user: hello
        expect: {{replies: ["\\e[31mHello!\\a"]}}
"""


def problems(xml: str) -> list[str]:
    return [f"{error.path}: {error.reason}" for error in junit_schema().iter_errors(xml)]


def outcomes(xml: str) -> dict[tuple[str, str], str]:
    """(classname, name) → passed | failure | error, for every test case."""
    found = {}
    for case in ElementTree.fromstring(xml).iter("testcase"):
        kinds = [child.tag for child in case if child.tag in ("failure", "error")]
        found[(case.get("classname"), case.get("name"))] = kinds[0] if kinds else "passed"
    return found


@pytest.fixture
def suite(pytester: pytest.Pytester) -> Path:
    folder = pytester.path / "suite"
    folder.mkdir()
    (folder / "good.scenario.yaml").write_text(GOOD, encoding="utf-8")
    (folder / "failing.scenario.yaml").write_text(FAILING, encoding="utf-8")
    (folder / "broken.scenario.yaml").write_text("scenarios: [\n", encoding="utf-8")
    return folder


def test_run_junit_validates_and_says_what_pytest_junitxml_says(pytester: pytest.Pytester, suite: Path) -> None:
    assert main(["run", "-q", "--junit", "run.xml", "suite"]) == 1
    ours = (pytester.path / "run.xml").read_text(encoding="utf-8")
    pytester.runpytest(*SKIP_SLOW_PLUGINS, "--junitxml=pytest.xml", "suite")
    theirs = (pytester.path / "pytest.xml").read_text(encoding="utf-8")

    assert problems(theirs) == []  # the reference: pytest's own report is valid
    assert problems(ours) == []
    assert outcomes(ours) == outcomes(theirs) == {
        ("suite.good.scenario.yaml", "hello[v1]"): "passed",
        ("suite.good.scenario.yaml", "hello[v2]"): "passed",
        ("suite.failing.scenario.yaml", "expects a coloured reply"): "failure",
        ("suite.broken.scenario.yaml", "(file)"): "error",  # the same kind of result in both faces
    }


def test_the_place_of_a_failure_is_in_its_text(pytester: pytest.Pytester, suite: Path) -> None:
    main(["run", "-q", "--junit", "run.xml", "suite"])
    root = ElementTree.parse(pytester.path / "run.xml").getroot()
    failing = next(s for s in root.iter("testsuite") if s.get("name") == "suite/failing.scenario.yaml")
    assert failing.get("file") == "suite/failing.scenario.yaml"  # the schema allows `file` here only
    failure = failing.find("testcase/failure")
    assert failure.text.startswith("suite/failing.scenario.yaml:3\n")
    assert "#x1B[31mHello!#x07" in failure.text  # control characters shown, as pytest shows them
    error = root.find("testsuite[@name='suite/broken.scenario.yaml']/testcase/error")
    assert error.get("message").startswith("suite/broken.scenario.yaml:2:1")


def test_the_schema_refuses_what_we_used_to_write() -> None:
    """The fixture is a real check: testcase `file`/`line` attributes (our old output) are refused."""
    old = ('<testsuites><testsuite name="a" tests="1" failures="0" errors="0">'
           '<testcase classname="a" name="x" file="a.scenario.yaml" line="3" time="0.1"/></testsuite></testsuites>')
    assert any("file" in problem for problem in problems(old))
