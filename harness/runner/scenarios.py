"""The scenario runner: the one place both faces (`autopilot-harness run`, the pytest plugin) run scenarios.

    with SessionPool() as pool:
        result = run_case(pool, concrete_scenario)          # -> CaseResult
    suite = run_suite(["scenarios/"], update_golden=False)  # -> SuiteResult (its own pool)

This module is a facade: each concern lives in its own module, and the names are re-exported here so
existing imports keep working.

- `harness.runner.paths`: `SCENARIO_SUFFIX`, `display_path`, `import_root`
- `harness.runner.pool`: `SessionPool` (one started session per configuration), `options_for`, `CaseCheck`
- `harness.runner.cases`: `run_case` (one concrete scenario, conversation or replay)
- `harness.runner.golden`: golden files (path, document, diff, orphans)
- `harness.runner.collect`: `collect_files` from files and folders
- `harness.runner.selection`: `-k` (`keyword_matcher`) and `--tag` (`selector`)
- `harness.runner.results`: `CaseResult`, `SuiteResult` and their JSON; `harness.runner.junit`: JUnit XML
- `harness.runner.suite`: `run_suite`

Lifetimes: a `SessionPool` lives for a whole run and keeps one started `Session` per distinct
configuration (bots, flow, workflow, Functions, servers, …): starting twilio-run costs 1-2 s, so scenario
files that name the same bot and flow share it. A case resets its session (clock back at the start, SIDs
reseeded with the case's id) so its transcript does not depend on what ran before it — the same with
`-k`, `--lf` or xdist, and golden files are byte-identical from run to run.

The JSON of `SuiteResult.to_json()` is the contract for reporters (docs/run-results.md).
"""

from __future__ import annotations

from harness.runner.cases import is_input_problem, run_case, spec_label, unknown_task_names
from harness.runner.collect import NORECURSE_DIRS, collect_files
from harness.runner.collect import skipped_folder as _skipped_folder
from harness.runner.golden import (
    CONFIDENCE_TOLERANCE,
    GOLDEN_VERSION,
    REPLY_SHOW_LIMIT,
    VOLATILE_KEYS,
    dump_golden,
    golden_diff,
    golden_document,
    golden_folder,
    golden_orphans,
    golden_path,
    golden_view,
)
from harness.runner.junit import junit_xml
from harness.runner.paths import SCENARIO_SUFFIX, display_path, import_root
from harness.runner.pool import CaseCheck, SessionPool, options_for
from harness.runner.results import ERROR, FAILED, PASSED, RESULTS_VERSION, CaseResult, SuiteResult, file_info
from harness.runner.selection import Select, keyword_matcher, selector
from harness.runner.suite import Progress, run_suite

__all__ = [
    "CONFIDENCE_TOLERANCE",
    "ERROR",
    "FAILED",
    "GOLDEN_VERSION",
    "NORECURSE_DIRS",
    "PASSED",
    "REPLY_SHOW_LIMIT",
    "RESULTS_VERSION",
    "SCENARIO_SUFFIX",
    "VOLATILE_KEYS",
    "CaseCheck",
    "CaseResult",
    "Progress",
    "Select",
    "SessionPool",
    "SuiteResult",
    "_skipped_folder",
    "collect_files",
    "display_path",
    "dump_golden",
    "file_info",
    "golden_diff",
    "golden_document",
    "golden_folder",
    "golden_orphans",
    "golden_path",
    "golden_view",
    "import_root",
    "is_input_problem",
    "junit_xml",
    "keyword_matcher",
    "options_for",
    "run_case",
    "run_suite",
    "selector",
    "spec_label",
    "unknown_task_names",
]
