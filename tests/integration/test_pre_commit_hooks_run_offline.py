"""The repository's `.pre-commit-hooks.yaml` works in pre-commit itself, used as a project uses it: a
`.pre-commit-config.yaml` naming this repository (its committed HEAD) and both hooks; pre-commit installs the kit
from the repository into its own virtualenv and runs the hooks (issue 14, "Editors and pre-commit").

`pre-commit try-repo` does the same with a throw-away store: it would build the virtualenv once per call, so
the test uses a config and one store for its two runs (bad files refused, good files pass).

Needs pre-commit (`pip install pre-commit`, in the dev extra) and reaches PyPI once to build the hooks'
virtualenv (about a minute; set PRE_COMMIT_HOME to keep it between runs). Only committed changes of this
repository are seen: pre-commit clones HEAD.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

FIXTURE_BOT = ROOT / "tests" / "fixtures" / "scenarios" / "bot.json"
GOOD = """\
bot: assistant.json
scenarios:
  - name: greets
    turns:
      - user: hello
        expect: {task: greet}
"""


def _pre_commit() -> list[str] | None:
    found = shutil.which("pre-commit")
    if found:
        return [found]
    if importlib.util.find_spec("pre_commit") is not None:
        return [sys.executable, "-m", "pre_commit"]
    return None


PRE_COMMIT = _pre_commit()
pytestmark = [
    pytest.mark.skipif(PRE_COMMIT is None, reason="pre-commit is not installed (pip install pre-commit)"),
    pytest.mark.skipif(not (ROOT / ".git").exists(), reason="not a git checkout: try-repo clones the repository"),
]


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=kit@example.com", "-c", "user.name=kit", *args], cwd=cwd,
                   check=True, capture_output=True, timeout=60)


def _pre_commit_run(project: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert PRE_COMMIT is not None
    env = {**os.environ, "PRE_COMMIT_HOME": os.environ.get("PRE_COMMIT_HOME", str(home))}
    env.pop("PYTHONPATH", None)  # the hooks must run the kit installed from the repository, not this checkout
    return subprocess.run([*PRE_COMMIT, "run", *args], cwd=project, env=env, capture_output=True, text=True,
                          timeout=900)


def _config(rev: str) -> str:
    return (f"repos:\n  - repo: {ROOT.as_posix()}\n    rev: {rev}\n    hooks:\n"
            "      - id: autopilot-harness-validate\n      - id: autopilot-harness-lint\n")


def test_both_hooks_refuse_bad_files_with_their_place_and_pass_good_ones(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "flows").mkdir(parents=True)
    shutil.copy(FIXTURE_BOT, project / "assistant.json")
    (project / "flows" / "broken.json").write_text('{"states": [}', encoding="utf-8")
    (project / "good.scenario.yaml").write_text(GOOD, encoding="utf-8")
    (project / "bad.scenario.yaml").write_text(GOOD.replace("user: hello", "user: yes"), encoding="utf-8")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True,
                          timeout=60).stdout.strip()
    (project / ".pre-commit-config.yaml").write_text(_config(head), encoding="utf-8")
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "project")

    failed = _pre_commit_run(project, tmp_path / "home", "--all-files")
    text = failed.stdout + failed.stderr
    assert failed.returncode == 1, text
    assert "autopilot-harness validate (scenario files)" in text and "autopilot-harness lint" in text, text
    assert "bad.scenario.yaml:5:15: `yes` is ambiguous" in text, text
    assert "flows/broken.json:1:13: malformed JSON" in text, text
    assert "good.scenario.yaml" not in text, text  # --quiet: a valid file is not listed
    assert "Traceback" not in text, text

    passed = _pre_commit_run(project, tmp_path / "home", "--files", "good.scenario.yaml", "assistant.json")
    text = passed.stdout + passed.stderr
    assert passed.returncode == 0, text
    assert text.count("Passed") == 2, text
