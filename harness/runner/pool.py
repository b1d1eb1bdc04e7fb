"""The session pool: one started `Session` per distinct configuration, shared by every case of a run.

Starting twilio-run costs 1-2 s, so scenario files that name the same bot and flow share one session.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from harness.engines.twilio.functions import ToolMissing
from harness.errors import (
    HarnessError,
    Location,
    UsageError,
)
from harness.expectations import (
    Mismatch,
)
from harness.models.scenario_loader import load_scenario_file
from harness.models.scenario_model import Scenario, ScenarioFile
from harness.runner.paths import display_path, import_root
from harness.runner.session import DEFAULT_AUTH_TOKEN, Session, SessionOptions
from harness.runner.settings import find_pyproject, read_settings


def options_for(scenario_file: ScenarioFile, scenario: Scenario | None = None, *,
                threshold: float | None = None, router: str | None = None) -> SessionOptions:
    """The session a scenario file needs (its paths are already resolved by the loader).

    `threshold` is the default from `[tool.autopilot-harness]`, used when the file sets none; `router` is
    `run --router` (None: the pyproject's choice, see `routing_settings`). `scenario`
    is accepted for symmetry: today every scenario of a file shares the file's configuration.
    """
    del scenario  # per-scenario settings (channel, user, memory) belong to the conversation, not the session
    workflows = dict(scenario_file.workflows)
    if len(workflows) > 1:
        raise UsageError(f"{scenario_file.path}: several workflows are not supported yet; name one",
                         Location(str(scenario_file.path), "/workflow"))
    return SessionOptions(
        bots=dict(scenario_file.bots),
        flow=scenario_file.flow,
        subflows=dict(scenario_file.subflows),
        workflow=next(iter(workflows.values()), None),
        workflow_sid=next((sid for sid in workflows if sid is not None), None),
        queues=scenario_file.queues,
        functions=list(scenario_file.functions),
        servers=[_server_spec(scenario_file, index, server) for index, server in enumerate(scenario_file.servers)],
        url_map=dict(scenario_file.url_map),
        auth_token=scenario_file.auth_token or DEFAULT_AUTH_TOKEN,
        clock=scenario_file.clock,
        threshold=scenario_file.threshold if scenario_file.threshold is not None else threshold,
        router=router,
        engine=engine_options(scenario_file.path),
    )


def engine_options(path: str | Path) -> Any:
    """The Autopilot engine's settings for a scenario file: `[tool.autopilot-harness]` of the pyproject.toml
    above it, then AUTOPILOT_HARNESS_* variables (harness/engines/autopilot/options.py)."""
    return _engine_options(find_pyproject([path]))


@functools.lru_cache(maxsize=32)
def _engine_options(pyproject: Path | None) -> Any:
    from harness.engines.autopilot.options import EngineOptions

    settings = read_settings(pyproject)
    return EngineOptions.resolve(settings.raw, where=str(settings.source or "pyproject.toml"))


def _server_spec(scenario_file: ScenarioFile, index: int, server: Any) -> dict[str, str]:
    spec = server.as_dict()
    spec["project"] = str(import_root(scenario_file.path))
    first = next(iter(scenario_file.scenarios), None)
    source = first.origin.source if first is not None else None
    where = source.locate(f"/servers/{index}/wsgi") if source is not None and source.text else None
    line = f":{where.line}" if where is not None and where.line else ""
    spec["origin"] = f"{display_path(scenario_file.path)}{line}"  # named when the import fails
    return spec


def _options_key(options: SessionOptions) -> tuple[Any, ...]:
    """A hashable identity of a configuration: equal options share one started session."""
    def path(value: Path | None) -> str | None:
        return str(Path(value).resolve()) if value is not None else None

    return (
        tuple(sorted((str(sid), path(p)) for sid, p in options.bots.items())),
        path(options.flow),
        tuple(sorted((sid, path(p)) for sid, p in options.subflows.items())),
        path(options.workflow),
        options.workflow_sid,
        path(options.queues),
        tuple(path(p) for p in options.functions),
        # Not `origin`: two files naming the same service in the same project share one started server.
        tuple(tuple(sorted((k, v) for k, v in server.items() if k != "origin")) for server in options.servers),
        tuple(sorted(options.url_map.items())),
        options.auth_token,
        options.clock,
        options.threshold,
        options.router,
        options.min_score,
        options.engine,
    )


# A check a face adds to every case (the contract face: pacts and Twilio rules on each hand-off). It runs
# after the conversation, sees the file, the concrete scenario and the transcript, and returns mismatches;
# the runner cannot import the faces, so they hand their checks in (SessionPool / run_suite).
# A check with a true `wants_outcome` attribute is also passed `failed=` (the case has mismatches already).
CaseCheck = Callable[..., list[Mismatch]]


class SessionPool:
    """Started sessions, one per configuration, shared by every case of a run; closes them all at the end.

    A configuration that fails to start (a broken assistant, twilio-run missing) fails once: later cases
    needing it get the same error without trying again. `case_checks` run after each case's conversation.
    """

    def __init__(self, *, threshold: float | None = None, case_checks: Sequence[CaseCheck] = (),
                 router: str | None = None) -> None:
        self.threshold = threshold
        self.router = router
        self.case_checks = tuple(case_checks)
        self._sessions: dict[tuple[Any, ...], Session] = {}
        self._broken: dict[tuple[Any, ...], HarnessError] = {}
        self._files: dict[str, ScenarioFile] = {}
        self._missing_tools: set[str] = set()  # tools already reported missing with their install hint

    def __enter__(self) -> SessionPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def session(self, options: SessionOptions) -> Session:
        key = _options_key(options)
        if key in self._sessions:
            return self._sessions[key]
        if key in self._broken:
            broken = self._broken[key]
            if isinstance(broken, ToolMissing) and broken.hint:  # said in full once: name it briefly now
                broken = self._broken[key] = ToolMissing(
                    f"{broken.tool} is not installed (how to install it: see the first scenario that needed it)",
                    tool=broken.tool)
            raise broken
        session = Session(options)
        try:
            session.__enter__()
        except ToolMissing as err:
            # Said in full once per run (per worker with xdist); the other configurations that need the same
            # tool still fail, with a short message instead of the same paragraph again.
            if err.tool in self._missing_tools:
                err = ToolMissing(f"{err.tool} is not installed (how to install it: see the first scenario "
                                  "that needed it)", tool=err.tool)
            self._missing_tools.add(err.tool)
            self._broken[key] = err
            raise err from None
        except HarnessError as err:
            self._broken[key] = err
            raise
        self._sessions[key] = session
        return session

    def load(self, path: str | Path) -> ScenarioFile:
        """A scenario file, loaded once per pool (run_case is given scenarios, not files)."""
        key = str(path)
        if key not in self._files:
            self._files[key] = load_scenario_file(path)
        return self._files[key]

    def remember(self, scenario_file: ScenarioFile) -> None:
        self._files[str(scenario_file.path)] = scenario_file

    @property
    def started(self) -> int:
        return len(self._sessions)

    def close(self) -> None:
        sessions, self._sessions = list(self._sessions.values()), {}
        for session in reversed(sessions):
            session.__exit__(None, None, None)
