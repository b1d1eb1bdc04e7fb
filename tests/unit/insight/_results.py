"""Build `run --json`-shaped results by running the engines directly (the runner's output format)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.runner.session import Session, SessionOptions
from tests.conftest import EXAMPLES

HOSPITALITY = EXAMPLES / "hospitality"
BOT = HOSPITALITY / "assistant.json"
FLOW = HOSPITALITY / "flows" / "flex_messaging.json"
BOT_SID = "UA00000000000000000000000000000001"


def case(case_id: str, file: str, name: str, transcript: dict[str, Any], status: str = "passed",
         mismatches: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"id": case_id, "file": file, "name": name, "tags": [], "status": status, "duration": 0.01,
            "mismatches": mismatches or [], "error": None, "transcript": transcript}


def talk(options: SessionOptions, *messages: str) -> dict[str, Any]:
    with Session(options) as session:
        conversation = session.conversation()
        for text in messages:
            conversation.say(text)
        return conversation.transcript().to_dict()


def build_results() -> dict[str, Any]:
    """Two files: a bot-only suite (2 cases) and a flow suite (1 case, one failing expectation)."""
    bot_only = SessionOptions(bots={None: BOT})
    with_flow = SessionOptions(bots={BOT_SID: BOT}, flow=FLOW)
    cases = [
        case("bot.yaml::towels", "bot.yaml", "towels", talk(bot_only, "I need towels", "3")),
        case("bot.yaml::hello", "bot.yaml", "hello", talk(bot_only, "hello")),
        case("flow.yaml::goodbye", "flow.yaml", "goodbye", talk(with_flow, "I need towels", "3", "goodbye"),
             status="failed", mismatches=[{"where": "turn 3", "expected": "Bye!", "actual": "Thanks for staying",
                                           "detail": "reply differs", "path": "turns[2].replies[0]"}]),
    ]
    return {"version": 1, "started": "2023-01-02T09:00:00Z", "duration": 0.5,
            "summary": {"passed": 2, "failed": 1, "error": 0, "total": 3},
            "files": {"bot.yaml": {"bot": str(BOT), "flow": None, "error": None},
                      "flow.yaml": {"bot": {BOT_SID: str(BOT)}, "flow": str(FLOW), "error": None}},
            "cases": cases}


def write_results(folder: Path) -> Path:
    path = folder / "results.json"
    path.write_text(json.dumps(build_results(), indent=1), encoding="utf-8")
    return path
