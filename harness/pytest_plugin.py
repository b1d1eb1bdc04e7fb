"""The pytest plugin (entry point `pytest11: autopilot_harness`): scenario files as tests, and fixtures.

- Every `*.scenario.yaml` pytest comes across is collected; each concrete scenario is one item
  (`hotel.scenario.yaml::guest asks for towels[v2]`), its tags are markers (`-m smoke`).
- A failing scenario shows the expectation diff (no traceback); a malformed file is one item in error
  (`bad.scenario.yaml::(file)`, as `run` counts it) showing `file:line:column` and what was expected, and
  the rest still runs.
- Options: `--update-golden` (store each scenario's transcript beside it), `--autopilot-json FILE` (the
  results JSON of docs/run-results.md), `--autopilot-coverage[=FILE]` with
  `--autopilot-fail-under-tasks/-transitions PERCENT` (coverage in the terminal summary; exit 1 below a
  limit). Defaults in `pyproject.toml` (`harness.runner.settings`, read the same way by `run`):
  `[tool.autopilot-harness] scenario_glob = "*.scenario.yaml"`, `threshold = 0.4`, `openapi_dir = "…"`.
- Fixtures: `autopilot_session`, `assistant`, `studio`, `twilio_fake` (checked against Twilio's OpenAPI
  specs: `$AUTOPILOT_HARNESS_OPENAPI`, else `openapi_dir`, else `../shared/real/openapi` beside the
  rootdir; a warning says when none is found), and `replay_requests` /
  `replay_execution` (the runner's replays, bound to a scenario file's configuration).

Start-up cost matters (every pytest run of every project with the kit installed loads this module), so it
imports only pytest and the standard library; the runner, engines, jsonschema, YAML and faker are imported
inside hooks, and only once a scenario file is collected or a fixture used.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness.cli.argtypes import percent

if TYPE_CHECKING:
    from harness.models.scenario_model import Scenario, ScenarioFile
    from harness.runner.pool import SessionPool
    from harness.runner.results import CaseResult
    from harness.runner.session import Session
    from harness.runner.settings import Settings

_settings_key = pytest.StashKey["Settings"]()
_openapi_key = pytest.StashKey[tuple]()
_pool_key = pytest.StashKey["SessionPool"]()
_tags_key = pytest.StashKey[set]()
_results_key = pytest.StashKey[dict]()
_result_key = pytest.StashKey["CaseResult"]()


# --- options and settings -----------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("autopilot-harness", "Autopilot scenario files (*.scenario.yaml)")
    group.addoption("--update-golden", action="store_true", default=False,
                    help="write each scenario's transcript to <file>.golden/<id>.json instead of diffing it")
    group.addoption("--autopilot-json", metavar="FILE", default=None,
                    help="write the scenario results as JSON (the reporters' input; docs/run-results.md)")
    group.addoption("--autopilot-coverage", metavar="FILE", nargs="?", const="", default=None,
                    help="after the run, show the coverage of tasks, samples, fields, questions, widgets and "
                         "transitions in the terminal summary; with FILE also write the report there "
                         "(.json, .html, else text)")
    group.addoption("--autopilot-fail-under-tasks", type=percent, default=None, metavar="PERCENT",
                    help="fail the run when task coverage is below PERCENT (implies --autopilot-coverage)")
    group.addoption("--autopilot-fail-under-transitions", type=percent, default=None, metavar="PERCENT",
                    help="fail the run when flow transition coverage is below PERCENT "
                         "(implies --autopilot-coverage)")


def settings(config: pytest.Config) -> Settings:
    """`[tool.autopilot-harness]` of the rootdir's pyproject.toml, checked (`harness.runner.settings`, the
    reader `autopilot-harness run` uses too); read once. A bad value stops the session with one message."""
    found = config.stash.get(_settings_key, None)
    if found is None:
        from harness.errors import HarnessError
        from harness.runner.settings import read_settings

        path = Path(config.rootpath) / "pyproject.toml"
        try:
            found = read_settings(path if path.is_file() else None, root=Path(config.rootpath))
        except HarnessError as err:
            raise pytest.UsageError(err.render()) from None
        config.stash[_settings_key] = found
    return found


# --- collection ---------------------------------------------------------------------------------------


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> ScenarioYamlFile | None:
    name = file_path.name
    if not name.endswith((".yaml", ".yml")):  # cheap test first: this hook sees every file
        return None
    if fnmatch.fnmatch(name, settings(parent.config).scenario_glob):
        return ScenarioYamlFile.from_parent(parent, path=file_path)
    return None


class ScenarioFailed(AssertionError):
    """A scenario's expectations did not hold, or its conversation broke; the text is the whole diff."""


class ScenarioYamlFile(pytest.File):
    """One scenario file: loaded (and checked) here, one item per concrete scenario."""

    def collect(self) -> Iterator[pytest.Item]:
        from harness.errors import HarnessError
        from harness.models.scenario_loader import load_scenario_file

        try:
            scenario_file = load_scenario_file(_shown(self.path))
        except HarnessError as err:
            # Not a collection error: pytest interrupts the whole session on one of those. One failing
            # item shows file:line:column and what was expected, and the other files still run.
            yield BrokenScenarioFile.from_parent(self, name=BROKEN_FILE_ITEM, error=err.render())
            return
        for scenario in scenario_file.scenarios:
            for concrete in scenario.expanded():
                yield ScenarioItem.from_parent(self, name=concrete.id, scenario=concrete,
                                               scenario_file=scenario_file)


BROKEN_FILE_ITEM = "(file)"  # the item of a file that cannot be loaded, as `run`'s table shows it


class BrokenScenarioFile(pytest.Item):
    """A scenario file that cannot be loaded: one item that errors (at setup, so pytest counts an error, as
    `run` does and as both faces' JUnit XML say) with the loader's message."""

    def __init__(self, *, error: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error

    def setup(self) -> None:
        from harness.runner.results import ERROR, CaseResult

        shown = _shown(self.path).as_posix()
        # The same entry `run` puts in the results JSON for such a file (kind "file").
        self.stash[_result_key] = CaseResult(id=self.path.name, file=shown, name=self.path.name, status=ERROR,
                                             error=self.error, kind="file")
        pytest.fail(self.error, pytrace=False)  # the message alone, no traceback

    def runtest(self) -> None:  # never reached: setup fails
        raise ScenarioFailed(self.error)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"scenario file: {self.path.name}"


def _structure_params(item: pytest.Item) -> None:
    """pytest ≥ 9.2 keeps a structured node id and matches `--lf` entries by it: the `[variant]` of our
    ids must be its params part, as it would be for a parametrized test, or `--lf` never matches."""
    node_id = getattr(item, "_id", None)
    parse = getattr(type(node_id), "parse", None)
    if parse is not None and "[" in item.name and getattr(node_id, "params", None) is None:
        item._id = parse(str(node_id))


class ScenarioItem(pytest.Item):
    """One concrete scenario (a `parametrize` row and one combination of variants)."""

    def __init__(self, *, scenario: Scenario, scenario_file: ScenarioFile, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _structure_params(self)
        self.scenario = scenario
        self.scenario_file = scenario_file
        for tag in scenario.tags:
            _register_marker(self.config, tag)
            self.add_marker(tag)

    def runtest(self) -> None:
        from harness.runner.cases import run_case

        result = run_case(_pool(self.config), self.scenario, file=self.scenario_file,
                          update_golden=self.config.getoption("update_golden"))
        self.stash[_result_key] = result
        if result.exception is not None:  # a bug in the kit: pytest shows its traceback
            raise result.exception
        if not result.passed:
            raise ScenarioFailed(result.failure_text())

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        from harness.errors import HarnessError

        if isinstance(excinfo.value, ScenarioFailed):
            return str(excinfo.value)
        if isinstance(excinfo.value, HarnessError):
            return excinfo.value.render()
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        line = self.scenario.location().line if self.scenario.origin.path else None
        return self.path, (line - 1 if line else None), f"scenario: {self.name}"


def _shown(path: Path) -> Path:
    """The path relative to the working directory when below it: messages then read `hotel.scenario.yaml:12:7`."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def _register_marker(config: pytest.Config, tag: str) -> None:
    """Tags are markers; declaring them keeps `--strict-markers` and the unknown-mark warning quiet."""
    known = config.stash.setdefault(_tags_key, set())
    if tag not in known:
        known.add(tag)
        config.addinivalue_line("markers", f"{tag}: scenario tag (autopilot-harness)")


def _pool(config: pytest.Config) -> SessionPool:
    """This process's sessions (each xdist worker has its own), started lazily, closed at session end."""
    pool = config.stash.get(_pool_key, None)
    if pool is None:
        from harness.contracts.scenario_runs import case_checks
        from harness.runner.pool import SessionPool

        # Contracts on every hand-off: Twilio rules, and the file's pact (contracts/README.md).
        pool = SessionPool(threshold=settings(config).threshold, case_checks=case_checks())
        config.stash[_pool_key] = pool
    return pool


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    pool = session.config.stash.get(_pool_key, None)
    if pool is not None:
        pool.close()
        del session.config.stash[_pool_key]


# --- the results JSON (--autopilot-json) ---------------------------------------------------------------


def _wants_coverage(config: pytest.Config) -> bool:
    return (config.getoption("autopilot_coverage", None) is not None
            or config.getoption("autopilot_fail_under_tasks", None) is not None
            or config.getoption("autopilot_fail_under_transitions", None) is not None)


def pytest_configure(config: pytest.Config) -> None:
    target = config.getoption("autopilot_coverage", None)
    if target and (Path(target).is_dir() or target.endswith((".yaml", ".yml", ".py"))):
        # `--autopilot-coverage tests/` takes the path as its FILE (an optional value, like --cov's).
        raise pytest.UsageError(f"--autopilot-coverage {target}: that is a test path, not a report file; "
                                "write --autopilot-coverage=FILE, or put the option after the paths")
    if _configures_us(config):  # a bad value: one usage error now, not an error per collected file
        settings(config)
    _check_outputs(config)
    if config.getoption("autopilot_json", None) or _wants_coverage(config):
        config.pluginmanager.register(ResultsRecorder(config), "autopilot-harness-results")
    if os.environ.get("GITHUB_ACTIONS") == "true" and not hasattr(config, "workerinput"):
        config.pluginmanager.register(GitHubReporter(config), "autopilot-harness-github")


def _configures_us(config: pytest.Config) -> bool:
    """Whether the rootdir's pyproject.toml has our table: a text search, so projects without it pay
    nothing (no TOML parser, no kit imports) for every pytest run."""
    try:
        text = (Path(config.rootpath) / "pyproject.toml").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return "autopilot-harness" in text


def _check_outputs(config: pytest.Config) -> None:
    """A report file that cannot be written is one usage error now, not a traceback after the run."""
    targets = [("--autopilot-json", config.getoption("autopilot_json", None)),
               ("--autopilot-coverage", config.getoption("autopilot_coverage", None))]
    if not any(target for _, target in targets) or hasattr(config, "workerinput"):
        return
    from harness.cli.outputs import prepare_output
    from harness.errors import HarnessError

    for option, target in targets:
        if target:
            try:
                prepare_output(target, option)
            except HarnessError as err:
                raise pytest.UsageError(err.render()) from None


class ResultsRecorder:
    """Collects each scenario's result; at the end writes the results JSON (--autopilot-json) and computes
    the coverage (--autopilot-coverage, the fail-under options) from that same document.

    The report carries the case as JSON text: xdist sends a report's attributes from the workers to the
    controller (pytest serializes the report's `__dict__`), which alone writes the file and computes the
    coverage — so `-n 2` gives the same numbers as a serial run.
    """

    def __init__(self, config: pytest.Config) -> None:
        from datetime import UTC, datetime

        self.config = config
        self.started = datetime.now(UTC)
        self.cases: dict[str, str] = {}
        self.broken: dict[str, str] = {}
        self.coverage: Any = None  # the CoverageReport, once computed (controller only)
        self.coverage_failed: list[str] = []
        self.write_error: str | None = None

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
        outcome = yield
        result: CaseResult | None = item.stash.get(_result_key, None) \
            if isinstance(item, ScenarioItem | BrokenScenarioFile) else None
        # A broken file's item errors at setup; a scenario's result comes from its call.
        when = "setup" if isinstance(item, BrokenScenarioFile) else "call"
        if call.when == when and result is not None:
            import json

            from harness.runner.results import file_info

            info = file_info(item.scenario_file) if isinstance(item, ScenarioItem) else \
                file_info(None, result.error)
            outcome.get_result().autopilot_case = json.dumps({"case": result.to_dict(), "file": info},
                                                             default=str)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        text = getattr(report, "autopilot_case", None)
        if text:
            self.cases[report.nodeid] = text

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed and str(report.nodeid).endswith((".yaml", ".yml")):
            self.broken[report.nodeid] = str(report.longrepr)

    def document(self) -> dict[str, Any]:
        """The results JSON of docs/run-results.md, from what this process (the controller) received."""
        import json
        from datetime import UTC, datetime

        from harness.runner.results import RESULTS_VERSION

        cases: list[dict[str, Any]] = []
        files: dict[str, dict[str, Any]] = {}
        for nodeid, error in sorted(self.broken.items()):
            files[nodeid] = {"bot": None, "flow": None, "error": error}
            cases.append({"kind": "file", "file": nodeid, "id": Path(nodeid).name, "name": Path(nodeid).name,
                          "line": None, "tags": [], "status": "error", "duration": 0.0, "error": error,
                          "mismatches": [], "failure": error, "golden": None, "transcript": None})
        for nodeid in sorted(self.cases):  # sorted: the same file with or without xdist
            data = json.loads(self.cases[nodeid])
            cases.append(data["case"])
            files.setdefault(data["case"]["file"], data["file"])
        summary = {status: sum(1 for c in cases if c["status"] == status)
                   for status in ("passed", "failed", "error")}
        return {
            "version": RESULTS_VERSION,
            "started": self.started.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "duration": round((datetime.now(UTC) - self.started).total_seconds(), 6),
            "summary": {**summary, "total": len(cases)},
            "cwd": str(Path.cwd().resolve()),  # what the paths in `files` are relative to
            "files": files,
            "cases": cases,
        }

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if hasattr(self.config, "workerinput"):  # an xdist worker: the controller writes and computes
            return
        import json

        document = self.document()
        from harness.cli.outputs import write_output
        from harness.errors import HarnessError

        target = self.config.getoption("autopilot_json", None)
        try:
            if target:
                write_output(target, json.dumps(document, indent=2, ensure_ascii=False) + "\n", "--autopilot-json")
            if _wants_coverage(self.config):
                self._coverage(session, document)
        except HarnessError as err:  # checked at start-up; this is a file that vanished or a full disk
            self.write_error = err.render()
            session.exitstatus = pytest.ExitCode.USAGE_ERROR

    def _coverage(self, session: pytest.Session, document: dict[str, Any]) -> None:
        from harness.cli.outputs import write_output
        from harness.insight.coverage import compute_coverage, coverage_failures, coverage_output, format_for_path

        # Case files and bot/flow paths in the document are relative to the working directory.
        self.coverage = compute_coverage(document, base=Path.cwd())
        target = self.config.getoption("autopilot_coverage", None)
        if target:
            write_output(target, coverage_output(self.coverage, format_for_path(target)), "--autopilot-coverage")
        self.coverage_failed = coverage_failures(
            self.coverage, tasks=self.config.getoption("autopilot_fail_under_tasks", None),
            transitions=self.config.getoption("autopilot_fail_under_transitions", None))
        if self.coverage_failed and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED  # a gate fails a green run, never hides worse

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.write_error:
            terminalreporter.write_line(f"autopilot-harness: {self.write_error}", red=True, bold=True)
        if self.coverage is None:
            return
        from harness.insight.coverage import coverage_text

        terminalreporter.write_sep("=", "autopilot-harness coverage")
        terminalreporter.write(coverage_text(self.coverage, max_missed=10))
        target = self.config.getoption("autopilot_coverage", None)
        if target:
            terminalreporter.write_line(f"coverage report written to {target}")
        for line in self.coverage_failed:
            terminalreporter.write_line(f"FAIL {line}", red=True, bold=True)


class GitHubReporter:
    """On GitHub Actions: an `::error` annotation per failed or broken scenario (file and line) and a job
    summary appended to $GITHUB_STEP_SUMMARY, as `autopilot-harness run` gives (harness.cli.github).
    Only scenario items: Python tests have their own annotation plugins. The controller alone reports
    (xdist sends it every report)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.counts = {"passed": 0, "failed": 0, "error": 0}
        self.problems: list[tuple[str, int | None, str, str, str]] = []  # file, line, name, status, text

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        file, _, name = str(report.nodeid).partition("::")
        if not file.endswith((".yaml", ".yml")) or not name:
            return
        if report.passed and report.when == "call":
            self.counts["passed"] += 1
        elif report.failed:
            status = "failed" if report.when == "call" else "error"
            self.counts[status] += 1
            line = report.location[1] + 1 if report.location and report.location[1] is not None else None
            text = report.longreprtext
            if line is None:  # a broken file: its message starts `file.scenario.yaml:line:column`
                import re

                found = re.match(r".*?\.ya?ml:(\d+)", text.splitlines()[0] if text else "")
                line = int(found.group(1)) if found else None
            self.problems.append((file, line, name, status, text))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        from harness.cli.github import MAX_ANNOTATIONS, annotation, append_summary, cell, details

        root = Path(self.config.rootpath)
        lines = [annotation("error", text or status, file=str(root / file), line=line,
                            title=f"{'(file) cannot be loaded' if name == BROKEN_FILE_ITEM else 'scenario ' + name}"
                                  f" {status}")
                 for file, line, name, status, text in self.problems]
        for line in lines[:MAX_ANNOTATIONS]:
            terminalreporter.write_line(line)
        if not any(self.counts.values()):
            return
        verdict = "FAILED" if self.problems else "passed"
        counts = self.counts
        parts = [f"## autopilot-harness scenarios (pytest): {verdict}\n", "| passed | failed | error |",
                 "|---:|---:|---:|", f"| {counts['passed']} | {counts['failed']} | {counts['error']} |", ""]
        if self.problems:
            parts += ["| file | scenario | status |", "|---|---|---|"]
            parts += [f"| `{cell(f'{file}:{line}' if line else file)}` | {cell(name)} | {status} |"
                      for file, line, name, status, _ in self.problems[:50]]
            parts += [""] + [details(f"{file} :: {name}", text) for file, _, name, _, text in self.problems[:50]]
        append_summary("\n".join(parts))


# --- fixtures for Python tests that want the engines directly -----------------------------------------


@pytest.fixture
def autopilot_session() -> Iterator[Callable[..., Session]]:
    """A factory: `autopilot_session(bot="assistant.json", flow=..., workflow=..., functions=[...])` → a
    started `Session` (closed after the test). Takes `SessionOptions` fields; `bot=` is the only bot."""
    from harness.runner.session import Session, SessionOptions

    started: list[Session] = []

    def make(*, bot: str | Path | None = None, **options: Any) -> Session:
        if bot is not None:
            options.setdefault("bots", {None: bot})
        options = _paths(options)
        session = Session(SessionOptions(**options)).__enter__()
        started.append(session)
        return session

    yield make
    for session in reversed(started):
        session.__exit__(None, None, None)


def _paths(options: dict[str, Any]) -> dict[str, Any]:
    """Strings to Paths where SessionOptions wants paths, so tests can pass plain strings."""
    single = ("flow", "workflow", "queues")
    for key in single:
        if options.get(key) is not None:
            options[key] = Path(options[key])
    for key in ("bots", "subflows"):
        if key in options:
            options[key] = {sid: Path(path) for sid, path in dict(options[key]).items()}
    if "functions" in options:
        functions = options["functions"]
        options["functions"] = [Path(functions)] if isinstance(functions, str | Path) else \
            [Path(f) for f in functions]
    return options


@pytest.fixture
def assistant() -> Callable[..., Any]:
    """A factory: `assistant("assistant.json", threshold=0.5)` → a `TrainedAssistant` (load + train);
    further keywords go to `AutopilotRuntime` (clock, url_map, auth_token, …)."""
    from harness.engines.autopilot.runtime import AutopilotRuntime
    from harness.models.assistant_loader import load_assistant

    def make(path: str | Path, *, sid: str | None = None, **runtime: Any) -> Any:
        return AutopilotRuntime(**runtime).train(load_assistant(Path(path), sid=sid))

    return make


@pytest.fixture
def studio() -> Callable[..., Any]:
    """A factory: `studio(bots={"*": trained}, clock=...)` → a `StudioEnvironment` with test defaults
    (a fixed clock, the harness auth token and account SID); `env.load(load_flow(path))` runs a flow."""
    from harness.clock import FixedClock
    from harness.engines.autopilot.runtime import DEFAULT_ACCOUNT_SID
    from harness.engines.studio.engine import StudioEnvironment
    from harness.runner.session import DEFAULT_AUTH_TOKEN

    def make(**kwargs: Any) -> Any:
        kwargs.setdefault("bots", {})
        kwargs.setdefault("clock", FixedClock())
        kwargs.setdefault("auth_token", DEFAULT_AUTH_TOKEN)
        kwargs.setdefault("account_sid", DEFAULT_ACCOUNT_SID)
        return StudioEnvironment(**kwargs)

    return make


@pytest.fixture
def twilio_fake(request: pytest.FixtureRequest) -> Any:
    """A fresh in-process Twilio REST API (`FakeTwilioApi`): canned routes, recorded calls, and requests
    checked against Twilio's OpenAPI specs (`openapi_specs`: where they are found, or a warning)."""
    from harness.engines.twilio.rest import FakeTwilioApi

    return FakeTwilioApi(specs=openapi_specs(request.config))


class NoOpenApiSpecs(UserWarning):
    """twilio_fake found no Twilio OpenAPI specs: requests are recorded but not checked."""


def openapi_specs(config: pytest.Config) -> Path | None:
    """The specs folder for `twilio_fake`: `$AUTOPILOT_HARNESS_OPENAPI`, else `[tool.autopilot-harness]
    openapi_dir` (relative to pyproject.toml), else `../shared/real/openapi` beside the rootdir. Without
    any, one warning per session says the fake checks nothing, rather than passing silently."""
    found = config.stash.get(_openapi_key, None)
    if found is None:
        import warnings

        from harness.errors import HarnessError
        from harness.runner.settings import openapi_dir

        try:
            folder, reason = openapi_dir(settings(config))
        except HarnessError as err:  # a folder the user named is missing: the tests using the fake error
            pytest.fail(err.render(), pytrace=False)
        if folder is None:
            warnings.warn(NoOpenApiSpecs(f"twilio_fake: {reason}; requests are recorded unchecked"),
                          stacklevel=2)
        found = config.stash[_openapi_key] = (folder, reason)
    return found[0]


# --- replay fixtures: the runner's replay functions, bound to a scenario file's configuration ----------


def _near(request: pytest.FixtureRequest, path: str | Path) -> Path:
    """A relative path from the test file's folder (as a scenario file's paths are), else as given."""
    candidate = Path(request.path).parent / path
    return candidate if not Path(path).is_absolute() and candidate.exists() else Path(path)


def _configured(request: pytest.FixtureRequest, scenario_file: str | Path) -> tuple[Any, Session | None]:
    """The loaded scenario file and, when it names a bot, its session from this run's pool (shared with
    the scenario items: its twilio-run and WSGI services are already started)."""
    from harness.runner.pool import options_for

    pool = _pool(request.config)
    loaded = pool.load(_near(request, scenario_file))
    session = pool.session(options_for(loaded, threshold=pool.threshold, router=pool.router)) if loaded.bots else None
    return loaded, session


@pytest.fixture
def replay_requests(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """`replay_requests(source, scenario_file=None, **options)` → `RequestReplayResult` (`.ok`, `.render()`).

    With `scenario_file=`, requests go to that file's endpoints: its session's URL map (Functions served
    by twilio-run, `servers`, `url_map`) and its auth token; otherwise the keywords of
    `harness.runner.replay.replay_requests` (url_map, functions, auth_token, match, …) say where."""
    from harness.runner import replay

    def run(source: Any, *, scenario_file: str | Path | None = None, **options: Any) -> Any:
        if isinstance(source, str | Path):
            source = _near(request, source)
        if scenario_file is not None:
            loaded, session = _configured(request, scenario_file)
            options.setdefault("url_map", dict(session.url_map) if session else dict(loaded.url_map))
            if session is None:
                options.setdefault("functions", list(loaded.functions))
            if loaded.auth_token:
                options.setdefault("auth_token", loaded.auth_token)
        return replay.replay_requests(source, **options)

    return run


@pytest.fixture
def replay_execution(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """`replay_execution(recording, flow=None, scenario_file=None, **options)` → `ExecutionReplayResult`.

    With `scenario_file=`, the flow, subflows, URL map and auth token default to that file's; the flow
    may also be given directly. Other keywords go to `harness.runner.replay.replay_execution`."""
    from harness.runner import replay

    def run(recording: Any, flow: Any = None, *, scenario_file: str | Path | None = None, **options: Any) -> Any:
        if isinstance(recording, str | Path):
            recording = _near(request, recording)
        if isinstance(flow, str | Path):
            flow = _near(request, flow)
        if scenario_file is not None:
            loaded, session = _configured(request, scenario_file)
            flow = flow if flow is not None else loaded.flow
            options.setdefault("subflows", dict(loaded.subflows))
            options.setdefault("url_map", dict(session.url_map) if session else dict(loaded.url_map))
            if loaded.auth_token:
                options.setdefault("auth_token", loaded.auth_token)
        if flow is None:
            from harness.errors import UsageError

            raise UsageError("replay_execution: give the flow, or a scenario_file that names one")
        return replay.replay_execution(recording, flow, **options)

    return run
