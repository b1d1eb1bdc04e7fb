"""`autopilot-harness coverage RESULTS.json`: what a run exercised of its bots and flows, and what it missed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from harness.cli.argtypes import percent
from harness.errors import ExitCode


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("coverage", help="coverage of tasks, samples, fields, questions, widgets and transitions",
                       description="Read `autopilot-harness run --json` results and report what the scenarios "
                       "exercised, per file, with the misses by name. Exit 1 below a --fail-under limit.")
    p.add_argument("results", metavar="RESULTS.json")
    p.add_argument("--format", choices=["text", "json", "html"], default="text")
    p.add_argument("-o", "--output", default=None, metavar="FILE", help="write here instead of stdout")
    p.add_argument("--fail-under-tasks", type=percent, default=None, metavar="PERCENT",
                   help="exit 1 when task coverage is below PERCENT")
    p.add_argument("--fail-under-transitions", type=percent, default=None, metavar="PERCENT",
                   help="exit 1 when flow transition coverage is below PERCENT")
    from harness.cli.style import add_verbosity

    # text format: -q the summary line, what could not be loaded and the limits missed; -v every missed
    # name (the usual report lists the first 50 of each measure).
    add_verbosity(p, "missed item, all of them")
    return p


def run(args: argparse.Namespace, *, stdout: TextIO | None = None) -> int:
    from harness.insight.coverage import (
        check_files_exist,
        compute_coverage,
        coverage_failures,
        coverage_output,
        coverage_text,
        load_results,
        results_bases,
    )

    out = stdout or sys.stdout
    source = Path(args.results)
    results = load_results(source)
    bases = results_bases(results, source)
    check_files_exist(results, bases, results_file=source)  # a missing bot or flow: exit 2, named
    report = compute_coverage(results, base=bases)
    from harness.cli.style import VERBOSE, Style, verbosity

    level = verbosity(args)
    if args.format == "text" and level != 0:
        text = coverage_text(report, max_missed=10**9) if level == VERBOSE else _quiet_text(report)
    else:
        text = coverage_output(report, args.format)
    if args.output:
        from harness.cli.outputs import write_output

        write_output(args.output, text, "-o")
    else:
        out.write(text)
    failed = coverage_failures(report, tasks=args.fail_under_tasks, transitions=args.fail_under_transitions)
    style = Style(sys.stderr)
    for line in failed:
        print(f"autopilot-harness coverage: {style.paint(line, 'failed')}", file=sys.stderr)
    return ExitCode.FAILED if failed else ExitCode.OK


def _quiet_text(report: Any) -> str:
    """-q: the summary line and the files that could not be loaded (the failures of a coverage report)."""
    from harness.insight.coverage import coverage_text

    lines = coverage_text(report, max_missed=0).splitlines()
    return "\n".join([*(line for line in lines if line.startswith("not loaded: ")), lines[0]]) + "\n"
