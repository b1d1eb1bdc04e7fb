"""`autopilot-harness lint`: exit codes, messages with file:line, JSON output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from tests.conftest import EXAMPLES, real_path

EXAMPLE_FLOWS = sorted((EXAMPLES / "hospitality" / "flows").glob("*.json"))


def test_example_files_are_clean(capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(p) for p in EXAMPLE_FLOWS] + [str(EXAMPLES / "hospitality" / "assistant.json")]
    assert main(["lint", *files]) == 0
    assert "0 error(s)" in capsys.readouterr().out


def test_real_hospitality_export_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", str(real_path("autopilot/Hospitality/schema.json"))]) == 0


def test_invalid_show_is_a_problem_with_line(capsys: pytest.CaptureFixture[str]) -> None:
    path = real_path("autopilot/invalid-examples/show_image_only.json")
    assert main(["lint", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"{path}:4:12 (/actions/0/show): missing required key 'body'" in out


def test_legacy_flow_is_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    path = real_path("studio/LEGACY_stuartlogan82__geolocator__studioFlow.json")
    assert main(["lint", str(path)]) == 1
    assert "pre-2019 Studio flow export" in capsys.readouterr().out


def test_broken_flow_names_state_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flow = json.loads(EXAMPLE_FLOWS[0].read_text())
    flow["states"][1]["transitions"][0]["next"] = "NoSuchWidget"
    bad = tmp_path / "flow.json"
    bad.write_text(json.dumps(flow, indent=2))
    assert main(["lint", "--json", str(bad)]) == 1
    report = json.loads(capsys.readouterr().out)
    problems = report["files"][0]["problems"]
    assert any("NoSuchWidget" in p["message"] and p["line"] and p["pointer"].startswith("/states/1")
               for p in problems)


def test_unreadable_input_exits_2_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"tasks": [')
    proc = subprocess.run([sys.executable, "-m", "harness", "lint", str(bad), str(tmp_path / "missing.json")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stdout + proc.stderr
    assert f"{bad}:1:12: malformed JSON" in proc.stdout
    assert "missing.json: file not found" in proc.stdout


@pytest.mark.parametrize(("edit", "message"), [
    (lambda s: s["properties"].__setitem__("body", "Hi {% if x %} unclosed"), "Liquid syntax error"),
    (lambda s: s["properties"].__setitem__("body", "{{ 'x' | nofilter }}"), "unknown filter(s): nofilter"),
])
def test_liquid_the_engine_refuses_is_a_lint_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    edit: Any, message: str) -> None:
    flow = json.loads((EXAMPLES / "hospitality" / "flows" / "flex_messaging.json").read_text())
    goodbye = next(s for s in flow["states"] if s["type"] == "send-message")
    edit(goodbye)
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(flow, indent=2))
    assert main(["lint", str(path)]) == 1
    out = capsys.readouterr().out
    assert message in out and f"{path}:" in out and f"state '{goodbye['name']}'" in out


def test_a_static_regex_that_does_not_compile_is_a_lint_error(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    flow = json.loads((EXAMPLES / "hospitality" / "flows" / "flex_messaging.json").read_text())
    split = next(s for s in flow["states"] if s["type"] == "split-based-on")
    match = next(t for t in split["transitions"] if t["event"] == "match")
    match["conditions"][0].update(type="regex", value="(unclosed")
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(flow, indent=2))
    assert main(["lint", str(path)]) == 1
    assert "split condition regex '(unclosed' is not a valid regular expression" in capsys.readouterr().out


def test_a_folder_lints_its_bots_and_flows_and_skips_other_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", str(EXAMPLES / "hospitality")]) == 0
    captured = capsys.readouterr()
    assert "6 file(s) checked: 0 error(s)" in captured.out  # assistant.json and the five flows
    assert "skipped 4 file(s)" in captured.err  # workflow.json, voice_workflow.json, queues.json, package.json
