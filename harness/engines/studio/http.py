"""Outbound HTTP for the Studio widgets `make-http-request` and `run-function`: the URL map and the call.

The URL map sends a production URL to a local one: the **longest** matching prefix wins, matched on a
path boundary (`https://x.twil.io` maps `https://x.twil.io/fn` but not `https://x.twil.io.evil.com`).
A key may use a wildcard host, `https://*.twil.io`, which maps any Twilio Functions domain (the key
then counts as long as the host it matched). The rest of the URL (path after the prefix, query) is kept.

Rules of Studio's HTTP Request widget (reference/studio.md §2.7): a 2xx answer within 10 seconds
(redirects followed), at most 64 kB of body; only JSON answers are parsed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from harness.errors import UsageError

HTTP_TIMEOUT_SECONDS = 10.0
MAX_BODY_BYTES = 64 * 1024
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


@dataclass(frozen=True, slots=True)
class _Rule:
    scheme: str
    host: str  # lower case; without "*." for a wildcard rule
    wildcard: bool
    path: str  # without trailing slash
    target: str  # without trailing slash
    length: int


class UrlMap:
    """Production URL prefixes → local base URLs (see the module docstring for matching)."""

    def __init__(self, mapping: Mapping[str, str] | None = None) -> None:
        self.mapping = dict(mapping or {})
        rules = []
        for prefix, target in self.mapping.items():
            parts = urlsplit(prefix.strip())
            if not parts.scheme or not parts.netloc:
                raise UsageError(f"URL map key {prefix!r} is not an absolute URL (e.g. https://x.twil.io)")
            host = parts.netloc.lower()
            wildcard = host.startswith("*.")
            rules.append(_Rule(parts.scheme.lower(), host[2:] if wildcard else host, wildcard,
                               parts.path.rstrip("/"), target.strip().rstrip("/"), len(prefix)))
        self._rules = tuple(rules)

    def resolve(self, url: str) -> str | None:
        """The local URL for `url`, or None when no key matches."""
        if not self._rules:
            return None
        parts = urlsplit(url)
        scheme, host = parts.scheme.lower(), parts.netloc.lower()
        best: tuple[int, _Rule] | None = None
        for rule in self._rules:
            if rule.scheme != scheme:
                continue
            if rule.wildcard:
                if not host.endswith("." + rule.host):
                    continue
                length = len(scheme) + 3 + len(host) + len(rule.path)
            else:
                if rule.host != host:
                    continue
                length = rule.length
            path = parts.path
            if rule.path and not (path == rule.path or path.startswith(rule.path + "/")):
                continue
            if best is None or length > best[0]:
                best = (length, rule)
        if best is None:
            return None
        rule = best[1]
        rest = parts.path[len(rule.path):]
        if rest and not rest.startswith("/"):
            rest = "/" + rest
        return rule.target + rest + (f"?{parts.query}" if parts.query else "")


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
    text = raw.decode(response.encoding or "utf-8", errors="replace")
    outcome = HttpOutcome(status=response.status_code, body=text, content_type=content_type,
                          headers=dict(response.headers))
    if is_json_type(content_type) and text.strip():
        try:
            outcome.parsed = json.loads(text)
            outcome.has_parsed = True
        except ValueError:
            pass  # Studio leaves `parsed` out when the JSON is broken; `body` still has the text
    return outcome
