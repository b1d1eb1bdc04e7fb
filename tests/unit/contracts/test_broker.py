"""publish / can-i-deploy through the `pact` CLI, against a tiny fake Pact Broker on 127.0.0.1.

Needs the `pact` binary of pact-python-cli (or PACT_CLI pointing at one); those tests skip without it.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from flask import Flask, jsonify, request

from harness.cli import main
from harness.contracts import broker
from harness.engines.twilio.server import LocalServer
from harness.errors import UsageError
from tests.unit.contracts.handoffs import PACTS

try:
    broker.find_pact_cli()
    HAVE_CLI = True
except UsageError:
    HAVE_CLI = False
needs_cli = pytest.mark.skipif(not HAVE_CLI,
                               reason="the `pact` CLI is not installed (pip install pact-python-cli)")


def fake_broker(deployable_versions: set[str]) -> tuple[Flask, list[tuple[str, object]]]:
    """The endpoints the CLI calls: the HAL index, contracts/publish and the matrix."""
    app, seen = Flask("fake_broker"), []

    @app.get("/")
    def index():
        seen.append(("index", request.headers.get("Authorization")))
        base = request.host_url.rstrip("/")
        return jsonify({"_links": {"pb:publish-contracts": {"href": f"{base}/contracts/publish"}}})

    @app.post("/contracts/publish")
    def publish():
        seen.append(("publish", request.get_json()))
        return jsonify({"notices": [{"type": "success", "text": "published"}], "_links": {}})

    @app.get("/matrix")
    def matrix():
        seen.append(("matrix", request.args.to_dict(flat=False)))
        ok = request.args.get("q[][version]") in deployable_versions
        reason = "verified" if ok else "no verification results"
        return jsonify({"summary": {"deployable": ok, "reason": reason,
                                    "success": int(ok), "failed": int(not ok), "unknown": 0},
                        "matrix": [], "_links": {}})

    return app, seen


@pytest.mark.network
@needs_cli
def test_publish_sends_each_pact_file_and_no_sidecars(tmp_path: Path, monkeypatch) -> None:
    for pact in PACTS.glob("*.json"):
        (tmp_path / pact.name).write_bytes(pact.read_bytes())
    (tmp_path / ".pact-run.json").write_text("{}")  # the writer's sidecar must not be published
    monkeypatch.setenv("PACT_BROKER_TOKEN", "broker-secret-token")
    app, seen = fake_broker(set())
    with LocalServer(app) as server:
        result = broker.publish(tmp_path, version="1.2.3", broker=server.url("/"), branch="main",
                                tags=["dev"], consumer="hospitality-http")
    assert result.ok, result.output
    published = [body for kind, body in seen if kind == "publish"]
    # Only the bot's pact: the contact center's message pact is not published at the bot's version.
    assert [c["consumerName"] for body in published for c in body["contracts"]] == ["hospitality-http"]
    first = published[0]
    assert (first["pacticipantVersionNumber"], first["branch"], first["tags"]) == ("1.2.3", "main", ["dev"])
    content = json.loads(base64.b64decode(first["contracts"][0]["content"]))
    assert content["interactions"]
    assert ("index", "Bearer broker-secret-token") in seen  # the token travels by environment…
    assert "broker-secret-token" not in " ".join(result.command) + result.output  # …never on the command line


@pytest.mark.network
@needs_cli
def test_can_i_deploy_is_a_ci_gate(monkeypatch, capsys) -> None:
    app, seen = fake_broker({"1.0.0"})
    with LocalServer(app) as server:
        monkeypatch.setenv("PACT_BROKER_BASE_URL", server.url("/"))
        yes = broker.can_i_deploy("hospitality-http", "1.0.0", to_environment="production")
        assert yes.ok and "Computer says yes" in yes.output
        assert main(["contracts", "can-i-deploy", "-a", "hospitality-http", "-e", "2.0.0",
                     "--to-environment", "production"]) == 1
        assert "Computer says no" in capsys.readouterr().out
        assert main(["contracts", "publish", str(PACTS), "-a", "1.0.0", "--consumer", "hospitality-http"]) == 0
    query = next(body for kind, body in seen if kind == "matrix")
    assert query["q[][pacticipant]"] == ["hospitality-http"] and query["environment"] == ["production"]


def test_missing_cli_or_broker_is_bad_input(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("PACT_CLI", str(tmp_path / "no-such-pact"))
    with pytest.raises(UsageError, match="not an executable"):
        broker.find_pact_cli()
    assert main(["contracts", "can-i-deploy", "-a", "x", "-e", "1",
                 "--broker-url", "http://127.0.0.1:1"]) == 2
    assert "pact-python-cli" in capsys.readouterr().err
    monkeypatch.delenv("PACT_CLI")
    monkeypatch.delenv("PACT_BROKER_BASE_URL", raising=False)
    with pytest.raises(UsageError, match="no Pact Broker configured"):
        broker.broker_url(None)
    with pytest.raises(UsageError, match="no pact files"):
        broker.publish(tmp_path, version="1")


def test_publish_refuses_mixed_consumers_without_consumer(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PACT_BROKER_BASE_URL", "http://127.0.0.1:1")
    with pytest.raises(UsageError, match="several consumers"):
        broker.publish(PACTS, version="1")
    with pytest.raises(UsageError, match="no pact by consumer 'crm'"):
        broker.publish(PACTS, version="1", consumer="crm")
    assert main(["contracts", "publish", str(PACTS), "-a", "1"]) == 2


@pytest.mark.parametrize("option", [["--timeout", "-1"], ["--timeout", "0"], ["--retries", "-1"],
                                    ["--timeout", "nan"]])
def test_broker_options_out_of_range_exit_2(option: list[str], capsys) -> None:
    assert main(["contracts", "can-i-deploy", "-a", "x", "-e", "1", *option]) == 2
    assert "invalid" in capsys.readouterr().err
    with pytest.raises(UsageError):
        broker.check_broker_limits(-1, 1.0)
    with pytest.raises(UsageError):
        broker.check_broker_limits(1, 0)


@pytest.mark.network
@needs_cli
@pytest.mark.parametrize("status", [500, 401])
def test_can_i_deploy_broker_error_is_exit_2_not_no(status: int, monkeypatch, capsys) -> None:
    app = Flask("broken_broker")

    @app.get("/")
    @app.get("/matrix")
    def broken():
        return jsonify({"error": "boom"}), status

    with LocalServer(app) as server:
        result = broker.can_i_deploy("hospitality-http", "1", broker=server.url("/"), retries=0, timeout=20)
        assert not result.ok and result.broker_error, result.output
        assert main(["contracts", "can-i-deploy", "-a", "hospitality-http", "-e", "1", "--retries", "0",
                     "--broker-url", server.url("/")]) == 2
    assert "could not be asked" in capsys.readouterr().err


@pytest.mark.network
@needs_cli
def test_can_i_deploy_unreachable_broker_is_exit_2() -> None:
    assert main(["contracts", "can-i-deploy", "-a", "x", "-e", "1", "--retries", "0",
                 "--broker-url", "http://127.0.0.1:1"]) == 2
