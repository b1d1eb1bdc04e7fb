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
    return p


def run(args: argparse.Namespace, *, stdout: TextIO | None = None) -> int:
    from harness.insight.coverage import (
        check_files_exist,
        compute_coverage,
        coverage_failures,
        coverage_output,
        load_results,
        results_bases,
    )

    out = stdout or sys.stdout
    source = Path(args.results)
    results = load_results(source)
    bases = results_bases(results, source)
    check_files_exist(results, bases, results_file=source)  # a missing bot or flow: exit 2, named
    report = compute_coverage(results, base=bases)
    text = coverage_output(report, args.format)
    if args.output:
        from harness.cli.outputs import write_output

        write_output(args.output, text, "-o")
    else:
        out.write(text)
    failed = coverage_failures(report, tasks=args.fail_under_tasks, transitions=args.fail_under_transitions)
    for line in failed:
        print(f"autopilot-harness coverage: {line}", file=sys.stderr)
    return ExitCode.FAILED if failed else ExitCode.OK
