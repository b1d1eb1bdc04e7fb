"""Coverage (issue 6 §2) on a small run whose numbers were counted by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.insight.coverage import compute_coverage, load_results
from tests.unit.insight._results import BOT, FLOW, build_results, write_results


@pytest.fixture(scope="module")
def results() -> dict:
    return build_results()


def test_hand_counted_numbers(results: dict) -> None:
    report = compute_coverage(results)
    (bot,) = report.bots
    # Tasks run: get_quantity, complete_collect_roomitems (its redirect), greeting, goodbye — of 10.
    assert (bot.tasks.covered, bot.tasks.total) == (4, 10)
    assert "send_to_agent" in bot.tasks.missed and "greeting" not in bot.tasks.missed
    # Samples that decided a routing: "I need {item}", "hello", "goodbye".
    assert bot.samples.covered == 3
    assert bot.fields.to_dict()["missed"] == [] and bot.fields.covered == 1  # get_quantity.item
    # Collect questions: quantity_of_item.quantity asked; deliver_roomitems (2) and order_food (2) not.
    assert (bot.questions.covered, bot.questions.total) == (1, 5)
    (flow,) = report.flows
    # Entered: Trigger, HotelBot, CheckHandoff, Goodbye — of 8 widgets.
    assert (flow.widgets.covered, flow.widgets.total) == (4, 8)
    # Edges: Trigger→HotelBot, HotelBot ×3, CheckHandoff noMatch + match[0], SendToConcierge→HandoffFailed.
    assert (flow.transitions.covered, flow.transitions.total) == (3, 7)
    assert "CheckHandoff: match[0] equal_to 'true'" in flow.transitions.missed
    assert report.task_percent == pytest.approx(40.0)
    assert report.transition_percent == pytest.approx(300 / 7)


def test_cli_text_json_html_and_fail_under(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_results(tmp_path)
    assert main(["coverage", str(path)]) == 0
    out = capsys.readouterr().out
    assert "tasks run                   4/10" in out and "missed: send_to_agent" in out
    assert main(["coverage", str(path), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["summary"] == {"tasks": 40.0, "transitions": 42.9}
    assert data["bots"][0]["path"] == str(BOT) and data["flows"][0]["path"] == str(FLOW)
    assert main(["coverage", str(path), "--format", "html", "-o", str(tmp_path / "c.html")]) == 0
    assert "<table class='cov'>" in (tmp_path / "c.html").read_text()
    assert main(["coverage", str(path), "--fail-under-tasks", "40", "--fail-under-transitions", "40"]) == 0
    assert main(["coverage", str(path), "--fail-under-transitions", "50"]) == 1
    assert "transition coverage 42.9% is below 50%" in capsys.readouterr().err


def test_bad_results_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "r.json"
    bad.write_text('{"summary": {}}')
    assert main(["coverage", str(bad)]) == 2
    assert "expected the JSON written by `autopilot-harness run --json`" in capsys.readouterr().err
    with pytest.raises(Exception, match="not supported"):
        bad.write_text('{"version": 7, "cases": []}')
        load_results(bad)
