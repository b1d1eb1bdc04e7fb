"""The HTML report of a run (issue 6 §4): one self-contained file, no scripts, no external resources.

Per scenario: the transcript as chat bubbles (user right, bot left, agent handoff in green) with the routed
task and confidence under each user message; the Studio flow as an inline SVG graph (laid out by graphviz's
`dot` when it is on PATH, so edge labels do not overlap; else our own layered layout: widgets placed by
their distance from the Trigger) with the path the scenario took highlighted
and the widgets no scenario entered greyed; the handoff payload; failures with expected/actual diffs.
An index of the cases opens the page, failures first; passing cases are collapsed. Coverage tables close it.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
from typing import Any

from harness.insight.coverage import Bases, case_steps, compute_coverage, coverage_html_section, resolve_path
from harness.models.flow import Flow

NODE_W, NODE_H, GAP_X, GAP_Y = 170, 44, 30, 60

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:0;background:#f6f7f9;color:#222}
header{background:#1f2d3d;color:#fff;padding:16px 24px}header h1{margin:0;font-size:20px}
main{padding:16px 24px;max-width:1400px}
.summary span{display:inline-block;margin-right:14px;padding:2px 8px;border-radius:10px;background:#fff2}
section.case{background:#fff;border:1px solid #dde;border-radius:8px;margin:16px 0;padding:12px 16px}
section.case h2{font-size:16px;margin:0 0 8px}
.badge{font-size:12px;padding:2px 8px;border-radius:10px;color:#fff;margin-right:6px}
.passed{background:#2e8540}.failed{background:#c0392b}.error{background:#8e44ad}.skipped{background:#888}
.cols{display:flex;gap:24px;flex-wrap:wrap}.chat{flex:1 1 360px;max-width:520px}.graph{flex:2 1 480px;overflow:auto}
.msg{margin:6px 0;display:flex;flex-direction:column}
.bubble{padding:8px 12px;border-radius:14px;max-width:80%;white-space:pre-wrap;word-wrap:break-word}
.user{align-items:flex-end}.user .bubble{background:#2f6fdb;color:#fff;border-bottom-right-radius:3px}
.bot{align-items:flex-start}.bot .bubble{background:#eceff3;border-bottom-left-radius:3px}
.agent{align-items:flex-start}.agent .bubble{background:#dff5e3;border:1px solid #7bc58a}
.meta{font-size:11px;color:#667;margin-top:2px}
table{border-collapse:collapse;font-size:13px}
td,th{border:1px solid #ccd;padding:4px 8px;vertical-align:top;text-align:left}
pre{background:#f3f4f6;padding:8px;overflow:auto;font-size:12px}
.diff td{white-space:pre-wrap}.diff del{background:#fdd;text-decoration:none}
.fnlog pre{font-size:11px;color:#334;background:#f3f5f9;border-left:3px solid #8a9bb8;padding:4px 8px;
margin:2px 0;white-space:pre-wrap}
.wait{align-items:center}.wait .note{font-size:12px;color:#556;background:#fff7e0;border:1px dashed #d9b75c;
border-radius:10px;padding:2px 10px}
.graph svg{max-width:100%;height:auto}.graph{max-height:90vh}.path{font-size:12px;color:#445;margin:4px 0}
svg .edge-label{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
.diff ins{background:#dfd;text-decoration:none}
nav.index{background:#fff;border:1px solid #dde;border-radius:8px;margin:16px 0;padding:12px 16px}
nav.index h2{font-size:16px;margin:0 0 8px}nav.index li{margin:2px 0}nav.index a{color:#1f4fa8}
section.case>details>summary{cursor:pointer;list-style-position:outside}section.case summary h2{display:inline}
svg .edge-label-box{fill:#fff;opacity:.85}
svg .node rect{fill:#fff;stroke:#889;stroke-width:1.2}svg .node.entered rect{fill:#e3edff;stroke:#2f6fdb;stroke-width:2}
svg .node.uncovered rect{fill:#eee;stroke:#bbb}svg .node.uncovered text{fill:#999}
svg .edge{fill:none;stroke:#aab;stroke-width:1.2}svg .edge.taken{stroke:#2f6fdb;stroke-width:3}
svg text{font-size:11px;font-family:system-ui,sans-serif}svg .label{fill:#667;font-size:10px}
ul{margin:0;padding-left:18px}
"""


# Failures first in the index and the page; then errors, skipped, passes (each group in run order).
_STATUS_ORDER = {"failed": 0, "error": 0, "skipped": 1, "passed": 2}


def render_report(results: Mapping[str, Any], *, base: Bases = None, title: str | None = None,
                  notes: list[str] | None = None) -> str:
    """The whole page for `run --json` results. `notes` collects what the caller should tell the user
    (a graph drawn with the built-in layout because `dot` failed or timed out)."""
    notes = notes if notes is not None else []
    coverage = compute_coverage(results, base=base)
    files = results.get("files") or {}
    flows: dict[str, Flow | None] = {}
    entered_anywhere: dict[str, set[str]] = {}
    for case in results.get("cases") or ():
        flow_path = (files.get(case.get("file")) or {}).get("flow")
        if isinstance(flow_path, str):
            flow = _flow(flows, flow_path, base)
            if flow is not None:
                entered_anywhere.setdefault(flow_path, set()).update(_entered(case, flow))
    summary = results.get("summary") or {}
    page_title = title or "autopilot-harness report"
    cases = list(enumerate(results.get("cases") or ()))
    ordered = sorted(cases, key=lambda item: _STATUS_ORDER.get(str(item[1].get("status", "passed")), 1))
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{escape(page_title)}</title><style>{CSS}</style></head><body>",
        f"<header><h1>{escape(page_title)}</h1><div class='summary'>",
        *(f"<span>{escape(str(key))}: {escape(str(summary.get(key, 0)))}</span>"
          for key in ("total", "passed", "failed", "error")),
        f"<span>started {escape(str(results.get('started', '')))}</span></div></header><main>",
        _index(ordered),
    ]
    graph_layouts: dict[str, FlowLayout | None] = {}
    for number, case in ordered:
        flow_path = (files.get(case.get("file")) or {}).get("flow")
        flow = flows.get(flow_path) if isinstance(flow_path, str) else None
        uncovered = (set(flow.state_names) - entered_anywhere.get(flow_path, set())) if flow else set()
        layout = None
        if flow is not None and isinstance(flow_path, str):
            if flow_path not in graph_layouts:  # one dot run per flow, not per case
                graph_layouts[flow_path] = graphviz_layout(flow, notes)
            layout = graph_layouts[flow_path]
        parts.append(_case_html(number, case, flow, uncovered, layout))
    parts.append("<section class='case'><h2>Coverage</h2>" + coverage_html_section(coverage) + "</section>")
    parts.append("</main></body></html>\n")
    return "\n".join(parts)


def _index(ordered: list[tuple[int, Mapping[str, Any]]]) -> str:
    """The list of cases, failures and errors first (each a link to its card); the passes folded."""
    def item(number: int, case: Mapping[str, Any]) -> str:
        status = str(case.get("status", "passed"))
        return (f"<li><span class='badge {escape(status)}'>{escape(status)}</span>"
                f"<a href='#case-{number}'>{escape(str(case.get('id') or case.get('name')))}</a>"
                f" <small>{escape(str(case.get('file', '')))}</small></li>")

    bad = [item(n, c) for n, c in ordered if _STATUS_ORDER.get(str(c.get("status", "passed")), 1) < 2]
    good = [item(n, c) for n, c in ordered if _STATUS_ORDER.get(str(c.get("status", "passed")), 1) == 2]
    out = [f"<nav class='index'><h2>Cases ({len(ordered)})</h2>"]
    if bad:
        out.append("<ul class='failures'>" + "".join(bad) + "</ul>")
    if good:
        out.append(f"<details class='passes'><summary>{len(good)} passed</summary><ul>" + "".join(good)
                   + "</ul></details>")
    out.append("</nav>")
    return "\n".join(out)


def _flow(cache: dict[str, Flow | None], path: str, base: Bases) -> Flow | None:
    if path not in cache:
        from harness.errors import HarnessError
        from harness.models.flow import load_flow

        try:
            cache[path] = load_flow(resolve_path(path, base))
        except HarnessError:
            cache[path] = None
    return cache[path]


def _entered(case: Mapping[str, Any], flow: Flow) -> set[str]:
    names: set[str] = set()
    for step in case_steps(case.get("transcript") or {}):
        for key in ("widget", "next"):
            if step.get(key) and flow.state(str(step[key])) is not None:
                names.add(str(step[key]))
    return names


def _case_html(number: int, case: Mapping[str, Any], flow: Flow | None, uncovered: set[str],
               layout: FlowLayout | None = None) -> str:
    # The card's title is the case id (`greeting[v1]`): variants and parametrize rows share a name.
    # A passing case is folded (its title stays visible); a failure is open.
    status = str(case.get("status", "passed"))
    transcript = case.get("transcript") or {}
    head = (f"<section class='case' id='case-{number}'><details{'' if status == 'passed' else ' open'}>"
            f"<summary><h2><span class='badge {escape(status)}'>"
            f"{escape(status)}</span>{escape(str(case.get('id') or case.get('name')))}"
            f" <small>{escape(str(case.get('file', '')))}</small></h2></summary>")
    body = [head]
    if case.get("error"):
        body.append(f"<pre>{escape(str(case['error']))}</pre>")
    if case.get("mismatches"):
        body.append(_mismatches(case["mismatches"]))
    body.append("<div class='cols'><div class='chat'>" + _chat(transcript) + "</div>")
    if flow is not None:
        steps = case_steps(transcript)
        # The path in words too: on a large flow the highlighted edges may be outside the visible area.
        visited = [str(st["widget"]) for st in steps if st.get("widget")]
        if steps and steps[-1].get("next"):
            visited.append(str(steps[-1]["next"]))
        path = " → ".join(visited)
        body.append("<div class='graph'>"
                    + (f"<p class='path'>path: {escape(path)}</p>" if path else "")
                    + flow_svg(flow, steps, uncovered, marker_id=f"arrow-{number}", layout=layout) + "</div>")
    body.append("</div>")
    handoff = transcript.get("handoff")
    if handoff:
        body.append(_interaction_html(transcript, handoff))
        body.append("<details open><summary>Handoff payload</summary><pre>"
                    + escape(json.dumps(handoff, indent=2, default=str)) + "</pre></details>")
    body.append("</details></section>")
    return "\n".join(body)


def _duration(seconds: float) -> str:
    """3600 → "1 h", 5400 → "1 h 30 min", 90 → "1 min 30 s"."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else "", f"{secs} s" if secs else ""]
    return " ".join(p for p in parts if p) or "0 s"


def _handoff_bubble(handoff: Mapping[str, Any]) -> str:
    where = handoff.get("queue") or handoff.get("url") or handoff.get("uri") or handoff.get("widget") or ""
    kind = escape(str(handoff.get("kind")))
    shown = f": {escape(str(where))}" if where else ""
    via = ""
    if handoff.get("interaction_sid"):  # Flex Conversations: the task came through an Interaction
        channel = handoff.get("interaction_channel_type")
        via = f" via Interaction{' (' + escape(str(channel)) + ')' if channel else ''}"
    return f"<div class='msg agent'><div class='bubble'>Handed off to an agent ({kind}{shown}){via}</div></div>"


def _interaction_html(transcript: Mapping[str, Any], handoff: Mapping[str, Any]) -> str:
    """Flex Conversations: the Interaction beside the task it created (reference/taskrouter.md §3.1):
    its SID, its channel (type and UO… SID) and the task's SID, queue and status. Empty without one."""
    sid = handoff.get("interaction_sid")
    if not sid:
        return ""
    flow = transcript.get("flow") or {}
    recorded = next((i for i in flow.get("interactions") or () if isinstance(i, Mapping) and i.get("sid") == sid),
                    {})
    channel = recorded.get("channel") if isinstance(recorded.get("channel"), Mapping) else {}
    rows = (
        ("Interaction", sid),
        ("channel type", channel.get("type") or handoff.get("interaction_channel_type")),
        ("channel", channel.get("sid")),
        ("task created", handoff.get("task_sid") or recorded.get("task_sid")),
        ("queue", handoff.get("queue")),
        ("task status", handoff.get("status") or handoff.get("assignment_status")),
    )
    cells = "".join(f"<tr><th>{escape(label)}</th><td><code>{escape(str(value))}</code></td></tr>"
                    for label, value in rows if value)
    return ("<details open class='interaction'><summary>Flex Interaction and its task</summary>"
            f"<table>{cells}</table></details>")


# Widgets whose step sends one message to the user (counted to place the handoff among a turn's replies).
_SENDING_WIDGETS = ("send-message", "send-and-wait-for-reply")


def _handoff_position(transcript: Mapping[str, Any], handoff: Mapping[str, Any]) -> tuple[int, int] | None:
    """(turn index, replies shown before the handoff) — the flow's messages sent after the handoff widget
    come after the handoff bubble, in time order. None: unknown, show it last."""
    widget = handoff.get("widget")
    if not widget:
        return None
    for index, turn in enumerate(transcript.get("turns") or ()):
        steps = list(turn.get("steps") or ())
        at = next((n for n, st in enumerate(steps) if st.get("widget") == widget), None)
        if at is None:
            continue
        after = sum(1 for st in steps[at + 1:] if st.get("type") in _SENDING_WIDGETS)
        replies = len(turn.get("replies") or ())
        return index, max(replies - after, 0)
    return None


def _chat(transcript: Mapping[str, Any]) -> str:
    out = []
    handoff = transcript.get("handoff")
    placed = _handoff_position(transcript, handoff) if handoff else None
    for index, turn in enumerate(transcript.get("turns") or ()):
        if turn.get("wait") is not None and not turn.get("user"):
            # A pause, not a message: say how long passed (and what fired), not an empty "no task" bubble.
            fired = " · the flow's timeout fired" if turn.get("routing") == "timeout" else ""
            out.append(f"<div class='msg wait'><div class='note'>⏱ {escape(_duration(float(turn['wait'])))} "
                       f"pass{fired}</div></div>")
        else:
            out.append(f"<div class='msg user'><div class='bubble'>{escape(str(turn.get('user', '')))}</div>")
            task = turn.get("task")
            confidence = turn.get("confidence")
            meta = [f"task <b>{escape(str(task))}</b>" if task else "no task"]
            if isinstance(confidence, int | float):
                meta.append(f"confidence {confidence:.2f}")
            if turn.get("routing"):
                meta.append(escape(str(turn["routing"])))
            if turn.get("fields"):
                meta.append("fields " + escape(", ".join(f"{k}={v.get('value') if isinstance(v, Mapping) else v}"
                                                        for k, v in turn["fields"].items())))
            out.append(f"<div class='meta'>{' · '.join(meta)}</div></div>")
        logs = [line for call in (*(turn.get("webhooks") or ()), *(turn.get("steps") or ()))
                if isinstance(call, Mapping) for line in call.get("logs") or () if isinstance(line, Mapping)]
        if logs:  # what a Function printed while answering this turn (console.log/error)
            text = "\n".join(f"[{line.get('level', '')}] {line.get('message', '')}" for line in logs)
            out.append(f"<div class='msg fnlog'><pre class='note'>Function output\n{escape(text)}</pre></div>")
        for position, reply in enumerate(turn.get("replies") or ()):
            if placed == (index, position):
                out.append(_handoff_bubble(handoff))
            out.append(f"<div class='msg bot'><div class='bubble'>{escape(str(reply))}</div></div>")
        if placed is not None and placed[0] == index and placed[1] >= len(turn.get("replies") or ()):
            out.append(_handoff_bubble(handoff))
    if handoff and placed is None:
        out.append(_handoff_bubble(handoff))
    return "\n".join(out)


def _mismatches(mismatches: list[Mapping[str, Any]]) -> str:
    rows = ["<table class='diff'><tr><th>where</th><th>expected / actual</th><th>detail</th></tr>"]
    for m in mismatches:
        rows.append(f"<tr><td>{escape(str(m.get('where', '')))}<br><small>{escape(str(m.get('path') or ''))}</small>"
                    f"</td><td>{_diff(m.get('expected'), m.get('actual'))}</td>"
                    f"<td>{escape(str(m.get('detail') or ''))}</td></tr>")
    rows.append("</table>")
    return "\n".join(rows)


def _diff(expected: Any, actual: Any) -> str:
    """Word-level diff: removed (expected only) struck in red, added (actual only) in green."""
    def text(value: Any) -> str:
        return value if isinstance(value, str) else json.dumps(value, default=str)

    a, b = text(expected).split(" "), text(actual).split(" ")
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b).get_opcodes():
        if op == "equal":
            out.append(escape(" ".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(f"<del>{escape(' '.join(a[i1:i2]))}</del>")
        if j2 > j1:
            out.append(f"<ins>{escape(' '.join(b[j1:j2]))}</ins>")
    return " ".join(out)


# --- the flow graph ------------------------------------------------------------------------------------


def layers(flow: Flow) -> list[list[str]]:
    """Widgets by breadth-first distance from the initial state; unreachable ones in a last layer."""
    depth = {flow.initial_state: 0}
    queue = [flow.initial_state]
    while queue:
        name = queue.pop(0)
        state = flow.state(name)
        for transition in state.transitions if state else ():
            if transition.next and transition.next not in depth and flow.state(transition.next):
                depth[transition.next] = depth[name] + 1
                queue.append(transition.next)
    result: list[list[str]] = [[] for _ in range(max(depth.values(), default=0) + 1)]
    for name in flow.state_names:
        if name in depth:
            result[depth[name]].append(name)
    rest = [n for n in flow.state_names if n not in depth]
    if rest:
        result.append(rest)
    return result


MAX_ROW = 6  # widgets per drawn row: a wide layer wraps, so a 100-widget flow stays readable


def flow_svg(flow: Flow, steps: list[Mapping[str, Any]], uncovered: set[str] = frozenset(),  # type: ignore[assignment]
             *, marker_id: str = "arrow", layout: FlowLayout | None = None) -> str:
    """The flow as SVG: entered widgets and taken transitions highlighted, `uncovered` widgets greyed.
    `marker_id` must be unique in the page (one report holds many graphs). With a graphviz `layout` the
    widgets, edges and edge labels are where dot placed them (labels do not overlap); else the built-in
    layered layout."""
    if layout is not None:
        return _graphviz_svg(flow, steps, uncovered, marker_id, layout)
    grid = [layer[start:start + MAX_ROW] for layer in layers(flow) for start in range(0, len(layer), MAX_ROW)]
    width = max(len(row) for row in grid) * (NODE_W + GAP_X) + GAP_X
    height = len(grid) * (NODE_H + GAP_Y) + GAP_Y // 2
    position: dict[str, tuple[float, float]] = {}
    for row_index, row in enumerate(grid):
        offset = (width - len(row) * (NODE_W + GAP_X) + GAP_X) / 2
        for column, name in enumerate(row):
            position[name] = (offset + column * (NODE_W + GAP_X), GAP_Y / 2 + row_index * (NODE_H + GAP_Y))
    taken = {(str(s.get("widget")), str(s.get("next") or "")) for s in steps}
    entered = {str(s.get("widget")) for s in steps} | {str(s.get("next")) for s in steps if s.get("next")}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
             f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="Studio flow graph" '
             'data-layout="builtin">',
             f'<defs><marker id="{escape(marker_id)}" viewBox="0 0 10 10" refX="9" refY="5" '
             'markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" '
             'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#889"/></marker></defs>']
    labels: list[str] = []
    for state in flow.states:
        for transition in state.transitions:
            if not transition.next or transition.next not in position:
                continue
            x1, y1 = position[state.name]
            x2, y2 = position[transition.next]
            sx, sy = x1 + NODE_W / 2, y1 + NODE_H
            tx, ty = x2 + NODE_W / 2, y2
            if y2 <= y1:  # a loop back up: leave from the side
                sx, sy, tx, ty = x1 + NODE_W, y1 + NODE_H / 2, x2 + NODE_W, y2 + NODE_H / 2
                path = f"M {sx:.1f} {sy:.1f} C {sx + 60:.1f} {sy:.1f}, {tx + 60:.1f} {ty:.1f}, {tx:.1f} {ty:.1f}"
            else:
                mid = (sy + ty) / 2
                path = f"M {sx:.1f} {sy:.1f} C {sx:.1f} {mid:.1f}, {tx:.1f} {mid:.1f}, {tx:.1f} {ty:.1f}"
            css = "edge taken" if (state.name, transition.next) in taken else "edge"
            parts.append(f'<path class="{css}" d="{path}" marker-end="url(#{escape(marker_id)})">'
                         f"<title>{escape(state.name)} —{escape(transition.event)}→ "
                         f"{escape(transition.next)}</title></path>")
            # The event name near the edge's start (not the middle, where edges of a wide row cross),
            # haloed in white so it stays readable over other edges; nodes are drawn on top of labels.
            lx, ly = sx + (tx - sx) * 0.2, sy + (ty - sy) * 0.2 + 4
            labels.append(f'<text class="label edge-label" x="{lx + 4:.1f}" y="{ly:.1f}">'
                          f"{escape(transition.event)}</text>")
    parts.extend(labels)
    parts.extend(_node(state, position[state.name], entered, uncovered) for state in flow.states)
    parts.append("</svg>")
    return "\n".join(parts)


def _node(state: Any, at: tuple[float, float], entered: Any, uncovered: Any) -> str:
    """One widget box: its name (cut at 24 characters), its type, and whether the run entered it."""
    x, y = at
    css = "node entered" if state.name in entered else ("node uncovered" if state.name in uncovered else "node")
    name = state.name if len(state.name) <= 24 else state.name[:23] + "…"
    return (f'<g class="{css}"><rect x="{x:.1f}" y="{y:.1f}" width="{NODE_W}" height="{NODE_H}" rx="6"/>'
            f'<text x="{x + 8:.1f}" y="{y + 18:.1f}" font-weight="bold">{escape(name)}</text>'
            f'<text class="label" x="{x + 8:.1f}" y="{y + 34:.1f}">{escape(state.type)}</text>'
            f"<title>{escape(state.name)} ({escape(state.type)})</title></g>")


# --- graphviz layout (optional) ------------------------------------------------------------------------

# How long one `dot` run may take before the graph falls back to the built-in layout (a huge flow).
DOT_TIMEOUT_SECONDS = 20.0
DOT_TIMEOUT_ENV = "AUTOPILOT_HARNESS_DOT_TIMEOUT"
# Set to 0 to draw every graph with the built-in layout even where `dot` is installed.
GRAPHVIZ_ENV = "AUTOPILOT_HARNESS_GRAPHVIZ"
LABEL_FONT_SIZE = 10.0
_MARGIN = 12.0


@dataclass
class FlowLayout:
    """Where dot placed a flow's widgets (top-left corners), edges (SVG path data) and edge labels
    (centre, width and height of the box dot kept free for each)."""

    width: float
    height: float
    nodes: dict[str, tuple[float, float]] = field(default_factory=dict)
    edges: dict[tuple[str, str, str], str] = field(default_factory=dict)
    labels: dict[tuple[str, str, str], tuple[float, float, float, float]] = field(default_factory=dict)


def _dot_timeout() -> float:
    raw = os.environ.get(DOT_TIMEOUT_ENV, "").strip()
    try:
        return float(raw) if raw else DOT_TIMEOUT_SECONDS
    except ValueError:
        return DOT_TIMEOUT_SECONDS


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def graphviz_layout(flow: Flow, notes: list[str] | None = None) -> FlowLayout | None:
    """The flow laid out by graphviz's `dot` (found on PATH), or None: `dot` missing, disabled
    (AUTOPILOT_HARNESS_GRAPHVIZ=0), failing or slower than DOT_TIMEOUT_SECONDS — then the caller draws the
    built-in layout, and `notes` says why when dot was there but did not deliver."""
    dot = shutil.which("dot")
    if dot is None or os.environ.get(GRAPHVIZ_ENV, "").strip() == "0":
        return None
    edges = [(state.name, t.next, t.event) for state in flow.states for t in state.transitions
             if t.next and flow.state(t.next) is not None]
    lines = ["digraph flow {", "rankdir=TB; nodesep=0.35; ranksep=0.45;",
             f"node [shape=box, fixedsize=true, width={NODE_W / 72:.3f}, height={NODE_H / 72:.3f}, label=\"\"];",
             f"edge [fontname=Helvetica, fontsize={LABEL_FONT_SIZE:g}];"]
    names = {name: f"n{i}" for i, name in enumerate(flow.state_names)}
    lines += [f"{ident};" for ident in names.values()]
    for number, (source, target, event) in enumerate(edges):
        lines.append(f"{names[source]} -> {names[target]} [label={_quote(event)}, id=e{number}];")
    lines.append("}")
    timeout = _dot_timeout()
    try:
        done = subprocess.run([dot, "-Tjson"], input="\n".join(lines), capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        if notes is not None:
            notes.append(f"graphviz `dot` took longer than {timeout:g} s on {flow.path or 'a flow'}: drawn with "
                         f"the built-in layout (raise {DOT_TIMEOUT_ENV}, in seconds)")
        return None
    except OSError as err:
        if notes is not None:
            notes.append(f"graphviz `dot` could not run ({err}): drawn with the built-in layout")
        return None
    if done.returncode != 0:
        if notes is not None:
            notes.append(f"graphviz `dot` failed on {flow.path or 'a flow'} ({done.stderr.strip()[:200]}): "
                         "drawn with the built-in layout")
        return None
    try:
        return _parse_dot_json(json.loads(done.stdout), {v: k for k, v in names.items()}, edges)
    except (ValueError, KeyError, IndexError, TypeError):
        if notes is not None:
            notes.append("graphviz `dot` gave output this kit cannot read: drawn with the built-in layout")
        return None


def _points(text: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in (pair.split(",")[:2] for pair in text.split())]


def _parse_dot_json(data: Mapping[str, Any], names: Mapping[str, str],
                    edges: list[tuple[str, str, str]]) -> FlowLayout:
    _, _, right, top = (float(v) for v in str(data["bb"]).split(","))
    layout = FlowLayout(right + 2 * _MARGIN, top + 2 * _MARGIN)

    def at(x: float, y: float) -> tuple[float, float]:  # dot's origin is bottom left
        return x + _MARGIN, top - y + _MARGIN

    gvid: dict[int, str] = {}
    for obj in data.get("objects") or ():
        name = names[obj["name"]]
        gvid[obj["_gvid"]] = name
        x, y = at(*_points(obj["pos"])[0])
        layout.nodes[name] = (x - NODE_W / 2, y - NODE_H / 2)
    for edge in data.get("edges") or ():
        key = edges[int(str(edge["id"])[1:])]
        spline = str(edge["pos"]).split()
        end = at(*_points(spline[0][2:])[0]) if spline and spline[0].startswith("e,") else None
        body = [at(x, y) for x, y in _points(" ".join(p for p in spline if p[:2] not in ("e,", "s,")))]
        path = f"M {body[0][0]:.1f} {body[0][1]:.1f}" + "".join(
            f" C {a[0]:.1f} {a[1]:.1f}, {b[0]:.1f} {b[1]:.1f}, {c[0]:.1f} {c[1]:.1f}"
            for a, b, c in zip(body[1::3], body[2::3], body[3::3], strict=False))
        if end is not None:
            path += f" L {end[0]:.1f} {end[1]:.1f}"
        layout.edges[key] = path
        if "lp" in edge:
            x, y = at(*_points(edge["lp"])[0])
            texts = [op for op in edge.get("_ldraw_") or () if op.get("op") == "T"]
            width = max((float(op.get("width", 0)) for op in texts), default=len(key[2]) * LABEL_FONT_SIZE * 0.6)
            layout.labels[key] = (x, y, width + 2, LABEL_FONT_SIZE + 3)
    return layout


def _graphviz_svg(flow: Flow, steps: list[Mapping[str, Any]], uncovered: set[str], marker_id: str,
                  layout: FlowLayout) -> str:
    taken = {(str(s.get("widget")), str(s.get("next") or "")) for s in steps}
    entered = {str(s.get("widget")) for s in steps} | {str(s.get("next")) for s in steps if s.get("next")}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{layout.width:.0f}" height="{layout.height:.0f}" '
             f'viewBox="0 0 {layout.width:.0f} {layout.height:.0f}" role="img" aria-label="Studio flow graph" '
             'data-layout="graphviz">',
             f'<defs><marker id="{escape(marker_id)}" viewBox="0 0 10 10" refX="9" refY="5" '
             'markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" '
             'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#889"/></marker></defs>']
    labels: list[str] = []
    for (source, target, event), path in layout.edges.items():
        css = "edge taken" if (source, target) in taken else "edge"
        parts.append(f'<path class="{css}" d="{path}" marker-end="url(#{escape(marker_id)})">'
                     f"<title>{escape(source)} —{escape(event)}→ {escape(target)}</title></path>")
        box = layout.labels.get((source, target, event))
        if box is not None:
            x, y, w, h = box
            labels.append(f'<rect class="edge-label-box" x="{x - w / 2:.1f}" y="{y - h / 2:.1f}" '
                          f'width="{w:.1f}" height="{h:.1f}"/>'
                          f'<text class="label edge-label" x="{x:.1f}" y="{y + LABEL_FONT_SIZE / 2 - 1:.1f}" '
                          f'text-anchor="middle">{escape(event)}</text>')
    parts.extend(labels)
    parts.extend(_node(state, layout.nodes[state.name], entered, uncovered)
                 for state in flow.states if state.name in layout.nodes)
    parts.append("</svg>")
    return "\n".join(parts)
