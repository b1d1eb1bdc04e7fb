"""Issue 9, escapes: no host outside the URL map and loopback is looked up or contacted, ever.

Each row sends one hostile URL through one engine request (Autopilot Action URL, validate webhook, Studio
HTTP Request, Run Function) while `socket.getaddrinfo`, `socket.create_connection` and `socket.connect`
are recorded (tests/hostile/network_kit.py), and asserts the failure Twilio's side would show (the
webhook error that ends the dialogue; the widget's `failed` / `fail` transition), the URL named (its
password hidden), the hint, and that not a single lookup or connection happened.

Twilio behaviour relied on: a failing Action URL ends the dialogue with an error (reference/autopilot.md
§2.6 and the Studio widget's `failure` event, §5); the HTTP Request widget takes `failed` on a network
failure with an empty output map, Run Function takes `fail` (reference/studio.md §2.7, §2.8); URL user
info is sent as HTTP Basic auth (https://www.twilio.com/docs/usage/security#http-authentication).
"""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator

import pytest
import requests

from harness.engines.twilio.network import NetworkPolicy, guarded_session, is_loopback_host, redact
from harness.engines.twilio.urlmap import UrlMap
from harness.errors import HarnessError
from tests.hostile.network_kit import DRIVERS, HostileServer, via_action, via_http

MAPPED = "https://hotel-1234.twil.io"


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    server = HostileServer()
    yield server
    server.close()

# (engine request, hostile URL, words the refusal must contain)
NOT_IN_MAP = "not in the URL map"
UNMAPPED = [
    ("action", "https://x.twil.io/fn", NOT_IN_MAP),
    ("validate", "https://x.twil.io/validate", NOT_IN_MAP),
    ("http", "https://x.twil.io/fn", NOT_IN_MAP),
    ("function", "https://x.twil.io/fn", NOT_IN_MAP),
    ("action", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json", NOT_IN_MAP),
    ("http", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json", NOT_IN_MAP),
    ("http", "https://example.com/api", NOT_IN_MAP),
    ("function", "https://example.com/fn", NOT_IN_MAP),
    ("action", "http://localhost.evil.com/x", NOT_IN_MAP),
    ("http", "http://localhost.evil.com/x", NOT_IN_MAP),
    ("http", "http://127.0.0.1.nip.io/x", NOT_IN_MAP),
    ("action", "http://127.0.0.1.nip.io/x", NOT_IN_MAP),
    ("http", "http://2130706433/x", NOT_IN_MAP),  # decimal 127.0.0.1: some resolvers accept it
    ("action", "http://0x7f000001/x", NOT_IN_MAP),  # hex
    ("http", "http://0177.0.0.1/x", NOT_IN_MAP),  # octal
    ("function", "http://127.1/x", NOT_IN_MAP),  # short form
    ("http", "http://[::ffff:127.0.0.1]/x", NOT_IN_MAP),  # IPv4-mapped IPv6
    ("action", "http://[2001:db8::1]/x", NOT_IN_MAP),  # IPv6 literal, not loopback
    ("http", "http://127.0.0.1:80@evil.com/x", NOT_IN_MAP),  # user info that looks like a host
    ("action", "http://evil.com#@127.0.0.1/x", NOT_IN_MAP),  # the host is evil.com
    ("http", "http://localhost./x", NOT_IN_MAP),  # trailing dot: a DNS name, not /etc/hosts
    ("action", f"{MAPPED}.evil.com/fn", NOT_IN_MAP),  # a map key as a prefix of another host
    ("validate", "http://[::1%25eth0]/x", NOT_IN_MAP),  # scoped ::1 is not plain loopback
    ("http", "ftp://127.0.0.1/x", "not an http(s) URL"),
    ("function", "file:///etc/passwd", "not an http(s) URL"),
]


@pytest.mark.parametrize(("kind", "url", "says"), UNMAPPED, ids=[f"{k}-{u}" for k, u, _ in UNMAPPED])
def test_unmapped_hosts_are_refused_before_any_socket(net, kind: str, url: str, says: str) -> None:
    outcome = DRIVERS[kind](url, {MAPPED: "http://127.0.0.1:9"})
    assert outcome.failed, outcome
    assert says in outcome.text and redact(url) in outcome.text, outcome.text
    if says == NOT_IN_MAP:
        assert "url_map:" in outcome.text and "--url-map" in outcome.text  # the hint says how to map it
    if kind in ("http", "function"):
        assert outcome.output in (None, {})  # network failures leave an empty output map (studio.md §2.7)
    assert net.lookups == [] and net.connects == []


@pytest.mark.parametrize("kind", ["action", "http"])
def test_credentials_in_an_unmapped_url_are_never_shown(net, kind: str) -> None:
    outcome = DRIVERS[kind]("https://agent:s3cret@x.twil.io/fn")
    assert outcome.failed and NOT_IN_MAP in outcome.text
    assert "s3cret" not in outcome.text and "agent:***@x.twil.io" in outcome.text
    assert net.lookups == [] and net.connects == []


def test_credentials_in_a_mapped_url_go_to_the_local_server_as_basic_auth(net, hostile: HostileServer) -> None:
    outcome = via_action(f"https://agent:s3cret@{MAPPED[8:]}/ok", {MAPPED: hostile.base_url})
    assert not outcome.failed, outcome.text
    head = hostile.requests[-1][3]
    assert f"Authorization: Basic {base64.b64encode(b'agent:s3cret').decode()}" in head
    assert set(net.outside) == set()


# --- redirects: every hop is checked (and mapped) before it is followed ----------------------------------

REDIRECTS = [
    ("http", "https://api.twilio.com/2010-04-01/Accounts/AC1/Calls.json", 302, NOT_IN_MAP),
    ("action", "https://api.twilio.com/2010-04-01/Accounts/AC1/Calls.json", 302, NOT_IN_MAP),
    ("function", "https://x.twil.io/elsewhere", 301, NOT_IN_MAP),
    ("http", "//evil.com/x", 303, NOT_IN_MAP),  # scheme-relative Location
    ("action", "ftp://127.0.0.1/x", 302, "not an http(s) URL"),
    ("validate", "http://2130706433/x", 307, NOT_IN_MAP),
]


@pytest.mark.parametrize(("kind", "location", "code", "says"), REDIRECTS,
                         ids=[f"{k}-{c}-{loc}" for k, loc, c, _ in REDIRECTS])
def test_a_redirect_to_an_unmapped_host_is_refused_without_a_lookup(net, hostile: HostileServer, kind: str,
                                                                    location: str, code: int, says: str) -> None:
    start = f"{MAPPED}/redirect?to={location}&code={code}"
    outcome = DRIVERS[kind](start, {MAPPED: hostile.base_url})
    assert outcome.failed and says in outcome.text and "redirected to" in outcome.text, outcome.text
    if says == NOT_IN_MAP:
        assert "url_map:" in outcome.text  # the hint, for a redirect hop too
    assert len(hostile.requests) == 1  # the first hop was made, the refused one never
    assert net.outside == [] and set(net.lookups) <= {"127.0.0.1"}


def test_a_redirect_to_a_mapped_url_is_mapped_and_followed(net, hostile: HostileServer) -> None:
    outcome = via_action(f"{MAPPED}/redirect?to={MAPPED}/ok", {MAPPED: hostile.base_url})
    assert not outcome.failed and outcome.output == [{"say": "ok"}], outcome.text
    assert [r[1] for r in hostile.requests][-1] == "/ok" and net.outside == []


@pytest.mark.parametrize(("code", "method", "body"), [(302, "GET", ""), (307, "POST", '{"a": 1}')])
def test_redirect_method_rules(net, hostile: HostileServer, code: int, method: str, body: str) -> None:
    # 302 turns the widget's POST into a GET without body; 307 resends it (RFC 9110 §15.4, as requests does).
    outcome = via_http(f"{MAPPED}/redirect?to=/echo&code={code}", {MAPPED: hostile.base_url}, method="POST")
    assert outcome.event == "success", outcome.text
    assert outcome.output["parsed"] == {"method": method, "body": body}


def test_a_redirect_loop_ends_with_a_clear_failure(net, hostile: HostileServer) -> None:
    outcome = via_http(f"{MAPPED}/loop", {MAPPED: hostile.base_url})
    assert outcome.event == "failed" and "more than 10 redirects" in outcome.text
    assert len(hostile.requests) == 11 and net.outside == []


# --- what is allowed --------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_loopback_urls_are_called_without_a_map(net, hostile: HostileServer, host: str) -> None:
    outcome = via_http(f"http://{host}:{hostile.port}/ok")
    assert outcome.event == "success", outcome.text
    assert net.outside == []


def test_ipv6_loopback_is_allowed(net) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    from flask import Flask

    from harness.engines.twilio.server import LocalServer

    app = Flask("v6")
    app.add_url_rule("/ok", "ok", lambda: {"actions": [{"say": "v6"}]}, methods=["POST"])
    try:
        server = LocalServer(app, host="::1").start()
    except (OSError, HarnessError):
        pytest.skip("cannot bind ::1 here")
    try:
        assert server.url("/ok").startswith("http://[::1]:")
        outcome = via_action(server.url("/ok"))
    finally:
        server.stop()
    assert not outcome.failed and outcome.output == [{"say": "v6"}], outcome.text
    assert net.outside == []


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.255.0.9", True), ("::1", True), ("[::1]", True), ("LOCALHOST", True),
    ("localhost.", False), ("127.1", False), ("2130706433", False), ("::ffff:127.0.0.1", False), ("", False),
])
def test_what_counts_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


# --- the second line: the guarded session refuses at the socket ------------------------------------------


def test_the_guarded_session_refuses_an_unmapped_host_at_the_socket(net) -> None:
    # Even a request that bypasses `fetch` (no policy: loopback only) cannot look a name up.
    with pytest.raises(Exception, match="not in the URL map"):
        guarded_session().get("https://api.twilio.com/2010-04-01", timeout=1)
    assert net.lookups == [] and net.connects == []


def test_a_plain_session_injected_by_a_test_is_still_guarded_per_hop(net, hostile: HostileServer) -> None:
    # The check in `fetch` does not depend on the session: a plain requests.Session is refused too.
    from harness.engines.twilio.network import FetchError, RequestLimits, fetch

    plain = requests.Session()
    limits = RequestLimits(2, 1000, "test", "test")
    with pytest.raises(FetchError, match=r"redirected to https://api\.twilio\.com"):
        fetch(plain, "GET", hostile.url("/redirect?to=https://api.twilio.com/x"), policy=NetworkPolicy(),
              limits=limits)
    assert net.outside == []


def test_the_url_map_targets_are_the_only_other_hosts() -> None:
    policy = NetworkPolicy(UrlMap({MAPPED: "http://staging.internal:8080"}))
    assert policy.target(f"{MAPPED}/fn") == "http://staging.internal:8080/fn"
    assert policy.allows_host("staging.internal") and not policy.allows_host("hotel-1234.twil.io")
