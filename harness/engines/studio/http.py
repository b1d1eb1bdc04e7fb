"""Outbound HTTP for the Studio widgets `make-http-request` and `run-function`: the URL map and the call.

The URL map (`harness.engines.twilio.urlmap`, shared with the Autopilot engine) sends a production URL
to a local one; unmapped URLs are refused unless they are loopback or the network is allowed. Requests go
through the kit's one network guard and deadline (`harness.engines.twilio.network.fetch`), which also
checks and maps every redirect hop.

Rules of Studio's HTTP Request widget (reference/studio.md §2.7): a 2xx answer within 10 seconds
(redirects followed), at most 64 kB of body; only JSON answers are parsed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from harness.engines.twilio.network import (
    FetchError,
    NetworkPolicy,
    RequestLimits,
    env_limit,
    fetch,
    host_of,
    is_loopback_host,
    redact,
)
from harness.engines.twilio.urlmap import UrlMap  # noqa: F401  (re-exported: the widgets' URL map)
from harness.errors import LoadError
from harness.sources import is_malformed, loads_json

# Studio's HTTP Request widget: "must return a 2xx status code within 10 seconds, and the response body
# must not exceed 64kB" (reference/studio.md §2.7, Twilio's http-request widget page); Run Function: the
# same 10 s (§2.8). The kit applies 10 s to the whole request (connect, headers, body, redirects).
HTTP_TIMEOUT_SECONDS = 10.0
HTTP_DEADLINE_ENV = "AUTOPILOT_HARNESS_HTTP_DEADLINE"
MAX_BODY_BYTES = 64 * 1024


def is_loopback(url: str) -> bool:
    """True for http(s)://127.x.x.x…, localhost, [::1]: local servers the kit may always call."""
    return is_loopback_host(host_of(url))


def media_type(content_type: str | None) -> str:
    """`application/json;charset=utf-8` → `application/json`."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_json_type(content_type: str | None) -> bool:
    kind = media_type(content_type)
    return kind == "application/json" or kind.endswith("+json")


@dataclass
class HttpOutcome:
    """What one call produced; `error` is set when no usable answer came back."""

    status: int | None = None
    body: str = ""
    content_type: str = ""
    parsed: Any = None
    has_parsed: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    hint: str | None = None  # how to fix `error` (e.g. map the URL), when there is a way


def studio_limits(timeout: float | None = None, max_body: int = MAX_BODY_BYTES) -> RequestLimits:
    """The HTTP widgets' deadline (`timeout`, else $AUTOPILOT_HARNESS_HTTP_DEADLINE, else 10 s) and body cap."""
    if timeout is not None:
        deadline, source = timeout, "the whole request"
    else:
        deadline = env_limit(HTTP_DEADLINE_ENV, HTTP_TIMEOUT_SECONDS)
        source = f"the whole request, Studio's limit for HTTP widgets; {HTTP_DEADLINE_ENV} changes it"
    return RequestLimits(deadline, max_body, source, f"{max_body // 1024} kB, Studio's limit")


def perform(
    session: requests.Session,
    method: str,
    url: str,
    *,
    policy: NetworkPolicy | None = None,
    params: Mapping[str, str] | None = None,
    data: str | bytes | Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    timeout: float | None = None,
    max_body: int = MAX_BODY_BYTES,
    shown: str | None = None,
) -> HttpOutcome:
    """Send one request; never raises for network trouble (it becomes `HttpOutcome.error`).

    `url` is the URL to call (already through the URL map), `shown` the URL as the flow wrote it (named in
    errors); `policy` says which hosts it and its redirects may reach (default: loopback only). One
    deadline covers the whole request, redirects included."""
    try:
        response = fetch(session, method, url, policy=policy or NetworkPolicy(),
                         limits=studio_limits(timeout, max_body), params=params or None, data=data,
                         headers=headers, auth=auth)
    except FetchError as err:
        where = redact(shown or url) if (shown or url) == url else f"{redact(shown or url)} (called {redact(url)})"
        return HttpOutcome(status=err.status if err.reason == "too_large" else None,
                           error=f"{method} {where}: {err.detail}" + (f"; {err.hint}" if err.hint else ""),
                           hint=err.hint)
    raw = response.body
    content_type = response.headers.get("Content-Type", "")
    try:
        text = raw.decode(response.encoding or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know: no text to give the flow
        return HttpOutcome(status=response.status_code,
                           error=f"the answer declares an unknown charset {response.encoding!r}")
    outcome = HttpOutcome(status=response.status_code, body=text, content_type=content_type,
                          headers=dict(response.headers))
    if is_json_type(content_type) and text.strip():
        try:
            outcome.parsed = loads_json(text)
            outcome.has_parsed = True
        except LoadError as err:
            # Studio leaves `parsed` out when the JSON is broken; `body` still has the text. JSON the kit
            # refuses (a duplicate key, nesting beyond MAX_NESTING_DEPTH) fails the request instead.
            if not is_malformed(err):
                outcome.error = f"the JSON answer is refused: {err.message}" + (f" ({err.hint})" if err.hint else "")
    return outcome
