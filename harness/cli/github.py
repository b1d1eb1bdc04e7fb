"""GitHub Actions: failure annotations and the job summary, when a command runs there (`GITHUB_ACTIONS=true`).

- Annotations are workflow commands on stdout, `::error file=F,line=L,col=C,title=T::message`: GitHub shows
  them on the run page and beside the line in a pull request's diff. Values are escaped by GitHub's rules
  (the runner's `escapeData` / `escapeProperty`): `%` `\\r` `\\n` in every value, and `:` `,` in properties.
- The summary is Markdown appended to the file `$GITHUB_STEP_SUMMARY` names (counts, failures, coverage).

Reference: https://docs.github.com/actions/reference/workflows-and-actions/workflow-commands ("Setting an
error message", "Adding a job summary"). Standard library only.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TextIO

# Annotations GitHub shows per step are capped (10 errors and 10 warnings per step, 50 per job): past a
# point more lines only add noise, so we stop and say how many were left out.
MAX_ANNOTATIONS = 50
# The step summary is capped by GitHub at 1 MiB per step; the failures part is cut well below that.
MAX_SUMMARY_FAILURES = 50
MAX_DETAIL_CHARS = 2_000

LEVELS = {"error": "error", "warning": "warning", "note": "notice", "notice": "notice"}


def in_github_actions(env: Mapping[str, str] | None = None) -> bool:
    return (env if env is not None else os.environ).get("GITHUB_ACTIONS") == "true"


def escape_data(value: str) -> str:
    """The message part of a workflow command (GitHub's `escapeData`)."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """A property value (`file=`, `title=`; GitHub's `escapeProperty`)."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def workspace_path(path: str, env: Mapping[str, str] | None = None) -> str:
    """The path relative to `$GITHUB_WORKSPACE` (the checkout) when inside it, as annotations need."""
    env = env if env is not None else os.environ
    absolute = Path(os.path.abspath(path))
    root = env.get("GITHUB_WORKSPACE")
    for base in ([Path(os.path.abspath(root))] if root else []) + [Path.cwd()]:
        try:
            return absolute.relative_to(base).as_posix()
        except ValueError:
            continue
    return absolute.as_posix()


def annotation(level: str, message: str, *, file: str | None = None, line: int | None = None,
               column: int | None = None, title: str | None = None,
               env: Mapping[str, str] | None = None) -> str:
    """One workflow command line: `::error file=…,line=…,col=…,title=…::message`."""
    properties = []
    if file:
        properties.append(f"file={escape_property(workspace_path(file, env))}")
    if line:
        properties.append(f"line={int(line)}")
        if column:
            properties.append(f"col={int(column)}")
    if title:
        properties.append(f"title={escape_property(title)}")
    head = f"::{LEVELS.get(level, 'error')}"
    if properties:
        head += " " + ",".join(properties)
    return f"{head}::{escape_data(message)}"


def print_annotations(lines: Iterable[str], out: TextIO) -> None:
    lines = list(lines)
    for line in lines[:MAX_ANNOTATIONS]:
        print(line, file=out)
    if len(lines) > MAX_ANNOTATIONS:
        print(annotation("warning", f"{len(lines) - MAX_ANNOTATIONS} more problem(s) not annotated; "
                         "see the log or the report files"), file=out)


def append_summary(markdown: str, env: Mapping[str, str] | None = None, *, err: TextIO | None = None) -> bool:
    """Append to `$GITHUB_STEP_SUMMARY`; False (and a warning on `err`) when it cannot be written."""
    env = env if env is not None else os.environ
    target = env.get("GITHUB_STEP_SUMMARY")
    if not target:
        return False
    try:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(markdown if markdown.endswith("\n") else markdown + "\n")
    except OSError as error:
        if err is not None:
            print(f"warning: GITHUB_STEP_SUMMARY {target}: cannot write the job summary: "
                  f"{error.strerror or error}", file=err)
        return False
    return True


def cell(text: Any) -> str:
    """Text safe in a Markdown table cell (no HTML, no column breaks, one line)."""
    return html.escape(str(text), quote=False).replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def details(summary: str, body: str) -> str:
    body = body if len(body) <= MAX_DETAIL_CHARS else body[:MAX_DETAIL_CHARS] + "\n…"
    return (f"<details><summary>{html.escape(summary, quote=False)}</summary>\n\n"
            f"<pre>{html.escape(body, quote=False)}</pre>\n</details>\n")


# --- `run` ------------------------------------------------------------------------------------------------


def _where(case: Any) -> tuple[int | None, int | None]:
    """A case's line and column: its scenario's line, or for a broken file the `file:line:col` of its error."""
    if case.line:
        return case.line, None
    found = re.match(re.escape(case.file) + r":(\d+)(?::(\d+))?", case.error or "")
    return (int(found.group(1)), int(found.group(2)) if found.group(2) else None) if found else (None, None)


def run_annotations(suite: Any, env: Mapping[str, str] | None = None) -> list[str]:
    lines = []
    for case in suite.cases:
        if case.passed:
            continue
        line, column = _where(case)
        title = f"{case.file}: cannot be loaded" if case.kind == "file" else f"scenario {case.id} {case.status}"
        lines.append(annotation("error", case.failure_text() or case.status, file=case.file, line=line,
                                column=column, title=title, env=env))
    return lines


def run_summary(suite: Any, coverage: Any = None) -> str:
    """The job summary of a run: counts, the failures (first lines, details folded), coverage."""
    summary = suite.summary
    verdict = "passed" if suite.exit_code == 0 else "FAILED"
    parts = [f"## autopilot-harness run: {verdict}\n",
             "| passed | failed | error | deselected | total | time |",
             "|---:|---:|---:|---:|---:|---:|",
             f"| {summary['passed']} | {summary['failed']} | {summary['error']} | {suite.deselected} | "
             f"{summary['total']} | {suite.duration:.2f} s |", ""]
    broken = [case for case in suite.cases if not case.passed]
    if broken:
        parts += ["### Failures\n", "| file | scenario | status | first line |", "|---|---|---|---|"]
        for case in broken[:MAX_SUMMARY_FAILURES]:
            line, _ = _where(case)
            place = f"{case.file}:{line}" if line else case.file
            first = (case.failure_text() or case.status).splitlines()[0]
            name = "(file)" if case.kind == "file" else case.id
            parts.append(f"| `{cell(place)}` | {cell(name)} | {case.status} | {cell(first)} |")
        if len(broken) > MAX_SUMMARY_FAILURES:
            parts.append(f"\n{len(broken) - MAX_SUMMARY_FAILURES} more not listed.")
        parts.append("")
        for case in broken[:MAX_SUMMARY_FAILURES]:
            parts.append(details(f"{case.file} :: {case.id}", case.failure_text()))
    if coverage is not None:
        parts += ["### Coverage\n", "```", _coverage_lines(coverage), "```", ""]
    return "\n".join(parts)


def _coverage_lines(coverage: Any) -> str:
    from harness.insight.coverage import coverage_output

    return "\n".join(coverage_output(coverage, "text").splitlines()[:12])


# --- `lint` -----------------------------------------------------------------------------------------------


def lint_annotations(findings: Iterable[Any], env: Mapping[str, str] | None = None) -> list[str]:
    return [annotation(finding.severity, finding.message, file=finding.path, line=finding.line,
                       column=finding.column, title=f"{finding.rule_id} {finding.rule_name}", env=env)
            for finding in findings]


def lint_summary(findings: list[Any], files: int) -> str:
    errors = sum(1 for f in findings if f.severity == "error")
    warnings = len(findings) - errors
    parts = [f"## autopilot-harness lint: {'FAILED' if errors else 'passed'}\n",
             f"{files} file(s) checked: {errors} error(s), {warnings} warning(s)\n"]
    if findings:
        parts += ["| place | rule | severity | message |", "|---|---|---|---|"]
        for finding in findings[:MAX_SUMMARY_FAILURES]:
            place = f"{finding.path}:{finding.line}" if finding.line else finding.path
            parts.append(f"| `{cell(place)}` | {cell(finding.rule_id)} | {finding.severity} | "
                         f"{cell(finding.message)} |")
        if len(findings) > MAX_SUMMARY_FAILURES:
            parts.append(f"\n{len(findings) - MAX_SUMMARY_FAILURES} more not listed.")
    return "\n".join(parts) + "\n"
