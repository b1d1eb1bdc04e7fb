"""Golden transcripts: where they live, what they store, how a run compares with them, and orphans.

Golden files are byte-identical from run to run: timing and local ports are left out, paths are relative.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from harness.errors import (
    HarnessError,
    Location,
)
from harness.expectations import (
    MISSING,
    Mismatch,
    show,
)
from harness.models.scenario_model import Scenario, ScenarioFile
from harness.runner.paths import SCENARIO_SUFFIX, display_path
from harness.runner.results import CaseResult
from harness.sources import load_source
from harness.transcript import Transcript

# 2: a turn stores `memory` only when it changed since the turn before (the first turn always does), and
# `final_memory` only when it differs from the last turn's. Version 1 (memory on every turn) still compares.
GOLDEN_VERSION = 2
READABLE_GOLDEN_VERSIONS = frozenset({1, 2})

_UNSAFE_NAME = re.compile(r"[^\w.\-\[\]]+")
VOLATILE_KEYS = frozenset({"elapsed_ms", "called", "duration", "duration_ms"})  # timing and local ports
# A local server's URL, with its user info if any (`http://user:***@127.0.0.1:PORT`): the port changes per run.
_LOOPBACK = re.compile(r"http://([^/@\s]*@)?(?:127\.0\.0\.1|localhost):\d+")


# A golden file name's longest stem, in UTF-8 bytes: file systems allow 255 per name; room is kept for
# `.json` and for tools that add suffixes.
MAX_GOLDEN_NAME_BYTES = 120
# Ids named as they always were (runs of spaces and of this punctuation become one `_`): everyday
# scenario names. Anything else (`/`, `\\`, `:`, `?`, `*`, quotes, control characters…) gets a hash too.
_PLAIN_ID = re.compile(r"[\w.\-\[\] ,;'!()&+=@#%~]+")


def golden_path(scenario: Scenario, scenario_file: str | Path | None = None) -> Path:
    """`<file>.golden/<name>.json` beside the scenario file (`hotel.scenario.yaml` → `hotel.golden/`)."""
    folder = golden_folder(scenario_file or scenario.origin.path or "")
    return folder / golden_name(scenario.id)


def golden_name(scenario_id: str) -> str:
    """The golden file name of a scenario id: for an everyday id the name it always had (spaces and commas
    as `_`: `room service, then an agent` → `room_service_then_an_agent.json`); for an id with other
    characters, or longer than MAX_GOLDEN_NAME_BYTES, the cleaned, shortened id plus a hash of the real id,
    so ids that differ only there (`a/b`, `a?b`) get two files and a long id still makes a valid file name.
    Everyday ids that still meet (`a, b` and `a b`) are reported by `golden_collision`."""
    cleaned = _UNSAFE_NAME.sub("_", scenario_id)
    if _PLAIN_ID.fullmatch(scenario_id) and cleaned not in (".", "..") \
            and len(cleaned.encode("utf-8")) <= MAX_GOLDEN_NAME_BYTES:
        return cleaned + ".json"
    digest = hashlib.sha256(scenario_id.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    stem = cleaned.encode("utf-8")[: MAX_GOLDEN_NAME_BYTES - 13].decode("utf-8", "ignore")
    return f"{stem}-{digest}.json"


def golden_collision(scenario: Scenario, scenario_file: ScenarioFile) -> str | None:
    """The id of another scenario of the file whose golden file is the same as this one's: same name, or
    names equal but for case (one file on case-insensitive file systems: macOS, Windows)."""
    cached = _NAMES_BY_FILE.get(id(scenario_file))
    if cached is None or cached[0] is not scenario_file:
        names: dict[str, list[str]] = {}
        for other in scenario_file.scenarios:
            for concrete in other.expanded():
                names.setdefault(golden_name(concrete.id).casefold(), []).append(concrete.id)
        if len(_NAMES_BY_FILE) > 16:
            _NAMES_BY_FILE.clear()
        cached = _NAMES_BY_FILE[id(scenario_file)] = (scenario_file, names)
    sharing = [i for i in cached[1].get(golden_name(scenario.id).casefold(), ()) if i != scenario.id]
    return sharing[0] if sharing else None


# The golden names of a file's scenarios, computed once per loaded file (keyed by identity).
_NAMES_BY_FILE: dict[int, tuple[ScenarioFile, dict[str, list[str]]]] = {}


def golden_folder(scenario_file: str | Path) -> Path:
    """`hotel.golden/` beside `hotel.scenario.yaml`: where a file's golden transcripts live."""
    source = Path(scenario_file)
    stem = source.name[: -len(SCENARIO_SUFFIX)] if source.name.endswith(SCENARIO_SUFFIX) else source.stem
    return source.with_name(f"{stem}.golden")


def golden_orphans(scenario_file: ScenarioFile, shown: str | Path | None = None) -> list[Path]:
    """Golden files in the file's `.golden/` folder that belong to none of its scenarios (renamed or
    deleted ones): stale regression gates nobody checks any more."""
    where = shown or scenario_file.path
    folder = golden_folder(where)
    if not folder.is_dir():
        return []
    expected = {golden_path(concrete, where).name
                for scenario in scenario_file.scenarios for concrete in scenario.expanded()}
    return sorted(path for path in folder.glob("*.json") if path.name not in expected)


def golden_document(scenario: Scenario, transcript: Transcript, scenario_file: str | Path) -> dict[str, Any]:
    """The golden file's content: the whole transcript without timing or local ports (stable run to run),
    the memory snapshot only on the turns where it changed (`compact_memory`)."""
    data = compact_memory(_stable(transcript.to_dict()))
    flow = data.get("flow")
    if isinstance(flow, dict) and isinstance(flow.get("flow"), str):
        # The loader resolves paths; store the flow relative to the scenario file, so any checkout matches.
        flow["flow"] = _relative_to(flow["flow"], Path(scenario_file).parent)
    return {"version": GOLDEN_VERSION, "scenario": scenario.id, "transcript": data}


def compact_memory(data: dict[str, Any]) -> dict[str, Any]:
    """Drop each turn's `memory` equal to the turn before's, and `final_memory` equal to the last turn's:
    a reviewer sees one snapshot per change, not the same one per turn. `turn_memories` restores them."""
    turns = data.get("turns")
    if not isinstance(turns, list):
        return data
    previous: Any = MISSING
    for turn in turns:
        if not isinstance(turn, dict) or "memory" not in turn:
            continue
        memory = turn["memory"]
        if previous is not MISSING and memory == previous:
            del turn["memory"]
        previous = memory
    if previous is not MISSING and data.get("final_memory", MISSING) == previous:
        del data["final_memory"]
    return data


def turn_memories(transcript: Mapping[str, Any]) -> tuple[list[Any], Any]:
    """Each turn's memory and the final memory, whichever shape stored them: every turn (version 1, a live
    transcript) or only the turns where it changed (version 2, a turn without `memory` kept the last one)."""
    memories: list[Any] = []
    current: Any = {}
    for turn in transcript.get("turns") or ():
        if isinstance(turn, Mapping) and "memory" in turn:
            current = turn.get("memory") or {}
        memories.append(current)
    final = transcript.get("final_memory", MISSING)
    return memories, (current if final is MISSING else final or {})


def _relative_to(path: str, base: Path) -> str:
    try:
        return Path(os.path.relpath(Path(path).resolve(), base.resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return Path(path).name


def _stable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _stable(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list | tuple):
        return [_stable(v) for v in value]
    if isinstance(value, str):
        return _LOOPBACK.sub(lambda m: f"http://{m.group(1) or ''}127.0.0.1:PORT", value)
    return value


def dump_golden(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"


def check_golden(scenario: Scenario, result: CaseResult, *, update: bool, require: bool = False,
                 file: ScenarioFile | None = None) -> None:
    """Write the case's golden file (`update`), or compare the transcript with it: changes become the
    case's mismatches; a missing file is noted, and a mismatch under `require` (--require-golden).
    With the scenario's `file`, a scenario whose golden file another scenario of the file shares is an
    error naming both (one would silently overwrite or pass against the other's transcript)."""
    assert result.transcript is not None
    if file is not None:
        other = golden_collision(scenario, file)
        if other is not None:
            raise HarnessError(
                f"scenarios '{scenario.id}' and '{other}' would share one golden file "
                f"({golden_name(scenario.id)}" + (")" if golden_name(other) == golden_name(scenario.id) else
                                                  ", on file systems that ignore letter case: macOS, Windows)"),
                scenario.location() if scenario.origin.path else None,
                "rename one of them: golden files are named after the scenario id")
    scenario_file = scenario.origin.path or result.file
    path = golden_path(scenario, scenario_file)
    document = golden_document(scenario, result.transcript, scenario_file)
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = dump_golden(document)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        result.golden = "written"
        return
    if not path.is_file():
        # Said in the summary and the JSON: a deleted golden must not pass silently as "no change".
        result.golden = "missing"
        if require:
            result.mismatches.append(Mismatch(
                "golden transcript missing", display_path(path), MISSING,
                "--require-golden: record it with `autopilot-harness run FILE --update-golden` and commit it",
                "golden", "golden", "golden"))
        return
    try:
        recorded = load_source(path, kind="json").data
    except HarnessError as err:
        raise HarnessError(f"cannot read the golden transcript: {err.message}", Location(display_path(path)),
                           "re-create it with --update-golden") from None
    if not isinstance(recorded, dict):
        raise HarnessError("cannot read the golden transcript: expected a JSON object",
                           Location(display_path(path)), "re-create it with --update-golden")
    version = recorded.get("version")
    if type(version) is not int or version not in READABLE_GOLDEN_VERSIONS \
            or not isinstance(recorded.get("transcript"), dict):
        # Never compare a shape we cannot read: a missing memory would read as "unchanged" and pass.
        raise HarnessError(
            f"cannot read the golden transcript: format version {show(version)}, this kit reads versions "
            f"{', '.join(map(str, sorted(READABLE_GOLDEN_VERSIONS)))} with a `transcript` object",
            Location(display_path(path), "/version" if "transcript" in recorded else ""),
            "re-record it with `autopilot-harness run FILE --update-golden` and review the diff")
    changes = golden_diff(recorded.get("transcript") or {}, document["transcript"], display_path(path))
    result.golden = "changed" if changes else "matched"
    result.mismatches += changes


CONFIDENCE_TOLERANCE = 0.01  # router scores move in the last digits with harmless sample edits
REPLY_SHOW_LIMIT = 2000  # a changed reply is shown in full up to this many characters


def golden_view(transcript: Mapping[str, Any]) -> dict[str, Any]:
    """What a golden run guards: each turn's task, replies, confidence, fields, memory and `ended`, the
    dialogue's end and final memory, the flow path and variables, and the handoff payload."""
    flow = transcript.get("flow") or {}
    memories, final_memory = turn_memories(transcript)  # reconstructed: stored once per change
    return {
        "turns": [{"task": t.get("task"), "replies": list(t.get("replies") or ()),
                   "confidence": t.get("confidence"), "fields": t.get("fields") or {},
                   "memory": memory, "ended": t.get("ended")}
                  for t, memory in zip(transcript.get("turns") or (), memories, strict=True)],
        "ended": transcript.get("ended"),
        "final_memory": final_memory,
        "flow.path": [step.get("widget") for step in flow.get("steps") or ()],
        "flow.variables": flow.get("variables") or {},
        "handoff": _handoff_view(transcript.get("handoff")),
    }


def _handoff_view(handoff: Any) -> Any:
    if not isinstance(handoff, Mapping):
        return handoff
    keep = ("kind", "attributes", "queue", "workflow_sid", "task_channel", "priority",
            "method", "url", "body", "status", "response", "channel", "uri", "timeout")
    view = {k: handoff.get(k) for k in keep if k in handoff}
    if handoff.get("task_status") not in (None, "pending"):  # canceled by a workflow timeout or its TTL
        view["task_status"] = handoff.get("task_status")
    history = handoff.get("queue_history")
    if isinstance(history, list) and len(history) > 1:  # the task moved on the clock: guard where it went
        view["queue_history"] = [f"{e.get('queue') or e.get('queue_sid')} ({e.get('left_by') or 'waiting'})"
                                 for e in history if isinstance(e, Mapping)]
    if isinstance(view.get("attributes"), str):  # compare attributes as data, not as their JSON text
        with contextlib.suppress(ValueError):
            view["attributes"] = json.loads(view["attributes"])
    return view


def golden_diff(recorded: Mapping[str, Any], current: Mapping[str, Any], golden: str) -> list[Mismatch]:
    """Every change of task, reply, path or handoff payload since the golden run, as mismatches."""
    scope = f"changed since the golden run ({golden})"
    found: list[Mismatch] = []
    before, after = golden_view(recorded), golden_view(current)
    users = [t.get("user", "") for t in current.get("turns") or ()] or \
            [t.get("user", "") for t in recorded.get("turns") or ()]
    if len(before["turns"]) != len(after["turns"]):
        found.append(Mismatch(f"{scope} turns", len(before["turns"]), len(after["turns"]),
                              "the conversation has a different number of turns", "turns", scope, "turns"))
    for index, (old, new) in enumerate(zip(before["turns"], after["turns"], strict=False)):
        user = users[index] if index < len(users) else ""
        label = f"turn {index + 1} ({show(user if len(user) <= 40 else user[:39] + '…')})"
        if old["task"] != new["task"]:
            found.append(Mismatch(f"{scope} {label} task", old["task"], new["task"], "", f"{label} task",
                                  scope, "task"))
        found += _reply_changes(old["replies"], new["replies"], label, scope)
        if old["ended"] != new["ended"]:
            found.append(Mismatch(f"{scope} {label} ended", old["ended"], new["ended"],
                                  "the dialogue ended on this turn" if new["ended"] else "the dialogue stays open",
                                  f"{label} ended", scope, "ended"))
        if not _close(old["confidence"], new["confidence"]):
            found.append(Mismatch(f"{scope} {label} confidence", old["confidence"], new["confidence"],
                                  f"tolerance ±{CONFIDENCE_TOLERANCE}", f"{label} confidence", scope,
                                  "confidence"))
        for key in ("fields", "memory"):
            for path, was, now in _deep_diff(old[key], new[key], key):
                found.append(Mismatch(f"{scope} {label} {path}", was, now, text_difference(was, now),
                                      f"{label} {path}", scope, key))
    if before["ended"] != after["ended"]:
        found.append(Mismatch(f"{scope} ended", before["ended"], after["ended"], "", "ended", scope, "ended"))
    for path, old, new in _deep_diff(before["final_memory"], after["final_memory"], "final_memory"):
        found.append(Mismatch(f"{scope} {path}", old, new, text_difference(old, new), path, scope, "final_memory"))
    if before["flow.path"] != after["flow.path"]:
        found.append(Mismatch(f"{scope} flow.path", " → ".join(map(str, before["flow.path"])) or "(none)",
                              " → ".join(map(str, after["flow.path"])) or "(none)", "", "flow.path", scope,
                              "flow.path"))
    for path, old, new in _deep_diff(before["flow.variables"], after["flow.variables"], "flow.variables"):
        found.append(Mismatch(f"{scope} {path}", old, new, text_difference(old, new), path, scope, "flow.variables"))
    for path, old, new in _deep_diff(before["handoff"], after["handoff"], "handoff"):
        found.append(Mismatch(f"{scope} {path}", old, new, text_difference(old, new), path, scope, "handoff"))
    return found


def _close(old: Any, new: Any) -> bool:
    if isinstance(old, int | float) and isinstance(new, int | float):
        return abs(old - new) <= CONFIDENCE_TOLERANCE + 1e-9
    return old == new


def _full(text: Any) -> str:
    value = text if isinstance(text, str) else json.dumps(text, ensure_ascii=False, default=str)
    return value if len(value) <= REPLY_SHOW_LIMIT else value[:REPLY_SHOW_LIMIT] + f"… ({len(value)} characters)"


def _reply_changes(old: list[Any], new: list[Any], label: str, scope: str) -> list[Mismatch]:
    """One mismatch per changed reply (`reply 2`), both sides in full in the detail: a reply list cut at a
    fixed length hides which reply changed and how."""
    found: list[Mismatch] = []
    for index in range(max(len(old), len(new))):
        was = old[index] if index < len(old) else MISSING
        now = new[index] if index < len(new) else MISSING
        if was == now:
            continue
        where = f"{label} reply {index + 1}"
        detail = "\n".join((f"before: {'(missing)' if was is MISSING else _full(was)}",
                            f"now:    {'(missing)' if now is MISSING else _full(now)}"))
        where_it_differs = text_difference(was, now, shown=True)
        if where_it_differs:
            detail += "\n" + where_it_differs
        if len(old) != len(new) and not found:
            detail = f"{len(old)} replies before, {len(new)} now\n" + detail
        found.append(Mismatch(f"{scope} {where}", was, now, detail, where, scope, "replies"))
    return found


def _deep_diff(old: Any, new: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    """(JSON path, old, new) for every leaf that differs; missing keys show as `(missing)`."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in sorted(set(old) | set(new), key=str):
            yield from _deep_diff(old.get(key, MISSING), new.get(key, MISSING), f"{path}.{key}")
        return
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            yield from _deep_diff(a, b, f"{path}[{index}]")
        return
    if old != new or type(old) is not type(new):
        yield (path, old, new)




CARET_WIDTH = 100  # two texts both one line and at most this long get a caret under their first difference


def text_difference(was: Any, now: Any, *, shown: bool = False) -> str:
    """Where two changed texts differ, for a reviewer's eye: for short one-line texts both lines with a caret
    under the first differing character; for longer or multi-line texts the changed lines of a line diff
    (`-`/`+`, with `?` markers under the changed characters). Empty unless both are strings.
    `shown`: the two texts are already printed in full above (as `before:`/`now:`), so only the marker or
    the line diff is added."""
    if not isinstance(was, str) or not isinstance(now, str) or was == now:
        return ""
    at = next((i for i, (a, b) in enumerate(zip(was, now, strict=False)) if a != b), min(len(was), len(now)))
    if "\n" not in was + now and max(len(was), len(now)) <= CARET_WIDTH:
        marker = f"        {' ' * at}^ first difference at character {at + 1}"
        return marker if shown else f"before: {was}\nnow:    {now}\n{marker}"
    lines = [line.rstrip("\n") for line in difflib.ndiff(_wrapped(was), _wrapped(now)) if line[:1] in "-+?"]
    return f"first difference at character {at + 1}; line diff (- before, + now):\n" + "\n".join(
        "  " + line for line in lines[:_DIFF_LINE_LIMIT]) + (
        f"\n  … {len(lines) - _DIFF_LINE_LIMIT} more diff lines" if len(lines) > _DIFF_LINE_LIMIT else "")


_DIFF_LINE_LIMIT = 40  # a line diff is cut here: the first differences are the ones to read


def _wrapped(text: str) -> list[str]:
    """The text's lines, long ones cut into CARET_WIDTH pieces, so a diff of one long paragraph still points
    at the piece that changed."""
    pieces: list[str] = []
    for line in text.split("\n"):
        pieces += [line[i:i + CARET_WIDTH] for i in range(0, len(line), CARET_WIDTH)] or [""]
    return pieces
