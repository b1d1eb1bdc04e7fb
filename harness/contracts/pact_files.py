"""Pact files on disk: locked merge-writes, a once-per-run reset, deterministic text, no secrets.

- **Locked writes.** pact-python's merge write is not safe across processes (pytest-xdist loses
  interactions, pact.md §6.3), so every write holds `<pact dir>/.pact-write.lock` (filelock).
- **Merge by description (HTTP pacts from scenario runs, `merge_pact`).** Each write replaces the
  interactions with the descriptions it carries and keeps every other one. A filtered run (`-k`, `-m`,
  `--lf`, one scenario) therefore updates only what it ran and never cuts a committed pact down.
  Interactions are dropped only by name (`drop_interactions`: a scenario that ran and made no HTTP
  hand-off). Interactions of renamed or deleted scenarios are never dropped automatically — a filtered
  run cannot tell them from scenarios it skipped; the test comparing the committed pact with a fresh
  run's catches them, and deleting the file and running the whole suite rewrites it.
- **Reset once per run (message pacts from a schema, `write_pact`).** The file is emptied the first time
  a run writes it (§6.4), since one `Pact` holds all of the schema's interactions. The run is identified
  by `run_id`: pytest-xdist's `PYTEST_XDIST_TESTRUNUID` (shared by all workers), else
  `AUTOPILOT_HARNESS_RUN_ID`, else one id per process. `.pact-run.json` records which files this run
  already reset. Only files a run writes are touched.
- **Deterministic text.** After each write the file is rewritten with sorted keys, interactions sorted
  by (description, provider states), two-space indent and a final newline. The FFI writes no
  timestamps; nothing else in the file changes from run to run.
- **No secrets.** Headers that carry credentials are refused at write time (`assert_no_secrets`).
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock

from harness.errors import LoadError, Location, UsageError
from harness.sources import is_malformed, load_source

LOCK_NAME = ".pact-write.lock"
RUN_MARKER = ".pact-run.json"
SENSITIVE_HEADERS = frozenset({
    "authorization", "proxy-authorization", "cookie", "set-cookie", "x-twilio-signature",
    "x-api-key", "api-key", "x-auth-token", "i-twilio-idempotency-token",
})
SENSITIVE_WORDS = ("token", "secret", "password", "apikey", "api-key", "api_key", "signature", "auth")

_PROCESS_RUN_ID = uuid.uuid4().hex


def current_run_id(explicit: str | None = None) -> str:
    return (explicit or os.environ.get("PYTEST_XDIST_TESTRUNUID")
            or os.environ.get("AUTOPILOT_HARNESS_RUN_ID") or _PROCESS_RUN_ID)


def is_sensitive_name(name: str) -> bool:
    low = name.lower()
    return low in SENSITIVE_HEADERS or any(word in low for word in SENSITIVE_WORDS)


# Pact files are named `<consumer>-<provider>.json` (by us and by the pact FFI's write_file), so a name
# is part of a path: it must stay one plain file name inside the pact folder.
MAX_PACT_NAME_BYTES = 100  # each name; the file name stays well under the 255 bytes file systems allow
_FORBIDDEN_IN_NAMES = frozenset('/\\:*?"<>|')  # path separators, and what Windows refuses in file names


def pact_name_problem(name: object) -> str | None:
    """Why `name` cannot name a pact's consumer or provider (it would steer the file elsewhere or not be
    a portable file name), or None when it can."""
    if not isinstance(name, str) or not name.strip():
        return "expected a non-empty string"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        return "contains a control character (NUL, newline, …)"
    bad = sorted({ch for ch in name if ch in _FORBIDDEN_IN_NAMES})
    if bad:
        return (f"contains {' '.join(repr(ch) for ch in bad)}: the name becomes part of the pact file's "
                "name, so path separators and characters file systems refuse are not allowed")
    if name.startswith("."):
        return "is '..' or starts with '.': a relative or hidden file name"
    if name != name.strip():
        return "starts or ends with a blank"
    if len(name.encode("utf-8")) > MAX_PACT_NAME_BYTES:
        return f"is {len(name.encode('utf-8'))} bytes long; at most {MAX_PACT_NAME_BYTES} are allowed"
    return None


def check_pact_names(consumer: object, provider: object, *, locate: Callable[[str], Location] | None = None,
                     source: str | None = None) -> None:
    """Refuse consumer/provider names that cannot be part of `<consumer>-<provider>.json` in the pact folder.

    `locate("consumer")` / `locate("provider")` say where each name is written (a file and pointer);
    `source` says where they came from when there is no file (e.g. "HandoffPactWriter(...)")."""
    problems = []
    for role, name in (("consumer", consumer), ("provider", provider)):
        why = pact_name_problem(name)
        if why is None:
            continue
        shown = repr(name) if not isinstance(name, str) or len(name) <= 80 else repr(name[:77] + "...")
        origin = f" (from {source})" if source else ""
        problems.append(UsageError(f"pact {role} name {shown}{origin} {why}",
                                   locate(role) if locate is not None else None,
                                   hint="use a plain name such as hospitality-http"))
    if len(problems) == 1:
        raise problems[0]
    if problems:
        from harness.errors import HarnessErrors

        raise HarnessErrors(problems)


def pact_file_name(consumer: str, provider: str) -> str:
    check_pact_names(consumer, provider)  # the one place a name becomes part of a path
    return f"{consumer}-{provider}.json"


@contextmanager
def locked(pact_dir: Path, timeout: float = 60.0) -> Iterator[None]:
    pact_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(pact_dir / LOCK_NAME), timeout=timeout):
        yield


def reset_once(pact_dir: Path, file_name: str, run_id: str) -> None:
    """Delete `file_name` if this run has not written it yet. Call with the lock held."""
    marker = pact_dir / RUN_MARKER
    try:
        state = load_source(marker, kind="json").data
    except LoadError:  # absent or damaged: start afresh
        state = {}
    if not isinstance(state, dict) or not isinstance(state.get("reset"), list):
        state = {}
    if state.get("run") != run_id:
        state = {"run": run_id, "reset": []}
    if file_name in state["reset"]:
        return
    (pact_dir / file_name).unlink(missing_ok=True)
    state["reset"] = sorted({*state["reset"], file_name})
    marker.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")


def write_pact(pact: Any, pact_dir: Path, file_name: str, *, run_id: str | None = None) -> Path:
    """Merge one `Pact` object into `pact_dir/file_name` under the lock, then normalise the file."""
    path = pact_dir / file_name
    with locked(pact_dir):
        reset_once(pact_dir, file_name, current_run_id(run_id))
        pact.write_file(pact_dir, overwrite=False)
        normalise(path)
    return path


def merge_pact(pact: Any, pact_dir: Path, file_name: str) -> Path:
    """Merge one `Pact` object into `pact_dir/file_name` by description, under the lock.

    The pact is written to a scratch folder first, so the merge is ours (replace by description, keep the
    rest) rather than the FFI's; the file's metadata is the fresh write's.
    """
    path = pact_dir / file_name
    with locked(pact_dir):
        with tempfile.TemporaryDirectory(prefix="pact-merge-") as scratch:
            pact.write_file(scratch, overwrite=True)
            document = read_pact(Path(scratch) / file_name)
        fresh = [i for i in document.get("interactions") or [] if isinstance(i, dict)]
        replaced = {str(i.get("description")) for i in fresh}
        if path.is_file():
            kept = [i for i in read_pact(path).get("interactions") or []
                    if not (isinstance(i, dict) and str(i.get("description")) in replaced)]
            document["interactions"] = kept + fresh
        _write_canonical(document, path)
    return path


def built_interactions(pact: Any, file_name: str) -> list[dict[str, Any]]:
    """The interactions of a `Pact` object as it would write them (written to a scratch folder)."""
    with tempfile.TemporaryDirectory(prefix="pact-built-") as scratch:
        pact.write_file(scratch, overwrite=True)
        document = read_pact(Path(scratch) / file_name)
    return [i for i in document.get("interactions") or [] if isinstance(i, dict)]


def drop_interactions(pact_dir: Path, file_name: str, descriptions: Iterable[str]) -> bool:
    """Remove the interactions with these descriptions from a pact file, if present; True if it changed."""
    path = pact_dir / file_name
    unwanted = set(descriptions)
    if not path.is_file() or not unwanted:
        return False
    with locked(pact_dir):
        document = read_pact(path)
        interactions = document.get("interactions") or []
        kept = [i for i in interactions if not (isinstance(i, dict) and str(i.get("description")) in unwanted)]
        if len(kept) == len(interactions):
            return False
        document["interactions"] = kept
        _write_canonical(document, path)
    return True


def normalise(path: Path) -> None:
    """Rewrite a pact file in the kit's canonical form and refuse it if it holds credentials."""
    _write_canonical(read_pact(path), path)


def _write_canonical(document: dict[str, Any], path: Path) -> None:
    interactions = document.get("interactions")
    if isinstance(interactions, list):
        interactions.sort(key=_interaction_key)
    assert_no_secrets(document, path)
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")


def _interaction_key(interaction: Any) -> tuple[str, str, str]:
    if not isinstance(interaction, Mapping):
        return ("", "", "")
    states = json.dumps(interaction.get("providerStates") or [], sort_keys=True)
    return (str(interaction.get("description", "")), states, str(interaction.get("type", "")))


def assert_no_secrets(document: Mapping[str, Any], path: Path) -> None:
    for index, interaction in enumerate(document.get("interactions") or []):
        for part in ("request", "response"):
            headers = (interaction.get(part) or {}).get("headers") or {}
            for name in headers:
                if is_sensitive_name(str(name)):
                    raise UsageError(
                        f"refusing to keep header '{name}' in a pact file: it carries credentials",
                        Location(str(path), f"/interactions/{index}/{part}/headers/{name}"))


def read_pact(path: Path) -> dict[str, Any]:
    """A pact file as a dict; LoadError (not a traceback) when it is unreadable or not a pact."""
    try:  # the strict loader: UTF-8 only, no duplicate keys, nesting capped (harness.sources)
        document = load_source(path, kind="json").data
    except LoadError as err:
        at = err.location
        if is_malformed(err) and at is not None and at.line is not None:
            err.message = (f"pact file is not valid JSON: {err.message.removeprefix('malformed JSON: ')} "
                           f"at line {at.line} column {at.column}")
        elif not err.message.startswith(("file not found", "is a directory")):
            err.message = f"pact file: {err.message}"
        else:
            err.message = f"cannot read pact file: {err.message}"
        err.args = (err.message,)
        raise
    if not isinstance(document, dict):
        raise LoadError("a pact file must hold a JSON object", Location(str(path)))
    for key in ("consumer", "provider"):
        if not isinstance(document.get(key), dict) or not isinstance(document[key].get("name"), str):
            raise LoadError(f"not a pact file: '{key}.name' is missing", Location(str(path), f"/{key}"),
                            hint='pact files look like {"consumer": {"name": …}, "provider": {"name": …}, '
                                 '"interactions": […]}')
    return document


def pact_interactions(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """V4 `interactions` or V3 message pacts' `messages` (typed as asynchronous messages)."""
    found = [i for i in document.get("interactions") or [] if isinstance(i, dict)]
    for message in document.get("messages") or []:
        if isinstance(message, dict):
            found.append({**message, "type": "Asynchronous/Messages"})
    return found


def interaction_kind(interaction: Mapping[str, Any]) -> str:
    """'http' or 'message' (V4 `type`; V3 files have no type and are HTTP unless under `messages`)."""
    kind = str(interaction.get("type", "Synchronous/HTTP"))
    return "http" if kind == "Synchronous/HTTP" else "message"
