"""`autopilot-harness lint FILE...`: validate assistant exports, Actions documents and Studio flows.

Exit 0 when clean (warnings allowed), 1 when problems were found, 2 when a file cannot be read or parsed.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from harness.errors import ExitCode, HarnessError, HarnessErrors, LoadError
from harness.sources import load_source


@dataclass
class FileReport:
    path: str
    kind: str  # "assistant" | "flow" | "actions" | "unknown"
    errors: list[HarnessError] = field(default_factory=list)
    warnings: list[HarnessError] = field(default_factory=list)
    unreadable: bool = False

    def to_dict(self) -> dict[str, Any]:
        def item(err: HarnessError, severity: str) -> dict[str, Any]:
            loc = err.location
            return {"severity": severity, "kind": err.kind, "message": err.message, "hint": err.hint,
                    "pointer": loc.pointer if loc else "", "line": loc.line if loc else None,
                    "column": loc.column if loc else None}
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
        elif kind == "assistant":
            from harness.models.assistant_loader import assistant_from_dict

            assistant = assistant_from_dict(source.data, path=str(path), source=source)
            report.warnings.extend(assistant.warnings)
        elif kind == "actions":
            from harness.models.actions import check_actions

            report.errors.extend(check_actions(source.data, path=str(path), source=source))
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


def run(args: argparse.Namespace, *, stdout: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    reports = [lint_file(Path(p)) for p in args.files]
    if args.json:
        json.dump({"files": [r.to_dict() for r in reports]}, out, indent=2)
        out.write("\n")
    else:
        for report in reports:
            for err in report.errors:
                print(f"error: {err.render()}", file=out)
            for warning in report.warnings:
                print(f"warning: {warning.render()}", file=out)
        n_err = sum(len(r.errors) for r in reports)
        n_warn = sum(len(r.warnings) for r in reports)
        print(f"{len(reports)} file(s) checked: {n_err} error(s), {n_warn} warning(s)", file=out)
    if any(r.unreadable for r in reports):
        return ExitCode.BAD_INPUT
    return ExitCode.FAILED if any(r.errors for r in reports) else ExitCode.OK
