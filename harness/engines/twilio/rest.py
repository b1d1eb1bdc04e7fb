"""A fake Twilio REST API, checked against Twilio's own OpenAPI specs (twilio-oai).

    fake = FakeTwilioApi(specs="path/to/twilio-oai/spec/json")
    client = twilio.rest.Client("AC…", "token", http_client=fake.http_client())
    client.taskrouter.v1.workspaces("WS…").tasks.create(workflow_sid="WW…", attributes="{}")
    fake.calls[0].data["WorkflowSid"]                # -> "WW…"

    with fake.intercept():                           # code that calls Twilio through `requests`
        requests.post("https://studio.twilio.com/v2/Flows/FW…/Executions", data={...})

Like the `responses` library, a test registers canned replies per (method, path template) with `add()`,
every request is recorded in `calls`, and `assert_all_called()` fails for a route never used. A request
no route answers fails with `TwilioApiMismatch`, listing the request and why each route missed.

Spec checks: `OpenApiIndex` reads the twilio-oai JSON specs in a folder (`twilio_taskrouter_v1.json`,
`twilio_studio_v2.json`, …; compiled once per folder). For a host a spec covers, a request whose path is
unknown, whose method the path does not have, whose path parameter breaks its pattern (`WS` + 32 hex) or
which lacks a required parameter fails even when a route would answer it. Point `specs` at your own
twilio-oai checkout (`spec/json`) to check the APIs you use; hosts no spec covers (and everything, when
no specs are given) are recorded unchecked.

Default replies (`defaults=True`), used when no route of the test matches, answer the four requests a
bot hand-off makes, shaped like the specs' schemas:

- `POST taskrouter /v1/Workspaces/{WorkspaceSid}/Tasks` → a Task from `FakeTaskRouter.create_task`
  (routing, size and range rules; its refusal is a 400 with Twilio's error JSON);
- `POST studio /v2/Flows/{FlowSid}/Executions` → an active Execution (`Parameters` must be a JSON object);
- `POST api /2010-04-01/Accounts/{AccountSid}/Messages.json` → a queued Message, recorded in the `Outbox`;
- `POST flex-api /v1/Interactions` → an Interaction whose `Routing.properties` create a Task, with the
  attributes Flex adds (conversationSid, flexInteractionSid, …) unless the flow set them [uncertain].

Nothing here opens a network connection: `http_client()` answers in process, and `intercept()` refuses
any `*.twilio.com` request it cannot answer, while other hosts pass through to the network.
"""

from __future__ import annotations

import difflib
import email.utils
import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from twilio.http import HttpClient
from twilio.http.response import Response

from harness.clock import Clock, FixedClock, iso
from harness.engines.twilio.interactions import FakeInteractions
from harness.engines.twilio.messaging import Outbox
from harness.engines.twilio.taskrouter import FakeTaskRouter
from harness.errors import EngineError, ExpectationFailed, LoadError, Location, UsageError
from harness.sids import SidFactory
from harness.sources import load_source

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_TWILIO_HOST = r"(?:[A-Za-z0-9-]+\.)*twilio\.com(?::\d+)?"
_TWILIO_URL = re.compile(rf"^https?://{_TWILIO_HOST}(?:[/?#]|$)", re.IGNORECASE)
_NOT_TWILIO_URL = re.compile(rf"^https?://(?!{_TWILIO_HOST}(?:[/?#]|$))", re.IGNORECASE)
_PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SID_SEGMENT = re.compile(r"/[A-Z]{2}[0-9a-fA-F]{32}(?=/|\.json|$)")
_JSON_HEADERS = {"Content-Type": "application/json"}

Data = dict[str, "str | list[str]"]


# --- the spec index -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Operation:
    """One method of one path of one spec file."""

    method: str
    host: str
    template: str
    operation_id: str | None
    spec: str  # the spec file's name
    required: tuple[str, ...]  # required body (or, for GET/DELETE, query) parameters
    parameters: frozenset[str]  # every documented body/query parameter
    path_patterns: tuple[tuple[str, re.Pattern[str]], ...]
    success_status: int
    response_schema: str | None  # component name, e.g. taskrouter.v1.workspace.task
    # Every body/query parameter's schema, `$ref`s to the spec's components inlined (enums, arrays).
    parameter_schemas: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class _PathEntry:
    template: str
    regex: re.Pattern[str]
    literal_length: int
    operations: dict[str, Operation]


@dataclass
class SpecCheck:
    """The verdict of the specs on one request: unchecked, valid (with its operation), or problems."""

    checked: bool
    operation: Operation | None = None
    path_params: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # the request cannot be this API's: a mismatch
    invalid: list[str] = field(default_factory=list)  # parameters Twilio refuses: a 400 (code 20001)

    @property
    def ok(self) -> bool:
        return not self.problems


class OpenApiIndex:
    """Path templates, methods, required parameters and host of every operation in a folder of specs."""

    def __init__(self, specs_dir: str | Path | None = None) -> None:
        self.specs_dir = Path(specs_dir) if specs_dir is not None else None
        self._by_host: dict[str, list[_PathEntry]] = {}
        self.schemas: dict[str, dict[str, Any]] = {}
        self.files: list[str] = []
        if self.specs_dir is not None:
            self._load(self.specs_dir)

    @classmethod
    def cached(cls, specs_dir: str | Path) -> OpenApiIndex:
        """The index of `specs_dir`, built once per process (specs are large: parsing them takes a while)."""
        folder = Path(specs_dir).resolve()
        stamp = tuple((p.name, p.stat().st_mtime_ns) for p in sorted(folder.glob("*.json"))) \
            if folder.is_dir() else ()
        return _cached_index(str(folder), stamp)

    @property
    def hosts(self) -> list[str]:
        return sorted(self._by_host)

    def covers(self, host: str) -> bool:
        return _base_host(host) in self._by_host

    def operations(self) -> Iterator[Operation]:
        for entries in self._by_host.values():
            for entry in entries:
                yield from entry.operations.values()

    def operation(self, method: str, host: str, template: str) -> Operation | None:
        for entry in self._by_host.get(_base_host(host), []):
            if entry.template == template:
                return entry.operations.get(method.upper())
        return None

    def check(self, method: str, host: str, path: str, params: Mapping[str, Any]) -> SpecCheck:
        """What the specs say about `method host path` carrying `params` (body or query)."""
        entries = self._by_host.get(_base_host(host))
        if entries is None:
            return SpecCheck(checked=False)
        for entry in entries:
            found = entry.regex.match(path)
            if found is None:
                continue
            path_params = found.groupdict()
            operation = entry.operations.get(method.upper())
            if operation is None:
                allowed = ", ".join(sorted(entry.operations))
                return SpecCheck(True, None, path_params, [
                    f"{entry.template} does not take {method.upper()} (it takes {allowed})"])
            problems = []
            for name, pattern in operation.path_patterns:
                value = path_params.get(name, "")
                if not pattern.match(value):
                    problems.append(f"path parameter {name}={value!r} does not match {pattern.pattern}")
            unknown = sorted(set(params) - operation.parameters)
            for name in unknown:
                close = difflib.get_close_matches(name, sorted(operation.parameters), n=1, cutoff=0.6) or \
                    [known for known in operation.parameters if known.lower() == name.lower()]
                problems.append(f"unknown parameter {name} for {operation.operation_id or operation.template}"
                                + (f" (did you mean {close[0]}?)" if close else "")
                                + "; Twilio ignores parameters it does not document, so it would be lost")
            where = "query" if method.upper() in ("GET", "DELETE") else "post body"
            invalid = [f"Missing required parameter {name} in the {where}"
                       for name in operation.required if _is_blank(params.get(name))]
            invalid += parameter_errors(operation, params)
            return SpecCheck(True, operation, path_params, problems, invalid)
        # Compare shapes (SIDs and parameters as {}), so a typo in a literal segment finds its template.
        shapes = {_PARAMETER.sub("{}", e.template): e.template for e in entries}
        close = difflib.get_close_matches(_SID_SEGMENT.sub("/{}", path), list(shapes), n=2, cutoff=0.6)
        hint = f" (closest: {', '.join(shapes[c] for c in close)})" if close else ""
        spec = entries[0].operations and next(iter(entries[0].operations.values())).spec
        return SpecCheck(True, None, {}, [f"{spec} has no path {path} on {_base_host(host)}{hint}"])

    # --- loading -------------------------------------------------------------------------------------

    def _load(self, folder: Path) -> None:
        if not folder.is_dir():
            raise LoadError("OpenAPI specs folder not found", Location(str(folder)),
                            "point specs at twilio-oai's spec/json folder, or pass specs=None to record "
                            "requests unchecked")
        files = sorted(folder.glob("*.json"))
        if not files:
            raise LoadError("no *.json OpenAPI specs in this folder", Location(str(folder)))
        for path in files:
            source = load_source(path)
            document = source.data
            if not isinstance(document, dict) or "paths" not in document:
                continue  # not an OpenAPI document (a README.json, a config file): ignore it
            self.files.append(path.name)
            components = document.get("components", {}).get("schemas", {})
            self.schemas.update(components)
            default_servers = document.get("servers") or []
            for template, item in document["paths"].items():
                servers = item.get("servers") or default_servers
                for server in servers:
                    host = urlsplit(server.get("url", "")).hostname
                    if host:
                        self._add_path(host, template, item, path.name, components)
        for entries in self._by_host.values():
            # Literal segments beat parameters: /TaskQueues/RealTimeStatistics before /TaskQueues/{Sid}.
            entries.sort(key=lambda e: (e.template.count("{"), -e.literal_length))

    def _add_path(self, host: str, template: str, item: dict[str, Any], spec: str,
                  components: Mapping[str, Any]) -> None:
        operations: dict[str, Operation] = {}
        for method, op in item.items():
            if method.upper() not in METHODS or not isinstance(op, dict):
                continue
            operations[method.upper()] = _operation(method.upper(), host, template, op, spec, components)
        entry = _PathEntry(template, _template_regex(template), len(_PARAMETER.sub("", template)), operations)
        self._by_host.setdefault(host, []).append(entry)


@functools.lru_cache(maxsize=8)
def _cached_index(folder: str, _stamp: tuple[tuple[str, int], ...]) -> OpenApiIndex:
    return OpenApiIndex(folder)


def _operation(method: str, host: str, template: str, op: dict[str, Any], spec: str,
               components: Mapping[str, Any]) -> Operation:
    required: list[str] = []
    parameters: set[str] = set()
    schemas: dict[str, Any] = {}
    patterns: list[tuple[str, re.Pattern[str]]] = []
    for parameter in op.get("parameters", []):
        name = parameter.get("name", "")
        where = parameter.get("in")
        if where == "path":
            pattern = (parameter.get("schema") or {}).get("pattern")
            if pattern:
                patterns.append((name, re.compile(pattern)))
        elif where == "query":
            parameters.add(name)
            schemas[name] = _inline(parameter.get("schema") or {}, components)
            if parameter.get("required"):
                required.append(name)
    body = (op.get("requestBody") or {}).get("content") or {}
    for content in body.values():
        schema = _inline(content.get("schema") or {}, components)
        parameters.update(schema.get("properties", {}))
        schemas.update(schema.get("properties", {}))
        required.extend(schema.get("required", []))
    success, schema_name = 200, None
    for status, response in (op.get("responses") or {}).items():
        if status.isdigit() and 200 <= int(status) < 300:
            success = int(status)
            for content in (response.get("content") or {}).values():
                ref = (content.get("schema") or {}).get("$ref", "")
                schema_name = ref.rsplit("/", 1)[-1] or None
            break
    return Operation(method, host, template, op.get("operationId"), spec, tuple(dict.fromkeys(required)),
                     frozenset(parameters), tuple(patterns), success, schema_name, schemas)


def _inline(node: Any, components: Mapping[str, Any], depth: int = 0) -> Any:
    """`{"$ref": "#/components/schemas/task_enum_status"}` replaced by the enum it names (request schemas
    are shallow; a cycle or a ref to another file is left as `{}`, which accepts anything)."""
    if isinstance(node, list):
        return [_inline(item, components, depth) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        if not ref.startswith("#/components/schemas/") or name not in components or depth > 8:
            return {}
        return _inline(components[name], components, depth + 1)
    return {key: _inline(value, components, depth) for key, value in node.items()}


_INTEGER = re.compile(r"[+-]?\d+")


def _from_wire(value: Any, schema: Mapping[str, Any]) -> Any:
    """A form value (always text on the wire) read as Twilio reads it, by the parameter's schema type:
    `"3"` is the integer 3 and `"true"` the boolean; text that is not one stays text, so the schema
    check reports the wrong type."""
    kind = schema.get("type")
    if kind == "array":
        items = schema.get("items") or {}
        values = value if isinstance(value, list) else [value]
        return [_from_wire(item, items) for item in values]
    if not isinstance(value, str):
        return value
    if kind == "integer" and _INTEGER.fullmatch(value.strip()):
        return int(value)
    if kind == "number":
        try:
            number = float(value)
        except ValueError:
            return value
        return number if number == number and abs(number) != float("inf") else value
    if kind == "boolean" and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


#: Per operation, its parameters' schemas compiled (lazily: most runs never call the REST fake).
_VALIDATORS: dict[int, tuple[Operation, Any]] = {}


def parameter_errors(operation: Operation, params: Mapping[str, Any]) -> list[str]:
    """What is wrong with the values of `params` (types, enums, patterns, ranges), per twilio-oai.

    Values arrive as wire text and are read by their schema type first (`_from_wire`); the check itself
    is jsonschema's (OpenAPI 3.0 schemas are Draft 4 with extra keywords)."""
    known = {name: value for name, value in params.items() if name in operation.parameter_schemas}
    if not known:
        return []
    found = _VALIDATORS.get(id(operation))
    if found is None or found[0] is not operation:
        from jsonschema import Draft4Validator

        schema = {"type": "object", "properties": dict(operation.parameter_schemas)}
        found = _VALIDATORS[id(operation)] = (operation, Draft4Validator(schema))
    validator = found[1]
    instance = {name: _from_wire(value, operation.parameter_schemas[name]) for name, value in known.items()}
    errors = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path]):
        name = str(error.absolute_path[0]) if error.absolute_path else "?"
        errors.append(f"Invalid parameter {name}: {error.message}")
    return errors


def _template_regex(template: str) -> re.Pattern[str]:
    parts = _PARAMETER.split(template)
    pattern = "".join(re.escape(part) if n % 2 == 0 else f"(?P<{part}>[^/]+?)"
                      for n, part in enumerate(parts))
    return re.compile(f"^{pattern}/?$")


def _base_host(host: str) -> str:
    """`taskrouter.dublin.ie1.twilio.com` → `taskrouter.twilio.com`: edge and region keep the API."""
    host = host.lower().split(":", 1)[0]
    if host.endswith(".twilio.com"):
        return host.split(".", 1)[0] + ".twilio.com"
    return host


def _is_blank(value: Any) -> bool:
    return value is None or value == "" or value == []


# --- calls, routes and the fake -----------------------------------------------------------------------

@dataclass
class ApiCall:
    """One request the code under test made, and what the fake answered."""

    method: str
    url: str
    host: str
    path: str
    query: Data
    data: Data  # form parameters (what twilio-python and Studio send)
    json: Any  # a JSON body, when one was sent
    headers: dict[str, str]
    timestamp: datetime
    template: str | None = None  # the matched route's or spec operation's path template
    path_params: dict[str, str] = field(default_factory=dict)
    status: int | None = None
    response: Any = None  # the reply's parsed JSON
    route: Route | None = None

    @property
    def params(self) -> Data:
        """Body and query parameters together (body wins)."""
        return {**self.query, **self.data}

    def describe(self) -> str:
        lines = [f"{self.method} {self.url}"]
        shown = self.params
        if shown:
            lines.append("  parameters: " + ", ".join(f"{k}={_short(v)}" for k, v in shown.items()))
        if self.json is not None:
            lines.append(f"  json: {_short(json.dumps(self.json))}")
        return "\n".join(lines)


Reply = Mapping[str, Any] | list[Any] | str | None
ReplyFactory = Callable[[ApiCall], Reply]
Callback = Callable[[ApiCall], tuple[int, Reply]]


@dataclass
class Route:
    """A canned reply for one method and path template (`{Name}` matches one path segment)."""

    method: str
    template: str
    host: str | None = None
    json: Reply | ReplyFactory = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    callback: Callback | None = None
    times: int | None = None  # answer at most this many calls; None = any number
    default: bool = False  # a built-in reply: not required by assert_all_called
    calls: list[ApiCall] = field(default_factory=list)
    _regex: re.Pattern[str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.method = self.method.upper()
        self._regex = _template_regex(self.template)

    def __str__(self) -> str:
        return f"{self.method} {'https://' + self.host if self.host else ''}{self.template}"

    def miss_reason(self, method: str, host: str, path: str) -> str | None:
        """Why this route does not answer the request; None when it does."""
        if self.times is not None and len(self.calls) >= self.times:
            return f"used up ({self.times} call{'s' if self.times != 1 else ''})"
        if self.method != method:
            return f"method {method} is not {self.method}"
        if self.host is not None and _base_host(self.host) != _base_host(host):
            return f"host {host} is not {self.host}"
        assert self._regex is not None
        if not self._regex.match(path):
            return f"path {path} does not match {self.template}"
        return None


class TwilioApiMismatch(EngineError):
    """A request to Twilio that no route answers or that Twilio's specs reject."""

    def __init__(self, message: str, call: ApiCall, hint: str | None = None) -> None:
        super().__init__(message, None, hint)
        self.call = call


class FakeTwilioApi:
    """An in-process Twilio REST API: canned routes, default replies, recorded calls, spec checks."""

    def __init__(
        self,
        specs: OpenApiIndex | str | Path | None = None,
        *,
        defaults: bool = True,
        sids: SidFactory | None = None,
        clock: Clock | None = None,
        account_sid: str | None = None,
        taskrouter: FakeTaskRouter | None = None,
        outbox: Outbox | None = None,
    ) -> None:
        if specs is None or isinstance(specs, OpenApiIndex):
            self.specs = specs or OpenApiIndex(None)
        else:
            self.specs = OpenApiIndex.cached(specs)
        self.sids = sids or SidFactory()
        self.clock = clock or FixedClock()
        self.account_sid = account_sid or self.sids.make("AC")
        self.taskrouter = taskrouter or FakeTaskRouter(sids=self.sids, clock=self.clock,
                                                       account_sid=self.account_sid)
        self.outbox = outbox if outbox is not None else Outbox(self.clock)
        self.routes: list[Route] = []
        self.calls: list[ApiCall] = []
        self.failures: list[TwilioApiMismatch] = []
        self.executions: list[dict[str, Any]] = []
        self.interactions: list[dict[str, Any]] = []
        self._interactions = FakeInteractions(self.taskrouter, self.sids)
        self._defaults: list[Route] = self._default_routes() if defaults else []

    # --- registering and asserting -------------------------------------------------------------------

    def add(
        self,
        method: str,
        url: str,
        *,
        json: Reply | ReplyFactory = None,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        callback: Callback | None = None,
        times: int | None = None,
    ) -> Route:
        """Answer `method url` with `json` (a value or a function of the call) or `callback(call)`.

        `url` is a path template (`/v1/Workspaces/{WorkspaceSid}/Tasks`, any Twilio host) or an absolute
        one (`https://taskrouter.twilio.com/v1/…`). The status defaults to the spec's success status
        (201 for most creates), else 201 for POST and 200 otherwise. Routes are tried in the order added.
        """
        if method.upper() not in METHODS:
            raise UsageError(f"unknown HTTP method {method!r}; expected one of {', '.join(METHODS)}")
        host = None
        template = url
        if "://" in url:
            parts = urlsplit(url)
            host, template = parts.hostname, parts.path or "/"
        if not template.startswith("/"):
            raise UsageError(f"route path must start with '/', got {url!r}")
        route = Route(method, template, host, json, status, dict(headers or {}), callback, times)
        self.routes.append(route)
        return route

    def assert_all_called(self) -> None:
        """ExpectationFailed naming every route the test added that no request used."""
        unused = [route for route in self.routes if not route.calls]
        if unused:
            made = "\n".join("  " + call.describe().replace("\n", "\n  ") for call in self.calls) or "  none"
            raise ExpectationFailed(
                f"{len(unused)} Twilio route{'s were' if len(unused) > 1 else ' was'} never called: "
                + ", ".join(str(r) for r in unused),
                hint=f"requests made:\n{made}",
            )

    def calls_to(self, method: str | None = None, template: str | None = None) -> list[ApiCall]:
        """Recorded calls, filtered by method and by path template (or a literal path)."""
        found = []
        for call in self.calls:
            if method is not None and call.method != method.upper():
                continue
            if template is not None and template not in (call.template, call.path):
                continue
            found.append(call)
        return found

    def reset(self) -> None:
        """Forget calls and failures (routes stay)."""
        self.calls.clear()
        self.failures.clear()
        for route in [*self.routes, *self._defaults]:
            route.calls.clear()

    # --- ways in -------------------------------------------------------------------------------------

    def http_client(self) -> FakeHttpClient:
        """A `twilio.http.HttpClient` for `twilio.rest.Client(..., http_client=fake.http_client())`."""
        return FakeHttpClient(self)

    @contextmanager
    def intercept(self) -> Iterator[FakeTwilioApi]:
        """Answer every `requests` call to *.twilio.com from this fake; other hosts go to the network."""
        try:
            import responses
        except ImportError:  # pragma: no cover - depends on the installation
            raise UsageError("FakeTwilioApi.intercept() needs the 'responses' package",
                             hint="pip install responses, or use fake.http_client()") from None

        def answer(request: Any) -> tuple[int, dict[str, str], str]:
            content_type = request.headers.get("Content-Type", "") if request.headers else ""
            body = request.body
            if isinstance(body, bytes):
                body = body.decode("utf-8", "replace")
            data: Data = {}
            json_body = None
            if body:
                if "json" in content_type:
                    try:
                        json_body = json.loads(body)
                    except ValueError:
                        json_body = body
                else:
                    data = _form(parse_qs(body, keep_blank_values=True))
            status, headers, text = self.handle(request.method, request.url, data=data, json_body=json_body,
                                                headers=dict(request.headers or {}))
            return status, headers, text

        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            for method in METHODS:
                mock.add_callback(method, _TWILIO_URL, callback=answer, content_type=None)
            mock.add_passthru(_NOT_TWILIO_URL)
            yield self

    # --- the core ------------------------------------------------------------------------------------

    def handle(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, dict[str, str], str]:
        """Answer one request: (status, headers, body text). Raises TwilioApiMismatch when it cannot."""
        parts = urlsplit(url)
        query = _form(parse_qs(parts.query, keep_blank_values=True))
        query.update(_normalise(params or {}))
        call = ApiCall(method.upper(), url.split("?", 1)[0], parts.hostname or "", parts.path or "/", query,
                       _normalise(data or {}), json_body, _safe_headers(headers or {}), self.clock.now())
        self.calls.append(call)
        sent = dict(call.params)
        if isinstance(json_body, Mapping):
            sent.update(json_body)
        verdict = self.specs.check(call.method, call.host, call.path, sent)
        if verdict.operation is not None:
            call.template = verdict.operation.template
            call.path_params = verdict.path_params
        if not verdict.ok:
            raise self._fail(call, verdict, "Twilio's API spec rejects it")
        if verdict.invalid:  # what Twilio itself answers for these: 400, error 20001, before any route
            call.status, call.response = _twilio_error(400, 20001, "; ".join(verdict.invalid))
            return call.status, dict(_JSON_HEADERS), json.dumps(call.response)
        reasons: list[tuple[Route, str]] = []
        for route in [*self.routes, *self._defaults]:
            reason = route.miss_reason(call.method, call.host, call.path)
            if reason is None:
                return self._reply(route, call, verdict)
            if not route.default:
                reasons.append((route, reason))
        raise self._fail(call, verdict, "no route answers it", reasons)

    def _reply(self, route: Route, call: ApiCall, verdict: SpecCheck) -> tuple[int, dict[str, str], str]:
        assert route._regex is not None
        found = route._regex.match(call.path)
        call.route = route
        call.template = route.template
        call.path_params = found.groupdict() if found else {}
        route.calls.append(call)
        if route.callback is not None:
            status, reply = route.callback(call)
        else:
            reply = route.json(call) if callable(route.json) else route.json
            status = route.status or (verdict.operation.success_status if verdict.operation
                                      else 201 if call.method == "POST" else 200)
        call.status = status
        call.response = reply
        text = reply if isinstance(reply, str) else ("" if reply is None else json.dumps(reply))
        return status, {**_JSON_HEADERS, **route.headers}, text

    def _fail(self, call: ApiCall, verdict: SpecCheck, why: str,
              reasons: list[tuple[Route, str]] | None = None) -> TwilioApiMismatch:
        lines = [call.describe()]
        if verdict.checked:
            lines += [f"  spec: {problem}" for problem in verdict.problems] or \
                [f"  spec: valid ({verdict.operation.operation_id if verdict.operation else 'checked'})"]
        else:
            lines.append(f"  spec: not checked (no spec loaded covers {call.host})")
        if reasons is not None:
            lines += [f"  route {route}: {reason}" for route, reason in reasons] or ["  routes: none added"]
        hint = "add a route with fake.add(method, path_template, json=...)" if reasons is not None \
            else "fix the request, or check the twilio-oai spec of this API"
        error = TwilioApiMismatch(f"unexpected Twilio request, {why}:\n  " + "\n  ".join(lines), call, hint)
        call.status = None
        self.failures.append(error)
        return error

    # --- default replies -----------------------------------------------------------------------------

    def _default_routes(self) -> list[Route]:
        defaults = [
            Route("POST", "/v1/Workspaces/{WorkspaceSid}/Tasks", "taskrouter.twilio.com",
                  callback=self._create_task),
            Route("POST", "/v2/Flows/{FlowSid}/Executions", "studio.twilio.com",
                  callback=self._create_execution),
            Route("POST", "/2010-04-01/Accounts/{AccountSid}/Messages.json", "api.twilio.com",
                  callback=self._create_message),
            Route("POST", "/v1/Interactions", "flex-api.twilio.com", callback=self._create_interaction),
        ]
        for route in defaults:
            route.default = True
        return defaults

    def _create_task(self, call: ApiCall) -> tuple[int, Reply]:
        data = call.data
        try:
            task = self.taskrouter.create_task(
                _one(data.get("WorkflowSid")), _one(data.get("TaskChannel")),
                _one(data.get("Attributes")) or "{}", _one(data.get("Priority")), _one(data.get("Timeout")))
        except EngineError as err:
            return _twilio_error(400, 20001, err.message)
        reply = task.to_dict()
        workspace = call.path_params.get("WorkspaceSid")
        if workspace and workspace != task.workspace_sid:  # one fake workspace answers for any WS SID
            reply = json.loads(json.dumps(reply).replace(task.workspace_sid, workspace))
        return 201, reply

    def _create_execution(self, call: ApiCall) -> tuple[int, Reply]:
        data = call.data
        parameters = _one(data.get("Parameters"))
        context: Any = {}
        if parameters:
            try:
                context = json.loads(parameters)
            except ValueError:
                return _twilio_error(400, 20001, "Parameters must be a JSON object")
            if not isinstance(context, dict):
                return _twilio_error(400, 20001, "Parameters must be a JSON object")
        if _is_blank(data.get("To")) or _is_blank(data.get("From")):
            return _twilio_error(400, 20001, "Missing required parameter To or From in the post body")
        flow_sid = call.path_params.get("FlowSid", "")
        sid = self.sids.make("FN")
        now = iso(self.clock.now())
        url = f"https://studio.twilio.com/v2/Flows/{flow_sid}/Executions/{sid}"
        execution = {
            "sid": sid,
            "account_sid": self.account_sid,
            "flow_sid": flow_sid,
            "contact_channel_address": _one(data.get("To")),
            "contact_sid": self.sids.make("FC"),
            "flow_version": 1,
            "context": {"flow": {"data": context}} if context else {},
            "status": "active",
            "date_created": now,
            "date_updated": now,
            "initiated_by": None,
            "url": url,
            "links": {"steps": f"{url}/Steps", "execution_context": f"{url}/Context"},
        }
        self.executions.append(execution)
        return 201, execution

    def _create_message(self, call: ApiCall) -> tuple[int, Reply]:
        data = call.data
        to = _one(data.get("To"))
        sender = _one(data.get("From")) or _one(data.get("MessagingServiceSid"))
        if not to:
            return _twilio_error(400, 21604, "A 'To' phone number is required.")
        if not sender:
            return _twilio_error(400, 21603, "A 'From' phone number is required.")
        media = data.get("MediaUrl") or []
        media_urls = [media] if isinstance(media, str) else list(media)
        body = _one(data.get("Body")) or ""
        try:
            message = self.outbox.send(to, sender, body, media=media_urls)
        except EngineError as err:
            code = re.search(r"error (\d{5})", err.message)
            return _twilio_error(400, int(code.group(1)) if code else 21602, err.message)
        account = call.path_params.get("AccountSid", self.account_sid)
        sid = self.sids.make("MM" if media_urls else "SM")
        now = _rfc2822(self.clock.now())
        uri = f"/2010-04-01/Accounts/{account}/Messages/{sid}.json"
        return 201, {
            "account_sid": account,
            "api_version": "2010-04-01",
            "body": message.body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": _one(data.get("From")),
            "messaging_service_sid": _one(data.get("MessagingServiceSid")),
            "num_media": str(len(media_urls)),
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            "to": to,
            "uri": uri,
        }

    def _create_interaction(self, call: ApiCall) -> tuple[int, Reply]:
        """`POST /v1/Interactions`: the task through `harness.engines.twilio.interactions` (the one place
        that knows what Flex adds to it); an Interaction without routing properties creates no task."""
        data = call.data
        try:
            channel = json.loads(_one(data.get("Channel")) or "")
            routing = json.loads(_one(data.get("Routing")) or "{}")
        except ValueError:
            return _twilio_error(400, 20001, "Channel and Routing must be JSON objects")
        if not isinstance(channel, dict) or not isinstance(routing, dict):
            return _twilio_error(400, 20001, "Channel and Routing must be JSON objects")
        properties = routing.get("properties") or {}
        if not isinstance(properties, dict):
            return _twilio_error(400, 20001, "Routing.properties must be a JSON object")
        context, ttid = _one(data.get("InteractionContextSid")), _one(data.get("WebhookTtid"))
        if not properties:
            sid, channel_sid = self.sids.make("KD"), self.sids.make("UO")
            url = f"https://flex-api.twilio.com/v1/Interactions/{sid}"
            interaction: dict[str, Any] = {
                "sid": sid, "channel": {"type": str(channel.get("type", "sms")), "sid": channel_sid},
                "routing": {"reservation": None, "properties": {}}, "interaction_context_sid": context,
                "webhook_ttid": ttid, "url": url, "links": {"channels": f"{url}/Channels"}}
        else:
            channel = {**channel, "type": channel.get("type", "sms")}
            try:
                created = self._interactions.create(channel=channel, routing=routing,
                                                    interaction_context_sid=context, webhook_ttid=ttid)
            except EngineError as err:
                return _twilio_error(400, 20001, err.message)
            interaction = created.to_dict()
            if properties.get("workspace_sid"):
                interaction["routing"]["properties"]["workspace_sid"] = properties["workspace_sid"]
        self.interactions.append(interaction)
        return 200, interaction  # CreateInteraction answers 200, not 201 (twilio_flex_v1.json)


class FakeHttpClient(HttpClient):
    """twilio-python's HttpClient interface, answered by a FakeTwilioApi (no network)."""

    def __init__(self, fake: FakeTwilioApi) -> None:
        import logging

        super().__init__(logging.getLogger("harness.fake_twilio"), False, None)
        self.fake = fake

    def request(
        self,
        method: str,
        uri: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        json_body = None
        if headers and "json" in str(headers.get("Content-Type", "")) and isinstance(data, dict):
            json_body, data = data, None
        status, response_headers, text = self.fake.handle(method, uri, params=params, data=data,
                                                          json_body=json_body, headers=headers)
        response = Response(status, text, response_headers)
        self._test_only_last_response = response
        return response


# --- helpers ------------------------------------------------------------------------------------------

def _normalise(values: Mapping[str, Any]) -> Data:
    """Form values as they travel on the wire: strings, or lists of strings for repeated keys."""
    out: Data = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            out[key] = [_wire(v) for v in value]
        else:
            out[key] = _wire(value)
    return out


def _wire(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _form(parsed: dict[str, list[str]]) -> Data:
    return {key: values[0] if len(values) == 1 else values for key, values in parsed.items()}


def _one(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else (None if value == [] else value)


def _safe_headers(headers: Mapping[str, Any]) -> dict[str, str]:
    return {k: ("<redacted>" if k.lower() == "authorization" else str(v)) for k, v in headers.items()}


def _short(value: Any, width: int = 80) -> str:
    text = value if isinstance(value, str) else repr(value)
    return repr(text) if len(text) <= width else repr(text[:width - 1] + "…")


def _twilio_error(status: int, code: int, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"code": code, "message": message,
                    "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}


def _rfc2822(when: datetime) -> str:
    # The 2010 API writes dates as RFC 2822 ("Mon, 02 Jan 2023 09:00:00 +0000"); no locale involved.
    return email.utils.format_datetime(when.astimezone(UTC)).replace("-0000", "+0000")
