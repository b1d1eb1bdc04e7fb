"""The session pool: one started session per configuration."""

from __future__ import annotations

import textwrap
from pathlib import Path

from harness.models.scenario_loader import load_scenario_file
from harness.runner.cases import run_case
from harness.runner.pool import SessionPool
from tests.unit.runner.scenario_files import PASSING, write_scenario


def test_the_pool_starts_one_session_per_configuration(tmp_path: Path) -> None:
    one = load_scenario_file(write_scenario(tmp_path, "one.scenario.yaml", PASSING))
    two = load_scenario_file(write_scenario(tmp_path, "two.scenario.yaml", PASSING))
    other = load_scenario_file(write_scenario(tmp_path, "three.scenario.yaml", "threshold: 0.9\n" + textwrap.dedent(
        PASSING)))
    with SessionPool() as pool:
        for scenario_file in (one, two, other):
            for concrete in scenario_file.scenarios[0].expanded():
                assert run_case(pool, concrete, file=scenario_file).passed
        assert pool.started == 2
