"""Serve a folder of Twilio Functions locally with twilio-run, so Action URLs reach real Function code.

    with FunctionsServer("examples/hospitality") as functions:
        requests.post(functions.url("/send-to-agent"), data={"Memory": "{}"})

The folder is a Serverless project: `<folder>/functions/*.js` plus a `package.json` (twilio-run refuses
to start without one). twilio-run itself is an npm package pinned in the repository's `package.json`;
`npm ci` installs it into `node_modules/.bin/twilio-run`. We look for the binary in this order:

1. the environment variable `AUTOPILOT_HARNESS_TWILIO_RUN` (a path to the executable);
2. `node_modules/.bin/twilio-run` in the folder or any parent of it;
3. the same, walking up from the current working directory.

How it is started (`twilio-run start <folder> --port <free port>`, measured at ~0.5 s here):

- `--no-live`: no per-request require-cache purge and no file watcher (tests do not edit Functions
  while they run);
- `--logs=false`: no line per request in our output;
- `--no-fork-process` (unless `fork_process=True`): twilio-run 5 otherwise runs every request in a
  fresh Node process, which costs ~230 ms a request instead of ~3 ms. Module state then survives
  between requests, as in a warm Twilio Functions container;
- never `--ngrok`; twilio-run 5 has no telemetry or update check to turn off. Colours are disabled
  so its output (shown in our errors) stays readable.

Readiness: twilio-run prints its route list only once it listens, so we wait for that output and then
for a TCP connection on 127.0.0.1. A port taken between our pick and its bind makes twilio-run ask for
another port on stdin (which is closed): we notice "already in use" and retry on a new port.
The process runs in its own process group, which is terminated (then killed) on exit.
"""

from __future__ import annotations

import collections
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType

from harness.errors import EngineError, UsageError

TWILIO_RUN_ENV = "AUTOPILOT_HARNESS_TWILIO_RUN"
# Each request's console output (console.log/info/warn/error/debug inside the Function) comes back in this
# response header: base64 of a JSON list of {"level", "message"}, for the transcript (webhooks[].logs).
LOGS_HEADER = "X-Harness-Function-Logs"
# At most this many bytes of a request's logs travel (the header; HTTP clients refuse header lines over
# 64 KB); later lines are dropped with a note saying how many. Raise with AUTOPILOT_HARNESS_FUNCTION_LOG_BYTES.
MAX_FUNCTION_LOG_BYTES = 32 * 1024
FUNCTION_LOG_BYTES_ENV = "AUTOPILOT_HARNESS_FUNCTION_LOG_BYTES"
# Loaded into twilio-run with `node --require` (NODE_OPTIONS). AsyncLocalStorage ties every console call to
# the request whose handler (or its callbacks, timers, promises) made it, so concurrent requests stay apart.
_LOG_CAPTURE_JS = r"""'use strict';
const { AsyncLocalStorage } = require('async_hooks');
const http = require('http');
const util = require('util');
const HEADER = '%(header)s';
const LIMIT = %(limit)d;
const store = new AsyncLocalStorage();
for (const level of ['log', 'info', 'warn', 'error', 'debug']) {
  const original = console[level].bind(console);
  console[level] = (...args) => {
    const logs = store.getStore();
    if (logs) logs.push({ level, message: util.format(...args) });
    return original(...args);
  };
}
const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function (event, req, res) {
  if (event === 'request' && res) {
    const logs = [];
    res.__harnessLogs = logs;
    return store.run(logs, () => emit.apply(this, arguments));
  }
  return emit.apply(this, arguments);
};
const writeHead = http.ServerResponse.prototype.writeHead;
http.ServerResponse.prototype.writeHead = function (...args) {
  const logs = this.__harnessLogs;
  if (logs && logs.length && !this.headersSent) {
    const kept = logs.slice();
    let text = JSON.stringify(kept);
    while (Buffer.byteLength(text) * 4 / 3 > LIMIT && kept.length > 1) {
      kept.pop();
      const dropped = logs.length - kept.length;
      text = JSON.stringify(kept.concat([{ level: 'harness', message:
        `(${dropped} more line(s) dropped: over ${LIMIT} bytes; raise %(env)s)` }]));
    }
    if (Buffer.byteLength(text) * 4 / 3 <= LIMIT) {
      this.setHeader(HEADER, Buffer.from(text).toString('base64'));
    }
  }
  return writeHead.apply(this, args);
};
"""
DEFAULT_STARTUP_TIMEOUT = 30.0
_PORT_ATTEMPTS = 3
_OUTPUT_LINES = 60  # lines of twilio-run output kept for error messages
_STOP_GRACE = 5.0  # seconds between SIGTERM and SIGKILL
TWILIO_RUN_VERSION = "5.0.1"  # the version pinned in this repository's package.json
# Two kinds of readers: contributors in this repository (its package-lock pins twilio-run) and users in
# their own project (which has no such pin until they add one).
_INSTALL_HINT = (f"in your own project: `npm install --save-dev twilio-run@{TWILIO_RUN_VERSION}`; in the "
                 f"autopilot-harness repository: `npm ci`; or set {TWILIO_RUN_ENV} to the twilio-run executable")


class ToolMissing(UsageError):
    """An external tool the run needs is not installed (twilio-run, or Node.js for it).

    It is the same for every scenario that needs it, so the runner says what is missing and how to install
    it once, and names the tool briefly for the other scenarios (`harness.runner.pool.SessionPool`)."""

    def __init__(self, message: str, *, tool: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.tool = tool


class FunctionsServer:
    """twilio-run serving `folder` on a free local port; a context manager.

    `base_url` ("http://127.0.0.1:PORT") and `paths` (e.g. `("/send-to-agent",)`) are available once
    started. `startup_seconds` records how long the start took.
    """

    def __init__(
        self,
        folder: str | Path,
        *,
        port: int | None = None,
        binary: str | Path | None = None,
        startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
        fork_process: bool = False,
        env: dict[str, str] | None = None,
        domain: str | None = None,
    ) -> None:
        self.folder = Path(folder).resolve()
        # The production domain the URL map sends here (e.g. "hotel-1234.twil.io"): context.DOMAIN_NAME.
        self.domain = domain or None
        self._scratch: tempfile.TemporaryDirectory[str] | None = None  # the .env and preload we hand it
        self.requested_port = port or None  # 0 means "pick a free one", as for LocalServer
        self.startup_timeout = startup_timeout
        self.fork_process = fork_process
        self._extra_env = dict(env or {})
        self._binary_option = Path(binary) if binary is not None else None
        self.paths: tuple[str, ...] = ()
        self.port: int | None = None
        self.startup_seconds: float | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._output: collections.deque[str] = collections.deque(maxlen=_OUTPUT_LINES)
        self._output_lock = threading.Lock()  # the reader thread appends while we read
        self._reader: threading.Thread | None = None

    # --- public ---------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise UsageError("FunctionsServer is not started: use it as a context manager (with ...)")
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        """The local URL of a Function path ("/send-to-agent")."""
        return self.base_url + "/" + path.lstrip("/")

    @property
    def output(self) -> str:
        """The last lines twilio-run printed (for diagnostics)."""
        with self._output_lock:
            return "\n".join(self._output)

    def start(self) -> FunctionsServer:
        """Check the folder, find twilio-run, start it and wait until it answers. Returns self."""
        if self._process is not None:
            return self
        self.paths = function_paths(self.folder)
        if self._binary_option is not None and not self._binary_option.is_file():
            raise ToolMissing(f"twilio-run not found at {self._binary_option}", tool="twilio-run",
                              hint=_INSTALL_HINT)
        binary = self._binary_option or find_twilio_run(self.folder)
        began = time.monotonic()
        deadline = began + self.startup_timeout
        attempts = 1 if self.requested_port is not None else _PORT_ATTEMPTS
        for attempt in range(1, attempts + 1):
            port = self.requested_port if self.requested_port is not None else free_port()
            if self._launch(binary, port, deadline):
                self.port = port
                self.startup_seconds = time.monotonic() - began
                return self
            if attempt == attempts:
                raise EngineError(
                    f"twilio-run could not listen on port {port}: it is already in use",
                    hint="choose another port, or let the kit pick one" if self.requested_port else None,
                )
        raise AssertionError("unreachable")  # pragma: no cover

    def stop(self) -> None:
        """Terminate twilio-run and everything it started (its process group)."""
        process, self._process = self._process, None
        if process is None:
            return
        _terminate_group(process)
        if self._reader is not None:
            self._reader.join(timeout=1.0)
            self._reader = None
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    def __enter__(self) -> FunctionsServer:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- starting -------------------------------------------------------------------------------

    def _command(self, binary: Path, port: int) -> list[str]:
        command = [str(binary), "start", str(self.folder), "--port", str(port), "--no-live", "--logs=false"]
        if not self.fork_process:
            command.append("--no-fork-process")
        env_file = self._env_file()
        if env_file is not None:
            command += ["--env", str(env_file)]
        return command

    def _scratch_dir(self) -> Path:
        if self._scratch is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="autopilot-harness-functions-")
        return Path(self._scratch.name)

    def _log_capture(self) -> Path:
        """The preload that returns each request's console output in LOGS_HEADER."""
        path = self._scratch_dir() / "harness-function-logs.js"
        path.write_text(_LOG_CAPTURE_JS % {"header": LOGS_HEADER, "limit": function_log_limit(),
                                           "env": FUNCTION_LOG_BYTES_ENV}, encoding="utf-8")
        return path

    def _env_file(self) -> Path | None:
        """twilio-run builds `context` as {DOMAIN_NAME: "localhost:PORT", ...the .env}: a .env naming
        DOMAIN_NAME sets it. We hand it the folder's own .env plus DOMAIN_NAME (unless that .env sets one)."""
        if self.domain is None:
            return None
        own = self.folder / ".env"
        text = own.read_text(encoding="utf-8", errors="replace") if own.is_file() else ""
        if not re.search(r"(?m)^\s*(?:export\s+)?DOMAIN_NAME\s*=", text):
            text = (text + "\n" if text and not text.endswith("\n") else text) + f"DOMAIN_NAME={self.domain}\n"
        path = self._scratch_dir() / ".env"
        path.write_text(text, encoding="utf-8")
        return path

    def _launch(self, binary: Path, port: int, deadline: float) -> bool:
        """Start twilio-run on `port`; True once it listens, False if the port was taken."""
        with self._output_lock:
            self._output.clear()
        env = {**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0", **self._extra_env}
        preload = self._log_capture()
        env["NODE_OPTIONS"] = f"{env.get('NODE_OPTIONS', '')} --require {_node_quoted(preload)}".strip()
        try:
            self._process = subprocess.Popen(
                self._command(binary, port),
                cwd=self.folder,  # twilio-run looks for its config file from the working directory
                stdin=subprocess.DEVNULL,  # its "port in use" prompt must not wait for us
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # its own process group, so stop() ends every child
            )
        except OSError as err:
            raise ToolMissing(f"cannot run twilio-run ({binary}): {err.strerror or err}", tool="twilio-run",
                              hint="twilio-run needs Node.js (node) on PATH; " + _INSTALL_HINT) from None
        ready = threading.Event()
        self._reader = threading.Thread(target=self._read_output, args=(self._process, ready),
                                        name=f"twilio-run:{port}", daemon=True)
        self._reader.start()
        while True:
            if ready.is_set() and _accepts_connections(port):
                return True
            if "already in use" in self.output:
                self.stop()
                return False
            if self._process.poll() is not None:
                # Read what it printed last (a prompt has no newline, so it arrives only now).
                if self._reader is not None:
                    self._reader.join(timeout=1.0)
                code = self._process.returncode
                self.stop()  # children it may have started go too
                if "already in use" in self.output:
                    return False
                raise EngineError(
                    f"twilio-run exited with code {code} while starting {self.folder}"
                    + _output_block(self.output)
                )
            if time.monotonic() > deadline:
                self.stop()
                raise EngineError(
                    f"twilio-run did not answer on 127.0.0.1:{port} within {self.startup_timeout:g} s"
                    + _output_block(self.output)
                )
            ready.wait(0.02)

    def _read_output(self, process: subprocess.Popen[bytes], ready: threading.Event) -> None:
        # Drain the pipe continuously (a full pipe would block twilio-run) and spot the route list,
        # which it prints right after it starts listening.
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.decode("utf-8", "replace").rstrip()
            with self._output_lock:
                self._output.append(line)
            if line.strip() in ("Functions", "Twilio functions available:") or "No functions found" in line:
                ready.set()
        process.stdout.close()


# --- helpers (public: the CLI and tests use them) ---------------------------------------------------


def function_log_limit() -> int:
    """MAX_FUNCTION_LOG_BYTES, or AUTOPILOT_HARNESS_FUNCTION_LOG_BYTES (a positive integer) when set."""
    raw = os.environ.get(FUNCTION_LOG_BYTES_ENV, "").strip()
    if not raw:
        return MAX_FUNCTION_LOG_BYTES
    if not raw.isdigit() or int(raw) <= 0:
        raise UsageError(f"{FUNCTION_LOG_BYTES_ENV}={raw!r}: expected a positive number of bytes, e.g. 65536")
    return int(raw)


def decode_logs(header: str | None) -> list[dict[str, str]]:
    """The console lines LOGS_HEADER carries (an unreadable header is reported as one line, not dropped)."""
    if not header:
        return []
    import base64
    import binascii
    import json

    try:
        lines = json.loads(base64.b64decode(header, validate=True).decode("utf-8", "replace"))
    except (binascii.Error, ValueError):
        return [{"level": "harness", "message": f"(unreadable {LOGS_HEADER} header)"}]
    if not isinstance(lines, list):
        return [{"level": "harness", "message": f"(unreadable {LOGS_HEADER} header)"}]
    return [{"level": str(line.get("level", "")), "message": str(line.get("message", ""))}
            for line in lines if isinstance(line, dict)]


def _node_quoted(path: Path) -> str:
    # NODE_OPTIONS splits on spaces; a path with spaces is quoted (Node accepts "…" there).
    text = str(path)
    return f'"{text}"' if " " in text else text


def function_paths(folder: Path) -> tuple[str, ...]:
    """The URL paths of the Functions in `<folder>/functions`, as Twilio maps them.

    `a/b.js` → `/a/b`; `x.protected.js` → `/x` (served, but needs a valid signature on Twilio);
    `x.private.js` is not reachable by URL and is left out.
    """
    if not folder.is_dir():
        raise UsageError(f"Functions folder not found: {folder}",
                         hint="pass a Serverless project folder: one with functions/*.js and a package.json")
    functions = folder / "functions"
    if not functions.is_dir():
        hint = ("pass its parent folder" if folder.name == "functions"
                else "put the Functions in functions/*.js")
        raise UsageError(f"{folder} has no functions/ folder", hint=hint)
    if not (folder / "package.json").is_file():
        raise UsageError(
            f"{folder} has no package.json, which twilio-run needs to serve it",
            hint='add a minimal one: {"name": "my-functions", "version": "0.1.0", "private": true}',
        )
    paths = []
    for file in sorted(functions.rglob("*.js")):
        relative = file.relative_to(functions).as_posix()[: -len(".js")]
        if relative.endswith(".private"):
            continue
        relative = relative.removesuffix(".protected")
        paths.append("/" + relative)
    if not paths:
        raise UsageError(f"{functions} holds no Functions (*.js files)")
    return tuple(paths)


def find_twilio_run(folder: Path | None = None, *, cwd: Path | None = None) -> Path:
    """The twilio-run executable (see the module docstring for the search order)."""
    configured = os.environ.get(TWILIO_RUN_ENV)
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise ToolMissing(f"{TWILIO_RUN_ENV}={configured}: no such file", tool="twilio-run",
                              hint=_INSTALL_HINT)
        return path
    names = ("twilio-run.cmd", "twilio-run") if sys.platform == "win32" else ("twilio-run",)
    # Resolved and without repeats: the Functions folder is often the working directory itself.
    starts = list(dict.fromkeys(p.resolve() for p in (folder, cwd or Path.cwd()) if p is not None))
    for start in starts:
        for directory in (start, *start.parents):
            for name in names:
                candidate = directory / "node_modules" / ".bin" / name
                if candidate.is_file():
                    return candidate
    searched = " and ".join(str(s) for s in starts)
    raise ToolMissing(f"twilio-run not found in node_modules/.bin above {searched}", tool="twilio-run",
                      hint=_INSTALL_HINT)


def free_port() -> int:
    """A port free on the loopback interface right now (twilio-run binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _terminate_group(process: subprocess.Popen[bytes]) -> None:
    # The group is signalled even when its leader has exited: children it started may still run.
    # (Linux does not reuse a PID as long as a process group of that ID has members.)
    if sys.platform == "win32":  # pragma: no cover - no process groups there
        if process.poll() is None:
            process.terminate()
    else:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
    try:
        process.wait(timeout=_STOP_GRACE)
    except subprocess.TimeoutExpired:
        if sys.platform == "win32":  # pragma: no cover
            process.kill()
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=_STOP_GRACE)


def _output_block(text: str) -> str:
    text = text.strip()
    if not text:
        return " (it printed nothing)"
    return "; its output:\n" + "\n".join("    " + line for line in text.splitlines())
