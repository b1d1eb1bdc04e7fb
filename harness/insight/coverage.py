"""Coverage of a run (issue 6 §2): what the scenarios exercised of each bot and flow, and what they missed.

Input: the `autopilot-harness run --json` results (`load_results`). For each assistant file the run used:
tasks run, samples that decided a routing, fields extracted, collect questions asked; for each flow file:
widgets entered and transitions taken. A flow's transitions are its edges (a transition with a `next`)
plus, for a split, every `match` transition and `noMatch` whether wired or not — each split condition
counts on its own ("match[0] equal_to 'true'").
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import LoadError, Location, SchemaError
from harness.insight.results_shape import check_results_shape
from harness.models.assistant import Assistant
from harness.models.flow import Flow, State
from harness.sources import load_source


def load_results(path: Path) -> dict[str, Any]:
    """A `run --json` results file, checked for the keys the insight tools read."""
    try:
        source = load_source(path, kind="json")
    except LoadError as err:
        raise _not_results(err, path) from None
    data = source.data
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise SchemaError("expected the JSON written by `autopilot-harness run --json` (an object with "
                          "'version', 'files' and a 'cases' list), found " + _describe(data),
                          source.locate(""), hint="pass the --json file of `autopilot-harness run`")
    if data.get("version") not in (None, 1):
        raise SchemaError(f"results version {data.get('version')!r} is not supported (expected 1)",
                          source.locate("/version"))
    check_results_shape(source)  # every place the tools read has the type they expect (exit 2, not a traceback)
    return data


def _not_results(err: LoadError, path: Path) -> LoadError:
    """A results file that is no JSON at all: say what it looks like and what was expected."""
    if not err.message.startswith("malformed JSON"):
        return err
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:200].lstrip()
    except OSError:
        return err
    if not head:
        err.message = "the file is empty; expected the JSON written by `autopilot-harness run --json`"
    elif head.startswith("<"):
        err.hint = "this looks like XML (JUnit?): pass the file of `autopilot-harness run --json`, not --junit"
    else:
        err.hint = "expected the JSON written by `autopilot-harness run --json`"
    return err


def _describe(data: Any) -> str:
    from harness.models.actions import describe_value

    if isinstance(data, dict):
        return "an object without a 'cases' list"
    return describe_value(data)


# --- the report ----------------------------------------------------------------------------------------


@dataclass
class Measure:
    """One kind of item (tasks, transitions…): all of them and the ones exercised."""

    total: int = 0
    covered: int = 0
    missed: list[str] = field(default_factory=list)

    @property
    def percent(self) -> float | None:
        """None when there is nothing to cover ("n/a"): 0 of 0 is not 100%, and a limit on it means nothing."""
        return 100.0 * self.covered / self.total if self.total else None

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "covered": self.covered, "percent": _rounded(self.percent),
                "missed": self.missed}


def _rounded(percent: float | None) -> float | None:
    return round(percent, 1) if percent is not None else None


def percent_text(percent: float | None) -> str:
    """`87.5%`, or `n/a` for a dimension with no items (a bot-only run has no transitions)."""
    return f"{percent:.1f}%" if percent is not None else "n/a"


def _measure(universe: Iterable[str], seen: set[str]) -> Measure:
    items = list(dict.fromkeys(universe))
    covered = [item for item in items if item in seen]
    return Measure(len(items), len(covered), [item for item in items if item not in seen])


@dataclass
class BotCoverage:
    path: str
    tasks: Measure
    samples: Measure
    fields: Measure
    questions: Measure


@dataclass
class FlowCoverage:
    path: str
    widgets: Measure
    transitions: Measure


@dataclass
class CoverageReport:
    bots: list[BotCoverage]
    flows: list[FlowCoverage]
    cases: int
    problems: list[str] = field(default_factory=list)  # files that could not be loaded

    def _sum(self, items: Iterable[Measure]) -> Measure:
        total = Measure()
        for m in items:
            total.total += m.total
            total.covered += m.covered
        return total

    @property
    def task_percent(self) -> float | None:
        return self._sum(b.tasks for b in self.bots).percent

    @property
    def transition_percent(self) -> float | None:
        return self._sum(f.transitions for f in self.flows).percent

    def to_dict(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "summary": {"tasks": _rounded(self.task_percent), "transitions": _rounded(self.transition_percent)},
            "bots": [{"path": b.path, **{k: getattr(b, k).to_dict() for k in ("tasks", "samples", "fields",
                                                                             "questions")}} for b in self.bots],
            "flows": [{"path": f.path, "widgets": f.widgets.to_dict(), "transitions": f.transitions.to_dict()}
                      for f in self.flows],
            "problems": self.problems,
        }


# --- computing -----------------------------------------------------------------------------------------


Bases = Path | Sequence[Path] | None


def results_bases(results: Mapping[str, Any], results_file: Path | None = None) -> list[Path]:
    """Where a results file's relative paths may be relative to: the run's working directory (recorded
    as `cwd` since results carry it), then the results file's folder. The tools can then be run from
    anywhere, not only from the folder the run started in."""
    bases: list[Path] = []
    cwd = results.get("cwd")
    if isinstance(cwd, str) and cwd:
        bases.append(Path(cwd))
    if results_file is not None:
        bases.append(Path(os.path.abspath(results_file)).parent)
    return bases


def resolve_path(path: str, base: Bases) -> Path:
    """A path from the results: absolute as is; relative: against each base in turn (see `results_bases`),
    then the working directory. The first that exists wins; the path as written when none does."""
    candidate = Path(path)
    if candidate.is_absolute():
        return candidate
    bases = [base] if isinstance(base, Path) else list(base or ())
    for folder in bases:
        if (folder / candidate).exists():
            return folder / candidate
    return candidate


def missing_files(results: Mapping[str, Any], base: Bases) -> list[str]:
    """The bot and flow files the results name that exist under none of the bases (each once)."""
    missing: list[str] = []
    for entry in (results.get("files") or {}).values():
        if not isinstance(entry, Mapping):
            continue
        named = [*bot_paths(entry.get("bot")).values()]
        if isinstance(entry.get("flow"), str):
            named.append(entry["flow"])
        for path in named:
            if path not in missing and not resolve_path(path, base).exists():
                missing.append(path)
    return missing


def check_files_exist(results: Mapping[str, Any], base: Bases, *, results_file: Path | None = None) -> None:
    """Raise a LoadError naming every bot/flow file of the results that cannot be found (exit 2)."""
    missing = missing_files(results, base)
    if not missing:
        return

    where = [str(b) for b in ([base] if isinstance(base, Path) else list(base or ()))]
    raise LoadError(f"{len(missing)} file(s) the results name cannot be found: {', '.join(missing)}",
                    Location(str(results_file)) if results_file else None,
                    hint="looked relative to " + (", ".join(where) + " and " if where else "")
                    + "the working directory; run the tool where the run ran, or keep the bots and flows "
                    "where they were")


def bot_paths(entry: Any) -> dict[str | None, str]:
    """The `files[...]["bot"]` value as {SID or None: path}."""
    if isinstance(entry, str):
        return {None: entry}
    if isinstance(entry, Mapping):
        return {str(k): str(v) for k, v in entry.items() if isinstance(v, str)}
    return {}


def case_steps(transcript: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every flow step of a conversation (all executions), once each."""
    steps: dict[str, dict[str, Any]] = {}
    ordered: list[dict[str, Any]] = []
    sources = [s for turn in transcript.get("turns") or () for s in turn.get("steps") or ()]
    sources += list((transcript.get("flow") or {}).get("steps") or ())
    for index, step in enumerate(sources):
        key = str(step.get("sid") or f"#{index}")
        if key not in steps:
            steps[key] = step
            ordered.append(step)
    return ordered


def flow_edges(state: State) -> list[tuple[str, str | None]]:
    """(label, next) of each transition coverage counts for a state."""
    edges: list[tuple[str, str | None]] = []
    matches = 0
    for transition in state.transitions:
        if transition.event == "match":
            edges.append((f"match[{matches}] {_condition_label(transition.conditions)}", transition.next))
            matches += 1
        elif transition.event == "noMatch" and state.type == "split-based-on":
            edges.append(("noMatch", transition.next))
        elif transition.next:
            edges.append((transition.event, transition.next))
    if state.type == "split-based-on" and not state.has_event("noMatch"):
        edges.append(("noMatch", None))
    return edges


def _condition_label(conditions: Iterable[Mapping[str, Any]]) -> str:
    parts = []
    for condition in conditions:
        kind = condition.get("type", "?")
        value = condition.get("value")
        parts.append(str(kind) if kind in ("is_blank", "is_not_blank") else f"{kind} {value!r}")
    return " and ".join(parts) or "(no condition)"


def taken_label(state: State, step: Mapping[str, Any]) -> str | None:
    """The coverage label of the transition a step took."""
    event = step.get("event")
    if state.type != "split-based-on" or event != "match":
        return str(event) if event else None
    trace = list(step.get("conditions") or [])
    position = 0
    for index, transition in enumerate(state.match_transitions):
        wanted = max(len(transition.conditions), 1)
        chunk = trace[position:position + wanted]
        if len(chunk) == wanted and all(c.get("matched") for c in chunk):
            return f"match[{index}] {_condition_label(transition.conditions)}"
        failed_at = next((i for i, c in enumerate(chunk) if not c.get("matched")), len(chunk) - 1)
        position += failed_at + 1
    for index, transition in enumerate(state.match_transitions):  # trace missing: go by the next widget
        if transition.next == step.get("next"):
            return f"match[{index}] {_condition_label(transition.conditions)}"
    return None


def _collect_questions(assistant: Assistant) -> list[tuple[str, str, str]]:
    found = []
    for task in assistant.tasks:
        for action in task.actions:
            collect = action.get("collect") if isinstance(action, Mapping) else None
            if not isinstance(collect, Mapping):
                continue
            for question in collect.get("questions") or ():
                if isinstance(question, Mapping) and isinstance(question.get("name"), str):
                    found.append((task.unique_name, str(collect.get("name")), question["name"]))
    return found


def _asked(memory: Mapping[str, Any], questions: list[tuple[str, str, str]]) -> set[tuple[str, str]]:
    """(collect, question) pairs asked so far: answered ones, and the one the collect waits on."""
    collected = ((memory.get("twilio") or {}).get("collected_data") or {}) if isinstance(memory, Mapping) else {}
    asked: set[tuple[str, str]] = set()
    for collect_name, data in collected.items():
        answers = (data or {}).get("answers") or {}
        asked.update((collect_name, q) for q in answers)
        pending = [q for _, c, q in questions if c == collect_name and q not in answers]
        if pending and (data or {}).get("status") in (None, "in-progress", "in_progress"):
            asked.add((collect_name, pending[0]))
    return asked


@dataclass
class _BotSeen:
    tasks: set[str] = field(default_factory=set)
    samples: set[str] = field(default_factory=set)
    fields: set[str] = field(default_factory=set)
    questions: set[str] = field(default_factory=set)


def compute_coverage(results: Mapping[str, Any], *, base: Bases = None) -> CoverageReport:
    """Coverage of every bot and flow file the results name (`base`: see `resolve_path`)."""
    from harness.errors import HarnessError
    from harness.models.assistant_loader import load_assistant
    from harness.models.flow import load_flow

    files = results.get("files") or {}
    bots: dict[str, Assistant] = {}
    flows: dict[str, Flow] = {}
    problems: list[str] = []
    failed: set[str] = set()
    for entry in files.values():
        if not isinstance(entry, Mapping):
            continue
        for path in bot_paths(entry.get("bot")).values():
            if path not in bots and path not in failed:
                try:
                    bots[path] = load_assistant(resolve_path(path, base))
                except HarnessError as err:
                    failed.add(path)
                    problems.append(err.render())
        flow_path = entry.get("flow")
        if isinstance(flow_path, str) and flow_path not in flows and flow_path not in failed:
            try:
                flows[flow_path] = load_flow(resolve_path(flow_path, base))
            except HarnessError as err:
                failed.add(flow_path)  # once: several scenario files share a flow
                problems.append(err.render())
    bot_seen = {path: _BotSeen() for path in bots}
    flow_seen: dict[str, tuple[set[str], set[str]]] = {path: (set(), set()) for path in flows}
    questions = {path: _collect_questions(a) for path, a in bots.items()}

    for case in results.get("cases") or ():
        entry = files.get(case.get("file")) or {}
        transcript = case.get("transcript") or {}
        flow_path = entry.get("flow") if isinstance(entry.get("flow"), str) else None
        flow = flows.get(flow_path) if flow_path else None
        paths = bot_paths(entry.get("bot"))
        for turn in transcript.get("turns") or ():
            path = _bot_of_turn(turn, paths, flow)
            if path not in bot_seen:
                continue
            _bot_turn(turn, bots[path], bot_seen[path], questions[path])
        if flow is not None and flow_path is not None:
            entered, taken = flow_seen[flow_path]
            for step in case_steps(transcript):
                widget = step.get("widget")
                state = flow.state(str(widget)) if widget else None
                if state is None:
                    continue
                entered.add(state.name)
                if step.get("next"):
                    entered.add(str(step["next"]))
                label = taken_label(state, step)
                if label:
                    taken.add(f"{state.name}: {label}")

    bot_reports = []
    for path, assistant in bots.items():
        seen = bot_seen[path]
        bot_reports.append(BotCoverage(
            path=path,
            tasks=_measure(assistant.task_names, seen.tasks),
            samples=_measure((f"{t.unique_name}: {s.tagged_text}" for t in assistant.tasks for s in t.samples),
                             seen.samples),
            fields=_measure((f"{t.unique_name}.{f.unique_name}" for t in assistant.tasks for f in t.fields),
                            seen.fields),
            questions=_measure((f"{t}: {c}.{q}" for t, c, q in questions[path]), seen.questions),
        ))
    flow_reports = []
    for path, flow in flows.items():
        entered, taken = flow_seen[path]
        flow_reports.append(FlowCoverage(
            path=path,
            widgets=_measure(flow.state_names, entered),
            transitions=_measure((f"{s.name}: {label}" for s in flow.states for label, _ in flow_edges(s)), taken),
        ))
    return CoverageReport(bot_reports, flow_reports, len(results.get("cases") or ()), problems)


def _bot_of_turn(turn: Mapping[str, Any], paths: dict[str | None, str], flow: Flow | None) -> str | None:
    if len(paths) == 1:
        return next(iter(paths.values()))
    widget = turn.get("bot")
    if flow is not None and widget:
        state = flow.state(str(widget))
        sid = state.properties.get("autopilot_assistant_sid") if state is not None else None
        if sid in paths:
            return paths[sid]
    return paths.get(None)


def _bot_turn(turn: Mapping[str, Any], assistant: Assistant, seen: _BotSeen,
              questions: list[tuple[str, str, str]]) -> None:
    for name in turn.get("tasks_run") or ([turn["task"]] if turn.get("task") else []):
        seen.tasks.add(str(name))
    task = turn.get("task")
    ranking = turn.get("ranking") or []
    if task and turn.get("routing") in ("exact", "scored") and ranking:
        top = ranking[0]
        if top.get("task") == task and top.get("sample") is not None:
            seen.samples.add(f"{task}: {top['sample']}")
    if task:
        model = assistant.task(str(task))
        for name in turn.get("fields") or {}:
            if model is not None and model.field(name) is not None:
                seen.fields.add(f"{task}.{name}")
    by_collect = {(c, q): t for t, c, q in questions}
    for pair in _asked(turn.get("memory") or {}, questions):
        owner = by_collect.get(pair)
        if owner:
            seen.questions.add(f"{owner}: {pair[0]}.{pair[1]}")


# --- output --------------------------------------------------------------------------------------------

_BOT_ROWS = (("tasks", "tasks run"), ("samples", "samples routed"), ("fields", "fields extracted"),
             ("questions", "collect questions asked"))
_FLOW_ROWS = (("widgets", "widgets entered"), ("transitions", "transitions taken"))


def coverage_text(report: CoverageReport, *, max_missed: int = 50) -> str:
    lines = [f"coverage of {report.cases} case(s): tasks {percent_text(report.task_percent)}, "
             f"transitions {percent_text(report.transition_percent)}"]
    for kind, items, rows in (("bot", report.bots, _BOT_ROWS), ("flow", report.flows, _FLOW_ROWS)):
        for item in items:
            lines.append("")
            lines.append(f"{kind} {item.path}")
            for key, label in rows:
                m: Measure = getattr(item, key)
                lines.append(f"  {label:<24} {m.covered:>4}/{m.total:<4} {percent_text(m.percent):>6}")
                shown = m.missed[:max_missed]
                for name in shown:
                    lines.append(f"    missed: {name}")
                if len(m.missed) > len(shown):
                    lines.append(f"    … and {len(m.missed) - len(shown)} more")
    for problem in report.problems:
        lines.append(f"not loaded: {problem}")
    return "\n".join(lines) + "\n"


def coverage_json(report: CoverageReport) -> str:
    return json.dumps(report.to_dict(), indent=2) + "\n"


def coverage_html_section(report: CoverageReport) -> str:
    """The coverage tables as an HTML fragment (the HTML report embeds it)."""
    esc = html.escape
    parts = [f"<p class='cov-summary'>Tasks {percent_text(report.task_percent)} · transitions "
             f"{percent_text(report.transition_percent)} over {report.cases} case(s)</p>"]
    for kind, items, rows in (("Bot", report.bots, _BOT_ROWS), ("Flow", report.flows, _FLOW_ROWS)):
        for item in items:
            parts.append(f"<h3>{kind} <code>{esc(item.path)}</code></h3><table class='cov'>"
                         "<tr><th>what</th><th>covered</th><th>%</th><th>missed</th></tr>")
            for key, label in rows:
                m: Measure = getattr(item, key)
                missed = "".join(f"<li>{esc(name)}</li>" for name in m.missed)
                meter = (f"<meter min='0' max='100' value='{m.percent:.1f}'></meter> {m.percent:.1f}%"
                         if m.percent is not None else "n/a")
                parts.append(f"<tr><td>{esc(label)}</td><td>{m.covered}/{m.total}</td><td>{meter}</td>"
                             f"<td><ul>{missed}</ul></td></tr>")
            parts.append("</table>")
    return "\n".join(parts)


def coverage_html(report: CoverageReport) -> str:
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Coverage</title><style>"
            "body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}ul{margin:0}"
            "</style></head><body><h1>Coverage</h1>" + coverage_html_section(report) + "</body></html>\n")


COVERAGE_FORMATS = ("text", "json", "html")


def coverage_output(report: CoverageReport, fmt: str = "text") -> str:
    """The report in one of COVERAGE_FORMATS (what `coverage --format` and `run --coverage-format` write)."""
    if fmt == "json":
        return coverage_json(report)
    if fmt == "html":
        return coverage_html(report)
    return coverage_text(report)


def format_for_path(path: str | Path) -> str:
    """The format a coverage file is written in, from its suffix: .json, .html/.htm, else text."""
    suffix = Path(path).suffix.lower()
    return {".json": "json", ".html": "html", ".htm": "html"}.get(suffix, "text")


def coverage_failures(report: CoverageReport, *, tasks: float | None = None,
                      transitions: float | None = None) -> list[str]:
    """One line per `--fail-under-*` limit the report is below (empty: all limits met). A limit on a
    dimension with nothing to cover fails too, saying so: a gate that cannot measure is not a pass."""
    failed = []
    for name, limit, percent, option, absent in (
            ("task", tasks, report.task_percent, "--fail-under-tasks", "no bot tasks in the results"),
            ("transition", transitions, report.transition_percent, "--fail-under-transitions",
             "no Studio flow ran, so there are no transitions")):
        if limit is None:
            continue
        if percent is None:
            failed.append(f"{name} coverage is n/a ({absent}): {option} {limit:g} cannot be checked")
        elif percent < limit:
            failed.append(f"{name} coverage {percent:.1f}% is below {limit:g}%")
    return failed


__all__ = [
    "COVERAGE_FORMATS",
    "BotCoverage",
    "CoverageReport",
    "FlowCoverage",
    "Measure",
    "check_files_exist",
    "compute_coverage",
    "coverage_failures",
    "coverage_html",
    "coverage_json",
    "coverage_output",
    "coverage_text",
    "format_for_path",
    "load_results",
    "missing_files",
    "percent_text",
    "resolve_path",
    "results_bases",
]
