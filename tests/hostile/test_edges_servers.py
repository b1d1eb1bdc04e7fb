"""Hostile `servers:` entries (issue 9, edges): a WSGI service the scenario names whose module fails on
import, whose factory raises or exits, or that is no WSGI app. Each is an error naming the scenario file,
the `servers:` entry and what went wrong; the other scenarios still run and the results are written.
Before the fix a factory returning None or an int was served and never called (a false pass), and a
module calling sys.exit() on import ended the whole run."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.hostile.kit import TINY_BOT, assert_refused, cli, run_suite_beside

# (row id, the module's source or None for no module at all, the attribute named, what the message says)
SERVER_ROWS = [
    ("import-raises", "raise RuntimeError('boom at import')\n", "create_app", "RuntimeError: boom at import"),
    ("import-sys-exit", "import sys\nsys.exit(3)\n", "create_app", "sys.exit(3)"),
    ("import-bare-systemexit", "raise SystemExit\n", "create_app", "sys.exit(None)"),
    ("import-missing-dependency", "import no_such_dependency_of_edges\n", "create_app",
     "ModuleNotFoundError"),
    ("import-syntax-error", "def (:\n", "create_app", "SyntaxError"),
    ("import-keyerror-without-text", "raise KeyError\n", "create_app", "KeyError"),
    ("factory-raises", "def create_app():\n    raise ValueError('factory boom')\n", "create_app",
     "ValueError: factory boom"),
    ("factory-sys-exit", "import sys\ndef create_app():\n    sys.exit(4)\n", "create_app", "sys.exit(4)"),
    ("factory-returns-none", "def create_app():\n    return None\n", "create_app", "returned None"),
    ("factory-returns-int", "def create_app():\n    return 42\n", "create_app", "returned int 42"),
    ("factory-returns-a-factory", "def create_app():\n    return lambda: None\n", "create_app",
     "not a WSGI application"),
    ("attribute-not-callable", "create_app = 5\n", "create_app", "neither a WSGI application"),
    ("attribute-takes-one-argument", "def create_app(config):\n    return None\n", "create_app",
     "neither a WSGI application"),
    ("attribute-missing", "something_else = 1\n", "create_app", "has no attribute 'create_app'"),
    ("module-missing", None, "create_app", "cannot import"),
]


def _module(folder: Path, source: str | None) -> str:
    """A uniquely named module in `folder` (imported modules are cached per name for the process)."""
    name = f"edges_service_{uuid.uuid4().hex[:12]}"
    if source is not None:
        (folder / f"{name}.py").write_text(source, encoding="utf-8")
    return name


@pytest.mark.parametrize(("source", "attribute", "says"), [row[1:] for row in SERVER_ROWS],
                         ids=[row[0] for row in SERVER_ROWS])
def test_a_broken_server_entry_fails_its_file_only(tmp_path: Path, source: str | None, attribute: str,
                                                    says: str) -> None:
    module = _module(tmp_path, source)
    text = (f"bot: {TINY_BOT.as_posix()}\n"
            "servers:\n"
            f"  - {{wsgi: \"{module}:{attribute}\", url: \"https://svc.example.com\"}}\n"
            "scenarios:\n"
            "  - name: served\n"
            "    turns:\n"
            "      - user: hello\n"
            "        expect: {task: greet}\n")
    result, document, junit = run_suite_beside(tmp_path, "bad.scenario.yaml", text)
    # Exit 2: the scenario names a service that cannot run (invalid input), not a failing conversation.
    assert_refused(result, code=2, names="bad.scenario.yaml", line=3, says=says)
    assert f"servers: '{module}:{attribute}'" in result.text or f"cannot import '{module}:{attribute}'" \
        in result.text, result.text
    bad = [case for case in document["cases"] if case["file"].endswith("bad.scenario.yaml")]
    assert bad and all(case["status"] == "error" for case in bad), bad
    assert "bad.scenario.yaml" in junit


@pytest.mark.parametrize(("source", "says"), [
    ("raise RuntimeError('boom at import')\n", "RuntimeError: boom at import"),
    ("import sys\ndef create_app():\n    sys.exit(4)\n", "sys.exit(4)"),
    ("def create_app():\n    return None\n", "returned None"),
], ids=["import-raises", "factory-exits", "factory-returns-none"])
def test_chat_server_option_refuses_a_broken_service(tmp_path: Path, source: str, says: str) -> None:
    module = _module(tmp_path, source)
    result = cli("chat", "--bot", TINY_BOT, "--server", f"https://svc.example.com={module}:create_app",
                 "--say", "hello", cwd=tmp_path)
    assert_refused(result, code=2, says=says)
    assert "--server https://svc.example.com=" in result.text, result.text


@pytest.mark.parametrize("source", [
    "def create_app():\n    def app(environ, start_response):\n        start_response('200 OK', [])\n"
    "        return [b'ok']\n    return app\n",
    "def create_app(environ, start_response):\n    start_response('200 OK', [])\n    return [b'ok']\n",
], ids=["factory", "plain-wsgi-function"])
def test_a_working_service_still_runs(tmp_path: Path, source: str) -> None:
    """The checks refuse only what cannot serve: a factory and a bare WSGI function both still work."""
    module = _module(tmp_path, source)
    result = cli("chat", "--bot", TINY_BOT, "--server", f"https://svc.example.com={module}:create_app",
                 "--say", "hello", cwd=tmp_path)
    assert result.code == 0, result.text
