"""Deploy-gate fixes (issue 4 §4): pact mode on CI, stricter goldens, missing goldens, `servers:` imports
from the scenario's project, readable golden reply diffs and fallback routing explanations."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from harness.contracts.scenario_runs import PACT_MODE_ENV, pact_mode
from harness.expectations.checks import routing_detail
from harness.runner.scenarios import golden_diff, import_root, run_suite
from harness.transcript import Candidate, Turn

ROOT = Path(__file__).resolve().parents[2]
BOT = ROOT / "examples" / "hospitality" / "assistant.json"


# --- 1. pact mode ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("ci", "file_mode", "expected"), [
    ("true", None, "check"), ("1", "write", "check"), ("false", None, "write"), ("", "check", "check"),
    (None, None, "write"),
])
def test_ci_makes_check_the_default(monkeypatch: pytest.MonkeyPatch, ci: str | None, file_mode: str | None,
                                    expected: str) -> None:
    monkeypatch.delenv(PACT_MODE_ENV, raising=False)
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    assert pact_mode(file_mode) == expected


def test_explicit_choices_beat_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv(PACT_MODE_ENV, "write")
    assert pact_mode("check") == "write"
    monkeypatch.delenv(PACT_MODE_ENV)
    assert pact_mode(None, "write") == "write"


# --- 2 / 10. golden diffs --------------------------------------------------------------------------------


def _transcript(**changes: object) -> dict:
    turn = {"user": "hi", "task": "greeting", "replies": ["Hello!", "How can I help?"], "confidence": 0.8,
            "fields": {"n": "2"}, "memory": {"room": "12"}, "ended": False}
    data = {"turns": [turn], "ended": False, "final_memory": {"room": "12"},
            "flow": {"steps": [{"widget": "Trigger"}], "variables": {"count": 1}}, "handoff": None}
    for key, value in changes.items():
        if key in turn:
            turn[key] = value
        else:
            data[key] = value
    return json.loads(json.dumps(data))


@pytest.mark.parametrize(("change", "where"), [
    ({"ended": True}, "turn 1 (\"hi\") ended"),
    ({"memory": {"room": "13"}}, "turn 1 (\"hi\") memory.room"),
    ({"fields": {}}, "turn 1 (\"hi\") fields.n"),
    ({"final_memory": {"room": "12", "extra": True}}, "final_memory.extra"),
    ({"flow": {"steps": [{"widget": "Trigger"}], "variables": {"count": 2}}}, "flow.variables.count"),
    ({"confidence": 0.7}, "turn 1 (\"hi\") confidence"),
])
def test_golden_diff_guards_more_than_task_and_replies(change: dict, where: str) -> None:
    found = golden_diff(_transcript(), _transcript(**change), "g.json")
    assert [m.path for m in found] == [where]


def test_confidence_within_rounding_tolerance_is_no_change() -> None:
    assert golden_diff(_transcript(), _transcript(confidence=0.805), "g.json") == []


def test_reply_diff_names_the_reply_and_shows_both_sides_in_full() -> None:
    long_reply = "Your booking is confirmed. " * 20  # 540 characters: far beyond a one-line cut
    found = golden_diff(_transcript(replies=["Hello!", long_reply]),
                        _transcript(replies=["Hello!", long_reply + "See you soon."]), "g.json")
    assert [m.path for m in found] == ['turn 1 ("hi") reply 2']
    assert long_reply + "See you soon." in found[0].detail and f"before: {long_reply}\n" in found[0].detail


def test_a_dropped_reply_says_how_many_replies() -> None:
    found = golden_diff(_transcript(), _transcript(replies=["Hello!"]), "g.json")
    assert [m.path for m in found] == ['turn 1 ("hi") reply 2']
    assert found[0].detail.startswith("2 replies before, 1 now") and "now:    (missing)" in found[0].detail


def test_fallback_explanation_names_the_rejected_candidate() -> None:
    turn = Turn(index=0, user="airspeed?", task="fallback", routing="none", confidence=0.0,
                ranking=(Candidate("order_food", 0.05, "i want food"),),
                routing_note="best score 0.050 (order_food) is below min_score 0.1; ran defaults.fallback (x)")
    text = routing_detail(turn, "order_food")
    assert "decided by" not in text
    assert ("best candidate 'order_food' (0.05  sample \"i want food\") was rejected: "
            "its score is below min_score") in text
    assert "why: best score 0.050 (order_food) is below min_score 0.1" in text


# --- 2. missing goldens / 9. servers ----------------------------------------------------------------------


def _scenario(folder: Path, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "mini.scenario.yaml"
    path.write_text(f"bot: {BOT.as_posix()}\nchannel: sms\nuser: '+15555550100'\n{extra}"
                    "scenarios:\n  - name: says hi\n    turns:\n      - user: hello\n", encoding="utf-8")
    return path


def test_missing_golden_is_reported_and_required(tmp_path: Path) -> None:
    path = _scenario(tmp_path)
    suite = run_suite([path])
    assert suite.exit_code == 0
    assert [c.golden for c in suite.cases] == ["missing"]
    assert suite.to_dict()["golden"]["missing"] == [f"{suite.cases[0].file}::{suite.cases[0].id}"]
    strict = run_suite([path], require_golden=True)
    assert strict.exit_code == 1
    assert "golden transcript missing" in strict.cases[0].mismatches[0].where
    run_suite([path], update_golden=True)
    assert run_suite([path], require_golden=True).exit_code == 0


def test_import_root_is_the_nearest_pyproject_folder(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\n", encoding="utf-8")
    assert import_root(_scenario(tmp_path / "scenarios" / "deep")) == tmp_path.resolve()


def test_servers_import_from_the_scenario_project_not_the_cwd(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    module = f"fixj_app_{uuid.uuid4().hex[:8]}"
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text("[project]\nname='x'\n", encoding="utf-8")
    (project / f"{module}.py").write_text(
        "def create_app():\n"
        "    def app(environ, start_response):\n"
        "        start_response('200 OK', [('Content-Type', 'application/json')])\n"
        "        return [b'{}']\n"
        "    return app\n", encoding="utf-8")
    path = _scenario(project / "scenarios",
                     f"servers:\n  - {{wsgi: '{module}:create_app', url: 'https://svc.example.com'}}\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setattr("sys.path", list(__import__("sys").path))  # the project folder is added for the run
    suite = run_suite([path])
    assert "cannot import" not in (suite.cases[0].error or "")


def test_a_failed_server_import_names_the_entry_and_the_folders_tried(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = _scenario(tmp_path / "proj",
                     "servers:\n  - {wsgi: 'no_such_module_fixj:create_app', url: 'https://svc.example.com'}\n")
    monkeypatch.setattr("sys.path", list(__import__("sys").path))
    suite = run_suite([path])
    error = suite.cases[0].error or ""
    assert "mini.scenario.yaml:5: servers: cannot import 'no_such_module_fixj:create_app'" in error
    assert str((tmp_path / "proj").resolve()) in error and "tried the folders" in error
