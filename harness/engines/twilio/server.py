"""Run a WSGI app (a Flask vendor endpoint, a fake Twilio Function) on 127.0.0.1 in a background thread.

    with LocalServer(create_app()) as server:
        requests.post(server.url("/api/handoffs"), json=payload)

The server binds the loopback interface only: the kit never exposes anything on the network. Port 0
(the default) picks a free port, so parallel test workers (pytest-xdist) never collide.

werkzeug (installed with Flask, the `example` extra) is imported only when a server starts, so the rest
of the kit works without it. We bind the socket ourselves and hand it to werkzeug because werkzeug's own
bind calls `sys.exit(1)` when the port is taken; here that is a `UsageError` naming the port.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from harness.errors import UsageError

WSGIApplication = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_POLL_INTERVAL = 0.05  # how often serve_forever checks for shutdown; small, so stop() is quick


class LocalServer:
    """A WSGI app served on a loopback address in a daemon thread; a context manager.

    `threaded=True` handles each request in its own thread, so the app may call back into another
    LocalServer (or itself) while answering.
    """

    def __init__(
        self,
        app: WSGIApplication,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        threaded: bool = True,
        quiet: bool = True,
    ) -> None:
        self.app = app
        self.host = _loopback_host(host)
        self.requested_port = port
        self.threaded = threaded
        self.quiet = quiet
        self._server: Any = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> LocalServer:
        """Bind and serve; returns self. Raises UsageError if the port is taken or werkzeug is missing."""
        if self._server is not None:
            return self
        try:
            from werkzeug.serving import WSGIRequestHandler, make_server
        except ImportError:  # pragma: no cover - depends on the installation
            raise UsageError(
                "LocalServer needs werkzeug",
                hint="pip install 'autopilot-harness[example]' (Flask brings werkzeug)",
            ) from None

        listener = self._bind()
        handler = None
        if self.quiet:

            class _QuietHandler(WSGIRequestHandler):
                def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                    pass  # errors are still logged; one line per request is noise in test output

            handler = _QuietHandler
        try:
            self._server = make_server(
                self.host,
                listener.getsockname()[1],
                self.app,
                threaded=self.threaded,
                request_handler=handler,
                fd=listener.fileno(),
            )
        finally:
            listener.close()  # werkzeug works on a duplicate of the descriptor
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": _POLL_INTERVAL},
            name=f"LocalServer:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving and free the port; safe to call twice."""
        server, thread = self._server, self._thread
        self._server, self._thread = None, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- addresses -------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if self._server is None:
            raise UsageError("LocalServer is not running; call start() or use it in a with-block")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:<port>` (no trailing slash)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def url(self, path: str = "/") -> str:
        """The absolute URL of `path` on this server."""
        return self.base_url + ("" if path.startswith("/") else "/") + path

    def __repr__(self) -> str:
        where = self.base_url if self.running else "stopped"
        return f"LocalServer({where})"

    # --- internals -------------------------------------------------------------------------------

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            # Not SO_REUSEADDR: on Linux it would let two servers share a port still in TIME_WAIT only,
            # but on Windows it lets two live servers share one, which hides mistakes.
            listener.bind((self.host, self.requested_port))
            listener.listen(128)
        except OSError as err:
            listener.close()
            raise UsageError(
                f"cannot listen on {self.host}:{self.requested_port}: {err.strerror or err}",
                hint="pass port=0 to pick a free port" if self.requested_port else None,
            ) from None
        return listener


def _loopback_host(host: str) -> str:
    """The loopback address to bind; anything that would reach the network is refused."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        raise UsageError(
            f"LocalServer host must be a loopback address such as 127.0.0.1, got {host!r}"
        ) from None
    if not address.is_loopback:
        raise UsageError(
            f"LocalServer binds loopback addresses only (127.0.0.1, ::1), got {host!r}",
            hint="the kit never listens on a network interface",
        )
    return str(address)
