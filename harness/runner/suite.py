"""Running a suite: collect the files, load each, run every selected concrete scenario in one session pool.

A file that cannot be loaded becomes one "error" result and the rest still runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from harness.errors import (
    HarnessError,
)
from harness.models.scenario_loader import load_scenario_file
from harness.models.scenario_model import ScenarioFile
from harness.runner.cases import run_case
from harness.runner.collect import collect_files
from harness.runner.golden import golden_orphans
from harness.runner.paths import SCENARIO_SUFFIX, display_path
from harness.runner.pool import CaseCheck, SessionPool
from harness.runner.results import ERROR, CaseResult, SuiteResult, file_info
from harness.runner.selection import Select, Selection

Progress = Callable[[CaseResult], None]


def run_suite(
    paths: Sequence[str | Path], *, update_golden: bool = False, require_golden: bool = False,
    select: Select | None = None,
    progress: Progress | None = None, threshold: float | None = None, case_checks: Sequence[CaseCheck] = (),
    pattern: str = f"*{SCENARIO_SUFFIX}", router: str | None = None,
) -> SuiteResult:
    """Collect and run every scenario under `paths`. A file that cannot be loaded becomes one "error"
    result (file:line:column, no traceback) and the rest still runs. Raises UsageError for a missing path.
    `case_checks` run after each case (the faces pass `harness.contracts.scenario_runs.case_checks()`).
    `pattern` picks the scenario files inside folders (`[tool.autopilot-harness] scenario_glob`); `router`
    overrides the pyproject's router for every session (`run --router`).
    """
    files = collect_files(paths, pattern=pattern)
    suite = SuiteResult()
    clock = time.perf_counter()
    with SessionPool(threshold=threshold, case_checks=case_checks, router=router) as pool:
        for path in files:
            shown = display_path(path)
            try:
                # Loaded by the shown path, so messages read `suite/hotel.scenario.yaml:12:7` too.
                scenario_file = load_scenario_file(shown)
            except HarnessError as err:
                if isinstance(select, Selection) and not select.broken_file(shown):
                    suite.deselected += 1  # pytest's `(file)` item, deselected by -k alike
                    continue
                result = CaseResult(id=Path(path).name, file=shown, name=Path(path).name, status=ERROR,
                                    error=err.render(), kind="file")
                suite.files[shown] = file_info(None, err.render())
                suite.cases.append(result)
                if progress:
                    progress(result)
                continue
            pool.remember(scenario_file)
            suite.files[shown] = file_info(scenario_file)
            deselected = suite.deselected
            for scenario in scenario_file.scenarios:
                for concrete in scenario.expanded():
                    if select is not None and not select(shown, concrete):
                        suite.deselected += 1
                        continue
                    result = run_case(pool, concrete, file=scenario_file, update_golden=update_golden,
                                      require_golden=require_golden)
                    suite.cases.append(result)
                    if progress:
                        progress(result)
            _sweep_goldens(suite, scenario_file, shown,
                           prune=update_golden and select is None and suite.deselected == deselected)
    suite.duration = time.perf_counter() - clock
    return suite


def _sweep_goldens(suite: SuiteResult, scenario_file: ScenarioFile, shown: str, *, prune: bool) -> None:
    """Golden files of scenarios the file no longer has: removed when `--update-golden` ran the whole
    file (under -k/--tag the rest of the file did not run, so nothing is removed), else listed."""
    for orphan in golden_orphans(scenario_file, shown):
        if prune:
            orphan.unlink(missing_ok=True)
            suite.golden_pruned.append(display_path(orphan))
        else:
            suite.golden_orphans.append(display_path(orphan))


