"""`[tool.autopilot-harness]` of a project's pyproject.toml: one reader for both faces.

`autopilot-harness run` and the pytest plugin read the same table through `read_settings`, so a scenario
passes or fails the same way in both. Every value is type-checked here; a bad one is a `UsageError`
naming pyproject.toml and the key (never a traceback later, in the middle of a run).

    [tool.autopilot-harness]
    scenario_glob = "*.scenario.yaml"   # which YAML files are scenario files (fnmatch on the file name)
    threshold = 0.4                     # routing confidence threshold for files that set none
    router = "model"                    # the router: "model" (default) or "lexical" (docs/routing.md)
    min_score = 0.15                    # the router's score floor (the model: the out-of-scope score)
    openapi_dir = "specs/twilio-oai"    # Twilio OpenAPI specs for the twilio_fake fixture (relative to here)
    allow_paths = ["../shared"]         # more folders scenario data files may be read from (scenario_confine)
    strict_custom_fields = false        # custom field types fill listed values only (docs/field-types.md)
    strict_task_redirects = false       # a webhook naming an unknown task:// is refused whole

Standard library only: the pytest plugin calls this while collecting, and must start fast.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import Location, UsageError

TABLE = "autopilot-harness"
# The Autopilot engine's open choices (harness/engines/autopilot/options.py; docs/autopilot-engine.md).
ENGINE_SWITCHES = ("strict_custom_fields", "strict_task_redirects")
DEFAULT_GLOB = "*.scenario.yaml"
OPENAPI_ENV = "AUTOPILOT_HARNESS_OPENAPI"
# Where this repository keeps Twilio's real specs (../shared/real/openapi beside the checkout): used when
# present and nothing else is configured.
SHARED_OPENAPI = Path("..") / "shared" / "real" / "openapi"

# The routers by name: harness.engines.autopilot.routers keeps the same two (a test checks), so this
# module — read while pytest collects — need not import the engines.
ROUTER_NAMES = ("model", "lexical")
DEFAULT_ROUTER = "model"

__all__ = ["DEFAULT_GLOB", "OPENAPI_ENV", "Settings", "find_pyproject", "openapi_dir", "read_settings"]


@dataclass(frozen=True)
class Settings:
    """The checked settings; `root` is the folder of the pyproject.toml they came from (or the start)."""

    root: Path
    source: Path | None = None  # the pyproject.toml read, None without one
    scenario_glob: str = DEFAULT_GLOB
    threshold: float | None = None
    router: str = DEFAULT_ROUTER
    min_score: float | None = None  # None: the router's own default
    openapi_dir: Path | None = None  # as configured, resolved against `root`
    raw: Mapping[str, Any] | None = None  # the whole table (sub-tables such as `lint` included)


def find_pyproject(paths: Iterable[str | Path] = ()) -> Path | None:
    """The pyproject.toml nearest above the common folder of `paths` (the working directory without any),
    as pytest picks its rootdir."""
    resolved = [Path(p).resolve() for p in paths] or [Path.cwd().resolve()]
    folders = [p if p.is_dir() else p.parent for p in resolved]
    common = Path(os.path.commonpath([str(f) for f in folders]))
    for folder in (common, *common.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def read_settings(pyproject: Path | None, *, root: Path | None = None) -> Settings:
    """Read and check `[tool.autopilot-harness]`; defaults when the file or the table is absent."""
    if pyproject is None:
        return Settings(root=(root or Path.cwd()).resolve())
    import tomllib

    where = Location(str(pyproject), f"/tool/{TABLE}")
    try:
        with pyproject.open("rb") as handle:
            document = tomllib.load(handle)
    except OSError as err:
        raise UsageError(f"cannot read [tool.{TABLE}]: {err.strerror}", where) from None
    except tomllib.TOMLDecodeError as err:
        raise UsageError(f"not valid TOML: {err}", Location(str(pyproject))) from None
    table = document.get("tool", {}).get(TABLE, {})
    base = pyproject.parent.resolve()
    if not isinstance(table, dict):
        raise _bad(pyproject, None, "a table", table)
    glob = table.get("scenario_glob", DEFAULT_GLOB)
    if not isinstance(glob, str) or not glob.strip():
        raise _bad(pyproject, "scenario_glob", 'a file name pattern such as "*.scenario.yaml"', glob)
    threshold = table.get("threshold")
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, int | float)
                                  or not 0 <= threshold <= 1):
        raise _bad(pyproject, "threshold", "a number from 0 to 1", threshold)
    router = table.get("router", DEFAULT_ROUTER)
    if router not in ROUTER_NAMES:
        raise _bad(pyproject, "router", " or ".join(f'"{name}"' for name in ROUTER_NAMES), router)
    min_score = table.get("min_score")
    if min_score is not None and (isinstance(min_score, bool) or not isinstance(min_score, int | float)
                                  or not 0 <= min_score <= 1):
        raise _bad(pyproject, "min_score", "a number from 0 to 1", min_score)
    for switch in ENGINE_SWITCHES:  # read by harness.engines.autopilot.options; checked here, with the line
        if switch in table and not isinstance(table[switch], bool):
            raise _bad(pyproject, switch, "true or false", table[switch])
    openapi = table.get("openapi_dir")
    if openapi is not None and (not isinstance(openapi, str) or not openapi.strip()):
        raise _bad(pyproject, "openapi_dir", "a folder path (a string)", openapi)
    allow = table.get("allow_paths")
    if allow is not None and (not isinstance(allow, list)
                              or not all(isinstance(p, str) and p.strip() for p in allow)):
        raise _bad(pyproject, "allow_paths", 'a list of folder paths such as ["../shared"]', allow)
    return Settings(root=base, source=pyproject, scenario_glob=glob,
                    threshold=float(threshold) if threshold is not None else None, router=router,
                    min_score=float(min_score) if min_score is not None else None,
                    openapi_dir=(base / openapi) if openapi else None, raw=dict(table))


def _bad(pyproject: Path, key: str | None, expected: str, value: Any) -> UsageError:
    name = f"[tool.{TABLE}] {key}" if key else f"[tool.{TABLE}]"
    return UsageError(f"{name}: expected {expected}, found {value!r} ({type(value).__name__})",
                      Location(str(pyproject), "", _line_of(pyproject, key)))


def _line_of(pyproject: Path, key: str | None) -> int | None:
    """The line of `key = …` inside our table (best effort: TOML's parser gives no positions)."""
    try:
        lines = pyproject.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    inside = False
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            inside = stripped.replace(" ", "") in (f"[tool.{TABLE}]", f'[tool."{TABLE}"]')
            if inside and key is None:
                return number
        elif inside and key and re.match(rf"{re.escape(key)}\s*=", stripped):
            return number
    return None


def openapi_dir(settings: Settings, environ: Mapping[str, str] | None = None) -> tuple[Path | None, str]:
    """The Twilio OpenAPI specs folder to check requests against, and where that choice came from.

    Order: the environment variable, then `openapi_dir` in pyproject.toml (both must exist: a folder the
    user named that is missing is an error), then `../shared/real/openapi` beside the root when present.
    (None, reason) when nothing is found — the caller says so rather than silently not checking.
    """
    environ = os.environ if environ is None else environ
    named = environ.get(OPENAPI_ENV, "").strip()
    if named:
        folder = Path(named)
        if not folder.is_dir():
            raise UsageError(f"{OPENAPI_ENV}={named}: no such folder (expected Twilio's OpenAPI JSON specs)")
        return folder, f"${OPENAPI_ENV}"
    if settings.openapi_dir is not None:
        if not settings.openapi_dir.is_dir():
            raise UsageError(f"[tool.{TABLE}] openapi_dir: no such folder: {settings.openapi_dir}",
                             Location(str(settings.source), "", _line_of(settings.source, "openapi_dir")
                                      if settings.source else None))
        return settings.openapi_dir, f"{settings.source} openapi_dir"
    shared = (settings.root / SHARED_OPENAPI).resolve()
    if shared.is_dir():
        return shared, "../shared/real/openapi"
    return None, (f"no Twilio OpenAPI specs found: set {OPENAPI_ENV} or [tool.{TABLE}] openapi_dir "
                  "(twilio-oai's spec/json folder)")
