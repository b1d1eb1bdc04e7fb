"""Golden files: written then matched byte for byte, changes shown as readable diffs, unreadable goldens,
and `--update-golden` pruning the goldens of scenarios a file no longer has (a plain run lists them)."""

from __future__ import annotations

import json
from pathlib import Path

from harness.cli import main
from harness.errors import ExitCode
from harness.models.scenario_loader import load_scenario_file
from harness.runner.golden import golden_path
from harness.runner.suite import run_suite
from tests.integration.small_bots import write, write_bot
from tests.unit.runner.scenario_files import PASSING, write_scenario

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


# --- golden files -------------------------------------------------------------------------------------


def test_golden_is_written_then_matched_and_byte_identical(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, "hotel.scenario.yaml", PASSING)
    first = run_suite([path], update_golden=True)
    golden = tmp_path / "hotel.golden" / "hello_then_bye.json"
    assert golden == golden_path(load_scenario_file(path).scenarios[0])
    assert {c.golden for c in first.cases} == {"written"}
    written = golden.read_bytes()
    document = json.loads(written)
    assert document["scenario"] == "hello then bye" and document["version"] == 2
    assert list(document) == sorted(document)  # sorted keys
    run_suite([path], update_golden=True)
    assert golden.read_bytes() == written
    again = run_suite([path])
    assert {c.golden for c in again.cases} == {"matched"} and again.exit_code == ExitCode.OK


def test_a_changed_golden_fails_with_a_readable_diff(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, "hotel.scenario.yaml", PASSING)
    run_suite([path], update_golden=True)
    golden = tmp_path / "hotel.golden" / "hello_then_bye.json"
    document = json.loads(golden.read_text(encoding="utf-8"))
    document["transcript"]["turns"][0]["task"] = "welcome"
    document["transcript"]["turns"][1]["replies"] = ["Goodbye!"]
    golden.write_text(json.dumps(document), encoding="utf-8")
    case = run_suite([path]).cases[0]
    assert case.status == "failed" and case.golden == "changed"
    text = case.failure_text()
    assert "changed since the golden run (" in text and "hello_then_bye.json" in text
    assert 'turn 1 ("hello") task: expected "welcome", got "greet"' in text
    assert 'turn 2 ("bye") reply 1: expected "Goodbye!", got "Bye"' in text


def test_golden_diff_names_handoff_paths() -> None:
    from harness.runner.golden import golden_diff

    before = {"turns": [], "handoff": {"kind": "flex", "attributes": '{"memory": {"room": "12"}}', "queue": "A"}}
    after = {"turns": [], "handoff": {"kind": "flex", "attributes": {"memory": {}}, "queue": "B"}}
    found = {m.path: (m.expected, m.actual) for m in golden_diff(before, after, "g.json")}
    assert found["handoff.queue"] == ("A", "B")
    assert repr(found["handoff.attributes.memory.room"][1]) == "(missing)"


def test_an_unreadable_golden_is_an_error(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, "hotel.scenario.yaml", PASSING)
    (tmp_path / "hotel.golden").mkdir()
    (tmp_path / "hotel.golden" / "hello_then_bye.json").write_text("{not json", encoding="utf-8")
    case = run_suite([path]).cases[0]
    assert case.status == "error" and "cannot read the golden transcript" in case.error
    assert "--update-golden" in case.error
