"""`autopilot-harness verify --pact FILE_OR_DIR --provider-base-url URL`: a vendor checks its endpoint.

The pacts come from files (`--pact`) or from a Pact Broker (`--broker-url URL --provider NAME`, or
`$PACT_BROKER_BASE_URL`); with `--publish --provider-version V` pact's verifier publishes the results to
the broker (a publication the broker refuses fails the run). `--junit FILE` writes JUnit XML.

Exit 0 when every interaction of every pact passed, 1 when one failed, nothing was verified (zero
interactions, an empty directory, a pact for another provider) or the results could not be published,
2 on bad input (a missing file, a file that is not a pact, a malformed URL, a timeout that is not
positive, a malformed --header, --publish without a broker or a version).
pact-python is imported only when the command runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from harness.cli.argtypes import positive_int
from harness.errors import ExitCode


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "verify", help="verify a running hand-off endpoint against pact files",
        description="Replay each pact interaction against the provider and report which interaction and "
                    "which JSON path failed. Exit 0 verified, 1 failed or nothing verified, 2 bad input.")
    parser.add_argument("--pact", action="append", default=[], metavar="FILE_OR_DIR",
                        help="a pact file, or a directory of them (repeatable); or use --broker-url")
    parser.add_argument("--provider-base-url", required=True, metavar="URL",
                        help="where the provider runs, e.g. http://127.0.0.1:8080")
    parser.add_argument("--state-change-url", default=None, metavar="URL",
                        help="the provider's endpoint that sets up provider states (POST, JSON body)")
    parser.add_argument("--provider", default=None, metavar="NAME",
                        help="the provider's name in the pacts (default: the name the pacts give)")
    parser.add_argument("--timeout-ms", type=positive_int, default=10_000,
                        help="how long the provider may take per request, as Studio's HTTP Request widget "
                             "allows (default 10000)")
    parser.add_argument("--header", action="append", default=[], metavar="NAME=VALUE",
                        help="a header added to every request, e.g. Authorization='Bearer …' (repeatable; "
                             "never printed)")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    parser.add_argument("--show-output", action="store_true",
                        help="also print the Pact verifier's own report")
    add_junit_option(parser)
    broker = parser.add_argument_group(
        "Pact Broker (credentials only from PACT_BROKER_TOKEN or PACT_BROKER_USERNAME/PACT_BROKER_PASSWORD)")
    broker.add_argument("--broker-url", default=None, metavar="URL",
                        help="verify the pacts the broker serves for --provider (default: $PACT_BROKER_BASE_URL "
                             "when --pact is not given)")
    broker.add_argument("--publish", action="store_true",
                        help="publish the verification results to the broker (needs --provider-version)")
    broker.add_argument("--provider-version", default=None, metavar="VERSION",
                        help="the provider version the results are published for, e.g. the git SHA")
    broker.add_argument("--provider-branch", default=None, metavar="BRANCH",
                        help="the provider's branch, recorded with the results")
    broker.add_argument("--provider-tag", action="append", default=[], metavar="TAG",
                        help="a tag for the provider version (repeatable)")
    broker.add_argument("--build-url", default=None, metavar="URL",
                        help="the CI build that ran the verification, shown by the broker")
    return parser


def broker_source(args: argparse.Namespace) -> Any:
    """The BrokerSource the options describe, None for local pacts; UsageError for options that cannot
    work together (a publication with nothing to publish to or no version)."""
    import os

    from harness.contracts.verify import BrokerSource
    from harness.errors import UsageError

    url = args.broker_url or (os.environ.get("PACT_BROKER_BASE_URL") if not args.pact else None)
    if args.publish and not url:
        raise UsageError("--publish needs --broker-url (or $PACT_BROKER_BASE_URL): verification results are "
                         "published against the pacts the broker served, not local files")
    if args.publish and not args.provider_version:
        raise UsageError("--publish needs --provider-version (the version of the provider that was verified)")
    extra = [name for name, value in (("--provider-version", args.provider_version),
                                      ("--provider-branch", args.provider_branch),
                                      ("--provider-tag", args.provider_tag), ("--build-url", args.build_url))
             if value]
    if extra and not args.publish:
        raise UsageError(f"{', '.join(extra)} only apply with --publish")
    if not url:
        return None
    return BrokerSource(url=url, provider_version=args.provider_version if args.publish else None,
                        branch=args.provider_branch, tags=tuple(args.provider_tag), build_url=args.build_url)


def add_junit_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--junit", metavar="FILE", default=None,
                        help="also write the result as JUnit XML (one test case per interaction)")
    from harness.cli.style import add_verbosity

    add_verbosity(parser, "interaction, with its pact file")  # every command with --junit prints a verdict


def run(args: argparse.Namespace) -> int:
    from harness.contracts.verify import parse_headers, verify

    check_outputs(args)
    broker = broker_source(args)
    started = time.perf_counter()
    result = verify(args.pact, args.provider_base_url, provider=args.provider,
                    state_change_url=args.state_change_url, timeout_ms=args.timeout_ms,
                    headers=parse_headers(args.header), broker=broker)
    return print_result(result, args, started=started)


def check_outputs(args: argparse.Namespace) -> None:
    """An unwritable --junit file is bad input, found before anything is verified."""
    if getattr(args, "junit", None):
        from harness.cli.outputs import prepare_output

        prepare_output(args.junit, "--junit")


def print_result(result: Any, args: argparse.Namespace, *, started: float | None = None) -> int:
    """A VerifyResult as JSON (--json) or text (with Pact's own report under --show-output), and as JUnit
    XML (--junit FILE); the exit code."""
    if getattr(args, "junit", None):
        from harness.cli.outputs import write_output

        duration = time.perf_counter() - started if started is not None else 0.0
        write_output(args.junit, result.to_junit_xml(duration=duration), "--junit")
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        if args.show_output and result.output:
            print(result.output)
        print(verify_text(result, args))
    sys.stdout.flush()
    return ExitCode.OK if result.ok else ExitCode.FAILED


def verify_text(result: Any, args: argparse.Namespace) -> str:
    """The verdict as text: a PASS/FAIL line per interaction with its problems, errors, the final verdict.
    -q: only the failing interactions and the final line; -v: each interaction's pact file too. Coloured
    on a terminal (harness.cli.style)."""
    from harness.cli.style import QUIET, VERBOSE, Style, verbosity
    from harness.contracts.results import _rule_note

    level, style = verbosity(args), Style(sys.stdout)
    lines = []
    for interaction in result.interactions:
        if level == QUIET and interaction.ok:
            continue
        states = interaction.provider_states
        given = f" (given {', '.join(states)})" if states else ""
        pact_file = interaction.pact_file or (result.pact_files[0] if len(result.pact_files) == 1 else None)
        source = f"  [{pact_file}]" if level == VERBOSE and pact_file else ""
        mark = style.paint("PASS", "passed") if interaction.ok else style.paint("FAIL", "failed")
        lines.append(f"{mark} {interaction.description}{given}{source}")
        lines += [f"    {p.path}: {p.message}{_rule_note(p)}" for p in interaction.problems]
    lines += [f"{style.paint('ERROR', 'error')} {e}" for e in result.errors]
    verdict = "contract verified" if result.ok else "contract verification FAILED"
    passed = sum(i.ok for i in result.interactions)
    final = f"{verdict}: {passed}/{len(result.interactions)} interactions passed for provider '{result.provider}'"
    if result.published:
        lines.append(f"verification results published to {result.published}")
    lines.append(style.paint(final, "passed" if result.ok else "failed"))
    return "\n".join(lines)
