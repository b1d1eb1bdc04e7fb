"""`autopilot-harness nlu-eval SCHEMA.json`: cross-validate the assistant's samples under our router."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from harness.cli.argtypes import fraction
from harness.errors import ExitCode, UsageError

DEFAULT_FOLDS = 5


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("nlu-eval", help="k-fold / leave-one-out evaluation of the bot's samples",
                       description="Train on all samples but a fold, route the held-out ones: per-task precision, "
                       "recall and F1, a confusion matrix (table and SVG), the most confused pairs and the "
                       "confidence histogram.")
    p.add_argument("schema", metavar="SCHEMA.json")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--folds", type=int, default=None, metavar="K", help="k-fold cross-validation (default 5)")
    how.add_argument("--leave-one-out", action="store_true", help="hold out one sample at a time")
    p.add_argument("--extra", action="append", default=[], metavar="FILE.csv|yaml",
                   help="extra labelled utterances (text,task) evaluated against the full model; the label "
                        "`fallback` (or the fallback task's name, or empty) means the bot should fall back")
    p.add_argument("--export", default=None, metavar="samples.csv|jsonl",
                   help="write the samples with their task as labelled data (for a successor NLU)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="write report.json, report.txt, confusion.svg and histogram.svg here")
    p.add_argument("--threshold", type=fraction, default=None,
                   help="routing confidence threshold (0 to 1); default: [tool.autopilot-harness] threshold "
                        "of the nearest pyproject.toml")
    p.add_argument("--router", action="append", default=None, metavar="model|lexical",
                   help="the router to evaluate (default: [tool.autopilot-harness] router, else model); "
                        "repeat it to compare routers on the same folds, e.g. --router model --router lexical")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    from harness.cli.style import add_verbosity

    # -q: the misrouted utterances (the failures) and the accuracy line; -v: every utterance, one line each.
    add_verbosity(p, "utterance (expected, predicted, confidence)")
    return p


def run(args: argparse.Namespace, *, stdout: TextIO | None = None) -> int:
    from harness.cli.outputs import output_error, prepare_output, prepare_output_folder
    from harness.insight import nlu_eval
    from harness.models.assistant_loader import load_assistant

    out = stdout or sys.stdout
    # The output paths first (harness.cli.outputs' one rule): a file where a folder is wanted, a path below
    # a file or an unwritable place is one message and exit 2, before the evaluation's work.
    if args.out:
        prepare_output_folder(args.out, "--out")
    if args.export:
        if Path(args.export).suffix.lower() not in (".csv", ".jsonl"):
            raise UsageError(f"--export {args.export}: use a .csv or .jsonl file name")
        prepare_output(args.export, "--export")
    assistant = load_assistant(Path(args.schema))
    if args.export:
        try:
            count = nlu_eval.export_samples(assistant, Path(args.export))
        except OSError as err:
            raise output_error("--export", args.export, err) from None
        print(f"wrote {count} labelled samples to {args.export}", file=out)
    samples = sum(len(task.samples) for task in assistant.tasks)
    if args.folds is not None and not 2 <= args.folds <= max(samples, 2):
        # More folds than samples would leave folds empty: say so instead of reporting "500-fold".
        raise UsageError(f"--folds {args.folds}: expected 2 to {samples} (the assistant has {samples} "
                         "samples); --leave-one-out holds out one sample at a time")
    extra = []
    known = {task.unique_name for task in assistant.tasks} | nlu_eval.fallback_labels(assistant)
    for path in args.extra:
        rows = nlu_eval.load_labelled(Path(path))
        unknown = sorted({task for _, task in rows if task not in known})
        if unknown:  # a typo in a label would otherwise count as a routing miss
            print(f"autopilot-harness nlu-eval: warning: --extra {path}: "
                  f"{', '.join(repr(t) for t in unknown)} {'is not a task' if len(unknown) == 1 else 'are not tasks'}"
                  f" of {assistant.path}; those rows count as misses", file=sys.stderr)
        extra += rows
    from harness.runner.settings import find_pyproject, read_settings

    settings = read_settings(find_pyproject([args.schema]))  # the same defaults `run`, chat and pytest use
    threshold = settings.threshold if args.threshold is None else args.threshold
    report = nlu_eval.compare(assistant, args.router or [settings.router],
                              folds=None if args.leave_one_out else (args.folds or DEFAULT_FOLDS),
                              extra=extra, threshold=threshold, min_score=settings.min_score)
    if args.out:
        try:
            written = nlu_eval.write_outputs(report, Path(args.out))
        except OSError as err:
            raise output_error("--out", args.out, err) from None
        print("wrote " + ", ".join(str(p) for p in written), file=sys.stderr)
    if args.json:
        import json

        json.dump(report.to_dict(), out, indent=2)
        out.write("\n")
    else:
        out.write(_text(report, args, out))
    return ExitCode.OK


def _text(report: Any, args: argparse.Namespace, out: TextIO) -> str:
    from harness.cli.style import QUIET, VERBOSE, Style, verbosity
    from harness.insight import nlu_eval

    level, style = verbosity(args), Style(out)
    lines: list[str] = []
    finals: list[str] = []
    for title, ev in (("cross-validation", report.cross_validation), ("extra utterances", report.extra)):
        if ev is None:
            continue
        for prediction in ev.predictions:
            if level == VERBOSE or (level == QUIET and not prediction.correct):
                mark = style.paint("ok  ", "passed") if prediction.correct else style.paint("MISS", "failed")
                lines.append(f"{mark} {title}: {prediction.text!r} expected {prediction.gold}, got "
                             f"{prediction.predicted} ({prediction.confidence:.2f})")
        finals.append(f"{title}: {len(ev.predictions)} utterances, accuracy {ev.accuracy:.1%}, "
                      f"macro F1 {ev.macro_f1:.3f}")
    if level == QUIET:  # the misses, then the accuracy lines (the router's, one per evaluation)
        return "\n".join([*lines, *(style.paint(line, "bold") for line in finals)]) + "\n"
    return ("\n".join(lines) + "\n" if lines else "") + nlu_eval.report_text(report)
