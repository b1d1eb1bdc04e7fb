"""Routing latency on a generated assistant of 200 tasks x 50 samples.

    python bench/bench_routing.py [--tasks 200] [--samples 50] [--utterances 2000] [--seed 7] [--router model]

Builds a deterministic assistant (pseudo-words per topic, shared filler phrases, overlapping topics,
custom field types with synonyms, some Twilio.NUMBER / Twilio.DATE fields), then times `Router.route()`
over a mix of exact samples (tags filled with values) and paraphrases (a word dropped, a filler added,
synonyms for tag values). Prints JSON. Targets (issues 2 and 12): p50 <= 0.5 ms, training <= 1 s (`build_ms`,
and `build_cpu_ms`: CPU time, which other jobs on the machine do not inflate). `--router lexical` times the
lexical router.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.clock import FixedClock  # noqa: E402
from harness.engines.autopilot.fieldtypes import FieldResolver  # noqa: E402
from harness.engines.autopilot.routers import ROUTER_NAMES, router_class  # noqa: E402
from harness.models.assistant import Assistant, FieldType, FieldValue, Sample, Task, TaskField  # noqa: E402

PREFIXES = ["", "", "i want to", "can you", "please", "help me", "i need to", "how do i", "i would like to",
            "could you", "i need", "is it possible to", "can i"]
SUFFIXES = ["", "", "", "please", "now", "today", "for me", "right away", "thanks"]
FILLERS = ["please", "now", "really", "just", "the", "my", "some", "again", "quickly", "maybe"]
SYLLABLES = ["ka", "lo", "mi", "ren", "tu", "sa", "vor", "bel", "qui", "dan", "po", "zel", "fi", "gar", "nu",
             "tra", "wen", "xo", "yul", "ha", "brin", "cor", "del", "est", "mon", "pra", "sil", "tor"]


def _word(rng: random.Random, used: set[str]) -> str:
    while True:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
        if word not in used:
            used.add(word)
            return word


def generate_assistant(tasks: int = 200, samples: int = 50, seed: int = 7) -> Assistant:
    rng = random.Random(seed)
    used: set[str] = set()
    field_types = []
    for index in range(30):
        values = []
        for _ in range(12):
            canonical = _word(rng, used) if rng.random() < 0.8 else f"{_word(rng, used)} {_word(rng, used)}"
            values.append(FieldValue(canonical))
            if rng.random() < 0.3:
                values.append(FieldValue(_word(rng, used), synonym_of=canonical))
        field_types.append(FieldType(f"Custom.T{index}", tuple(values)))
    topics = [[_word(rng, used) for _ in range(5)] for _ in range(tasks)]
    built = []
    for index in range(tasks):
        own = topics[index]
        neighbour = topics[(index + 1) % tasks]  # overlapping vocabulary between neighbouring tasks
        fields: tuple[TaskField, ...] = ()
        if index % 5 == 0:
            fields = (TaskField("item", f"Custom.T{index % 30}"),)
        elif index % 17 == 0:
            fields = (TaskField("when", "Twilio.DATE"),)
        elif index % 19 == 0:
            fields = (TaskField("count", "Twilio.NUMBER"),)
        texts: dict[str, None] = {}
        while len(texts) < samples:
            words = rng.sample(own, rng.randint(1, 3))
            if rng.random() < 0.3:
                words.append(rng.choice(neighbour[:2]))
            if fields and rng.random() < 0.4:
                words.insert(rng.randint(0, len(words)), "{" + fields[0].unique_name + "}")
            text = " ".join(p for p in (rng.choice(PREFIXES), " ".join(words), rng.choice(SUFFIXES)) if p)
            texts[text] = None
        built.append(Task(f"task_{index:03d}", fields=fields, samples=tuple(Sample(t) for t in texts)))
    return Assistant("Generated", "Generated", tuple(built), field_types=tuple(field_types))


def _fill(text: str, task: Task, assistant: Assistant, rng: random.Random) -> str:
    for task_field in task.fields:
        tag = "{" + task_field.unique_name + "}"
        if tag not in text:
            continue
        custom = assistant.field_type(task_field.field_type)
        if custom is not None:
            value = rng.choice(custom.values).value
        else:
            value = {"Twilio.DATE": rng.choice(["tomorrow", "next friday", "march 3rd"]),
                     "Twilio.NUMBER": rng.choice(["3", "twenty five", "12"])}[task_field.field_type]
        text = text.replace(tag, value)
    return text


def utterances(assistant: Assistant, count: int, seed: int) -> list[tuple[str, str, str]]:
    """(text, expected task, kind) — half exact samples, half paraphrases."""
    rng = random.Random(seed + 1)
    out = []
    for index in range(count):
        task = rng.choice(assistant.tasks)
        sample = rng.choice(task.samples).tagged_text
        if index % 2 == 0:
            out.append((_fill(sample, task, assistant, rng), task.unique_name, "exact"))
            continue
        words = sample.split()
        if len(words) > 2:
            words.pop(rng.randrange(len(words)))
        words.insert(rng.randint(0, len(words)), rng.choice(FILLERS))
        out.append((_fill(" ".join(words), task, assistant, rng), task.unique_name, "paraphrase"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--utterances", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--router", choices=ROUTER_NAMES, default="model")
    args = parser.parse_args()
    assistant = generate_assistant(args.tasks, args.samples, args.seed)
    router_type = router_class(args.router)
    router_type(assistant, resolver=FieldResolver(assistant, FixedClock()))  # imports (numpy) out of the timing
    started, cpu = time.perf_counter(), time.process_time()
    router = router_type(assistant, resolver=FieldResolver(assistant, FixedClock()))
    build_ms = (time.perf_counter() - started) * 1000
    build_cpu_ms = (time.process_time() - cpu) * 1000
    inputs = utterances(assistant, args.utterances, args.seed)
    for text, _, _ in inputs[:200]:  # warm up (regex caches)
        router.route(text)
    timings: list[float] = []
    by_kind: dict[str, list[float]] = {"exact": [], "paraphrase": []}
    correct = {"exact": 0, "paraphrase": 0}
    totals = {"exact": 0, "paraphrase": 0}
    methods: dict[str, int] = {}
    for text, expected, kind in inputs:
        t0 = time.perf_counter_ns()
        routed = router.route(text)
        timings.append((time.perf_counter_ns() - t0) / 1e6)
        by_kind[kind].append(timings[-1])
        totals[kind] += 1
        correct[kind] += routed.task == expected
        methods[routed.method] = methods.get(routed.method, 0) + 1
    timings.sort()

    def percentile(p: float, values: list[float] = timings) -> float:
        ordered = sorted(values)
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 4)

    print(json.dumps({
        "assistant": {"tasks": args.tasks, "samples_per_task": args.samples,
                      "samples": sum(len(t.samples) for t in assistant.tasks)},
        "utterances": len(inputs),
        "router": args.router,
        "build_ms": round(build_ms, 1),
        "build_cpu_ms": round(build_cpu_ms, 1),
        "route_ms": {"p50": percentile(0.50), "p95": percentile(0.95), "p99": percentile(0.99),
                     "mean": round(statistics.fmean(timings), 4), "max": round(timings[-1], 4)},
        "route_ms_by_kind": {kind: {"p50": percentile(0.5, values), "p95": percentile(0.95, values)}
                             for kind, values in by_kind.items() if values},
        "methods": methods,
        "accuracy": {kind: round(correct[kind] / totals[kind], 4) for kind in totals if totals[kind]},
        "python": sys.version.split()[0],
    }, indent=2))


if __name__ == "__main__":
    main()
