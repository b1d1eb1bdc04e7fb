"""Start-up time of `autopilot-harness --version` (target <= 0.3 s), median of N runs.

    python bench/bench_startup.py [--runs 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "harness", "--version"], check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    print(json.dumps({"command": "python -m harness --version", "runs": args.runs,
                      "median_s": round(statistics.median(times), 3), "max_s": round(max(times), 3),
                      "target_s": 0.3}))


if __name__ == "__main__":
    main()
