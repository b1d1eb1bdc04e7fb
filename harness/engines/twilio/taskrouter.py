"""A fake TaskRouter: Workflow configurations, routing a task to its queue, and Task creation rules.

    workflow = load_workflow("workflow.json", placeholders={"QUEUE_SID": "WQ…"})
    workflow.route({"type": "lead"})            # -> Routing(queue_sid="WQaaa", filter_name="Leads", …)
    router = FakeTaskRouter({"WW…": workflow}, queues={"WQaaa": "Sales"}, sids=SidFactory())
    task = router.create_task("WW…", "chat", '{"type": "lead"}')

What it models (reference/taskrouter.md §1, §3):

- The configuration document (`task_routing.filters[]`, `default_filter`) as a file, a dict, or a whole
  Workflow REST resource whose `configuration` is a JSON string; `friendly_name` is accepted for
  `filter_friendly_name`, numeric strings for `priority`/`timeout`, `{}` targets inherit the queue.
- `${name}` deploy-time placeholders (Terraform templates) are substituted from `placeholders`; any left
  in a `queue` stay verbatim (routing then names `${task_queues.master}`), any left bare in an
  expression are a syntax error.
- Routing: the first filter whose expression holds wins, and the task lands on its **first target**;
  no filter → `default_filter`; neither → `EngineError` ([proposed]: Twilio error 14222, Send to Flex
  takes `failedToEnqueue`).
- Moving on the scenario clock (`FakeTaskRouter.check_timeouts()`, called when a scenario waits): a
  target's `timeout` moves the task to the next target of its filter, then to the next filter *below*
  whose expression holds, else the task is canceled (`workflow.timeout`; `default_filter` does not count
  after a timeout — WF-DOC, LIFE-DOC §1.2). The task's TTL cancels it (`Task TTL Exceeded`). Every queue
  the task entered is kept in `Task.queue_history` (entered/left, and why it left).
- The fake workspace has **no workers**: no task is ever reserved or assigned. So a target's worker
  `expression`, `order_by` and known-worker routing choose among nobody: the task waits on such a
  target for its timeout (KAR-DOC: an unknown known worker keeps the task there), and each history entry
  says so in its `note`. `skip_if` is evaluated with every `workers.*` count at 0 (no worker is free, so
  `1==1` and `workers.available == 0` skip the step at once — SKIP-DOC); a task that skipped out of
  every filter it matched goes to `default_filter` (SKIP-DOC).
- Task creation: attributes must be a JSON object of at most 4096 characters (LIMITS-DOC, whitespace
  included); priority an integer 0…2 147 483 647 (default 0; a matched target's `priority` wins);
  timeout (TTL) an integer 1…1 209 600 seconds (default 86 400). Numeric strings are accepted because
  Studio's Send to Flex sends them. A broken rule is an `EngineError` saying which.

[uncertain] choices: a target expression with a syntax error is a warning (`Workflow.warnings`) unless
`strict=True` (a production Aselo workflow has one, so Twilio may accept it); unknown configuration keys
are warnings; the configuration limit is 1 048 576 bytes (the doc writes "1038576 bytes (1MB)"); an
unknown `TC…` task channel SID is accepted with `task_channel_unique_name=None`; a workflow-timeout cancel's
reason text is ours; a task that skipped out of every filter with no default_filter is canceled; skip_if
is evaluated once, when the task enters the target.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from harness.clock import CLOCK_LATEST, Clock, FixedClock, iso
from harness.engines.twilio.expressions import Expression, compile_expression
from harness.errors import (
    EngineError,
    HarnessError,
    LoadError,
    Location,
    SchemaError,
    UsageError,
    escape_pointer,
    raise_all,
)
from harness.sids import SidFactory, is_sid
from harness.sources import Source, load_source, loads_json, parse_text, source_from_data

MAX_CONFIGURATION_BYTES = 1_048_576
MAX_ATTRIBUTES_LENGTH = 4096
MAX_PRIORITY = 2_147_483_647
DEFAULT_TTL = 86_400
MAX_TTL = 1_209_600
DEFAULT_CHANNELS = ("default", "voice", "sms", "chat", "video")

_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_CHANNEL_NAME = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
_FILTER_KEYS = {"filter_friendly_name", "friendly_name", "expression", "targets"}
_TARGET_KEYS = {"queue", "priority", "timeout", "expression", "order_by", "skip_if", "known_worker_sid",
                "known_worker_friendly_name"}
_BASE_URL = "https://taskrouter.twilio.com/v1"


# --- the workflow model ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """One routing step. `queue` is already inherited from earlier targets where the step omits it."""

    queue: str
    priority: int | None = None
    timeout: int | None = None
    expression: Expression | None = None  # over task.* and worker.*: parsed, not evaluated here
    skip_if: Expression | None = None
    order_by: str | None = None
    known_worker_sid: str | None = None
    known_worker_friendly_name: str | None = None
    pointer: str = ""


@dataclass(frozen=True)
class Filter:
    name: str
    expression: Expression
    targets: tuple[Target, ...]
    index: int
    pointer: str = ""


@dataclass(frozen=True)
class Routing:
    """Where a task lands when it enters the workflow: a filter's first target, or default_filter."""

    queue_sid: str
    filter_name: str | None  # None for default_filter
    target_index: int | None  # None for default_filter
    priority: int | None  # the target's priority, None when the task keeps its own
    timeout: int | None  # the target's timeout (seconds before the next step); None: waits for TTL
    explanation: str
    filter_index: int | None = None

    @property
    def is_default(self) -> bool:
        return self.filter_index is None


@dataclass
class Workflow:
    filters: tuple[Filter, ...]
    default_filter: Target | None
    sid: str | None = None
    friendly_name: str | None = None
    path: str | None = None
    task_reservation_timeout: int = 120
    warnings: list[HarnessError] = field(default_factory=list)

    @property
    def queues(self) -> list[str]:
        """Every queue the workflow can route to, in order of appearance, without repeats."""
        found = [t.queue for f in self.filters for t in f.targets]
        if self.default_filter is not None:
            found.append(self.default_filter.queue)
        return list(dict.fromkeys(found))

    def match(self, attributes: Mapping[str, Any] | str) -> Routing | None:
        """The routing of a task with `attributes`, or None when no filter matches and there is no default."""
        data = _attributes_object(attributes, self.path)
        for filter_ in self.filters:
            if filter_.expression.evaluate(data):
                target = filter_.targets[0]
                return Routing(target.queue, filter_.name, 0, target.priority, target.timeout,
                               self._explain(filter_.index, target), filter_.index)
        if self.default_filter is not None:
            return Routing(self.default_filter.queue, None, None, None, None,
                           self._explain(None, self.default_filter), None)
        return None

    def route(self, attributes: Mapping[str, Any] | str) -> Routing:
        """Like `match`, but a task no filter accepts (and no default_filter) is an EngineError."""
        routing = self.match(attributes)
        if routing is None:
            raise EngineError(
                "no workflow filter matches the task and the workflow has no default_filter "
                f"(tried {self._tried(len(self.filters))})",
                Location(self.path, "/task_routing"),
                "Twilio refuses to create the task (error 14222); Send to Flex takes failedToEnqueue. "
                "Add a default_filter or a last filter with expression 1==1",
            )
        return routing

    def _explain(self, index: int | None, target: Target) -> str:
        tried = self._tried(len(self.filters) if index is None else index)
        if index is None:
            head = "no filter matched; default_filter"
        else:
            chosen = self.filters[index]
            text = " ".join(chosen.expression.text.split())
            text = text if len(text) <= 80 else text[:79] + "…"
            head = f"filter {index} {chosen.name!r} ({text}) matched"
        step = f"queue {target.queue}"
        if target.priority is not None:
            step += f", priority {target.priority}"
        if target.timeout is not None:
            step += f", timeout {target.timeout}s"
        return f"{head}, first target: {step}" + (f"; not matched before it: {tried}" if tried else "")

    def _tried(self, count: int) -> str:
        return ", ".join(f"{f.index} {f.name!r}" for f in self.filters[:count]) or "no filters"


# --- loading -------------------------------------------------------------------------------------------

class _Locator:
    """Locations for pointers into the configuration document, which may sit inside a JSON string."""

    def __init__(self, source: Source, outer_pointer: str | None) -> None:
        self.source = source
        self.outer_pointer = outer_pointer  # the `configuration` field when the document is a string

    def at(self, pointer: str) -> Location:
        return self.source.locate(pointer if self.outer_pointer is None else self.outer_pointer)

    def label(self, pointer: str, message: str) -> str:
        if self.outer_pointer is None:
            return message
        return f"configuration {pointer or '/'}: {message}"

    def error(self, pointer: str, message: str, hint: str | None = None) -> SchemaError:
        return SchemaError(self.label(pointer, message), self.at(pointer), hint)


def load_workflow(
    path: str | Path,
    *,
    placeholders: Mapping[str, str] | None = None,
    strict: bool = False,
) -> Workflow:
    """Load one workflow: a configuration document or a Workflow REST resource (JSON or YAML)."""
    source = load_source(path)
    if isinstance(source.data, dict) and isinstance(source.data.get("workflows"), list):
        raise UsageError(f"{path} is a list of {len(source.data['workflows'])} workflows",
                         Location(str(path), "/workflows"), "use load_workflows() for a list page")
    return _workflow_from_source(source, "", placeholders, strict)


def load_workflows(
    path: str | Path,
    *,
    placeholders: Mapping[str, str] | None = None,
    strict: bool = False,
) -> list[Workflow]:
    """Load every workflow of a file: a list page (`{"workflows": [...]}`), a resource or a document."""
    source = load_source(path)
    data = source.data
    if isinstance(data, dict) and isinstance(data.get("workflows"), list):
        workflows: list[Workflow] = []
        problems: list[HarnessError] = []
        for n in range(len(data["workflows"])):
            try:
                workflows.append(_workflow_from_source(source, f"/workflows/{n}", placeholders, strict))
            except HarnessError as err:
                problems.extend(err.errors if hasattr(err, "errors") else [err])
        raise_all(problems)
        return workflows
    return [_workflow_from_source(source, "", placeholders, strict)]


def workflow_from_dict(
    data: Mapping[str, Any],
    *,
    path: str | None = None,
    placeholders: Mapping[str, str] | None = None,
    strict: bool = False,
) -> Workflow:
    """Build a workflow from a configuration document or a Workflow resource already in memory."""
    return _workflow_from_source(source_from_data(data, path=path), "", placeholders, strict)


def _workflow_from_source(
    source: Source, base: str, placeholders: Mapping[str, str] | None, strict: bool
) -> Workflow:
    data = _at_pointer(source.data, base)
    outer = Location(source.path, base)
    if not isinstance(data, Mapping):
        raise SchemaError(f"expected a workflow object, got {_type_name(data)}",
                          source.locate(base) if source.text else outer)
    resource: Mapping[str, Any] = {}
    locator = _Locator(source, None)
    document: Any = data
    if "task_routing" not in data and "configuration" in data:
        resource = data
        configuration = data["configuration"]
        pointer = base + "/configuration"
        locator = _Locator(source, pointer)
        where = source.locate(pointer) if source.text else Location(source.path, pointer)
        if isinstance(configuration, str):
            if len(configuration.encode()) > MAX_CONFIGURATION_BYTES:
                raise SchemaError(f"configuration is {len(configuration.encode())} bytes; TaskRouter "
                                  f"accepts at most {MAX_CONFIGURATION_BYTES}", where)
            try:  # strict, as for the file itself: no duplicate keys, nesting capped
                document = loads_json(configuration)
            except LoadError as err:
                at = err.location
                column = f" at column {at.column}" if at is not None and at.column is not None else ""
                raise LoadError(f"configuration is not valid JSON: {err.message.removeprefix('malformed JSON: ')}"
                                f"{column} of the configuration string", where, err.hint) from None
        elif isinstance(configuration, Mapping):
            document = configuration
        else:
            raise SchemaError(f"configuration must be a JSON string, got {_type_name(configuration)}", where)
    elif base == "" and source.text and len(source.text.encode()) > MAX_CONFIGURATION_BYTES:
        raise SchemaError(f"the configuration is {len(source.text.encode())} bytes; TaskRouter accepts "
                          f"at most {MAX_CONFIGURATION_BYTES}", Location(source.path))
    inner_base = "" if resource else base
    builder = _Builder(locator, inner_base, placeholders or {}, strict)
    workflow = builder.build(document)
    workflow.path = source.path
    if resource:
        sid = resource.get("sid")
        workflow.sid = sid if isinstance(sid, str) else None
        name = resource.get("friendly_name")
        workflow.friendly_name = name if isinstance(name, str) else None
        timeout = resource.get("task_reservation_timeout")
        if isinstance(timeout, int) and not isinstance(timeout, bool):
            workflow.task_reservation_timeout = timeout
    return workflow


class _Builder:
    def __init__(self, locator: _Locator, base: str, placeholders: Mapping[str, str], strict: bool) -> None:
        self.locator = locator
        self.base = base
        self.placeholders = placeholders
        self.strict = strict
        self.errors: list[HarnessError] = []
        self.warnings: list[HarnessError] = []

    def problem(self, pointer: str, message: str, hint: str | None = None) -> None:
        self.errors.append(self.locator.error(pointer, message, hint))

    def warn(self, pointer: str, message: str, hint: str | None = None) -> None:
        self.warnings.append(self.locator.error(pointer, message, hint))

    def substitute(self, text: str) -> str:
        if "${" not in text or not self.placeholders:
            return text
        return _PLACEHOLDER.sub(lambda m: str(self.placeholders.get(m.group(1), m.group(0))), text)

    def build(self, document: Any) -> Workflow:
        base = self.base
        if not isinstance(document, Mapping):
            raise self.locator.error(
                base, f"expected an object with task_routing, got {_type_name(document)}")
        routing = document.get("task_routing")
        if not isinstance(routing, Mapping):
            what = "missing" if routing is None else f"a {_type_name(routing)}"
            raise self.locator.error(base, f"task_routing is {what}; expected an object with filters "
                                           "and default_filter")
        for key in document:
            if key != "task_routing":
                self.warn(f"{base}/{escape_pointer(key)}",
                          f"unknown key {key!r} (TaskRouter reads task_routing)")
        routing_pointer = f"{base}/task_routing"
        raw_filters = routing.get("filters", [])
        filters: list[Filter] = []
        if not isinstance(raw_filters, list):
            self.problem(f"{routing_pointer}/filters",
                         f"filters must be a list, got {_type_name(raw_filters)}")
            raw_filters = []
        for n, raw in enumerate(raw_filters):
            built = self.filter(raw, n, f"{routing_pointer}/filters/{n}")
            if built is not None:
                filters.append(built)
        default = None
        if "default_filter" in routing and routing["default_filter"] is not None:
            default = self.default_filter(routing["default_filter"], f"{routing_pointer}/default_filter")
        for key in routing:
            if key not in ("filters", "default_filter"):
                self.warn(f"{routing_pointer}/{escape_pointer(key)}", f"unknown key {key!r} in task_routing")
        raise_all(self.errors)
        return Workflow(tuple(filters), default, warnings=self.warnings)

    def filter(self, raw: Any, index: int, pointer: str) -> Filter | None:
        if not isinstance(raw, Mapping):
            self.problem(pointer, f"a filter must be an object, got {_type_name(raw)}")
            return None
        # twilio-java reads both spellings; friendly_name (the older one) wins when both are present
        name = raw["friendly_name"] if "friendly_name" in raw else raw.get("filter_friendly_name", "")
        if not isinstance(name, str):
            self.problem(f"{pointer}/filter_friendly_name",
                         f"filter name must be a string, got {_type_name(name)}")
            name = ""
        name = self.substitute(name)
        expression = None
        if "expression" not in raw:
            self.problem(pointer, "filter has no expression", "write the condition over task attributes, "
                                                             "or 1==1 to match every task")
        else:
            expression = self.expression(raw["expression"], f"{pointer}/expression", lenient=False)
        targets = self.targets(raw.get("targets"), f"{pointer}/targets", "targets" in raw)
        for key in raw:
            if key not in _FILTER_KEYS:
                hint = "a filter has filter_friendly_name, expression and targets" if key == "queue" else None
                self.warn(f"{pointer}/{escape_pointer(key)}", f"unknown key {key!r} in a filter", hint)
        if expression is None or not targets:
            return None
        return Filter(name, expression, tuple(targets), index, pointer)

    def targets(self, raw: Any, pointer: str, present: bool) -> list[Target]:
        if not present:
            self.problem(pointer.rsplit("/", 1)[0], "filter has no targets",
                         'add targets: [{"queue": "WQ…"}]')
            return []
        if not isinstance(raw, list) or not raw:
            self.problem(pointer, "targets must be a non-empty list of {queue, …} objects")
            return []
        built: list[Target] = []
        queue: str | None = None
        for n, item in enumerate(raw):
            target = self.target(item, f"{pointer}/{n}", queue)
            if target is None:
                continue
            queue = target.queue
            built.append(target)
        return built if len(built) == len(raw) else []

    def target(self, raw: Any, pointer: str, inherited_queue: str | None) -> Target | None:
        if not isinstance(raw, Mapping):
            self.problem(pointer, f"a target must be an object, got {_type_name(raw)}")
            return None
        ok = True
        queue = raw.get("queue", inherited_queue)
        if queue is None:
            self.problem(pointer, "the first target of a filter needs a queue (a TaskQueue SID, WQ…)")
            ok = False
        elif not isinstance(queue, str) or not queue.strip():
            self.problem(f"{pointer}/queue", f"queue must be a TaskQueue SID, got {queue!r}")
            ok = False
        priority = self.integer(raw, "priority", pointer, minimum=0, maximum=MAX_PRIORITY)
        timeout = self.integer(raw, "timeout", pointer, minimum=1, maximum=None)
        expression = skip_if = None
        if "expression" in raw:
            expression = self.expression(raw["expression"], f"{pointer}/expression", lenient=not self.strict)
        if "skip_if" in raw:
            skip_if = self.expression(raw["skip_if"], f"{pointer}/skip_if", lenient=not self.strict)
        texts: dict[str, str | None] = {}
        for key in ("order_by", "known_worker_sid", "known_worker_friendly_name"):
            value = raw.get(key)
            if value is not None and not isinstance(value, str):
                self.problem(f"{pointer}/{key}", f"{key} must be a string, got {_type_name(value)}")
                ok = False
                value = None
            texts[key] = self.substitute(value) if value is not None else None
        if texts["known_worker_sid"] and texts["known_worker_friendly_name"]:
            self.problem(pointer, "a target takes known_worker_sid or known_worker_friendly_name, not both")
            ok = False
        for key in ("known_worker_sid", "known_worker_friendly_name"):
            value = texts[key]
            if value and not value.startswith("task."):
                self.warn(f"{pointer}/{key}", f"{key} names a task attribute and should start with 'task.', "
                                              f"got {value!r}")
        for key in raw:
            if key not in _TARGET_KEYS:
                self.warn(f"{pointer}/{escape_pointer(key)}", f"unknown key {key!r} in a target")
        if not ok or priority is False or timeout is False:
            return None
        return Target(self.substitute(str(queue)), priority, timeout, expression, skip_if,
                      texts["order_by"], texts["known_worker_sid"], texts["known_worker_friendly_name"],
                      pointer)

    def default_filter(self, raw: Any, pointer: str) -> Target | None:
        if not isinstance(raw, Mapping):
            self.problem(pointer, f"default_filter must be an object with a queue, got {_type_name(raw)}")
            return None
        queue = raw.get("queue")
        if not isinstance(queue, str) or not queue.strip():
            self.problem(pointer, "default_filter needs a queue (a TaskQueue SID, WQ…)")
            return None
        for key in raw:
            if key != "queue":
                self.warn(f"{pointer}/{escape_pointer(key)}", f"default_filter takes only a queue; {key!r} "
                                                              "is ignored")
        return Target(self.substitute(queue), pointer=pointer)

    def integer(self, raw: Mapping[str, Any], key: str, pointer: str, *, minimum: int,
                maximum: int | None) -> int | bool | None:
        """The integer under `key` (numeric strings accepted), None if absent, False after a problem."""
        if key not in raw or raw[key] is None:
            return None
        value = raw[key]
        number = _as_integer(value)
        bound = f"{minimum}…{maximum}" if maximum is not None else f"≥ {minimum}"
        if number is None:
            self.problem(f"{pointer}/{key}", f"{key} must be an integer ({bound}), got {value!r}")
            return False
        if number < minimum or (maximum is not None and number > maximum):
            self.problem(f"{pointer}/{key}", f"{key} must be {bound}, got {number}")
            return False
        return number

    def expression(self, raw: Any, pointer: str, *, lenient: bool) -> Expression | None:
        if not isinstance(raw, str):
            self.problem(pointer, f"an expression must be a string, got {_type_name(raw)}")
            return None
        try:
            expression = compile_expression(self.substitute(raw), strict=self.strict,
                                            location=self.locator.at(pointer))
        except SchemaError as err:
            message = self.locator.label(pointer, err.message)
            if lenient:  # a broken worker expression: the step matches nobody, as the reference suggests
                self.warnings.append(SchemaError(message + " (this step will match no worker)",
                                                 err.location, err.hint))
            else:
                self.errors.append(SchemaError(message, err.location, err.hint))
            return None
        for warning in expression.warnings:
            self.warn(pointer, warning)
        return expression


# --- the fake TaskRouter -------------------------------------------------------------------------------

@dataclass
class Task:
    """A TaskRouter Task as the REST API returns it (`to_dict()`), plus the parsed attributes."""

    sid: str
    account_sid: str
    workspace_sid: str
    workflow_sid: str | None
    workflow_friendly_name: str | None
    attributes: str
    parsed_attributes: dict[str, Any]
    assignment_status: str
    priority: int
    timeout: int
    task_queue_sid: str | None
    task_queue_friendly_name: str | None
    task_channel_sid: str | None
    task_channel_unique_name: str | None
    date_created: Any  # datetime
    routing: Routing | None = None
    reason: str | None = None
    addons: str = "{}"
    # Every queue the task entered, in order: {"queue_sid", "queue", "filter", "target", "priority",
    # "entered", "left", "left_by" ("timeout" | "skip_if" | "ttl" | None while it waits), "note"}.
    queue_history: list[dict[str, Any]] = field(default_factory=list)
    task_queue_entered_date: Any = None  # datetime the task entered its current queue
    date_updated: Any = None
    # Where the task is in its workflow: (filter index, target index); (None, None) in default_filter.
    position: tuple[int | None, int | None] = (None, None)
    step_deadline: datetime | None = None  # when the current target's timeout moves the task on
    timed_out_of_filter: bool = False  # once true, default_filter is out of reach (WF-DOC)

    @property
    def queue_names(self) -> list[str]:
        """The queues the task went through, by name where the workspace knows it, else by SID."""
        return [str(entry.get("queue") or entry.get("queue_sid")) for entry in self.queue_history]

    @property
    def url(self) -> str:
        return f"{_BASE_URL}/Workspaces/{self.workspace_sid}/Tasks/{self.sid}"

    def to_dict(self) -> dict[str, Any]:
        """The REST representation (taskrouter.v1.workspace.task), right after creation."""
        created = iso(self.date_created)
        updated = iso(self.date_updated) if self.date_updated is not None else created
        entered = iso(self.task_queue_entered_date) if self.task_queue_entered_date is not None else created
        workspace = f"{_BASE_URL}/Workspaces/{self.workspace_sid}"
        links = {"reservations": f"{self.url}/Reservations", "workspace": workspace}
        if self.task_queue_sid:
            links["task_queue"] = f"{workspace}/TaskQueues/{self.task_queue_sid}"
        if self.workflow_sid:
            links["workflow"] = f"{workspace}/Workflows/{self.workflow_sid}"
        return {
            "account_sid": self.account_sid,
            "age": 0,
            "assignment_status": self.assignment_status,
            "attributes": self.attributes,
            "addons": self.addons,
            "date_created": created,
            "date_updated": updated,
            "task_queue_entered_date": entered if self.task_queue_sid else None,
            "priority": self.priority,
            "reason": self.reason,
            "sid": self.sid,
            "task_queue_sid": self.task_queue_sid,
            "task_queue_friendly_name": self.task_queue_friendly_name,
            "task_channel_sid": self.task_channel_sid,
            "task_channel_unique_name": self.task_channel_unique_name,
            "timeout": self.timeout,
            "workflow_sid": self.workflow_sid,
            "workflow_friendly_name": self.workflow_friendly_name,
            "workspace_sid": self.workspace_sid,
            "url": self.url,
            "links": links,
            "virtual_start_time": created,
            "ignore_capacity": False,
            "routing_target": None,
        }


class FakeTaskRouter:
    """One fake Workspace: workflows by SID, queue names by SID, and the tasks created so far.

    Without workflows every task is accepted unrouted (`task_queue_sid=None`), so a Studio flow can hand
    off before the test cares about routing. `queues` maps queue SIDs to friendly names; when given, a
    route to a queue missing from it is an error, and a workflow naming a queue by its *name* (old doc
    samples) is resolved to the SID.
    """

    def __init__(
        self,
        workflows: Mapping[str, Workflow] | None = None,
        queues: Mapping[str, str] | None = None,
        sids: SidFactory | None = None,
        *,
        clock: Clock | None = None,
        account_sid: str | None = None,
        workspace_sid: str | None = None,
        channels: Mapping[str, str] | None = None,
        max_attributes_length: int = MAX_ATTRIBUTES_LENGTH,
    ) -> None:
        self.sids = sids or SidFactory()
        self.clock = clock or FixedClock()
        self.account_sid = account_sid or self.sids.make("AC")
        self.workspace_sid = workspace_sid or self.sids.make("WS")
        self.workflows: dict[str, Workflow] = dict(workflows or {})
        self.queues: dict[str, str] = dict(queues or {})
        self._queue_by_name = {name: sid for sid, name in self.queues.items()}
        self.channels: dict[str, str] = dict(channels or {})
        for name in DEFAULT_CHANNELS:
            if name not in self.channels.values():
                self.channels[self.sids.make("TC")] = name
        self._channel_by_name = {name: sid for sid, name in self.channels.items()}
        self.max_attributes_length = max_attributes_length
        self.tasks: list[Task] = []
        self.events: list[dict[str, Any]] = []

    def add_workflow(self, workflow: Workflow, sid: str | None = None) -> str:
        """Register a workflow under `sid` (its own SID, or a new WW… one); returns the SID."""
        sid = sid or workflow.sid or self.sids.make("WW")
        self.workflows[sid] = workflow
        return sid

    def task(self, sid: str) -> Task:
        for task in self.tasks:
            if task.sid == sid:
                return task
        raise UsageError(f"no task {sid} in the fake TaskRouter ({len(self.tasks)} tasks)")

    def create_task(
        self,
        workflow_sid: str | None,
        task_channel: str | None = "default",
        attributes: str | Mapping[str, Any] = "{}",
        priority: int | str | None = None,
        timeout: int | str | None = None,
    ) -> Task:
        """Create and route a task as `POST /v1/Workspaces/{WS}/Tasks` does; EngineError where it says 400."""
        if isinstance(attributes, Mapping):
            attributes = json.dumps(attributes)
        parsed = self._check_attributes(attributes)
        requested_priority = _parameter(priority, "Priority", 0, MAX_PRIORITY)
        ttl = _parameter(timeout, "Timeout", 1, MAX_TTL)
        workflow_sid, workflow = self._workflow(workflow_sid)
        channel_sid, channel_name = self._channel(task_channel)

        routing = workflow.route(parsed) if workflow is not None else None
        queue_sid = queue_name = None
        if routing is not None:
            queue_sid = self._queue_sid(routing.queue_sid, workflow_sid)
            queue_name = self.queues.get(queue_sid)
        final_priority = routing.priority if routing and routing.priority is not None else requested_priority
        now = self.clock.now()
        task = Task(
            sid=self.sids.make("WT"),
            account_sid=self.account_sid,
            workspace_sid=self.workspace_sid,
            workflow_sid=workflow_sid,
            workflow_friendly_name=workflow.friendly_name if workflow else None,
            attributes=attributes,
            parsed_attributes=parsed,
            assignment_status="pending",
            priority=final_priority if final_priority is not None else 0,
            timeout=ttl if ttl is not None else DEFAULT_TTL,
            task_queue_sid=queue_sid,
            task_queue_friendly_name=queue_name,
            task_channel_sid=channel_sid,
            task_channel_unique_name=channel_name,
            date_created=now,
            routing=routing,
            task_queue_entered_date=now,
            date_updated=now,
        )
        self.tasks.append(task)
        self._record_events(task)
        if routing is not None and workflow is not None:
            task.position = (routing.filter_index, routing.target_index)
            self._entered(task, workflow, now)
        return task

    # --- the task on the scenario clock ----------------------------------------------------------------

    def check_timeouts(self) -> list[Task]:
        """Move every pending task whose target timeout or TTL has passed on the clock, step by step at the
        instants they fell due (a long wait can cross several timeouts); returns the tasks that changed."""
        now = self.clock.now()
        changed: list[Task] = []
        for task in self.tasks:
            moved = False
            # Ends: each pass cancels the task or moves it strictly forward (a later target or filter).
            while task.assignment_status == "pending":
                ttl_at = task.date_created + timedelta(seconds=task.timeout)
                step_at = task.step_deadline
                due = min(ttl_at, step_at) if step_at is not None else ttl_at
                if due > now:
                    break
                moved = True
                if ttl_at <= due:  # the TTL first (or at the same instant): OAI CreateTask.Timeout
                    self._leave(task, ttl_at, "ttl")
                    self._cancel(task, ttl_at, "Task TTL Exceeded")
                    break
                self._leave(task, due, "timeout")
                workflow = self.workflows.get(task.workflow_sid or "")
                assert workflow is not None  # only routed tasks have a step deadline
                self._next_step(task, workflow, due, after_timeout=True)
            if moved:
                changed.append(task)
        return changed

    def reset(self) -> None:
        """Forget the tasks and events (a new scenario case starts with an empty workspace)."""
        self.tasks.clear()
        self.events.clear()

    def _entered(self, task: Task, workflow: Workflow, at: datetime) -> None:
        """The task has just entered the target at `task.position`: record it, apply priority, skip_if."""
        filter_index, target_index = task.position
        if filter_index is None or target_index is None:
            target = workflow.default_filter
            assert target is not None
            filter_name = "default_filter"
        else:
            filter_ = workflow.filters[filter_index]
            target = filter_.targets[target_index]
            filter_name = filter_.name or f"filter {filter_index}"
        queue_sid = self._queue_sid(target.queue, task.workflow_sid)
        if target.priority is not None:
            task.priority = target.priority
        if task.queue_history:  # a later step: the task moves to this target's queue
            task.task_queue_sid = queue_sid
            task.task_queue_friendly_name = self.queues.get(queue_sid)
            task.task_queue_entered_date = at
            task.date_updated = at
            self.events.append({"event_type": "task-queue.moved", "task_sid": task.sid,
                                "workflow_sid": task.workflow_sid, "workflow_filter_name": filter_name,
                                "task_queue_sid": queue_sid, "timestamp": at})
        task.queue_history.append({
            "queue_sid": queue_sid, "queue": self.queues.get(queue_sid), "filter": filter_name,
            "target": target_index, "priority": task.priority, "entered": iso(at), "left": None,
            "left_by": None, "note": _worker_note(target, task.parsed_attributes),
        })
        task.step_deadline = _after(at, target.timeout) if target.timeout is not None else None
        if target.skip_if is not None and target.skip_if.evaluate(_no_workers(target.skip_if)):
            self._leave(task, at, "skip_if")
            self.events.append({"event_type": "workflow.skipped", "task_sid": task.sid,
                                "workflow_sid": task.workflow_sid, "workflow_filter_name": filter_name,
                                "task_queue_sid": queue_sid, "timestamp": at})
            self._next_step(task, workflow, at, after_timeout=False)

    def _leave(self, task: Task, at: datetime, why: str) -> None:
        if task.queue_history:
            task.queue_history[-1].update(left=iso(at), left_by=why)
        task.step_deadline = None
        if why == "timeout":
            self.events.append({"event_type": "task-queue.timeout", "task_sid": task.sid,
                                "workflow_sid": task.workflow_sid, "task_queue_sid": task.task_queue_sid,
                                "timestamp": at})

    def _next_step(self, task: Task, workflow: Workflow, at: datetime, *, after_timeout: bool) -> None:
        """After a target's timeout or skip_if: the next target, the next matching filter below, then
        (only when every filter was skipped, never after a timeout) default_filter; else canceled."""
        filter_index, target_index = task.position
        if filter_index is None or target_index is None:
            return  # default_filter has no timeout and no skip_if
        if after_timeout:
            task.timed_out_of_filter = True
        if target_index + 1 < len(workflow.filters[filter_index].targets):
            task.position = (filter_index, target_index + 1)
            self._entered(task, workflow, at)
            return
        for later in workflow.filters[filter_index + 1:]:
            if later.expression.evaluate(task.parsed_attributes):
                task.position = (later.index, 0)
                self._entered(task, workflow, at)
                return
        if not task.timed_out_of_filter and workflow.default_filter is not None:
            task.position = (None, None)  # SKIP-DOC: skipped out of every filter → as if none matched
            self._entered(task, workflow, at)
            return
        self.events.append({"event_type": "workflow.timeout", "task_sid": task.sid,
                            "workflow_sid": task.workflow_sid, "timestamp": at})
        reason = ("Workflow Timeout: the last target timed out and no later filter matches" if
                  task.timed_out_of_filter else "skipped out of every filter and there is no default_filter")
        self._cancel(task, at, reason)

    def _cancel(self, task: Task, at: datetime, reason: str) -> None:
        task.assignment_status = "canceled"
        task.reason = reason
        task.date_updated = at
        task.step_deadline = None
        self.events.append({"event_type": "task.canceled", "task_sid": task.sid,
                            "workflow_sid": task.workflow_sid, "reason": reason, "timestamp": at})

    # --- checks ---------------------------------------------------------------------------------------

    def _check_attributes(self, attributes: Any) -> dict[str, Any]:
        if not isinstance(attributes, str):
            raise EngineError(f"Attributes must be a JSON string, got {_type_name(attributes)}")
        if len(attributes) > self.max_attributes_length:
            raise EngineError(
                f"task attributes are {len(attributes)} characters; TaskRouter accepts at most "
                f"{self.max_attributes_length} (whitespace included)",
                hint="send less (Flex Insights reads only the first 128 characters of a value anyway)",
            )
        try:
            parsed = json.loads(attributes)
        except json.JSONDecodeError as err:
            raise EngineError(f"task attributes are not valid JSON: {err.msg} at column {err.colno}",
                              hint=_excerpt(attributes, err.pos)) from None
        if not isinstance(parsed, dict):
            raise EngineError(f"task attributes must be a JSON object, got {_type_name(parsed)}")
        return parsed

    def _workflow(self, workflow_sid: str | None) -> tuple[str | None, Workflow | None]:
        if not self.workflows:
            if workflow_sid is not None and not is_sid(workflow_sid, "WW"):
                raise EngineError(f"WorkflowSid must be WW followed by 32 hex digits, got {workflow_sid!r}")
            return workflow_sid, None
        if workflow_sid is None or workflow_sid == "":
            if len(self.workflows) == 1:  # OAI: optional when the workspace has one workflow
                return next(iter(self.workflows.items()))
            raise EngineError("WorkflowSid is required when the workspace has several workflows",
                              hint=f"known: {', '.join(self.workflows)}")
        workflow = self.workflows.get(workflow_sid)
        if workflow is None:
            raise EngineError(f"workflow {workflow_sid} does not exist in the fake workspace",
                              hint=f"known workflows: {', '.join(self.workflows)}")
        return workflow_sid, workflow

    def _channel(self, task_channel: str | None) -> tuple[str | None, str | None]:
        if task_channel is None or task_channel == "":
            task_channel = "default"
        if task_channel.startswith("TC"):
            if not is_sid(task_channel, "TC"):
                raise EngineError(f"TaskChannel {task_channel!r} is neither a TC… SID nor a unique name")
            return task_channel, self.channels.get(task_channel)
        if not _CHANNEL_NAME.match(task_channel):
            raise EngineError(f"TaskChannel unique name {task_channel!r} is invalid: letters, digits, _ "
                              "and $, not starting with a digit")
        sid = self._channel_by_name.get(task_channel)
        if sid is None:
            sid = self.sids.make("TC")
            self.channels[sid] = task_channel
            self._channel_by_name[task_channel] = sid
        return sid, task_channel

    def _queue_sid(self, queue: str, workflow_sid: str | None) -> str:
        if not self.queues or queue in self.queues:
            return queue
        if queue in self._queue_by_name:
            return self._queue_by_name[queue]
        raise EngineError(f"workflow {workflow_sid} routes to queue {queue!r}, which is not in the fake "
                          "workspace", hint=f"known queues: {', '.join(self.queues)}")

    def _record_events(self, task: Task) -> None:
        base = {"task_sid": task.sid, "workflow_sid": task.workflow_sid,
                "task_channel_unique_name": task.task_channel_unique_name, "timestamp": task.date_created}
        self.events.append({"event_type": "task.created", **base})
        if task.routing is None:
            return
        self.events.append({"event_type": "workflow.entered", **base})
        self.events.append({"event_type": "workflow.target-matched", **base,
                            "workflow_filter_name": task.routing.filter_name or "default_filter",
                            "task_queue_sid": task.task_queue_sid})
        self.events.append({"event_type": "task-queue.entered", **base,
                            "task_queue_sid": task.task_queue_sid})


# --- helpers -------------------------------------------------------------------------------------------

def _after(at: datetime, seconds: int) -> datetime | None:
    """`at` + `seconds`, or None when that lies past the clock's range (a timeout no wait can reach)."""
    try:
        later = at + timedelta(seconds=seconds)
    except OverflowError:
        return None
    return later if later <= CLOCK_LATEST else None


def _no_workers(skip_if: Expression) -> dict[str, Any]:
    """skip_if's variables in a workspace without workers: every `workers.*` count is 0 (SKIP-DOC)."""
    counts = {ref.split(".", 1)[1].split(".")[0]: 0 for ref in skip_if.references if ref.startswith("workers.")}
    return {"workers": counts}


def _worker_note(target: Target, attributes: Mapping[str, Any]) -> str | None:
    """Why a target's worker settings decide nothing here (the fake workspace has no workers)."""
    parts: list[str] = []
    for key, reference in (("known_worker_sid", target.known_worker_sid),
                           ("known_worker_friendly_name", target.known_worker_friendly_name)):
        if reference:
            value: Any = attributes
            for part in reference.removeprefix("task.").split("."):
                value = value.get(part) if isinstance(value, Mapping) else None
            parts.append(f"{key} {reference} = {json.dumps(value)}")
    if target.expression is not None:
        parts.append(f"worker expression {' '.join(target.expression.text.split())!r}")
    if target.order_by:
        parts.append(f"order_by {target.order_by!r}")
    if not parts:
        return None
    return "; ".join(parts) + ": no workers in the fake workspace, so no reservation (the task waits here " \
        "until the target's timeout or its TTL)"


def _attributes_object(attributes: Mapping[str, Any] | str, path: str | None) -> Mapping[str, Any]:
    if isinstance(attributes, Mapping):
        return attributes
    try:
        data = parse_text(attributes).data
    except HarnessError as err:
        raise EngineError(f"task attributes are not valid JSON: {err.message}", Location(path)) from None
    if not isinstance(data, dict):
        raise EngineError(f"task attributes must be a JSON object, got {_type_name(data)}", Location(path))
    return data


def _as_integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        return int(value)
    return None


def _parameter(value: int | str | None, name: str, minimum: int, maximum: int) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = _as_integer(value)
    if number is None:
        raise EngineError(f"{name} must be an integer, got {value!r}")
    if not minimum <= number <= maximum:
        raise EngineError(f"{name} must be between {minimum} and {maximum}, got {number}")
    return number


def _at_pointer(data: Any, pointer: str) -> Any:
    for part in pointer.split("/")[1:]:
        data = data[int(part)] if isinstance(data, list) else data[part.replace("~1", "/").replace("~0", "~")]
    return data


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def _excerpt(text: str, position: int, width: int = 60) -> str:
    start = max(0, position - width // 2)
    return f"near: {text[start:start + width]!r}"
