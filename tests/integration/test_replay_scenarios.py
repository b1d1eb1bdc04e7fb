"""Replay from scenario files (`replay: {requests: …}` / `replay: {execution: …}`) and the replay fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import harness.runner.replay
import harness.runner.scenarios  # noqa: F401  (loaded once: pytester's in-process runs would reload it)
from harness.errors import HarnessError
from harness.models.scenario import load_scenario_file
from harness.runner.scenarios import SessionPool, run_case, run_suite

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
TINY_BOT = (ROOT / "tests" / "fixtures" / "scenarios" / "bot.json").as_posix()
RECORDINGS = ROOT / "tests" / "fixtures" / "replay"
FLEX_FLOW = (ROOT / "examples" / "hospitality" / "flows" / "flex_messaging.json").as_posix()
SKIP_SLOW_PLUGINS = ("-p", "no:faker", "-p", "no:pact", "-p", "no:hypothesispytest", "-p", "no:benchmark")

EXECUTIONS = f"""\
flow: {FLEX_FLOW}
scenarios:
  - name: the recorded hand-off
    replay: {{execution: {(RECORDINGS / "flex_handoff.json").as_posix()}}}
  - name: the hand-edited recording
    replay: {{execution: {(RECORDINGS / "flex_handoff_divergent.json").as_posix()}}}
"""

# Recorded answers of the endpoint in replay_app.py: the first matches, the second was recorded before a
# change of wording, the third is compared as a subset (its `{}` stands for any second action).
REQUESTS = [
    {"url": "https://bot-1234.twil.io/bot", "CurrentTask": "greeting", "CurrentInput": "hi",
     "response": {"actions": [{"say": "You said hi"}, {"listen": True}]}},
    {"url": "https://bot-1234.twil.io/bot", "CurrentTask": "goodbye", "CurrentInput": "bye",
     "response": {"actions": [{"say": "Bye now!"}]}},
    {"url": "https://bot-1234.twil.io/bot", "CurrentTask": "greeting", "CurrentInput": "hello",
     "match": "subset", "response": {"actions": [{"say": "You said hello"}, {}]}},
]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def requests_suite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(ROOT))  # `servers` imports tests.integration.replay_app
    monkeypatch.chdir(tmp_path)
    (tmp_path / "captured").mkdir()
    write(tmp_path / "captured", "requests.jsonl", "".join(json.dumps(r) + "\n" for r in REQUESTS))
    return write(tmp_path, "replay.scenario.yaml", f"""\
bot: {TINY_BOT}
servers: [{{wsgi: "tests.integration.replay_app:create_app", url: "https://bot-1234.twil.io"}}]
scenarios:
  - name: captured requests
    replay: {{requests: captured/requests.jsonl}}
  - name: captured requests as subsets
    replay: {{requests: captured/requests.jsonl, match: subset}}
""")


# --- the loader ----------------------------------------------------------------------------------------


def test_the_loader_resolves_the_replay_paths(requests_suite: Path) -> None:
    scenario = load_scenario_file(requests_suite).scenario("captured requests as subsets")
    assert scenario.replay is not None and scenario.turns == ()
    assert scenario.replay.kind == "requests" and scenario.replay.match == "subset"
    assert scenario.replay.path == requests_suite.parent / "captured" / "requests.jsonl"


@pytest.mark.parametrize(("scenario", "message"), [
    ("{name: x, turns: [{user: hi}], replay: {execution: a.json}}",
     "scenario.scenario.yaml:2:5 (/scenarios/0): expected `turns` (with an optional `expect`), or `replay`"),
    ("{name: x, replay: {execution: a.json}, expect: {no_handoff: true}}",
     "scenario.scenario.yaml:2:5 (/scenarios/0): expected `turns` (with an optional `expect`), or `replay`"),
    ("{name: x, replay: {requests: a.json, execution: a.json}}",
     "(/scenarios/0/replay/execution): a replay has exactly one of `requests: FILE` or `execution: FILE`; "
     "found both"),
    ("{name: x, replay: {execution: a.json, match: subset}}",
     "(/scenarios/0/replay/match): `match` belongs to a replay of `requests`, not of `execution`"),
    ("{name: x, replay: {execution: missing.json}}",
     "(/scenarios/0/replay/execution): file not found: missing.json"),
])
def test_bad_replay_keys_name_the_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scenario: str,
                                        message: str) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "a.json", "{}")
    write(tmp_path, "scenario.scenario.yaml", f"scenarios:\n  - {scenario}\n")
    with pytest.raises(HarnessError) as caught:
        load_scenario_file("scenario.scenario.yaml")
    assert message in caught.value.render()


# --- the runner ----------------------------------------------------------------------------------------


def test_a_replayed_execution_passes_or_fails_at_the_divergent_step(tmp_path: Path) -> None:
    path = write(tmp_path, "exec.scenario.yaml", EXECUTIONS)
    suite = run_suite([path])
    passed, failed = suite.cases
    assert (passed.status, failed.status) == ("passed", "failed")
    (mismatch,) = failed.mismatches
    assert mismatch.expected == "CheckHandoff —noMatch→ Goodbye"
    assert mismatch.actual == "CheckHandoff —match→ SendToConcierge"
    text = failed.failure_text()
    assert 'replayed execution step 3:\n  transition: expected "CheckHandoff —noMatch→ Goodbye"' in text
    assert "'CheckHandoff' took a different transition" in text
    assert 'evaluated input: "true"' in text and "exec.scenario.yaml:6:25]" in text
    assert passed.transcript is None and passed.golden is None  # nothing to store: the recording is the golden


def test_an_execution_replay_without_a_flow_is_an_error_in_the_case(tmp_path: Path) -> None:
    path = write(tmp_path, "exec.scenario.yaml", EXECUTIONS.split("\n", 1)[1])
    (case, _) = run_suite([path]).cases
    assert case.status == "error" and "an execution replay needs a flow" in (case.error or "")


def test_replayed_requests_go_to_the_files_servers(requests_suite: Path) -> None:
    exact, subset = run_suite([requests_suite]).cases
    assert exact.status == "failed"
    (mismatch,) = exact.mismatches
    assert (mismatch.path, mismatch.expected, mismatch.actual) == ("actions[0].say", "Bye now!", "Goodbye!")
    assert 'request 2 (goodbye · "bye"):\n  actions[0].say: expected "Bye now!", got "Goodbye!"  ' \
           '[replay.scenario.yaml:5:24]' in exact.failure_text()
    assert subset.status == "failed" and len(subset.mismatches) == 1  # subset still differs in wording


def test_a_replay_scenario_shares_the_files_session(requests_suite: Path) -> None:
    scenario_file = load_scenario_file(requests_suite)
    with SessionPool() as pool:
        for scenario in scenario_file.scenarios:
            run_case(pool, scenario, file=scenario_file)
        assert pool.started == 1  # the WSGI service started once for both replays


# --- pytest: replay scenarios as items, and the fixtures ------------------------------------------------


def test_replay_scenarios_are_pytest_items(pytester: pytest.Pytester) -> None:
    pytester.makefile(".scenario.yaml", exec=EXECUTIONS)
    result = pytester.runpytest(*SKIP_SLOW_PLUGINS)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*replayed execution step 3*", '*expected "CheckHandoff —noMatch→ Goodbye"*'])


def test_the_replay_fixtures_bind_to_a_scenario_files_configuration(pytester: pytest.Pytester) -> None:
    pytester.syspathinsert(ROOT)
    pytester.mkdir("captured")
    (pytester.path / "captured" / "requests.json").write_text(json.dumps(REQUESTS[:1]), encoding="utf-8")
    pytester.makefile(".yaml", endpoints=f"""\
bot: {TINY_BOT}
flow: {FLEX_FLOW}
servers: [{{wsgi: "tests.integration.replay_app:create_app", url: "https://bot-1234.twil.io"}}]
scenarios:
  - {{name: unused, turns: [{{user: hello}}]}}
""")
    pytester.makepyfile(test_replays=f"""
        def test_requests(replay_requests):
            result = replay_requests("captured/requests.json", scenario_file="endpoints.yaml")
            assert result.ok, result.render()

        def test_execution_with_the_files_flow(replay_execution):
            result = replay_execution({str(RECORDINGS / "flex_handoff.json")!r}, scenario_file="endpoints.yaml")
            assert result.ok and result.path[-1] == "SendToConcierge"

        def test_execution_with_a_flow(replay_execution):
            result = replay_execution({str(RECORDINGS / "flex_handoff_divergent.json")!r}, {FLEX_FLOW!r})
            assert not result.ok and result.divergence.index == 2
    """)
    result = pytester.runpytest(*SKIP_SLOW_PLUGINS)
    result.assert_outcomes(passed=3)
