"""Colour on the terminal, the same rule for every command: on for a terminal, off for files and pipes.

`NO_COLOR` (any non-empty value, https://no-color.org) turns it off and wins over everything; else
`FORCE_COLOR` (non-empty, not `0`) turns it on even when piped (CI logs that render ANSI, e.g. GitHub
Actions); else `TERM=dumb` turns it off; else it is on when the stream is a terminal. The same precedence
as CPython's own coloured output (NO_COLOR over FORCE_COLOR).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from typing import TextIO

_CODES = {"passed": "32", "ok": "32", "failed": "31", "error": "31", "warning": "33", "bold": "1"}


def colour_wanted(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR") and env.get("FORCE_COLOR") != "0":
        return True
    if env.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream: plain text
        return False


class Style:
    """Paints text for one stream: `style.paint("F", "failed")`; plain when colour is off."""

    def __init__(self, stream: TextIO, environ: Mapping[str, str] | None = None) -> None:
        self.on = colour_wanted(stream, environ)

    def paint(self, text: str, kind: str) -> str:
        code = _CODES.get(kind)
        return f"\033[{code}m{text}\033[0m" if self.on and code and text else text


# How much human text a command prints, the same flags and meaning everywhere (run, lint, validate, verify,
# contracts, coverage, nlu-eval, report, replay): -q only the failures and the final line; -v one line
# per item (interaction, request, case, utterance…); neither: the command's usual report.
QUIET, NORMAL, VERBOSE = -1, 0, 1


def add_verbosity(parser: argparse.ArgumentParser, item: str) -> None:
    """`-v/--verbose` (one line per `item`) and `-q/--quiet` (only failures and the final line)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-v", "--verbose", action="store_true", help=f"one line per {item}")
    group.add_argument("-q", "--quiet", action="store_true", help="only failures and the final line")


def verbosity(args: argparse.Namespace) -> int:
    if getattr(args, "quiet", False):
        return QUIET
    return VERBOSE if getattr(args, "verbose", False) else NORMAL
