"""Provider verification of HTTP pacts against a running endpoint (the vendor's side).

    result = verify("contracts/pacts", "http://127.0.0.1:8080", provider="contact-center")
    print(result.render()); sys.exit(0 if result.ok else 1)

Wraps `pact.Verifier` (4.x) and closes its silent passes (pact.md §6.5): zero interactions, an empty
directory, a pact for another provider and a pact with message interactions are failures, never a
pass. Failures name the interaction and the JSON path (`$.ticket_id`, `status`, `header:…`), read from
the verifier's structured results; the Rust report is kept in `VerifyResult.output`.

Provider-side Twilio rules Pact cannot express (`provider.size`): the verifier talks to the vendor
through a small recording proxy, and an answer over Studio's 64 kB (`MAX_BODY_BYTES`) fails the
interaction — the HTTP Request widget would take `failed` however well the body matches. Non-empty
strings the flow reads (`ticket_id`) and "any 2xx" are in the pact itself (`consumer`). Redirects to
the vendor's own origin are sent back through the proxy, so a 3xx cannot skip the size check.

Every request of ours (the probes, the proxy's call to the vendor) goes through the kit's network module
(`harness.engines.twilio.network.fetch`): one wall-clock deadline of `timeout_ms` for the whole request
(connect, headers, body), so a provider that drips its answer a byte at a time fails its interaction with
"no answer within N ms" instead of holding the run; the proxy reads at most `PROXY_MAX_BYTES` of an
answer. The verifier's own request timeout (`Verifier.set_request_timeout`, pact.md §3) is set a little
above it, so the proxy's clear message comes first and the verifier still ends on its own.

Fail-fast probes, so a broken setup gives one clear message instead of Pact's retries and made-up
statuses: the provider base URL must accept a connection, and a `--state-change-url` must answer one
setup call (then a teardown) with a 2xx — Pact retries a failing state change with backoff for about two
minutes per interaction. A provider that does not answer within `timeout_ms` fails its interaction with
"did not answer within N ms", naming the provider's URL, never the internal proxy.

Bad input — a path that does not exist, a file that is not a pact, a malformed URL — raises a
`HarnessError` (the CLI's exit 2); a contract that does not hold is a `VerifyResult` with `ok` false.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness.contracts import pact_files
from harness.contracts._pact import load_pact
from harness.contracts.pact_shape import read_checked_pact
from harness.contracts.results import ContractProblem, InteractionResult, VerifyResult, interaction_results
from harness.engines.studio.http import MAX_BODY_BYTES
from harness.engines.twilio.network import (
    Fetched,
    FetchError,
    NetworkPolicy,
    RequestLimits,
    env_limit,
    fetch,
    guarded_session,
    redact,
)
from harness.errors import LoadError, Location, UsageError

SIZE_RULE = "provider.size"
TRANSPORT_RULE = "provider.transport"
# Studio's HTTP Request widget waits up to 10 s for an answer (reference: studio.md), so that is our default.
DEFAULT_TIMEOUT_MS = 10_000
# The verifier waits this much longer than the proxy, so the proxy's timeout (with a clear message) fires first.
_VERIFIER_GRACE_MS = 2_000
# The proxy reads at most this much of an answer (16 x Studio's 64 kB): beyond Studio's limit the interaction
# fails anyway, and a runaway provider must not fill memory. Raise it with AUTOPILOT_HARNESS_VERIFY_MAX_BYTES.
PROXY_MAX_BYTES = 16 * MAX_BODY_BYTES
PROXY_MAX_BYTES_ENV = "AUTOPILOT_HARNESS_VERIFY_MAX_BYTES"
# Not forwarded by the proxy: per-connection headers, and what `requests` already undid (compression).
_HOP_HEADERS = frozenset({"connection", "keep-alive", "transfer-encoding", "content-encoding", "content-length",
                          "host", "upgrade", "proxy-connection", "te", "trailer"})


def collect_pact_sources(pact_paths: str | Path | Iterable[str | Path]) -> list[tuple[Path, bool]]:
    """(file, named explicitly) for files given directly or found (`*.json`, sorted) in directories."""
    if isinstance(pact_paths, str | Path):
        pact_paths = [pact_paths]
    found: list[tuple[Path, bool]] = []
    for entry in pact_paths:
        path = Path(entry)
        if path.is_dir():
            found += [(p, False) for p in sorted(path.glob("*.json"))
                      if p.is_file() and not p.name.startswith(".")]  # not the lock/run sidecars
        elif path.is_file():
            found.append((path, True))
        else:
            raise LoadError("no such pact file or directory", Location(str(path)))
    return found


def collect_pact_files(pact_paths: str | Path | Iterable[str | Path]) -> list[Path]:
    """Pact files named directly or found in directories. Missing paths: LoadError."""
    return [path for path, _ in collect_pact_sources(pact_paths)]


def check_url(url: str, what: str = "--provider-base-url") -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{what} must be an http(s) URL with a host, got {url!r}")
    return url


def select_pacts(
    sources: list[tuple[Path, bool]], provider: str | None, kind: str
) -> tuple[str, list[tuple[Path, dict[str, Any]]], list[str]]:
    """Read the pacts and keep the provider's. Returns (provider, [(file, pact)], errors).

    A directory may hold pacts for other providers (skipped); a file named explicitly for another
    provider, a pact without interactions or with interactions of the other kind is an error.
    """
    # Read with the file format checked (pact_shape): a malformed interaction is exit 2, never skipped.
    documents = [(path, explicit, read_checked_pact(path)) for path, explicit in sources]
    # A folder a vendor receives holds both kinds (contracts/pacts): pacts only of the other kind found in a
    # folder are skipped, not errors; a file named explicitly is still checked (and refused) below.
    documents = [(path, explicit, doc) for path, explicit, doc in documents
                 if explicit or not _only_other_kind(doc, kind)]
    names = sorted({doc["provider"]["name"] for _, _, doc in documents})
    if provider is None:
        if len(names) > 1:
            raise UsageError(f"the pacts are for several providers ({', '.join(names)}): pass --provider")
        provider = names[0] if names else "?"
    errors: list[str] = []
    chosen = []
    for path, explicit, document in documents:
        if document["provider"]["name"] != provider:
            if explicit:
                errors.append(f"{path}: this pact is for provider '{document['provider']['name']}', "
                              f"not '{provider}'")
            continue
        interactions = pact_files.pact_interactions(document)
        other = [i for i in interactions if pact_files.interaction_kind(i) != kind]
        if other:
            # Point to the command that can verify them (the flow is the provider of message pacts).
            other_kind, command = (("message", "autopilot-harness contracts verify-flow --pact FILE "
                                    "--scenarios PATH") if kind == "http"
                                   else ("HTTP", "autopilot-harness verify --pact FILE --provider-base-url URL"))
            errors.append(f"{path}: {len(other)} {other_kind} interaction(s) cannot be verified here; "
                          f"use `{command}`")
        elif not interactions:
            errors.append(f"{path}: the pact has no interactions")
        else:
            chosen.append((path, document))
    if not sources:
        errors.append("no pact files found: nothing was verified")
    elif not chosen and not errors:
        errors.append(f"no pact for provider '{provider}' among {len(sources)} file(s): nothing was verified")
    return provider, chosen, errors


def _only_other_kind(document: Mapping[str, Any], kind: str) -> bool:
    interactions = pact_files.pact_interactions(document)
    return bool(interactions) and all(pact_files.interaction_kind(i) != kind for i in interactions)


def check_timeout_ms(timeout_ms: int) -> int:
    if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int) or timeout_ms <= 0:
        raise UsageError(f"the timeout must be a positive number of milliseconds, got {timeout_ms!r}")
    return timeout_ms


def parse_headers(pairs: Iterable[str]) -> dict[str, str]:
    """`NAME=VALUE` strings (the CLI's --header) as a dict; UsageError for a malformed one."""
    headers: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name or any(c in name for c in " :\t\r\n") or any(c in value for c in "\r\n"):
            raise UsageError(f"--header expects NAME=VALUE (e.g. Authorization='Bearer …'), got {pair!r}")
        headers[name] = value
    return headers


@dataclass(frozen=True)
class BrokerSource:
    """Pacts fetched from a Pact Broker (its "pacts for verification" of `provider`), and, with
    `provider_version`, the verification results published back to it by pact's verifier.

    Credentials come from the environment only (`PACT_BROKER_TOKEN`, or `PACT_BROKER_USERNAME` /
    `PACT_BROKER_PASSWORD`), which pact's verifier reads itself, so they never reach a command line."""

    url: str
    provider_version: str | None = None  # publish the results as this provider version; None: do not
    branch: str | None = None
    tags: tuple[str, ...] = ()
    build_url: str | None = None  # the CI build that verified, shown by the broker

    @property
    def publish(self) -> bool:
        return self.provider_version is not None


def verify(
    pact_paths: str | Path | Iterable[str | Path] | None,
    provider_base_url: str,
    *,
    provider: str | None = None,
    state_change_url: str | None = None,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    headers: Mapping[str, str] | None = None,
    quiet: bool = True,
    broker: BrokerSource | None = None,
) -> VerifyResult:
    """Verify HTTP pacts against `provider_base_url`; `provider` defaults to the pacts' provider name.

    The pacts are local files (`pact_paths`) or, with `broker`, the ones a Pact Broker serves for
    `provider` (then required); with `broker.provider_version` pact's verifier publishes the results to
    the broker (`verify --publish`), and a failed publication is an error of the result, never silent.
    `headers` are added to every request (e.g. an Authorization the vendor's endpoint requires); they
    are never printed."""
    check_url(provider_base_url)
    check_timeout_ms(timeout_ms)
    if state_change_url is not None:
        check_url(state_change_url, "--state-change-url")
    if broker is not None:
        check_url(broker.url, "--broker-url")
        if pact_paths:
            raise UsageError("give the pacts either as files (--pact) or from a broker (--broker-url), not both")
        if not provider:
            raise UsageError("--broker-url needs --provider: the broker serves the pacts of one provider")
        if broker.build_url is not None:
            check_url(broker.build_url, "--build-url")
        chosen: list[tuple[Path, dict[str, Any]]] = []
        result = VerifyResult(provider=provider, pact_files=[redact(broker.url)])
    else:
        if not pact_paths:
            raise UsageError("no pacts: give --pact FILE_OR_DIR, or --broker-url URL with --provider")
        provider, chosen, errors = select_pacts(collect_pact_sources(pact_paths), provider, "http")
        result = VerifyResult(provider=provider, pact_files=[str(p) for p, _ in chosen], errors=errors)
        if not chosen:
            return result
    setup_error = _probe_provider(provider_base_url, timeout_ms) or (
        _probe_state_change(state_change_url, _first_state(chosen), timeout_ms)
        if state_change_url and chosen else None)
    if setup_error:
        result.errors.append(setup_error)
        return result

    from harness.engines.twilio.server import LocalServer

    pact = load_pact()
    guard = SizeGuard(provider_base_url, timeout=timeout_ms / 1000)
    with LocalServer(guard) as proxy:
        proxy_url = proxy.url("/")
        verifier = pact.Verifier(provider, host=urlsplit(proxy_url).hostname)  # host check, §6.7
        verifier.add_transport(url=proxy_url)
        for path, _ in chosen:
            verifier.add_source(path)
        if broker is not None:
            # Through pact's own broker client: the HAL navigation, the consumer version selectors the
            # broker defaults to, and the publication (pb:publish-verification-results) are pact's.
            verifier.broker_source(broker.url, use_env=True)
            if broker.publish:
                verifier.set_publish_options(version=broker.provider_version or "", url=broker.build_url,
                                             branch=broker.branch, tags=list(broker.tags) or None)
        if state_change_url is not None:
            verifier.state_handler(state_change_url, teardown=True, body=True)
        if headers:
            verifier.add_custom_headers(dict(headers))
        verifier.set_request_timeout(timeout_ms + _VERIFIER_GRACE_MS)
        verifier.set_coloured_output(enabled=False)
        with _publication_problems() as problems:
            run_verifier(verifier, result, quiet=quiet)
        if broker is not None and broker.publish:
            # The verifier reports a failed publication only in its log: make it a failure of the run.
            result.errors += [f"publishing the verification results to {redact(broker.url)} failed: {p}"
                              for p in problems]
            if not problems and result.interactions:
                result.published = f"{redact(broker.url)} as provider version {broker.provider_version}"
    _attach_files(result, chosen)
    _explain_transport_failures(result, chosen, guard, timeout_ms)
    _explain_status_problems(result, chosen)
    _add_size_problems(result, chosen, guard.oversized)
    # Whatever still names the internal proxy should name the vendor's endpoint instead.
    result.errors = [e.replace(proxy_url.rstrip("/"), guard.target) for e in result.errors]
    return result


# What pact's verifier logs (pact.ffi, WARNING) when the broker refuses or cannot take the results.
_PUBLISH_FAILED = "Publishing of verification results failed"


@contextmanager
def _publication_problems() -> Iterator[list[str]]:
    """The messages of failed publications the verifier logs while it runs."""
    import logging

    problems: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            message = record.getMessage()
            if _PUBLISH_FAILED in message:
                problems.append(message.split(":", 1)[-1].strip())

    handler = Collect(level=logging.WARNING)
    logger = logging.getLogger("pact")
    logger.addHandler(handler)
    try:
        yield problems
    finally:
        logger.removeHandler(handler)


def _first_state(chosen: list[tuple[Path, dict[str, Any]]]) -> tuple[str, dict[str, Any]]:
    for _, document in chosen:
        for interaction in pact_files.pact_interactions(document):
            for state in interaction.get("providerStates") or []:
                if isinstance(state, dict) and state.get("name"):
                    return str(state["name"]), dict(state.get("params") or {})
    return "", {}


def _limits(timeout_ms: int, what: str) -> RequestLimits:
    return RequestLimits(timeout_ms / 1000, int(env_limit(PROXY_MAX_BYTES_ENV, PROXY_MAX_BYTES, unit="bytes",
                                                          integer=True)),
                         f"the whole request, {what}; --timeout-ms changes it",
                         f"the verify proxy's cap; {PROXY_MAX_BYTES_ENV} raises it")


def _fetch(method: str, url: str, timeout_ms: int, what: str, **kwargs: Any) -> Fetched:
    """One request to the user's own endpoint (any host: it is theirs) under one overall deadline."""
    session = _http_session()
    return fetch(session, method, url, policy=NetworkPolicy(allow_network=True), limits=_limits(timeout_ms, what),
                 follow_redirects=False, **kwargs)


def _probe_provider(url: str, timeout_ms: int) -> str | None:
    """None when something accepts connections at `url`; else why not (any HTTP answer will do)."""
    try:
        _fetch("GET", url, timeout_ms, "the provider probe")
    except FetchError as err:
        if err.reason in ("unreachable", "refused"):  # refused, unknown host
            return f"the provider at {url} cannot be reached ({err.detail}): nothing was verified"
        # it connected (a slow, huge or odd answer): the interactions will tell
    return None


def _probe_state_change(url: str, state: tuple[str, dict[str, Any]], timeout_ms: int) -> str | None:
    """One setup call (then a teardown) to the state-change URL; why it failed, or None.

    Pact retries a failing state change with backoff (about two minutes per interaction) and then
    names neither status nor URL, so we ask once first."""
    name, params = state
    for action in ("setup", "teardown"):
        body = json.dumps({"state": name, "params": params, "action": action}).encode()
        try:
            answer = _fetch("POST", url, timeout_ms, "the state-change call", data=body,
                            headers={"Content-Type": "application/json"})
        except FetchError as err:
            if err.reason == "timeout":
                return (f"the state-change URL {url} did not answer within {timeout_ms} ms ({action} of "
                        f"{name!r})")
            return f"the state-change URL {url} cannot be reached ({err.detail})"
        if not 200 <= answer.status < 300:
            return (f"the state-change URL {url} answered {answer.status} {answer.reason or ''}".rstrip()
                    + f" to the {action} of state {name!r} (expected a 2xx): nothing was verified")
    return None


_SESSION: Any = None


def _http_session() -> Any:
    global _SESSION
    if _SESSION is None:
        _SESSION = guarded_session()  # pooled; its watchdog enforces the overall deadline
    return _SESSION


class SizeGuard:
    """A WSGI proxy in front of the vendor's endpoint that notes answers over Studio's 64 kB."""

    def __init__(self, target: str, *, limit: int = MAX_BODY_BYTES,
                 timeout: float = DEFAULT_TIMEOUT_MS / 1000) -> None:
        parts = urlsplit(target)
        self.target = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.limit = limit
        self.timeout = timeout
        self.oversized: list[tuple[str, str, int]] = []  # (method, path, bytes)
        self.failures: list[tuple[str, str, str]] = []  # (method, path, what went wrong)
        self._redirected_from: dict[str, str] = {}  # a redirect's target path → the interaction's path

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO") or "/"
        origin_path = self._redirected_from.get(path, path)  # what the interaction asked for
        query = environ.get("QUERY_STRING") or ""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items()
                   if key.startswith("HTTP_") and key[5:].replace("_", "-").lower() not in _HOP_HEADERS}
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        url = self.target + path + (f"?{query}" if query else "")
        timeout_ms = round(self.timeout * 1000)
        try:
            answer = _fetch(method, url, timeout_ms, "the provider's answer", data=body or None, headers=headers)
        except FetchError as err:
            if err.reason == "timeout":
                self.failures.append((method, origin_path, f"{method} {url} did not answer within "
                                                           f"{timeout_ms} ms (timeout)"))
                start_response("504 Gateway Timeout", [("Content-Type", "text/plain")])
                return [b"the provider did not answer in time"]
            if err.reason == "too_large":
                self.oversized.append((method, origin_path, err.received))
            self.failures.append((method, origin_path, f"{method} {url} failed: {err.detail}"))
            start_response("502 Bad Gateway", [("Content-Type", "text/plain")])
            return [f"the provider did not answer: {err.detail}".encode()]
        if len(answer.body) > self.limit:
            self.oversized.append((method, origin_path, len(answer.body)))
        location = answer.headers.get("Location")
        if 300 <= answer.status < 400 and location:
            self._redirected_from[urlsplit(location).path or "/"] = origin_path
        proxy_origin = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"
        start_response(f"{answer.status} {answer.reason or ''}".strip(),
                       [(k, self._through_proxy(v, proxy_origin) if k.lower() == "location" else v)
                        for k, v in answer.headers.items() if k.lower() not in _HOP_HEADERS])
        return [answer.body]

    def _through_proxy(self, location: str, proxy_origin: str) -> str:
        """A redirect to the vendor's own origin comes back through us, so its body is measured too."""
        if location.startswith(self.origin) and location[len(self.origin):][:1] in ("", "/", "?"):
            return proxy_origin + location[len(self.origin):]
        return location


def _interaction_requests(chosen: list[tuple[Path, dict[str, Any]]]) -> dict[str, tuple[str, str]]:
    """Interaction description → (METHOD, path) of its request."""
    requests_of: dict[str, tuple[str, str]] = {}
    for _, document in chosen:
        for interaction in pact_files.pact_interactions(document):
            request = interaction.get("request") or {}
            requests_of[str(interaction.get("description"))] = (str(request.get("method", "GET")).upper(),
                                                                str(request.get("path", "/")))
    return requests_of


def _explain_transport_failures(result: VerifyResult, chosen: list[tuple[Path, dict[str, Any]]],
                                guard: SizeGuard, timeout_ms: int) -> None:
    """An interaction whose request never got an answer fails for that reason alone: the status and body
    mismatches Pact reports then are about the proxy's stand-in answer, not the vendor's."""
    if not guard.failures:
        return
    requests_of = _interaction_requests(chosen)
    updated = []
    for item in result.interactions:
        reasons = [why for method, path, why in guard.failures
                   if (method, path) == requests_of.get(item.description)]
        if reasons:
            problem = ContractProblem(item.description, "$", reasons[-1], TRANSPORT_RULE,
                                      f"an answer within {timeout_ms} ms", "no answer")
            item = InteractionResult(item.description, item.provider_states, False, (problem,), item.pact_file)
        updated.append(item)
    result.interactions = updated


def _explain_status_problems(result: VerifyResult, chosen: list[tuple[Path, dict[str, Any]]]) -> None:
    """"expected status 201" is wrong when the pact matches any 2xx (Pact V4's statusCode matcher)."""
    any_2xx = set()
    for _, document in chosen:
        for interaction in pact_files.pact_interactions(document):
            rules = ((interaction.get("response") or {}).get("matchingRules") or {}).get("status") or {}
            # V4 keys the status rule by "$"; older writers put the matchers at the top.
            groups = [rules, *(v for v in rules.values() if isinstance(v, dict))]
            if any(m.get("match") == "statusCode" and m.get("status") == "success"
                   for g in groups for m in g.get("matchers") or [] if isinstance(m, dict)):
                any_2xx.add(str(interaction.get("description")))
    updated = []
    for item in result.interactions:
        if item.description in any_2xx:
            problems = tuple(
                ContractProblem(p.interaction, p.path, f"expected a 2xx status (the pact records {p.expected}), "
                                f"got {p.actual}", p.rule, "2xx", p.actual)
                if p.path == "status" and p.message.startswith("expected status") else p
                for p in item.problems)
            item = InteractionResult(item.description, item.provider_states, item.ok, problems, item.pact_file)
        updated.append(item)
    result.interactions = updated


def _add_size_problems(result: VerifyResult, chosen: list[tuple[Path, dict[str, Any]]],
                       oversized: list[tuple[str, str, int]]) -> None:
    if not oversized:
        return
    requests_of = _interaction_requests(chosen)
    updated = []
    for item in result.interactions:
        sizes = [size for method, path, size in oversized if (method, path) == requests_of.get(item.description)]
        if sizes:
            problem = ContractProblem(item.description, "$", f"the answer is {max(sizes)} bytes: Studio's HTTP "
                                      f"Request widget fails over {MAX_BODY_BYTES} bytes (64 kB)", SIZE_RULE,
                                      f"<= {MAX_BODY_BYTES} bytes", f"{max(sizes)} bytes")
            item = InteractionResult(item.description, item.provider_states, False, (*item.problems, problem),
                                     item.pact_file)
        updated.append(item)
    result.interactions = updated


def run_verifier(verifier: Any, result: VerifyResult, *, quiet: bool) -> None:
    """`verifier.verify()`, its report and structured results into `result` (never raises on failure)."""
    with _stdout_silenced(quiet):
        try:
            verifier.verify()
            failed = None
        except RuntimeError as err:  # the FFI's only signal, details are in output/results (§6.5)
            failed = str(err)
    result.output = str(verifier.output(strip_ansi=True))  # an OwnedString: str() it (§6.6)
    try:
        results = verifier.results
    except Exception:  # no structured results after a hard failure: the text report remains
        results = None
    result.interactions += interaction_results(results)
    for error in (results or {}).get("errors") or []:
        # Each failed interaction is listed again under "errors" ("Verifying a pact … - <description>").
        where = str(error.get("interaction", "")) if isinstance(error, dict) else ""
        if any(where.endswith(f"- {i.description}") for i in result.interactions if not i.ok):
            continue
        message = error.get("message") or error.get("mismatch") if isinstance(error, dict) else error
        result.errors.append(f"{where}: {message}" if where else str(message))
    if failed and not result.interactions and not result.errors:
        result.errors.append(f"the verifier failed before any interaction ran ({failed})")
    if not result.interactions and not result.errors:
        result.errors.append("zero interactions were verified")


def _attach_files(result: VerifyResult, chosen: list[tuple[Path, dict[str, Any]]]) -> None:
    owner = {}
    for path, document in chosen:
        for interaction in pact_files.pact_interactions(document):
            owner.setdefault(str(interaction.get("description")), str(path))
    result.interactions = [
        InteractionResult(i.description, i.provider_states, i.ok, i.problems, owner.get(i.description))
        for i in result.interactions
    ]


@contextmanager
def _stdout_silenced(quiet: bool) -> Iterator[None]:
    """The Rust verifier prints its report straight to fd 1 (§3), and its notices ("State Change ignored…")
    and the message relay's request log to fd 2; keep them out of our own output (the report is kept
    through `verifier.output()`)."""
    if not quiet:
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    with tempfile.TemporaryFile(mode="w+b") as sink:
        for fd in saved:
            os.dup2(sink.fileno(), fd)
        try:
            yield
        finally:
            for fd, copy in saved.items():
                os.dup2(copy, fd)
                os.close(copy)
