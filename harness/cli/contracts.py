"""`autopilot-harness contracts publish|can-i-deploy`: the Pact Broker side, via the `pact` CLI.

Both need a broker (`--broker-url` or PACT_BROKER_BASE_URL; credentials from PACT_BROKER_TOKEN or
PACT_BROKER_USERNAME/PASSWORD) and the `pact` command of pact-python-cli. Exit 0 published /
deployable, 1 refused ("Computer says no") or the broker failed, 2 bad input or the CLI is missing.
"""

from __future__ import annotations

import argparse

from harness.errors import ExitCode


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "contracts", help="publish pacts to a Pact Broker and ask can-i-deploy",
        description="Drive the Pact Broker through the `pact` CLI (pip install pact-python-cli).")
    actions = parser.add_subparsers(dest="contracts_command", metavar="ACTION", required=True)

    def broker_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--broker-url", default=None, metavar="URL",
                       help="the Pact Broker (default: $PACT_BROKER_BASE_URL)")
        p.add_argument("--retries", type=int, default=1, help="HTTP retries against the broker (default 1)")
        p.add_argument("--timeout", type=float, default=120.0, help="seconds before giving up (default 120)")

    publish = actions.add_parser("publish", help="publish pact files as a consumer version")
    publish.add_argument("pacts", nargs="+", metavar="FILE_OR_DIR")
    publish.add_argument("--consumer-app-version", "-a", required=True, metavar="VERSION")
    publish.add_argument("--branch", default=None)
    publish.add_argument("--tag", "-t", action="append", default=[], help="a tag (repeatable)")
    broker_options(publish)

    deploy = actions.add_parser("can-i-deploy", help="ask whether a version may be deployed (exit 1: no)")
    deploy.add_argument("--pacticipant", "-a", required=True, metavar="NAME")
    deploy.add_argument("--version", "-e", required=True)
    deploy.add_argument("--to-environment", default=None, metavar="ENV")
    broker_options(deploy)
    return parser


def run(args: argparse.Namespace) -> int:
    from harness.contracts import broker

    if args.contracts_command == "publish":
        result = broker.publish(args.pacts, version=args.consumer_app_version, broker=args.broker_url,
                                branch=args.branch, tags=args.tag, retries=args.retries, timeout=args.timeout)
    else:
        result = broker.can_i_deploy(args.pacticipant, args.version, broker=args.broker_url,
                                     to_environment=args.to_environment, retries=args.retries,
                                     timeout=args.timeout)
    if result.output:
        print(result.output)
    return ExitCode.OK if result.ok else ExitCode.FAILED
