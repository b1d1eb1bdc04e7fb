"""The scenario runner: run_case / run_suite, golden files, JUnit and JSON shapes, bad files, selection."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from xml.etree import ElementTree

import pytest

from harness.errors import ExitCode, UsageError
from harness.models.scenario import load_scenario_file
from harness.runner.scenarios import (
    SessionPool,
    collect_files,
    golden_path,
    keyword_matcher,
    run_case,
    run_suite,
    selector,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "scenarios"
TINY_BOT = FIXTURES / "bot.json"  # tasks greet ("hello" → "Hello!", listens) and goodbye ("bye" → "Bye", ends)

PASSING = """\
    bot: {bot}
    scenarios:
      - name: hello then bye
        tags: [smoke]
        turns:
          - user: hello
            expect: {{task: greet, replies: ["Hello!"], ended: false}}
          - user: bye
            expect: {{task: goodbye, replies: ["Bye"], ended: true}}
        expect: {{ended: true, no_handoff: true}}
      - name: variants
        turns:
          - variants: [hello, bye]
"""

FAILING = """\
    bot: {bot}
    scenarios:
      - name: wrong everywhere
        turns:
          - user: hello
            expect: {{task: goodbye}}
          - user: bye
            expect: {{replies: ["Ciao"]}}
        expect: {{memory: {{vip: true}}}}
"""


def write(folder: Path, name: str, text: str, bot: Path = TINY_BOT) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).format(bot=bot.as_posix()), encoding="utf-8")
    return path


def test_a_passing_file_runs_every_concrete_scenario(tmp_path: Path) -> None:
    write(tmp_path, "a.scenario.yaml", PASSING)
    seen: list[str] = []
    suite = run_suite([tmp_path], progress=lambda result: seen.append(result.id))
    assert seen == ["hello then bye", "variants[v1]", "variants[v2]"]
    assert suite.summary == {"passed": 3, "failed": 0, "error": 0, "total": 3}
    assert suite.exit_code == ExitCode.OK
    first = suite.cases[0]
    assert first.tags == ("smoke",) and first.line == 3
    assert [t.task for t in first.transcript.turns] == ["greet", "goodbye"]


def test_every_mismatch_is_collected_not_only_the_first(tmp_path: Path) -> None:
    path = write(tmp_path, "f.scenario.yaml", FAILING)
    suite = run_suite([path])
    (case,) = suite.cases
    assert case.status == "failed" and suite.exit_code == ExitCode.FAILED
    assert [m.key for m in case.mismatches] == ["task", "replies", "memory"]
    text = case.failure_text()
    assert text.startswith("3 expectations failed")
    assert 'turn 1 ("hello"):\n  task: expected "goodbye", got "greet"' in text
    assert f"[{case.file}:6:" in text  # where the expectation is written
    assert "after the last turn:" in text and "Traceback" not in text


def test_an_engine_error_is_an_error_result_with_the_message(tmp_path: Path) -> None:
    bot = tmp_path / "bot.json"
    bot.write_text(json.dumps({"uniqueName": "broken", "tasks": [
        {"uniqueName": "greet", "actionsUrl": "https://nowhere.example.com/actions",
         "samples": [{"language": "en-US", "taggedText": "hello"}]}]}), encoding="utf-8")
    write(tmp_path, "e.scenario.yaml", """\
        bot: bot.json
        scenarios:
          - name: webhook down
            turns:
              - user: hello
              - user: hello again
    """)
    (case,) = run_suite([tmp_path]).cases
    assert case.status == "error"
    assert "nowhere.example.com" in case.error and "Traceback" not in case.error
    assert case.transcript is not None  # what happened before the error is kept


def test_a_malformed_file_is_one_error_result_and_the_rest_still_runs(tmp_path: Path) -> None:
    write(tmp_path, "a.scenario.yaml", PASSING)
    broken = tmp_path / "b.scenario.yaml"
    broken.write_text(f"bot: {TINY_BOT.as_posix()}\nscenarios:\n  - name: x\n    turns:\n"
                      "      - user: hi\n        expect: {replys: []}\n", encoding="utf-8")
    suite = run_suite([tmp_path])
    kinds = [(c.kind, c.status) for c in suite.cases]
    assert kinds == [("scenario", "passed")] * 3 + [("file", "error")]
    error = suite.cases[-1].error
    assert error.startswith(f"{broken.as_posix()}:6:26 (/scenarios/0/turns/0/expect/replys): unknown key 'replys'")
    assert suite.files[suite.cases[-1].file]["error"] == error
    assert suite.exit_code == ExitCode.BAD_INPUT  # only invalid input failed


def test_exit_code_is_1_when_a_scenario_fails_even_with_invalid_files(tmp_path: Path) -> None:
    write(tmp_path, "f.scenario.yaml", FAILING)
    (tmp_path / "g.scenario.yaml").write_text("scenarios: 3\n", encoding="utf-8")
    assert run_suite([tmp_path]).exit_code == ExitCode.FAILED


def test_nothing_collected_and_missing_paths(tmp_path: Path) -> None:
    (tmp_path / "not-a-scenario.yaml").write_text("x: 1\n", encoding="utf-8")
    assert run_suite([tmp_path]).exit_code == ExitCode.NOTHING_COLLECTED
    with pytest.raises(UsageError, match="no such file or folder"):
        run_suite([tmp_path / "missing"])


def test_collect_skips_hidden_folders_and_node_modules(tmp_path: Path) -> None:
    for name in ("a.scenario.yaml", ".venv/x.scenario.yaml", "node_modules/y.scenario.yaml", "sub/c.scenario.yaml"):
        write(tmp_path, name, PASSING)
    assert [p.relative_to(tmp_path).as_posix() for p in collect_files([tmp_path])] == [
        "a.scenario.yaml", "sub/c.scenario.yaml"]


def test_the_pool_starts_one_session_per_configuration(tmp_path: Path) -> None:
    one = load_scenario_file(write(tmp_path, "one.scenario.yaml", PASSING))
    two = load_scenario_file(write(tmp_path, "two.scenario.yaml", PASSING))
    other = load_scenario_file(write(tmp_path, "three.scenario.yaml", "threshold: 0.9\n" + textwrap.dedent(
        PASSING)))
    with SessionPool() as pool:
        for scenario_file in (one, two, other):
            for concrete in scenario_file.scenarios[0].expanded():
                assert run_case(pool, concrete, file=scenario_file).passed
        assert pool.started == 2


def test_cases_do_not_depend_on_what_ran_before(tmp_path: Path) -> None:
    # SIDs are reseeded per case: running a case alone or after others gives the same transcript.
    write(tmp_path, "a.scenario.yaml", PASSING)
    together = run_suite([tmp_path])
    alone = run_suite([tmp_path], select=lambda file, scenario: scenario.id == "variants[v2]")
    assert alone.deselected == 2
    assert alone.cases[0].transcript == together.cases[2].transcript


def test_run_case_refuses_a_scenario_with_variants(tmp_path: Path) -> None:
    scenario_file = load_scenario_file(write(tmp_path, "a.scenario.yaml", PASSING))
    with SessionPool() as pool, pytest.raises(UsageError, match="has variants"):
        run_case(pool, scenario_file.scenarios[1], file=scenario_file)


# --- golden files -------------------------------------------------------------------------------------


def test_golden_is_written_then_matched_and_byte_identical(tmp_path: Path) -> None:
    path = write(tmp_path, "hotel.scenario.yaml", PASSING)
    first = run_suite([path], update_golden=True)
    golden = tmp_path / "hotel.golden" / "hello_then_bye.json"
    assert golden == golden_path(load_scenario_file(path).scenarios[0])
    assert {c.golden for c in first.cases} == {"written"}
    written = golden.read_bytes()
    document = json.loads(written)
    assert document["scenario"] == "hello then bye" and document["version"] == 1
    assert list(document) == sorted(document)  # sorted keys
    run_suite([path], update_golden=True)
    assert golden.read_bytes() == written
    again = run_suite([path])
    assert {c.golden for c in again.cases} == {"matched"} and again.exit_code == ExitCode.OK


def test_a_changed_golden_fails_with_a_readable_diff(tmp_path: Path) -> None:
    path = write(tmp_path, "hotel.scenario.yaml", PASSING)
    run_suite([path], update_golden=True)
    golden = tmp_path / "hotel.golden" / "hello_then_bye.json"
    document = json.loads(golden.read_text(encoding="utf-8"))
    document["transcript"]["turns"][0]["task"] = "welcome"
    document["transcript"]["turns"][1]["replies"] = ["Goodbye!"]
    golden.write_text(json.dumps(document), encoding="utf-8")
    case = run_suite([path]).cases[0]
    assert case.status == "failed" and case.golden == "changed"
    text = case.failure_text()
    assert "changed since the golden run (" in text and "hello_then_bye.json" in text
    assert 'turn 1 ("hello") task: expected "welcome", got "greet"' in text
    assert 'turn 2 ("bye") reply 1: expected "Goodbye!", got "Bye"' in text


def test_golden_diff_names_handoff_paths() -> None:
    from harness.runner.scenarios import golden_diff

    before = {"turns": [], "handoff": {"kind": "flex", "attributes": '{"memory": {"room": "12"}}', "queue": "A"}}
    after = {"turns": [], "handoff": {"kind": "flex", "attributes": {"memory": {}}, "queue": "B"}}
    found = {m.path: (m.expected, m.actual) for m in golden_diff(before, after, "g.json")}
    assert found["handoff.queue"] == ("A", "B")
    assert repr(found["handoff.attributes.memory.room"][1]) == "(missing)"


def test_an_unreadable_golden_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "hotel.scenario.yaml", PASSING)
    (tmp_path / "hotel.golden").mkdir()
    (tmp_path / "hotel.golden" / "hello_then_bye.json").write_text("{not json", encoding="utf-8")
    case = run_suite([path]).cases[0]
    assert case.status == "error" and "cannot read the golden transcript" in case.error
    assert "--update-golden" in case.error


# --- reports ------------------------------------------------------------------------------------------


def test_json_results_shape(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES.parents[2])  # paths in the results are relative to the working directory
    write(tmp_path, "a.scenario.yaml", PASSING)
    write(tmp_path, "f.scenario.yaml", FAILING)
    data = json.loads(run_suite([tmp_path]).to_json())
    # `golden` appears because these scenarios have no golden files (`golden.missing`).
    assert set(data) == {"version", "started", "duration", "summary", "cwd", "files", "cases", "golden"}
    assert data["cwd"] == str(FIXTURES.parents[2].resolve())
    assert data["version"] == 1 and data["started"].endswith("Z")
    assert data["summary"] == {"passed": 3, "failed": 1, "error": 0, "total": 4}
    (file_a, file_f) = sorted(data["files"])
    assert data["files"][file_a] == {"bot": "tests/fixtures/scenarios/bot.json", "flow": None, "error": None}
    failed = data["cases"][-1]
    assert {"kind", "file", "id", "name", "tags", "status", "duration", "mismatches", "transcript",
            "error", "failure", "golden", "line"} <= set(failed)
    assert failed["file"] == file_f and failed["status"] == "failed"
    assert failed["mismatches"][0] == {
        "where": 'turn 1 ("hello") task', "scope": 'turn 1 ("hello")', "key": "task", "path": None,
        "expected": '"goodbye"', "actual": '"greet"', "detail": failed["mismatches"][0]["detail"],
        "location": failed["mismatches"][0]["location"]}
    assert failed["mismatches"][0]["location"].endswith(":6:24 (/scenarios/0/turns/0/expect/task)")
    assert failed["transcript"]["turns"][0]["task"] == "greet"


def test_junit_xml_shape(tmp_path: Path) -> None:
    write(tmp_path, "a.scenario.yaml", PASSING)
    write(tmp_path, "f.scenario.yaml", FAILING)
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


# --- selection ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("expression", "names", "expected"), [
    ("towels", ["hotel.scenario.yaml", "Guest asks for towels"], True),
    ("TOWELS and not chat", ["hotel.scenario.yaml", "towels", "chat"], False),
    ("pizza or (towels and smoke)", ["towels", "smoke"], True),
    ("not (a or b)", ["c"], True),
    ("", ["x"], True),
])
def test_keyword_matcher(expression: str, names: list[str], expected: bool) -> None:
    assert keyword_matcher(expression)(names) is expected


@pytest.mark.parametrize("expression", ["a and", "(a", "a b", "and a", ")"])
def test_keyword_matcher_rejects_bad_expressions(expression: str) -> None:
    with pytest.raises(UsageError, match="-k"):
        keyword_matcher(expression)


def test_selector_by_tag_and_keyword(tmp_path: Path) -> None:
    write(tmp_path, "a.scenario.yaml", PASSING)
    assert [c.id for c in run_suite([tmp_path], select=selector(tags=["smoke"])).cases] == ["hello then bye"]
    assert [c.id for c in run_suite([tmp_path], select=selector("v2")).cases] == ["variants[v2]"]
    assert selector() is None
