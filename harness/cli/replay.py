"""`autopilot-harness replay`: replay captured Autopilot requests or a recorded Studio execution.

    autopilot-harness replay requests captured.jsonl --url-map https://hotel-1234.twil.io=http://127.0.0.1:3000
    autopilot-harness replay requests samples/*.json --functions examples/hospitality --url https://x.twil.io/bot
    autopilot-harness replay execution FN….json --flow flows/flex_messaging.json

Exit 0: everything matched; 1: differences; 2: bad input or options. The work is in harness.runner.replay.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from harness.cli.style import add_verbosity
from harness.errors import ExitCode, UsageError


def add_parser(sub: Any) -> argparse.ArgumentParser:
    replay = sub.add_parser(
        "replay", help="replay captured Autopilot requests or a recorded Studio execution",
        description="Replay what production recorded. Exit 0 all matched, 1 differences, 2 bad input.")
    kinds = replay.add_subparsers(dest="replay_kind", metavar="KIND")

    requests = kinds.add_parser(
        "requests", help="send captured Autopilot webhook requests to your endpoints again",
        description="Each record: the form parameters Autopilot sent (flat, as in the JOVO samples, or under "
                    "\"params\"), its \"url\", and optionally the recorded \"response\" and an \"expect\" subset.")
    requests.add_argument("files", nargs="+", metavar="FILE", help="JSON (an object or a list) or JSONL")
    requests.add_argument("--url", default=None, help="URL for records that carry none")
    requests.add_argument("--url-map", action="append", default=[], metavar="PROD=LOCAL",
                          help="send requests for the production URL prefix PROD to LOCAL (repeatable)")
    requests.add_argument("--functions", action="append", default=[], metavar="DIR",
                          help="serve this Functions folder with twilio-run and map https://*.twil.io to it")
    requests.add_argument("--auth-token", default=None, help="auth token for X-Twilio-Signature")
    requests.add_argument("--sign-local-url", action="store_true",
                          help="sign the URL actually called instead of the production URL")
    requests.add_argument("--match", choices=["exact", "subset"], default=None,
                          help="compare recorded responses exactly (default) or as a subset")
    requests.add_argument("--json", action="store_true", help="print the results as JSON")
    add_verbosity(requests, "request")

    execution = kinds.add_parser(
        "execution", help="run a recorded Studio execution (v2 Executions/Steps API JSON) through a flow",
        description="Feeds the recorded trigger, replies, Autopilot outcomes and HTTP answers to the flow and "
                    "fails at the first Step whose transition differs from the recording.")
    execution.add_argument("files", nargs="+", metavar="FILE", help="{\"execution\": …, \"steps\": […]} JSON")
    execution.add_argument("--flow", required=True, metavar="FLOW.json", help="the flow definition to run")
    execution.add_argument("--subflow", action="append", default=[], metavar="FW…=FILE",
                           help="a subflow definition for run-subflow widgets (repeatable)")
    execution.add_argument("--live-http", action="store_true",
                           help="call HTTP widgets' servers (through --url-map) instead of the recorded answers")
    execution.add_argument("--url-map", action="append", default=[], metavar="PROD=LOCAL",
                           help="with --live-http: send the production URL prefix PROD to LOCAL (repeatable)")
    execution.add_argument("--json", action="store_true", help="print the results as JSON")
    add_verbosity(execution, "recorded step")
    return replay


def run(args: argparse.Namespace, *, stdout: TextIO | None = None) -> int:
    from harness.runner.replay import replay_execution, replay_requests
    from harness.runner.session import DEFAULT_AUTH_TOKEN, parse_url_map

    out = stdout or sys.stdout
    kind = getattr(args, "replay_kind", None)
    if kind is None:
        raise UsageError("say what to replay: `replay requests FILE…` or `replay execution FILE… --flow FLOW`")
    url_map = parse_url_map(args.url_map)
    results: list[Any] = []
    if kind == "requests":
        for file in args.files:
            results.append(replay_requests(
                Path(file), url_map=url_map, functions=[Path(f) for f in args.functions],
                auth_token=args.auth_token or DEFAULT_AUTH_TOKEN, default_url=args.url, match=args.match,
                sign_local_url=args.sign_local_url))
    else:
        subflows: dict[str, Path] = {}
        for item in args.subflow:
            sid, sep, path = item.partition("=")
            if not sep or not sid.strip() or not path.strip():
                raise UsageError(f"--subflow {item!r}: expected FW…=FILE")
            subflows[sid.strip()] = Path(path.strip())
        for file in args.files:
            results.append(replay_execution(Path(file), Path(args.flow), subflows=subflows, url_map=url_map,
                                            http="live" if args.live_http else "recorded"))
    ok = all(result.ok for result in results)
    if args.json:
        json.dump({"ok": ok, "results": [r.to_dict() for r in results]}, out, indent=2, default=str)
        out.write("\n")
    else:
        print(_text(results, args, out), file=out)
    return ExitCode.OK if ok else ExitCode.FAILED


def _text(results: list[Any], args: argparse.Namespace, out: TextIO) -> str:
    """Each input's report, coloured on a terminal. -q: a matched input shows only its final line, a
    failing one all of it; -v: for an execution also one line per step our run took."""
    from harness.cli.style import QUIET, VERBOSE, Style, verbosity

    level, style = verbosity(args), Style(out)
    lines: list[str] = []
    for result in results:
        text = result.render().splitlines()
        if level == QUIET and result.ok:
            text = text[-1:]
        for number, line in enumerate(text):
            if line.startswith("FAIL"):
                line = style.paint("FAIL", "failed") + line[4:]
            elif line.startswith("ok  "):
                line = style.paint("ok", "passed") + line[2:]
            elif number == len(text) - 1:  # an input's final line: its verdict
                line = style.paint(line, "passed" if result.ok else "failed")
            lines.append(line)
        if level == VERBOSE and isinstance(getattr(result, "steps", None), list):
            lines += [f"     step {n}: {step.get('widget')} —{step.get('event')}→ {step.get('next') or 'Ended'}"
                      for n, step in enumerate(result.steps, start=1) if isinstance(step, dict)]
    return "\n".join(lines)
