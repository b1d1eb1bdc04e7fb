"""The pytest plugin's settings and inputs: a malformed file is one failing item, pyproject settings
checked and shared with `run`, range-checked options, unwritable report files, twilio_fake's OpenAPI specs."""

from __future__ import annotations

import json

import pytest

import harness.engines.autopilot.runtime
import harness.engines.twilio.rest
import harness.runner.scenarios  # loaded once here, not by every in-process run
from tests.conftest import real_path
from tests.scenario_texts import LOW_CONFIDENCE, TINY_BOT

pytest_plugins = ["pytester"]

SKIP_SLOW_PLUGINS = ("-p", "no:faker", "-p", "no:pact", "-p", "no:hypothesispytest", "-p", "no:benchmark",
                     "-p", "no:cacheprovider")

GOOD = f"""\
bot: {TINY_BOT}
scenarios:
  - name: hello
    turns:
      - user: hello
        expect: {{task: greet}}
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest(*SKIP_SLOW_PLUGINS, *args)


def test_one_malformed_file_does_not_stop_the_others(pytester: pytest.Pytester) -> None:
    pytester.makefile(".scenario.yaml", good=GOOD, other=GOOD)
    pytester.makefile(".scenario.yaml", bad1="bot: x.json\nscenarios:\n  - name: a\n    turns:\n"
                                             "      - user: [unclosed\n\n")
    result = run(pytester, "--autopilot-json", "results.json")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*bad1.scenario.yaml:5:15: malformed YAML*`user`*",
                                 "*ERROR bad1.scenario.yaml::(file)*"])
    assert "Interrupted" not in result.stdout.str() and "Traceback" not in result.stdout.str()
    document = json.loads((pytester.path / "results.json").read_text(encoding="utf-8"))
    broken = [case for case in document["cases"] if case["kind"] == "file"]
    assert len(broken) == 1 and broken[0]["file"] == "bad1.scenario.yaml" and broken[0]["status"] == "error"
    assert document["files"]["bad1.scenario.yaml"]["error"].startswith("bad1.scenario.yaml:5:15")
    assert document["summary"] == {"passed": 2, "failed": 0, "error": 1, "total": 3}


def test_the_pyproject_threshold_is_used_as_by_run(pytester: pytest.Pytester) -> None:
    pytester.makefile(".scenario.yaml", low=LOW_CONFIDENCE)
    run(pytester).assert_outcomes(failed=1)
    pytester.makepyprojecttoml("[tool.autopilot-harness]\nthreshold = 0.05\n")
    run(pytester).assert_outcomes(passed=1)


@pytest.mark.parametrize(("body", "message"), [
    ("scenario_glob = 5", "scenario_glob: expected a file name pattern"),
    ('threshold = "high"', "threshold: expected a number from 0 to 1, found 'high'"),
])
def test_a_bad_pyproject_value_is_one_usage_error(pytester: pytest.Pytester, body: str, message: str) -> None:
    pytester.makefile(".scenario.yaml", good=GOOD)
    pytester.makepyprojecttoml(f"[tool.autopilot-harness]\n{body}\n")
    result = run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    text = result.stderr.str() + result.stdout.str()
    assert "pyproject.toml:2: [tool.autopilot-harness] " + message in text
    assert "Traceback" not in text and "TypeError" not in text and "ValueError" not in text


def test_fail_under_out_of_range_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = run(pytester, "--autopilot-fail-under-tasks", "150")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "expected a percentage from 0 to 100, got 150" in result.stderr.str()


def test_an_unwritable_results_file_is_a_usage_error_before_running(pytester: pytest.Pytester) -> None:
    pytester.makefile(".scenario.yaml", good=GOOD)
    (pytester.path / "out").mkdir()
    result = run(pytester, "--autopilot-json", "out")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--autopilot-json out: is a folder" in result.stderr.str()
    run(pytester, "--autopilot-json", "new/folder/r.json").assert_outcomes(passed=1)
    assert (pytester.path / "new" / "folder" / "r.json").is_file()


SPEC = {"openapi": "3.0.1", "servers": [{"url": "https://studio.twilio.com"}],
        "paths": {"/v2/Flows": {"get": {"responses": {"200": {"description": "ok"}}}}}}
TEST_FAKE = """
def test_fake(twilio_fake):
    print("SPECS", sorted(twilio_fake.specs.files))
"""


def test_twilio_fake_loads_specs_from_the_environment_or_pyproject(pytester: pytest.Pytester,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTOPILOT_HARNESS_OPENAPI", raising=False)
    (pytester.path / "specs").mkdir()
    (pytester.path / "specs" / "twilio_studio_v2.json").write_text(json.dumps(SPEC), encoding="utf-8")
    pytester.makepyfile(test_fake=TEST_FAKE)
    pytester.makepyprojecttoml('[tool.autopilot-harness]\nopenapi_dir = "specs"\n')
    result = run(pytester, "-s")
    result.assert_outcomes(passed=1)
    assert "SPECS ['twilio_studio_v2.json']" in result.stdout.str()
    pytester.makepyprojecttoml('[tool.autopilot-harness]\nopenapi_dir = "missing"\n')
    missing = run(pytester)
    missing.assert_outcomes(errors=1)
    missing.stdout.fnmatch_lines(["*pyproject.toml:2: [[]tool.autopilot-harness[]] openapi_dir: no such folder*"])
    monkeypatch.setenv("AUTOPILOT_HARNESS_OPENAPI", str(pytester.path / "specs"))  # the variable wins
    assert "SPECS ['twilio_studio_v2.json']" in run(pytester, "-s").stdout.str()


def test_twilio_fake_without_specs_warns_once(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTOPILOT_HARNESS_OPENAPI", raising=False)
    pytester.makepyfile(test_fake=TEST_FAKE + TEST_FAKE.replace("test_fake", "test_fake_again"))
    result = run(pytester, "-s")
    result.assert_outcomes(passed=2)  # other warnings may come from the environment (e.g. assert rewriting)
    result.stdout.fnmatch_lines(["*NoOpenApiSpecs: twilio_fake: no Twilio OpenAPI specs found*"])
    assert result.stdout.str().count("NoOpenApiSpecs: twilio_fake") == 1
    assert "SPECS []" in result.stdout.str()


def test_the_repositorys_own_tests_get_the_shared_specs(twilio_fake: harness.engines.twilio.rest.FakeTwilioApi
                                                        ) -> None:
    real_path("openapi")  # ../shared/real/openapi beside the checkout (skips where absent)
    assert "twilio_flex_v1.json" in twilio_fake.specs.files
