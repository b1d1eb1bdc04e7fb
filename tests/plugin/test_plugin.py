"""The pytest plugin, driven through pytester: ids, selection, reports, failure text, xdist parity, fixtures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

# pytester's in-process runs drop the modules a run imported; loading the engines here once keeps each
# run from re-importing them (about 1 s a run).
import harness.engines.autopilot.runtime
import harness.engines.studio.engine
import harness.engines.twilio.rest
import harness.models.assistant_loader
import harness.runner.scenarios  # noqa: F401

pytest_plugins = ["pytester"]  # here, not in a conftest: non-root conftests may not declare plugins

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "scenarios"
TINY_BOT = (FIXTURES / "bot.json").as_posix()  # greet: "hello" → "Hello!" (listens); goodbye: "bye" → "Bye"
HOSPITALITY_BOT = (FIXTURES.parents[1].parent / "examples" / "hospitality" / "assistant.json").as_posix()
# Plugins these runs do not need; each would be imported again by every in-process run.
SKIP_SLOW_PLUGINS = ("-p", "no:faker", "-p", "no:pact", "-p", "no:hypothesispytest", "-p", "no:benchmark")


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest(*SKIP_SLOW_PLUGINS, *args)

HOTEL = f"""\
bot: {TINY_BOT}
scenarios:
  - name: hello then bye
    tags: [smoke]
    turns:
      - user: hello
        expect: {{task: greet, replies: ["Hello!"]}}
      - user: bye
        expect: {{task: goodbye, ended: true}}
  - name: variants
    tags: [routing]
    turns:
      - variants: [hello, bye]
  - name: broken on purpose
    parametrize: [{{say: hello}}]
    turns:
      - user: "{{{{ row.say }}}}"
        expect: {{task: goodbye, replies: ["Bye"]}}
"""


@pytest.fixture
def hotel(pytester: pytest.Pytester) -> Path:
    return pytester.makefile(".scenario.yaml", hotel=HOTEL)


def test_each_concrete_scenario_is_one_item_with_a_stable_id(pytester: pytest.Pytester, hotel: Path) -> None:
    result = run(pytester, "--collect-only", "-q")
    result.stdout.fnmatch_lines([
        "hotel.scenario.yaml::hello then bye",
        "hotel.scenario.yaml::variants[[]v1[]]",
        "hotel.scenario.yaml::variants[[]v2[]]",
        "hotel.scenario.yaml::broken on purpose[[]hello[]]",
        "4 tests collected*",
    ])


def test_a_failing_scenario_shows_the_diff_without_a_traceback(pytester: pytest.Pytester, hotel: Path) -> None:
    result = run(pytester)
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines([
        "*_ scenario: broken on purpose[[]hello[]] _*",
        "2 expectations failed",
        'turn 1 ("hello"):',
        '  task: expected "goodbye", got "greet"  [[]hotel.scenario.yaml:18:24[]]',
        "      routing: exact*",
        '  replies[[]0[]]: expected "Bye", got "Hello!"*',
    ])
    assert "Traceback" not in result.stdout.str() and "def runtest" not in result.stdout.str()


def test_k_and_tag_markers_select(pytester: pytest.Pytester, hotel: Path) -> None:
    run(pytester, "-k", "variants and v2").assert_outcomes(passed=1, deselected=3)
    strict = run(pytester, "-m", "smoke", "--strict-markers", "-W", "error::pytest.PytestUnknownMarkWarning")
    strict.assert_outcomes(passed=1, deselected=3)
    run(pytester, "-m", "not routing and not smoke").assert_outcomes(failed=1, deselected=3)


def test_last_failed_reruns_only_the_failed_scenario(pytester: pytest.Pytester, hotel: Path) -> None:
    run(pytester).assert_outcomes(passed=3, failed=1)
    result = run(pytester, "--lf")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["run-last-failure: rerun previous 1 failure*", "hotel.scenario.yaml F*"])


def test_junitxml_carries_the_diff(pytester: pytest.Pytester, hotel: Path) -> None:
    run(pytester, "--junitxml=out.xml")
    root = ElementTree.parse(pytester.path / "out.xml").getroot()
    cases = {case.get("name"): case for case in root.iter("testcase")}
    assert set(cases) == {"hello then bye", "variants[v1]", "variants[v2]", "broken on purpose[hello]"}
    failure = cases["broken on purpose[hello]"].find("failure")
    assert 'task: expected "goodbye", got "greet"' in failure.text
    assert cases["hello then bye"].get("classname") == "hotel.scenario.yaml"


def test_a_malformed_file_fails_as_one_item_with_its_location_only(pytester: pytest.Pytester) -> None:
    pytester.makefile(".scenario.yaml", bad=f"bot: {TINY_BOT}\nscenarios:\n  - name: x\n    turns:\n"
                                            "      - user: hi\n        expect: {replys: []}\n")
    result = run(pytester)
    result.assert_outcomes(errors=1)  # an item, not a collection error: the rest of a suite still runs
    result.stdout.fnmatch_lines([
        "*bad.scenario.yaml:6:26 (/scenarios/0/turns/0/expect/replys): unknown key 'replys'*",
        "*ERROR bad.scenario.yaml::(file)*",
    ])
    assert "Traceback" not in result.stdout.str() and "load_scenario_file" not in result.stdout.str()


def test_update_golden_and_json_results(pytester: pytest.Pytester, hotel: Path) -> None:
    run(pytester, "--update-golden", "-k", "hello and not broken").assert_outcomes(passed=1, deselected=3)
    golden = pytester.path / "hotel.golden" / "hello_then_bye.json"
    assert json.loads(golden.read_text(encoding="utf-8"))["scenario"] == "hello then bye"
    result = run(pytester, "--autopilot-json", "results.json")
    result.assert_outcomes(passed=3, failed=1)
    data = json.loads((pytester.path / "results.json").read_text(encoding="utf-8"))
    assert data["version"] == 1 and data["summary"] == {"passed": 3, "failed": 1, "error": 0, "total": 4}
    assert data["files"] == {"hotel.scenario.yaml": {"bot": data["files"]["hotel.scenario.yaml"]["bot"],
                                                     "flow": None, "error": None}}
    by_id = {case["id"]: case for case in data["cases"]}
    assert by_id["hello then bye"]["golden"] == "matched"
    assert by_id["broken on purpose[hello]"]["mismatches"][0]["key"] == "task"
    assert by_id["variants[v2]"]["transcript"]["turns"][0]["task"] == "goodbye"


def test_json_results_name_broken_files(pytester: pytest.Pytester) -> None:
    pytester.makefile(".scenario.yaml", bad="scenarios: 3\n")
    run(pytester, "--autopilot-json", "results.json")
    data = json.loads((pytester.path / "results.json").read_text(encoding="utf-8"))
    (case,) = data["cases"]
    assert case["kind"] == "file" and case["status"] == "error" and "bad.scenario.yaml" in case["error"]


def test_pyproject_settings_glob_and_threshold(pytester: pytest.Pytester) -> None:
    # 1.0: only an exact sample is that sure (a scored match is at most 0.99, docs/routing.md).
    pytester.makepyprojecttoml('[tool.autopilot-harness]\nscenario_glob = "*.convo.yaml"\nthreshold = 1.0\n')
    (pytester.path / "chat.convo.yaml").write_text(
        f"bot: {HOSPITALITY_BOT}\nscenarios:\n  - name: near miss\n    turns:\n"
        "      - user: could you send towels up\n        expect: {task: get_quantity}\n", encoding="utf-8")
    (pytester.path / "ignored.scenario.yaml").write_text("not: collected\n", encoding="utf-8")
    result = run(pytester, "-v")
    result.assert_outcomes(failed=1)  # 0.99 passes the default threshold, not 1.0
    result.stdout.fnmatch_lines(["*chat.convo.yaml::near miss FAILED*",
                                 '*task: expected "get_quantity", got "fallback"*'])
    assert "ignored.scenario.yaml" not in result.stdout.str()


def test_fixtures_give_the_engines(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_engines=f"""
        from harness.models.flow import flow_from_dict

        def test_assistant(assistant):
            trained = assistant({TINY_BOT!r}, threshold=0.5)
            assert trained.start().send("hello").to_dict()["task"] == "greet"

        def test_session(autopilot_session):
            session = autopilot_session(bot={TINY_BOT!r})
            assert session.conversation().say("bye").ended

        def test_studio(studio):
            env = studio()
            assert env.clock.now().year == 2023 and env.taskrouter is not None

        def test_twilio_fake(twilio_fake):
            assert twilio_fake.calls == []
    """)
    run(pytester).assert_outcomes(passed=4)


def test_xdist_gives_identical_results(pytester: pytest.Pytester, hotel: Path) -> None:
    pytester.makefile(".scenario.yaml", second=HOTEL.replace("hello then bye", "second file"))
    serial = pytester.runpytest_subprocess(*SKIP_SLOW_PLUGINS, "--autopilot-json", "serial.json")
    parallel = pytester.runpytest_subprocess(*SKIP_SLOW_PLUGINS, "-n", "2", "--autopilot-json", "parallel.json")
    serial.assert_outcomes(passed=6, failed=2)
    parallel.assert_outcomes(passed=6, failed=2)

    def outcomes(name: str) -> dict[tuple[str, str], tuple[str, object, object]]:
        data = json.loads((pytester.path / name).read_text(encoding="utf-8"))
        return {(c["file"], c["id"]): (c["status"], c["failure"], c["transcript"]) for c in data["cases"]}

    assert outcomes("serial.json") == outcomes("parallel.json")  # same SIDs, replies and diffs


def test_plugin_import_loads_nothing_heavy() -> None:
    code = ("import sys, harness.pytest_plugin; heavy = ('jsonschema', 'yaml', 'faker', 'pact', 'requests', "
            "'harness.engines', 'harness.runner', 'harness.models'); "
            "print([m for m in heavy if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_plugin_is_registered_by_entry_point() -> None:
    from importlib.metadata import entry_points

    names = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert names.get("autopilot_harness") == "harness.pytest_plugin", "run `pip install -e .` again"

