"""Shared helpers of the hostile-input corpus (issue 9).

Every case states what a user gets for one bad input: the exit code, the file and place named in the message,
no traceback, and that nothing else was lost (the other scenarios still ran, the JSON/JUnit results were
written). Cases that could hang run the CLI in a subprocess with a hard timeout, so a regression fails the
test instead of stalling CI.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "scenarios"
TINY_BOT = FIXTURES / "bot.json"  # one task `greet` ("hello")

# A scenario file that passes against TINY_BOT: the "other scenario" that must still run beside a bad one.
GOOD_SCENARIO = f"""\
bot: {TINY_BOT.as_posix()}
scenarios:
  - name: still runs
    turns:
      - user: hello
        expect: {{task: greet}}
"""


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def cli(*args: str | os.PathLike[str], cwd: Path | None = None, stdin: str = "") -> CliResult:
    """`autopilot-harness ARGS` in this process (fast); use `cli_subprocess` where the input could hang."""
    from harness.cli import main

    out, err = io.StringIO(), io.StringIO()
    old_cwd, old_stdin = Path.cwd(), sys.stdin
    try:
        if cwd is not None:
            os.chdir(cwd)
        sys.stdin = io.StringIO(stdin)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([str(a) for a in args])
    finally:
        os.chdir(old_cwd)
        sys.stdin = old_stdin
    return CliResult(code, out.getvalue(), err.getvalue())


def cli_subprocess(*args: str | os.PathLike[str], cwd: Path | None = None, stdin: bytes | str = b"",
                   timeout: float = 60) -> CliResult:
    """`autopilot-harness ARGS` in a child process killed after `timeout` seconds (a hang fails the test)."""
    data = stdin.encode() if isinstance(stdin, str) else stdin
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", "import sys; from harness.cli import main; sys.exit(main())",
                           *[str(a) for a in args]], cwd=cwd, input=data, capture_output=True,
                          timeout=timeout, env=env)
    return CliResult(done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace"))


def assert_refused(result: CliResult, *, code: int = 2, names: str | os.PathLike[str] | None = None,
                   line: int | None = None, says: str | None = None) -> None:
    """A clear refusal: the exit code, no traceback, the file (and line) named, the reason stated."""
    assert "Traceback" not in result.text, result.text
    assert result.code == code, f"exit {result.code}, expected {code}:\n{result.text}"
    if names is not None:
        name = Path(names).name
        where = f"{name}:{line}" if line is not None else name
        assert where in result.text, f"{where!r} not named in:\n{result.text}"
    if says is not None:
        assert says.lower() in result.text.lower(), f"{says!r} not in:\n{result.text}"


def run_suite_beside(tmp_path: Path, name: str, text: str | bytes, *,
                     subprocess_timeout: float | None = None) -> tuple[CliResult, dict, str]:
    """`run` a folder holding one good scenario file and one bad file `name` with `--json` and `--junit`.

    Returns the CLI result, the JSON results and the JUnit XML; asserts that nothing was lost: the good
    scenario ran and passed, and both result files were written.
    """
    (tmp_path / "good.scenario.yaml").write_text(GOOD_SCENARIO, encoding="utf-8")
    bad = tmp_path / name
    bad.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        bad.write_bytes(text)
    else:
        bad.write_text(text, encoding="utf-8")
    args = ("run", tmp_path, "--json", tmp_path / "results.json", "--junit", tmp_path / "results.xml")
    result = (cli_subprocess(*args, timeout=subprocess_timeout) if subprocess_timeout
              else cli(*args))
    assert "Traceback" not in result.text, result.text
    assert (tmp_path / "results.json").exists(), f"no JSON results written:\n{result.text}"
    assert (tmp_path / "results.xml").exists(), f"no JUnit results written:\n{result.text}"
    document = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    good = [case for case in document["cases"] if case.get("file", "").endswith("good.scenario.yaml")]
    assert good and all(case["status"] == "passed" for case in good), document["cases"]
    return result, document, (tmp_path / "results.xml").read_text(encoding="utf-8")
