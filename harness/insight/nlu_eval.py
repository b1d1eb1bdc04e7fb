"""NLU evaluation (issue 6 §3): cross-validate an assistant's own samples under our router.

k-fold (stratified: each task's samples are dealt round-robin to the folds) or leave-one-out. For each
fold a copy of the Assistant without the held-out samples is trained (`dataclasses.replace`), and each
held-out sample — tags filled with a value of their field type — is routed. A message nothing routes
with enough confidence is predicted as `(none)`: Autopilot would run the fallback.

Outputs: per-task precision / recall / F1, a confusion matrix (text table and SVG), the most confused
pairs with their samples, the confidence histogram (SVG) with the expected calibration error, and the
samples exported as labelled data. `router` picks the router (`model`, the default, or `lexical`);
`compare` evaluates several on the same folds.
"""

from __future__ import annotations

import csv
import html
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.engines.autopilot.routers import DEFAULT_ROUTER
from harness.errors import SchemaError, UsageError
from harness.insight.lint_rules import (
    LARGE_BOT_FOLDS,
    MAX_LEAVE_ONE_OUT,
    holdout_groups,
    sample_utterance,
    without_samples,
)
from harness.models.assistant import Assistant, task_target
from harness.sources import load_source, read_text

NONE_LABEL = "(none)"
CALIBRATION_BINS = 10
# Labels of extra utterances that mean "the bot should fall back" (out of scope): this word, the fallback
# task's name (`fallback_labels`) or an empty label. They count as correct when nothing routes.
FALLBACK_LABEL = "fallback"


def fallback_labels(assistant: Assistant) -> set[str]:
    """The labels read as "should fall back": `fallback`, '' and the task `defaults.fallback` names."""
    labels = {FALLBACK_LABEL, ""}
    target = task_target(assistant.defaults.fallback or "")
    if target:
        labels.add(target)
    return labels


@dataclass(frozen=True)
class Prediction:
    text: str
    gold: str
    predicted: str  # a task, or NONE_LABEL
    confidence: float
    sample: str | None = None  # the tagged sample the utterance came from

    @property
    def correct(self) -> bool:
        return self.gold == self.predicted


@dataclass
class TaskScore:
    task: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Evaluation:
    predictions: list[Prediction]
    labels: list[str]
    scores: list[TaskScore] = field(default_factory=list)
    matrix: list[list[int]] = field(default_factory=list)  # rows: gold label, columns: predicted label

    @property
    def accuracy(self) -> float:
        return sum(p.correct for p in self.predictions) / len(self.predictions) if self.predictions else 0.0

    @property
    def macro_f1(self) -> float:
        scored = [s for s in self.scores if s.support]
        return sum(s.f1 for s in scored) / len(scored) if scored else 0.0

    def confused_pairs(self, limit: int = 10) -> list[tuple[str, str, int, list[str]]]:
        """(gold, predicted, count, example texts), most frequent first."""
        pairs: Counter[tuple[str, str]] = Counter((p.gold, p.predicted) for p in self.predictions if not p.correct)
        return [(g, q, n, [p.text for p in self.predictions if p.gold == g and p.predicted == q][:3])
                for (g, q), n in pairs.most_common(limit)]

    def histogram(self, bins: int = 10) -> tuple[list[int], list[int]]:
        """Counts of confidences per bin [i/bins, (i+1)/bins): correct predictions, wrong ones."""
        right, wrong = [0] * bins, [0] * bins
        for p in self.predictions:
            index = min(int(max(p.confidence, 0.0) * bins), bins - 1)
            (right if p.correct else wrong)[index] += 1
        return right, wrong

    def calibration(self, bins: int = CALIBRATION_BINS) -> list[dict[str, float | int]]:
        """The reliability curve: per confidence bin [i/bins, (i+1)/bins), its count, mean confidence and
        accuracy (empty bins left out)."""
        grouped: list[list[Prediction]] = [[] for _ in range(bins)]
        for p in self.predictions:
            grouped[min(int(max(p.confidence, 0.0) * bins), bins - 1)].append(p)
        return [{"bin": n / bins, "count": len(group),
                 "confidence": round(sum(p.confidence for p in group) / len(group), 4),
                 "accuracy": round(sum(p.correct for p in group) / len(group), 4)}
                for n, group in enumerate(grouped) if group]

    @property
    def expected_calibration_error(self) -> float:
        """ECE: the mean gap |accuracy − confidence| over the confidence bins, weighted by their counts
        (0 = the confidence is how often the router is right; a fallback counts with confidence 0)."""
        total = len(self.predictions)
        if not total:
            return 0.0
        return sum(b["count"] / total * abs(b["accuracy"] - b["confidence"]) for b in self.calibration())

    def to_dict(self) -> dict[str, Any]:
        right, wrong = self.histogram()
        return {
            "accuracy": round(self.accuracy, 4), "macro_f1": round(self.macro_f1, 4),
            "expected_calibration_error": round(self.expected_calibration_error, 4),
            "calibration": self.calibration(),
            "tasks": [{"task": s.task, "precision": round(s.precision, 4), "recall": round(s.recall, 4),
                       "f1": round(s.f1, 4), "support": s.support} for s in self.scores],
            "labels": self.labels, "confusion_matrix": self.matrix,
            "confused_pairs": [{"gold": g, "predicted": q, "count": n, "examples": ex}
                               for g, q, n, ex in self.confused_pairs()],
            "histogram": {"bins": 10, "correct": right, "wrong": wrong},
            "predictions": [{"text": p.text, "gold": p.gold, "predicted": p.predicted,
                             "confidence": p.confidence, "sample": p.sample} for p in self.predictions],
        }


@dataclass
class NluReport:
    assistant: str
    method: str  # "5-fold" | "leave-one-out"
    cross_validation: Evaluation
    extra: Evaluation | None = None
    note: str | None = None  # e.g. why leave-one-out ran as k-fold
    router: str = DEFAULT_ROUTER
    compared: list[NluReport] = field(default_factory=list)  # other routers on the same folds (`compare`)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"assistant": self.assistant, "method": self.method, "router": self.router,
                                "cross_validation": self.cross_validation.to_dict()}
        if self.note:
            data["note"] = self.note
        if self.extra is not None:
            data["extra"] = self.extra.to_dict()
        if self.compared:
            data["comparison"] = [_summary(r) for r in (self, *self.compared)]
        return data


def _summary(report: NluReport) -> dict[str, Any]:
    """One router's headline numbers (the comparison table)."""
    row: dict[str, Any] = {"router": report.router}
    for name, ev in (("cross_validation", report.cross_validation), ("extra", report.extra)):
        if ev is not None:
            row[name] = {"accuracy": round(ev.accuracy, 4), "macro_f1": round(ev.macro_f1, 4),
                         "expected_calibration_error": round(ev.expected_calibration_error, 4)}
    return row


# --- evaluation ----------------------------------------------------------------------------------------


def compare(assistant: Assistant, routers: Sequence[str], *, folds: int | None = 5,
            extra: Sequence[tuple[str, str]] = (), threshold: float | None = None,
            min_score: float | None = None) -> NluReport:
    """`evaluate` with each router on the same folds: the first router's report, the others in `compared`."""
    reports = [evaluate(assistant, folds=folds, extra=extra, threshold=threshold, router=name, min_score=min_score)
               for name in dict.fromkeys(routers)]
    reports[0].compared = reports[1:]
    return reports[0]


def evaluate(assistant: Assistant, *, folds: int | None = 5, extra: Sequence[tuple[str, str]] = (),
             threshold: float | None = None, router: str | None = None,
             min_score: float | None = None) -> NluReport:
    """Cross-validate (`folds=None`: leave-one-out); `extra` (text, task) pairs go to the full model.
    `min_score` None: the router's default."""
    from harness.engines.autopilot.runtime import AutopilotRuntime

    options: dict[str, Any] = {"router": router or DEFAULT_ROUTER, "min_score": min_score}
    if threshold is not None:
        options["threshold"] = threshold
    runtime = AutopilotRuntime(**options)
    total = sum(len(task.samples) for task in assistant.tasks)
    if not total:
        raise UsageError(f"{assistant.path}: the assistant has no samples to evaluate")
    note = None
    if folds is None and total > MAX_LEAVE_ONE_OUT:
        # One training per sample is quadratic (30 s at 1,400 samples): a stratified 10-fold instead.
        folds = LARGE_BOT_FOLDS
        note = (f"leave-one-out ran as {folds}-fold: the assistant has {total} samples (more than "
                f"{MAX_LEAVE_ONE_OUT}, where one training per sample gets slow)")
        method = f"{folds}-fold"
    elif folds is None:
        method = "leave-one-out"
    else:
        if folds < 2:
            raise UsageError("--folds must be at least 2")
        method = f"{folds}-fold"
    groups = holdout_groups(assistant, folds)
    predictions: list[Prediction] = []
    for group in groups:
        trained = runtime.train(without_samples(assistant, set(group)))
        for i, j in group:
            task = assistant.tasks[i]
            tagged = task.samples[j].tagged_text
            text = sample_utterance(assistant, task, tagged)
            routing = trained.route(text)
            predictions.append(Prediction(text, task.unique_name, routing.task or NONE_LABEL,
                                          float(routing.confidence), tagged))
    task_order = {t.unique_name: n for n, t in enumerate(assistant.tasks)}
    predictions.sort(key=lambda p: task_order[p.gold])  # stable: samples stay in file order within a task
    labels = [t.unique_name for t in assistant.tasks if t.samples]
    cv = score(predictions, labels)
    extra_eval = None
    if extra:
        full = runtime.train(assistant)
        falls_back = fallback_labels(assistant)
        extra_predictions = []
        for text, gold in extra:
            routing = full.route(text)
            # "Should fall back" is one label, (none): routing to no task is then the right answer, and
            # so is routing to the fallback task itself (it runs either way).
            predicted = routing.task or NONE_LABEL
            if gold.strip() in falls_back:
                gold = NONE_LABEL
                predicted = NONE_LABEL if predicted in falls_back else predicted
            extra_predictions.append(Prediction(text, gold, predicted, float(routing.confidence)))
        extra_eval = score(extra_predictions, labels)
    return NluReport(assistant.unique_name, method, cv, extra_eval, note, router=runtime.router)


def score(predictions: list[Prediction], labels: Sequence[str]) -> Evaluation:
    """Per-task precision/recall/F1 and the confusion matrix (labels: the tasks, then any other seen)."""
    all_labels = list(dict.fromkeys([*labels, *(p.gold for p in predictions), *(p.predicted for p in predictions)]))
    if NONE_LABEL in all_labels:  # the fallback column last
        all_labels.remove(NONE_LABEL)
        all_labels.append(NONE_LABEL)
    index = {label: n for n, label in enumerate(all_labels)}
    matrix = [[0] * len(all_labels) for _ in all_labels]
    for p in predictions:
        matrix[index[p.gold]][index[p.predicted]] += 1
    scores = []
    for label in all_labels:
        if label == NONE_LABEL:
            continue
        n = index[label]
        tp = matrix[n][n]
        predicted = sum(row[n] for row in matrix)
        support = sum(matrix[n])
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores.append(TaskScore(label, precision, recall, f1, support))
    return Evaluation(predictions, all_labels, scores, matrix)


# --- labelled data in and out --------------------------------------------------------------------------


def load_labelled(path: Path) -> list[tuple[str, str]]:
    """(text, task) pairs from CSV (`text,task` header or two columns) or YAML/JSON (a list of
    {text, task}, or a mapping task → [texts])."""
    if path.suffix.lower() == ".csv":
        # read_text: UTF-8 only, NUL bytes refused (csv would raise its own error on them)
        rows = list(csv.reader(read_text(path).splitlines()))
        if rows and [c.strip().lower() for c in rows[0][:2]] == ["text", "task"]:
            rows = rows[1:]
        pairs = []
        for number, row in enumerate(rows, start=1):
            if not row or not "".join(row).strip():
                continue
            if len(row) < 2:
                raise SchemaError(f"{path}: row {number}: expected two columns, text and task", None)
            pairs.append((row[0].strip(), row[1].strip()))
        return pairs
    source = load_source(path)
    data = source.data
    if isinstance(data, dict):
        return [(str(text), str(task)) for task, texts in data.items() for text in (texts or [])]
    if isinstance(data, list):
        pairs = []
        for number, item in enumerate(data):
            if not isinstance(item, dict) or "text" not in item or "task" not in item:
                raise SchemaError("expected {text, task} items", source.locate(f"/{number}"))
            pairs.append((str(item["text"]), str(item["task"])))
        return pairs
    raise SchemaError("expected a list of {text, task} or a mapping of task → utterances", source.locate(""))


def export_samples(assistant: Assistant, path: Path) -> int:
    """Write every sample as labelled data: CSV (text,task,tagged_text) or JSONL. Returns the count."""
    rows = [{"text": sample_utterance(assistant, task, s.tagged_text), "task": task.unique_name,
             "tagged_text": s.tagged_text, "language": s.language}
            for task in assistant.tasks for s in task.samples]
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".jsonl":
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    elif path.suffix.lower() == ".csv":
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=["text", "task", "tagged_text", "language"])
            writer.writeheader()
            writer.writerows(rows)
    else:
        raise UsageError(f"--export {path}: use a .csv or .jsonl file name")
    return len(rows)


# --- rendering -----------------------------------------------------------------------------------------


def report_text(report: NluReport) -> str:
    lines = [f"NLU evaluation of {report.assistant} ({report.method})", f"router: {report.router}"]
    if report.note:
        lines.append(f"note: {report.note}")
    for title, ev in (("cross-validation", report.cross_validation), ("extra utterances", report.extra)):
        if ev is None:
            continue
        lines += ["", f"{title}: {len(ev.predictions)} utterances, accuracy {ev.accuracy:.1%}, "
                      f"macro F1 {ev.macro_f1:.3f}", "",
                  f"  {'task':<32} {'precision':>9} {'recall':>7} {'f1':>6} {'n':>4}"]
        for s in ev.scores:
            lines.append(f"  {s.task:<32} {s.precision:9.3f} {s.recall:7.3f} {s.f1:6.3f} {s.support:4d}")
        lines += ["", "  confusion matrix (rows: expected, columns: predicted)", *_matrix_lines(ev)]
        pairs = ev.confused_pairs()
        if pairs:
            lines += ["", "  most confused"]
            for gold, predicted, count, examples in pairs:
                lines.append(f"    {gold} → {predicted}: {count}  e.g. " + "; ".join(repr(e) for e in examples))
        right, wrong = ev.histogram()
        accuracy = {b["bin"]: b["accuracy"] for b in ev.calibration()}
        lines += ["", f"  calibration: expected calibration error {ev.expected_calibration_error:.3f} "
                      "(mean |accuracy − confidence| over the bins; 0 is perfect)",
                  "  confidence   correct  wrong  accuracy"]
        for n, (r, w) in enumerate(zip(right, wrong, strict=True)):
            shown = f"{accuracy[n / 10]:8.2f}" if r + w else " " * 8
            lines.append(f"    {n / 10:.1f}–{(n + 1) / 10:.1f}   {r:7d} {w:6d} {shown}  {'#' * r}{'x' * w}".rstrip())
    if report.compared:
        lines += ["", "routers compared on the same folds",
                  f"  {'router':<10} {'accuracy':>8} {'macro F1':>8} {'ECE':>6}"
                  + (f" {'extra acc':>9} {'extra ECE':>9}" if report.extra is not None else "")]
        for other in (report, *report.compared):
            cv = other.cross_validation
            row = f"  {other.router:<10} {cv.accuracy:8.1%} {cv.macro_f1:8.3f} {cv.expected_calibration_error:6.3f}"
            if other.extra is not None:
                row += f" {other.extra.accuracy:9.1%} {other.extra.expected_calibration_error:9.3f}"
            lines.append(row)
    return "\n".join(lines) + "\n"


def _matrix_lines(ev: Evaluation) -> list[str]:
    short = [f"{n}" for n in range(len(ev.labels))]
    lines = ["    " + " " * 34 + " ".join(f"{s:>4}" for s in short)]
    for n, label in enumerate(ev.labels):
        lines.append(f"    {n:>2} {label[:30]:<31}" + " ".join(f"{c:>4}" for c in ev.matrix[n]))
    return lines


def confusion_svg(ev: Evaluation, *, cell: int = 28) -> str:
    """The confusion matrix as a self-contained SVG heat map (rows: expected, columns: predicted)."""
    esc = html.escape
    n = len(ev.labels)
    margin = 12 + 7 * max((len(label) for label in ev.labels), default=4)
    size = margin + n * cell + 20
    peak = max((max(row) for row in ev.matrix), default=1) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size + 20}" height="{size + 20}" '
             f'viewBox="-20 -20 {size + 20} {size + 20}" font-family="sans-serif" font-size="11" role="img">',
             f"<title>Confusion matrix ({esc(str(len(ev.predictions)))} utterances)</title>",
             # Axis titles: which way the matrix reads (rows are the truth).
             f'<text x="{margin + n * cell / 2:.1f}" y="-6" text-anchor="middle" font-weight="bold">'
             "predicted task (columns) →</text>",
             f'<text transform="translate(-8,{margin + n * cell / 2:.1f}) rotate(-90)" text-anchor="middle" '
             'font-weight="bold">expected task (rows) →</text>']
    for i, label in enumerate(ev.labels):
        y = margin + i * cell
        parts.append(f'<text x="{margin - 6}" y="{y + cell * 0.65:.1f}" text-anchor="end">{esc(label)}</text>')
        x = margin + i * cell
        parts.append(f'<text transform="translate({x + cell * 0.65:.1f},{margin - 6}) rotate(-60)">{esc(label)}</text>')
        for j, count in enumerate(ev.matrix[i]):
            shade = count / peak
            color = (f"rgb({int(255 - 200 * shade)},{int(255 - 120 * shade)},255)" if i == j
                     else f"rgb(255,{int(255 - 180 * shade)},{int(255 - 180 * shade)})")
            cx = margin + j * cell
            parts.append(f'<rect x="{cx}" y="{y}" width="{cell}" height="{cell}" fill="{color}" stroke="#ddd">'
                         f"<title>{esc(label)} → {esc(ev.labels[j])}: {count}</title></rect>")
            if count:
                parts.append(f'<text x="{cx + cell / 2}" y="{y + cell * 0.65:.1f}" text-anchor="middle">{count}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def histogram_svg(ev: Evaluation, *, width: int = 420, height: int = 200) -> str:
    """Confidence histogram: correct (blue) stacked under wrong (red) per 0.1 bin."""
    right, wrong = ev.histogram()
    peak = max((r + w for r, w in zip(right, wrong, strict=True)), default=1) or 1
    left, bottom, bar = 30, height - 30, (width - 40) / len(right)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="10" role="img">',
             f"<title>Confidence histogram (expected calibration error {ev.expected_calibration_error:.3f})</title>",
             f'<line x1="{left}" y1="{bottom}" x2="{width - 5}" y2="{bottom}" stroke="#333"/>']
    scale = (bottom - 15) / peak
    for n, (r, w) in enumerate(zip(right, wrong, strict=True)):
        x = left + n * bar
        parts.append(f'<rect x="{x + 1:.1f}" y="{bottom - r * scale:.1f}" width="{bar - 2:.1f}" '
                     f'height="{r * scale:.1f}" fill="#4a7bd0"><title>{n / 10:.1f}–{(n + 1) / 10:.1f}: '
                     f'{r} correct</title></rect>')
        parts.append(f'<rect x="{x + 1:.1f}" y="{bottom - (r + w) * scale:.1f}" width="{bar - 2:.1f}" '
                     f'height="{w * scale:.1f}" fill="#d0574a"><title>{w} wrong</title></rect>')
        parts.append(f'<text x="{x:.1f}" y="{bottom + 12}">{n / 10:.1f}</text>')
    parts.append(f'<text x="{left}" y="10">max {peak}</text>')
    # Legend and axis titles: what the colours and the axes mean.
    parts.append(f'<rect x="{width - 150}" y="2" width="10" height="10" fill="#4a7bd0"/>'
                 f'<text x="{width - 136}" y="11">correct</text>'
                 f'<rect x="{width - 86}" y="2" width="10" height="10" fill="#d0574a"/>'
                 f'<text x="{width - 72}" y="11">wrong</text>')
    parts.append(f'<text x="{(left + width) / 2:.1f}" y="{height - 2}" text-anchor="middle">'
                 "confidence of the routed task (0 = fallback)</text>")
    parts.append(f'<text transform="translate(10,{bottom / 2:.1f}) rotate(-90)" text-anchor="middle">'
                 "utterances</text></svg>")
    return "\n".join(parts)


def write_outputs(report: NluReport, folder: Path) -> list[Path]:
    """report.json, report.txt, confusion.svg and histogram.svg (cross-validation) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {"report.json": json.dumps(report.to_dict(), indent=2) + "\n",
             "report.txt": report_text(report),
             "confusion.svg": confusion_svg(report.cross_validation),
             "histogram.svg": histogram_svg(report.cross_validation)}
    written = []
    for name, text in files.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
