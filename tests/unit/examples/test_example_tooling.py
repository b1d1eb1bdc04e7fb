"""The examples under the project's own tools: the hospitality example is lint-clean, and the flow + bot
benchmark runs it."""

from __future__ import annotations

import pytest

from harness.cli import main
from tests.conftest import EXAMPLES, ROOT

BOT = EXAMPLES / "hospitality" / "assistant.json"


# --- the example passes the kit's own lint ------------------------------------------------------------


def test_the_example_is_lint_clean(capsys: pytest.CaptureFixture[str]) -> None:
    flows = sorted(str(p) for p in (EXAMPLES / "hospitality" / "flows").glob("*.json"))
    assert main(["lint", str(BOT), *flows, "--bot", str(BOT)]) == 0
    out = capsys.readouterr().out
    assert "0 error(s), 0 warning(s)" in out, out


# --- benchmark: flow + the real bot --------------------------------------------------------------------


def test_bench_studio_runs_flow_and_real_bot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    import bench_studio

    result = bench_studio.run(3)  # raises SystemExit if a conversation did not hand off
    assert result["bot"] == "real" and result["conversations"] == 3 and result["per_second"] > 0
