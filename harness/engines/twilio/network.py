"""The one way the engines reach a server: the network guard and one deadline per request.

Every request the kit makes for a bot or a flow — Autopilot Action, redirect and `on_complete` URLs and
validate webhooks, Studio's HTTP Request and Run Function widgets (and through the URL map, Functions
served by twilio-run and WSGI `servers:`) — goes through `fetch`, and so does the provider proxy of
`verify` (with `follow_redirects=False` and the network allowed, since the vendor's URL is the user's).

- **Guard.** Before any socket, each URL — the first one and every redirect hop, which `fetch` follows
  itself — goes through `NetworkPolicy.target`: a URL the URL map covers goes to its local base; any other
  URL may be called only when its host is loopback (`is_loopback_host`: 127.0.0.0/8 written as a plain
  dotted quad, ::1, `localhost`) or a host the URL map sends to. Everything else (an unmapped
  `https://x.twil.io/…`, `api.twilio.com`, `localhost.evil.com`, `127.0.0.1.nip.io`, `2130706433`) is
  refused without a DNS lookup. `guarded_session()` repeats the check at the socket: its connections
  refuse, before `getaddrinfo`, any host the current request's policy does not allow.
- **Deadline.** One wall-clock deadline per request covers connecting, the headers and the whole body,
  redirects included. With `guarded_session()` a watchdog shuts the socket down when the deadline passes,
  so a server that sends one byte at a time cannot hold a run; other sessions (a test's mock, replay's
  recorded answers) are checked between reads only. The body is capped while it streams.
"""

from __future__ import annotations

import contextlib
import heapq
import ipaddress
import itertools
import math
import os
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import connection as _connection
from urllib3 import connectionpool as _connectionpool
from urllib3.util import parse_url

from harness.engines.twilio.urlmap import UrlMap
from harness.errors import EngineError, UsageError

MAX_REDIRECTS = 10  # hops followed per request [uncertain: Twilio documents that 3xx is followed, not how often]
CHUNK_BYTES = 8192
MAP_HINT = ("map it to a local server: `url_map:` in the scenario file, --url-map PROD=LOCAL (e.g. "
            "https://x.twil.io=http://127.0.0.1:3000), or StudioEnvironment(url_map=…) / AutopilotRuntime(url_map=…)")

_LOOPBACK_V4 = ipaddress.ip_network("127.0.0.0/8")
_LOOPBACK_V6 = ipaddress.IPv6Address("::1")


# --- limits ------------------------------------------------------------------------------------------------


def env_limit(name: str, default: float, *, unit: str = "seconds", integer: bool = False) -> float:
    """The limit in `$name` when set (a positive number), else `default`; a bad value is a UsageError."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        kind = "a positive whole number" if integer else "a positive number"
        raise UsageError(f"{name}={text!r}: expected {kind} of {unit}")
    return value


@dataclass(frozen=True)
class RequestLimits:
    """The deadline (whole request, seconds) and body cap (bytes) of one kind of request, with what they
    are (e.g. "Studio's HTTP Request limit") and how to raise them, for the message when one is hit."""

    deadline: float
    max_bytes: int
    deadline_source: str
    size_source: str


# --- the guard ---------------------------------------------------------------------------------------------


def host_of(url: str) -> str:
    """The host `requests`/urllib3 would connect to for `url`: lower case, IPv6 without brackets."""
    try:
        host = parse_url(url).host or ""
    except ValueError:  # urllib3's LocationParseError
        return ""
    host = host.lower()
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def is_loopback_host(host: str | None) -> bool:
    """127.0.0.0/8 as a plain dotted quad, ::1 or `localhost`: hosts that never leave this machine.

    Other spellings (`2130706433`, `0x7f000001`, `127.1`, `::ffff:127.0.0.1`, `localhost.`) are not
    accepted: resolvers disagree on them, and the guard never asks a resolver."""
    if not host:
        return False
    name = host.lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv4Address):
        return address in _LOOPBACK_V4
    return address == _LOOPBACK_V6 and address.scope_id is None


def redact(url: str) -> str:
    """`url` with the password of its user info replaced by `***` (URLs are shown in messages)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{hostport}"))


class FetchError(EngineError):
    """A request that got no usable answer. `reason`: refused | timeout | too_large | redirects |
    unreachable | failed; `detail` says what happened without the URL (the message starts with it);
    `status` is the last HTTP status seen, `received` the body bytes read."""

    def __init__(self, reason: str, url: str, detail: str, hint: str | None = None, *,
                 status: int | None = None, received: int = 0) -> None:
        super().__init__(f"{redact(url)}: {detail}", hint=hint)
        self.reason = reason
        self.url = url
        self.detail = detail
        self.status = status
        self.received = received


@dataclass(frozen=True)
class NetworkPolicy:
    """Which URLs the kit may call: the URL map's, loopback, and the hosts the map sends to.

    `allow_network=True` lets any http(s) URL through (an explicit opt-in of the Python API, and the
    user's own provider URL in `verify`); the deadline and the body cap still apply."""

    url_map: UrlMap = field(default_factory=UrlMap)
    allow_network: bool = False

    def allows_host(self, host: str) -> bool:
        return self.allow_network or is_loopback_host(host) or host.lower() in self.url_map.target_hosts

    def target(self, url: str, *, redirected_from: str | None = None) -> str:
        """The URL to call for `url` (mapped, or `url` itself when allowed); FetchError("refused") if not."""
        mapped = self.url_map.mapped(url)
        called = url if mapped is None else mapped
        scheme = urlsplit(called).scheme.lower() if "://" in called else ""
        if scheme not in ("http", "https"):
            raise self._refusal(url, redirected_from, "not an http(s) URL: the kit calls only http:// and "
                                                      "https:// URLs", None)
        self.check(called, shown=url, redirected_from=redirected_from)
        return called

    def check(self, url: str, *, shown: str | None = None, redirected_from: str | None = None) -> None:
        """FetchError("refused") unless `url`'s host may be contacted (no mapping here)."""
        host = host_of(url)
        if not host:
            raise self._refusal(shown or url, redirected_from, "no host the kit can call", None)
        if not self.allows_host(host):
            raise self._refusal(shown or url, redirected_from, "not in the URL map, and the kit does not "
                                "call the network (only the URL map's servers and 127.0.0.1)", MAP_HINT)

    @staticmethod
    def _refusal(url: str, redirected_from: str | None, why: str, hint: str | None) -> FetchError:
        if redirected_from:
            return FetchError("refused", redirected_from, f"redirected to {redact(url)}: {why}", hint)
        return FetchError("refused", url, why, hint)


# --- the deadline ------------------------------------------------------------------------------------------


class _Deadline:
    """A wall-clock deadline; when it passes, a watchdog shuts down every socket the request used."""

    def __init__(self, seconds: float, watchdog: bool) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self.finished = False
        if watchdog:
            _WATCHDOG.add(self)

    def remaining(self) -> float:
        return max(0.0, self.ends - time.monotonic())

    @property
    def passed(self) -> bool:
        return self.fired or time.monotonic() >= self.ends

    def watch(self, sock: Any) -> None:
        if sock is None:
            return
        with self._lock:
            if self.finished:
                return
            if self.fired:
                _shut(sock)
            else:
                self._sockets.append(sock)

    def fire(self) -> None:
        with self._lock:
            if self.finished:
                return
            self.fired = True
            for sock in self._sockets:
                _shut(sock)

    def finish(self) -> None:
        with self._lock:
            self.finished = True
            self._sockets.clear()


class _Watchdog:
    """One daemon thread that fires due deadlines (cheaper than a timer thread per request)."""

    def __init__(self) -> None:
        self._due: list[tuple[float, int, _Deadline]] = []
        self._wake = threading.Condition()
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def add(self, deadline: _Deadline) -> None:
        with self._wake:
            heapq.heappush(self._due, (deadline.ends, next(self._order), deadline))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="harness-http-deadlines", daemon=True)
                self._thread.start()
            self._wake.notify()

    def _run(self) -> None:
        with self._wake:
            while True:
                while self._due and self._due[0][2].finished:
                    heapq.heappop(self._due)
                if not self._due:
                    self._wake.wait()
                    continue
                delay = self._due[0][0] - time.monotonic()
                if delay > 0:
                    self._wake.wait(delay)
                    continue
                heapq.heappop(self._due)[2].fire()


_WATCHDOG = _Watchdog()


def _shut(sock: Any) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked recv in the requesting thread


# What the current thread's `fetch` allows and its deadline, for the guarded connections below.
_current = threading.local()


class NetworkRefused(Exception):
    """A guarded connection refused its host before any DNS lookup (not an OSError: no retry)."""


def _check_host(host: str) -> None:
    policy: NetworkPolicy | None = getattr(_current, "policy", None)
    name = host.lower().strip("[]")
    allowed = policy.allows_host(name) if policy is not None else is_loopback_host(name)
    if not allowed:
        raise NetworkRefused(f"{host} is not in the URL map, and the kit does not call the network (refused at "
                             "the socket, before any DNS lookup)")


def _watch(sock: Any) -> None:
    deadline: _Deadline | None = getattr(_current, "deadline", None)
    if deadline is not None:
        deadline.watch(sock)


class _GuardedHTTPConnection(_connection.HTTPConnection):
    def _new_conn(self) -> socket.socket:
        _check_host(self._dns_host)  # before urllib3's getaddrinfo
        sock = super()._new_conn()
        _watch(sock)
        return sock

    def getresponse(self) -> Any:  # type: ignore[override]
        _watch(self.sock)  # a kept-alive connection, or the TLS socket
        return super().getresponse()


class _GuardedHTTPSConnection(_connection.HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        _check_host(self._dns_host)
        sock = super()._new_conn()
        _watch(sock)
        return sock

    def getresponse(self) -> Any:  # type: ignore[override]
        _watch(self.sock)
        return super().getresponse()


class _GuardedHTTPPool(_connectionpool.HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(_connectionpool.HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose connections check their host first and obey `fetch`'s deadline."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        raise NetworkRefused(f"the kit does not send requests through a proxy ({redact(proxy)})")


def guarded_session() -> requests.Session:
    """A pooled session for the engines: guarded connections, no proxies or .netrc from the environment."""
    session = requests.Session()
    session.trust_env = False
    adapter = GuardedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


# --- fetch -------------------------------------------------------------------------------------------------


@dataclass
class Fetched:
    """A complete answer: status, headers, the whole body (within the cap), and where it came from."""

    status: int
    reason: str
    headers: Mapping[str, str]
    body: bytes
    encoding: str | None
    url: str  # the URL that answered (after redirects)
    redirects: list[str] = field(default_factory=list)

    @property
    def status_code(self) -> int:  # as on a requests Response
        return self.status

    def text(self) -> str:
        return self.body.decode(self.encoding or "utf-8", errors="replace")


def fetch(
    session: requests.Session,
    method: str,
    url: str,
    *,
    policy: NetworkPolicy,
    limits: RequestLimits,
    params: Mapping[str, Any] | None = None,
    data: Any = None,
    headers: Mapping[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    follow_redirects: bool = True,
) -> Fetched:
    """Send one request under `policy` and `limits`; FetchError when no complete answer came back.

    Redirects (3xx with a Location) are followed here, at most MAX_REDIRECTS, each hop checked and mapped
    by `policy` like the first URL; 301/302/303 turn a POST into a body-less GET (as browsers and
    `requests` do), 307/308 resend it; credentials are dropped when the host changes."""
    watchdog = any(isinstance(adapter, GuardedAdapter) for adapter in session.adapters.values())
    deadline = _Deadline(limits.deadline, watchdog)
    saved = (getattr(_current, "policy", None), getattr(_current, "deadline", None))
    _current.policy, _current.deadline = policy, deadline
    try:
        return _fetch(session, method, url, policy, limits, deadline, params, data, headers, auth,
                      follow_redirects)
    finally:
        deadline.finish()
        _current.policy, _current.deadline = saved


def _fetch(session: requests.Session, method: str, url: str, policy: NetworkPolicy, limits: RequestLimits,
           deadline: _Deadline, params: Mapping[str, Any] | None, data: Any, headers: Mapping[str, str] | None,
           auth: tuple[str, str] | None, follow_redirects: bool) -> Fetched:
    called = policy.target(url)
    try:
        prepared = session.prepare_request(requests.Request(method, called, params=dict(params or {}) or None,
                                                            data=data, headers=dict(headers or {}), auth=auth))
    except (requests.RequestException, ValueError) as err:
        raise FetchError("failed", url, f"cannot be sent: {err}") from None
    redirects: list[str] = []
    while True:
        assert prepared.url is not None
        # The URL as `requests` prepared it (query added, IDNA applied) must pass too.
        policy.check(prepared.url)
        response = _send(session, prepared, deadline, limits)
        target = response.headers.get("Location") if response.is_redirect else None
        if not follow_redirects or not target:
            return _complete(response, prepared.url, redirects, deadline, limits)
        response.close()  # a redirect's body is never read
        if len(redirects) >= MAX_REDIRECTS:
            raise FetchError("redirects", url, f"more than {MAX_REDIRECTS} redirects, the last to {redact(target)}",
                             status=response.status_code)
        following = urljoin(prepared.url, target)
        next_url = policy.target(following, redirected_from=prepared.url)
        redirects.append(next_url)
        prepared = _redirected(session, prepared, response, next_url)


def _send(session: requests.Session, prepared: requests.PreparedRequest, deadline: _Deadline,
          limits: RequestLimits) -> requests.Response:
    remaining = deadline.remaining()
    if remaining <= 0:
        raise _timeout(prepared.url or "", limits, "before the request was sent")
    adapter = session.get_adapter(prepared.url or "")
    try:
        # The adapter, not session.send: Session.send reads a whole redirect body before returning.
        return adapter.send(prepared, stream=True, timeout=(remaining, remaining), verify=session.verify,
                            cert=session.cert, proxies={})
    except NetworkRefused as err:
        raise FetchError("refused", prepared.url or "", str(err), hint=MAP_HINT) from None
    except requests.RequestException as err:
        if deadline.passed or isinstance(err, requests.Timeout):
            raise _timeout(prepared.url or "", limits, "no status line and headers yet") from None
        raise FetchError("unreachable", prepared.url or "", failure_reason(err)) from None


def _complete(response: requests.Response, url: str, redirects: list[str], deadline: _Deadline,
              limits: RequestLimits) -> Fetched:
    body = bytearray()
    try:
        for chunk in response.iter_content(CHUNK_BYTES):
            body.extend(chunk)
            if len(body) > limits.max_bytes:
                raise FetchError("too_large", url, f"the answer is over {limits.max_bytes} bytes "
                                                   f"({limits.size_source})", status=response.status_code,
                                 received=len(body))
            if deadline.passed:
                break
    except (requests.RequestException, OSError) as err:
        if not deadline.passed:
            raise FetchError("failed", url, f"reading the answer failed: {failure_reason(err)}",
                             status=response.status_code, received=len(body)) from None
    finally:
        response.close()
    if deadline.passed:  # also a close-delimited body the watchdog cut short
        raise _timeout(url, limits, f"HTTP {response.status_code} came, the body was still arriving",
                       status=response.status_code, received=len(body))
    return Fetched(response.status_code, response.reason or "", response.headers, bytes(body),
                   response.encoding, url, redirects)


def _redirected(session: requests.Session, prepared: requests.PreparedRequest, response: requests.Response,
                url: str) -> requests.PreparedRequest:
    following = prepared.copy()
    following.prepare_url(url, None)
    session.rebuild_method(following, response)
    if response.status_code not in (307, 308):
        following.body = None
        for name in ("Content-Length", "Content-Type", "Transfer-Encoding"):
            following.headers.pop(name, None)
    if session.should_strip_auth(prepared.url or "", url):
        following.headers.pop("Authorization", None)
    following.headers.pop("Cookie", None)
    following.prepare_auth(None, url)  # user info in the new URL becomes Basic auth, like the first hop
    return following


def _timeout(url: str, limits: RequestLimits, detail: str, *, status: int | None = None,
             received: int = 0) -> FetchError:
    return FetchError("timeout", url, f"no answer within {limits.deadline:g} s ({detail}; "
                                      f"{limits.deadline_source})", status=status, received=received)


def failure_reason(err: BaseException) -> str:
    """A short reason for a requests error ("connection refused"), not urllib3's whole repr."""
    text = str(err)
    if "Connection refused" in text or "Errno 111" in text:
        return "connection refused"
    if "Name or service not known" in text or "Failed to resolve" in text or "nodename nor servname" in text:
        return "host not found"
    if "Connection reset" in text or "RemoteDisconnected" in text or "closed connection" in text:
        return "the server closed the connection without an answer"
    return text.split("(Caused by")[0].strip() or type(err).__name__
