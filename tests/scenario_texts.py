"""Scenario files shared by the tests of both faces (`run` and the pytest plugin), which must agree."""

from __future__ import annotations

from tests.conftest import EXAMPLES, ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "scenarios"
TINY_BOT = (FIXTURES / "bot.json").as_posix()  # greet: "hello" → "Hello!"; goodbye: "bye" → "Bye"
HOSPITALITY_BOT = (EXAMPLES / "hospitality" / "assistant.json").as_posix()

# Routes to greeting only with a low threshold (confidence ≈ 0.1): the pyproject threshold decides.
LOW_CONFIDENCE = f"""\
bot: {HOSPITALITY_BOT}
scenarios:
  - name: low
    turns:
      - user: "could you maybe help with pizza"
        expect: {{task: greeting}}
"""
