"""Issue 9, network rows that involve a whole run: scenario files beside a good one, `verify` against a
provider that drips its answer, and the kit's paths that make no HTTP at all (the fake REST client,
Send to Flex).

Scenario rows use `run_suite_beside` (the good scenario still passes, JSON and JUnit are written); the
rows that could hang run the CLI in a child process with a hard timeout. Twilio behaviour: a failing
Action URL ends the dialogue with an error; the HTTP Request widget takes `failed` (reference/studio.md
§2.7); the Pact verifier's request timeout (`Verifier.set_request_timeout`, reference/pact.md §3).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.engines.autopilot.webhooks import WEBHOOK_DEADLINE_ENV
from harness.engines.studio.http import HTTP_DEADLINE_ENV
from tests.hostile.kit import run_suite_beside
from tests.hostile.network_kit import HostileServer, bounded

DEADLINE = 0.8
MAPPED = "https://hotel-1234.twil.io"


@pytest.fixture
def hostile(monkeypatch: pytest.MonkeyPatch) -> Iterator[HostileServer]:
    monkeypatch.setenv(HTTP_DEADLINE_ENV, str(DEADLINE))  # inherited by the child process too
    monkeypatch.setenv(WEBHOOK_DEADLINE_ENV, str(DEADLINE))
    server = HostileServer()
    yield server
    server.close()


def _bot(folder: Path, actions_url: str) -> Path:
    path = folder / "support" / "hooked.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "uniqueName": "hooked", "defaults": {"defaults": {"fallback": "task://hook"}},
        "tasks": [{"uniqueName": "hook", "actionsUrl": actions_url,
                   "samples": [{"language": "en-US", "taggedText": "hello"}]}]}), encoding="utf-8")
    return path


def _flow(folder: Path, url: str) -> Path:
    """Trigger → HTTP Request `Call` → a reply saying which transition it took."""
    def say(name: str, text: str) -> dict:
        return {"name": name, "type": "send-message", "transitions": [{"event": "sent"}, {"event": "failed"}],
                "properties": {"body": text, "from": "{{flow.channel.address}}", "to": "{{contact.channel.address}}"}}

    path = folder / "support" / "http.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "description": "net", "initial_state": "Trigger", "flags": {"allow_concurrent_calls": True},
        "states": [
            {"name": "Trigger", "type": "trigger", "properties": {},
             "transitions": [{"event": "incomingMessage", "next": "Call"}]},
            {"name": "Call", "type": "make-http-request",
             "transitions": [{"event": "success", "next": "Ok"}, {"event": "failed", "next": "Failed"}],
             "properties": {"method": "GET", "url": url, "content_type": "application/json"}},
            say("Ok", "success"), say("Failed", "failed")]}), encoding="utf-8")
    return path


def _bad_case(document: dict) -> dict:
    [case] = [c for c in document["cases"] if c["file"].endswith("bad.scenario.yaml")]
    return case


def _call_step(case: dict) -> dict:
    return next(s for turn in case["transcript"]["turns"] for s in turn["steps"] if s.get("widget") == "Call")


def _bot_scenario(bot: Path, url_map: dict[str, str] | None = None) -> str:
    mapping = "".join(f'\n  "{k}": "{v}"' for k, v in (url_map or {}).items())
    return (f"bot: {bot.as_posix()}\n" + (f"url_map:{mapping}\n" if mapping else "")
            + "scenarios:\n  - name: hooked\n    turns:\n      - user: hello\n        expect: {task: hook}\n")


def _flow_scenario(flow: Path, url_map: dict[str, str] | None = None) -> str:
    # The HTTP Request widget's `failed` transition is the expected outcome: the scenario passes on it.
    mapping = "".join(f'\n  "{k}": "{v}"' for k, v in (url_map or {}).items())
    return (f"flow: {flow.as_posix()}\n" + (f"url_map:{mapping}\n" if mapping else "")
            + "scenarios:\n  - name: call fails\n    turns:\n      - user: hello\n"
              "        expect: {replies: [failed]}\n")


# --- scenario files: the bad request fails as Twilio would, the rest of the run is untouched --------------


def test_an_unmapped_action_url_errors_the_case_and_looks_nothing_up(tmp_path: Path, net) -> None:
    bot = _bot(tmp_path, "https://x.twil.io/fn")
    result, document, junit = run_suite_beside(tmp_path, "bad.scenario.yaml", _bot_scenario(bot))
    case = _bad_case(document)
    assert case["status"] == "error" and result.code == 1
    assert "https://x.twil.io/fn" in case["error"] and "not in the URL map" in case["error"]
    assert "url_map:" in case["error"]  # the hint
    assert "x.twil.io" in junit
    assert net.outside == []


def test_an_http_request_to_example_com_takes_failed(tmp_path: Path, net) -> None:
    flow = _flow(tmp_path, "https://example.com/api")
    result, document, _ = run_suite_beside(tmp_path, "bad.scenario.yaml", _flow_scenario(flow))
    case = _bad_case(document)
    assert case["status"] == "passed" and result.code == 0, case  # `failed` taken, as the scenario expects
    step = _call_step(case)
    assert step["event"] == "failed" and "https://example.com/api" in step["error"]
    assert "not in the URL map" in step["error"]
    assert net.outside == []


def test_a_redirect_to_api_twilio_com_is_refused_in_a_run(tmp_path: Path, net, hostile: HostileServer) -> None:
    flow = _flow(tmp_path, f"{MAPPED}/redirect?to=https://api.twilio.com/2010-04-01/Accounts")
    _, document, _ = run_suite_beside(tmp_path, "bad.scenario.yaml",
                                      _flow_scenario(flow, {MAPPED: hostile.base_url}))
    step = _call_step(_bad_case(document))
    assert step["event"] == "failed" and "redirected to https://api.twilio.com/2010-04-01/Accounts" in step["error"]
    assert net.outside == [] and len(hostile.requests) == 1


def test_a_drip_fed_action_url_ends_at_the_deadline_in_a_child_run(tmp_path: Path, hostile: HostileServer) -> None:
    bot = _bot(tmp_path, f"{MAPPED}/drip-body")
    started = time.monotonic()
    _, document, _ = run_suite_beside(tmp_path, "bad.scenario.yaml",
                                      _bot_scenario(bot, {MAPPED: hostile.base_url}), subprocess_timeout=60)
    assert time.monotonic() - started < 30
    case = _bad_case(document)
    assert case["status"] == "error"
    assert f"no answer within {DEADLINE:g} s" in case["error"] and WEBHOOK_DEADLINE_ENV in case["error"]
    assert f"{MAPPED}/drip-body" in case["error"]


@pytest.mark.parametrize("path", ["/drip-headers", "/silent"])
def test_a_slow_http_request_takes_failed_in_a_child_run(tmp_path: Path, hostile: HostileServer, path: str) -> None:
    flow = _flow(tmp_path, f"{MAPPED}{path}")
    _, document, _ = run_suite_beside(tmp_path, "bad.scenario.yaml",
                                      _flow_scenario(flow, {MAPPED: hostile.base_url}), subprocess_timeout=60)
    case = _bad_case(document)
    assert case["status"] == "passed", case
    step = _call_step(case)
    assert step["event"] == "failed" and f"no answer within {DEADLINE:g} s" in step["error"]
    assert HTTP_DEADLINE_ENV in step["error"] and f"{MAPPED}{path}" in step["error"]


# --- verify: the provider proxy's overall deadline ----------------------------------------------------------


@pytest.mark.parametrize("path", ["/drip-body", "/drip-headers"])
def test_verify_against_a_drip_feeding_provider_fails_in_bounded_time(hostile: HostileServer, path: str) -> None:
    from harness.contracts.verify import verify
    from tests.unit.contracts.handoffs import PACTS

    started = time.monotonic()
    result = bounded(lambda: verify(PACTS / "hospitality-http-contact-center.json", hostile.url(path),
                                    timeout_ms=800), 60)
    took = time.monotonic() - started
    assert took < 15, f"verify took {took:.1f} s"
    assert not result.ok and result.interactions
    problems = result.problems
    assert problems and all(p.rule == "provider.transport" for p in problems)
    assert "did not answer within 800 ms" in problems[0].message
    assert hostile.url(path) in problems[0].message  # the provider's URL, not the internal proxy


def test_a_drip_feeding_state_change_url_fails_fast(hostile: HostileServer) -> None:
    from harness.contracts.verify import verify
    from tests.unit.contracts.handoffs import PACTS

    started = time.monotonic()
    result = bounded(lambda: verify(PACTS / "hospitality-http-contact-center.json", hostile.url("/ok"),
                                    state_change_url=hostile.url("/drip-headers"), timeout_ms=800), 30)
    assert time.monotonic() - started < 5  # one bounded setup call, not Pact's minutes of retries
    assert not result.ok and not result.interactions
    assert f"state-change URL {hostile.url('/drip-headers')} did not answer within 800 ms" in result.render()


def test_can_i_deploy_against_a_drip_feeding_broker_ends_at_its_timeout(hostile: HostileServer) -> None:
    from harness.contracts import broker
    from harness.errors import UsageError

    try:
        broker.find_pact_cli()
    except UsageError:
        pytest.skip("the `pact` CLI is not installed (pip install pact-python-cli)")
    started = time.monotonic()
    result = bounded(lambda: broker.can_i_deploy("studio-flow", "1.0.0", broker=hostile.url("/drip-body"),
                                                 retries=0, timeout=2), 30)
    assert time.monotonic() - started < 10
    assert not result.ok and result.broker_error  # "could not ask", never a verdict
    assert "did not finish within 2 s" in result.output and hostile.url("/drip-body") in result.output


# --- paths that make no HTTP: nothing is looked up -----------------------------------------------------------


def test_the_fake_rest_client_answers_in_process(net) -> None:
    from twilio.rest import Client

    from harness.engines.twilio.rest import FakeTwilioApi

    fake = FakeTwilioApi()
    client = Client("AC" + "1" * 32, "token", http_client=fake.http_client())
    message = client.messages.create(to="+15005550006", from_="+15005550001", body="hi")
    assert message.sid.startswith("SM") and fake.calls[0].host == "api.twilio.com"
    assert net.lookups == [] and net.connects == []


def test_send_to_flex_makes_no_request(net) -> None:
    from harness.clock import FixedClock
    from harness.engines.studio.engine import StudioEnvironment
    from harness.models.flow import flow_from_dict
    from tests.unit.engines.studio.fakebot import ScriptedBot

    flow = flow_from_dict({
        "description": "flex", "initial_state": "Trigger", "flags": {"allow_concurrent_calls": True},
        "states": [
            {"name": "Trigger", "type": "trigger", "properties": {},
             "transitions": [{"event": "incomingMessage", "next": "Flex"}]},
            {"name": "Flex", "type": "send-to-flex", "transitions": [{"event": "callComplete"},
                                                                     {"event": "failedToEnqueue"},
                                                                     {"event": "callFailure"}],
             "properties": {"workflow": "WW" + "1" * 32, "channel": "TC" + "2" * 32,
                            "attributes": '{"name": "{{trigger.message.From}}"}'}}]}, path="flex.json")
    env = StudioEnvironment(bots={"*": ScriptedBot()}, clock=FixedClock("2024-05-01T09:00:00Z"), auth_token="t",
                            account_sid="AC" + "a" * 32)
    execution = env.load(flow).start("incomingMessage", From="+15555550100", Body="agent")
    assert [s["widget"] for s in execution.steps][-1] == "Flex"
    assert execution.http_requests == [] and net.lookups == [] and net.connects == []
