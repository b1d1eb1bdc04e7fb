"""FunctionsServer: the example's send-to-agent Function served by the pinned twilio-run.

Tests that start twilio-run need `npm ci` to have run in the repository root. Where twilio-run is
missing they skip only if npm is missing too (a machine without Node); with npm present a missing
twilio-run is a failure, since CI runs `npm ci` before the tests.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from harness.engines.twilio import functions as functions_module
from harness.engines.twilio.functions import (
    TWILIO_RUN_ENV,
    FunctionsServer,
    find_twilio_run,
    function_paths,
)
from harness.errors import EngineError, UsageError
from harness.models.actions import validate_actions
from tests.conftest import EXAMPLES, ROOT

HOSPITALITY = EXAMPLES / "hospitality"

# What Autopilot POSTs to an Action URL (form-encoded; Memory is a JSON string).
AUTOPILOT_FORM = {
    "AccountSid": "AC00000000000000000000000000000000",
    "AssistantSid": "UA00000000000000000000000000000001",
    "DialogueSid": "UK00000000000000000000000000000001",
    "UserIdentifier": "+15555550100",
    "CurrentInput": "Can I talk to an agent?",
    "CurrentTask": "send_to_agent",
    "CurrentTaskConfidence": "1.0",
    "NextBestTask": "",
    "DialoguePayloadUrl": "https://autopilot.twilio.com/v1/Assistants/UA00000000000000000000000000000001"
                          "/Dialogues/UK00000000000000000000000000000001",
    "Channel": "sms",
    "Memory": "{}",
}


def twilio_run_or_skip() -> Path:
    try:
        return find_twilio_run(HOSPITALITY, cwd=ROOT)
    except UsageError as err:
        if shutil.which("npm") is None:
            pytest.skip("twilio-run is not installed and npm is absent (install Node.js, then `npm ci`)")
        pytest.fail(f"{err.render()}\n(npm is present: run `npm ci` in {ROOT} before the tests)")


@pytest.fixture(scope="module")
def hospitality_functions() -> Iterator[FunctionsServer]:
    twilio_run_or_skip()
    with FunctionsServer(HOSPITALITY) as server:
        yield server


def post_send_to_agent(server: FunctionsServer, **overrides: str) -> requests.Response:
    return requests.post(server.url("/send-to-agent"), data={**AUTOPILOT_FORM, **overrides}, timeout=10)


# --- the example Function through twilio-run ---------------------------------------------------------


@pytest.mark.network
def test_the_server_lists_the_example_function_and_answers_on_loopback(
        hospitality_functions: FunctionsServer) -> None:
    assert hospitality_functions.paths == ("/send-to-agent",)
    assert hospitality_functions.base_url == f"http://127.0.0.1:{hospitality_functions.port}"
    assert hospitality_functions.startup_seconds is not None
    assert hospitality_functions.startup_seconds < 30


@pytest.mark.network
def test_send_to_agent_returns_valid_actions_that_end_the_dialogue(
        hospitality_functions: FunctionsServer) -> None:
    response = post_send_to_agent(hospitality_functions)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    document = response.json()
    validate_actions(document)  # what Autopilot would have accepted (no error 90100)
    actions = document["actions"]
    assert actions[0] == {"remember": {"sendToAgent": True}}
    assert list(actions[1]) == ["say"] and "concierge" in actions[1]["say"]
    assert not any("listen" in action for action in actions), "a listen would keep the bot talking"


@pytest.mark.network
def test_the_hold_message_mentions_an_order_already_collected(hospitality_functions: FunctionsServer) -> None:
    memory = {"twilio": {"sms": {"From": "+15555550100"},
                         "collected_data": {"order_food": {"status": "complete", "answers": {}}}}}
    with_order = post_send_to_agent(hospitality_functions, Memory=json.dumps(memory)).json()
    without = post_send_to_agent(hospitality_functions).json()
    assert "order" in with_order["actions"][1]["say"]
    assert with_order["actions"][1]["say"] != without["actions"][1]["say"]


@pytest.mark.network
@pytest.mark.parametrize("memory", ["not json", "[1, 2]", ""])
def test_a_malformed_memory_still_hands_off(hospitality_functions: FunctionsServer, memory: str) -> None:
    response = post_send_to_agent(hospitality_functions, Memory=memory)
    assert response.status_code == 200
    assert response.json()["actions"][0] == {"remember": {"sendToAgent": True}}


@pytest.mark.network
def test_stopping_ends_the_whole_process_group(tmp_path: Path) -> None:
    twilio_run_or_skip()
    with FunctionsServer(HOSPITALITY) as server:
        port = server.port
        process = server._process
        assert process is not None
        assert post_send_to_agent(server).status_code == 200
    assert process.poll() is not None
    with pytest.raises(ProcessLookupError):
        os.killpg(process.pid, 0)  # no member of its group is left
    with pytest.raises(requests.ConnectionError):
        requests.post(f"http://127.0.0.1:{port}/send-to-agent", data=AUTOPILOT_FORM, timeout=2)


@pytest.mark.network
def test_a_taken_port_is_reported_or_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    twilio_run_or_skip()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        with pytest.raises(EngineError, match="already in use"), FunctionsServer(HOSPITALITY, port=busy):
            pass
        # With no port requested, a port stolen between our pick and twilio-run's bind is retried.
        picks = iter([busy])
        real_free_port = functions_module.free_port
        monkeypatch.setattr(functions_module, "free_port", lambda: next(picks, None) or real_free_port())
        with FunctionsServer(HOSPITALITY) as server:
            assert server.port != busy
            assert post_send_to_agent(server).status_code == 200


# --- finding the folder, its Functions and twilio-run (no server needed) -----------------------------


def make_project(root: Path, files: dict[str, str], *, package_json: bool = True) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    if package_json:
        (root / "package.json").write_text('{"name": "t", "version": "0.0.0", "private": true}')
    return root


def test_function_paths_follow_twilio_naming(tmp_path: Path) -> None:
    handler = "exports.handler = (c, e, cb) => cb(null, {});"
    project = make_project(tmp_path, {
        "functions/b.js": handler,
        "functions/a/nested.js": handler,
        "functions/signed.protected.js": handler,
        "functions/helper.private.js": handler,
        "functions/notes.txt": "not a function",
    })
    assert function_paths(project) == ("/a/nested", "/b", "/signed")


def test_a_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="Functions folder not found"), FunctionsServer(tmp_path / "nope"):
        pass


def test_a_folder_without_functions_says_what_is_missing(tmp_path: Path) -> None:
    make_project(tmp_path, {"README.md": "x"})
    with pytest.raises(UsageError, match="no functions/ folder"):
        function_paths(tmp_path)
    # Given the functions/ folder itself, the hint points one level up.
    make_project(tmp_path / "functions", {"x.js": ""})
    with pytest.raises(UsageError) as caught:
        function_paths(tmp_path / "functions")
    assert caught.value.hint == "pass its parent folder"


def test_an_empty_functions_folder_and_a_missing_package_json_are_usage_errors(tmp_path: Path) -> None:
    (tmp_path / "functions").mkdir()
    (tmp_path / "package.json").write_text("{}")
    with pytest.raises(UsageError, match="holds no Functions"):
        function_paths(tmp_path)
    (tmp_path / "package.json").unlink()
    (tmp_path / "functions" / "f.js").write_text("")
    with pytest.raises(UsageError, match=r"no package\.json"):
        function_paths(tmp_path)


def test_a_missing_binary_tells_the_user_to_run_npm_ci(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    project = make_project(tmp_path / "project", {"functions/f.js": ""})
    monkeypatch.delenv(TWILIO_RUN_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError) as caught, FunctionsServer(project):
        pass
    assert "twilio-run not found" in caught.value.message
    assert "npm ci" in (caught.value.hint or "")

    monkeypatch.setenv(TWILIO_RUN_ENV, str(tmp_path / "missing" / "twilio-run"))
    with pytest.raises(UsageError, match=TWILIO_RUN_ENV) as caught, FunctionsServer(project):
        pass
    assert "npm ci" in (caught.value.hint or "")


def test_the_binary_is_found_above_the_folder_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TWILIO_RUN_ENV, raising=False)
    above_folder = fake_binary(tmp_path / "repo" / "node_modules" / ".bin" / "twilio-run", "")
    above_cwd = fake_binary(tmp_path / "elsewhere" / "node_modules" / ".bin" / "twilio-run", "")
    folder = tmp_path / "repo" / "examples" / "bot"
    folder.mkdir(parents=True)
    assert find_twilio_run(folder, cwd=tmp_path / "elsewhere") == above_folder
    assert find_twilio_run(tmp_path, cwd=tmp_path / "elsewhere") == above_cwd
    monkeypatch.setenv(TWILIO_RUN_ENV, str(above_cwd))
    assert find_twilio_run(folder, cwd=tmp_path) == above_cwd


# --- twilio-run misbehaving (a stand-in script, so no Node is needed) --------------------------------


def fake_binary(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_a_server_that_dies_while_starting_shows_its_output(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project", {"functions/f.js": ""})
    binary = fake_binary(tmp_path / "twilio-run", 'echo "Error: Cannot find module express"; exit 3')
    with pytest.raises(EngineError) as caught, FunctionsServer(project, binary=binary):
        pass
    assert "exited with code 3" in caught.value.message
    assert "Cannot find module express" in caught.value.message


def test_a_server_that_never_answers_times_out_and_is_killed(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project", {"functions/f.js": ""})
    pid_file = tmp_path / "child.pid"
    # A child that outlives a plain kill of its parent: the whole group must go.
    binary = fake_binary(tmp_path / "twilio-run", f'echo starting; sleep 60 & echo $! > {pid_file}; wait')
    began = time.monotonic()
    with pytest.raises(EngineError, match="did not answer") as caught, \
            FunctionsServer(project, binary=binary, startup_timeout=0.5):
        pass
    assert time.monotonic() - began < 10
    assert "starting" in caught.value.message
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _alive(child):
        time.sleep(0.05)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    # A zombie (exited, not yet reaped by init) counts as gone.
    try:
        state = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True,
                               check=False).stdout.strip()
    except FileNotFoundError:  # pragma: no cover - no ps
        return False
    return bool(state) and not state.startswith("Z")


def test_base_url_before_start_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="not started"):
        _ = FunctionsServer(HOSPITALITY).base_url
