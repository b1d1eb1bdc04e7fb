"""A reader that goes away (`lint --format json | head`): no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.small_bots import write, write_bot

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_lint_into_a_closed_pipe_prints_no_traceback(tmp_path: Path, fmt: str) -> None:
    # Enough findings to overflow the pipe buffer, so the write really meets the closed pipe.
    data = json.loads(write_bot(tmp_path).read_text())
    data["tasks"] += [{"uniqueName": f"t{i}", "actions": {"actions": [{"say": "x"}]}, "fields": [],
                       "samples": []} for i in range(1500)]
    bot = write(tmp_path / "big.json", json.dumps(data))
    command = f"{sys.executable} -m harness lint {bot} --format {fmt} | head -2"
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, cwd=ROOT, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert len(done.stdout.splitlines()) == 2
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr
