"""Results of a run: one `CaseResult` per concrete scenario, the `SuiteResult` of a run, and their JSON shape.

The JSON of `SuiteResult.to_json()` is the contract for reporters (docs/run-results.md); JUnit XML is
rendered by `harness.runner.junit`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.errors import (
    ExitCode,
)
from harness.expectations import (
    Mismatch,
    format_mismatches,
    show,
)
from harness.models.scenario_model import ScenarioFile
from harness.runner.paths import display_path
from harness.transcript import Transcript

RESULTS_VERSION = 1

PASSED, FAILED, ERROR = "passed", "failed", "error"


@dataclass
class CaseResult:
    """The outcome of one concrete scenario (or, with kind "file", of a file that could not be loaded)."""

    id: str
    file: str
    name: str
    tags: tuple[str, ...] = ()
    status: str = PASSED
    duration: float = 0.0
    mismatches: list[Mismatch] = field(default_factory=list)
    error: str | None = None
    transcript: Transcript | None = None
    kind: str = "scenario"  # "scenario" | "file"
    line: int | None = None  # where the scenario starts in its file (1-based)
    golden: str | None = None  # None (not run to the end) | "written" | "matched" | "changed" | "missing"
    engine_time: float = 0.0  # seconds spent inside the engines (conversation.say)
    # The case could not start because a file it names (bot, flow, workflow, …) is malformed: invalid
    # input, like a malformed scenario file, so it alone makes a run exit 2 rather than 1.
    invalid_input: bool = False
    exception: BaseException | None = field(default=None, repr=False, compare=False)  # an internal bug

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    @property
    def nodeid(self) -> str:
        return f"{self.file}::{self.id}"

    def failure_text(self) -> str:
        """What a user reads for a failed or broken case (pytest, the CLI and JUnit show the same)."""
        parts = []
        if self.error:
            parts.append(self.error)
        if self.mismatches:
            count = len(self.mismatches)
            parts.append(format_mismatches(self.mismatches,
                                           title=f"{count} expectation{'s' if count != 1 else ''} failed"))
        logs = function_output(self.transcript) if parts and self.transcript is not None else ""
        if logs and "Function output:" not in (self.error or ""):  # a webhook error already shows its own
            parts.append(logs)
        return "\n".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "file": self.file,
            "id": self.id,
            "name": self.name,
            "line": self.line,
            "tags": list(self.tags),
            "status": self.status,
            "duration": round(self.duration, 6),
            "error": self.error,
            "mismatches": [_mismatch_dict(m) for m in self.mismatches],
            "failure": self.failure_text() or None,
            "golden": self.golden,
            "invalid_input": self.invalid_input,
            "transcript": self.transcript.to_dict() if self.transcript is not None else None,
        }


MAX_FUNCTION_LINES_SHOWN = 40  # in a failure text; the transcript keeps every line


def function_output(transcript: Any) -> str:
    """What Functions printed (console.log/error) during the conversation, per turn and URL: "" if nothing."""
    lines: list[str] = []
    for turn in getattr(transcript, "turns", ()) or ():
        for call in turn.webhooks or ():
            logs = call.get("logs") if isinstance(call, dict) else None
            if logs:
                lines.append(f"  turn {turn.index + 1}, {call.get('method', '')} {call.get('url', '')}:")
                lines.extend(f"    [{line.get('level', '')}] {line.get('message', '')}" for line in logs)
        for step in turn.steps or ():  # Studio's Run Function widget
            logs = step.get("logs") if isinstance(step, dict) else None
            if logs:
                lines.append(f"  turn {turn.index + 1}, widget {step.get('widget', '')}:")
                lines.extend(f"    [{line.get('level', '')}] {line.get('message', '')}" for line in logs)
    if not lines:
        return ""
    if len(lines) > MAX_FUNCTION_LINES_SHOWN:
        more = len(lines) - MAX_FUNCTION_LINES_SHOWN
        lines = [*lines[:MAX_FUNCTION_LINES_SHOWN], f"  … {more} more line(s) in the transcript (webhooks[].logs)"]
    return "Function output:\n" + "\n".join(lines)


def _mismatch_dict(mismatch: Mismatch) -> dict[str, Any]:
    return {
        "where": mismatch.where, "scope": mismatch.scope, "key": mismatch.key, "path": mismatch.path,
        "expected": show(mismatch.expected), "actual": show(mismatch.actual), "detail": mismatch.detail,
        "location": str(mismatch.location) if mismatch.location is not None else None,
    }


@dataclass
class SuiteResult:
    cases: list[CaseResult] = field(default_factory=list)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    duration: float = 0.0
    deselected: int = 0
    golden_orphans: list[str] = field(default_factory=list)  # golden files of no scenario (kept)
    golden_pruned: list[str] = field(default_factory=list)  # ... removed by --update-golden

    @property
    def golden_missing(self) -> list[str]:
        """`file::scenario id` of every case that ran to the end without a golden file to compare with."""
        return [f"{case.file}::{case.id}" for case in self.cases if case.golden == "missing"]
    # The working directory of the run: the paths in `files` are relative to it, so the insight tools
    # (coverage, report) find the bots and flows from anywhere.
    cwd: str = field(default_factory=lambda: str(Path.cwd().resolve()))

    def count(self, status: str) -> int:
        return sum(1 for case in self.cases if case.status == status)

    @property
    def summary(self) -> dict[str, int]:
        return {"passed": self.count(PASSED), "failed": self.count(FAILED), "error": self.count(ERROR),
                "total": len(self.cases)}

    @property
    def exit_code(self) -> ExitCode:
        """0 all passed; 1 a scenario failed or broke; 2 only invalid input (a malformed scenario file, or
        a bot/flow/workflow file it names); 5 nothing collected."""
        if any(c.kind == "scenario" and not c.passed and not c.invalid_input for c in self.cases):
            return ExitCode.FAILED
        if any(c.kind == "file" or c.invalid_input for c in self.cases):
            return ExitCode.BAD_INPUT
        if not self.cases:
            return ExitCode.NOTHING_COLLECTED
        return ExitCode.OK

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": RESULTS_VERSION,
            "started": self.started.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "duration": round(self.duration, 6),
            "summary": self.summary,
            "cwd": self.cwd,
            "files": self.files,
            "cases": [case.to_dict() for case in self.cases],
            # Only when there is something to say (the key may grow; docs/run-results.md).
            **({"golden": {"orphans": self.golden_orphans, "pruned": self.golden_pruned,
                           "missing": self.golden_missing}}
               if self.golden_orphans or self.golden_pruned or self.golden_missing else {}),
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, default=str)

    def to_junit_xml(self) -> str:
        from harness.runner.junit import junit_xml  # junit imports this module

        return junit_xml(self.cases, started=self.started, duration=self.duration)


def file_info(scenario_file: ScenarioFile | None, error: str | None = None) -> dict[str, Any]:
    """The `files` entry of the results JSON: which bot and flow a file runs, or why it could not load."""
    if scenario_file is None:
        return {"bot": None, "flow": None, "error": error}
    bots = {sid: display_path(path) for sid, path in scenario_file.bots.items()}
    bot: Any = bots.get(None) if list(bots) == [None] else {str(k): v for k, v in bots.items()}
    flow = display_path(scenario_file.flow) if scenario_file.flow is not None else None
    return {"bot": bot, "flow": flow, "error": error}
