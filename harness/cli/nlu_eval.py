"""`autopilot-harness nlu-eval SCHEMA.json`: cross-validate the assistant's samples under our router."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from harness.errors import ExitCode, UsageError


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("nlu-eval", help="k-fold / leave-one-out evaluation of the bot's samples",
                       description="Train on all samples but a fold, route the held-out ones: per-task precision, "
                       "recall and F1, a confusion matrix (table and SVG), the most confused pairs and the "
                       "confidence histogram.")
    p.add_argument("schema", metavar="SCHEMA.json")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--folds", type=int, default=5, metavar="K", help="k-fold cross-validation (default 5)")
    how.add_argument("--leave-one-out", action="store_true", help="hold out one sample at a time")
    p.add_argument("--extra", action="append", default=[], metavar="FILE.csv|yaml",
                   help="extra labelled utterances (text,task) evaluated against the full model")
    p.add_argument("--export", default=None, metavar="samples.csv|jsonl",
                   help="write the samples with their task as labelled data (for a successor NLU)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="write report.json, confusion.svg, histogram.svg and report.md here")
    p.add_argument("--threshold", type=float, default=None, help="routing confidence threshold")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    return p


def run(args: argparse.Namespace, *, stdout: TextIO | None = None) -> int:
    from harness.insight import nlu_eval
    from harness.models.assistant_loader import load_assistant

    out = stdout or sys.stdout
    assistant = load_assistant(Path(args.schema))
    if args.export:
        count = nlu_eval.export_samples(assistant, Path(args.export))
        print(f"wrote {count} labelled samples to {args.export}", file=out)
    if args.folds is not None and args.folds < 2 and not args.leave_one_out:
        raise UsageError("--folds must be at least 2")
    extra = [item for path in args.extra for item in nlu_eval.load_labelled(Path(path))]
    report = nlu_eval.evaluate(assistant, folds=None if args.leave_one_out else args.folds,
                               extra=extra, threshold=args.threshold)
    if args.out:
        written = nlu_eval.write_outputs(report, Path(args.out))
        print("wrote " + ", ".join(str(p) for p in written), file=sys.stderr)
    if args.json:
        import json

        json.dump(report.to_dict(), out, indent=2)
        out.write("\n")
    else:
        out.write(nlu_eval.report_text(report))
    return ExitCode.OK
