"""`autopilot-harness run PATH...`: run scenario files without writing pytest (the pre-deploy gate).

Shows a `.`/`F`/`E` per scenario (one line each with -v), the failure diffs, a summary table and writes
`--junit FILE` / `--json FILE`. Exit 0 all passed, 1 a scenario failed or broke, 2 only invalid input
(malformed files, bad options), 5 nothing collected. The work is `harness.runner.scenarios.run_suite`,
the same runner the pytest plugin uses.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from harness.errors import ExitCode

if TYPE_CHECKING:  # the runner (and jsonschema, YAML) load only when the command runs
    from harness.runner.scenarios import CaseResult, SuiteResult

STATUS_MARK = {"passed": ".", "failed": "F", "error": "E"}


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "run", help="run scenario files (*.scenario.yaml) and folders of them",
        description="Run scenarios, show what broke and why. Exit 0 all passed, 1 failures, "
                    "2 invalid input, 5 nothing collected.")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="scenario files or folders (searched deeply)")
    parser.add_argument("--junit", metavar="FILE", default=None, help="write JUnit XML results here")
    parser.add_argument("--json", metavar="FILE", default=None,
                        help="write the results JSON here (docs/run-results.md)")
    parser.add_argument("--update-golden", action="store_true",
                        help="store each scenario's transcript as its golden file instead of diffing it")
    parser.add_argument("-k", dest="keyword", metavar="EXPR", default=None,
                        help="only scenarios whose file, id or tags match, e.g. -k 'towels and not chat'")
    parser.add_argument("--tag", action="append", default=[], metavar="TAG",
                        help="only scenarios with this tag (repeatable: any of them)")
    parser.add_argument("--threshold", type=float, default=None,
                        help="routing confidence threshold for files that set none")
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("-v", "--verbose", action="store_true", help="one line per scenario")
    verbosity.add_argument("-q", "--quiet", action="store_true", help="only failures and the final line")
    return parser


def run(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    from harness.runner.scenarios import run_suite, selector

    out = out or sys.stdout
    select = selector(args.keyword, args.tag)  # a bad -k is a UsageError (exit 2) before anything runs
    progress = _Progress(out, verbose=args.verbose, quiet=args.quiet)
    suite = run_suite(args.paths, update_golden=args.update_golden, select=select, progress=progress,
                      threshold=args.threshold)
    progress.finish()
    _print_failures(suite, out)
    if not args.quiet:
        _print_table(suite, out)
    _print_totals(suite, out, update_golden=args.update_golden)
    for target, text in ((args.junit, suite.to_junit_xml), (args.json, suite.to_json)):
        if target:
            path = Path(target)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text(), encoding="utf-8")
    out.flush()
    return int(suite.exit_code)


class _Progress:
    """`.`/`F`/`E` per case, wrapped at 80 columns; or one line per case with -v; nothing with -q."""

    def __init__(self, out: TextIO, *, verbose: bool, quiet: bool) -> None:
        self.out, self.verbose, self.quiet = out, verbose, quiet
        self.column = 0

    def __call__(self, result: CaseResult) -> None:
        if self.quiet:
            return
        if self.verbose:
            label = result.file if result.kind == "file" else result.nodeid
            print(f"{result.status.upper():7} {label}  ({result.duration:.2f} s)", file=self.out)
        else:
            self.out.write(STATUS_MARK[result.status])
            self.column += 1
            if self.column == 80:
                self.out.write("\n")
                self.column = 0
        self.out.flush()

    def finish(self) -> None:
        if self.column:
            self.out.write("\n")
            self.column = 0


def _print_failures(suite: SuiteResult, out: TextIO) -> None:
    broken = [case for case in suite.cases if not case.passed]
    if not broken:
        return
    print("\n" + " FAILURES ".center(80, "="), file=out)
    for case in broken:
        label = case.file if case.kind == "file" else case.nodeid
        print(f"\n{(' ' + label + ' ').center(80, '_')}", file=out)
        print(case.failure_text(), file=out)


def _print_table(suite: SuiteResult, out: TextIO) -> None:
    if not suite.cases:
        return
    rows = [(case.file, "(file)" if case.kind == "file" else case.id, case.status, f"{case.duration:.2f} s")
            for case in suite.cases]
    header = ("file", "scenario", "status", "time")
    widths = [min(max(len(r[i]) for r in [*rows, header]), 60) for i in range(4)]
    print("", file=out)
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for row in rows:
        cells = [_cut(cell, width) for cell, width in zip(row, widths, strict=True)]
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip(), file=out)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else "…" + text[-(width - 1):]


def _print_totals(suite: SuiteResult, out: TextIO, *, update_golden: bool) -> None:
    summary = suite.summary
    parts = [f"{summary[status]} {status}" for status in ("passed", "failed", "error") if summary[status]]
    if suite.deselected:
        parts.append(f"{suite.deselected} deselected")
    if update_golden:
        parts.append(f"{sum(1 for c in suite.cases if c.golden == 'written')} golden written")
    if suite.exit_code == ExitCode.NOTHING_COLLECTED:
        parts.insert(0, "no scenarios ran")
    print(f"\n{', '.join(parts) or 'nothing ran'} in {suite.duration:.2f} s", file=out)
