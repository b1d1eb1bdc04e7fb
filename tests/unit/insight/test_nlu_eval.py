"""nlu-eval (issue 6 §3) on the real Hospitality export."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.insight.nlu_eval import NONE_LABEL, Prediction, evaluate, export_samples, load_labelled, score
from harness.models.assistant_loader import load_assistant
from tests.conftest import real_path


@pytest.fixture(scope="module")
def hospitality():
    return load_assistant(real_path("autopilot/Hospitality/schema.json"))


def test_scores_by_hand() -> None:
    predictions = [Prediction("a", "x", "x", 1.0), Prediction("b", "x", "y", 0.5),
                   Prediction("c", "y", "y", 0.9), Prediction("d", "y", NONE_LABEL, 0.1)]
    ev = score(predictions, ["x", "y"])
    x, y = ev.scores
    assert (x.precision, x.recall, x.support) == (1.0, 0.5, 2)
    assert (y.precision, y.recall) == (0.5, 0.5) and y.f1 == pytest.approx(0.5)
    assert ev.labels == ["x", "y", NONE_LABEL] and ev.matrix == [[1, 1, 0], [0, 1, 1], [0, 0, 0]]
    assert ev.accuracy == 0.5
    assert ev.histogram() == ([0, 0, 0, 0, 0, 0, 0, 0, 0, 2], [0, 1, 0, 0, 0, 1, 0, 0, 0, 0])


def test_k_fold_on_hospitality(hospitality) -> None:
    report = evaluate(hospitality, folds=5)
    cv = report.cross_validation
    assert report.method == "5-fold" and len(cv.predictions) == 66  # every sample held out once
    assert [s.task for s in cv.scores] == ["get_quantity", "order_roomservice", "deliver_roomitems", "greeting",
                                           "goodbye"]
    assert sum(map(sum, cv.matrix)) == 66
    by_task = {s.task: s for s in cv.scores}
    assert by_task["get_quantity"].recall == 1.0  # "{item}" samples always meet a room item
    assert 0.3 < cv.accuracy < 1.0
    gold, predicted, count, examples = cv.confused_pairs()[0]
    assert count >= 1 and gold != predicted and examples


def test_leave_one_out_and_extra(hospitality, tmp_path: Path) -> None:
    extra = tmp_path / "extra.csv"
    extra.write_text("text,task\ncan I get more towels,get_quantity\nbye for now,goodbye\n")
    pairs = load_labelled(extra)
    assert pairs == [("can I get more towels", "get_quantity"), ("bye for now", "goodbye")]
    report = evaluate(hospitality, folds=None, extra=pairs)
    assert report.method == "leave-one-out" and len(report.cross_validation.predictions) == 66
    assert report.extra is not None and report.extra.predictions[0].predicted == "get_quantity"
    yaml_file = tmp_path / "extra.yaml"
    yaml_file.write_text("goodbye: [see ya]\n")
    assert load_labelled(yaml_file) == [("see ya", "goodbye")]


def test_export_csv_and_jsonl(hospitality, tmp_path: Path) -> None:
    assert export_samples(hospitality, tmp_path / "s.csv") == 66
    rows = list(csv.DictReader((tmp_path / "s.csv").open()))
    tagged = next(r for r in rows if "{" in r["tagged_text"])
    assert "{" not in tagged["text"] and tagged["task"] == "get_quantity"
    export_samples(hospitality, tmp_path / "s.jsonl")
    first = json.loads((tmp_path / "s.jsonl").read_text().splitlines()[0])
    assert set(first) == {"text", "task", "tagged_text", "language"}


def test_cli_writes_images_and_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    schema = str(real_path("autopilot/Hospitality/schema.json"))
    assert main(["nlu-eval", schema, "--folds", "3", "--out", str(tmp_path), "--export",
                 str(tmp_path / "samples.csv")]) == 0
    out = capsys.readouterr().out
    assert "NLU evaluation of Hospitality (3-fold)" in out and "confusion matrix" in out
    svg = (tmp_path / "confusion.svg").read_text()
    assert svg.startswith("<svg") and svg.count("<rect") == 36  # 6 × 6 labels incl. (none)
    assert "<svg" in (tmp_path / "histogram.svg").read_text()
    assert json.loads((tmp_path / "report.json").read_text())["cross_validation"]["confusion_matrix"]
    assert main(["nlu-eval", schema, "--folds", "1"]) == 2
