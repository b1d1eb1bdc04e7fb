"""`autopilot-harness lint FILE...`: validate assistant exports, Actions documents and Studio flows.

After validity, the lint rules of `harness.insight.lint_rules` run (ids AP1xx/ST2xx/XF3xx; `--disable`,
`[tool.autopilot-harness.lint]`). A flow is checked against its bot when the bot is known: `--bot
UA…=path` (widgets with that SID), a single `--bot path` (every widget), or the only assistant among
FILEs (by its SID when the export has one). A folder among FILEs stands for its JSON/YAML files.

Exit 0 when clean (warnings allowed), 1 when problems were found, 2 when a file cannot be read or parsed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

from harness.errors import ExitCode, HarnessError, HarnessErrors, LoadError
from harness.insight.lint_rules import (
    LintConfig,
    LintFinding,
    bot_for,
    implicit_bots,
    lint_actions,
    lint_assistant,
    lint_flow,
    load_config,
)
from harness.runner.settings import find_pyproject, read_settings
from harness.sources import load_source


@dataclass
class FileReport:
    path: str
    kind: str  # "assistant" | "flow" | "actions" | "unknown"
    errors: list[HarnessError] = field(default_factory=list)
    warnings: list[HarnessError] = field(default_factory=list)
    unreadable: bool = False
    model: Any = field(default=None, repr=False)  # the loaded Flow / Assistant, for the lint rules

    def to_dict(self) -> dict[str, Any]:
        def item(err: HarnessError, severity: str) -> dict[str, Any]:
            loc = err.location
            return {"severity": severity, "kind": err.kind, "message": err.message, "hint": err.hint,
                    "pointer": loc.pointer if loc else "", "line": loc.line if loc else None,
                    "column": loc.column if loc else None,
                    "rule": err.rule.id if isinstance(err, LintFinding) else None}
        return {"path": self.path, "kind": self.kind,
                "problems": [item(e, "error") for e in self.errors]
                + [item(w, "warning") for w in self.warnings]}


def detect_kind(data: Any) -> str:
    if isinstance(data, dict):
        if "states" in data or "initial_state" in data or isinstance(data.get("definition"), dict | str):
            return "flow"
        if "tasks" in data or "uniqueName" in data or "friendlyName" in data:
            return "assistant"
        if "actions" in data:
            return "actions"
    return "unknown"


def _template_problems(flow: Any) -> list[HarnessError]:
    """What the Studio engine refuses at load time: Liquid syntax, unknown filters, static regexes."""
    from harness.clock import FixedClock
    from harness.engines.studio.engine import StudioEnvironment

    environment = StudioEnvironment(bots={}, clock=FixedClock(), auth_token="lint", account_sid="AC" + "0" * 32)
    try:
        environment.load(flow)
    except HarnessErrors as group:
        return list(group.errors)
    except HarnessError as err:
        return [err]
    return []


def lint_file(path: Path) -> FileReport:
    try:
        source = load_source(path)
    except LoadError as err:
        return FileReport(str(path), "unknown", [err], unreadable=True)
    kind = detect_kind(source.data)
    report = FileReport(str(path), kind)
    try:
        if kind == "flow":
            from harness.models.flow import flow_from_source

            flow = flow_from_source(source)
            report.warnings.extend(flow.warnings)
            report.model = flow
            report.errors.extend(_template_problems(flow))
        elif kind == "assistant":
            from harness.models.assistant_loader import assistant_from_dict

            assistant = assistant_from_dict(source.data, path=str(path), source=source)
            report.warnings.extend(assistant.warnings)
            report.model = assistant
        elif kind == "actions":
            from harness.models.actions import check_actions

            report.errors.extend(check_actions(source.data, path=str(path), source=source))
            report.model = source  # the lint rules read it (AP107)
        else:
            report.errors.append(LoadError(
                "not an Autopilot assistant export ('tasks'), an Actions document ('actions') "
                "nor a Studio flow definition ('states')",
                source.locate(""),
            ))
    except HarnessErrors as group:
        report.errors.extend(group.errors)
    except HarnessError as err:
        report.errors.append(err)
    return report


def apply_rules(reports: list[FileReport], *, config: LintConfig, bots: dict[str | None, Any]) -> None:
    """Run the lint rules on every loaded model; flows meet their bots, bots meet the flows driving them."""
    from harness.models.assistant import Assistant
    from harness.models.flow import Flow

    flows = [r.model for r in reports if isinstance(r.model, Flow)]
    assistants = [r.model for r in reports if isinstance(r.model, Assistant)]
    lone = assistants[0] if not bots and len(assistants) == 1 else None

    def bots_of(flow: Any) -> dict[str | None, Any]:
        return implicit_bots(flow, lone) if lone is not None else bots

    for report in reports:
        if isinstance(report.model, Flow):
            findings = lint_flow(report.model, bots=bots_of(report.model), config=config)
        elif isinstance(report.model, Assistant):
            driving = [f for f in flows if _drives(f, report.model, bots_of(f))]
            findings = lint_assistant(report.model, flows=driving, config=config)
        elif report.kind == "actions" and report.model is not None:
            findings = lint_actions(report.model, config=config)
        else:
            continue
        # A rule restating a loader warning (a default naming no task) replaces it: one finding per place.
        pointers = {f.location.pointer for f in findings if f.location}
        report.warnings = [w for w in report.warnings if not (w.location and w.location.pointer in pointers)]
        report.errors.extend(f for f in findings if f.severity == "error")
        report.warnings.extend(f for f in findings if f.severity != "error")


def _drives(flow: Any, assistant: Any, bots: dict[str | None, Any]) -> bool:
    widgets = [s for s in flow.states if s.type == "send-to-auto-pilot"]
    return any(_same(bot_for(w, bots), assistant) for w in widgets)


def _same(a: Any, b: Any) -> bool:
    return a is b or (a is not None and b is not None and a.path is not None and a.path == b.path)


# Files a folder argument contributes: what `lint` can check (exports, Actions, flows).
LINTABLE_SUFFIXES = (".json", ".yaml", ".yml")


def expand_files(items: list[str]) -> list[Path]:
    """FILE arguments with folders expanded to the JSON/YAML files below them (sorted; hidden folders,
    node_modules and virtualenvs skipped, as `run` does); scenario files are not lint's to check."""
    from harness.runner.collect import skipped_folder
    from harness.runner.paths import SCENARIO_SUFFIX

    found: list[Path] = []
    for item in items:
        path = Path(item)
        if not path.is_dir():
            found.append(path)  # a missing file is reported by lint_file (exit 2)
            continue
        inside: list[Path] = []
        for folder, subfolders, names in os.walk(path):
            subfolders[:] = [d for d in subfolders if not skipped_folder(Path(folder) / d)]
            inside += [Path(folder) / n for n in names if n.endswith(LINTABLE_SUFFIXES)
                       and not n.startswith(".") and not n.endswith(SCENARIO_SUFFIX)
                       and not n.endswith((".scenario.yml",))]
        found += sorted(inside)
    return list(dict.fromkeys(found))


def _load_bots(items: list[str]) -> dict[str | None, Any]:
    from harness.models.assistant_loader import load_assistant
    from harness.runner.session import parse_bot_options

    loaded: dict[str | None, Any] = {}
    for sid, path in parse_bot_options(items).items():
        loaded[sid] = load_assistant(path, sid=sid)
    return loaded


def run(args: argparse.Namespace, *, stdout: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    fmt = getattr(args, "format", None) or ("json" if args.json else "text")
    files = expand_files(list(args.files))
    if not files:
        from harness.errors import UsageError

        raise UsageError(f"no JSON or YAML files in {', '.join(args.files)}")
    # The lint table comes from the pyproject.toml the files belong to, not the working directory's.
    config = load_config(files=files).with_disabled(getattr(args, "disable", None) or [])
    threshold = getattr(args, "threshold", None)
    settings = read_settings(find_pyproject(files))
    if threshold is None:  # the same default `run`, chat and pytest route with
        threshold = settings.threshold
    config = replace(config, threshold=threshold, router=settings.router, min_score=settings.min_score)
    bots = _load_bots(getattr(args, "bot", None) or [])
    named = {Path(item) for item in args.files}
    reports = []
    skipped = 0
    for path in files:
        report = lint_file(path)
        # A folder also holds other JSON (workflows, queue lists, package.json): not lint's to judge.
        if path not in named and report.kind == "unknown" and not report.unreadable:
            skipped += 1
            continue
        reports.append(report)
    if skipped and fmt == "text":
        print(f"skipped {skipped} file(s) in the folders that are not assistant exports, Actions or flows",
              file=sys.stderr)
    apply_rules(reports, config=config, bots=bots)
    if fmt == "json":
        json.dump({"files": [r.to_dict() for r in reports]}, out, indent=2)
        out.write("\n")
    elif fmt == "sarif":
        from harness.insight.lint_rules import to_sarif

        json.dump(to_sarif(reports, exit_code=int(_exit_code(reports))), out, indent=2)
        out.write("\n")
    elif fmt == "codeclimate":
        from harness.insight.lint_rules import to_code_quality

        json.dump(to_code_quality(reports), out, indent=2)
        out.write("\n")
    else:
        from harness.cli.style import Style

        style, quiet = Style(out), getattr(args, "quiet", False)
        for report in reports:
            for err in report.errors:
                print(f"{style.paint('error', 'error')}: {err.render()}", file=out)
            for warning in () if quiet else report.warnings:  # -q: errors and the final line only
                print(f"{style.paint('warning', 'warning')}: {warning.render()}", file=out)
        n_err = sum(len(r.errors) for r in reports)
        n_warn = sum(len(r.warnings) for r in reports)
        print(f"{len(reports)} file(s) checked: {n_err} error(s), {n_warn} warning(s)", file=out)
    from harness.cli.github import in_github_actions

    if in_github_actions():
        _report_to_github(reports, fmt, out)
    return _exit_code(reports)


def _exit_code(reports: list[FileReport]) -> ExitCode:
    if any(r.unreadable for r in reports):
        return ExitCode.BAD_INPUT
    return ExitCode.FAILED if any(r.errors for r in reports) else ExitCode.OK


def _report_to_github(reports: list[FileReport], fmt: str, out: TextIO) -> None:
    """On GitHub Actions: an annotation per finding (on stderr when stdout carries a JSON/SARIF document,
    which must stay parseable: the runner reads workflow commands from both), and the job summary."""
    from harness.cli.github import append_summary, lint_annotations, lint_summary, print_annotations
    from harness.insight.lint_rules import lint_findings

    findings = lint_findings(reports)
    print_annotations(lint_annotations(findings), out if fmt == "text" else sys.stderr)
    append_summary(lint_summary(findings, len(reports)), err=sys.stderr)
