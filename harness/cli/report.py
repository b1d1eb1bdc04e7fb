"""`autopilot-harness report RESULTS.json -o report.html`: one self-contained HTML page of a run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from harness.errors import ExitCode


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("report", help="an HTML report of a run: chat transcripts, flow graphs, handoffs, diffs",
                       description="Render `autopilot-harness run --json` results as one self-contained HTML file.")
    p.add_argument("results", metavar="RESULTS.json")
    p.add_argument("-o", "--output", default="report.html", metavar="FILE", help="default: report.html")
    p.add_argument("--title", default=None, help="the page title")
    from harness.cli.style import add_verbosity

    add_verbosity(p, "case in the report (status, file, id), failures first")
    return p


def run(args: argparse.Namespace, *, stdout: TextIO | None = None) -> int:
    from harness.cli.outputs import prepare_output, write_output
    from harness.insight.coverage import check_files_exist, load_results, results_bases
    from harness.insight.html_report import render_report

    out = stdout or sys.stdout
    source = Path(args.results)
    prepare_output(args.output, "-o")  # before the work: a bad path is one message and exit 2
    results = load_results(source)
    bases = results_bases(results, source)
    # Without its flows and bots the page would silently lose graphs and coverage: exit 2 instead.
    check_files_exist(results, bases, results_file=source)
    notes: list[str] = []
    html = render_report(results, base=bases, title=args.title, notes=notes)
    write_output(args.output, html, "-o")
    from harness.cli.style import QUIET, VERBOSE, Style, verbosity

    level, style = verbosity(args), Style(out)
    for note in notes:  # a graph drawn with the built-in layout although dot is installed: say why
        print(f"note: {note}", file=sys.stderr)
    cases = list(results.get("cases") or ())
    bad = [c for c in cases if str(c.get("status")) in ("failed", "error")]
    for case in (bad + [c for c in cases if c not in bad]) if level == VERBOSE else bad if level == QUIET else ():
        status = str(case.get("status"))
        print(f"{style.paint(f'{status:7}', status)} {case.get('file', '')} :: {case.get('id') or case.get('name')}",
              file=out)
    print(f"wrote {args.output} ({len(cases)} case{'s' if len(cases) != 1 else ''}, {len(bad)} failed)",
          file=out)
    return ExitCode.OK
