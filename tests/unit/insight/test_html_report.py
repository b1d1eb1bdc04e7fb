"""The HTML report (issue 6 §4), rendered in a real headless Chromium: no console errors, a screenshot."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.cli import main
from harness.insight.html_report import layers, render_report
from harness.models.flow import load_flow
from tests.unit.insight._results import FLOW, build_results, write_results

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install -y chromium)")


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    results = write_results(folder)
    assert main(["report", str(results), "-o", str(folder / "report.html")]) == 0
    return folder / "report.html"


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
                           "--v=0", *args], capture_output=True, text=True, timeout=60)


def console_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]


def test_page_content(page: Path) -> None:
    html = page.read_text()
    assert html.count("<section class='case'") == 4  # three cases and the coverage
    assert "task <b>get_quantity</b> · confidence 1.00" in html
    assert "<del>Bye!</del>" in html  # the failing case's diff
    assert 'class="edge taken"' in html and 'class="node uncovered"' in html
    assert "<script" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_handoff_bubble_and_payload() -> None:
    results = build_results()
    results["cases"][2]["transcript"]["handoff"] = {"kind": "flex", "queue": "Concierge", "attributes": {"a": 1}}
    html = render_report(results)
    assert "Handed off to an agent (flex: Concierge)" in html and "Handoff payload" in html


def test_layered_layout_puts_widgets_by_distance() -> None:
    grid = layers(load_flow(FLOW))
    assert grid[0] == ["Trigger"] and grid[1] == ["HotelBot"]
    assert set(grid[2]) == {"BotUnavailable", "ConversationTimedOut", "CheckHandoff"}


@needs_chromium
def test_renders_in_chromium_without_console_errors(page: Path, tmp_path: Path) -> None:
    dom = chromium("--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "Coverage" in dom.stdout and "<svg" in dom.stdout
    assert console_errors(dom.stderr) == []
    shot = tmp_path / "report.png"
    result = chromium(f"--screenshot={shot}", "--window-size=1400,1800", page.as_uri())
    assert result.returncode == 0 and shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@needs_chromium
def test_console_check_catches_a_script_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.html"
    broken.write_text("<!DOCTYPE html><html><body><script>undefinedFunction()</script></body></html>")
    result = chromium("--dump-dom", broken.as_uri())
    assert any(re.search(r"undefinedFunction", line) for line in console_errors(result.stderr))
