"""Hostile inputs of the insight tools (issue 9, edges): `report` and `coverage` fed results of the wrong
shape, and output paths (`nlu-eval --out/--export`, `contracts generate --pact-dir`, `run --json`, `report
-o`) that name a file, a path below a file or an unwritable place. Each is exit 2 naming the file (and,
for results, the line and JSON Pointer) and what was expected; never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.hostile.kit import TINY_BOT, assert_refused, cli

VALID_CASE = {"kind": "scenario", "file": "s.scenario.yaml", "id": "a", "name": "a", "status": "passed",
              "mismatches": [], "transcript": {"turns": [{"user": "hi", "steps": [], "replies": ["hello"]}]}}


def _results(**changes: object) -> str:
    document = {"version": 1, "files": {}, "cases": [json.loads(json.dumps(VALID_CASE))], **changes}
    return json.dumps(document, indent=2)


def _case(**changes: object) -> str:
    case = {**json.loads(json.dumps(VALID_CASE)), **changes}
    return json.dumps({"version": 1, "files": {}, "cases": [case]}, indent=2)


def _turn(**changes: object) -> str:
    turn = {"user": "hi", **changes}
    return _case(transcript={"turns": [turn]})


# (row id, the file name, its text, what the message says: a pointer and what was expected)
RESULTS_ROWS = [
    ("a-json-list", "results.json", "[]", "found an empty list"),
    ("a-json-string", "results.json", '"results"', 'found "results"'),
    ("object-without-cases", "results.json", '{"version": 1, "files": {}}', "without a 'cases' list"),
    ("cases-is-an-object", "results.json", '{"version": 1, "cases": {"a": 1}}', "without a 'cases' list"),
    ("unknown-version", "results.json", '{"version": 7, "cases": []}', "results version 7 is not supported"),
    ("case-is-a-number", "results.json", '{"version": 1, "cases": [3]}', "(/cases/0): expected an object"),
    ("case-without-file", "results.json", json.dumps({"version": 1, "cases": [{"id": "a"}]}),
     "missing required key 'file'"),
    ("case-file-is-a-list", "results.json", _case(file=["a"]), "(/cases/0/file)"),
    ("transcript-is-text", "results.json", _case(transcript="hi"), "(/cases/0/transcript)"),
    ("turns-is-text", "results.json", _case(transcript={"turns": "hi"}),
     "(/cases/0/transcript/turns): expected a list of turn objects"),
    ("turn-is-null", "results.json", _case(transcript={"turns": [None]}), "(/cases/0/transcript/turns/0)"),
    ("steps-is-a-number", "results.json", _turn(steps=3), "/cases/0/transcript/turns/0/steps"),
    ("step-is-text", "results.json", _turn(steps=["x"]), "/cases/0/transcript/turns/0/steps/0"),
    ("fields-is-a-number", "results.json", _turn(fields=1), "/cases/0/transcript/turns/0/fields"),
    ("ranking-is-text", "results.json", _turn(ranking="x"), "/cases/0/transcript/turns/0/ranking"),
    ("wait-is-text", "results.json", _turn(wait="long", user=""), "/cases/0/transcript/turns/0/wait"),
    ("collected-data-is-a-number", "results.json", _turn(memory={"twilio": {"collected_data": 1}}),
     "/cases/0/transcript/turns/0/memory/twilio/collected_data"),
    ("mismatches-is-text", "results.json", _case(mismatches="bad"), "(/cases/0/mismatches)"),
    ("files-is-a-list", "results.json", _results(files=[]), "(/files)"),
    ("files-entry-is-a-number", "results.json", _results(files={"s.scenario.yaml": 1}),
     "(/files/s.scenario.yaml)"),
    ("summary-is-a-number", "results.json", _results(summary=5), "(/summary)"),
    ("not-json", "results.json", "hello", "malformed JSON"),
    ("empty-file", "results.json", "", "the file is empty"),
    ("junit-xml", "results.xml", '<?xml version="1.0"?>\n<testsuites><testsuite name="x"/></testsuites>\n',
     "this looks like XML (JUnit?)"),
]


@pytest.mark.parametrize("command", ["report", "coverage"])
@pytest.mark.parametrize(("name", "text", "says"), [row[1:] for row in RESULTS_ROWS],
                         ids=[row[0] for row in RESULTS_ROWS])
def test_results_of_the_wrong_shape_are_exit_2_naming_the_place(tmp_path: Path, command: str, name: str,
                                                                 text: str, says: str) -> None:
    results = tmp_path / name
    results.write_text(text, encoding="utf-8")
    result = cli(command, results, "-o", tmp_path / "out.html")
    assert_refused(result, code=2, names=name, says=says)
    assert not (tmp_path / "out.html").exists()


def test_results_not_utf8_are_exit_2(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    results.write_bytes(b"\xff\xfe\x00{")
    for command in ("report", "coverage"):
        assert_refused(cli(command, results), code=2, names="results.json", says="not UTF-8")


def test_well_formed_results_still_render(tmp_path: Path) -> None:
    """The schema constrains only what the tools read: a real run's results still make a report."""
    good = tmp_path / "good.json"
    run = cli("run", ROOT / "tests" / "fixtures" / "scenarios" / "valid.yaml", "--json", good)
    assert good.exists(), run.text
    assert cli("report", good, "-o", tmp_path / "r.html").code == 0
    assert cli("coverage", good).code == 0


# --- output paths ------------------------------------------------------------------------------------------


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    return blocker


# (row id, the command's arguments with {file} for a plain file and {tmp} for the test folder, the option,
# what the message says)
OUTPUT_ROWS = [
    ("nlu-out-is-a-file", ["nlu-eval", str(TINY_BOT), "--folds", "2", "--out", "{file}"], "--out",
     "is a file, expected a folder"),
    ("nlu-out-below-a-file", ["nlu-eval", str(TINY_BOT), "--folds", "2", "--out", "{file}/reports"], "--out",
     "a-file is a file, not a folder"),
    ("nlu-out-unwritable", ["nlu-eval", str(TINY_BOT), "--folds", "2", "--out", "/proc/edges-reports"], "--out",
     "cannot create the folder"),
    ("nlu-export-below-a-file", ["nlu-eval", str(TINY_BOT), "--folds", "2", "--export", "{file}/s.csv"],
     "--export", "a-file is a file, not a folder"),
    ("nlu-export-is-a-folder", ["nlu-eval", str(TINY_BOT), "--folds", "2", "--export", "{tmp}/dir.csv"],
     "--export", "is a folder"),
    ("nlu-export-unwritable", ["nlu-eval", str(TINY_BOT), "--folds", "2", "--export", "/proc/edges.csv"],
     "--export", "cannot write"),
    ("generate-pact-dir-is-a-file", ["contracts", "generate", "--schema",
                                     str(ROOT / "contracts" / "schemas" / "flex-attributes.schema.json"),
                                     "--pact-dir", "{file}"], "--pact-dir", "is a file, expected a folder"),
    ("generate-pact-dir-below-a-file", ["contracts", "generate", "--schema",
                                        str(ROOT / "contracts" / "schemas" / "flex-attributes.schema.json"),
                                        "--pact-dir", "{file}/pacts"], "--pact-dir", "a-file is a file, not a folder"),
    ("run-json-below-a-file", ["run", str(ROOT / "tests" / "fixtures" / "scenarios" / "valid.yaml"),
                               "--json", "{file}/r.json"], "--json", "a-file is a file, not a folder"),
    ("run-junit-below-a-file", ["run", str(ROOT / "tests" / "fixtures" / "scenarios" / "valid.yaml"),
                                "--junit", "{file}/r.xml"], "--junit", "a-file is a file, not a folder"),
    ("report-output-below-a-file", ["report", "{tmp}/results.json", "-o", "{file}/r.html"], "-o",
     "a-file is a file, not a folder"),
    ("coverage-output-below-a-file", ["coverage", "{tmp}/results.json", "-o", "{file}/c.txt"], "-o",
     "a-file is a file, not a folder"),
]


@pytest.mark.parametrize(("args", "option", "says"), [row[1:] for row in OUTPUT_ROWS],
                         ids=[row[0] for row in OUTPUT_ROWS])
def test_an_output_path_that_cannot_be_written_is_exit_2(tmp_path: Path, a_file: Path, args: list[str],
                                                         option: str, says: str) -> None:
    (tmp_path / "dir.csv").mkdir()
    (tmp_path / "results.json").write_text(_results(), encoding="utf-8")
    argv = [a.replace("{file}", str(a_file)).replace("{tmp}", str(tmp_path)) for a in args]
    result = cli(*argv)
    assert_refused(result, code=2, says=says)
    assert f"{option} " in result.text, result.text
    assert a_file.read_text(encoding="utf-8") == "x"  # nothing written over or beside the file in the way


def test_nlu_eval_out_writes_into_a_new_folder(tmp_path: Path) -> None:
    result = cli("nlu-eval", TINY_BOT, "--folds", "2", "--out", tmp_path / "new" / "reports")
    assert result.code == 0, result.text
    assert (tmp_path / "new" / "reports" / "report.json").is_file()
