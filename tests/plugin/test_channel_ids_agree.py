"""A channel matrix has the same ids in both faces: `pytest --collect-only` and `run --json` list the same
`file::name[row-channel-vN]` cases, and each case's golden is named by that id."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import harness.engines.autopilot.runtime
import harness.runner.scenarios  # noqa: F401  (loaded once: pytester's in-process runs drop new modules)
from harness.cli import main

pytest_plugins = ["pytester"]

TINY_BOT = (Path(__file__).resolve().parents[1] / "fixtures" / "scenarios" / "bot.json").as_posix()
SKIP_SLOW_PLUGINS = ("-p", "no:faker", "-p", "no:pact", "-p", "no:hypothesispytest", "-p", "no:benchmark")

MATRIX = f"""\
bot: {TINY_BOT}
channels: [sms, whatsapp, chat, messenger, voice]
scenarios:
  - name: greets
    turns:
      - variants: [hello, hello there]
        expect: {{task: greet}}
  - name: by row
    channels: [sms, chat]
    parametrize: [{{id: a, word: hello}}]
    turns: [{{user: "{{{{ row.word }}}}"}}]
  - name: row channel
    parametrize: [{{id: wa, channel: whatsapp}}]
    turns: [{{user: hello}}]
"""


def test_pytest_and_run_give_a_channel_matrix_the_same_ids(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyprojecttoml("[tool.pytest.ini_options]\n")
    (pytester.path / "hotel.scenario.yaml").write_text(MATRIX, encoding="utf-8")
    collected = pytester.runpytest(*SKIP_SLOW_PLUGINS, "--collect-only", "-q", "hotel.scenario.yaml")
    assert collected.ret == 0, collected.stdout.str()
    pytest_ids = sorted(line for line in collected.stdout.lines if "::" in line)

    out = tmp_path / "run.json"
    assert main(["run", "-q", "--update-golden", "--json", str(out), "hotel.scenario.yaml"]) == 0
    cases = json.loads(out.read_text(encoding="utf-8"))["cases"]
    run_ids = sorted(f"{c['file']}::{c['id']}" for c in cases)

    expected = sorted([f"hotel.scenario.yaml::greets[{channel}-v{n}]" for channel in
                       ("sms", "whatsapp", "chat", "messenger", "voice") for n in (1, 2)]
                      + ["hotel.scenario.yaml::by row[a-sms]", "hotel.scenario.yaml::by row[a-chat]",
                         "hotel.scenario.yaml::row channel[wa]"])
    assert pytest_ids == run_ids == expected
    goldens = sorted(p.name for p in (pytester.path / "hotel.golden").iterdir())
    assert "greets[messenger-v2].json" in goldens and "by_row[a-chat].json" in goldens
    assert len(goldens) == len(expected)
    # The goldens just written pass under pytest too (same ids, same files).
    assert pytester.runpytest(*SKIP_SLOW_PLUGINS, "-q", "hotel.scenario.yaml").ret == 0
