"""Lint rules beyond validity: an assistant's training data and a Studio flow's wiring (issue 6 §1).

Every rule has an id (`AP1xx` assistant, `ST2xx` Studio flow, `XF3xx` a flow checked against its bot),
a severity and a one-line why (`RULES`). A finding is a `LintFinding`, a `HarnessError` carrying its rule,
so `autopilot-harness lint` prints it like any other problem, with file, JSON Pointer and line.

Disabling: `--disable ID` on the command line, or in pyproject.toml

    [tool.autopilot-harness.lint]
    disable = ["AP101"]
    per-file-disable = {"flows/legacy_*.json" = ["ST205"]}

(JSON files cannot hold comments, and a stray key would change what Twilio imports, so nothing is read
from the linted file itself.)
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

from harness.errors import HarnessError, Location, escape_pointer
from harness.models.assistant import Assistant, Task, task_target
from harness.models.flow import Flow, State

# --- rules ---------------------------------------------------------------------------------------------

ERROR, WARNING, NOTE = "error", "warning", "note"


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: str  # "error" fails `lint` (exit 1); "warning" and "note" do not
    why: str


RULES: dict[str, Rule] = {rule.id: rule for rule in (
    Rule("AP101", "few-samples", WARNING,
         "the handoff guide recommends at least 10 samples per task; fewer make routing fragile"),
    Rule("AP102", "unreachable-task", WARNING,
         "a task without samples that no redirect, default or flow names can never run"),
    Rule("AP103", "duplicate-sample", WARNING,
         "the same sample in two tasks is a coin toss: Autopilot (and our router) can only pick one"),
    Rule("AP104", "sample-routes-elsewhere", WARNING,
         "a sample that routes to another task when the model is trained without it is likely confused"),
    Rule("AP105", "dialogue-ends-early", WARNING,
         "a task run to carry the conversation on (after a collect, a fallback) ends it when it has no listen"),
    Rule("AP106", "default-missing-task", WARNING,
         "a default naming a missing task fails the moment Autopilot uses it"),
    Rule("AP107", "handoff-placeholder-uri", ERROR,
         "a voice handoff to a template placeholder (taskrouter://undefined, 'INSERT TASK ROUTER WORKFLOW "
         "SID') transfers the call nowhere: the caller is cut off"),
    Rule("ST201", "split-on-unknown-widget", ERROR,
         "a split reading widgets.X where the flow has no widget X always sees an empty value"),
    Rule("ST202", "liquid-unknown-reference", WARNING,
         "Studio renders an unknown widget, variable or root as an empty string, silently"),
    Rule("ST203", "json-not-valid", ERROR,
         "Send to Flex parses its rendered attributes as JSON (invalid JSON fails the handoff); a JSON HTTP "
         "Request body that does not parse is rejected by the server"),
    Rule("ST204", "autopilot-sender", WARNING,
         "the guide's 'Send Message From': chat → the bot's name, messaging without Flex → the default "
         "{{flow.channel.address}}, messaging with Flex → {{trigger.message.ChannelAttributes.from}}"),
    Rule("ST205", "unhandled-failure", WARNING,
         "a failure or timeout event without a next ends the execution without telling the user"),
    Rule("ST206", "unreachable-state", WARNING,
         "a widget no transition leads to never runs"),
    Rule("ST207", "unescaped-text-in-json", WARNING,
         "a guest's text (an answer, a message body, a memory value) quoted inside JSON without | to_json "
         "breaks the JSON as soon as it holds a quote, a backslash or a newline"),
    Rule("XF301", "flow-names-unknown-task", ERROR,
         "the flow tests CurrentTask against (or targets) a task the bot does not have"),
)}


class LintFinding(HarnessError):
    """One rule's finding at one place."""

    kind = "lint"

    def __init__(self, rule_id: str, message: str, location: Location | None = None, hint: str | None = None
                 ) -> None:
        super().__init__(message, location, hint)
        self.rule = RULES[rule_id]

    @property
    def severity(self) -> str:
        return self.rule.severity

    def render(self) -> str:
        head = f"{self.location}: {self.message} [{self.rule.id}]" if self.location else \
            f"{self.message} [{self.rule.id}]"
        return head + (f"\n  hint: {self.hint}" if self.hint else "")


# --- configuration -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LintConfig:
    disabled: frozenset[str] = frozenset()
    per_file: tuple[tuple[str, frozenset[str]], ...] = ()  # (glob, rule ids)
    # AP104 routes samples with this confidence threshold: `[tool.autopilot-harness] threshold` or
    # `lint --threshold`, so lint judges samples as `run`, chat and pytest route them (None: the default).
    threshold: float | None = None
    router: str | None = None  # `[tool.autopilot-harness] router` (None: the default router)
    min_score: float | None = None  # `[tool.autopilot-harness] min_score` (None: the router's default)
    # The folder of the pyproject.toml the patterns came from: `per-file-disable` globs are relative to it,
    # whatever the working directory and however the file was typed (relative, absolute, `../x`).
    root: Path | None = None

    def enabled(self, rule_id: str, path: str | None = None) -> bool:
        if rule_id in self.disabled:
            return False
        if path:
            candidates = self._match_paths(path)
            for pattern, ids in self.per_file:
                if rule_id in ids and any(fnmatch.fnmatch(c, pattern) or c.endswith("/" + pattern)
                                          for c in candidates):
                    return False
        return True

    def _match_paths(self, path: str) -> list[str]:
        """The path as typed and, under `root`, relative to it (the form the patterns are written in)."""
        forms = [Path(path).as_posix()]
        if self.root is not None:
            absolute = Path(os.path.abspath(path))
            root = Path(os.path.abspath(self.root))
            if absolute.is_relative_to(root):  # outside the project only the path as typed can match
                forms.insert(0, absolute.relative_to(root).as_posix())
        return forms

    def with_disabled(self, ids: Sequence[str]) -> LintConfig:
        return replace(self, disabled=self.disabled | frozenset(_split_ids(ids)))


def _split_ids(items: Sequence[str], *, where: str = "--disable") -> list[str]:
    ids = [part.strip().upper() for item in items for part in str(item).split(",") if part.strip()]
    unknown = [i for i in ids if i not in RULES]
    if unknown:
        from harness.errors import UsageError

        raise UsageError(f"{where}: unknown lint rule id(s): {', '.join(unknown)}; rules: {', '.join(RULES)}")
    return ids


LINT_KEYS = ("disable", "per-file-disable")


def load_config(start: Path | None = None, *, files: Sequence[str | Path] = ()) -> LintConfig:
    """`[tool.autopilot-harness.lint]` of the pyproject.toml the linted `files` belong to (the nearest one
    above their common folder, as `threshold` is found), else the nearest one at or above `start` (default:
    the working directory). Every value is type-checked: a bad one is a UsageError naming the key.

    Patterns of `per-file-disable` are matched against each file's path relative to that pyproject's folder.
    """
    from harness.runner.settings import find_pyproject, read_settings

    pyproject = find_pyproject(files or ([start] if start is not None else []))
    settings = read_settings(pyproject)
    if pyproject is None:
        return LintConfig()
    table = (settings.raw or {}).get("lint", {})
    return _config_from_table(table, pyproject)


def _config_from_table(table: Any, pyproject: Path) -> LintConfig:
    from difflib import get_close_matches

    from harness.errors import UsageError

    name = "[tool.autopilot-harness.lint]"

    def bad(key: str | None, expected: str, value: Any) -> UsageError:
        label = f"{name} {key}" if key else name
        return UsageError(f"{label}: expected {expected}, found {value!r} ({type(value).__name__})",
                          Location(str(pyproject), f"/tool/autopilot-harness/lint{'/' + key if key else ''}"))

    if not isinstance(table, dict):
        raise bad(None, 'a table (disable = ["AP101"], per-file-disable = {"glob" = ["ST205"]})', table)
    for key in table:
        if key not in LINT_KEYS:  # a typo ("disabled") would otherwise silently disable nothing
            close = get_close_matches(str(key), LINT_KEYS, n=1)
            raise UsageError(f"{name}: unknown key {key!r}; keys: {', '.join(LINT_KEYS)}",
                             Location(str(pyproject), f"/tool/autopilot-harness/lint/{key}"),
                             hint=f"did you mean '{close[0]}'?" if close else None)
    disable = table.get("disable", [])
    if not isinstance(disable, list) or not all(isinstance(i, str) for i in disable):
        raise bad("disable", 'a list of rule ids such as ["AP101"]', disable)
    per_file_table = table.get("per-file-disable", {})
    if not isinstance(per_file_table, dict):
        raise bad("per-file-disable", 'a table of glob = [rule ids], e.g. {"flows/*.json" = ["ST205"]}',
                  per_file_table)
    per_file = []
    for glob, ids in per_file_table.items():
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise bad(f"per-file-disable.{glob}", 'a list of rule ids such as ["ST205"]', ids)
        per_file.append((str(glob), frozenset(_split_ids(ids, where=f"{pyproject}: {name} per-file-disable"))))
    disabled = frozenset(_split_ids(disable, where=f"{pyproject}: {name} disable"))
    return LintConfig(disabled, tuple(per_file), root=pyproject.parent.resolve())


# --- shared helpers ------------------------------------------------------------------------------------


def _task_refs(value: Any, pointer: str) -> Iterator[tuple[str, str]]:
    """Every `task://name` string inside an Actions value, with its pointer."""
    if isinstance(value, str):
        name = task_target(value)
        if name:
            yield name, pointer
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _task_refs(item, f"{pointer}/{escape_pointer(key)}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _task_refs(item, f"{pointer}/{index}")


def _actions_pointer(task: Task) -> str:
    return f"{task.pointer}/actions/actions"


def _action_names(task: Task) -> set[str]:
    return {name for action in task.actions if isinstance(action, Mapping) for name in action}


# Example values put into a tagged sample ("need {item}") so it can be routed like a user message.
_BUILTIN_EXAMPLES = {
    "Twilio.NUMBER": "3", "Twilio.NUMBER_SEQUENCE": "1234", "Twilio.DATE": "June 5", "Twilio.TIME": "5 pm",
    "Twilio.FIRST_NAME": "Alex", "Twilio.LAST_NAME": "Smith", "Twilio.CITY": "Seattle",
    "Twilio.COUNTRY": "France", "Twilio.US_STATE": "Texas", "Twilio.PHONE_NUMBER": "+15551234567",
    "Twilio.EMAIL": "alex@example.com", "Twilio.YES_NO": "yes", "Twilio.ALPHANUMERIC": "ab12",
    "Twilio.LANGUAGE": "French", "Twilio.MONTH": "June", "Twilio.DAY_OF_WEEK": "Monday",
    "Twilio.ORDINAL": "third", "Twilio.CURRENCY": "10 dollars", "Twilio.DURATION": "2 hours",
}
_TAG = re.compile(r"\{([^{}]*)\}")


def sample_utterance(assistant: Assistant, task: Task, tagged_text: str) -> str:
    """A tagged sample as a user would say it: each `{field}` replaced by a value of the field's type."""

    def fill(match: re.Match[str]) -> str:
        task_field = task.field(match.group(1).strip())
        if task_field is None:
            return match.group(1)
        custom = assistant.field_type(task_field.field_type)
        if custom is not None and custom.values:
            return custom.values[0].value
        return _BUILTIN_EXAMPLES.get(task_field.field_type, "something")

    return _TAG.sub(fill, tagged_text)


# --- assistant rules -----------------------------------------------------------------------------------


@dataclass
class _Finder:
    config: LintConfig
    path: str | None
    findings: list[LintFinding] = field(default_factory=list)

    def add(self, rule_id: str, message: str, location: Location | None, hint: str | None = None,
            *, severity: str | None = None) -> None:
        """Record a finding unless its rule is disabled; `severity` overrides the rule's for this one."""
        if not self.config.enabled(rule_id, self.path):
            return
        finding = LintFinding(rule_id, message, location, hint)
        if severity is not None and severity != finding.rule.severity:
            finding.rule = replace(finding.rule, severity=severity)
        self.findings.append(finding)

    def wants(self, *rule_ids: str) -> bool:
        return any(self.config.enabled(r, self.path) for r in rule_ids)


# Functions that answer Actions may redirect to tasks (`task://name` in their source): AP102 counts those as
# references. The folder read is the Serverless project's `functions/` beside the assistant export, as
# `functions:` in a scenario file serves it. Bounded: at most this many files, each read up to this size.
FUNCTION_SOURCE_SUFFIXES = (".js", ".mjs", ".cjs", ".ts")
MAX_FUNCTION_FILES = 500
MAX_FUNCTION_SOURCE_BYTES = 1_000_000
_TASK_URI = re.compile(r"task://([A-Za-z0-9_-]+)")


def function_task_names(folders: Sequence[Path]) -> dict[str, str]:
    """Task names written literally as `task://name` in Function sources under `folders` → the file.

    A name built at run time (`task://${name}`) is not seen: such a task still needs samples or a reference.
    """
    found: dict[str, str] = {}
    files = 0
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.suffix not in FUNCTION_SOURCE_SUFFIXES or "node_modules" in path.parts or not path.is_file():
                continue
            files += 1
            if files > MAX_FUNCTION_FILES:
                return found
            try:
                with path.open("rb") as handle:
                    text = handle.read(MAX_FUNCTION_SOURCE_BYTES).decode("utf-8", "replace")
            except OSError:
                continue
            for name in _TASK_URI.findall(text):
                found.setdefault(name, str(path))
    return found


def lint_assistant(assistant: Assistant, *, flows: Sequence[Flow] = (), config: LintConfig | None = None,
                   route_samples: bool = True, function_folders: Sequence[Path] | None = None) -> list[LintFinding]:
    """AP1xx findings for one assistant; `flows` that drive it name tasks too (target_task, CurrentTask), and
    so do Functions (`function_folders`; by default the `functions/` folder beside the assistant file)."""
    find = _Finder(config or LintConfig(), assistant.path)
    loc = assistant.location
    names = set(assistant.task_names)
    referenced: dict[str, str] = {}  # task → where it is named
    for task in assistant.tasks:
        for name, _pointer in _task_refs(list(task.actions), _actions_pointer(task)):
            referenced.setdefault(name, f"task {task.unique_name}")
    defaults = {"assistant_initiation": assistant.defaults.assistant_initiation,
                "fallback": assistant.defaults.fallback,
                "collect.validate_on_failure": assistant.defaults.validate_on_failure}
    for key, uri in defaults.items():
        name = task_target(uri or "")
        if not name:
            continue
        referenced.setdefault(name, f"defaults.{key}")
        if name not in names:
            find.add("AP106", f"defaults.{key} '{uri}' names no task of the assistant",
                     loc("/defaults/defaults/" + key.replace(".", "/")), hint="tasks: " + ", ".join(sorted(names)))
    flow_tasks = {task for flow in flows for task in _flow_task_names(flow)}
    for name in flow_tasks:
        referenced.setdefault(name, "a flow")
    if function_folders is None:
        function_folders = [Path(assistant.path).parent / "functions"] if assistant.path else []
    for name, source in function_task_names(function_folders).items():
        referenced.setdefault(name, f"a Function ({source})")

    for task in assistant.tasks:
        count = len(task.samples)
        if 0 < count < 10:
            find.add("AP101", f"task '{task.unique_name}' has {count} sample(s); at least 10 are recommended",
                     loc(f"{task.pointer}/samples"))
        if count == 0 and task.unique_name not in referenced:
            also = (" (unless an Action URL redirects to it: lint reads task://names in functions/ beside the "
                    "assistant)") if any(t.actions_url for t in assistant.tasks) else ""
            find.add("AP102", f"task '{task.unique_name}' has no samples and nothing redirects to it{also}",
                     loc(task.pointer), hint="add samples, or point a default or a redirect at it")

    if find.wants("AP103"):
        _duplicate_samples(assistant, find)
    if route_samples and find.wants("AP104"):
        _misrouted_samples(assistant, find, threshold=find.config.threshold, router=find.config.router,
                           min_score=find.config.min_score)
    if find.wants("AP105"):
        _ends_early(assistant, flow_tasks, find)
    if find.wants("AP107"):
        for task in assistant.tasks:
            handoff_placeholders(list(task.actions), _actions_pointer(task), find, loc)
    return find.findings


def lint_actions(source: Any, *, config: LintConfig | None = None) -> list[LintFinding]:
    """AP1xx findings for an Actions document (what a Function answers): today AP107."""
    find = _Finder(config or LintConfig(), source.path)
    data = source.data if isinstance(source.data, Mapping) else {}
    handoff_placeholders(list(data.get("actions") or ()), "/actions", find, source.locate)
    return find.findings


# A handoff URL that is a template's placeholder, not an address: the Actions templates' own
# "INSERT … HERE", "YOUR_…", deploy-time ${…}, a JavaScript `undefined`/`null` concatenated in.
_PLACEHOLDER_WORDS = re.compile(r"INSERT|YOUR[ _]|\$\{|\{\{|<[^>]*>|\bundefined\b|\bnull\b|\bNaN\b", re.IGNORECASE)
_WORKFLOW_SID = re.compile(r"^WW[0-9a-fA-F]{32}$")
_HANDOFF_URL_KEYS = ("uri", "wait_url", "action", "voice_status_callback_url")


def handoff_placeholders(actions: Sequence[Any], pointer: str, find: _Finder,
                         locate: Callable[[str], Location | None]) -> None:
    """AP107: a handoff `uri` (and its wait/action/status callback URLs) that is a placeholder."""
    for index, action in enumerate(actions):
        spec = action.get("handoff") if isinstance(action, Mapping) else None
        if not isinstance(spec, Mapping):
            continue
        for key in _HANDOFF_URL_KEYS:
            value = spec.get(key)
            if not isinstance(value, str):
                continue
            problem = _placeholder_problem(value, workflow_allowed=key == "uri")
            if problem:
                find.add("AP107", f"handoff {key} {value!r} {problem}",
                         locate(f"{pointer}/{index}/handoff/{key}"),
                         hint="put the real Workflow SID (taskrouter://WW…) or TwiML URL before deploying")


def _placeholder_problem(value: str, *, workflow_allowed: bool) -> str | None:
    if workflow_allowed and value.startswith("taskrouter://"):
        sid = value.removeprefix("taskrouter://")
        if _WORKFLOW_SID.match(sid):
            return None
        return "names no Workflow SID (WW followed by 32 hex digits): it is a placeholder"
    if _PLACEHOLDER_WORDS.search(value):
        return "is a placeholder, not a URL"
    if not re.match(r"^https?://[^\s/]+", value) or re.search(r"\s", value):
        return "is not an http(s) URL"
    return None


def _normal(text: str) -> str:
    from harness.engines.autopilot.field_text import normalize

    return normalize(text)


def _duplicate_samples(assistant: Assistant, find: _Finder) -> None:
    first_seen: dict[str, tuple[str, int]] = {}
    for task in assistant.tasks:
        for index, sample in enumerate(task.samples):
            key = _normal(sample.tagged_text)
            if not key:
                continue
            seen = first_seen.setdefault(key, (task.unique_name, index))
            if seen[0] != task.unique_name:
                find.add("AP103", f"sample {sample.tagged_text!r} of task '{task.unique_name}' is also a sample "
                         f"of task '{seen[0]}'", assistant.location(f"{task.pointer}/samples/{index}/taggedText"),
                         hint="keep it in the one task it means")


# Leave-one-out retrains the router once per sample (~20 ms each at 1,400 samples: 30 s). Above this many
# samples AP104 and `nlu-eval --leave-one-out` hold out a stratified tenth at a time instead (10 trainings),
# which asks the same question ("where does it go when the model has not seen it?") in well under a second.
MAX_LEAVE_ONE_OUT = 300
LARGE_BOT_FOLDS = 10


def holdout_groups(assistant: Assistant, folds: int | None) -> list[list[tuple[int, int]]]:
    """(task index, sample index) groups to hold out together: one per sample (`folds=None`), else
    stratified folds (each task's samples dealt round-robin), empty folds dropped."""
    ids = [(i, j) for i, task in enumerate(assistant.tasks) for j in range(len(task.samples))]
    if folds is None:
        return [[sample_id] for sample_id in ids]
    groups: list[list[tuple[int, int]]] = [[] for _ in range(folds)]
    for i, task in enumerate(assistant.tasks):
        for j in range(len(task.samples)):
            groups[j % folds].append((i, j))
    return [g for g in groups if g]


def without_samples(assistant: Assistant, held_out: set[tuple[int, int]]) -> Assistant:
    """A copy of the assistant without the (task index, sample index) samples in `held_out`."""
    tasks = tuple(replace(task, samples=tuple(s for j, s in enumerate(task.samples) if (i, j) not in held_out))
                  if any(k == i for k, _ in held_out) else task for i, task in enumerate(assistant.tasks))
    return replace(assistant, tasks=tasks)


def _misrouted_samples(assistant: Assistant, find: _Finder, *, threshold: float | None = None,
                       router: str | None = None, min_score: float | None = None) -> None:
    """AP104: route each sample with a model trained without it — leave-one-out, or 10-fold for large
    bots (`MAX_LEAVE_ONE_OUT`) — and report where it goes instead."""
    from harness.engines.autopilot.runtime import AutopilotRuntime
    from harness.errors import EngineError

    options: dict[str, Any] = {"min_score": min_score}
    if threshold is not None:
        options["threshold"] = threshold
    if router:
        options["router"] = router
    runtime = AutopilotRuntime(**options)
    total = sum(len(t.samples) for t in assistant.tasks)
    folds = None if total <= MAX_LEAVE_ONE_OUT else LARGE_BOT_FOLDS
    how = "when trained without it" if folds is None else \
        f"when trained without it ({folds}-fold: the bot has {total} samples)"
    misrouted = []
    for group in holdout_groups(assistant, folds):
        try:
            trained = runtime.train(without_samples(assistant, set(group)))
        except EngineError:
            return  # a sample tags an unknown field: the loader reports that
        for task_index, index in group:
            task = assistant.tasks[task_index]
            sample = task.samples[index]
            routing = trained.route(sample_utterance(assistant, task, sample.tagged_text))
            # No task (the fallback) is not "another task"; only a confident other task is a finding.
            if routing.task is not None and routing.task != task.unique_name:
                misrouted.append((task_index, index, routing))
    for task_index, index, routing in sorted(misrouted, key=lambda item: item[:2]):  # file order
        task = assistant.tasks[task_index]
        sample = task.samples[index]
        find.add("AP104", f"sample {sample.tagged_text!r} of task '{task.unique_name}' routes to "
                 f"'{routing.task}' (confidence {routing.confidence:.2f}) {how}",
                 assistant.location(f"{task.pointer}/samples/{index}/taggedText"),
                 hint="reword it, or add samples like it to its task")


def without_sample(assistant: Assistant, task_index: int, sample_index: int) -> Assistant:
    """A copy of the assistant with one sample removed (for leave-one-out)."""
    return without_samples(assistant, {(task_index, sample_index)})


_CONTINUES = {"listen", "collect", "redirect", "handoff"}
_CONTINUATION_NAME = re.compile(r"^complete_|_complete$|fallback")


def _ends_early(assistant: Assistant, handoff_tasks: set[str], find: _Finder) -> None:
    """AP105: tasks the bot runs to go on (collect on_complete targets, complete_*, fallbacks) that end."""
    after_collect: set[str] = set()
    for task in assistant.tasks:
        for action in task.actions:
            collect = action.get("collect") if isinstance(action, Mapping) else None
            on_complete = collect.get("on_complete") if isinstance(collect, Mapping) else None
            for name, _ in _task_refs(on_complete, ""):
                after_collect.add(name)
    fallbacks = {task_target(u or "") for u in (assistant.defaults.fallback, assistant.defaults.validate_on_failure)}
    for task in assistant.tasks:
        if task.actions_url or task.unique_name in handoff_tasks or not task.actions:
            continue
        if _action_names(task) & _CONTINUES:
            continue
        # Only a task that asks something: a deliberate closing line ("See you at 7!") may end the dialogue.
        if not _asks_question(task):
            continue
        why = ("it completes a collect" if task.unique_name in after_collect else
               "it is a default fallback" if task.unique_name in fallbacks else
               "its name says it continues a request" if _CONTINUATION_NAME.search(task.unique_name) else None)
        find.add("AP105", f"task '{task.unique_name}' asks a question but ends the dialogue (no listen, collect "
                 f"or redirect), so the answer goes to a new routing" + (f"; {why}" if why else ""),
                 assistant.location(_actions_pointer(task)),
                 hint='add {"listen": true} so the user\'s answer reaches the bot in the same dialogue')


def _asks_question(task: Task) -> bool:
    """Whether the task's last `say` ends with a question mark (speech or text)."""
    said = [action.get("say") for action in task.actions if isinstance(action, Mapping) and "say" in action]
    if not said:
        return False
    last = said[-1]
    if isinstance(last, Mapping):  # {"speech": …} or a rich say
        last = last.get("speech") or last.get("text") or ""
    return isinstance(last, str) and last.rstrip().rstrip('"\'”’)').endswith("?")


# --- Studio flow rules ---------------------------------------------------------------------------------


def _liquid_env() -> Any:
    from harness.engines.studio.liquid import StudioLiquid

    return StudioLiquid(unknown_filters="ignore").env


def _strings(value: Any, pointer: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield value, pointer
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if key != "offset":
                yield from _strings(item, f"{pointer}/{escape_pointer(key)}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings(item, f"{pointer}/{index}")


def _paths(env: Any, text: str) -> list[list[str]]:
    """The global variable paths a template reads (string segments only), [] when it does not parse."""
    from harness.engines.studio.liquid import is_template

    if not is_template(text):
        return []
    try:
        analysis = env.from_string(text).analyze()
    except Exception:  # syntax errors are the loader's and the engine's to report
        return []
    found = []
    for refs in analysis.globals.values():
        for ref in refs:
            segments = []
            for segment in ref.segments:
                if not isinstance(segment, str):
                    break
                segments.append(segment)
            found.append(segments)
    return found


def _flow_templates(flow: Flow) -> Iterator[tuple[State, str, str]]:
    """(state, text, pointer) for every string in properties and split conditions."""
    for state in flow.states:
        yield from ((state, text, p) for text, p in _strings(state.properties, f"{state.pointer}/properties"))
        for transition in state.transitions:
            for index, condition in enumerate(transition.conditions):
                for text, p in _strings(condition, f"{transition.pointer}/conditions/{index}"):
                    yield state, text, p


def _set_variables(flow: Flow) -> set[str]:
    names = set()
    for state in flow.states:
        if state.type == "set-variables":
            for item in state.properties.get("variables") or ():
                if isinstance(item, Mapping) and isinstance(item.get("key"), str):
                    names.add(item["key"].strip())
    return names


# Failure / timeout events whose missing `next` silently ends the execution.
FAILURE_EVENTS = {
    "send-to-auto-pilot": ("failure", "timeout"),
    "make-http-request": ("failed",),
    "run-function": ("fail",),
    "run-subflow": ("failed",),
    "send-to-flex": ("failedToEnqueue",),
    "send-message": ("failed",),
    "send-and-wait-for-reply": ("timeout", "deliveryFailure"),
    "gather-input-on-call": ("timeout",),
    "enqueue-call": ("failedToEnqueue", "callFailure"),
    "record-call": ("failed",),
    "add-twiml-redirect": ("timeout", "fail"),
}
DEFAULT_SENDER = "{{flow.channel.address}}"
FLEX_MESSAGING_SENDER = "{{trigger.message.ChannelAttributes.from}}"


def lint_flow(flow: Flow, *, bots: Mapping[str | None, Assistant] | None = None,
              config: LintConfig | None = None) -> list[LintFinding]:
    """ST2xx findings for one flow, and XF3xx when the bots of its Autopilot widgets are known."""
    from harness.engines.studio.liquid import CONTEXT_ROOTS, TRIGGER_KINDS

    find = _Finder(config or LintConfig(), flow.path)
    loc = flow.location
    names = set(flow.state_names)
    env = _liquid_env()
    variables = _set_variables(flow)
    trusted = _trusted_variables(flow, env)
    reported: set[tuple[str, str]] = set()
    for state, text, pointer in _flow_templates(flow):
        is_split_input = state.type == "split-based-on" and (
            pointer.endswith("/properties/input") or "/arguments/" in pointer)
        for path in _paths(env, text):
            root = path[0] if path else ""
            problem = hint = None
            if root == "widgets" and len(path) > 1 and path[1] not in names:
                if is_split_input:
                    find.add("ST201", f"split '{state.name}' tests widgets.{path[1]}, but the flow has no widget "
                             f"'{path[1]}'", loc(pointer), hint=_close(path[1], names))
                    continue
                problem = f"widgets.{path[1]} names no widget of the flow"
                hint = _close(path[1], names)
            elif root == "flow" and len(path) > 2 and path[1] == "variables" and path[2] not in variables:
                problem = f"flow.variables.{path[2]} is never set by a set-variables widget"
                hint = _close(path[2], variables)
            elif root == "trigger" and len(path) > 1 and path[1] not in TRIGGER_KINDS:
                problem = f"trigger.{path[1]} is not a trigger kind ({', '.join(TRIGGER_KINDS)})"
            elif root and root not in CONTEXT_ROOTS:
                problem = f"'{root}' is not a Studio variable (roots: {', '.join(CONTEXT_ROOTS)})"
            if problem and (pointer, problem) not in reported:
                reported.add((pointer, problem))
                find.add("ST202", f"{state.name}: {problem}; it renders as an empty string", loc(pointer),
                         hint=hint)

    for state in flow.states:
        if find.wants("ST203", "ST207"):
            _json_properties(flow, state, env, trusted, find)
        unhandled = [event for event in FAILURE_EVENTS.get(state.type, ()) if state.next_for(event) is None]
        if state.type == "send-message" and state.next_for("sent") is None:
            unhandled = []  # the flow's last message: failed or sent, the execution ends there anyway
        if unhandled:
            events = " and ".join(f"'{e}'" for e in unhandled)
            find.add("ST205", f"{state.type} '{state.name}': {events} lead(s) nowhere, so the execution ends "
                     "silently there", loc(state.pointer + "/transitions"),
                     hint="send the user a message or hand the conversation to an agent")
    reachable = _reachable(flow)
    for state in flow.states:
        if state.name not in reachable:
            find.add("ST206", f"widget '{state.name}' ({state.type}) is not reachable from "
                     f"'{flow.initial_state}'", loc(state.pointer))
    _linked_rules(flow, bots or {}, find)
    return find.findings


def _close(name: str, names: set[str]) -> str | None:
    import difflib

    close = difflib.get_close_matches(name, sorted(names), n=1)
    return f"did you mean '{close[0]}'?" if close else None


def _reachable(flow: Flow) -> set[str]:
    seen, todo = set(), [flow.initial_state]
    while todo:
        name = todo.pop()
        state = flow.state(name)
        if state is None or name in seen:
            continue
        seen.add(name)
        todo.extend(t.next for t in state.transitions if t.next)
    return seen


def _skeleton(paths: list[list[str]], leaf: str,
              override: tuple[list[str], str] | None = None) -> dict[str, Any]:
    """A context in which every path read by a template holds `leaf` (prefixes become objects).

    `override` gives one leaf path another value (the guest's text for ST207).
    """
    root: dict[str, Any] = {}
    for path in sorted(paths, key=len, reverse=True):
        node = root
        for segment in path[:-1]:
            child = node.get(segment)
            if not isinstance(child, dict):
                child = node[segment] = {}
            node = child
        if path and path[-1] not in node:
            node[path[-1]] = leaf
    if override is not None and override[0]:
        node = root
        for segment in override[0][:-1]:
            node = node.setdefault(segment, {})
        node[override[0][-1]] = override[1]
    return root


def _json_properties(flow: Flow, state: State, env: Any, trusted: set[str], find: _Finder) -> None:
    """ST203/ST207 on the properties Twilio reads as JSON after rendering them."""
    properties = state.properties
    if state.type == "send-to-flex":
        _json_template(flow, state, "attributes", f"send-to-flex '{state.name}': attributes", env, trusted, find)
    elif state.type == "make-http-request" and _is_json_content(properties.get("content_type")):
        _json_template(flow, state, "body", f"make-http-request '{state.name}': the JSON body", env, trusted,
                       find)


def _is_json_content(content_type: Any) -> bool:
    # "application/json;charset=utf-8" is what Studio's editor writes; the media type decides.
    return isinstance(content_type, str) and content_type.split(";")[0].strip().lower() == "application/json"


def _json_template(flow: Flow, state: State, key: str, label: str, env: Any, trusted: set[str],
                   find: _Finder) -> None:
    """Render a JSON template three ways and parse each result.

    1. every variable set to plain text (ERROR when it does not parse: the template itself is broken);
    2. every variable empty (WARNING: a widget that did not run breaks it);
    3. one variable at a time set to a guest's awkward text, `"`, `\\` and a newline (ST207 WARNING: the
       value is quoted without `| to_json`). Trusted variables (SIDs, task names, phone numbers…) are skipped.
    """
    text = state.properties.get(key)
    if not isinstance(text, str) or not text.strip() or "${" in text:
        return  # `${…}` is a deploy-time (Terraform) substitution: the JSON only exists after it
    try:
        template = env.from_string(text)
    except Exception:
        return  # a Liquid syntax error: the engine reports it
    where = flow.location(f"{state.pointer}/properties/{key}")
    paths = _paths(env, text)
    hint = 'quote string values ("{{…}}") and pass objects through | to_json'
    for description, context, severity in (("with every variable set", _skeleton(paths, "text"), ERROR),
                                           ("when its variables are empty", {}, WARNING)):
        problem = _json_problem(template, context, description)
        if problem:
            message = f"{label} {problem}"
            if severity == WARNING:
                message += " — a missing widget or variable breaks it"
            find.add("ST203", message, where, hint, severity=severity)
            return  # broken already: the guest's text cannot make it worse
    breaking: list[str] = []
    for path in _leaf_paths(paths):
        dotted = ".".join(path)
        if dotted in trusted or _is_trusted(path) or dotted in breaking:
            continue
        if _json_problem(template, _skeleton(paths, "text", override=(path, GUEST_TEXT)), "") is not None:
            breaking.append(dotted)
    if breaking:
        names, example = ", ".join(breaking), breaking[0]
        which = names if len(breaking) == 1 else f"any of {names}"
        if _quoted_alone(text, breaking[0]):
            hint = (f'write {{{{{example} | to_json}}}} without the surrounding quotes: to_json adds the quotes '
                    "and escapes the text")
        else:  # mixed into a longer string: escape the whole string at once
            hint = (f"build the string first ({{% capture text %}}…{{{{{example}}}}}…{{% endcapture %}}) and "
                    "write {{text | to_json}} without quotes: to_json adds the quotes and escapes it")
        find.add("ST207", f"{label} is not valid JSON when {which} holds text with a quote, a backslash or "
                 "a newline, as a guest's text can", where, hint)


def _quoted_alone(text: str, dotted: str) -> bool:
    """Whether the template writes `"{{dotted}}"`: the variable is the whole JSON string."""
    path = r"\s*\.\s*".join(re.escape(part) for part in dotted.split("."))
    return re.search(r'"\{\{-?\s*' + path + r'\s*-?\}\}"', text) is not None


# What a guest may type: a quote, a backslash and a line break each break a hand-quoted JSON string.
GUEST_TEXT = 'I want an "agent" \\ now\nplease'


def _json_problem(template: Any, context: Mapping[str, Any], description: str) -> str | None:
    """Why the template's rendering is not a JSON object, or None when it is (or cannot be rendered)."""
    try:
        rendered = template.render(**context)
    except Exception:
        return None  # a render error is the engine's to report
    try:
        value = json.loads(rendered)
    except json.JSONDecodeError as err:
        return f"is not valid JSON {description} ({err.msg} at column {err.colno}): {_snippet(rendered, err.pos)}"
    return None if isinstance(value, dict) else f"renders to a JSON {type(value).__name__}, not an object"


def _leaf_paths(paths: list[list[str]]) -> list[list[str]]:
    """Paths that hold a value, not an object: no other path read by the template extends them."""
    keys = {tuple(p) for p in paths if p}
    return [list(p) for p in sorted(keys) if not any(len(o) > len(p) and o[:len(p)] == p for o in keys)]


# Values no guest types: IDs Twilio assigns, task names, phone numbers / channel identities, carrier data,
# HTTP status codes, keypad digits, the flow's own sent message (`widgets.X.outbound`) and `flow.data`
# (set by the caller of the Executions API, i.e. the team's own back end). `ChannelAttributes.from` is
# the chat identity that Flex's own default flows quote. Everything else counts as a guest's text.
_TRUSTED_LEAVES = {"CurrentTask", "CurrentTaskConfidence", "Channel", "status_code", "content_type", "Digits",
                   "From", "To", "from", "channel_type", "Source", "twilioNumber", "address", "flow_sid"}
_GUEST_PARTS = {"memory", "Body", "inbound", "pre_engagement_data", "parsed", "body", "SpeechResult",
                "CurrentInput", "Author", "data", "variables"}


def _is_trusted(path: Sequence[str]) -> bool:
    if len(path) < 2:
        return False
    root, leaf = path[0], path[-1]
    if root == "flow" and path[1] in ("data", "channel", "flow_sid", "sid"):
        return True
    if root == "trigger" and path[1] == "call":
        return True  # caller ID and the carrier's metadata
    if root == "contact" and path[1] == "channel":
        return True
    if root == "widgets" and len(path) > 2 and path[2] == "outbound":
        return True  # the message the flow itself sent
    if leaf.lower().endswith("sid"):
        return not (set(path[2:-1]) & {"memory", "parsed", "pre_engagement_data"})
    if leaf in _TRUSTED_LEAVES:
        # `widgets.X.memory.from` or `…pre_engagement_data.from` is still the guest's text.
        return not (set(path[1:-1]) & (_GUEST_PARTS - {"inbound"}))
    return False


def _trusted_variables(flow: Flow, env: Any) -> set[str]:
    """`flow.variables.X` whose every set-variables value is a literal or reads only trusted variables."""
    values: dict[str, list[str]] = {}
    for state in flow.states:
        if state.type == "set-variables":
            for item in state.properties.get("variables") or ():
                if isinstance(item, Mapping) and isinstance(item.get("key"), str):
                    values.setdefault(item["key"].strip(), []).append(str(item.get("value", "")))
    trusted: set[str] = set()
    changed = True
    while changed:  # a variable set from another trusted variable is trusted too
        changed = False
        for name, texts in values.items():
            dotted = f"flow.variables.{name}"
            if dotted in trusted:
                continue
            if all(all(".".join(p) in trusted or _is_trusted(p) for p in _paths(env, t)) for t in texts):
                trusted.add(dotted)
                changed = True
    return trusted


def _snippet(text: str, pos: int) -> str:
    start = max(pos - 20, 0)
    return repr(text[start:pos + 20])


def _flow_task_names(flow: Flow) -> set[str]:
    """Tasks a flow names: target_task of its Autopilot widgets and CurrentTask split values."""
    return {name for name, _, _, _ in _flow_task_refs(flow)}


def _flow_task_refs(flow: Flow) -> Iterator[tuple[str, str, str, str | None]]:
    """(task, pointer, bot widget, assistant SID) for every task name a flow uses."""
    bots = {s.name: s for s in flow.states if s.type == "send-to-auto-pilot"}
    for state in bots.values():
        target = state.properties.get("target_task")
        if isinstance(target, str) and target.strip() and "$" not in target and "{" not in target:
            yield target.strip(), f"{state.pointer}/properties/target_task", state.name, \
                state.properties.get("autopilot_assistant_sid")
    pattern = re.compile(r"widgets\.([\w-]+)\.CurrentTask")
    for state in flow.states:
        if state.type != "split-based-on":
            continue
        found = pattern.search(str(state.properties.get("input", "")))
        if not found or found.group(1) not in bots:
            continue
        sid = bots[found.group(1)].properties.get("autopilot_assistant_sid")
        for transition in state.match_transitions:
            for index, condition in enumerate(transition.conditions):
                kind, value = condition.get("type"), condition.get("value")
                if not isinstance(value, str) or "{" in value:
                    continue
                if kind in ("equal_to", "not_equal_to"):
                    values = [value]
                elif kind in ("matches_any_of", "does_not_match_any_of"):
                    values = [v for v in value.split(",")]
                else:
                    continue
                for item in values:
                    if item.strip():
                        yield item.strip(), f"{transition.pointer}/conditions/{index}/value", found.group(1), sid


def bot_for(state: State, bots: Mapping[str | None, Assistant]) -> Assistant | None:
    """The assistant a send-to-auto-pilot widget drives: by its SID, else the bot given for any SID (key
    None). A bot given for another SID is not this widget's bot (no guessing: that gave false XF301s)."""
    sid = state.properties.get("autopilot_assistant_sid")
    if isinstance(sid, str) and sid in bots:
        return bots[sid]
    return bots.get(None)


def implicit_bots(flow: Flow, assistant: Assistant) -> dict[str | None, Assistant]:
    """The bot map for the only assistant among the linted files (no --bot): by its SID when the export
    has one; without one, only for a flow whose Autopilot widgets all name the same assistant SID (a
    flow driving two assistants cannot be checked against one of them)."""
    if assistant.sid:
        return {assistant.sid: assistant}
    sids = {str(s.properties.get("autopilot_assistant_sid") or "") for s in flow.states
            if s.type == "send-to-auto-pilot"}
    return {None: assistant} if len(sids) <= 1 else {}


def _linked_rules(flow: Flow, bots: Mapping[str | None, Assistant], find: _Finder) -> None:
    widgets = {s.name: s for s in flow.states if s.type == "send-to-auto-pilot"}
    # A Flex Conversations flow has no Programmable Chat channel to send from: the default sender stays.
    has_flex = any(s.type == "send-to-flex" for s in flow.states) and not flow.conversations_only
    voice_only = _voice_only(flow)
    for state in widgets.values():
        if state.name not in voice_only:  # a call has no sender: the guide's rules are for messages
            _sender_rule(flow, state, bot_for(state, bots), has_flex, find)
    if not bots:
        return
    for task, pointer, widget, _sid in _flow_task_refs(flow):
        bot = bot_for(widgets[widget], bots)
        if bot is not None and bot.task(task) is None:
            find.add("XF301", f"'{task}' is not a task of the bot '{bot.unique_name}' that widget "
                     f"'{widget}' runs", flow.location(pointer), hint=_close(task, set(bot.task_names)))


def _voice_only(flow: Flow) -> set[str]:
    """Widgets reached only from the Trigger's `incomingCall` (never from a message, a conversation, a
    REST API execution or a subflow start)."""
    trigger = flow.state(flow.initial_state)
    if trigger is None:
        return set()

    def reach(events: set[str], include: bool) -> set[str]:
        starts = [t.next for t in trigger.transitions if t.next and ((t.event in events) == include)]
        seen: set[str] = set()
        todo = list(starts)
        while todo:
            name = todo.pop()
            state = flow.state(name)
            if state is None or name in seen:
                continue
            seen.add(name)
            todo.extend(t.next for t in state.transitions if t.next)
        return seen

    return reach({"incomingCall"}, True) - reach({"incomingCall"}, False)


def _sender_rule(flow: Flow, state: State, bot: Assistant | None, has_flex: bool, find: _Finder) -> None:
    """ST204: the guide's 'Send Message From' rules for the Autopilot widget."""
    sender = state.properties.get("from")
    if not isinstance(sender, str):
        return
    compact = re.sub(r"\s+", "", sender)
    where = flow.location(state.pointer + "/properties/from")
    label = f"send-to-auto-pilot '{state.name}'"
    if compact == FLEX_MESSAGING_SENDER:
        if not has_flex:
            find.add("ST204", f"{label} sends from {FLEX_MESSAGING_SENDER}, the guide's setting for messaging "
                     "*with Flex*, but this flow has no Send to Flex widget", where,
                     hint=f"without Flex leave the default {DEFAULT_SENDER} (messaging) or use the bot's name (chat)")
        return
    if compact == DEFAULT_SENDER:
        if has_flex:
            find.add("ST204", f"{label} keeps the default sender {DEFAULT_SENDER} in a Flex flow; the guide says "
                     f"{FLEX_MESSAGING_SENDER} for messaging with Flex, the bot's name for chat", where)
        return
    if "{" in sender or "$" in sender:
        find.add("ST204", f"{label} sends from {sender!r}, none of the guide's senders "
                 f"({DEFAULT_SENDER}, {FLEX_MESSAGING_SENDER} or the bot's name)", where)
        return
    # A literal: on chat, the bot's name. With the bot known, check the name is its name.
    if bot is not None:
        wanted = {_plain(bot.friendly_name), _plain(bot.unique_name)}
        if _plain(sender) not in wanted and not any(_plain(sender) in w for w in wanted if w):
            find.add("ST204", f"{label} sends from {sender!r}, not the name of its bot "
                     f"('{bot.friendly_name}'); on chat the guide uses the bot's name", where,
                     hint="on messaging channels a literal sender makes messages fail; use "
                     f"{DEFAULT_SENDER} (no Flex) or {FLEX_MESSAGING_SENDER} (Flex)")


def _plain(text: str | None) -> str:
    return re.sub(r"[^a-z0-9]", "", (text or "").lower())


# --- SARIF ---------------------------------------------------------------------------------------------

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {ERROR: "error", WARNING: "warning", NOTE: "note"}


SRCROOT = "%SRCROOT%"


def sarif_artifact(path: str | Path, base: Path) -> dict[str, str]:
    """An artifactLocation: relative to `base` under `%SRCROOT%`, else an absolute `file://` URI.

    Code hosts resolve a relative URI against the checkout; a bare absolute path is not a URI at all.
    """
    absolute = Path(os.path.abspath(base / Path(path)))  # abspath: normalise `..` without following links
    try:
        relative = absolute.relative_to(base)
    except ValueError:
        return {"uri": absolute.as_uri()}
    return {"uri": quote(relative.as_posix()), "uriBaseId": SRCROOT}


INFORMATION_URI = "https://github.com/autopilot-harness/autopilot-harness"
RULES_HELP_URI = f"{INFORMATION_URI}/blob/main/docs/insight.md#autopilot-harness-lint-rules"
ERRORS_HELP_URI = f"{INFORMATION_URI}/blob/main/docs/architecture.md#errors"
FINGERPRINT_KEY = "autopilotHarnessFinding/v1"  # our partialFingerprints entry (SARIF §3.27.17)


@dataclass(frozen=True)
class Finding:
    """One problem of a lint run, flattened for the CI formats (SARIF, Code Quality, GitHub annotations)."""

    rule_id: str
    rule_name: str
    severity: str  # ERROR | WARNING | NOTE
    message: str
    path: str  # the file as given (relative or absolute)
    line: int | None
    column: int | None
    pointer: str | None
    rule: Rule | None  # None for the loaders' validity problems (`harness/<kind>`)

    @property
    def fingerprint(self) -> str:
        """Stable across runs and line moves: the rule, the file and the JSON Pointer (the line only when
        there is no pointer), and the message. Two findings of one rule at two places differ."""
        import hashlib

        place = self.pointer if self.pointer else f"line {self.line}"
        key = "\0".join((self.rule_id, Path(self.path).as_posix(), place or "", self.message))
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def lint_findings(reports: Sequence[Any]) -> list[Finding]:
    """Every problem of lint reports (objects with `.path`, `.errors`, `.warnings`), in report order."""
    found: list[Finding] = []
    for report in reports:
        for severity, problems in ((ERROR, report.errors), (WARNING, report.warnings)):
            for problem in problems:
                location = problem.location
                message = problem.message + (f" (hint: {problem.hint})" if problem.hint else "")
                path = str(location.path if location and location.path else report.path)
                line = location.line if location else None
                column = location.column if location else None
                pointer = location.pointer if location else None
                if isinstance(problem, LintFinding):
                    found.append(Finding(problem.rule.id, problem.rule.name, problem.severity, message, path,
                                         line, column, pointer, problem.rule))
                else:
                    found.append(Finding(f"harness/{problem.kind}", problem.kind, severity, message, path, line,
                                         column, pointer, None))
    return found


def _sarif_rule(finding: Finding) -> dict[str, Any]:
    rule = finding.rule
    if rule is None:
        text = (f"The file is not valid input for the kit ({finding.rule_name} problem): Twilio would refuse "
                "it or run it differently. The message names the place and what was expected.")
        return {"id": finding.rule_id, "name": finding.rule_name,
                "shortDescription": {"text": f"{finding.rule_name} problem"},
                "fullDescription": {"text": text},
                "help": {"text": text, "markdown": text},
                "helpUri": ERRORS_HELP_URI}
    disable = (f"Disable it with `--disable {rule.id}` or `[tool.autopilot-harness.lint] disable = "
               f"[\"{rule.id}\"]` in pyproject.toml.")
    return {"id": rule.id, "name": rule.name,
            "shortDescription": {"text": rule.why},
            "fullDescription": {"text": f"{rule.name} ({rule.id}, {rule.severity}): {rule.why}."},
            "help": {"text": f"{rule.why}. {disable.replace('`', '')}",
                     "markdown": f"**{rule.id} {rule.name}**: {rule.why}.\n\n{disable}"},
            "helpUri": RULES_HELP_URI,
            "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]}}


def to_sarif(reports: Sequence[Any], *, tool_version: str | None = None, base: Path | None = None,
             exit_code: int | None = None, arguments: Sequence[str] | None = None) -> dict[str, Any]:
    """A SARIF 2.1.0 log of lint reports (objects with `.path`, `.errors`, `.warnings`), one run.

    Rule findings carry their rule id; validity problems of the loaders use `harness/<kind>` ids. Each
    rule has a short and full description, `help` and a `helpUri`; each result a `partialFingerprints`
    entry (stable across runs, so code scanning tracks an alert rather than re-opening it); the run has one
    `invocations` entry (did the tool finish, its exit code). File locations are relative to `base`
    (default: the current directory, where a code host's checkout is) with `uriBaseId` `%SRCROOT%`; files
    outside it get absolute `file://` URIs. Valid against the OASIS schema (a test checks).
    """
    base = Path(os.path.abspath(base if base is not None else Path.cwd()))
    from harness import __version__

    results: list[dict[str, Any]] = []
    used: dict[str, dict[str, Any]] = {}
    for finding in lint_findings(reports):
        used.setdefault(finding.rule_id, _sarif_rule(finding))
        physical: dict[str, Any] = {"artifactLocation": sarif_artifact(finding.path, base)}
        if finding.line:
            physical["region"] = {"startLine": finding.line, "startColumn": finding.column or 1}
        result: dict[str, Any] = {
            "ruleId": finding.rule_id, "level": _SARIF_LEVEL[finding.severity],
            "message": {"text": finding.message},
            "locations": [{"physicalLocation": physical}],
            "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        }
        if finding.pointer:
            result["locations"][0]["logicalLocations"] = [{"fullyQualifiedName": finding.pointer}]
        results.append(result)
    driver = {"name": "autopilot-harness", "version": tool_version or __version__,
              "informationUri": INFORMATION_URI, "rules": list(used.values())}
    unreadable = any(getattr(report, "unreadable", False) for report in reports)
    invocation: dict[str, Any] = {"executionSuccessful": not unreadable,
                                  "workingDirectory": {"uri": base.as_uri().rstrip("/") + "/"}}
    if exit_code is not None:
        invocation["exitCode"] = int(exit_code)
    if arguments is not None:
        invocation["arguments"] = [str(a) for a in arguments]
    run: dict[str, Any] = {"tool": {"driver": driver}, "invocations": [invocation], "results": results}
    if any(r["locations"][0]["physicalLocation"]["artifactLocation"].get("uriBaseId") for r in results):
        # A directory URI ends with "/" (SARIF §3.14.14), so relative URIs resolve inside it.
        run["originalUriBaseIds"] = {SRCROOT: {"uri": base.as_uri().rstrip("/") + "/"}}
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


# GitLab's Code Quality severities (info, minor, major, critical, blocker): an error blocks nothing by
# itself in GitLab's widget, so errors are "major" (they fail `lint`), warnings "minor", notes "info".
_CODE_QUALITY_SEVERITY = {ERROR: "major", WARNING: "minor", NOTE: "info"}


def to_code_quality(reports: Sequence[Any], *, base: Path | None = None) -> list[dict[str, Any]]:
    """GitLab's Code Quality report (a Code Climate issue list): description, check_name, fingerprint,
    severity, location.path (relative to the checkout) and location.lines.begin, the fields GitLab's
    documentation requires (https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format).
    Fingerprints are unique per finding: GitLab shows only the first issue of a repeated fingerprint."""
    base = Path(os.path.abspath(base if base is not None else Path.cwd()))
    issues = []
    for finding in lint_findings(reports):
        absolute = Path(os.path.abspath(finding.path))
        try:
            path = absolute.relative_to(base).as_posix()
        except ValueError:
            path = absolute.as_posix()
        issues.append({
            "type": "issue",
            "description": finding.message,
            "check_name": finding.rule_id,
            "categories": ["Bug Risk"] if finding.severity == ERROR else ["Style"],
            "fingerprint": finding.fingerprint,
            "severity": _CODE_QUALITY_SEVERITY[finding.severity],
            "location": {"path": path, "lines": {"begin": finding.line or 1}},
        })
    return issues
