"""Hostile servers and a DNS/connection recorder for the network corpus (tests/hostile/test_network*.py).

`HostileServer` is a tiny threaded HTTP server on 127.0.0.1 whose paths misbehave on purpose:

The first path segment picks the behaviour (`/drip-body/api/handoffs` drips too):

    /ok              {"actions": [{"say": "ok"}]} (also a fine HTTP Request answer)
    /valid           {"valid": true}
    /drip-body       headers at once, then one body byte every 0.2 s (Content-Length 100 000)
    /drip-headers    the status line and headers one byte every 0.2 s
    /silent          reads the request, never answers
    /huge            a 70 000-byte JSON body (over Studio's 64 kB)
    /endless         a body without end (no Content-Length), as fast as the socket takes it
    /redirect?to=URL&code=302   a redirect (Location: URL)
    /loop            302 to itself
    /echo            {"method": …, "body": …} (what arrived after a redirect)

`NetworkRecorder` replaces socket.getaddrinfo, socket.create_connection and socket.socket.connect: it
records every host looked up or contacted and refuses (gaierror / ConnectionRefusedError) any that is
not loopback, so a regression can neither reach the network nor pass.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

DRIP_SECONDS = 0.2
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class HostileServer:
    def __init__(self) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(32)
        self.port = self._listener.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.requests: list[tuple[str, str, bytes, str]] = []  # (method, path with query, body, head)
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str) -> str:
        return self.base_url + path

    def close(self) -> None:
        self._stop.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            with conn:
                conn.settimeout(30)
                method, target, body, head = _read_request(conn)
                self.requests.append((method, target, body, head))
                self._answer(conn, method, target, body)
        except OSError:
            pass  # the client gave up (its deadline): that is the point

    def _answer(self, conn: socket.socket, method: str, target: str, body: bytes) -> None:
        path = "/" + urlsplit(target).path.split("/")[1]
        query = {k: v[0] for k, v in parse_qs(urlsplit(target).query).items()}
        if path == "/ok":
            _send(conn, 200, json.dumps({"actions": [{"say": "ok"}]}).encode())
        elif path == "/valid":
            _send(conn, 200, b'{"valid": true}')
        elif path == "/echo":
            _send(conn, 200, json.dumps({"method": method, "body": body.decode()}).encode())
        elif path == "/drip-body":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
            self._drip(conn, b"[" + b" " * 99_999)
        elif path == "/drip-headers":
            self._drip(conn, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Slow: " + b"a" * 10_000)
        elif path == "/silent":
            self._stop.wait(30)
        elif path == "/huge":
            _send(conn, 200, b'{"actions": [], "pad": "' + b"x" * 70_000 + b'"}')
        elif path == "/endless":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
            chunk = b"x" * 65_536
            while not self._stop.is_set():
                conn.sendall(chunk)
        elif path == "/redirect":
            code = int(query.get("code", "302"))
            _send(conn, code, b"moved", extra=f"Location: {query['to']}\r\n")
        elif path == "/loop":
            _send(conn, 302, b"again", extra="Location: /loop\r\n")
        else:
            _send(conn, 404, b'{"error": "not found"}')

    def _drip(self, conn: socket.socket, data: bytes) -> None:
        for index in range(len(data)):
            if self._stop.is_set():
                return
            conn.sendall(data[index:index + 1])
            time.sleep(DRIP_SECONDS)


def _read_request(conn: socket.socket) -> tuple[str, str, bytes, str]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65_536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target = [*lines[0].split(" "), "", ""][:2]
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65_536)
        if not chunk:
            break
        body += chunk
    return method, target, body, head.decode("latin-1")


def _send(conn: socket.socket, status: int, body: bytes, *, extra: str = "") -> None:
    head = (f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n{extra}\r\n")
    conn.sendall(head.encode() + body)


@dataclass
class NetworkRecorder:
    lookups: list[str] = field(default_factory=list)
    connects: list[str] = field(default_factory=list)

    @property
    def outside(self) -> list[str]:
        """Hosts other than loopback that were looked up or contacted (must stay empty)."""
        return [h for h in self.lookups + self.connects if h not in LOOPBACK]


@contextmanager
def recording(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetworkRecorder]:
    record = NetworkRecorder()
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect
    real_create = socket.create_connection

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        record.lookups.append(name)
        if name not in LOOPBACK:
            raise socket.gaierror(socket.EAI_NONAME, f"test: no DNS lookup of {name} allowed")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self: socket.socket, address: Any) -> Any:
        host = str(address[0]) if isinstance(address, tuple) else str(address)
        record.connects.append(host)
        if host not in LOOPBACK:
            raise ConnectionRefusedError(f"test: no connection to {host} allowed")
        return real_connect(self, address)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> Any:
        record.connects.append(str(address[0]))
        if str(address[0]) not in LOOPBACK:
            raise ConnectionRefusedError(f"test: no connection to {address[0]} allowed")
        return real_create(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    yield record



# --- driving the engines ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one request of an engine produced: failed or not, the message (with hint) or the answer."""

    failed: bool
    text: str
    event: str | None = None  # Studio widgets: the transition taken
    output: Any = None


PARAMS = {"CurrentInput": "hi", "CurrentTask": "t", "Memory": "{}"}


def via_action(url: str, url_map: dict[str, str] | None = None, *, method: str = "POST") -> Outcome:
    """An Autopilot Action URL (the webhook client every dialogue uses)."""
    from harness.engines.autopilot.webhooks import WebhookClient
    from harness.engines.twilio.urlmap import UrlMap
    from harness.errors import WebhookError

    client = WebhookClient(url_map=UrlMap(url_map or {}), auth_token="t")
    try:
        actions, _ = client.actions("actions_url", url, method, PARAMS, task_names=(), field_type_names=())
    except WebhookError as err:
        return Outcome(True, err.render())
    return Outcome(False, json.dumps(actions), output=actions)


def via_validate(url: str, url_map: dict[str, str] | None = None) -> Outcome:
    """A collect question's validate webhook."""
    from harness.engines.autopilot.webhooks import WebhookClient
    from harness.engines.twilio.urlmap import UrlMap
    from harness.errors import WebhookError

    client = WebhookClient(url_map=UrlMap(url_map or {}), auth_token="t")
    try:
        valid, _ = client.validate(url, "POST", {"ValidateFieldAnswer": "x"})
    except WebhookError as err:
        return Outcome(True, err.render())
    return Outcome(False, str(valid), output=valid)


def _widget_run(state: dict[str, Any], url_map: dict[str, str] | None) -> Outcome:
    from harness.clock import FixedClock
    from harness.engines.studio.engine import StudioEnvironment
    from harness.models.flow import flow_from_dict
    from tests.unit.engines.studio.fakebot import ScriptedBot

    trigger = {"name": "Trigger", "type": "trigger", "properties": {},
               "transitions": [{"event": "incomingMessage", "next": state["name"]}]}
    flow = flow_from_dict({"description": "net", "initial_state": "Trigger", "flags": {"allow_concurrent_calls": True},
                           "states": [trigger, state]}, path="flow.json")
    env = StudioEnvironment(bots={"*": ScriptedBot()}, clock=FixedClock("2024-05-01T09:00:00Z"),
                            url_map=url_map, auth_token="t", account_sid="AC" + "a" * 32)
    execution = env.load(flow).start("incomingMessage", From="+15555550100", Body="hi")
    step = next(s for s in execution.steps if s.get("widget") == state["name"])
    failed = step["event"] in ("failed", "fail")
    return Outcome(failed, str(step.get("error", "")), step["event"], execution.widgets.get(state["name"]))


def via_http(url: str, url_map: dict[str, str] | None = None, *, method: str = "GET") -> Outcome:
    """Studio's HTTP Request widget."""
    return _widget_run({"name": "Call", "type": "make-http-request",
                        "transitions": [{"event": "success"}, {"event": "failed"}],
                        "properties": {"method": method, "url": url, "content_type": "application/json",
                                       "body": '{"a": 1}' if method == "POST" else ""}}, url_map)


def via_function(url: str, url_map: dict[str, str] | None = None) -> Outcome:
    """Studio's Run Function widget (a Function served by twilio-run, reached through the URL map)."""
    return _widget_run({"name": "Fn", "type": "run-function", "transitions": [{"event": "success"}, {"event": "fail"}],
                        "properties": {"url": url, "parameters": [{"key": "a", "value": "1"}]}}, url_map)


DRIVERS = {"action": via_action, "validate": via_validate, "http": via_http, "function": via_function}


def bounded(call: Any, seconds: float) -> Any:
    """`call()` in a daemon thread; the test fails (instead of hanging) when it is not done in `seconds`."""
    result: list[Any] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            result.append(call())
        except BaseException as err:  # handed back to the test thread below
            failure.append(err)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        pytest.fail(f"still running after {seconds:g} s: the deadline did not hold", pytrace=False)
    if failure:
        raise failure[0]
    return result[0]
