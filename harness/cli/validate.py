"""`autopilot-harness validate PATH...`: load scenario files without running them (pre-commit, editors' CI).

Each file goes through the loader `run` uses (YAML, the schema, paths, includes, templates, regexes), and
the bots, flows and subflows it names through theirs; nothing starts (no twilio-run, no servers). Every
problem of every file is printed with its place; the other files are still checked. Exit 0 all valid,
2 a file is invalid, 5 no scenario file among the paths.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from harness.errors import ExitCode, HarnessError, HarnessErrors


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("validate", help="check scenario files (and the bots and flows they name) without running",
                       description="Load scenario files as `run` would, without running a conversation. "
                                   "Exit 0 valid, 2 invalid input, 5 nothing collected.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="scenario files or folders (searched as `run` does)")
    p.add_argument("-q", "--quiet", action="store_true", help="print only the problems")
    return p


def run(args: argparse.Namespace, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    from harness.cli.style import Style
    from harness.runner.collect import collect_files
    from harness.runner.paths import display_path
    from harness.runner.settings import find_pyproject, read_settings

    out, err = stdout or sys.stdout, stderr or sys.stderr
    settings = read_settings(find_pyproject(args.paths))
    files = collect_files(args.paths, pattern=settings.scenario_glob)
    if not files:
        print(f"no scenario files ({settings.scenario_glob}) in {' '.join(args.paths)}", file=err)
        return ExitCode.NOTHING_COLLECTED
    checked: dict[Path, list[HarnessError]] = {}  # a bot or flow shared by several files is read once
    bad = 0
    for path in files:
        problems = _file_problems(path, checked)
        if problems:
            bad += 1
            for problem in problems:
                print(problem.render(), file=err)
        elif not args.quiet:
            print(f"{Style(out).paint('ok', 'ok')}  {display_path(path)}", file=out)
    if not args.quiet or bad:
        stream = err if bad else out
        summary = f"{len(files) - bad} valid, {bad} invalid scenario file{'s' if len(files) != 1 else ''}"
        print(Style(stream).paint(summary, "failed" if bad else "passed"), file=stream)
    return ExitCode.BAD_INPUT if bad else ExitCode.OK


def _file_problems(path: Path, checked: dict[Path, list[HarnessError]]) -> list[HarnessError]:
    from harness.models.assistant_loader import load_assistant
    from harness.models.flow import load_flow
    from harness.models.scenario_loader import load_scenario_file

    try:
        scenario_file = load_scenario_file(path)
    except HarnessError as error:
        return _flat(error)
    problems: list[HarnessError] = []
    named = [(p, load_assistant) for p in scenario_file.bots.values()]
    named += [(p, load_flow) for p in (scenario_file.flow, *scenario_file.subflows.values()) if p is not None]
    for file, loader in named:
        if file not in checked:
            try:
                loader(file)
                checked[file] = []
            except HarnessError as error:
                checked[file] = _flat(error)
        problems += checked[file]
    return problems


def _flat(error: HarnessError) -> list[HarnessError]:
    return list(error.errors) if isinstance(error, HarnessErrors) else [error]
