"""`autopilot-harness chat`: talk to a bot offline, scripted (--say) or interactively."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from harness.errors import ExitCode, HarnessError, UsageError
from harness.runner.session import (
    Session,
    SessionOptions,
    parse_bot_options,
    parse_memory,
    parse_url_map,
)
from harness.transcript import Transcript, Turn


def options_from_args(args: argparse.Namespace) -> SessionOptions:
    options = SessionOptions(
        bots=parse_bot_options(args.bot),
        url_map=parse_url_map(args.url_map),
        functions=[Path(f) for f in args.functions],
        clock=args.clock,
        threshold=args.threshold,
    )
    if args.auth_token:
        options.auth_token = args.auth_token
    for item in getattr(args, "server", []) or []:
        url, sep, target = item.partition("=")
        if not sep or ":" not in target or not url.startswith(("http://", "https://")):
            raise UsageError(f"--server {item!r}: expected PROD=MODULE:FACTORY, "
                             "e.g. https://contact-center.example.com=examples.contact_center.app:create_app")
        options.servers.append({"url": url, "wsgi": target})
    if getattr(args, "flow", None):
        options.flow = Path(args.flow)
    if getattr(args, "workflow", None):
        options.workflow = Path(args.workflow)
    for item in getattr(args, "subflow", []) or []:
        sid, _, path = item.partition("=")
        options.subflows[sid] = Path(path)
    return options


def run(args: argparse.Namespace, *, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    options = options_from_args(args)
    memory = parse_memory(args.memory)
    if args.clock:
        from harness.clock import parse_instant

        try:
            parse_instant(args.clock)
        except ValueError:
            print(f"autopilot-harness chat: --clock {args.clock!r}: expected an ISO 8601 instant",
                  file=sys.stderr)
            return ExitCode.BAD_INPUT
    with Session(options) as session:
        conversation = session.conversation(channel=args.channel, user=args.user,
                                            target_task=args.target_task, memory=memory)
        scripted = args.say is not None
        messages = args.say if scripted else _prompted(stdin, stdout)
        for text in messages:
            try:
                turn = conversation.say(text)
            except HarnessError as err:
                if scripted:
                    raise
                print(f"! {err.render()}", file=stdout)
                continue
            if not args.json:
                _print_turn(turn, stdout, explain=args.explain)
        if args.json:
            json.dump(conversation.transcript().to_dict(), stdout, indent=2, default=str)
            stdout.write("\n")
        else:
            _print_outcome(conversation.transcript(), stdout)
    return ExitCode.OK


def _prompted(stdin: TextIO, stdout: TextIO) -> Any:
    interactive = stdin.isatty()
    if interactive:
        print("Talking to the bot offline. Type a message; an empty line or Ctrl-D quits.", file=stdout)
    while True:
        if interactive:
            stdout.write("you> ")
            stdout.flush()
        line = stdin.readline()
        if not line or (interactive and not line.strip()):
            return
        text = line.rstrip("\n")
        if text.strip():
            if not interactive:
                print(f"you> {text}", file=stdout)
            yield text


def _print_outcome(transcript: Transcript, out: TextIO) -> None:
    if transcript.ended:
        print("(the dialogue has ended)", file=out)
    if transcript.flow is not None:
        print(f"flow path: {' → '.join(transcript.flow.path)} ({transcript.flow.status})", file=out)
    handoff = transcript.handoff
    if handoff and handoff["kind"] == "flex":
        print(f"handoff: Flex task {handoff['task_sid']} in queue {handoff['queue'] or '(none)'}, "
              f"channel {handoff['task_channel']}, attributes {json.dumps(handoff['attributes'])}", file=out)
    elif handoff:
        print(f"handoff: {handoff['method']} {handoff['url']} → {handoff['status']}, "
              f"body {json.dumps(handoff['body'])}", file=out)


def _print_turn(turn: Turn, out: TextIO, *, explain: bool) -> None:
    confidence = f"{turn.confidence:.2f}" if turn.confidence is not None else "-"
    fields = ", ".join(f"{k}={v.get('value')}" for k, v in turn.fields.items())
    route = f"[{turn.task or 'no task'} · confidence {confidence}"
    if turn.next_best_task:
        route += f" · next best {turn.next_best_task}"
    if fields:
        route += f" · {fields}"
    route += "]"
    if turn.routing == "collect":
        route = f"[answer to {turn.task}]"
    if turn.task is None and turn.bot is None and turn.steps:
        route = "[flow only: " + " → ".join(s["widget"] for s in turn.steps) + "]"
    print(f"  {route}", file=out)
    for step in turn.steps:
        if step.get("error"):
            print(f"  ! {step['widget']} → {step.get('event')}: {step['error']}", file=out)
    for reply in turn.replies:
        print(f"bot> {reply}", file=out)
    if explain and turn.ranking:
        for candidate in turn.ranking[:5]:
            sample = f'  "{candidate.sample}"' if candidate.sample else ""
            print(f"    {candidate.score:6.3f}  {candidate.task}{sample}", file=out)
