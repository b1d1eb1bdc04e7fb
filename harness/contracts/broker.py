"""Pact Broker: publish pacts and ask can-i-deploy, through the `pact` CLI of pact-python-cli.

pact-python has no API to publish pacts or run can-i-deploy (pact.md §5), so we drive the Rust `pact`
binary that `pip install pact-python-cli` (1!0.10.x, glibc ≥ 2.34) puts next to the interpreter:

    pact broker publish <files> -a <version> [--branch B] [-t TAG…] -b <broker> --retries N
    pact broker can-i-deploy -a <pacticipant> -e <version> [--to-environment ENV] -b <broker> --retries N

The binary is found as `$PACT_CLI`, then `pact` beside `sys.executable`, then on `PATH`. The broker URL
comes from the caller or `$PACT_BROKER_BASE_URL`; credentials only from the environment
(`PACT_BROKER_TOKEN`, or `PACT_BROKER_USERNAME`/`PACT_BROKER_PASSWORD`), which the CLI reads itself,
so they never appear on a command line or in our output. Retries default to 1 (an unreachable broker
otherwise retries for over 20 s) and every call has a timeout: a wall-clock limit on the whole CLI run
(`DEFAULT_TIMEOUT`, `--timeout`), so a broker that never finishes its answer ends as a broker error.

A consumer version belongs to one consumer: `publish` sends only the pacts whose consumer is `consumer`
(required when the files are by several consumers — contracts/pacts holds the bot's HTTP pact and the
contact center's message pact), never another team's pact under our version.

As a CI gate, `BrokerResult.broker_error` separates "the broker said no" (can-i-deploy's
"Computer says no": exit 1) from "we could not ask" (5xx, 401/403, unreachable, timeout: the CLI
maps it to exit 2, like a missing broker configuration), so a gate never reads an outage as a verdict.
Verification results are published by pact's verifier itself (`verify --publish`, `harness.contracts.verify`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.contracts import pact_files
from harness.contracts.verify import check_url, collect_pact_files
from harness.engines.twilio.network import redact
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
    broker_error: bool = False  # the call failed (broker 5xx/401/unreachable/timeout), no verdict was given

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
    consumer: str | None = None,
) -> BrokerResult:
    """Publish the pacts of `consumer` (files, or pacts in the given directories) as its `version`.

    `consumer` may be omitted when every file is by the same consumer."""
    if not version:
        raise UsageError("publishing needs the consumer version (--consumer-app-version)")
    check_broker_limits(retries, timeout)
    files = collect_pact_files(pacts)  # explicit files: the CLI's own glob would take sidecar files too
    if not files:
        raise UsageError("no pact files to publish")
    consumer_of = {path: str(pact_files.read_pact(path)["consumer"]["name"]) for path in files}
    names = sorted(set(consumer_of.values()))
    if consumer is None and len(names) > 1:
        raise UsageError(f"the pacts are by several consumers ({', '.join(names)}); a version belongs to one",
                         hint="pass --consumer NAME to publish that consumer's pacts")
    if consumer is not None:
        files = [path for path in files if consumer_of[path] == consumer]
        if not files:
            raise UsageError(f"no pact by consumer '{consumer}' to publish (found: {', '.join(names)})")
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
    check_broker_limits(retries, timeout)
    args = ["broker", "can-i-deploy", "--pacticipant", pacticipant, "--version", version]
    if to_environment:
        args += ["--to-environment", to_environment]
    result = _run(args, broker, retries, timeout)
    if not result.ok and not result.broker_error and not _is_verdict(result.output):
        # A non-zero exit without the broker's verdict: an error answer (5xx, 401) or no answer at all.
        result = BrokerResult(result.command, result.exit_code, result.output, broker_error=True)
    return result


def _is_verdict(output: str) -> bool:
    return "computer says no" in output.lower()


def check_broker_limits(retries: int, timeout: float) -> None:
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise UsageError(f"--retries must be 0 or more, got {retries!r}")
    if not isinstance(timeout, int | float) or not timeout > 0:
        raise UsageError(f"--timeout must be a positive number of seconds, got {timeout!r}")


def _run(args: list[str], broker: str | None, retries: int, timeout: float) -> BrokerResult:
    executable = find_pact_cli()
    url = broker_url(broker)
    command = (executable, *args, "--broker-base-url", url, "--retries", str(retries))
    env = {**os.environ, "PACT_DO_NOT_TRACK": os.environ.get("PACT_DO_NOT_TRACK", "true")}
    try:
        # A wall-clock limit on the whole CLI run (it makes the HTTP calls itself): a broker that answers
        # a byte at a time cannot hold a CI gate; run() kills the CLI when it passes.
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        return BrokerResult(command, 1, f"the pact CLI did not finish within {timeout:g} s talking to the broker "
                            f"at {redact(url)} (--timeout raises the limit)", broker_error=True)
    except OSError as err:
        raise UsageError(f"cannot run {executable}: {err.strerror or err}", hint=INSTALL_HINT) from None
    output = "\n".join(part.strip() for part in (done.stdout, done.stderr) if part.strip())
    return BrokerResult(command, done.returncode, output)
