"""Scenario suite benchmark: 1,000 generated scenarios — collection, serial and `-n 2` runs, the runner's
overhead per scenario beyond engine time, and the plugin's cost at pytest start-up.

    python bench/bench_suite.py [--kind bot|flex] [--scenarios 1000] [--files 10] [--startup-runs 15]

`--kind bot` (default): bot-only conversations, no webhooks (the cheapest scenarios: collection and
pytest's per-item cost dominate). `--kind flex`: the example Flex flow end to end — the guest talks
through `flows/flex_messaging.json`, the bot's send_to_agent task calls its Function (twilio-run), and
Send to Flex creates a task routed by `workflow.json` (engine and webhook time dominate, as in a real suite).

Targets (issue 4 §7): <= 3 ms per scenario beyond engine time; `-n 2` at least 1.6x faster than serial;
the plugin adds <= 50 ms to an empty pytest run. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "hospitality"
BOT = EXAMPLE / "assistant.json"

# Conversations with the hospitality bot, no webhooks (bot-only: the engine time is routing and Actions).
CONVERSATIONS = [
    [("hello", "task: greeting"), ("I need towels", "task: get_quantity"), ("{n}", "ended: false"),
     ("no thank you", "task: goodbye, ended: true")],
    [("I need some food", "task: order_roomservice"), ("a burger", "replies: [{{contains: allergies}}]"),
     ("no onions", "memory: {{twilio.collected_data.order_food.status: complete}}")],
    [("I need some things for my room", "task: deliver_roomitems"), ("pillows", "ended: false"),
     ("{n}", "replies: [Perfect., {{contains: dropped off}}]")],
    [("what is the weather on mars", "task: fallback"), ("hi", "task: greeting")],
]


# Through the Flex flow: a bot conversation that ends (Goodbye), or asks for an agent (Send to Flex).
FLEX_CONVERSATIONS = [
    [("hello", "task: greeting"), ("I need towels", "task: get_quantity"), ("{n}", "ended: false"),
     ("Can I talk to an agent?", "task: send_to_agent, ended: true")],
    [("I need some food", "task: order_roomservice"), ("a burger", "replies: [{{contains: allergies}}]"),
     ("no onions", "ended: false"), ("no thank you", "task: goodbye, ended: true")],
]
FLEX_EXPECT = [
    "    expect: {flow: {path: [Trigger, HotelBot, CheckHandoff, SendToConcierge]}, "
    "handoff: {flex: {attributes: {memory: {sendToAgent: true}}, queue: Housekeeping}}}",
    "    expect: {flow: {path: [Trigger, HotelBot, CheckHandoff, Goodbye]}, no_handoff: true}",
]


def file_header(kind: str) -> list[str]:
    if kind == "flex":
        return [f"bot: {BOT.as_posix()}", f"flow: {(EXAMPLE / 'flows' / 'flex_messaging.json').as_posix()}",
                f"workflow: {(EXAMPLE / 'workflow.json').as_posix()}",
                f"queues: {(EXAMPLE / 'queues.json').as_posix()}", f"functions: {EXAMPLE.as_posix()}",
                "channel: sms", "clock: 2024-05-01T09:00:00Z", "scenarios:"]
    return [f"bot: {BOT.as_posix()}", "channel: sms", "scenarios:"]


def generate(folder: Path, scenarios: int, files: int, kind: str = "bot") -> list[Path]:
    paths = []
    per_file = scenarios // files
    conversations = FLEX_CONVERSATIONS if kind == "flex" else CONVERSATIONS
    for f in range(files):
        lines = file_header(kind)
        for s in range(per_file):
            number = f * per_file + s
            conversation = conversations[number % len(conversations)]
            lines += [f"  - name: case {number}", f"    tags: [{'even' if number % 2 == 0 else 'odd'}]",
                      "    turns:"]
            for text, expect in conversation:
                lines.append(f'      - user: "{text.format(n=1 + number % 5)}"')
                lines.append(f"        expect: {{{expect.format()}}}")
            if kind == "flex":
                lines.append(FLEX_EXPECT[number % len(FLEX_EXPECT)])
        path = folder / f"generated_{f:02d}.scenario.yaml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


# Child processes may cache bytecode (as on a developer machine or CI with a warm cache): with
# PYTHONDONTWRITEBYTECODE set, every run compiles every module, which swamps what is measured here.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(command: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=CHILD_ENV)
    return time.perf_counter() - started, done


def in_process(paths: list[Path]) -> dict[str, float]:
    """run_case in this process: total, engine (inside conversation.say) and load time."""
    from harness.models.scenario import load_scenario_file
    from harness.runner.scenarios import SessionPool, run_case

    started = time.perf_counter()
    files = [load_scenario_file(p) for p in paths]
    load = time.perf_counter() - started
    engine = run = 0.0
    count = 0
    with SessionPool() as pool:
        # The first case starts the session (loads and trains the bot): a one-off, measured apart.
        first = files[0].scenarios[0]
        run_case(pool, first, file=files[0])
        for scenario_file in files:
            for scenario in scenario_file.scenarios:
                for concrete in scenario.expanded():
                    before = time.perf_counter()
                    result = run_case(pool, concrete, file=scenario_file)
                    run += time.perf_counter() - before
                    engine += result.engine_time
                    count += 1
                    assert result.passed, result.failure_text()
    cases = count
    return {"scenarios": cases, "load_s": load, "run_s": run, "engine_s": engine,
            "overhead_ms_per_scenario": (run - engine) / cases * 1000,
            "engine_ms_per_scenario": engine / cases * 1000}


def startup(runs: int, folder: Path) -> dict[str, float]:
    """An empty pytest run, with and without our plugin (interleaved; medians)."""
    empty = folder / "empty"
    empty.mkdir(exist_ok=True)
    base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(empty)]
    variants = {
        "with_plugin": base,
        "without_plugin": [*base, "-p", "no:autopilot_harness"],
        "with_plugin_no_faker_pact": [*base, "-p", "no:faker", "-p", "no:pact"],
        "without_any_optional": [*base, "-p", "no:faker", "-p", "no:pact", "-p", "no:autopilot_harness"],
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(runs):
        for name, command in variants.items():
            times[name].append(timed(command, folder)[0])
    medians = {name: statistics.median(values) for name, values in times.items()}
    # Process-to-process noise on a shared machine is tens of ms; the import itself is measured exactly.
    code = ("import time, pytest; t = time.perf_counter(); import harness.pytest_plugin; "
            "print(time.perf_counter() - t)")
    imports = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                    env=CHILD_ENV).stdout) for _ in range(runs)]
    return {**{f"{k}_s": round(v, 3) for k, v in medians.items()},
            "plugin_import_ms": round(statistics.median(imports) * 1000, 1),
            "plugin_overhead_ms": round((medians["with_plugin"] - medians["without_plugin"]) * 1000, 1),
            "plugin_overhead_ms_without_faker_pact": round(
                (medians["with_plugin_no_faker_pact"] - medians["without_any_optional"]) * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenarios", type=int, default=1000)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--startup-runs", type=int, default=15, help="0: skip the start-up measurement")
    parser.add_argument("--kind", choices=("bot", "flex"), default="bot")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        suite = folder / "suite"
        suite.mkdir()
        paths = generate(suite, args.scenarios, args.files, args.kind)
        skip = ["-p", "no:faker", "-p", "no:pact", "-p", "no:cacheprovider"]
        pytest = [sys.executable, "-m", "pytest", "-q", *skip, str(suite)]
        empty_s, _ = timed([sys.executable, "-m", "pytest", "-q", *skip, "--collect-only", str(folder / "none")],
                           folder)
        collect_s, collected = timed([*pytest, "--collect-only"], folder)
        serial_s, serial = timed(pytest, folder)
        parallel_s, parallel = timed([*pytest, "-n", "2"], folder)
        loadfile_s, loadfile = timed([*pytest, "-n", "2", "--dist", "loadfile"], folder)
        cli_s, cli = timed([sys.executable, "-m", "harness", "run", "-q", str(suite)], folder)
        for name, done in (("collect", collected), ("serial", serial), ("parallel", parallel), ("loadfile", loadfile),
                           ("cli", cli)):
            if done.returncode not in (0, 5):
                raise SystemExit(f"{name} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
        measured = in_process(paths)
        result = {
            "scenarios": measured["scenarios"],
            "files": args.files,
            "pytest_empty_s": round(empty_s, 3),
            "pytest_collect_s": round(collect_s, 3),
            "pytest_serial_s": round(serial_s, 3),
            "pytest_n2_s": round(parallel_s, 3),
            "speedup_n2": round(serial_s / parallel_s, 2),
            "pytest_n2_loadfile_s": round(loadfile_s, 3),
            "speedup_n2_loadfile": round(serial_s / loadfile_s, 2),
            "cli_run_s": round(cli_s, 3),
            "in_process_load_s": round(measured["load_s"], 3),
            "in_process_run_s": round(measured["run_s"], 3),
            "engine_ms_per_scenario": round(measured["engine_ms_per_scenario"], 3),
            "runner_overhead_ms_per_scenario": round(measured["overhead_ms_per_scenario"], 3),
            "pytest_ms_per_scenario_beyond_engine": round(
                ((serial_s - collect_s) - measured["engine_s"]) / measured["scenarios"] * 1000, 3),
            "kind": args.kind,
            "startup": startup(args.startup_runs, folder) if args.startup_runs else None,
            "cpus": os.cpu_count(),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
