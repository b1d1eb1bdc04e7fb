"""`autopilot-harness` — the command line face. Thin: parsing here, work in the runner and engines.

Subcommand modules are imported only when used, so `autopilot-harness --version` starts fast.
"""

from __future__ import annotations

import argparse
import importlib
import io
import sys
from collections.abc import Sequence
from typing import Any

from harness import __version__
from harness.errors import ExitCode, HarnessError


class TurnAction(argparse.Action):
    """`--say TEXT` and `--digits KEYS` append to one list, each entry recording its kind, so chat plays
    them in the order given: ("say", TEXT) / ("digits", KEYS)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        turns = list(getattr(namespace, self.dest, None) or [])
        turns.append(("digits" if option_string == "--digits" else "say", values))
        setattr(namespace, self.dest, turns)


def _add_bot_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--bot", action="append", default=[], metavar="[UA…=]SCHEMA.json",
                   help="assistant export to run; with a flow, map its SID: UA…=path (repeatable)")
    p.add_argument("--channel", default="sms", choices=["sms", "whatsapp", "chat", "messenger", "voice"],
                   help="channel of the conversation (default: sms)")
    p.add_argument("--user", default=None, help="the user's identity / phone number (default +15555550100)")
    p.add_argument("--target-task", default=None, help="route the first message to this task")
    p.add_argument("--memory", default=None, metavar="JSON", help="initial memory, a JSON object")
    p.add_argument("--url-map", action="append", default=[], metavar="PROD=LOCAL",
                   help="send requests for the production URL prefix PROD to LOCAL (repeatable)")
    p.add_argument("--auth-token", default=None, help="auth token used to sign webhooks (X-Twilio-Signature)")
    p.add_argument("--functions", action="append", default=[], metavar="DIR",
                   help="serve this Functions folder with twilio-run on a free port and map its URLs")
    p.add_argument("--server", action="append", default=[], metavar="PROD=MODULE:FACTORY",
                   help="serve a WSGI app (e.g. a contact center) on 127.0.0.1 for the production URL PROD")
    p.add_argument("--clock", default=None, metavar="ISO", help="start the clock at this instant (UTC)")
    p.add_argument("--threshold", type=float, default=None, help="routing confidence threshold")
    p.add_argument("--router", default=None, metavar="model|lexical",  # checked when the bot is trained
                   help="the router (default: [tool.autopilot-harness] router above the bot, else model)")


def _fraction(text: str) -> float:
    from harness.cli.argtypes import fraction

    return fraction(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autopilot-harness",
        description="Offline runtime and test kit for Twilio Autopilot bots and their Studio flows.",
    )
    parser.add_argument("--version", action="version", version=f"autopilot-harness {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    chat = sub.add_parser("chat", help="talk to a bot (and its flow), interactively or scripted",
                          description="Talk to an assistant offline. Without --say, reads lines from stdin.")
    _add_bot_options(chat)
    chat.add_argument("--say", action=TurnAction, dest="say", default=None, metavar="TEXT",
                      help="a user message, on a call the caller's speech (repeatable); without --say or "
                           "--digits, chat interactively")
    chat.add_argument("--digits", action=TurnAction, dest="say", metavar="KEYS",
                      help="keypad input on a call (Digits, e.g. 1 or 123#): a turn like --say, in the order "
                           "given among them (repeatable)")
    chat.add_argument("--trigger", default=None, choices=["message", "call", "conversation", "request", "subflow"],
                      help="how the flow starts: message (incomingMessage), call (incomingCall), conversation "
                           "(incomingConversationMessage, Flex Conversations), request (incomingRequest, REST), "
                           "subflow (incomingParent); default: call with --channel voice, else message")
    chat.add_argument("--param", action="append", default=[], metavar="K=V",
                      help="a parameter of a request or subflow execution: flow.data.K (repeatable; a JSON "
                           "value is read as JSON, else text)")
    chat.add_argument("--flow", default=None, metavar="FLOW.json", help="run the whole Studio flow")
    chat.add_argument("--subflow", action="append", default=[], metavar="FW…=FILE",
                      help="a subflow definition for run-subflow widgets (repeatable)")
    chat.add_argument("--workflow", default=None, metavar="WORKFLOW.json",
                      help="TaskRouter workflow configuration deciding the queue of a Flex handoff or of the "
                           "bot's voice handoff to taskrouter://WW…")
    chat.add_argument("--json", action="store_true", help="print the transcript as one JSON object")
    chat.add_argument("--explain", action="store_true", help="show why each message routed where it did")

    lint = sub.add_parser("lint", help="validate assistant schemas and Studio flows",
                          description="Validate files; exit 0 clean, 1 problems found, 2 unreadable input.")
    lint.add_argument("files", nargs="+", metavar="FILE")
    lint.add_argument("--json", action="store_true", help="print findings as JSON (same as --format json)")
    lint.add_argument("--format", choices=["text", "json", "sarif", "codeclimate"], default=None,
                      help="output format (sarif: SARIF 2.1.0, for code hosts' inline annotations; "
                           "codeclimate: GitLab's Code Quality report)")
    lint.add_argument("-q", "--quiet", action="store_true",
                      help="text format: print errors and the final line, not each warning")
    lint.add_argument("--disable", action="append", default=[], metavar="ID[,ID…]",
                      help="turn off lint rules by id, e.g. AP101 (also [tool.autopilot-harness.lint] disable)")
    lint.add_argument("--bot", action="append", default=[], metavar="[UA…=]SCHEMA.json",
                      help="the assistant a flow's Autopilot widget runs (UA…=path per SID; repeatable)")
    lint.add_argument("--threshold", type=_fraction, default=None,
                      help="routing confidence threshold for AP104 (0 to 1); default: [tool.autopilot-harness] "
                           "threshold of the nearest pyproject.toml")
    # Subcommands whose module declares its own options with add_parser(sub); those modules import their
    # heavy dependencies (pact) only inside run(), so building the parser stays fast.
    for name in SELF_DECLARED:
        importlib.import_module(COMMANDS[name]).add_parser(sub)
    return parser


COMMANDS = {"chat": "harness.cli.chat", "lint": "harness.cli.lint",
            "verify": "harness.cli.verify", "contracts": "harness.cli.contracts", "run": "harness.cli.run"}
SELF_DECLARED = ("verify", "contracts", "run")
# Insight tools (issue 6): self-declared too.
COMMANDS.update({"coverage": "harness.cli.coverage", "nlu-eval": "harness.cli.nlu_eval",
                 "report": "harness.cli.report"})
SELF_DECLARED += ("coverage", "nlu-eval", "report")
COMMANDS["replay"] = "harness.cli.replay"
SELF_DECLARED += ("replay",)
# Editors and pre-commit (issue 14).
COMMANDS.update({"schema": "harness.cli.schema", "validate": "harness.cli.validate"})
SELF_DECLARED += ("schema", "validate")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse: --help/--version exit 0, bad usage exits 2
        return int(exit_.code or 0)
    if not args.command:
        parser.print_help()
        return ExitCode.BAD_INPUT
    if isinstance(sys.stdout, io.TextIOWrapper):
        # A console that cannot encode a scenario's name (PYTHONIOENCODING=ascii, cp1252) gets an escape, as
        # stderr already does, rather than a UnicodeEncodeError half-way through the results.
        sys.stdout.reconfigure(errors="backslashreplace")
    module = importlib.import_module(COMMANDS[args.command])
    try:
        code = int(module.run(args))
        sys.stdout.flush()  # a reader that went away (`| head`) shows here, inside the handler below
        return code
    except BrokenPipeError:
        from harness.cli.outputs import silence_closed_pipe

        silence_closed_pipe(sys.stdout)
        return ExitCode.OK
    except HarnessError as err:
        print(f"autopilot-harness {args.command}: {err.render()}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    except KeyboardInterrupt:
        return 130
