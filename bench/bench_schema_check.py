"""The scenario schema's valid/invalid test: jsonschema-rs (the schema compiled in Rust, what the loader
uses) against plain jsonschema, on the bundled scenario files and on a generated suite
(bench_suite.generate), plus its agreement with jsonschema on mutated files.

    python bench/bench_schema_check.py [--scenarios 1000] [--files 10] [--repeat 5] [--old-fast-check F]

Prints one JSON object (ms for all documents, best of --repeat). `--old-fast-check` takes a copy of the
removed hand-written check (`git show 6938c44:harness/models/fastcheck.py > F`) to measure it too.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_suite import generate  # noqa: E402
from harness.models.scenario_schema import scenario_validator  # noqa: E402
from harness.models.scenario_yaml import plain  # noqa: E402
from harness.sources import load_source  # noqa: E402
from tests.integration.test_schema_precheck import mutated  # noqa: E402


def best_ms(check: Callable[[Any], bool], documents: list[Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        for document in documents:
            check(document)
        times.append(time.perf_counter() - started)
    return round(min(times) * 1000, 2)


def import_ms(module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return round(float(out.stdout) * 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=1000)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--old-fast-check", type=Path)
    args = parser.parse_args()
    validator = scenario_validator()
    checks: dict[str, Callable[[Any], bool]] = {"jsonschema": validator.is_valid}
    compile_ms = {}
    if args.old_fast_check:
        import importlib.util

        spec = importlib.util.spec_from_file_location("old_fastcheck", args.old_fast_check)
        assert spec is not None and spec.loader is not None
        old = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(old)
        started = time.perf_counter()
        checks["fast_check"] = old.compile_fast_check(validator.schema)
        compile_ms["fast_check"] = round((time.perf_counter() - started) * 1000, 2)
    try:
        import jsonschema_rs
    except ImportError:
        jsonschema_rs = None
    if jsonschema_rs is not None:
        started = time.perf_counter()
        rust = jsonschema_rs.Draft202012Validator(validator.schema, validate_formats=False)
        compile_ms["jsonschema_rs"] = round((time.perf_counter() - started) * 1000, 2)
        checks["jsonschema_rs"] = rust.is_valid
    bundled = [plain(load_source(p).data) for p in sorted(ROOT.glob("scenarios/**/*.scenario.yaml"))]
    with tempfile.TemporaryDirectory() as folder:
        generated = [plain(load_source(p).data) for p in generate(Path(folder), args.scenarios, args.files)]
    rng = random.Random(7)
    broken = [mutated(document, rng) for document in bundled for _ in range(40)]
    results: dict[str, Any] = {
        "documents": {"bundled_files": len(bundled), "generated_files": len(generated),
                      "generated_scenarios": args.scenarios, "mutated": len(broken)},
        "compile_ms": compile_ms,
        "import_ms": {"jsonschema_rs": import_ms("jsonschema_rs")} if jsonschema_rs else {},
    }
    for name, documents in (("bundled", bundled), ("generated", generated), ("mutated", broken)):
        results[f"ms_{name}"] = {check: best_ms(fn, documents, args.repeat) for check, fn in checks.items()}
    results["disagreements_with_jsonschema"] = {
        check: sum(fn(d) != validator.is_valid(d) for d in [*bundled, *generated, *broken])
        for check, fn in checks.items() if check != "jsonschema"}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
