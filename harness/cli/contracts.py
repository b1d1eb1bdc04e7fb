"""`autopilot-harness contracts generate|verify-flow|publish|can-i-deploy`.

`generate --schema FILE --pact-dir DIR`: the consumer's message pact from a JSON Schema whose `x-pact`
block names the pact and its interactions (contracts/schemas/). Each example is checked against the
schema and the Twilio rules first; the file `<consumer>-<provider>.json` is replaced as a whole.
Exit 0 written, 2 bad input (a missing or malformed schema, an example that breaks it).

`verify-flow --pact FILE_OR_DIR --scenarios PATH…`: the Studio flow as the provider of message pacts
(the Flex task attributes): each interaction's provider state runs its scenario, and the Send to Flex
hand-off it produces is verified. Exit 0 verified, 1 a failure or nothing verified, 2 bad input.

`publish` and `can-i-deploy` are the Pact Broker side, via the `pact` CLI. Both need a broker
(`--broker-url` or PACT_BROKER_BASE_URL; credentials from PACT_BROKER_TOKEN or
PACT_BROKER_USERNAME/PASSWORD) and the `pact` command of pact-python-cli. `publish` sends only the
pacts of `--consumer` (needed when the files are by several consumers). Exit 0 published / deployable;
1 "Computer says no" (can-i-deploy) or a failed publish; 2 bad input, the CLI missing, or — for
can-i-deploy — a broker that could not be asked (5xx, 401, unreachable, timeout), so a deploy gate
never reads an outage as a verdict.
"""

from __future__ import annotations

import argparse
import sys
import time

from harness.cli.argtypes import non_negative_int, positive_number
from harness.cli.style import QUIET, Style, add_verbosity, verbosity
from harness.cli.verify import add_junit_option
from harness.errors import ExitCode


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "contracts", help="verify the flow against message pacts; publish pacts, ask can-i-deploy",
        description="verify-flow runs scenarios as the provider of message pacts; publish and can-i-deploy "
                    "drive the Pact Broker through the `pact` CLI (pip install pact-python-cli).")
    actions = parser.add_subparsers(dest="contracts_command", metavar="ACTION", required=True)

    def broker_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--broker-url", default=None, metavar="URL",
                       help="the Pact Broker (default: $PACT_BROKER_BASE_URL)")
        p.add_argument("--retries", type=non_negative_int, default=1,
                       help="HTTP retries against the broker (default 1)")
        p.add_argument("--timeout", type=positive_number, default=120.0,
                       help="seconds before giving up (default 120)")
        add_verbosity(p, "line of the pact CLI's report (its whole output)")

    publish = actions.add_parser("publish", help="publish pact files as a consumer version")
    publish.add_argument("pacts", nargs="+", metavar="FILE_OR_DIR")
    publish.add_argument("--consumer-app-version", "-a", required=True, metavar="VERSION")
    publish.add_argument("--consumer", default=None, metavar="NAME",
                         help="publish only this consumer's pacts (needed when the files are by several)")
    publish.add_argument("--branch", default=None)
    publish.add_argument("--tag", "-t", action="append", default=[], help="a tag (repeatable)")
    broker_options(publish)

    deploy = actions.add_parser("can-i-deploy", help="ask whether a version may be deployed (exit 1: no)")
    deploy.add_argument("--pacticipant", "-a", required=True, metavar="NAME")
    deploy.add_argument("--version", "-e", required=True)
    deploy.add_argument("--to-environment", default=None, metavar="ENV")
    broker_options(deploy)

    generate = actions.add_parser(
        "generate", help="write the message pact a JSON Schema's x-pact block describes",
        description="Write <consumer>-<provider>.json, the message pact of the Flex task attributes, from a "
                    "JSON Schema with an x-pact block (contracts/schemas/). Exit 0 written, 2 bad input.")
    generate.add_argument("--schema", action="append", required=True, metavar="FILE",
                          help="a JSON Schema with an x-pact block (repeatable)")
    generate.add_argument("--pact-dir", required=True, metavar="DIR",
                          help="where to write the pact (created if missing)")
    add_verbosity(generate, "pact written")

    flow = actions.add_parser(
        "verify-flow", help="verify the flow's Flex attributes against message pacts (the flow is provider)",
        description="For each message interaction, run the scenario whose provider_state (else name) is the "
                    "interaction's provider state and verify the Send to Flex attributes it produces. "
                    "Exit 0 verified, 1 failed or nothing verified, 2 bad input.")
    flow.add_argument("--pact", action="append", required=True, metavar="FILE_OR_DIR",
                      help="a message pact, or a directory of pacts (repeatable)")
    flow.add_argument("--scenarios", nargs="+", required=True, metavar="PATH",
                      help="scenario files or folders holding the provider-state scenarios")
    flow.add_argument("--provider", default=None, metavar="NAME",
                      help="the provider's name in the pacts (default: the name the pacts give)")
    flow.add_argument("--schemas", nargs="+", default=None, metavar="PATH",
                      help="JSON Schemas (files or folders) with x-pact blocks the attributes must also satisfy "
                           "(default: the schemas/ folder beside the pact folder, e.g. contracts/schemas)")
    flow.add_argument("--json", action="store_true", help="print the result as one JSON object")
    flow.add_argument("--show-output", action="store_true", help="also print the Pact verifier's own report")
    add_junit_option(flow)
    return parser


def run(args: argparse.Namespace) -> int:
    if args.contracts_command == "verify-flow":
        return _verify_flow(args)
    if args.contracts_command == "generate":
        return _generate(args)
    from harness.contracts import broker

    if args.contracts_command == "publish":
        result = broker.publish(args.pacts, version=args.consumer_app_version, broker=args.broker_url,
                                branch=args.branch, tags=args.tag, retries=args.retries, timeout=args.timeout,
                                consumer=args.consumer)
    else:
        result = broker.can_i_deploy(args.pacticipant, args.version, broker=args.broker_url,
                                     to_environment=args.to_environment, retries=args.retries,
                                     timeout=args.timeout)
    if result.output:
        # -q: the pact CLI's last line (its verdict) when all went well; everything when it did not.
        shown = result.output.rstrip().splitlines()[-1:] if verbosity(args) == QUIET and result.ok \
            else [result.output]
        style = Style(sys.stdout)
        print("\n".join([*shown[:-1], style.paint(shown[-1], "passed" if result.ok else "failed")])
              if shown else "")
    if result.ok:
        return ExitCode.OK
    if result.broker_error and args.contracts_command == "can-i-deploy":
        print("can-i-deploy: the broker could not be asked (no verdict); see above", file=sys.stderr)
        return ExitCode.BAD_INPUT
    return ExitCode.FAILED


def _verify_flow(args: argparse.Namespace) -> int:
    from harness.cli.verify import check_outputs, print_result
    from harness.contracts.scenario_runs import verify_flow

    check_outputs(args)
    started = time.perf_counter()
    result = verify_flow(args.pact, args.scenarios, provider=args.provider, schemas=args.schemas)
    return print_result(result, args, started=started)


def _generate(args: argparse.Namespace) -> int:
    import json
    import shutil
    import tempfile
    import uuid

    from harness.cli.outputs import output_error, prepare_output_folder
    from harness.contracts.messages import write_message_pacts

    # The one output rule, before the work; the folder is made only once a pact is built (bad input: none).
    target = prepare_output_folder(args.pact_dir, "--pact-dir", create=False)
    written = []
    for schema in args.schema:
        # Built in a scratch folder: the writer's lock and run marker never land next to committed pacts,
        # and the target is replaced as a whole (the schema is the pact's only source).
        with tempfile.TemporaryDirectory(prefix="pact-generate-") as scratch:
            built = write_message_pacts(schema, scratch, run_id=uuid.uuid4().hex)
            count = len(json.loads(built.read_text(encoding="utf-8")).get("interactions") or [])
            try:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(built, target / built.name)
            except OSError as err:
                raise output_error("--pact-dir", target / built.name, err) from None
        written.append(f"wrote {target / built.name} ({count} interaction{'s' if count != 1 else ''})")
    print("\n".join(written[-1:] if verbosity(args) == QUIET else written))  # -q: the final line
    return ExitCode.OK
