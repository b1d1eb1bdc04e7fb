"""Requests to Action URLs, redirect and on_complete URLs and validate webhooks, as Autopilot sent them.

Transport (docs/autopilot-engine.md): a form-encoded POST, or a GET with the same parameters in the query
string but without `Memory` (Autopilot left it out to avoid truncation). Every request carries
`X-Twilio-Signature`, computed by the `twilio` package's RequestValidator from the auth token over the
**production** URL (the one in the assistant), since that is the URL Twilio signed — on a GET the full URL
with its query string exactly as requested, parameters in the order sent; `sign_local_url=True`
signs the URL actually called instead, for local servers that validate against what they see.
Production URLs go through the URL map to local servers first.

The request goes through the kit's one network guard and deadline (`harness.engines.twilio.network`):
an unmapped URL that is not loopback is refused before any DNS lookup, and the whole request — connect,
headers, body, redirects — must finish within `WEBHOOK_DEADLINE_SECONDS` with a body of at most
`WEBHOOK_MAX_BYTES`, else the call fails like any failing Action URL.

Responses must be JSON: Actions (`{"actions": [...]}`, checked like error 90100) or, for validate
webhooks, `{"valid": bool}`. Anything else is a WebhookError naming the URL, status and a body excerpt.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests

from harness.engines.twilio.functions import LOGS_HEADER, decode_logs
from harness.engines.twilio.network import (
    FetchError,
    NetworkPolicy,
    RequestLimits,
    env_limit,
    fetch,
    guarded_session,
    redact,
)
from harness.engines.twilio.urlmap import UrlMap
from harness.errors import HarnessError, LoadError, WebhookError
from harness.sources import loads_json

# One deadline for the whole request (connect, headers, body, redirects). Twilio's webhooks get 15 s in
# total by default ("Total time (tt)", default and maximum 15000 ms:
# https://www.twilio.com/docs/usage/webhooks/webhooks-connection-overrides). [uncertain: the Autopilot
# docs (reference/autopilot.md) state no limit of their own for Action URLs; we assume the general one.]
WEBHOOK_DEADLINE_SECONDS = 15.0
WEBHOOK_DEADLINE_ENV = "AUTOPILOT_HARNESS_WEBHOOK_DEADLINE"
DEFAULT_TIMEOUT = WEBHOOK_DEADLINE_SECONDS  # the former name
# [uncertain: no documented size limit for Actions JSON] The kit's own cap, so a runaway answer cannot
# fill memory; raise it with the environment variable.
WEBHOOK_MAX_BYTES = 1024 * 1024
WEBHOOK_MAX_BYTES_ENV = "AUTOPILOT_HARNESS_WEBHOOK_MAX_BYTES"
# Twilio's limits page: an Actions response over 16 KB fails with error 90100 (1 KB = 1024 bytes
# [uncertain]). Twilio's limit, not the kit's: not raisable.
MAX_ACTIONS_BYTES = 16 * 1024
# A TwiML document: an optional XML declaration, then the <Response> element.
_TWIML = re.compile(r"^\ufeff?\s*(<\?xml[^>]*\?>\s*)?<Response[\s>/]")
EXCERPT = 300
_UNREACHABLE_HINT = "is the server running, and does --url-map send the production URL to it?"


@dataclass
class WebhookCall:
    """One request and its outcome, kept in the transcript."""

    purpose: str  # "actions_url" | "redirect" | "on_complete" | "validate" | "default"
    url: str  # as written in the assistant
    called: str  # after the URL map
    method: str
    params: dict[str, str]
    status: int | None = None
    elapsed_ms: float | None = None
    response: Any = None
    error: str | None = None
    body_bytes: int | None = None  # the size of the answer (not in to_dict: transcripts keep their shape)
    logs: list[dict[str, str]] = field(default_factory=list)  # a Function's console output for this request

    def to_dict(self) -> dict[str, Any]:
        data = {
            "purpose": self.purpose, "url": self.url, "called": self.called, "method": self.method,
            "params": dict(self.params), "status": self.status, "elapsed_ms": self.elapsed_ms,
            "response": self.response, "error": self.error,
        }
        if self.logs:  # only when the Function printed something: transcripts without logs keep their shape
            data["logs"] = [dict(line) for line in self.logs]
        return data


@dataclass
class WebhookClient:
    url_map: UrlMap = field(default_factory=UrlMap)
    auth_token: str = "harness-test-auth-token"
    timeout: float | None = None  # seconds for the whole request; None: $AUTOPILOT_HARNESS_WEBHOOK_DEADLINE or 15
    sign: bool = True
    sign_local_url: bool = False
    http: requests.Session | None = None

    def __post_init__(self) -> None:
        self._validator: Any = None
        self.policy = NetworkPolicy(self.url_map)

    def limits(self) -> RequestLimits:
        """This call's deadline and body cap: `timeout` when given, else the environment, else the defaults."""
        if self.timeout is not None:
            deadline, source = self.timeout, "the webhook client's timeout"
        else:
            deadline = env_limit(WEBHOOK_DEADLINE_ENV, WEBHOOK_DEADLINE_SECONDS)
            source = f"Twilio's webhook limit; {WEBHOOK_DEADLINE_ENV} changes it"
        max_bytes = int(env_limit(WEBHOOK_MAX_BYTES_ENV, WEBHOOK_MAX_BYTES, unit="bytes", integer=True))
        return RequestLimits(deadline, max_bytes, f"the whole request, {source}",
                             f"the kit's cap for webhook answers; {WEBHOOK_MAX_BYTES_ENV} raises it")

    def signature(self, url: str, params: Mapping[str, str]) -> str:
        if self._validator is None:
            from twilio.request_validator import RequestValidator  # import cost only when used

            self._validator = RequestValidator(self.auth_token)
        return self._validator.compute_signature(url, dict(params))

    def call(self, purpose: str, url: str, method: str, params: Mapping[str, str], *,
             parse_json: bool = True) -> tuple[Any, WebhookCall]:
        """Send the request; return the parsed JSON body (the text with `parse_json=False`) and the record.
        Raises WebhookError."""
        method = (method or "POST").upper()
        sent = dict(params)
        if method == "GET":
            sent.pop("Memory", None)
        try:
            called = self.policy.target(url)
        except FetchError as err:  # refused before any socket: not in the URL map, not loopback
            raise WebhookError(f"{purpose} {method} {redact(url)}: {err.detail}", hint=err.hint) from None
        record = WebhookCall(purpose, url, called, method, sent)
        headers = {"User-Agent": "TwilioProxy/1.1 (autopilot-harness)", "Accept": "application/json"}
        # A GET carries its parameters in the query string, built once in the order sent: that exact URL is
        # requested and signed (Twilio signs the full URL as requested; no sorting, no re-encoding).
        query = urlencode(list(sent.items())) if method == "GET" else ""
        if self.sign:
            if method == "GET":
                signed_url = _with_query(called if self.sign_local_url else url, query)
                headers["X-Twilio-Signature"] = self.signature(signed_url, {})
            else:
                headers["X-Twilio-Signature"] = self.signature(called if self.sign_local_url else url, sent)
        session = self.http or _shared_session()
        started = time.perf_counter()
        try:
            response = fetch(session, method, _with_query(called, query) if method == "GET" else called,
                             policy=self.policy, limits=self.limits(),
                             data=sent if method != "GET" else None, headers=headers)
        except FetchError as err:
            record.status = err.status
            record.error = err.detail
            raise WebhookError(f"{purpose} {method} {_shown(url, called)}: {record.error}",
                               hint=err.hint or (_UNREACHABLE_HINT if err.reason == "unreachable" else None)
                               ) from None
        finally:
            record.elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
        record.status = response.status_code
        record.body_bytes = len(response.body)
        record.logs = decode_logs(response.headers.get(LOGS_HEADER))
        body = response.text()
        if not 200 <= response.status_code < 300:
            record.error = f"HTTP {response.status_code}"
            raise WebhookError(
                f"{purpose} {method} {_shown(url, called)} answered HTTP {response.status_code}: "
                f"{_excerpt(body)}{logs_text(record.logs)}"
            )
        if not parse_json:
            record.response = body
            return body, record
        try:
            data = loads_json(body) if body.strip() else None
        except LoadError as err:  # malformed, a duplicate key or nesting beyond MAX_NESTING_DEPTH
            record.error = "invalid JSON"
            at = err.location
            place = f" at line {at.line} column {at.column}" if at is not None and at.line is not None else ""
            raise WebhookError(
                f"{purpose} {method} {_shown(url, called)} answered HTTP {response.status_code} with invalid "
                f"JSON ({err.message.removeprefix('malformed JSON: ')}{place}): {_excerpt(body)}"
                f"{logs_text(record.logs)}",
                hint=err.hint,
            ) from None
        record.response = data
        return data, record

    def actions(self, purpose: str, url: str, method: str, params: Mapping[str, str], *,
                task_names: Collection[str], field_type_names: Collection[str],
                defer_unknown_tasks: bool = False) -> tuple[list, WebhookCall]:
        """Call a URL that must answer Actions JSON; return the checked actions list.

        `defer_unknown_tasks`: a `task://` redirect target naming no task is not a problem of the answer
        (the dialogue fails when that redirect fires); `listen.tasks` names are still checked."""
        data, record = self.call(purpose, url, method, params)
        if record.body_bytes is not None and record.body_bytes > MAX_ACTIONS_BYTES:
            record.error = "Actions response too large"
            raise WebhookError(
                f"{purpose} {record.method} {_shown(url, record.called)} answered {record.body_bytes} bytes of "
                f"Actions JSON, over Twilio's {MAX_ACTIONS_BYTES // 1024} KB limit (error 90100)"
                f"{logs_text(record.logs)}",
                hint="send fewer or shorter actions; Twilio rejects the whole response at this size")
        from harness.models.actions import check_actions

        problems: list[HarnessError] = check_actions(
            data, path=url, task_names=task_names, field_type_names=field_type_names
        ) if isinstance(data, dict) else []
        if not isinstance(data, dict):
            problems = [WebhookError(f"expected a JSON object with 'actions', got {_kind(data)}")]
        if defer_unknown_tasks:
            problems = [p for p in problems if not _unknown_task_target(p)]
        if problems:
            details = "; ".join(f"{p.location.pointer or '/'}: {p.message}" if p.location else p.message
                                for p in problems[:5])
            record.error = "invalid Actions JSON"
            raise WebhookError(
                f"{purpose} {record.method} {_shown(url, record.called)} answered invalid Actions JSON "
                f"(error 90100): {details}; body: {_excerpt(json.dumps(data))}{logs_text(record.logs)}"
            )
        return list(data.get("actions") or []), record

    def twiml(self, purpose: str, url: str, method: str, params: Mapping[str, str]) -> tuple[str, WebhookCall]:
        """Fetch TwiML (a voice handoff's `uri`): the answer must be a `<Response>` document, or the call
        fails on Twilio (error 12100, document parse failure)."""
        body, record = self.call(purpose, url, method, params, parse_json=False)
        if not _TWIML.match(body):
            record.error = "not TwiML"
            raise WebhookError(
                f"{purpose} {record.method} {_shown(url, record.called)} answered HTTP {record.status} without "
                f"a TwiML <Response> document (Twilio fails the call: error 12100): {_excerpt(body)}"
            )
        return body, record

    def validate(self, url: str, method: str, params: Mapping[str, str]) -> tuple[bool, WebhookCall]:
        data, record = self.call("validate", url, method, params)
        if not isinstance(data, dict) or not isinstance(data.get("valid"), bool):
            record.error = "expected {\"valid\": true|false}"
            raise WebhookError(
                f"validate {record.method} {_shown(url, record.called)}: expected {{\"valid\": true|false}}, "
                f"got {_excerpt(json.dumps(data))}"
            )
        return data["valid"], record


_SESSION: requests.Session | None = None


def _shared_session() -> requests.Session:
    # One pooled, guarded session per process: keep-alive makes local webhook turns several times faster.
    global _SESSION
    if _SESSION is None:
        _SESSION = guarded_session()
    return _SESSION


def _with_query(url: str, query: str) -> str:
    """`url` with `query` appended after any query it already has (kept as written)."""
    if not query:
        return url
    return url + ("&" if "?" in url else "?") + query


MAX_LOG_LINES_SHOWN = 20  # in an error message; the transcript keeps every line


def logs_text(logs: list[dict[str, str]]) -> str:
    """A Function's console output for an error message: "" when it printed nothing."""
    if not logs:
        return ""
    shown = [f"  [{line.get('level', '')}] {line.get('message', '')}" for line in logs[:MAX_LOG_LINES_SHOWN]]
    if len(logs) > MAX_LOG_LINES_SHOWN:
        shown.append(f"  … {len(logs) - MAX_LOG_LINES_SHOWN} more line(s) in the transcript (webhooks[].logs)")
    return "\nFunction output:\n" + "\n".join(shown)


def _unknown_task_target(problem: HarnessError) -> bool:
    """A reference problem about a redirect target (`'task://x' names no task`), not a listen.tasks name."""
    from harness.errors import ReferenceProblem

    return isinstance(problem, ReferenceProblem) and problem.message.startswith("'task://")


def _shown(url: str, called: str) -> str:
    return redact(url) if url == called else f"{redact(url)} (called {redact(called)})"


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    if not text:
        return "(empty body)"
    return text if len(text) <= EXCERPT else text[:EXCERPT] + "…"


def _kind(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__
