"""In-process Autopilot turns per second on Hospitality (turns without webhooks).

    python bench/bench_turns.py [--seconds 3] [--schema PATH]

Runs the reference conversation and its neighbours over and over on one core and prints JSON.
Target (issue 2): >= 5,000 turns/s. Uses the real export in ../shared when present, else our example.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.clock import FixedClock  # noqa: E402
from harness.engines.autopilot.runtime import AutopilotRuntime  # noqa: E402
from harness.models.assistant_loader import load_assistant  # noqa: E402

REAL = ROOT.parent / "shared" / "real" / "autopilot" / "Hospitality" / "schema.json"
EXAMPLE = ROOT / "examples" / "hospitality" / "assistant.json"
CONVERSATION = ["hi", "I need towels", "3 large towels", "i need food", "burger", "extra ketchup",
                "i need toiletries", "toothbrush", "2", "no"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--schema", type=Path, default=REAL if REAL.exists() else EXAMPLE)
    args = parser.parse_args()
    bot = AutopilotRuntime(clock=FixedClock()).train(load_assistant(args.schema))
    turns = 0
    conversations = 0
    started = time.perf_counter()
    deadline = started + args.seconds
    while time.perf_counter() < deadline:
        dialogue = bot.start()
        for text in CONVERSATION:
            if dialogue.ended:
                break
            dialogue.send(text)
            turns += 1
        conversations += 1
    elapsed = time.perf_counter() - started
    print(json.dumps({"schema": str(args.schema.relative_to(ROOT.parent)), "turns": turns,
                      "conversations": conversations, "seconds": round(elapsed, 3),
                      "turns_per_second": round(turns / elapsed), "target": 5000}))


if __name__ == "__main__":
    main()
