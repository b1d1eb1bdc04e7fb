"""`autopilot-harness chat`: talk to a bot offline, scripted (--say) or interactively."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from harness.budgets import BudgetExceeded, how_to_raise, int_budget
from harness.cli.outputs import silence_closed_pipe
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
    """SessionOptions from chat's arguments; UsageError (exit 2) for values that cannot work."""
    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        raise UsageError(f"--threshold {args.threshold:g}: expected a confidence between 0 and 1, e.g. 0.4")
    flow = getattr(args, "flow", None)
    if not flow:
        # Subflows only mean something to a flow; silently ignoring them hides a forgotten --flow. (A
        # workflow also routes the bot's own voice handoffs to taskrouter://WW….)
        given = [name for name in ("subflow",) if getattr(args, name, None)]
        if given:
            raise UsageError(f"--{given[0]} needs --flow FLOW.json (it configures the Studio flow's run)")
    bots = parse_bot_options(args.bot)
    options = SessionOptions(
        bots=bots,
        url_map=parse_url_map(args.url_map),
        functions=[Path(f) for f in args.functions],
        clock=args.clock,
        threshold=args.threshold if args.threshold is not None else _configured_threshold(bots, flow),
        router=getattr(args, "router", None),
    )
    if args.auth_token:
        options.auth_token = args.auth_token
    for item in getattr(args, "server", []) or []:
        url, sep, target = item.partition("=")
        if not sep or ":" not in target or not url.startswith(("http://", "https://")):
            raise UsageError(f"--server {item!r}: expected PROD=MODULE:FACTORY, "
                             "e.g. https://contact-center.example.com=examples.contact_center.app:create_app")
        options.servers.append({"url": url, "wsgi": target})
    if flow:
        options.flow = Path(flow)
    if getattr(args, "workflow", None):
        options.workflow = Path(args.workflow)
    for item in getattr(args, "subflow", []) or []:
        sid, sep, path = item.partition("=")
        # Exported flows often name the subflow by a deploy-time ${PLACEHOLDER}: that text is the key too.
        placeholder = sid.startswith("${") and sid.endswith("}")
        if not sep or not (sid.startswith("FW") or placeholder) or not path.strip():
            raise UsageError(f"--subflow {item!r}: expected FW…=FILE, the subflow's Flow SID (as the "
                             "run-subflow widget names it, or its ${PLACEHOLDER}) and its definition file")
        options.subflows[sid] = Path(path)
    return options


def _configured_threshold(bots: dict[str | None, Path], flow: str | None) -> float | None:
    """`[tool.autopilot-harness] threshold` of the pyproject.toml nearest above the bot (and flow) files,
    as `run` and pytest read it, so chat routes the way the scenarios do."""
    from harness.runner.settings import find_pyproject, read_settings

    files = [path for path in [*bots.values(), *([Path(flow)] if flow else [])] if path.exists()]
    return read_settings(find_pyproject(files)).threshold


def run(args: argparse.Namespace, *, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    try:
        code = _run(args, stdin, stdout)
        stdout.flush()  # a closed pipe shows here, not in the interpreter's exit flush
        return code
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly (the one shared rule of the faces).
        silence_closed_pipe(stdout)
        return ExitCode.OK


def _run(args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> int:
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
    # With --json, stdout carries exactly one JSON document: prompts and messages go to stderr.
    chatter = sys.stderr if args.json else stdout
    from harness.cli.style import Style
    with Session(options) as session:
        for warning in session.warnings:
            print(f"autopilot-harness chat: warning: {warning}", file=sys.stderr)
        # A call is on voice: `--trigger call` without --channel talks on it (argparse's default is sms).
        channel = "voice" if getattr(args, "trigger", None) == "call" else args.channel
        conversation = session.conversation(channel=channel, user=args.user,
                                            target_task=args.target_task, memory=memory,
                                            trigger=getattr(args, "trigger", None),
                                            parameters=parse_params(getattr(args, "param", None) or []))
        scripted = args.say is not None
        messages = args.say if scripted else _prompted(stdin, chatter, echo=not args.json)
        refused = False
        for number, entry in enumerate(messages, start=1):
            # --say/--digits give (kind, value); lines from stdin are messages
            kind, text = entry if isinstance(entry, tuple) else ("say", entry)
            try:
                if isinstance(text, _Oversize):
                    raise text.error()
                turn = _press(conversation, text) if kind == "digits" else conversation.say(text)
            except HarnessError as err:
                refused = refused or isinstance(err, BudgetExceeded)
                # Name the message that broke (a failing Function says only its URL and status).
                label = f"turn {number} (digits {text})" if kind == "digits" else turn_label(number, str(text))
                message = f"{label}: {err.render()}"
                if not scripted:
                    print(Style(chatter).paint(f"! {message}", "failed"), file=chatter)
                    continue
                if not args.json:
                    print(f"autopilot-harness chat: {message}", file=sys.stderr)
                    return ExitCode.BAD_INPUT
                # Keep what happened before the failure: the transcript so far, with the error.
                data = conversation.transcript().to_dict()
                data["error"] = {"message": err.render(), "user": text, "turn": len(data["turns"])}
                _dump(data, stdout)
                print(f"autopilot-harness chat: {message}", file=sys.stderr)
                return ExitCode.BAD_INPUT
            if not args.json:
                _print_turn(turn, stdout, explain=args.explain)
                if turn.ended:
                    # A later message starts a new dialogue: mark where this one ended.
                    print("(the dialogue has ended)", file=stdout)
        if args.json:
            _dump(conversation.transcript().to_dict(), stdout)
        else:
            _print_outcome(conversation.transcript(), stdout)
    # A message refused for its size was not talked about at all: the session is not a clean one.
    return ExitCode.BAD_INPUT if refused else ExitCode.OK


def parse_params(items: list[str]) -> dict[str, Any]:
    """`--param K=V` (repeatable) → flow.data: V is read as JSON when it is JSON, else kept as text."""
    params: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--param {item!r}: expected K=V, e.g. --param appointment=2024-05-01")
        try:
            params[key.strip()] = json.loads(value)
        except ValueError:
            params[key.strip()] = value
    return params


def _press(conversation: Any, digits: str) -> Turn:
    press = getattr(conversation, "press", None)
    if press is None:
        raise UsageError("--digits is keypad input on a call through a Studio flow: give --flow FLOW.json "
                         "(and --trigger call or --channel voice)")
    return press(digits)


def turn_label(number: int, text: str) -> str:
    """`turn 2 ("I need towels")`, as scenario failures name turns (the text cut at 40 characters)."""
    shown = text if len(text) <= 40 else text[:39] + "…"
    return f"turn {number} ({json.dumps(shown, ensure_ascii=False)})"


def _dump(data: dict[str, Any], out: TextIO) -> None:
    json.dump(data, out, indent=2, default=str)
    out.write("\n")
    out.flush()


class _Oversize:
    """A stdin line longer than the utterance cap: its start and length (the rest was read and dropped)."""

    def __init__(self, head: str, length: int) -> None:
        self.head, self.length = head, length

    def __str__(self) -> str:
        return self.head

    def error(self) -> BudgetExceeded:
        limit = int_budget("MAX_UTTERANCE_BYTES")
        return BudgetExceeded(f"the line on stdin is {self.length} characters; the limit is {limit} "
                              "bytes (MAX_UTTERANCE_BYTES: Twilio Conversations accepts inbound message bodies "
                              "of up to 32 KB)", hint=how_to_raise("MAX_UTTERANCE_BYTES"))


_CHUNK = 1 << 16


def _read_line(stdin: TextIO) -> str | _Oversize:
    """One line, never more than the utterance cap (+1) in memory: a 20 MB line is read in chunks and
    dropped, keeping its start for the message."""
    limit = int_budget("MAX_UTTERANCE_BYTES")
    line = stdin.readline(limit + 1)
    if len(line) <= limit or line.endswith("\n"):
        return line
    length = len(line)
    while True:  # drain the rest of the line
        chunk = stdin.readline(_CHUNK)
        length += len(chunk)
        if not chunk or chunk.endswith("\n"):
            return _Oversize(line[:40], length - chunk.endswith("\n"))


def _prompted(stdin: TextIO, out: TextIO, *, echo: bool = True) -> Any:
    """Lines from stdin. `out` gets the banner and prompts (stderr with --json); piped lines are echoed
    as `you> …` only when `echo` (text output), so a transcript reads like a conversation. A line over the
    utterance cap comes as an `_Oversize` (refused by the caller) and is never held whole in memory."""
    interactive = stdin.isatty()
    if interactive:
        print("Talking to the bot offline. Type a message; an empty line or Ctrl-D quits.", file=out)
    while True:
        if interactive:
            out.write("you> ")
            out.flush()
        line = _read_line(stdin)
        if isinstance(line, _Oversize):
            yield line
            continue
        if not line or (interactive and not line.strip()):
            return
        text = line.rstrip("\n")
        if text.strip():
            if not interactive and echo:
                print(f"you> {text}", file=out)
            yield text


def _print_outcome(transcript: Transcript, out: TextIO) -> None:
    from harness.cli.style import Style

    handed = Style(out).paint("handoff:", "ok")
    if transcript.ended and not (transcript.turns and transcript.turns[-1].ended):  # else printed with it
        print("(the dialogue has ended)", file=out)
    if transcript.flow is not None:
        print(f"flow path: {' → '.join(transcript.flow.path)} ({transcript.flow.status})", file=out)
    handoff = transcript.handoff
    if handoff and handoff["kind"] == "flex":
        print(f"{handed} Flex task {handoff['task_sid']} in queue {handoff['queue'] or '(none)'}, "
              f"channel {handoff['task_channel']}, attributes {json.dumps(handoff['attributes'])}", file=out)
    elif handoff and handoff["kind"] == "autopilot":
        where = (f"task {handoff['task_sid']} in queue {handoff.get('queue') or '(none)'}"
                 if handoff.get("task_sid") else f"TwiML answered HTTP {handoff.get('status')}")
        print(f"{handed} Autopilot {handoff.get('channel')} handoff to {handoff.get('uri')}: {where}", file=out)
    elif handoff:
        print(f"{handed} {handoff['method']} {handoff['url']} → {handoff['status']}, "
              f"body {json.dumps(handoff['body'])}", file=out)


def _print_turn(turn: Turn, out: TextIO, *, explain: bool) -> None:
    from harness.cli.style import Style

    style = Style(out)  # colour on a terminal only; NO_COLOR wins (harness.cli.style)
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
            print(style.paint(f"  ! {step['widget']} → {step.get('event')}: {step['error']}", "failed"), file=out)
        if step.get("unmapped_flow_sid") is not None:
            sid = step["unmapped_flow_sid"] or "FW…"
            print(f"    (give chat the subflow: --subflow '{sid}=FILE')", file=out)
    for call in (*turn.webhooks, *turn.steps):  # what a Function printed while answering (console.log/error)
        for line in call.get("logs") or ():
            print(f"  fn[{line.get('level', '')}]> {line.get('message', '')}", file=out)
    for reply in turn.replies:
        print(f"{style.paint('bot>', 'bold')} {reply}", file=out)
    if turn.handoff:
        print(f"  {style.paint('handoff:', 'ok')} {json.dumps(turn.handoff)}", file=out)
    if explain and turn.routing_note:
        print(f"    why: {turn.routing_note}", file=out)
    if explain and turn.ranking:
        for candidate in turn.ranking[:5]:
            sample = f'  "{candidate.sample}"' if candidate.sample else ""
            print(f"    {candidate.score:6.3f}  {candidate.task}{sample}", file=out)
