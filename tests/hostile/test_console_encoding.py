"""A console that cannot encode a scenario's name still gets the results (issue 9: no traceback)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.hostile.kit import TINY_BOT


@pytest.mark.parametrize("encoding", ["ascii", "cp1252", "latin-1"])
def test_a_name_the_console_cannot_encode_is_escaped(tmp_path: Path, encoding: str) -> None:
    (tmp_path / "names.scenario.yaml").write_text(
        f"bot: {TINY_BOT.as_posix()}\nscenarios:\n  - name: \"café ☕ 東京\"\n    turns:\n"
        "      - user: hello\n        expect: {task: greet}\n", encoding="utf-8")
    env = {**os.environ, "PYTHONIOENCODING": encoding, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", "import sys; from harness.cli import main; sys.exit(main())",
                           "run", str(tmp_path), "-v", "--json", str(tmp_path / "r.json")],
                          capture_output=True, env=env, timeout=60)
    out = done.stdout.decode(encoding, "strict") + done.stderr.decode(encoding, "replace")
    assert done.returncode == 0, out
    assert "Traceback" not in out and "1 passed" in out
    assert "\\u2615" in out  # escaped, not lost
    assert "café ☕ 東京" in (tmp_path / "r.json").read_text(encoding="utf-8")  # the results keep the real name
