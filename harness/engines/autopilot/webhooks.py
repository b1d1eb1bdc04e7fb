"""Requests to Action URLs, redirect and on_complete URLs and validate webhooks, as Autopilot sent them.

Transport (docs/autopilot-engine.md): a form-encoded POST, or a GET with the same parameters in the query
string but without `Memory` (Autopilot left it out to avoid truncation). Every request carries
`X-Twilio-Signature`, computed by the `twilio` package's RequestValidator from the auth token over the
**production** URL (the one in the assistant), since that is the URL Twilio signed; `sign_local_url=True`
signs the URL actually called instead, for local servers that validate against what they see.
Production URLs go through the URL map to local servers first.

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

from harness.engines.twilio.urlmap import UrlMap
from harness.errors import HarnessError, LoadError, WebhookError
from harness.sources import loads_json

# A TwiML document: an optional XML declaration, then the <Response> element.
_TWIML = re.compile(r"^\ufeff?\s*(<\?xml[^>]*\?>\s*)?<Response[\s>/]")
DEFAULT_TIMEOUT = 10.0  # seconds; Twilio gave webhooks about this long [uncertain]
EXCERPT = 300


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "purpose": self.purpose, "url": self.url, "called": self.called, "method": self.method,
            "params": dict(self.params), "status": self.status, "elapsed_ms": self.elapsed_ms,
            "response": self.response, "error": self.error,
        }


@dataclass
class WebhookClient:
    url_map: UrlMap = field(default_factory=UrlMap)
    auth_token: str = "harness-test-auth-token"
    timeout: float = DEFAULT_TIMEOUT
    sign: bool = True
    sign_local_url: bool = False
    http: requests.Session | None = None

    def __post_init__(self) -> None:
        self._validator: Any = None

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
        called = self.url_map.resolve(url)
        record = WebhookCall(purpose, url, called, method, sent)
        headers = {"User-Agent": "TwilioProxy/1.1 (autopilot-harness)", "Accept": "application/json"}
        if self.sign:
            if method == "GET":
                signed_url = _with_query(called if self.sign_local_url else url, sent)
                headers["X-Twilio-Signature"] = self.signature(signed_url, {})
            else:
                headers["X-Twilio-Signature"] = self.signature(called if self.sign_local_url else url, sent)
        session = self.http or _shared_session()
        started = time.perf_counter()
        try:
            if method == "GET":
                response = session.get(called, params=sent, headers=headers, timeout=self.timeout)
            else:
                response = session.post(called, data=sent, headers=headers, timeout=self.timeout)
        except requests.Timeout:
            record.error = f"no answer within {self.timeout:g} s"
            raise WebhookError(f"{purpose} {method} {_shown(url, called)}: {record.error}") from None
        except requests.RequestException as err:
            record.error = f"request failed: {_reason(err)}"
            raise WebhookError(
                f"{purpose} {method} {_shown(url, called)}: {record.error}",
                hint="is the server running, and does --url-map send the production URL to it?",
            ) from None
        finally:
            record.elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
        record.status = response.status_code
        body = response.text
        if not 200 <= response.status_code < 300:
            record.error = f"HTTP {response.status_code}"
            raise WebhookError(
                f"{purpose} {method} {_shown(url, called)} answered HTTP {response.status_code}: "
                f"{_excerpt(body)}"
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
                f"JSON ({err.message.removeprefix('malformed JSON: ')}{place}): {_excerpt(body)}",
                hint=err.hint,
            ) from None
        record.response = data
        return data, record

    def actions(self, purpose: str, url: str, method: str, params: Mapping[str, str], *,
                task_names: Collection[str], field_type_names: Collection[str]) -> tuple[list, WebhookCall]:
        """Call a URL that must answer Actions JSON; return the checked actions list."""
        data, record = self.call(purpose, url, method, params)
        from harness.models.actions import check_actions

        problems: list[HarnessError] = check_actions(
            data, path=url, task_names=task_names, field_type_names=field_type_names
        ) if isinstance(data, dict) else []
        if not isinstance(data, dict):
            problems = [WebhookError(f"expected a JSON object with 'actions', got {_kind(data)}")]
        if problems:
            details = "; ".join(f"{p.location.pointer or '/'}: {p.message}" if p.location else p.message
                                for p in problems[:5])
            record.error = "invalid Actions JSON"
            raise WebhookError(
                f"{purpose} {record.method} {_shown(url, record.called)} answered invalid Actions JSON "
                f"(error 90100): {details}; body: {_excerpt(json.dumps(data))}"
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
    # One pooled session per process: keep-alive makes local webhook turns several times faster.
    global _SESSION
    if _SESSION is None:
        _SESSION = requests.Session()
        _SESSION.trust_env = False  # never send 127.0.0.1 traffic through a proxy from the environment
    return _SESSION


def _with_query(url: str, params: Mapping[str, str]) -> str:
    if not params:
        return url
    return url + ("&" if "?" in url else "?") + urlencode(sorted(params.items()))


def _shown(url: str, called: str) -> str:
    return url if url == called else f"{url} (called {called})"


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    if not text:
        return "(empty body)"
    return text if len(text) <= EXCERPT else text[:EXCERPT] + "…"


def _kind(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__


def _reason(err: Exception) -> str:
    text = str(err)
    if "Connection refused" in text or "NewConnectionError" in text:
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text or "Failed to resolve" in text:
        return "host not found (no real network here: map it with --url-map)"
    return text.split("(Caused by")[0].strip() or type(err).__name__
