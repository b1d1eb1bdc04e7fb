"""Pact Broker: publish pacts and ask can-i-deploy, through the `pact` CLI of pact-python-cli.

pact-python has no API to publish pacts or run can-i-deploy (pact.md §5), so we drive the Rust `pact`
binary that `pip install pact-python-cli` (1!0.10.x, glibc ≥ 2.34) puts next to the interpreter:

    pact broker publish <files> -a <version> [--branch B] [-t TAG…] -b <broker> --retries N
    pact broker can-i-deploy -a <pacticipant> -e <version> [--to-environment ENV] -b <broker> --retries N

The binary is found as `$PACT_CLI`, then `pact` beside `sys.executable`, then on `PATH`. The broker URL
comes from the caller or `$PACT_BROKER_BASE_URL`; credentials only from the environment
(`PACT_BROKER_TOKEN`, or `PACT_BROKER_USERNAME`/`PACT_BROKER_PASSWORD`), which the CLI reads itself,
so they never appear on a command line or in our output. The CLI's exit code is the result
(can-i-deploy exits 1 on "Computer says no"), usable as a CI gate. Retries default to 1 (an
unreachable broker otherwise retries for over 20 s) and every call has a timeout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.contracts.verify import check_url, collect_pact_files
from harness.errors import UsageError

INSTALL_HINT = ("pip install pact-python-cli (the Rust `pact` binary, needs glibc >= 2.34), or point "
                "PACT_CLI at a `pact` executable")
DEFAULT_TIMEOUT = 120.0


@dataclass(frozen=True)
class BrokerResult:
    """What one `pact broker …` call did. `ok` is the CI gate."""

    command: tuple[str, ...]
    exit_code: int
    output: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def find_pact_cli(env: Mapping[str, str] | None = None) -> str:
    """The `pact` executable; UsageError with the install hint when it is missing."""
    env = os.environ if env is None else env
    explicit = env.get("PACT_CLI")
    if explicit:
        if Path(explicit).is_file() and os.access(explicit, os.X_OK):
            return explicit
        raise UsageError(f"PACT_CLI={explicit} is not an executable file", hint=INSTALL_HINT)
    beside = Path(sys.executable).with_name("pact")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("pact", path=env.get("PATH"))
    if found:
        return found
    raise UsageError("the `pact` command line (pact-python-cli) is not installed", hint=INSTALL_HINT)


def broker_url(explicit: str | None = None, env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    url = explicit or env.get("PACT_BROKER_BASE_URL")
    if not url:
        raise UsageError("no Pact Broker configured", hint="pass --broker-url or set PACT_BROKER_BASE_URL")
    return check_url(url, "the broker URL").rstrip("/")


def publish(
    pacts: str | Path | Iterable[str | Path],
    *,
    version: str,
    broker: str | None = None,
    branch: str | None = None,
    tags: Sequence[str] = (),
    retries: int = 1,
    timeout: float = DEFAULT_TIMEOUT,
) -> BrokerResult:
    """Publish pact files (or every pact in the given directories) as consumer `version`."""
    if not version:
        raise UsageError("publishing needs the consumer version (--consumer-app-version)")
    files = collect_pact_files(pacts)  # explicit files: the CLI's own glob would take sidecar files too
    if not files:
        raise UsageError("no pact files to publish")
    args = ["broker", "publish", *map(str, files), "--consumer-app-version", version]
    if branch:
        args += ["--branch", branch]
    for tag in tags:
        args += ["--tag", tag]
    return _run(args, broker, retries, timeout)


def can_i_deploy(
    pacticipant: str,
    version: str,
    *,
    broker: str | None = None,
    to_environment: str | None = None,
    retries: int = 1,
    timeout: float = DEFAULT_TIMEOUT,
) -> BrokerResult:
    """Ask the broker whether `pacticipant` at `version` may be deployed (to `to_environment`)."""
    if not pacticipant or not version:
        raise UsageError("can-i-deploy needs a pacticipant and a version")
    args = ["broker", "can-i-deploy", "--pacticipant", pacticipant, "--version", version]
    if to_environment:
        args += ["--to-environment", to_environment]
    return _run(args, broker, retries, timeout)


def _run(args: list[str], broker: str | None, retries: int, timeout: float) -> BrokerResult:
    executable = find_pact_cli()
    command = (executable, *args, "--broker-base-url", broker_url(broker), "--retries", str(max(0, retries)))
    env = {**os.environ, "PACT_DO_NOT_TRACK": os.environ.get("PACT_DO_NOT_TRACK", "true")}
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        return BrokerResult(command, 1, f"the pact CLI did not finish within {timeout:g} s")
    except OSError as err:
        raise UsageError(f"cannot run {executable}: {err.strerror or err}", hint=INSTALL_HINT) from None
    output = "\n".join(part.strip() for part in (done.stdout, done.stderr) if part.strip())
    return BrokerResult(command, done.returncode, output)
