"""Consumer side of the HTTP hand-off: recorded requests of the flow → a Pact V4 file.

    writer = HandoffPactWriter("contracts/pacts", "hospitality-http", "contact-center",
                               schema="contracts/schemas/handoff.schema.json")
    writer.add(transcript.handoff, description="a guest asks for an agent by SMS",
               provider_state="hand-offs are accepted")

`add()` takes a hand-off as the Studio engine records it:
`{"kind": "http", "method", "url", "headers", "body" (parsed JSON or form dict), "query" (a GET's
parameters, optional), "status", "response"}` and, in this order:

1. scrubs it: credential headers (Authorization, X-Twilio-Signature, …), per-request headers
   (Host, Content-Length, User-Agent, Studio's idempotency token), user:password in the URL and
   secret-looking query parameters are dropped; body values under secret-looking keys are replaced by
   `"[redacted]"` with a type matcher, so auth tokens never reach the pact file;
2. checks the body against the JSON Schema (a body that is not JSON — form data, text, none — fails a
   `body_schema` outright) and the Twilio rules (`twilio_rules.check_handoff`) — problems raise
   `ContractFailed` naming each JSON path, and nothing is written;
3. builds one `Pact` (V4) holding this one interaction: the request with matchers derived from the
   schema (`schema_matchers`; SID examples replaced by stable stand-ins), the response status — with
   Pact V4's `statusCode` matcher `success` for a 2xx, since Studio's HTTP widget takes any 2xx as
   success — and the parts of the answer the flow relies on (`response_keys`, e.g. from
   `parsed_keys_used(flow, widget)`): type matchers, and strings must not be empty (the flow shows or
   forwards them) unless a `response_schema` says otherwise;
4. sends the real recorded request to pact's mock server with `requests` — a mismatch (the matchers
   reject what the flow actually sent) raises `ContractFailed`;
5. mode `write` (default): merges the interaction into `<consumer>-<provider>.json` under a file lock,
   replacing the one with the same description and keeping the others (`pact_files.merge_pact`): a
   filtered run updates what it ran and leaves the rest of a committed pact alone. `add(…, write=False)`
   checks without writing (a failing scenario never writes). Mode `check`: the interaction is compared
   with the committed one; any difference (path, method, headers, body or its matchers, status,
   response) raises `ContractFailed` with rule `pact.drift` naming the JSON path, and nothing is written.

One `Pact` object per `add()` call: a `Pact` is single-use once served (pact.md §6.1).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests

from harness.contracts import pact_files
from harness.contracts._pact import load_pact
from harness.contracts.results import ContractFailed, ContractProblem
from harness.contracts.schema_matchers import MatcherBuilder, child_path
from harness.contracts.twilio_rules import DEFAULT_RULES, TwilioRules, check_handoff
from harness.errors import LoadError, Location, UsageError
from harness.models.flow import Flow
from harness.sources import is_malformed, load_source

DEFAULT_PROVIDER_STATE = "hand-offs are accepted"
REDACTED = "[redacted]"
JSON_CONTENT_TYPE = re.compile(r"^application/(.+\+)?json\b", re.IGNORECASE)
RESPONSE_JSON_REGEX = r"^application/json(\s*;.*)?$"
# Set per request by HTTP clients and Studio, never part of what the provider relies on.
VOLATILE_HEADERS = frozenset({"host", "content-length", "user-agent", "accept-encoding", "connection",
                              "i-twilio-idempotency-token", "x-request-id", "date"})
_MOCK_TIMEOUT = 10.0
NON_EMPTY = r"^[\s\S]+$"
SUCCESS_STATUS_RULES = {"status": {"$": {"combine": "AND", "matchers": [{"match": "statusCode", "status": "success"}]}}}
DRIFT_RULE = "pact.drift"
_MAX_DRIFTS = 20
MODES = ("write", "check")


class HandoffPactWriter:
    """Writes recorded HTTP hand-offs of one consumer (flow) to one provider (vendor) into a pact."""

    def __init__(
        self,
        pact_dir: str | Path,
        consumer: str,
        provider: str,
        *,
        schema: str | Path | Mapping[str, Any] | None = None,
        response_schema: str | Path | Mapping[str, Any] | None = None,
        response_keys: Iterable[str] | None = None,
        rules: TwilioRules = DEFAULT_RULES,
        run_id: str | None = None,
        mode: str = "write",
        names_at: Callable[[str], Location] | None = None,
    ) -> None:
        """`names_at(role)`: where the consumer or provider name is written (a scenario file's place)."""
        if not consumer or not provider:
            raise UsageError("a pact needs a consumer and a provider name",
                             names_at("consumer" if not consumer else "provider") if names_at else None)
        # The names become the file name `<consumer>-<provider>.json`: never a path out of the pact folder.
        pact_files.check_pact_names(consumer, provider, locate=names_at,
                                    source=None if names_at else "HandoffPactWriter(consumer, provider)")
        if mode not in MODES:
            raise UsageError(f"pact mode must be 'write' or 'check', got {mode!r}")
        self.mode = mode
        self.pact_dir = Path(pact_dir)
        self.consumer, self.provider = consumer, provider
        self.schema = load_json_schema(schema) if schema is not None else None
        self.response_schema = load_json_schema(response_schema) if response_schema is not None else None
        self.response_keys = tuple(response_keys) if response_keys is not None else None
        self.rules = rules
        self.run_id = run_id  # accepted for callers; merging by description needs no per-run reset

    @property
    def pact_path(self) -> Path:
        return self.pact_dir / pact_files.pact_file_name(self.consumer, self.provider)

    def add(
        self,
        handoff: Mapping[str, Any],
        *,
        description: str,
        provider_state: str | None = DEFAULT_PROVIDER_STATE,
        state_params: Mapping[str, Any] | None = None,
        write: bool = True,
    ) -> Path:
        """Check one recorded hand-off, then (mode `write`, `write=True`) merge it into the pact file, or
        (mode `check`) compare it with the committed interaction; returns the pact file's path."""
        request = scrub(_check_shape(handoff))
        problems = self._body_problems(request, description)
        problems += check_handoff({**handoff, "body": request["body"]}, interaction=description,
                                  rules=self.rules)
        if problems:
            raise ContractFailed(problems)

        pact_module = load_pact()
        pact = pact_module.Pact(self.consumer, self.provider).with_specification("V4")
        self._declare(pact, pact_module.match, request, description, provider_state, state_params)
        problems = _check_against_mock(pact, request, description)
        if problems:
            raise ContractFailed(problems)
        if self.mode == "check":
            fresh = pact_files.built_interactions(pact, self.pact_path.name)
            problems = self.drift(description, fresh[0] if fresh else None)
            if problems:
                raise ContractFailed(problems)
            return self.pact_path
        if not write:
            return self.pact_path
        return pact_files.merge_pact(pact, self.pact_dir, self.pact_path.name)

    def forget(self, description: str) -> bool:
        """Remove the interaction `description` from the pact (its scenario ran and made no HTTP hand-off).
        In mode `check` nothing is removed: a committed interaction is a `pact.drift` ContractFailed."""
        if self.mode == "check":
            problems = self.drift(description, None)
            if problems:
                raise ContractFailed(problems)
            return False
        return pact_files.drop_interactions(self.pact_dir, self.pact_path.name, [description])

    def drift(self, description: str, fresh: Mapping[str, Any] | None) -> list[ContractProblem]:
        """How the interaction `fresh` (None: the scenario no longer hands off) differs from the committed
        one with this description, as `pact.drift` problems naming the JSON path."""
        committed = self._committed(description)
        regenerate = ("regenerate it deliberately with `autopilot-harness run … --write-pacts` "
                      "(or AUTOPILOT_HARNESS_PACT_MODE=write), review and commit it")
        where = str(self.pact_path)
        if committed is None and fresh is None:
            return []
        if committed is None:
            return [ContractProblem(description, "$", f"{where} has no interaction {description!r}; check mode "
                                    f"fails until you {regenerate}", DRIFT_RULE)]
        if fresh is None:
            return [ContractProblem(description, "$", f"{where} has an interaction for this scenario, but it "
                                    f"made no HTTP hand-off; check mode fails until you {regenerate}",
                                    DRIFT_RULE)]
        note = f"differs from the committed pact {where} (check mode: nothing written; {regenerate})"
        problems = [ContractProblem(description, path, note, DRIFT_RULE, _show(old), _show(new))
                    for path, old, new in json_differences(committed, fresh)]
        if len(problems) > _MAX_DRIFTS:
            more = len(problems) - _MAX_DRIFTS
            problems = [*problems[:_MAX_DRIFTS],
                        ContractProblem(description, "$", f"… and {more} more differences", DRIFT_RULE)]
        return problems

    def _committed(self, description: str) -> dict[str, Any] | None:
        if not self.pact_path.is_file():
            return None
        document = pact_files.read_pact(self.pact_path)
        return next((i for i in pact_files.pact_interactions(document)
                     if str(i.get("description")) == description), None)

    def _body_problems(self, request: Mapping[str, Any], description: str) -> list[ContractProblem]:
        if self.schema is None:
            return []
        if request["is_json"]:
            return schema_problems(request["body"], self.schema, description)
        # The body schema describes a JSON body: form data or text cannot satisfy it (it used to be skipped).
        if request["body"] is None:
            got = "no body"
        elif isinstance(request["body"], Mapping):
            got = "form data"
        else:
            got = f"{request['content_type'] or 'text'} text"
        return [ContractProblem(description, "$", f"expected a JSON object body (the body_schema describes one), "
                                f"got {got}", "schema")]

    # --- building the interaction ---------------------------------------------------------------------

    def _declare(
        self,
        pact: Any,
        match: Any,
        request: Mapping[str, Any],
        description: str,
        provider_state: str | None,
        state_params: Mapping[str, Any] | None,
    ) -> None:
        interaction = pact.upon_receiving(description)
        if provider_state:
            interaction = interaction.given(provider_state, **dict(state_params or {}))
        interaction = interaction.with_request(request["method"], request["path"])
        for name, value in request["query"]:
            interaction = interaction.with_query_parameter(name, value)
        for name, value in request["headers"].items():
            if name.lower() != "content-type":  # with_body sets it
                interaction = interaction.with_header(name, value)
        if request["body"] is not None:
            if request["is_json"]:
                builder = MatcherBuilder(match, self.schema, canonical_sids=True)
                body = builder.build(request["body"])
                interaction = interaction.with_body(_reinsert_redactions(body, request["body"], match),
                                                    content_type=request["content_type"])
                extra = builder.extra_rules()
                if extra:
                    interaction = interaction.with_matching_rules(extra, part="Request")
            else:
                interaction = interaction.with_body(request["raw"], content_type=request["content_type"])

        status = request["status"]
        interaction = interaction.will_respond_with(status)
        if 200 <= status < 300:
            # Studio's HTTP widget takes any 2xx as `success`: the vendor may answer 200 or 201 (Pact V4).
            interaction = interaction.with_matching_rules(SUCCESS_STATUS_RULES, part="Response")
        response = request["response"]
        if isinstance(response, Mapping):
            kept = {k: response[k] for k in sorted(response)
                    if self.response_keys is None or k in self.response_keys}
            missing = sorted(set(self.response_keys or ()) - set(response))
            if missing:
                raise ContractFailed([
                    ContractProblem(description, f"$.{key}",
                                    "the flow relies on this field but the recorded answer lacks it",
                                    "response")
                    for key in missing])
            if kept:
                builder = MatcherBuilder(match, self.response_schema)
                if self.response_schema is None:
                    typed: list[str] = []
                    body = _types_only(builder.build(kept), kept, match, "$", typed)
                    extra = {"body": {p: {"combine": "AND", "matchers": [{"match": "type"}]} for p in typed}}
                else:
                    body = builder.build(kept)
                    extra = builder.extra_rules()
                content_type = match.regex("application/json", regex=RESPONSE_JSON_REGEX)
                interaction.with_header("Content-Type", content_type)
                interaction.with_body(body, content_type="application/json")
                if extra and extra["body"]:
                    interaction.with_matching_rules(extra, part="Response")


# --- recorded hand-off → request parts ---------------------------------------------------------------------


def _check_shape(handoff: Mapping[str, Any]) -> Mapping[str, Any]:
    where = Location(None, "")
    if not isinstance(handoff, Mapping):
        raise UsageError(f"a hand-off must be a mapping, got {type(handoff).__name__}", where)
    if handoff.get("kind") != "http":
        raise UsageError(f"HandoffPactWriter takes HTTP hand-offs (kind 'http'), got {handoff.get('kind')!r}",
                         Location(None, "/kind"),
                         hint="Flex hand-offs are messages: see harness.contracts.messages")
    for key, kind in (("method", str), ("url", str), ("status", int)):
        if not isinstance(handoff.get(key), kind) or isinstance(handoff.get(key), bool):
            raise UsageError(f"the hand-off's '{key}' must be a {kind.__name__}, got {handoff.get(key)!r}",
                             Location(None, f"/{key}"))
    if not isinstance(handoff.get("headers", {}), Mapping):
        raise UsageError("the hand-off's 'headers' must be an object", Location(None, "/headers"))
    return handoff


def scrub(handoff: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of a recorded request that go into a pact, without credentials or per-request noise."""
    url = urlsplit(handoff["url"])
    query = parse_qsl(url.query, keep_blank_values=True)
    extra_query = handoff.get("query")
    if isinstance(extra_query, Mapping):  # a GET widget's parameters, recorded beside the URL
        query += [(str(k), "" if v is None else str(v)) for k, v in extra_query.items()]
    headers = {}
    for name, value in (handoff.get("headers") or {}).items():
        low = str(name).lower()
        if low in VOLATILE_HEADERS or pact_files.is_sensitive_name(low):
            continue
        headers[str(name)] = value[0] if isinstance(value, list) and len(value) == 1 else value
    content_type = next((str(v) for k, v in headers.items() if k.lower() == "content-type"), None)
    body = handoff.get("body")
    if body in ("", b"", {}) and content_type is None:
        body = None  # a GET sends no body: declaring an empty one makes pact's mock demand it
    is_json = bool(content_type and JSON_CONTENT_TYPE.match(content_type))
    if is_json and isinstance(body, str | bytes):
        try:
            body = json.loads(body)
        except ValueError:
            is_json = False  # sent as text: twilio_rules reports the invalid JSON
    if not is_json and content_type is None and isinstance(body, Mapping):
        content_type = "application/x-www-form-urlencoded"
    raw = _raw_body(body, is_json, content_type)
    return {
        "method": handoff["method"].upper(),
        "path": url.path or "/",
        "query": sorted((k, v) for k, v in query if not pact_files.is_sensitive_name(k)),
        "headers": headers,
        "content_type": content_type,
        "is_json": is_json,
        "body": _redact(body) if is_json else body,
        "raw": raw,
        "status": handoff["status"],
        "response": handoff.get("response"),
    }


def _raw_body(body: Any, is_json: bool, content_type: str | None) -> str | None:
    if body is None:
        return None
    if is_json:
        return json.dumps(_redact(body), ensure_ascii=False)
    if isinstance(body, Mapping):
        return urlencode(sorted((str(k), "" if v is None else str(v)) for k, v in _redact(body).items()))
    return body.decode() if isinstance(body, bytes) else str(body)


def _redact(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: REDACTED if pact_files.is_sensitive_name(str(k)) and isinstance(v, str | int)
                else _redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value


def _reinsert_redactions(built: Any, body: Any, match: Any) -> Any:
    """Secret-looking keys get a bare type matcher: the real request (with its real value) still matches."""
    if isinstance(body, Mapping) and isinstance(built, dict):
        return {k: match.str(REDACTED) if body[k] == REDACTED
                else _reinsert_redactions(built[k], body[k], match) for k in built}
    return built


def _types_only(built: Any, example: Any, match: Any, path: str, typed: list[str]) -> Any:
    """Response fields the flow reads: presence and type matter, values do not (ticket ids change), but a
    string must not be empty — the flow shows or forwards it ("Your reference is ." helps nobody).
    `typed` collects the paths that need a `type` matcher beside the regex."""
    if isinstance(example, Mapping):
        return {k: _types_only(built[k], example[k], match, child_path(path, str(k)), typed) for k in example}
    if isinstance(example, list) or example is None or isinstance(example, bool):
        return built
    if isinstance(example, str):
        if not example:
            return match.str(example)
        typed.append(path)
        return match.regex(example, regex=NON_EMPTY)
    return built


def _check_against_mock(pact: Any, request: Mapping[str, Any], description: str) -> list[ContractProblem]:
    """Send the recorded request to pact's mock server; its mismatches become problems."""
    headers = dict(request["headers"])
    query = urlencode(request["query"])
    with pact.serve(raises=False) as server:
        url = str(server.url).rstrip("/") + request["path"] + (f"?{query}" if query else "")
        data = request["raw"].encode("utf-8") if request["raw"] is not None else None
        try:
            requests.request(request["method"], url, headers=headers, data=data, timeout=_MOCK_TIMEOUT)
        except requests.RequestException as err:
            return [ContractProblem(description, "$", f"pact's mock server did not answer: {err}",
                                    "pact.mock")]
    problems = []
    for mismatch in server.mismatches:
        inner = getattr(mismatch, "mismatches", None)
        if inner is None:
            problems.append(ContractProblem(description, "$", str(mismatch), "pact.mock"))
            continue
        for item in inner:
            path = getattr(item, "path", None) or getattr(item, "key", None) or type(item).__name__
            text = getattr(item, "mismatch", None) or str(item)
            problems.append(ContractProblem(description, str(path), str(text), "pact.mock"))
    return problems


# --- schemas and flows -------------------------------------------------------------------------------------


def load_json_schema(schema: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """A JSON Schema from a file or a mapping; LoadError naming the file when it is unreadable."""
    if isinstance(schema, Mapping):
        return dict(schema)
    path = Path(schema)
    try:  # the strict loader: UTF-8 only, no duplicate keys, nesting capped (harness.sources)
        data = load_source(path, kind="json").data
    except LoadError as err:
        if is_malformed(err):
            err.message = f"JSON Schema is not valid JSON: {err.message.removeprefix('malformed JSON: ')}"
        elif err.message.startswith(("file not found", "is a directory", "cannot read")):
            err.message = f"cannot read JSON Schema: {err.message}"
        err.args = (err.message,)
        raise
    if not isinstance(data, dict):
        raise LoadError("a JSON Schema must be an object", Location(str(path)))
    return data


def schema_problems(body: Any, schema: Mapping[str, Any] | None, description: str) -> list[ContractProblem]:
    """JSON Schema violations of a payload, one problem per violation, with its JSON path."""
    if schema is None:
        return []
    from jsonschema import validators

    validator = validators.validator_for(schema)(schema)
    problems = []
    for error in sorted(validator.iter_errors(body), key=lambda e: [str(p) for p in e.absolute_path]):
        path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, Mapping):
            missing = [k for k in error.validator_value if k not in error.instance]
            for key in missing:
                problems.append(ContractProblem(description, f"{path}.{key}",
                                                "required by the schema, missing", "schema"))
            continue
        problems.append(ContractProblem(description, path, error.message, "schema"))
    return problems


def parsed_keys_used(flow: Flow, widget: str) -> tuple[str, ...]:
    """Top-level keys of `widgets.<widget>.parsed` the flow's templates read: what it relies on."""
    pattern = re.compile(r"widgets\.\s*" + re.escape(widget) + r"\.\s*parsed\.\s*([A-Za-z_][\w-]*)")
    text = json.dumps(flow.raw)
    return tuple(sorted(set(pattern.findall(text))))


def json_differences(old: Any, new: Any, path: str = "$") -> list[tuple[str, Any, Any]]:
    """(JSON path, old, new) for every place two JSON values differ; a missing side is `MISSING_VALUE`."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        found: list[tuple[str, Any, Any]] = []
        for key in sorted(set(old) | set(new), key=str):
            here = child_path(path, str(key))
            if key not in old:
                found.append((here, MISSING_VALUE, new[key]))
            elif key not in new:
                found.append((here, old[key], MISSING_VALUE))
            else:
                found += json_differences(old[key], new[key], here)
        return found
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [d for i, (a, b) in enumerate(zip(old, new, strict=True))
                for d in json_differences(a, b, f"{path}[{i}]")]
    if old == new and type(old) is type(new):
        return []
    return [(path, old, new)]


MISSING_VALUE = "(absent)"


def _show(value: Any) -> str:
    text = value if value == MISSING_VALUE else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 120 else text[:117] + "..."
