"""The editor side, against the real tool: Red Hat's YAML language server (what VS Code's YAML extension, Neovim's
yamlls and Helix run) reads our scenario schema through the modelines we ship and document, flags what the kit
refuses, and accepts what the kit accepts (issue 14, "Editors and pre-commit").

Needs Node.js and yaml-language-server 1.x: on PATH, in node_modules/.bin, or at
$AUTOPILOT_HARNESS_YAML_LANGUAGE_SERVER (`npm install yaml-language-server@1` anywhere). Skips otherwise.
The server is spoken to over stdio (Language Server Protocol: initialize, didOpen, publishDiagnostics).
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.hostile.kit import cli

SETTINGS = {"yaml": {"validate": True, "schemaStore": {"enable": False}, "schemas": {}, "yamlVersion": "1.2"}}
DEADLINE = 60.0  # seconds for the whole conversation with the server: a hang fails the test
SETTLE = 1.5  # seconds without new diagnostics after every document has some


def _server() -> str | None:
    configured = os.environ.get("AUTOPILOT_HARNESS_YAML_LANGUAGE_SERVER")
    if configured:
        return configured
    local = ROOT / "node_modules" / ".bin" / "yaml-language-server"
    return shutil.which("yaml-language-server") or (str(local) if local.is_file() else None)


SERVER = _server()
pytestmark = pytest.mark.skipif(SERVER is None or shutil.which("node") is None,
                                reason="yaml-language-server (npm install yaml-language-server@1) or node missing")


def diagnostics(documents: dict[Path, str]) -> dict[Path, list[str]]:
    """Open each document (path → text) in one server; the messages it publishes, as 'LINE: message'."""
    assert SERVER is not None
    process = subprocess.Popen([SERVER, "--stdio"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
    inbox: queue.Queue[dict[str, Any]] = queue.Queue()

    def read() -> None:
        stream = process.stdout
        assert stream is not None
        while True:
            headers: dict[str, str] = {}
            while (line := stream.readline().decode()).strip():
                key, value = line.split(":", 1)
                headers[key.lower()] = value.strip()
            if not headers:
                return
            inbox.put(json.loads(stream.read(int(headers["content-length"]))))

    def send(message: dict[str, Any]) -> None:
        data = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert process.stdin is not None
        process.stdin.write(f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
        process.stdin.flush()

    threading.Thread(target=read, daemon=True).start()
    uris = {path.resolve().as_uri(): path for path in documents}
    found: dict[Path, list[str]] = {}
    try:
        send({"id": 1, "method": "initialize", "params": {
            "processId": os.getpid(), "rootUri": None, "capabilities": {"workspace": {"configuration": True}}}})
        send({"method": "initialized", "params": {}})
        send({"method": "workspace/didChangeConfiguration", "params": {"settings": SETTINGS}})
        for uri, path in uris.items():
            send({"method": "textDocument/didOpen", "params": {"textDocument": {
                "uri": uri, "languageId": "yaml", "version": 1, "text": documents[path]}}})
        deadline, last = time.monotonic() + DEADLINE, time.monotonic()
        while time.monotonic() < deadline:
            if len(found) == len(uris) and time.monotonic() - last > SETTLE:
                break
            try:
                message = inbox.get(timeout=0.2)
            except queue.Empty:
                continue
            if message.get("method") == "workspace/configuration":
                items = message["params"]["items"]
                send({"id": message["id"], "result": [SETTINGS.get(item.get("section")) for item in items]})
            elif "id" in message and "method" in message:
                send({"id": message["id"], "result": None})
            elif message.get("method") == "textDocument/publishDiagnostics" and message["params"]["uri"] in uris:
                found[uris[message["params"]["uri"]]] = [
                    f"{d['range']['start']['line'] + 1}: {d['message']}" for d in message["params"]["diagnostics"]]
                last = time.monotonic()
        assert len(found) == len(uris), f"the server published diagnostics for {len(found)} of {len(uris)}"
    finally:
        process.kill()
        process.wait(timeout=10)
    return found


def _scenario(modeline: str, turn_expect: str, user: str = "hello") -> str:
    return (f"# yaml-language-server: $schema={modeline}\nbot: bot.json\nscenarios:\n  - name: one\n"
            f"    turns:\n      - user: {user}\n        expect: {turn_expect}\n")


def test_the_editor_and_the_kit_agree_on_the_shipped_and_documented_modelines(tmp_path: Path) -> None:
    installed = cli("schema", "--path").out.strip()
    shutil.copy(ROOT / "tests" / "fixtures" / "scenarios" / "bot.json", tmp_path / "bot.json")
    # The bundled suite: relative modelines into the source tree.
    bundled = {path: path.read_text(encoding="utf-8") for path in sorted(ROOT.glob("scenarios/**/*.scenario.yaml"))}
    cases = {
        "new_keys": "{memory_absent: [agent], tasks_run: [greet]}",
        "yes_for_a_boolean": "{ended: yes}",
        "typo": "{taks: greet}",
        "absent_not_a_list": "{memory_absent: agent}",
    }
    written = {}
    for name, expect in cases.items():
        path = tmp_path / f"{name}.scenario.yaml"
        path.write_text(_scenario(installed, expect), encoding="utf-8")
        written[name] = path
    # A copy of the schema beside the project, named by a relative modeline (the documented team setup).
    (tmp_path / ".vscode").mkdir()
    (tmp_path / ".vscode" / "scenario.schema.json").write_text(cli("schema").out, encoding="utf-8")
    (tmp_path / "specs").mkdir()
    copied = tmp_path / "specs" / "copied.scenario.yaml"
    copied.write_text(_scenario("../.vscode/scenario.schema.json", "{ended: yes}").replace("bot.json", "../bot.json"),
                      encoding="utf-8")

    # A parts file: the documented modeline names the schema's `parts` definition.
    parts = tmp_path / "parts.yaml"
    parts.write_text("# yaml-language-server: $schema=.vscode/scenario.schema.json#/$defs/parts\n"
                     "defaults: {channel: sms}\nturns:\n  - user: hello\n    expect: {taks: greet}\n", encoding="utf-8")

    found = diagnostics({**bundled, **{p: p.read_text(encoding="utf-8")
                                       for p in [*written.values(), copied, parts]}})
    assert [d for d in found[parts] if not d.startswith("5: ")] == [] and any("taks" in d for d in found[parts])

    for path in bundled:
        assert found[path] == [], (path, found[path])  # a schema that failed to load would be a diagnostic
    assert found[written["new_keys"]] == []
    assert cli("validate", written["new_keys"]).code == 0
    # YAML 1.2: the editor reads `yes` as text, so a boolean key flags it; the kit refuses it at the same line.
    for path in (written["yes_for_a_boolean"], copied):
        assert any(d.startswith("7: ") and 'Expected "boolean"' in d for d in found[path]), found[path]
        refused = cli("validate", path)
        assert refused.code == 2 and f"{path.name}:7:" in refused.err and "`yes` is ambiguous" in refused.err
    assert any("taks" in d for d in found[written["typo"]]), found[written["typo"]]
    assert any(d.startswith("7: ") for d in found[written["absent_not_a_list"]])
    for name in ("typo", "absent_not_a_list"):
        assert cli("validate", written[name]).code == 2


def test_the_assistant_schema_loads_in_the_editor_with_its_actions_reference(tmp_path: Path) -> None:
    installed = cli("schema", "--path", "assistant").out.strip()
    export = json.loads((ROOT / "examples" / "hospitality" / "assistant.json").read_text(encoding="utf-8"))
    good = tmp_path / "assistant.yaml"  # JSON is YAML 1.2: the language server reads the export as it is
    good.write_text(f"# yaml-language-server: $schema={installed}\n{json.dumps(export, indent=1)}", encoding="utf-8")
    export["tasks"][0]["actions"]["actions"].append({"sayy": "hello"})
    bad = tmp_path / "assistant_bad.yaml"
    bad.write_text(f"# yaml-language-server: $schema={installed}\n{json.dumps(export, indent=1)}", encoding="utf-8")
    found = diagnostics({good: good.read_text(encoding="utf-8"), bad: bad.read_text(encoding="utf-8")})
    assert found[good] == []
    assert any("sayy" in d for d in found[bad]), found[bad]  # checked through actions.schema.json
