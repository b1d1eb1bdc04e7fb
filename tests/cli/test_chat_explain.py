"""`chat --explain` and `--json` show the router's reason."""

from __future__ import annotations

import json
from pathlib import Path

from harness.cli import main
from tests.integration.small_bots import write_bot


def test_explain_and_json_show_the_routers_reason(tmp_path: Path, capsys) -> None:
    bot = write_bot(tmp_path)
    # The lexical router's note on a lone scoring task (the model router's confidence says how sure it is).
    assert main(["chat", "--bot", str(bot), "--say", "book a table please", "--explain", "--router", "lexical"]) == 0
    text = capsys.readouterr().out
    assert "why: closest sample 'book a table'" in text
    assert "the only task that scored, so confidence is 1.0" in text
    assert main(["chat", "--bot", str(bot), "--say", "my dog is sick", "--json"]) == 0
    turn = json.loads(capsys.readouterr().out)["turns"][0]
    assert turn["task"] == "fallback"
    assert "below min_score" in turn["routing_note"] and "defaults.fallback" in turn["routing_note"]
