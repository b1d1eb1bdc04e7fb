"""A scenario's `replay:` key (issue 4 §5): a recording replayed instead of `turns`.

    - name: production greetings still get the same Actions
      replay: {requests: captured/greetings.jsonl, match: subset}
    - name: last week's hand-off still takes the same path
      replay: {execution: captured/FN123.json}

The recording is the expectation, so a replay scenario has neither `turns` nor `expect`; the runner turns
the replay's differences into the case's mismatches (`harness/runner/cases.py`). Paths are relative
to the scenario file, like every other path in it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPLAY_KINDS = ("requests", "execution")
MATCH_MODES = ("exact", "subset")
HTTP_MODES = ("recorded", "live")


@dataclass(frozen=True)
class ReplaySpec:
    """What to replay. `kind` "requests": captured Autopilot requests sent to the file's endpoints
    (`url_map`, `functions`, `servers`); "execution": a recorded Studio execution run through `flow`
    (default: the file's flow)."""

    kind: str  # "requests" | "execution"
    path: Path
    match: str | None = None  # requests: overrides each record's "exact"/"subset"
    url: str | None = None  # requests: the production URL of records that carry none
    flow: Path | None = None  # execution: instead of the file's `flow`
    http: str = "recorded"  # execution: answer HTTP widgets from the recording, or call the URL map


FileResolver = Callable[[str, tuple[str, ...]], Path | None]  # (raw path, pointer parts) → path or None
ProblemSink = Callable[[str, tuple[str, ...]], None]  # (message, pointer parts below the scenario)


def parse_replay(raw: Mapping[str, Any], *, file: FileResolver, problem: ProblemSink) -> ReplaySpec | None:
    """The model of a schema-checked `replay:` mapping; None when a path is missing (reported via `file`).

    The schema asks for `requests` or `execution`; giving both, or a key of the other kind (a misplaced
    `match`), is reported here with a message that says so.
    """
    if "requests" in raw and "execution" in raw:
        problem("a replay has exactly one of `requests: FILE` or `execution: FILE`; found both",
                ("replay", "execution"))
        return None
    kind = "requests" if "requests" in raw else "execution"
    other = "execution" if kind == "requests" else "requests"
    for key in {"requests": ("flow", "http"), "execution": ("match", "url")}[kind]:
        if key in raw:
            problem(f"`{key}` belongs to a replay of `{other}`, not of `{kind}`", ("replay", key))
    path = file(str(raw[kind]), ("replay", kind))
    flow = file(str(raw["flow"]), ("replay", "flow")) if "flow" in raw else None
    if path is None or ("flow" in raw and flow is None):
        return None
    return ReplaySpec(kind=kind, path=path, match=raw.get("match"), url=raw.get("url"), flow=flow,
                      http=raw.get("http", "recorded"))
