"""On GitHub Actions (`GITHUB_ACTIONS=true`): `run` and `lint` print `::error file=…,line=…,title=…::message`
workflow commands for each failure, escaped by GitHub's rules, and append a Markdown summary to
`$GITHUB_STEP_SUMMARY`. Elsewhere they print none of it.

GitHub's rules (docs.github.com, "Workflow commands for GitHub Actions": setting an error message, job
summaries; the runner's escapeData/escapeProperty): `%`→%25, CR→%0D, LF→%0A in every value; `:`→%3A and
`,`→%2C in property values."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.cli import main
from harness.cli.github import annotation, escape_data, escape_property

TINY_BOT = (Path(__file__).resolve().parents[1] / "fixtures" / "scenarios" / "bot.json").as_posix()
GOOD = f"""\
bot: {TINY_BOT}
scenarios:
  - name: hello
    turns:
      - user: hello
        expect: {{task: greet}}
"""
FAILING = f"""\
bot: {TINY_BOT}
scenarios:
  - name: wrong task, 100% sure
    turns:
      - user: bye
        expect: {{task: greet}}
"""
COMMAND = re.compile(r"^::(error|warning|notice)(?: ([^:]*))?::(.*)$")


@pytest.mark.parametrize(("value", "data", "prop"), [
    ("plain", "plain", "plain"),
    ("50% off", "50%25 off", "50%25 off"),
    ("a\nb\r\nc", "a%0Ab%0D%0Ac", "a%0Ab%0D%0Ac"),
    ("file.yaml:12, col 3", "file.yaml:12, col 3", "file.yaml%3A12%2C col 3"),
    ("%0A literal", "%250A literal", "%250A literal"),  # an escape sequence in the text stays text
])
def test_escaping_follows_githubs_rules(value: str, data: str, prop: str) -> None:
    assert escape_data(value) == data
    assert escape_property(value) == prop


def test_annotation_shape(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    line = annotation("error", "two\nlines", file="a, b.yaml", line=3, column=7, title="t: x", env={})
    assert line == "::error file=a%2C b.yaml,line=3,col=7,title=t%3A x::two%0Alines"
    assert annotation("note", "n", env={}) == "::notice::n"


@pytest.fixture
def suite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "suite").mkdir()
    (tmp_path / "suite" / "good.scenario.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "suite" / "failing.scenario.yaml").write_text(FAILING, encoding="utf-8")
    (tmp_path / "suite" / "broken.scenario.yaml").write_text("bot: x\nscenarios: [\n", encoding="utf-8")
    return tmp_path


def on_github(monkeypatch: pytest.MonkeyPatch, folder: Path) -> Path:
    summary = folder / "step-summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_WORKSPACE", str(folder))
    return summary


def commands(out: str) -> list[tuple[str, dict[str, str], str]]:
    found = []
    for line in out.splitlines():
        match = COMMAND.match(line)
        if match:
            props = dict(p.split("=", 1) for p in match.group(2).split(",")) if match.group(2) else {}
            found.append((match.group(1), props, match.group(3)))
    return found


def test_run_annotates_each_failure_and_appends_a_summary(suite: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    summary = on_github(monkeypatch, suite)
    assert main(["run", "-q", "--coverage", "suite"]) == 1
    found = commands(capsys.readouterr().out)
    assert [(level, props["file"], props.get("line")) for level, props, _ in found] == [
        ("error", "suite/broken.scenario.yaml", "3"),  # the error's own line (the YAML ends there)
        ("error", "suite/failing.scenario.yaml", "3"),  # where the scenario starts
    ]
    _, props, message = found[1]
    assert props["title"] == "scenario wrong task%2C 100%25 sure failed"
    assert "%0A" in message and "\n" not in message and 'task: expected "greet"' in message
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n## autopilot-harness run: FAILED")  # appended, not overwritten
    assert "| 1 | 1 | 1 | 0 | 3 |" in text  # passed, failed, error, deselected, total
    assert "`suite/failing.scenario.yaml:3` | wrong task, 100% sure | failed |" in text
    assert "### Coverage" in text and "tasks" in text


def test_a_green_run_annotates_nothing_but_summarises(suite: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    summary = on_github(monkeypatch, suite)
    assert main(["run", "-q", "suite/good.scenario.yaml"]) == 0
    assert commands(capsys.readouterr().out) == []
    assert "## autopilot-harness run: passed" in summary.read_text(encoding="utf-8")


def test_nothing_of_it_outside_github(suite: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(suite / "summary.md"))
    main(["run", "-q", "suite"])
    assert commands(capsys.readouterr().out) == [] and not (suite / "summary.md").exists()


def test_an_unwritable_summary_is_a_warning_not_a_crash(suite: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    on_github(monkeypatch, suite)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(suite / "missing-folder" / "summary.md"))
    assert main(["run", "-q", "suite/good.scenario.yaml"]) == 0
    assert "GITHUB_STEP_SUMMARY" in capsys.readouterr().err


def test_lint_annotates_findings_with_rule_and_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    summary = on_github(monkeypatch, tmp_path)
    (tmp_path / "broken.json").write_text('{"states": [', encoding="utf-8")
    assert main(["lint", "broken.json"]) == 2
    [(level, props, message)] = commands(capsys.readouterr().out)
    assert (level, props["file"], props["line"], props["col"]) == ("error", "broken.json", "1", "13")
    assert props["title"] == "harness/load load" and message.startswith("malformed JSON")
    assert "## autopilot-harness lint: FAILED" in summary.read_text(encoding="utf-8")


def test_lint_keeps_a_sarif_stdout_parseable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    import json

    monkeypatch.chdir(tmp_path)
    on_github(monkeypatch, tmp_path)
    (tmp_path / "broken.json").write_text('{"states": [', encoding="utf-8")
    main(["lint", "--format", "sarif", "broken.json"])
    captured = capsys.readouterr()
    assert json.loads(captured.out)["version"] == "2.1.0"
    assert commands(captured.err)  # the annotations went to stderr


def test_the_pytest_face_annotates_and_summarises_alike(suite: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`pytest` on GitHub Actions: the same annotations (file, line) for the same cases as `run`."""
    import subprocess
    import sys

    summary = on_github(monkeypatch, suite)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:faker",
                           "-p", "no:pact", "-p", "no:hypothesispytest", "suite"],
                          capture_output=True, text=True, timeout=120, cwd=suite)
    found = commands(done.stdout)
    assert sorted((props["file"], props.get("line")) for _, props, _ in found) == [
        ("suite/broken.scenario.yaml", "3"), ("suite/failing.scenario.yaml", "3")], done.stdout
    text = summary.read_text(encoding="utf-8")
    assert "## autopilot-harness scenarios (pytest): FAILED" in text and "| 1 | 1 | 1 |" in text
