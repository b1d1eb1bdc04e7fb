"""The HTML report's case index (failures first, passes folded) and its flow graphs laid out by graphviz
(issue 14): edge label boxes never overlap each other or a widget; without `dot`, or when it is too slow,
the built-in layout draws the graph and the CLI says why."""

from __future__ import annotations

import itertools
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.cli import main
from harness.insight import html_report
from harness.insight.html_report import flow_svg, graphviz_layout, render_report
from harness.models.flow import load_flow
from tests.conftest import EXAMPLES
from tests.unit.insight._results import FLOW, build_results, write_results

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="graphviz is not installed (apt-get install -y graphviz)")
FLOWS = sorted((EXAMPLES / "hospitality" / "flows").glob("*.json"))
SVG = "{http://www.w3.org/2000/svg}"


def _index(html: str) -> str:
    return html[html.index("<nav class='index'>"):html.index("</nav>")]


def test_the_index_lists_failures_first_and_folds_the_passes() -> None:
    results = build_results()  # towels (passed), hello (passed), goodbye (failed), in run order
    results["cases"][1]["status"] = "error"
    index = _index(render_report(results))
    links = re.findall(r"href='#case-(\d+)'", index)
    assert links == ["1", "2", "0"]  # the error and the failure (in run order) before the pass
    failures, passes = index.split("<details class='passes'>")
    assert "#case-2" in failures and "#case-1" in failures and "#case-0" in passes
    assert "<summary>1 passed</summary>" in passes


def test_passing_cards_are_collapsed_failing_ones_open_and_in_index_order() -> None:
    html = render_report(build_results())
    cards = re.findall(r"<section class='case' id='case-(\d+)'><details( open)?>", html)
    assert cards == [("2", " open"), ("0", ""), ("1", "")]


def test_an_all_green_run_has_no_failure_list() -> None:
    results = build_results()
    results["cases"][2]["status"] = "passed"
    index = _index(render_report(results))
    assert "class='failures'" not in index and "<summary>3 passed</summary>" in index


def _boxes(svg: ET.Element, css: str) -> list[tuple[float, float, float, float]]:
    return [(float(r.get("x")), float(r.get("y")), float(r.get("width")), float(r.get("height")))
            for r in svg.iter(f"{SVG}rect") if r.get("class") == css]


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


@needs_dot
@pytest.mark.parametrize("flow_path", FLOWS, ids=lambda p: p.name)
def test_with_graphviz_edge_labels_overlap_neither_each_other_nor_widgets(flow_path: Path) -> None:
    flow = load_flow(flow_path)
    svg = ET.fromstring(flow_svg(flow, [], layout=graphviz_layout(flow)))
    assert svg.get("data-layout") == "graphviz"
    labels = _boxes(svg, "edge-label-box")
    nodes = [(float(r.get("x")), float(r.get("y")), float(r.get("width")), float(r.get("height")))
             for g in svg.iter(f"{SVG}g") for r in g.iter(f"{SVG}rect")]
    transitions = sum(1 for s in flow.states for t in s.transitions if t.next and flow.state(t.next))
    assert len(labels) == transitions and len(nodes) == len(flow.states)
    assert [pair for pair in itertools.combinations(labels, 2) if _overlap(*pair)] == []
    assert [(label, node) for label in labels for node in nodes if _overlap(label, node)] == []
    width, height = float(svg.get("width")), float(svg.get("height"))
    assert all(x >= 0 and x + w <= width and y >= 0 and y + h <= height for x, y, w, h in labels + nodes)


@needs_dot
def test_the_report_draws_each_flow_with_graphviz_and_keeps_the_highlights(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert main(["report", str(write_results(tmp_path)), "-o", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert 'data-layout="graphviz"' in html and 'data-layout="builtin"' not in html
    assert 'class="edge taken"' in html and 'class="node entered"' in html and 'class="node uncovered"' in html
    assert "<script" not in html


def test_without_dot_the_built_in_layout_draws_the_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(html_report.shutil, "which", lambda name: None)
    html = render_report(build_results())
    assert 'data-layout="builtin"' in html and 'data-layout="graphviz"' not in html
    monkeypatch.undo()
    monkeypatch.setenv(html_report.GRAPHVIZ_ENV, "0")
    assert graphviz_layout(load_flow(FLOW)) is None


@needs_dot
def test_a_dot_run_over_its_deadline_falls_back_and_says_how_to_raise_it(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(html_report.DOT_TIMEOUT_ENV, "0.000001")
    out = tmp_path / "report.html"
    assert main(["report", str(write_results(tmp_path)), "-o", str(out)]) == 0
    assert 'data-layout="builtin"' in out.read_text(encoding="utf-8")
    err = capsys.readouterr().err
    assert "graphviz `dot` took longer than" in err and html_report.DOT_TIMEOUT_ENV in err
