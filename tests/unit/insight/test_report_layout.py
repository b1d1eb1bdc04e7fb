"""The HTML report and the tools reading a run's results: results usable from any folder, missing files named
(exit 2), wait turns, line breaks in mismatches, unique marker ids, hand-offs in time order, SVG legends,
wrapped layers."""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.insight import nlu_eval
from harness.insight.html_report import _chat, _mismatches, flow_svg, render_report
from harness.models.assistant_loader import assistant_from_dict
from harness.models.flow import flow_from_dict
from tests.conftest import EXAMPLES, ROOT

HOSPITALITY = EXAMPLES / "hospitality"
BOT = json.loads((HOSPITALITY / "assistant.json").read_text())
MESSAGE = {"body": "hi", "from": "{{flow.channel.address}}", "to": "{{contact.channel.address}}"}


def write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


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


def test_results_record_the_cwd_and_tools_work_from_elsewhere(
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


def test_missing_files_exit_2_naming_them(results_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
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


def test_a_wait_turn_says_how_long_passed() -> None:
    html = _chat({"turns": [{"user": "", "wait": 14400.0, "replies": [], "routing": None},
                            {"user": "", "wait": 5400.0, "replies": ["Still there?"], "routing": "timeout"}]})
    assert "4 h pass" in html and "1 h 30 min pass · the flow's timeout fired" in html
    assert "no task" not in html and "msg user" not in html


def test_mismatch_detail_keeps_line_breaks() -> None:
    from harness.insight.html_report import CSS

    assert "line 1\nline 2" in _mismatches([{"where": "w", "expected": 1, "actual": 2, "detail": "line 1\nline 2"}])
    assert re.search(r"\.diff td\{white-space:pre-wrap\}", CSS)


def test_unique_marker_ids_and_handoff_in_time_order(results_file: Path) -> None:
    data = json.loads(results_file.read_text())
    html = render_report(data, base=[Path(data["cwd"])])
    marker_ids = re.findall(r'<marker id="([^"]+)"', html)
    assert len(marker_ids) == len(set(marker_ids)) == html.count("<svg") and len(marker_ids) > 1
    case = next(c for c in data["cases"] if (c["transcript"] or {}).get("handoff", {}) and
                c["transcript"]["handoff"].get("kind") == "http")
    chat = _chat(case["transcript"])
    handed, follow_up = chat.index("Handed off"), chat.index("A member of our concierge team will reply")
    assert chat.index("I am passing you") < handed < follow_up


def test_nlu_svgs_have_a_legend_and_axis_titles() -> None:
    bot = assistant_from_dict(copy.deepcopy(BOT), path="bot.json")
    report = nlu_eval.evaluate(bot, folds=3)
    hist, confusion = nlu_eval.histogram_svg(report.cross_validation), nlu_eval.confusion_svg(report.cross_validation)
    assert ">correct</text>" in hist and ">wrong</text>" in hist and "confidence of the routed task" in hist
    assert "expected task (rows)" in confusion and "predicted task (columns)" in confusion


def test_wide_layers_wrap_and_every_event_label_is_drawn() -> None:
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
