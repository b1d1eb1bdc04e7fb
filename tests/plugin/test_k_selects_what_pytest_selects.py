"""One selection language: `autopilot-harness run -k EXPR` selects exactly the cases `pytest -k EXPR`
selects on the same folders (folder names, file names, scenario names, tags, variant ids, `(file)`).

Each expression runs through both faces on the same tree; the ids pytest collects (`--collect-only -q`)
must equal the ids `run` ran (its results JSON). pytest is the reference, not our idea of it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import harness.engines.autopilot.runtime
import harness.runner.scenarios  # noqa: F401  (loaded once: pytester's in-process runs drop new modules)
from harness.cli import main
from harness.runner.selection import pytest_rootdir

pytest_plugins = ["pytester"]

TINY_BOT = (Path(__file__).resolve().parents[1] / "fixtures" / "scenarios" / "bot.json").as_posix()
SKIP_SLOW_PLUGINS = ("-p", "no:faker", "-p", "no:pact", "-p", "no:hypothesispytest", "-p", "no:benchmark")

HOTEL = f"""\
bot: {TINY_BOT}
scenarios:
  - name: guest asks for towels
    tags: [smoke]
    turns:
      - variants: [hello, hello there]
        expect: {{task: greet}}
  - name: Checkout
    tags: [billing_flow]
    turns:
      - user: bye
"""
PAY = f"""\
bot: {TINY_BOT}
scenarios:
  - name: pays the bill
    turns:
      - user: hello
"""

EXPRESSIONS = [
    "hospitality",                      # a folder below the rootdir (today's bug: 0 in run)
    "suites",                           # the top folder below the rootdir
    "hotel",                            # a file name
    "scenario.yaml and not pay",        # file names, not
    "towels",                           # a scenario name
    "CHECKOUT",                         # case-insensitive
    "smoke",                            # a tag (a marker in pytest)
    "billing",                          # a folder and a tag's substring
    "v2",                               # a variant id
    "hospitality and not smoke",        # and / not
    "pays or v1",                       # or
    "(hotel or pay) and not (v1 or smoke)",  # parentheses
    "file",                             # the broken file's `(file)` item
    "not file and not hospitality",
    "nothing-matches-this",
]


@pytest.fixture
def tree(pytester: pytest.Pytester) -> Path:
    pytester.makepyprojecttoml("[tool.pytest.ini_options]\n")  # the rootdir: its own name is no keyword
    (pytester.path / "suites" / "hospitality").mkdir(parents=True)
    (pytester.path / "suites" / "billing").mkdir()
    (pytester.path / "suites" / "hospitality" / "hotel.scenario.yaml").write_text(HOTEL, encoding="utf-8")
    (pytester.path / "suites" / "billing" / "pay.scenario.yaml").write_text(PAY, encoding="utf-8")
    (pytester.path / "suites" / "billing" / "broken.scenario.yaml").write_text("scenarios: 3\n", encoding="utf-8")
    return pytester.path


def pytest_ids(pytester: pytest.Pytester, expression: str, *paths: str) -> list[str]:
    result = pytester.runpytest(*SKIP_SLOW_PLUGINS, "--collect-only", "-q", "-k", expression, *paths)
    assert result.ret in (0, 5), result.stdout.str()
    return sorted(line for line in result.stdout.lines if "::" in line)


def run_ids(tmp: Path, expression: str, *paths: str) -> list[str]:
    out = tmp / "run.json"
    code = main(["run", "-q", "--json", str(out), "-k", expression, *paths])
    assert code in (0, 1, 2, 5)
    cases = json.loads(out.read_text(encoding="utf-8"))["cases"]
    return sorted(f"{c['file']}::{'(file)' if c['kind'] == 'file' else c['id']}" for c in cases)


def test_run_k_selects_the_ids_pytest_k_selects(pytester: pytest.Pytester, tree: Path,
                                                tmp_path_factory: pytest.TempPathFactory) -> None:
    out = tmp_path_factory.mktemp("out")
    differ = {}
    for expression in EXPRESSIONS:
        expected, got = pytest_ids(pytester, expression, "suites"), run_ids(out, expression, "suites")
        if expected != got:
            differ[expression] = {"pytest": expected, "run": got}
    assert not differ
    # The comparison is not vacuous: the folder name selects the hotel's three cases in both.
    assert len(pytest_ids(pytester, "hospitality", "suites")) == 3


def test_the_rootdir_name_is_no_keyword_in_either_face(pytester: pytest.Pytester, tree: Path,
                                                      tmp_path_factory: pytest.TempPathFactory) -> None:
    name = tree.name  # e.g. test_the_rootdir_name_is_no_keyword_in_either_face0
    assert pytest_rootdir(["suites"]) == tree
    assert pytest_ids(pytester, name, "suites") == run_ids(tmp_path_factory.mktemp("out"), name, "suites") == []


def test_a_sub_folder_given_keeps_the_folders_above_it(pytester: pytest.Pytester, tree: Path,
                                                      tmp_path_factory: pytest.TempPathFactory) -> None:
    out = tmp_path_factory.mktemp("out")
    for expression in ("suites and smoke", "hospitality"):
        expected = pytest_ids(pytester, expression, "suites/hospitality")
        assert expected and expected == run_ids(out, expression, "suites/hospitality")


@pytest.mark.parametrize("expression", ["a and", "(a", "a b", "guest asks", "a @ b", "towels(x=1)", "'open"])
def test_both_faces_refuse_the_same_expressions(pytester: pytest.Pytester, tree: Path, expression: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    result = pytester.runpytest(*SKIP_SLOW_PLUGINS, "--collect-only", "-q", "-k", expression, "suites")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert main(["run", "-q", "-k", expression, "suites"]) == 2
    assert f"-k {expression!r}" in capsys.readouterr().err
