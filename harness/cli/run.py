"""`autopilot-harness run PATH...`: run scenario files without writing pytest (the pre-deploy gate).

Shows a `.`/`F`/`E` per scenario (one line each with -v), the failure diffs, a summary table and writes
`--junit FILE` / `--json FILE`. Exit 0 all passed, 1 a scenario failed or broke, 2 only invalid input
(malformed files, a bot or flow file they name that is malformed, bad options), 5 nothing collected. The
work is `harness.runner.suite.run_suite`, the same runner the pytest plugin uses, with the same
`[tool.autopilot-harness]` settings (`scenario_glob`, `threshold`) from the nearest pyproject.toml above
the paths given.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from harness.cli.argtypes import fraction, percent
from harness.cli.github import in_github_actions
from harness.errors import ExitCode

if TYPE_CHECKING:  # the runner (and jsonschema, YAML) load only when the command runs
    from harness.runner.results import CaseResult, SuiteResult

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
    parser.add_argument("--require-golden", action="store_true",
                        help="a scenario without a golden file fails (the deploy gate: a deleted golden "
                             "must not pass silently)")
    parser.add_argument("-k", dest="keyword", metavar="EXPR", default=None,
                        help="only scenarios whose folders, file, id or tags match, as pytest -k selects, "
                             "e.g. -k 'towels and not chat'")
    parser.add_argument("--tag", action="append", default=[], metavar="TAG",
                        help="only scenarios with this tag (repeatable: any of them)")
    parser.add_argument("--threshold", type=fraction, default=None,
                        help="routing confidence threshold (0 to 1) for files that set none; default: "
                             "[tool.autopilot-harness] threshold")
    parser.add_argument("--router", default=None, metavar="model|lexical",
                        help="the router bots are trained with (default: [tool.autopilot-harness] router "
                             "above each bot, else model)")
    coverage = parser.add_argument_group("coverage (issue 6 §2; the same report as `autopilot-harness coverage`)")
    coverage.add_argument("--coverage", action="store_true",
                          help="after the run, report the tasks, samples, fields, questions, widgets and "
                               "transitions the scenarios exercised")
    coverage.add_argument("--coverage-format", choices=("text", "json", "html"), default=None,
                          help="the report's format (default: from --coverage-out's suffix, else text)")
    coverage.add_argument("--coverage-out", metavar="FILE", default=None,
                          help="write the report here (the terminal then shows only its first line)")
    coverage.add_argument("--fail-under-tasks", type=percent, default=None, metavar="PERCENT",
                          help="exit 1 when task coverage is below PERCENT (implies --coverage)")
    coverage.add_argument("--fail-under-transitions", type=percent, default=None, metavar="PERCENT",
                          help="exit 1 when flow transition coverage is below PERCENT (implies --coverage)")
    pacts = parser.add_argument_group("HTTP pacts (contracts/README.md)").add_mutually_exclusive_group()
    pacts.add_argument("--write-pacts", dest="pact_mode", action="store_const", const="write", default=None,
                       help="merge each passing scenario's HTTP hand-off into its pact (overrides "
                            "AUTOPILOT_HARNESS_PACT_MODE, $CI and contracts.http.mode)")
    pacts.add_argument("--check-pacts", dest="pact_mode", action="store_const", const="check",
                       help="compare each HTTP hand-off with the committed pact and write nothing: a "
                            "difference fails the scenario (the default when $CI is set)")
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("-v", "--verbose", action="store_true", help="one line per scenario")
    verbosity.add_argument("-q", "--quiet", action="store_true", help="only failures and the final line")
    return parser


def run(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    from harness.cli.outputs import prepare_output, write_output
    from harness.contracts.scenario_runs import case_checks
    from harness.runner.selection import selector
    from harness.runner.settings import find_pyproject, read_settings
    from harness.runner.suite import run_suite

    out = out or sys.stdout
    # Bad input is found before anything runs (exit 2): -k, pyproject.toml, unwritable output files.
    select = selector(args.keyword, args.tag, paths=args.paths)
    if args.router is not None:
        from harness.engines.autopilot.routers import router_class

        router_class(args.router)  # an unknown name is bad input (exit 2), before anything runs
    settings = read_settings(find_pyproject(args.paths))
    outputs = [("--junit", args.junit), ("--json", args.json), ("--coverage-out", args.coverage_out)]
    for option, target in outputs:
        if target:
            prepare_output(target, option)
    threshold = args.threshold if args.threshold is not None else settings.threshold
    progress = _Progress(out, verbose=args.verbose, quiet=args.quiet)
    suite = run_suite(args.paths, update_golden=args.update_golden, require_golden=args.require_golden,
                      select=select, progress=progress,
                      threshold=threshold, case_checks=case_checks(pact_mode=args.pact_mode),
                      pattern=settings.scenario_glob, router=args.router)
    progress.finish()
    _print_failures(suite, out)
    if not args.quiet:
        _print_table(suite, out)
    _print_totals(suite, out, update_golden=args.update_golden)
    for option, target, text in (("--junit", args.junit, suite.to_junit_xml), ("--json", args.json, suite.to_json)):
        if target:
            write_output(target, text(), option)
    code = int(suite.exit_code)
    coverage = None
    if _wants_coverage(args):
        coverage, failed = _report_coverage(suite, args, out)
        if failed and code == ExitCode.OK:  # a coverage gate fails a green run; it never hides a worse code
            code = int(ExitCode.FAILED)
    if in_github_actions():
        _report_to_github(suite, coverage, out)
    out.flush()
    return code


def _report_to_github(suite: SuiteResult, coverage: object, out: TextIO) -> None:
    """On GitHub Actions: an `::error` annotation per failed or broken case (its file and line), and the
    run's summary appended to $GITHUB_STEP_SUMMARY (docs/ci.md)."""
    from harness.cli.github import append_summary, print_annotations, run_annotations, run_summary

    print_annotations(run_annotations(suite), out)
    append_summary(run_summary(suite, coverage), err=sys.stderr)


def _wants_coverage(args: argparse.Namespace) -> bool:
    return bool(args.coverage or args.coverage_out or args.coverage_format
                or args.fail_under_tasks is not None or args.fail_under_transitions is not None)


def _report_coverage(suite: SuiteResult, args: argparse.Namespace, out: TextIO) -> tuple[object, list[str]]:
    """Coverage computed from this run's results (as `coverage RESULTS.json` would); the report and the
    failed limits."""
    from harness.cli.outputs import write_output
    from harness.insight.coverage import compute_coverage, coverage_failures, coverage_output, format_for_path

    # Paths in the results are shown relative to the working directory, which is where they resolve.
    report = compute_coverage(suite.to_dict(), base=Path.cwd())
    fmt = args.coverage_format or (format_for_path(args.coverage_out) if args.coverage_out else "text")
    text = coverage_output(report, fmt)
    if args.coverage_out:
        path = write_output(args.coverage_out, text, "--coverage-out")
        summary = coverage_output(report, "text").splitlines()[0]
        print(f"\n{summary} (report: {path})", file=out)
    else:
        print("", file=out)
        out.write(text)
    failed = coverage_failures(report, tasks=args.fail_under_tasks, transitions=args.fail_under_transitions)
    for line in failed:
        print(f"FAIL {line}", file=out)
    return report, failed


class _Progress:
    """`.`/`F`/`E` per case, wrapped at 80 columns; or one line per case with -v; nothing with -q."""

    def __init__(self, out: TextIO, *, verbose: bool, quiet: bool) -> None:
        from harness.cli.style import Style

        self.out, self.verbose, self.quiet = out, verbose, quiet
        self.column = 0
        self.style = Style(out)

    def __call__(self, result: CaseResult) -> None:
        if self.quiet:
            return
        if self.verbose:
            label = result.file if result.kind == "file" else result.nodeid
            status = self.style.paint(f"{result.status.upper():7}", result.status)
            print(f"{status} {label}  ({result.duration:.2f} s)", file=self.out)
        else:
            self.out.write(self.style.paint(STATUS_MARK[result.status], result.status))
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
    if suite.golden_pruned:
        parts.append(f"{len(suite.golden_pruned)} stale golden removed")
    if suite.golden_missing:  # not compared with anything: say so, or a deleted golden passes unseen
        parts.append(f"{len(suite.golden_missing)} without golden")
    if suite.exit_code == ExitCode.NOTHING_COLLECTED:
        parts.insert(0, "no scenarios ran")
    from harness.cli.style import Style

    outcome = "passed" if suite.exit_code == ExitCode.OK else "failed"
    print(f"\n{Style(out).paint(', '.join(parts) or 'nothing ran', outcome)} in {suite.duration:.2f} s", file=out)
    if suite.golden_orphans:
        # Stale regression gates: a renamed or deleted scenario's golden that nothing compares any more.
        print(f"warning: {len(suite.golden_orphans)} golden file(s) belong to no scenario (renamed or "
              "deleted?); `run --update-golden` on the whole file removes them:", file=out)
        for orphan in suite.golden_orphans:
            print(f"  {orphan}", file=out)
