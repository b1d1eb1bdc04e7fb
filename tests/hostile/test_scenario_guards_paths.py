"""Hostile paths in scenario files (issue 9, scenario guards).

Files whose content becomes scenario data — parts files (`include:`), `*_schema` files and replay recordings —
are read only from inside the project root (the folder of the nearest pyproject.toml, else the scenario file's
own folder) or a folder `allow_paths` / AUTOPILOT_HARNESS_ALLOW_PATHS allows; a refused or unparsable file's
content is never quoted in a message. Only regular files are read, at most MAX_FILE_BYTES: a folder, a device
(/dev/zero never ends), a pipe, a scenario file including itself, its golden transcripts or results, are refused.

Every case: exit 2 (or the case's error), the file and line named, no traceback, the secret marker written in
the refused file absent from all output, and the good scenario beside it still ran with results written.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.models.scenario_confine import ALLOW_PATHS_ENV
from tests.hostile.kit import GOOD_SCENARIO, TINY_BOT, assert_refused, cli, cli_subprocess, run_suite_beside

SECRET = "SECRET-MARKER-7f3a"
HEAD = f"bot: {TINY_BOT.as_posix()}\n"
PARTS = "turns:\n  - user: hello\n    expect: {task: greet}\n"


@pytest.fixture(autouse=True)
def no_allowed_paths(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # tests/conftest.py allows the checkout for the rest of the suite; these cases decide for themselves.
    monkeypatch.delenv(ALLOW_PATHS_ENV, raising=False)
    yield


def line_of(text: str, needle: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), start=1) if needle in line)


def turn_include(target: str) -> str:
    return HEAD + f"scenarios:\n  - name: a\n    turns:\n      - include: {target}\n"


def assert_not_echoed(text: str) -> None:
    assert SECRET not in text, f"the file's content was quoted:\n{text}"


def suite(tmp_path: Path) -> Path:
    """The project: tmp_path/project (no pyproject.toml above it: its own folder is the root); a secret
    file lies beside it, outside."""
    project = tmp_path / "project"
    project.mkdir()
    (tmp_path / "secret.yaml").write_text(f"turns:\n  - user: {SECRET}\n", encoding="utf-8")
    (tmp_path / "secret.json").write_text(f'{{"type": "object", "title": "{SECRET}"}}', encoding="utf-8")
    (tmp_path / "secret.jsonl").write_text(f'{{"CurrentInput": "{SECRET}"}}\n', encoding="utf-8")
    return project


# --- outside the project root ------------------------------------------------------------------------------------

OUTSIDE = [
    ("turn-include-parent", turn_include("../secret.yaml"), "include: ../secret.yaml"),
    ("file-include-parent", HEAD + "include: [../secret.yaml]\nscenarios:\n  - name: a\n    turns: [{user: hello}]\n",
     "include: [../secret.yaml]"),
    ("turn-include-absolute", turn_include("{outside}/secret.yaml"), "include: {outside}"),
    ("include-etc-passwd", turn_include("/etc/passwd"), "/etc/passwd"),
    ("include-dev-zero", turn_include("/dev/zero"), "/dev/zero"),
    ("include-dotdot-chain", turn_include("sub/../../secret.yaml"), "sub/../../secret.yaml"),
    ("body-schema-outside", HEAD + "scenarios:\n  - name: a\n    turns: [{user: hello}]\n"
                                   "    expect: {handoff: {http: {body_schema: ../secret.json}}}\n", "body_schema"),
    ("attributes-schema-outside", HEAD + "scenarios:\n  - name: a\n    turns: [{user: hello}]\n"
                                         "    expect: {handoff: {flex: {attributes_schema: ../secret.json}}}\n",
     "attributes_schema"),
    ("contract-body-schema-outside", HEAD + "contracts:\n  http: {pact_dir: pacts, consumer: c, provider: p, "
                                            "body_schema: ../secret.json}\n"
                                            "scenarios:\n  - name: a\n    turns: [{user: hello}]\n", "body_schema"),
    ("contract-response-schema-outside", HEAD + "contracts:\n  http: {pact_dir: pacts, consumer: c, provider: p, "
                                                "response_schema: ../secret.json}\n"
                                                "scenarios:\n  - name: a\n    turns: [{user: hello}]\n",
     "response_schema"),
    ("replay-requests-outside", HEAD + "scenarios:\n  - name: a\n    replay: {requests: ../secret.jsonl}\n",
     "requests"),
    ("replay-execution-outside", HEAD + "scenarios:\n  - name: a\n    replay: {execution: ../secret.json}\n",
     "execution"),
]


@pytest.mark.parametrize(("text", "needle"), [r[1:] for r in OUTSIDE], ids=[r[0] for r in OUTSIDE])
def test_a_data_file_outside_the_project_root_is_refused_unread(tmp_path: Path, text: str, needle: str) -> None:
    project = suite(tmp_path)
    text = text.replace("{outside}", tmp_path.as_posix())
    needle = needle.replace("{outside}", tmp_path.as_posix())
    result, _, _ = run_suite_beside(project, "bad.scenario.yaml", text)
    assert_refused(result, names="bad.scenario.yaml", line=line_of(text, needle), says="is outside the project root")
    assert "allow_paths" in result.text and ALLOW_PATHS_ENV in result.text, result.text
    assert_not_echoed(result.text)


def test_a_symlink_inside_the_root_to_a_file_outside_is_refused(tmp_path: Path) -> None:
    project = suite(tmp_path)
    (project / "link.yaml").symlink_to(tmp_path / "secret.yaml")
    text = turn_include("link.yaml")
    result, _, _ = run_suite_beside(project, "bad.scenario.yaml", text)
    assert_refused(result, names="bad.scenario.yaml", line=5, says="is outside the project root")
    assert_not_echoed(result.text)


def test_a_parts_file_cannot_reach_outside_either(tmp_path: Path) -> None:
    project = suite(tmp_path)
    (project / "parts").mkdir()
    (project / "parts" / "inner.yaml").write_text("turns:\n  - include: ../../secret.yaml\n", encoding="utf-8")
    result, _, _ = run_suite_beside(project, "bad.scenario.yaml", turn_include("parts/inner.yaml"))
    assert_refused(result, names="inner.yaml", line=2, says="is outside the project root")
    assert_not_echoed(result.text)


def test_the_root_is_the_folder_of_the_nearest_pyproject(tmp_path: Path) -> None:
    # A scenario in project/suite/ may include project/shared/…: the pyproject makes project/ the root.
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "greet.yaml").write_text(PARTS, encoding="utf-8")
    (tmp_path / "suite").mkdir()
    (tmp_path / "suite" / "a.scenario.yaml").write_text(turn_include("../shared/greet.yaml"), encoding="utf-8")
    result = cli("run", tmp_path / "suite")
    assert result.code == 0, result.text


@pytest.mark.parametrize("how", ["pyproject", "environment"])
def test_a_folder_outside_can_be_allowed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "greet.yaml").write_text(PARTS, encoding="utf-8")
    project = tmp_path / "project"
    project.mkdir()
    if how == "pyproject":
        (project / "pyproject.toml").write_text('[tool.autopilot-harness]\nallow_paths = ["../shared"]\n',
                                                encoding="utf-8")
    else:
        monkeypatch.setenv(ALLOW_PATHS_ENV, str(tmp_path / "shared"))
    (project / "a.scenario.yaml").write_text(turn_include("../shared/greet.yaml"), encoding="utf-8")
    result = cli("run", project / "a.scenario.yaml")
    assert result.code == 0, result.text


@pytest.mark.parametrize("value", ['"../shared"', "[1, 2]", '[""]'])
def test_a_bad_allow_paths_setting_is_named(tmp_path: Path, value: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.autopilot-harness]\nallow_paths = {value}\n", encoding="utf-8")
    (tmp_path / "a.scenario.yaml").write_text(turn_include("parts.yaml"), encoding="utf-8")
    (tmp_path / "parts.yaml").write_text(PARTS, encoding="utf-8")
    assert_refused(cli("run", tmp_path / "a.scenario.yaml", cwd=tmp_path), names="pyproject.toml",
                   says="allow_paths: expected a list of folder paths")


# --- never echoed ------------------------------------------------------------------------------------------------

NOT_ECHOED = [
    ("parts-plain-text", "parts.yaml", f"root:x:0:0:{SECRET}:/root:/bin/bash\n", "parts.yaml", 1,
     "found a plain text of"),
    ("parts-a-list", "parts.yaml", f"- {SECRET}\n- two\n", "parts.yaml", 1, "found a list of 2 items"),
    ("parts-a-number", "parts.yaml", "42\n", "parts.yaml", 1, "found a number"),
    ("parts-malformed-in-a-secret-key", "parts.yaml", f"{SECRET}: [\n  - a\nb: c\n", "parts.yaml", None,
     "malformed YAML"),
    ("parts-unclosed-quote", "parts.yaml", f'turns: "{SECRET}\n', "parts.yaml", 1, "malformed YAML"),
    ("parts-duplicate-secret-key", "parts.yaml", f"{SECRET}: 1\n{SECRET}: 2\n", "parts.yaml", 2, "duplicate key"),
    ("parts-bad-date", "parts.yaml", f"defaults:\n  memory: {{when: 2024-02-30}}\n# {SECRET}\n", "parts.yaml", None,
     "not a valid date"),
    ("parts-binary", "parts.yaml", f"\x00{SECRET}", "parts.yaml", 1, "binary data"),
]


@pytest.mark.parametrize(("name", "content", "names", "line", "says"), [r[1:] for r in NOT_ECHOED],
                         ids=[r[0] for r in NOT_ECHOED])
def test_a_bad_parts_file_is_described_not_quoted(tmp_path: Path, name: str, content: str, names: str,
                                                  line: int | None, says: str) -> None:
    (tmp_path / name).write_text(content, encoding="utf-8")
    result, _, _ = run_suite_beside(tmp_path, "bad.scenario.yaml", turn_include(name))
    assert_refused(result, names=names, line=line, says=says)
    assert_not_echoed(result.text)


SCHEMA_NOT_ECHOED = [
    ("schema-a-string", f'"{SECRET}"', "bad.scenario.yaml", "holds a plain text of"),
    ("schema-malformed", f'{{"type": "object", "{SECRET}" }}', "body.json", "malformed JSON"),
    ("schema-duplicate-key", f'{{"{SECRET}": 1, "{SECRET}": 2}}', "body.json", "duplicate key"),
    ("schema-a-list", f'["{SECRET}"]', "bad.scenario.yaml", "holds a list of 1 items"),
]


@pytest.mark.parametrize(("content", "names", "says"), [r[1:] for r in SCHEMA_NOT_ECHOED],
                         ids=[r[0] for r in SCHEMA_NOT_ECHOED])
def test_a_bad_schema_file_is_described_not_quoted(tmp_path: Path, content: str, names: str, says: str) -> None:
    (tmp_path / "body.json").write_text(content, encoding="utf-8")
    text = HEAD + ("scenarios:\n  - name: a\n    turns: [{user: hello}]\n"
                   "    expect: {handoff: {http: {body_schema: body.json}}}\n")
    result, _, _ = run_suite_beside(tmp_path, "bad.scenario.yaml", text)
    assert_refused(result, names=names, line=5 if names == "bad.scenario.yaml" else None, says=says)
    assert_not_echoed(result.text)


# --- not a parts file --------------------------------------------------------------------------------------------

def test_a_scenario_file_including_itself_is_refused(tmp_path: Path) -> None:
    text = HEAD + "include: [bad.scenario.yaml]\nscenarios:\n  - name: a\n    turns: [{user: hello}]\n"
    result, _, _ = run_suite_beside(tmp_path, "bad.scenario.yaml", text)
    assert_refused(result, names="bad.scenario.yaml", line=2, says="is this scenario file itself")


def test_a_scenario_file_splicing_itself_is_a_circular_include(tmp_path: Path) -> None:
    result, _, _ = run_suite_beside(tmp_path, "bad.scenario.yaml", turn_include("bad.scenario.yaml"))
    assert_refused(result, names="bad.scenario.yaml", line=5, says="circular include")


def test_another_scenario_file_is_no_parts_file(tmp_path: Path) -> None:
    result, _, _ = run_suite_beside(tmp_path, "bad.scenario.yaml", turn_include("good.scenario.yaml"))
    assert_refused(result, names="bad.scenario.yaml", line=5, says="is a scenario file, not a parts file")


@pytest.mark.parametrize("target", ["bad.golden/a.json", "results.json", "results.xml", "notes.txt"])
def test_goldens_results_and_other_files_are_no_parts_files(tmp_path: Path, target: str) -> None:
    (tmp_path / "bad.golden").mkdir()
    (tmp_path / target).write_text(f'{{"secret": "{SECRET}"}}', encoding="utf-8")
    result, _, _ = run_suite_beside(tmp_path, "bad.scenario.yaml", turn_include(target))
    assert_refused(result, names="bad.scenario.yaml", line=5, says="expected a .yaml or .yml file")
    assert_not_echoed(result.text)


@pytest.mark.parametrize("target", [".", "parts", "parts/"])
def test_a_folder_is_no_parts_file(tmp_path: Path, target: str) -> None:
    (tmp_path / "parts").mkdir()
    result, _, _ = run_suite_beside(tmp_path, "bad.scenario.yaml", turn_include(target))
    assert_refused(result, names="bad.scenario.yaml", line=5, says="is a folder, expected a file")


# --- devices, pipes and size -------------------------------------------------------------------------------------

DEVICES = [
    ("include-dev-zero", "include", "/dev/zero"),
    ("include-dev-urandom", "include", "/dev/urandom"),
    ("body-schema-dev-zero", "body_schema", "/dev/zero"),
    ("replay-dev-urandom", "requests", "/dev/urandom"),
]


@pytest.mark.parametrize(("key", "device"), [r[1:] for r in DEVICES], ids=[r[0] for r in DEVICES])
def test_a_device_is_refused_even_where_allowed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str,
                                                device: str) -> None:
    if not Path(device).exists():
        pytest.skip(f"{device} is absent")
    monkeypatch.setenv(ALLOW_PATHS_ENV, "/dev")  # past the root check: the read itself must refuse
    text = {"include": turn_include(device),
            "body_schema": HEAD + "scenarios:\n  - name: a\n    turns: [{user: hello}]\n"
                                  f"    expect: {{handoff: {{http: {{body_schema: {device}}}}}}}\n",
            "requests": HEAD + f"scenarios:\n  - name: a\n    replay: {{requests: {device}}}\n"}[key]
    # A child process killed after 60 s: reading /dev/zero whole never ends.
    result, _, _ = run_suite_beside(tmp_path, "bad.scenario.yaml", text, subprocess_timeout=60)
    assert_refused(result, names="bad.scenario.yaml", line=line_of(text, device), says="not a regular file")


@pytest.mark.parametrize("key", ["bot", "flow"])
def test_a_device_as_the_system_under_test_is_refused(tmp_path: Path, key: str) -> None:
    text = f"{key}: /dev/zero\nscenarios:\n  - name: a\n    turns: [{{user: hello}}]\n"
    result, _, _ = run_suite_beside(tmp_path, "bad.scenario.yaml", text, subprocess_timeout=60)
    assert_refused(result, names="bad.scenario.yaml", line=1, says="not a regular file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    result, _, _ = run_suite_beside(tmp_path, "bad.scenario.yaml", turn_include("pipe.yaml"), subprocess_timeout=60)
    assert_refused(result, names="bad.scenario.yaml", line=5, says="not a regular file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_as_the_scenario_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "good.scenario.yaml").write_text(GOOD_SCENARIO, encoding="utf-8")
    os.mkfifo(tmp_path / "pipe.scenario.yaml")
    result = cli_subprocess("run", tmp_path / "pipe.scenario.yaml", timeout=60)
    assert_refused(result, names="pipe.scenario.yaml", says="not a regular file")


def test_a_parts_file_over_the_size_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOPILOT_HARNESS_MAX_FILE_BYTES", "1000")
    (tmp_path / "big.yaml").write_text(PARTS + f"# {SECRET} " + "x" * 2000 + "\n", encoding="utf-8")
    result, _, _ = run_suite_beside(tmp_path, "bad.scenario.yaml", turn_include("big.yaml"))
    assert_refused(result, names="big.yaml", says="the limit is 1000 bytes (MAX_FILE_BYTES)")
    assert "AUTOPILOT_HARNESS_MAX_FILE_BYTES" in result.text
    assert_not_echoed(result.text)


def test_a_scenario_file_over_the_size_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOPILOT_HARNESS_MAX_FILE_BYTES", "2000")
    text = textwrap.dedent(turn_include("parts.yaml")) + "#" + "x" * 3000 + "\n"
    (tmp_path / "parts.yaml").write_text(PARTS, encoding="utf-8")
    result, _, _ = run_suite_beside(tmp_path, "big.scenario.yaml", text)
    assert_refused(result, names="big.scenario.yaml", says="MAX_FILE_BYTES")


@pytest.mark.parametrize("value", ["0", "-5", "lots"])
def test_a_bad_file_size_limit_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("AUTOPILOT_HARNESS_MAX_FILE_BYTES", value)
    (tmp_path / "a.scenario.yaml").write_text(GOOD_SCENARIO, encoding="utf-8")
    assert_refused(cli("run", tmp_path / "a.scenario.yaml"), says="AUTOPILOT_HARNESS_MAX_FILE_BYTES")
