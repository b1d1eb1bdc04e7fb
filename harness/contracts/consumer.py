"""Consumer side of the HTTP hand-off: recorded requests of the flow → a Pact V4 file.

    writer = HandoffPactWriter("contracts/pacts", "hospitality-http", "contact-center",
                               schema="examples/contact_center/handoff.schema.json")
    writer.add(transcript.handoff, description="a guest asks for an agent by SMS",
               provider_state="hand-offs are accepted")

`add()` takes a hand-off as the Studio engine records it:
`{"kind": "http", "method", "url", "headers", "body" (parsed JSON or form dict), "status", "response"}`
and, in this order:

1. scrubs it: credential headers (Authorization, X-Twilio-Signature, …), per-request headers
   (Host, Content-Length, User-Agent, Studio's idempotency token), user:password in the URL and
   secret-looking query parameters are dropped; body values under secret-looking keys are replaced by
   `"[redacted]"` with a type matcher, so auth tokens never reach the pact file;
2. checks the body against the JSON Schema and the Twilio rules (`twilio_rules.check_handoff`) —
   problems raise `ContractFailed` naming each JSON path, and nothing is written;
3. builds one `Pact` (V4) holding this one interaction: the request with matchers derived from the
   schema (`schema_matchers`), the response status and the parts of the answer the flow relies on
   (`response_keys`, e.g. from `parsed_keys_used(flow, widget)`), with type matchers;
4. sends the real recorded request to pact's mock server with `requests` — a mismatch (the matchers
   reject what the flow actually sent) raises `ContractFailed`;
5. merges the interaction into `<consumer>-<provider>.json` under a file lock, replacing the one with
   the same description and keeping the others (`pact_files.merge_pact`): a filtered run updates what it
   ran and leaves the rest of a committed pact alone.

One `Pact` object per `add()` call: a `Pact` is single-use once served (pact.md §6.1).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests

from harness.contracts import pact_files
from harness.contracts._pact import load_pact
from harness.contracts.results import ContractFailed, ContractProblem
from harness.contracts.schema_matchers import MatcherBuilder
from harness.contracts.twilio_rules import DEFAULT_RULES, TwilioRules, check_handoff
from harness.errors import LoadError, Location, UsageError
from harness.models.flow import Flow

DEFAULT_PROVIDER_STATE = "hand-offs are accepted"
REDACTED = "[redacted]"
JSON_CONTENT_TYPE = re.compile(r"^application/(.+\+)?json\b", re.IGNORECASE)
RESPONSE_JSON_REGEX = r"^application/json(\s*;.*)?$"
# Set per request by HTTP clients and Studio, never part of what the provider relies on.
VOLATILE_HEADERS = frozenset({"host", "content-length", "user-agent", "accept-encoding", "connection",
                              "i-twilio-idempotency-token", "x-request-id", "date"})
_MOCK_TIMEOUT = 10.0


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
    ) -> None:
        if not consumer or not provider:
            raise UsageError("a pact needs a consumer and a provider name")
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
    ) -> Path:
        """Check one recorded hand-off and merge it into the pact file; returns the file's path."""
        request = scrub(_check_shape(handoff))
        problems = schema_problems(request["body"], self.schema, description) if request["is_json"] else []
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
        return pact_files.merge_pact(pact, self.pact_dir, self.pact_path.name)

    def forget(self, description: str) -> bool:
        """Remove the interaction `description` from the pact (its scenario ran and made no HTTP hand-off)."""
        return pact_files.drop_interactions(self.pact_dir, self.pact_path.name, [description])

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
                body = MatcherBuilder(match, self.schema).build(request["body"])
                interaction = interaction.with_body(_reinsert_redactions(body, request["body"], match),
                                                    content_type=request["content_type"])
            else:
                interaction = interaction.with_body(request["raw"], content_type=request["content_type"])

        status = request["status"]
        interaction = interaction.will_respond_with(status)
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
                body = _types_only(builder.build(kept), kept, match) if self.response_schema is None else \
                    builder.build(kept)
                content_type = match.regex("application/json", regex=RESPONSE_JSON_REGEX)
                interaction.with_header("Content-Type", content_type)
                interaction.with_body(body, content_type="application/json")


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
    headers = {}
    for name, value in (handoff.get("headers") or {}).items():
        low = str(name).lower()
        if low in VOLATILE_HEADERS or pact_files.is_sensitive_name(low):
            continue
        headers[str(name)] = value[0] if isinstance(value, list) and len(value) == 1 else value
    content_type = next((str(v) for k, v in headers.items() if k.lower() == "content-type"), None)
    body = handoff.get("body")
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
        "query": sorted((k, v) for k, v in parse_qsl(url.query, keep_blank_values=True)
                        if not pact_files.is_sensitive_name(k)),
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


def _types_only(built: Any, example: Any, match: Any) -> Any:
    """Response fields the flow reads: presence and type matter, values do not (ticket ids change)."""
    if isinstance(example, Mapping):
        return {k: _types_only(built[k], example[k], match) for k in example}
    if isinstance(example, list) or example is None or isinstance(example, bool):
        return built
    if isinstance(example, str):
        return match.str(example)
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
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise LoadError(f"cannot read JSON Schema: {err.strerror or err}", Location(str(path))) from None
    except json.JSONDecodeError as err:
        raise LoadError(f"JSON Schema is not valid JSON: {err.msg}",
                        Location(str(path), "", err.lineno, err.colno)) from None
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
