"""Third QA of the insight tools (issue 6, FIX-H): one test per item, through the CLI where the item is
about the command line (config discovery, exit codes), through the functions otherwise."""

from __future__ import annotations

import copy
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.engines.autopilot.runtime import AutopilotRuntime
from harness.insight import nlu_eval
from harness.insight.html_report import _chat, _mismatches, flow_svg, render_report
from harness.insight.lint_rules import MAX_LEAVE_ONE_OUT, LintConfig, lint_assistant, lint_flow
from harness.models.assistant_loader import assistant_from_dict
from harness.models.flow import flow_from_dict
from tests.conftest import EXAMPLES, ROOT, real_path

HOSPITALITY = EXAMPLES / "hospitality"
BOT = json.loads((HOSPITALITY / "assistant.json").read_text())
FLOW = json.loads((HOSPITALITY / "flows" / "flex_messaging.json").read_text())
SID = "UA" + "9" * 32
MESSAGE = {"body": "hi", "from": "{{flow.channel.address}}", "to": "{{contact.channel.address}}"}


def ids(findings: list[Any]) -> list[str]:
    return [f.rule.id for f in findings]


def write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def project(tmp_path: Path, lint_table: str) -> Path:
    """A project folder: pyproject.toml with `lint_table`, a flow with unwired failures under flows/."""
    broken = copy.deepcopy(FLOW)
    bot_state = next(s for s in broken["states"] if s["name"] == "HotelBot")
    bot_state["transitions"] = [t for t in bot_state["transitions"] if t["event"] != "failure"]  # ST205 (+ST206)
    write(tmp_path / "proj" / "flows" / "bad.json", broken)
    write(tmp_path / "proj" / "pyproject.toml", "[tool.autopilot-harness.lint]\n" + lint_table)
    return tmp_path / "proj"


# --- 1: the lint table is found from the files; patterns are relative to the pyproject's folder ----------


@pytest.mark.parametrize("how", ["relative", "absolute", "from_subfolder", "from_outside"])
def test_1_per_file_patterns_apply_however_the_file_is_typed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], how: str) -> None:
    root = project(tmp_path, 'per-file-disable = {"flows/*.json" = ["ST205", "ST206"]}\n')
    cwd, arg = {"relative": (root, "flows/bad.json"), "absolute": (root, str(root / "flows/bad.json")),
                "from_subfolder": (root / "flows", "bad.json"),
                "from_outside": (tmp_path, "proj/flows/bad.json")}[how]
    monkeypatch.chdir(cwd)
    main(["lint", arg])
    out = capsys.readouterr().out
    assert "ST205" not in out and "ST206" not in out
    monkeypatch.chdir(tmp_path)  # control: without the table the same file has both findings
    (root / "pyproject.toml").write_text("[project]\nname='x'\n")
    main(["lint", "proj/flows/bad.json"])
    out = capsys.readouterr().out
    assert "[ST205]" in out and "[ST206]" in out


# --- 3: badly typed settings are one message naming the key, exit 2 ------------------------------------


@pytest.mark.parametrize(("table", "expected"), [
    ("[tool.autopilot-harness.lint]\ndisable = 5\n", "disable: expected a list of rule ids"),
    ('[tool.autopilot-harness.lint]\ndisable = "AP101"\n', "found 'AP101' (str)"),
    ('[tool.autopilot-harness.lint]\ndisabled = ["AP101"]\n', "unknown key 'disabled'"),
    ('[tool.autopilot-harness.lint]\nper-file-disable = {"x" = "ST205"}\n', "per-file-disable.x"),
    ('[tool.autopilot-harness.lint]\ndisable = ["AP999"]\n', "unknown lint rule id(s): AP999"),
    ("[tool.autopilot-harness]\nlint = 5\n", "[tool.autopilot-harness.lint]: expected a table"),
])
def test_3_bad_lint_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str, expected: str
                             ) -> None:
    write(tmp_path / "pyproject.toml", table)
    flow_file = write(tmp_path / "f.json", FLOW)
    assert main(["lint", str(flow_file)]) == 2
    err = capsys.readouterr().err
    assert expected in err and "pyproject.toml" in err and "Traceback" not in err


def test_3_typo_key_gets_a_did_you_mean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "pyproject.toml", '[tool.autopilot-harness.lint]\ndisabled = ["AP101"]\n')
    assert main(["lint", str(write(tmp_path / "f.json", FLOW))]) == 2
    assert "did you mean 'disable'?" in capsys.readouterr().err


# --- 2: a bot given for one SID is not every widget's bot ----------------------------------------------


def test_2_bot_for_another_sid_is_not_linked(capsys: pytest.CaptureFixture[str]) -> None:
    flow_file = real_path("studio/function-templates__volunteer-comm__Chatbot-Integration_flow.json")
    schema = real_path("autopilot/Hospitality/schema.json")
    assert main(["lint", f"--bot={SID}={schema}", str(flow_file)]) == 0
    assert "XF301" not in capsys.readouterr().out
    assert main(["lint", f"--bot={schema}", str(flow_file)]) == 1  # `--bot path` is every widget's bot
    assert "XF301" in capsys.readouterr().out


def test_2_lone_assistant_is_not_linked_to_a_flow_driving_two_assistants(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def flow_with_second_bot(sid: str) -> dict[str, Any]:
        data = copy.deepcopy(FLOW)
        first = next(s for s in data["states"] if s["type"] == "send-to-auto-pilot")
        second = copy.deepcopy(first)
        second["name"] = "OtherBot"
        second["properties"].update(autopilot_assistant_sid=sid, target_task="no_such_task")
        data["states"].append(second)
        return data

    bot_file = str(write(tmp_path / "bot.json", BOT))
    first_sid = next(s for s in FLOW["states"] if s["type"] == "send-to-auto-pilot")["properties"][
        "autopilot_assistant_sid"]
    main(["lint", bot_file, str(write(tmp_path / "two.json", flow_with_second_bot(SID)))])
    assert "XF301" not in capsys.readouterr().out  # which of the two is this bot? unknown: not checked
    main(["lint", bot_file, str(write(tmp_path / "one.json", flow_with_second_bot(first_sid)))])
    assert "'no_such_task' is not a task" in capsys.readouterr().out


# --- 4: results name their files resolvably; missing → exit 2 naming them ------------------------------


@pytest.fixture(scope="module")
def results_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("results") / "r.json"
    here = os.getcwd()
    os.chdir(ROOT)  # the repository: paths in the results are relative to it
    try:
        assert main(["run", "scenarios/hospitality/http.scenario.yaml", "--json", str(out)]) == 0
    finally:
        os.chdir(here)
    return out


def test_4_results_record_the_cwd_and_tools_work_from_elsewhere(
        results_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(results_file.read_text())
    assert Path(data["cwd"]) == ROOT.resolve()
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main(["coverage", str(results_file), "--fail-under-tasks", "1"]) == 0
    out = capsys.readouterr().out
    assert "tasks n/a" not in out and "not loaded" not in out and "flow examples/hospitality/flows" in out
    assert main(["report", str(results_file), "-o", str(tmp_path / "r.html")]) == 0
    assert "<svg" in (tmp_path / "r.html").read_text()


def test_4_missing_files_exit_2_naming_them(results_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(results_file.read_text())
    data["cwd"] = str(tmp_path / "gone")
    moved = write(tmp_path / "r.json", data)
    monkeypatch.chdir(tmp_path)  # nor relative to the working directory
    capsys.readouterr()
    assert main(["coverage", str(moved)]) == 2
    err = capsys.readouterr().err
    assert "examples/hospitality/assistant.json" in err and "examples/hospitality/flows/http_messaging.json" in err
    assert main(["report", str(moved), "-o", str(tmp_path / "x.html")]) == 2
    assert not (tmp_path / "x.html").exists()


# --- 5, 6, 11, 12: HTML report -------------------------------------------------------------------------


def test_5_a_wait_turn_says_how_long_passed() -> None:
    html = _chat({"turns": [{"user": "", "wait": 14400.0, "replies": [], "routing": None},
                            {"user": "", "wait": 5400.0, "replies": ["Still there?"], "routing": "timeout"}]})
    assert "4 h pass" in html and "1 h 30 min pass · the flow's timeout fired" in html
    assert "no task" not in html and "msg user" not in html


def test_6_mismatch_detail_keeps_line_breaks() -> None:
    from harness.insight.html_report import CSS

    assert "line 1\nline 2" in _mismatches([{"where": "w", "expected": 1, "actual": 2, "detail": "line 1\nline 2"}])
    assert re.search(r"\.diff td\{white-space:pre-wrap\}", CSS)


def test_11_and_12_unique_marker_ids_and_handoff_in_time_order(results_file: Path) -> None:
    data = json.loads(results_file.read_text())
    html = render_report(data, base=[Path(data["cwd"])])
    marker_ids = re.findall(r'<marker id="([^"]+)"', html)
    assert len(marker_ids) == len(set(marker_ids)) == html.count("<svg") and len(marker_ids) > 1
    case = next(c for c in data["cases"] if (c["transcript"] or {}).get("handoff", {}) and
                c["transcript"]["handoff"].get("kind") == "http")
    chat = _chat(case["transcript"])
    handed, follow_up = chat.index("Handed off"), chat.index("A member of our concierge team will reply")
    assert chat.index("I am passing you") < handed < follow_up


def test_11_nlu_svgs_have_a_legend_and_axis_titles() -> None:
    bot = assistant_from_dict(copy.deepcopy(BOT), path="bot.json")
    report = nlu_eval.evaluate(bot, folds=3)
    hist, confusion = nlu_eval.histogram_svg(report.cross_validation), nlu_eval.confusion_svg(report.cross_validation)
    assert ">correct</text>" in hist and ">wrong</text>" in hist and "confidence of the routed task" in hist
    assert "expected task (rows)" in confusion and "predicted task (columns)" in confusion


def test_13_wide_layers_wrap_and_every_event_label_is_drawn() -> None:
    states = [{"name": "Trigger", "type": "trigger", "properties": {},
               "transitions": [{"event": "incomingMessage", "next": "split"}]},
              {"name": "split", "type": "split-based-on", "properties": {"input": "{{trigger.message.Body}}"},
               "transitions": [{"event": "noMatch"}] + [
                   {"event": "match", "next": f"m{i}", "conditions": [
                       {"friendly_name": str(i), "arguments": ["{{trigger.message.Body}}"], "type": "equal_to",
                        "value": str(i)}]} for i in range(20)]}]
    states += [{"name": f"m{i}", "type": "send-message", "properties": MESSAGE,
                "transitions": [{"event": "sent"}, {"event": "failed"}]} for i in range(20)]
    flow = flow_from_dict({"description": "wide", "states": states, "initial_state": "Trigger",
                           "flags": {"allow_concurrent_calls": True}}, path="wide.json")
    svg = flow_svg(flow, [], marker_id="arrow-x")
    width = float(re.search(r'width="(\d+)"', svg).group(1))
    assert width <= 6 * 200 + 30  # 20 widgets of one layer wrapped to rows of 6
    assert svg.count('class="label edge-label"') == 21


# --- 7: a fallback's confidence is 0.0 -----------------------------------------------------------------


def test_7_no_task_means_confidence_zero() -> None:
    minus = copy.deepcopy(BOT)
    minus["tasks"] = [t for t in minus["tasks"] if t["uniqueName"] in ("greeting", "fallback")]
    trained = AutopilotRuntime().train(assistant_from_dict(minus, path="minus.json"))
    routing = trained.route("where is the towels thing")  # one weak shared word: margin 1.0, score < 0.1
    assert routing.task is None and routing.method == "none" and routing.confidence == 0.0
    assert "below min_score" in routing.note


# --- 8: debatable warnings -----------------------------------------------------------------------------


def test_8_st204_skips_voice_only_widgets() -> None:
    found = lint_flow(flow_from_dict(json.loads(real_path(
        "studio/function-templates__volunteer-comm__VoiceToFlex.json").read_text()), path="v.json"))
    flagged = [f.message.split("'")[1] for f in found if f.rule.id == "ST204"]
    assert "autopilot_1" not in flagged and "autopilot_4" not in flagged and flagged  # 2 and 3: messages


def test_8_ap105_only_for_a_task_that_asks() -> None:
    def ends(say: str) -> list[str]:
        data = copy.deepcopy(BOT)
        data["tasks"].append({"uniqueName": "complete_booking", "samples": [],
                              "actions": {"actions": [{"say": say}]}, "fields": []})
        return ids(lint_assistant(assistant_from_dict(data, path="b.json"), config=LintConfig(
            frozenset({"AP101", "AP102", "AP104"}))))
    assert ends("Your table is booked. See you at 7!") == []
    assert ends("Anything else I can do for you?") == ["AP105"]


# --- 9: AP104 and leave-one-out are fast on a large bot ------------------------------------------------


def big_bot(samples_per_task: int = 40, tasks: int = 12) -> Any:
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
             "kilo", "lima", "mike", "november", "oscar", "papa"]
    data = {"uniqueName": "big", "friendlyName": "big", "tasks": [
        {"uniqueName": f"task_{t}", "actions": {"actions": [{"say": "ok"}, {"listen": True}]}, "fields": [],
         "samples": [{"language": "en-US", "taggedText": f"{words[t]} {words[(t + s) % 16]} thing {s}"}
                     for s in range(samples_per_task)]} for t in range(tasks)]}
    return assistant_from_dict(data, path="big.json")


def test_9_large_bots_use_k_fold_with_a_note() -> None:
    bot = big_bot()
    assert sum(len(t.samples) for t in bot.tasks) > MAX_LEAVE_ONE_OUT
    started = time.perf_counter()
    report = nlu_eval.evaluate(bot, folds=None)
    lint_assistant(bot, config=LintConfig(frozenset({"AP101"})))
    assert time.perf_counter() - started < 5
    assert report.method == "10-fold" and "leave-one-out ran as 10-fold" in (report.note or "")
    assert "note: leave-one-out ran as 10-fold" in nlu_eval.report_text(report)
    small = nlu_eval.evaluate(big_bot(samples_per_task=10, tasks=3), folds=None)
    assert small.method == "leave-one-out" and small.note is None


# --- 10, 14: ST205 failure paths, folders, did-you-mean, --extra naming the file ------------------------


def test_10_st205_covers_message_and_call_failures() -> None:
    states = [{"name": "Trigger", "type": "trigger", "properties": {},
               "transitions": [{"event": "incomingMessage", "next": "intro"}, {"event": "incomingCall",
                                                                               "next": "gather"}]},
              {"name": "intro", "type": "send-message", "properties": MESSAGE,
               "transitions": [{"event": "sent", "next": "ask"}, {"event": "failed"}]},
              {"name": "ask", "type": "send-and-wait-for-reply", "properties": {**MESSAGE, "timeout": "3600"},
               "transitions": [{"event": "incomingMessage", "next": "bye"}, {"event": "timeout", "next": "bye"},
                               {"event": "deliveryFailure"}]},
              {"name": "bye", "type": "send-message", "properties": MESSAGE,
               "transitions": [{"event": "sent"}, {"event": "failed"}]},
              {"name": "gather", "type": "gather-input-on-call", "properties": {"say": "press"},
               "transitions": [{"event": "keypress", "next": "queue"}, {"event": "speech", "next": "queue"},
                               {"event": "timeout"}]},
              {"name": "queue", "type": "enqueue-call", "properties": {"workflow_sid": "WW" + "0" * 32},
               "transitions": [{"event": "callComplete"}, {"event": "failedToEnqueue"}, {"event": "callFailure"}]}]
    flow = flow_from_dict({"description": "d", "states": states, "initial_state": "Trigger",
                           "flags": {"allow_concurrent_calls": True}}, path="f.json")
    flagged = {f.message.split("'")[1]: f.message for f in lint_flow(flow) if f.rule.id == "ST205"}
    assert set(flagged) == {"intro", "ask", "gather", "queue"}  # not `bye`: the flow ends there anyway
    assert "'deliveryFailure'" in flagged["ask"] and "'failedToEnqueue' and 'callFailure'" in flagged["queue"]


def test_14_lint_accepts_folders(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", str(HOSPITALITY / "flows")]) == 0
    assert "3 file(s) checked" in capsys.readouterr().out


def test_14_st202_did_you_mean() -> None:
    changed = copy.deepcopy(FLOW)
    bye = next(s for s in changed["states"] if s["type"] == "send-message")
    bye["properties"]["body"] = "{{widgets.HotelBott.CurrentTask}}"
    found = [f for f in lint_flow(flow_from_dict(changed, path="f.json")) if f.rule.id == "ST202"]
    assert found and found[0].hint == "did you mean 'HotelBot'?"


def test_14_extra_file_missing_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["nlu-eval", str(HOSPITALITY / "assistant.json"), "--extra", str(tmp_path / "nope.csv")]) == 2
    assert str(tmp_path / "nope.csv") in capsys.readouterr().err


# --- 15: a flow without an Autopilot widget needs no bot -----------------------------------------------


def test_15_no_bot_needed_without_an_autopilot_widget(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flow = {"description": "echo", "initial_state": "Trigger", "flags": {"allow_concurrent_calls": True},
            "states": [{"name": "Trigger", "type": "trigger", "properties": {},
                        "transitions": [{"event": "incomingMessage", "next": "say"}]},
                       {"name": "say", "type": "send-message",
                        "properties": {**MESSAGE, "body": "Hello {{trigger.message.Body}}"},
                        "transitions": [{"event": "sent"}, {"event": "failed"}]}]}
    write(tmp_path / "flow.json", flow)
    write(tmp_path / "a.scenario.yaml", "flow: flow.json\nchannel: sms\nscenarios:\n  - name: hello\n"
          "    turns:\n      - user: hi\n        expect: {replies: [\"Hello hi\"]}\n")
    assert main(["run", str(tmp_path)]) == 0
    assert main(["chat", "--flow", str(tmp_path / "flow.json"), "--say", "hi"]) == 0
    assert "Hello hi" in capsys.readouterr().out
    assert main(["chat", "--flow", str(HOSPITALITY / "flows" / "flex_messaging.json"), "--say", "hi"]) == 2
    assert "no bot given, but" in capsys.readouterr().err
