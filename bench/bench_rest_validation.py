"""REST parameter checks of the fake Twilio API: the kit's own (twilio-oai schema per parameter, wire text
read by type, jsonschema) against openapi-core's request validator, on Twilio's TaskRouter spec.

    python bench/bench_rest_validation.py [--specs ../shared/real/openapi] [--requests 500]

Prints one JSON object: import and spec-load cost, ms per valid request, and each validator's verdict on
a table of bad requests. openapi-core is measured only where it is installed (it is not a dependency).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WS, WW, WT = "WS" + "b" * 32, "WW" + "3" * 32, "WT" + "1" * 32
TASKS = f"/v1/Workspaces/{WS}/Tasks"
# (case, path, form body, should Twilio accept it?)
CASES: list[tuple[str, str, dict[str, str], bool]] = [
    ("valid, integers as wire text", TASKS, {"Priority": "3", "Timeout": "600", "WorkflowSid": WW}, True),
    ("valid boolean 'true'", f"/v1/Workspaces/{WS}/Activities", {"FriendlyName": "x", "Available": "true"}, True),
    ("wrong type: integer 'high'", TASKS, {"Priority": "high"}, False),
    ("wrong type: boolean 'yes'", f"/v1/Workspaces/{WS}/Activities", {"FriendlyName": "x", "Available": "yes"},
     False),
    ("bad enum", f"{TASKS}/{WT}", {"AssignmentStatus": "done"}, False),
    ("bad SID pattern", TASKS, {"WorkflowSid": "WW1"}, False),
    ("missing required", f"/v1/Workspaces/{WS}/Activities", {"Available": "true"}, False),
    ("unknown parameter (typo)", TASKS, {"WorkflowSID": WW}, False),
]


def import_seconds(module: str, python: str = sys.executable) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(ROOT)})
    return float(out.stdout)


def kit(specs: Path, requests: int) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from harness.engines.twilio.rest import OpenApiIndex

    started = time.perf_counter()
    index = OpenApiIndex(specs)
    load = time.perf_counter() - started
    host = "taskrouter.twilio.com"

    def accepts(path: str, data: dict[str, str]) -> bool:
        verdict = index.check("POST", host, path, data)
        return verdict.ok and not verdict.invalid

    verdicts = {case: accepts(path, data) for case, path, data, _ in CASES}
    path, data = CASES[0][1], CASES[0][2]
    started = time.perf_counter()
    for _ in range(requests):
        index.check("POST", host, path, data)
    per = (time.perf_counter() - started) / requests * 1000
    return {"import_s": round(import_seconds("harness.engines.twilio.rest"), 3),
            "load_all_4_specs_s": round(load, 3), "ms_per_valid_request": round(per, 4), "accepts": verdicts}


def openapi_core(specs: Path, requests: int) -> dict[str, Any]:
    try:
        import requests as http
        from openapi_core import OpenAPI
        from openapi_core.contrib.requests import RequestsOpenAPIRequest
    except ImportError:
        return {"skipped": "openapi-core is not installed"}
    started = time.perf_counter()
    api = OpenAPI.from_file_path(str(specs / "twilio_taskrouter_v1.json"))
    load = time.perf_counter() - started

    def request(path: str, data: dict[str, str]) -> Any:
        prepared = http.Request("POST", f"https://taskrouter.twilio.com{path}", data=data,
                                auth=("AC" + "a" * 32, "token")).prepare()  # its security check needs it
        return RequestsOpenAPIRequest(prepared)

    def accepts(path: str, data: dict[str, str]) -> bool:
        try:
            api.validate_request(request(path, data))
        except Exception:  # any refusal counts
            return False
        return True

    verdicts = {case: accepts(path, data) for case, path, data, _ in CASES}
    path, data = CASES[0][1], CASES[0][2]
    started = time.perf_counter()
    for _ in range(requests):
        api.validate_request(request(path, data))
    per = (time.perf_counter() - started) / requests * 1000
    return {"import_s": round(import_seconds("openapi_core"), 3), "load_taskrouter_spec_s": round(load, 3),
            "ms_per_valid_request": round(per, 4), "accepts": verdicts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", type=Path, default=ROOT.parent / "shared" / "real" / "openapi")
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    results = {"expected": {case: ok for case, _, _, ok in CASES},
               "kit": kit(args.specs, args.requests), "openapi_core": openapi_core(args.specs, args.requests)}
    for name in ("kit", "openapi_core"):
        accepts = results[name].get("accepts")
        if accepts:
            results[name]["wrong_verdicts"] = [c for c, ok in results["expected"].items() if accepts[c] != ok]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
