"""Scenario files for the runner's tests: a passing and a failing file on the tiny fixture bot."""

from __future__ import annotations

import textwrap
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "scenarios"
TINY_BOT = FIXTURES / "bot.json"  # tasks greet ("hello" → "Hello!", listens) and goodbye ("bye" → "Bye", ends)

PASSING = """\
    bot: {bot}
    scenarios:
      - name: hello then bye
        tags: [smoke]
        turns:
          - user: hello
            expect: {{task: greet, replies: ["Hello!"], ended: false}}
          - user: bye
            expect: {{task: goodbye, replies: ["Bye"], ended: true}}
        expect: {{ended: true, no_handoff: true}}
      - name: variants
        turns:
          - variants: [hello, bye]
"""

FAILING = """\
    bot: {bot}
    scenarios:
      - name: wrong everywhere
        turns:
          - user: hello
            expect: {{task: goodbye}}
          - user: bye
            expect: {{replies: ["Ciao"]}}
        expect: {{memory: {{vip: true}}}}
"""


def write_scenario(folder: Path, name: str, text: str, bot: Path = TINY_BOT) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).format(bot=bot.as_posix()), encoding="utf-8")
    return path
