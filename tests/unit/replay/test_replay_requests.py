"""Replaying captured Autopilot requests against an endpoint (a Flask app on LocalServer; one twilio-run test)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask, jsonify, request
from twilio.request_validator import RequestValidator

from harness.cli import main
from harness.engines.twilio.server import LocalServer
from harness.errors import LoadError, UsageError
from harness.runner.replay import exact_diff, load_requests, replay_requests
from tests.conftest import EXAMPLES, ROOT, real_files, real_path

pytestmark = pytest.mark.network

PROD = "https://bot-1234.twil.io"
TOKEN = "replay-test-token"
JOVO = real_files("autopilot/requests/jovo")


def _bot_app(seen: list[dict]) -> Flask:
    """A user's endpoint: checks Twilio's signature over the production URL, answers by CurrentTask."""
    app = Flask("bot")
    validator = RequestValidator(TOKEN)

    @app.post("/bot")
    def bot():
        form = request.form.to_dict()
        signed = validator.validate(PROD + "/bot", form, request.headers.get("X-Twilio-Signature", ""))
        seen.append({"form": form, "signed": signed})
        if not signed:
            return "bad signature", 403
        task = form.get("CurrentTask")
        if task == "goodbye":
            return jsonify({"actions": [{"say": "Goodbye!"}]})
        memory = json.loads(form.get("Memory") or "{}")
        return jsonify({"actions": [{"say": f"You said {form.get('CurrentInput')}"},
                                    {"remember": {"channel": form.get("Channel"),
                                                  "has_twilio": "twilio" in memory}},
                                    {"listen": True}]})

    @app.post("/broken")
    def broken():
        return jsonify({"actions": [{"say": "hi"}, {"listen": "yes please"}]})

    return app


@pytest.fixture(scope="module")
def endpoint():
    seen: list[dict] = []
    with LocalServer(_bot_app(seen)) as server:
        yield server, seen


def _replay(records, server, **kwargs):
    return replay_requests(records, url_map={PROD: server.base_url}, auth_token=TOKEN, **kwargs)


@pytest.mark.real
@pytest.mark.skipif(not JOVO, reason="shared/real is absent")
def test_the_real_jovo_samples_replay_signed_with_memory_as_a_json_string(endpoint, tmp_path) -> None:
    server, seen = endpoint
    before = len(seen)
    result = replay_requests(real_path("autopilot/requests/jovo/IntentRequest.json"), url_map={PROD: server.base_url},
                             auth_token=TOKEN, default_url=PROD + "/bot")
    assert result.ok, result.render()
    got = seen[before]
    assert got["signed"] and got["form"]["CurrentInput"] == "Hello World"
    assert json.loads(got["form"]["Memory"])["twilio"]["chat"]["From"] == "user"
    assert result.outcomes[0].actions["actions"][0] == {"say": "You said Hello World"}


@pytest.mark.real
@pytest.mark.skipif(not JOVO, reason="shared/real is absent")
def test_jovo_samples_with_an_expect_subset(endpoint) -> None:
    server, _ = endpoint
    records = []
    for path in JOVO:
        record = json.loads(path.read_text())
        record["url"] = PROD + "/bot"
        record["expect"] = {"actions": [{"say": "Goodbye!"}]} if record["CurrentTask"] == "goodbye" else \
            {"actions": [{"say": f"You said {record['CurrentInput']}"}, {"remember": {"channel": "chat"}},
                         {"listen": True}]}
        records.append(record)
    result = _replay(records, server)
    assert result.ok, result.render()
    assert len(result.outcomes) == 3


def test_a_recorded_response_is_compared_exactly_with_json_paths(endpoint) -> None:
    server, _ = endpoint
    record = {"url": PROD + "/bot", "params": {"CurrentTask": "greeting", "CurrentInput": "hi",
                                               "Memory": {"twilio": {}}, "Channel": "sms"},
              "response": {"actions": [{"say": "You said hello"},
                                       {"remember": {"channel": "sms", "has_twilio": True}}]}}
    result = _replay([record], server)
    assert not result.ok
    outcome = result.outcomes[0]
    assert outcome.status == "different"
    paths = {d.path: d for d in outcome.differences}
    assert set(paths) == {"actions[0].say", "actions[2]"}
    text = result.render()
    assert 'actions[0].say: expected "You said hello", got "You said hi"' in text
    assert "actions[2]: not recorded, the answer has" in text
    # an extra action fails both modes (a subset's lists keep their length) …
    record["response"]["actions"][0]["say"] = "You said hi"
    assert not _replay([record], server).ok
    assert not _replay([record], server, match="subset").ok
    # … while a subset ignores keys the recording lacks inside an action
    record["response"]["actions"][1]["remember"].pop("has_twilio")
    record["response"]["actions"].append({"listen": True})
    assert not _replay([record], server).ok
    assert _replay([record], server, match="subset").ok


def test_memory_given_as_an_object_is_sent_as_a_json_string(endpoint) -> None:
    server, seen = endpoint
    before = len(seen)
    _replay([{"url": PROD + "/bot", "CurrentTask": "x", "Memory": {"twilio": {"sms": {}}}, "Retry": 2,
              "Flag": True}], server)
    form = seen[before]["form"]
    assert json.loads(form["Memory"]) == {"twilio": {"sms": {}}}
    assert form["Retry"] == "2" and form["Flag"] == "true"


def test_invalid_actions_are_reported_with_their_pointer(endpoint) -> None:
    server, _ = endpoint
    result = _replay([{"url": PROD + "/broken", "CurrentTask": "x"}], server)
    outcome = result.outcomes[0]
    assert outcome.status == "invalid" and not result.ok
    assert any(problem.startswith("/actions/1") for problem in outcome.problems), outcome.problems
    assert "error 90100" in result.render()


def test_an_unsigned_request_fails_as_the_endpoint_answers_403(endpoint) -> None:
    server, _ = endpoint
    result = replay_requests([{"url": PROD + "/bot", "CurrentTask": "x"}], url_map={PROD: server.base_url},
                             auth_token="another-token")
    assert result.outcomes[0].status == "error"
    assert "HTTP 403" in (result.outcomes[0].error or "")


def test_jsonl_input_and_its_errors(tmp_path) -> None:
    good = tmp_path / "captured.jsonl"
    good.write_text('{"url": "https://a.twil.io/x", "CurrentTask": "a"}\n\n'
                    '{"url": "https://a.twil.io/y", "params": {"CurrentTask": "b"}, "method": "get"}\n')
    records = load_requests(good)
    assert [(r.url, r.method, r.params) for r in records] == [
        ("https://a.twil.io/x", "POST", {"CurrentTask": "a"}), ("https://a.twil.io/y", "GET", {"CurrentTask": "b"})]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"url": "https://a.twil.io/x"}\n{"url": \n')
    with pytest.raises(LoadError) as err:
        load_requests(bad)
    assert err.value.location.line == 2
    nourl = tmp_path / "nourl.json"
    nourl.write_text('[{"CurrentTask": "a"}]')
    with pytest.raises(UsageError, match="no URL"):
        load_requests(nourl)
    assert load_requests(nourl, default_url="https://a.twil.io/z")[0].url == "https://a.twil.io/z"


def test_exact_diff_counts_extra_keys_and_type_changes() -> None:
    diffs = exact_diff({"a": 1, "b": [1, 2]}, {"a": "1", "b": [1], "c": None})
    assert [(d.path, d.reason) for d in diffs] == [("a", ""), ("b[1]", "missing"), ("c", "not recorded")]


def test_cli_exit_codes_and_json(endpoint, tmp_path, capsys) -> None:
    server, _ = endpoint
    file = tmp_path / "r.json"
    file.write_text(json.dumps({"url": PROD + "/bot", "CurrentTask": "goodbye",
                                "response": {"actions": [{"say": "Goodbye!"}]}}))
    base = ["replay", "requests", str(file), "--url-map", f"{PROD}={server.base_url}", "--auth-token", TOKEN]
    assert main(base) == 0
    assert "1 of 1 request(s) matched" in capsys.readouterr().out
    file.write_text(json.dumps({"url": PROD + "/bot", "CurrentTask": "goodbye", "response": [{"say": "Bye"}]}))
    assert main([*base, "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False and data["results"][0]["requests"][0]["differences"][0]["path"] == "actions[0].say"
    file.write_text("[1, 2]")
    assert main(base) == 2
    assert "expected a JSON object" in capsys.readouterr().err


def test_replay_against_the_example_function_served_by_twilio_run() -> None:
    from harness.engines.twilio.functions import find_twilio_run

    try:
        find_twilio_run(EXAMPLES / "hospitality", cwd=ROOT)
    except UsageError:
        pytest.skip("twilio-run is not installed (run `npm ci`)")
    record = {"url": "https://hotel-1234.twil.io/send-to-agent", "CurrentTask": "send_to_agent",
              "CurrentInput": "agent", "Memory": {"twilio": {"sms": {"From": "+15555550100"}}},
              "response": {"actions": [{"remember": {"sendToAgent": True}},
                                       {"say": "One moment please: I am connecting you with our concierge team."}]}}
    result = replay_requests([record], functions=[Path(EXAMPLES / "hospitality")])
    assert result.ok, result.render()
