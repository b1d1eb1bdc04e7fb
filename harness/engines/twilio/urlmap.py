"""Sending production URLs to local servers: `https://hotel-1234.twil.io/send-to-agent` → `http://127.0.0.1:PORT/send-to-agent`.

A map entry is `PROD_PREFIX → LOCAL_BASE`. The **longest** matching prefix wins, matched on a path boundary
(`https://x.twil.io` maps `https://x.twil.io/fn` but not `https://x.twil.io.evil.com` or `/fnord`). A key may
use a wildcard host, `https://*.twil.io`, which maps any Twilio Functions domain (the key then counts as long
as the host it matched). The rest of the URL (path after the prefix, query) is kept, and so is user info
(`https://user:pw@x.twil.io/fn` → `http://user:pw@127.0.0.1:3000/fn`: Twilio sends URL credentials as
Basic auth). `target_hosts` are the hosts the map sends to: with loopback, the only hosts the kit's
network guard (`harness.engines.twilio.network`) lets a request reach.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from urllib3.util import parse_url

from harness.errors import UsageError


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
        self.target_hosts: frozenset[str] = frozenset(
            host for host in (_host(rule.target) for rule in rules) if host)

    def mapped(self, url: str) -> str | None:
        """The local URL for `url`, or None when no key matches."""
        if not self._rules:
            return None
        try:
            parts = urlsplit(url)
        except ValueError:  # e.g. an unclosed IPv6 bracket: no key can match it
            return None
        scheme = parts.scheme.lower()
        userinfo, _, host = parts.netloc.rpartition("@")
        host = host.lower()
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
        local = rule.target + rest + (f"?{parts.query}" if parts.query else "")
        if userinfo:
            target = urlsplit(local)
            if "@" not in target.netloc:
                local = urlunsplit(target._replace(netloc=f"{userinfo}@{target.netloc}"))
        return local

    def resolve(self, url: str) -> str:
        """The URL to actually call: the mapped one, or `url` itself when no key matches."""
        found = self.mapped(url)
        return url if found is None else found

    def __bool__(self) -> bool:
        return bool(self._rules)

    def as_dict(self) -> dict[str, str]:
        return dict(self.mapping)


def _host(url: str) -> str:
    """The host of a map target, lower case, IPv6 without brackets ("" when it has none)."""
    try:
        host = (parse_url(url).host or "").lower()
    except ValueError:  # urllib3's LocationParseError
        return ""
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host
