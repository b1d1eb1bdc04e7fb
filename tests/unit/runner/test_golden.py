"""Golden files: `--update-golden` prunes the goldens of scenarios a file no longer has; a plain run lists them."""

from __future__ import annotations

from pathlib import Path

from harness.cli import main
from harness.runner.suite import run_suite
from tests.integration.small_bots import write, write_bot

SUITE = """bot: bot.json
scenarios:
  - name: {name}
    tags: [t]
    turns: [{{user: hi}}]
  - name: specials
    turns: [{{user: any specials}}]
"""


def test_update_golden_prunes_stale_goldens_and_a_plain_run_reports_them(tmp_path: Path, monkeypatch,
                                                                         capsys) -> None:
    write_bot(tmp_path)
    path = write(tmp_path / "g.scenario.yaml", SUITE.format(name="hello"))
    monkeypatch.chdir(tmp_path)
    assert main(["run", "-q", "--update-golden", "g.scenario.yaml"]) == 0
    write(path, SUITE.format(name="greeting"))  # renamed: hello.json is stale now
    capsys.readouterr()
    assert main(["run", "-q", "g.scenario.yaml"]) == 0
    out = capsys.readouterr().out
    assert "g.golden/hello.json" in out and "no scenario" in out
    assert run_suite(["g.scenario.yaml"]).golden_orphans == ["g.golden/hello.json"]
    # Under a filter the rest of the file did not run: nothing is removed.
    assert main(["run", "-q", "--update-golden", "--tag", "t", "g.scenario.yaml"]) == 0
    assert (tmp_path / "g.golden" / "hello.json").is_file()
    suite = run_suite(["g.scenario.yaml"], update_golden=True)
    assert suite.golden_pruned == ["g.golden/hello.json"] and suite.to_dict()["golden"]["pruned"]
    assert sorted(p.name for p in (tmp_path / "g.golden").iterdir()) == ["greeting.json", "specials.json"]
    assert "golden" not in run_suite(["g.scenario.yaml"]).to_dict()  # nothing to say: no key
