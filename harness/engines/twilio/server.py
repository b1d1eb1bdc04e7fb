"""Run a WSGI app (a Flask vendor endpoint, a fake Twilio Function) on 127.0.0.1 in a background thread.

    with LocalServer(create_app()) as server:
        requests.post(server.url("/api/handoffs"), json=payload)

The server binds the loopback interface only: the kit never exposes anything on the network. Port 0
(the default) picks a free port, so parallel test workers (pytest-xdist) never collide.

werkzeug (a core dependency of the kit) is imported only when a server starts, so start-up stays fast.
We bind the socket ourselves and hand it to werkzeug because werkzeug's own
bind calls `sys.exit(1)` when the port is taken; here that is a `UsageError` naming the port.
"""

from __future__ import annotations

import importlib
import inspect
import ipaddress
import re
import socket
import sys
import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from harness.errors import LoadError, ReferenceProblem, UsageError

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
        if not callable(app):
            raise UsageError(f"LocalServer needs a WSGI application (a callable), got {type(app).__name__}")
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
                hint="werkzeug is a dependency of autopilot-harness: reinstall it (pip install autopilot-harness)",
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


# --- `servers:` entries: MODULE:FACTORY -> a WSGI app ---------------------------------------------------

_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


class WsgiTarget:
    """A `servers:` entry (`MODULE:FACTORY`, or `MODULE:APP`) resolved to a WSGI app, checked at every step.

    User code runs here (the module's import, the factory): anything it raises, including `sys.exit()`,
    becomes a `LoadError` naming `where` (the scenario file and line, or the `--server` option) and the
    entry, so a broken service fails its scenarios with a clear message instead of a traceback, and an
    entry that is no WSGI app is refused instead of being served and never called (a false pass).
    """

    def __init__(self, target: str, *, where: str, folders: Iterable[str] = ()) -> None:
        self.target = target
        self.where = where
        module_name, _, attr = target.partition(":")
        attr = attr or "create_app"
        if not _DOTTED.fullmatch(module_name) or not _DOTTED.fullmatch(attr):
            raise UsageError(f"{where}: servers: {target!r} is not MODULE:FACTORY "
                             "(dotted Python names, e.g. examples.contact_center.app:create_app)")
        self._module_name, self._attr = module_name, attr
        self.factory: Any = None  # set when the entry names a factory (rebuilt by `build()`)
        self.app: WSGIApplication = self._resolve(list(dict.fromkeys(folders)))

    def build(self) -> WSGIApplication:
        """A fresh app from the factory (or the app itself when the entry names an app)."""
        if self.factory is None:
            return self.app
        return self._call_factory()

    # --- internals -------------------------------------------------------------------------------

    def _fail(self, what: str, hint: str | None = None) -> LoadError:
        return LoadError(f"{self.where}: servers: {self.target!r}: {what}", hint=hint)

    def _resolve(self, folders: list[str]) -> WSGIApplication:
        found: Any = None
        failure: Exception | None = None
        for folder in folders or [""]:
            if folder and folder not in sys.path:
                sys.path.insert(0, folder)
            try:
                module = importlib.import_module(self._module_name)
            except ImportError as err:
                if _missing_module(err, self._module_name):
                    failure = err
                    importlib.invalidate_caches()
                    continue  # not in this folder: try the next one
                raise self._fail(f"importing {self._module_name} failed: {_describe(err)}") from None
            except KeyboardInterrupt:
                raise
            except BaseException as err:  # user code: SystemExit and all are its failures
                raise self._fail(f"importing {self._module_name} failed: {_describe(err)}") from None
            if not hasattr(module, self._attr):
                raise ReferenceProblem(f"{self.where}: servers: {self.target!r}: module {self._module_name} "
                                       f"has no attribute {self._attr!r}")
            found = getattr(module, self._attr)
            break
        else:
            raise ReferenceProblem(f"{self.where}: servers: cannot import {self.target!r}: {failure}; "
                                   "tried the folders " + ", ".join(folders or ["(none)"]))
        if hasattr(found, "wsgi_app"):  # a Flask app itself
            return found
        if _takes(found, 0):  # a factory (a class with a no-argument constructor is one too)
            self.factory = found
            return self._call_factory()
        if _takes(found, 2):  # a WSGI function
            return found
        raise self._fail(f"{self._attr} is {_kind(found)}, neither a WSGI application "
                         "(environ, start_response) nor a factory called with no arguments")

    def _call_factory(self) -> WSGIApplication:
        try:
            app = self.factory()
        except KeyboardInterrupt:
            raise
        except BaseException as err:  # user code
            raise self._fail(f"the factory {self._attr}() failed: {_describe(err)}") from None
        if not (hasattr(app, "wsgi_app") or _takes(app, 2)):
            raise self._fail(f"the factory {self._attr}() returned {_kind(app)}, not a WSGI application "
                             "(a callable taking environ and start_response)",
                             hint="return the app, e.g. `return app` at the end of create_app()")
        return app


def _missing_module(err: ImportError, module_name: str) -> bool:
    """The entry's module itself (or a package above it) is not found, as opposed to a module that
    exists but fails on one of its own imports."""
    missing = getattr(err, "name", None)
    if not isinstance(err, ModuleNotFoundError) or not missing:
        return False
    return module_name == missing or module_name.startswith(missing + ".")


def _takes(value: Any, count: int) -> bool:
    """`value` can be called with `count` positional arguments."""
    if not callable(value):
        return False
    try:
        signature = inspect.signature(value)
    except (TypeError, ValueError):  # a builtin without a signature: trust it only as an app
        return count == 2
    try:
        signature.bind(*([None] * count))
    except TypeError:
        return False
    return True


def _kind(value: Any) -> str:
    if value is None:
        return "None"
    if callable(value):
        try:
            signature = str(inspect.signature(value))
        except (TypeError, ValueError):
            signature = "(...)"
        return f"a callable {getattr(value, '__name__', type(value).__name__)}{signature}"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def _describe(err: BaseException) -> str:
    if isinstance(err, SystemExit):
        return f"it called sys.exit({err.code!r})"
    text = str(err)
    text = text if len(text) <= 300 else text[:297] + "..."
    return f"{type(err).__name__}: {text}" if text else type(err).__name__
