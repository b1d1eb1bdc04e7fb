"""Sending production URLs to local servers: `https://hotel-1234.twil.io/send-to-agent` → `http://127.0.0.1:PORT/send-to-agent`.

A map entry is `PROD_PREFIX → LOCAL_BASE`. The longest matching prefix wins. A prefix may use `*` as the
first label of its host (`https://*.twil.io`) to match any Functions domain; the path after the matched
prefix is kept. URLs that match nothing are used as they are (a test may point at a real local server).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit


class UrlMap:
    def __init__(self, mapping: Mapping[str, str] | None = None) -> None:
        self._entries: list[tuple[re.Pattern[str], str, str]] = []
        for prefix, local in (mapping or {}).items():
            self.add(prefix, local)

    def add(self, prefix: str, local: str) -> None:
        prefix = prefix.rstrip("/")
        pattern = re.escape(prefix).replace(r"\*", r"[^/]+")
        # A prefix matches whole path segments only: /api does not match /apiary.
        compiled = re.compile(f"^{pattern}(?=/|\\?|$)", re.IGNORECASE)
        self._entries.append((compiled, prefix, local.rstrip("/")))
        self._entries.sort(key=lambda e: len(e[1]), reverse=True)

    def resolve(self, url: str) -> str:
        """The URL to actually call."""
        for pattern, _prefix, local in self._entries:
            found = pattern.match(url)
            if found:
                return local + url[found.end():]
        return url

    def __bool__(self) -> bool:
        return bool(self._entries)

    def as_dict(self) -> dict[str, str]:
        return {prefix: local for _p, prefix, local in self._entries}


def is_absolute_http(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)
