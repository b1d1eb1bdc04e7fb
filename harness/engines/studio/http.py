"""Outbound HTTP for the Studio widgets `make-http-request` and `run-function`: the URL map and the call.

The URL map (`harness.engines.twilio.urlmap`, shared with the Autopilot engine) sends a production URL
to a local one; unmapped URLs are refused unless they are loopback or the network is allowed.

Rules of Studio's HTTP Request widget (reference/studio.md §2.7): a 2xx answer within 10 seconds
(redirects followed), at most 64 kB of body; only JSON answers are parsed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from harness.engines.twilio.urlmap import UrlMap  # noqa: F401  (re-exported: the widgets' URL map)
from harness.errors import LoadError
from harness.sources import is_malformed, loads_json

HTTP_TIMEOUT_SECONDS = 10.0
MAX_BODY_BYTES = 64 * 1024
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


def is_loopback(url: str) -> bool:
    """True for http(s)://127.0.0.1…, localhost, [::1]: local servers the kit may always call."""
    host = (urlsplit(url).hostname or "").lower()
    return host in _LOOPBACK_HOSTS


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


def perform(
    session: requests.Session,
    method: str,
    url: str,
    *,
    params: Mapping[str, str] | None = None,
    data: str | Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    timeout: float = HTTP_TIMEOUT_SECONDS,
    max_body: int = MAX_BODY_BYTES,
) -> HttpOutcome:
    """Send one request; never raises for network trouble (it becomes `HttpOutcome.error`)."""
    try:
        response = session.request(method, url, params=params or None, data=data, headers=dict(headers or {}),
                                   auth=auth, timeout=timeout, stream=True, allow_redirects=True)
    except requests.Timeout:
        return HttpOutcome(error=f"no answer within {timeout:g} seconds (Studio's limit)")
    except requests.RequestException as err:
        return HttpOutcome(error=f"request failed: {type(err).__name__}: {err}")
    try:
        raw = bytearray()
        for chunk in response.iter_content(8192):
            raw.extend(chunk)
            if len(raw) > max_body:
                return HttpOutcome(status=response.status_code,
                                   error=f"response body is over {max_body // 1024} kB (Studio's limit)")
    except requests.RequestException as err:
        return HttpOutcome(status=response.status_code, error=f"reading the answer failed: {err}")
    finally:
        response.close()
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
