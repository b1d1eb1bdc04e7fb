"""Collecting scenario files: hidden folders, node_modules and the other folders pytest skips
(norecursedirs) are skipped unless named."""

from __future__ import annotations

from pathlib import Path

from harness.runner.collect import collect_files
from tests.integration.small_bots import write
from tests.unit.runner.scenario_files import PASSING, write_scenario


def test_run_skips_pytests_norecursedirs_unless_named(tmp_path: Path) -> None:
    for folder in ("build", "dist", ".hidden", "node_modules/pkg", "venv", "x.egg", "env", "ok/deeper"):
        write(tmp_path / folder / "a.scenario.yaml", "scenarios: []\n")
    write(tmp_path / "env" / "pyvenv.cfg", "home = /usr\n")  # a virtualenv under another name
    found = [p.relative_to(tmp_path).as_posix() for p in collect_files([tmp_path])]
    assert found == ["ok/deeper/a.scenario.yaml"]
    assert collect_files([tmp_path / "build"]) == [tmp_path / "build" / "a.scenario.yaml"]


def test_collect_skips_hidden_folders_and_node_modules(tmp_path: Path) -> None:
    for name in ("a.scenario.yaml", ".venv/x.scenario.yaml", "node_modules/y.scenario.yaml", "sub/c.scenario.yaml"):
        write_scenario(tmp_path, name, PASSING)
    assert [p.relative_to(tmp_path).as_posix() for p in collect_files([tmp_path])] == [
        "a.scenario.yaml", "sub/c.scenario.yaml"]
