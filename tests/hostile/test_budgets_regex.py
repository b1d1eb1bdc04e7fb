"""Hostile regular expressions (issue 9): catastrophic patterns in split conditions, payload-schema patterns,
reply expectations and lint stop within the regex budget (REGEX_TIMEOUT) naming the pattern and the budget,
and the flavour Studio authors write (`(?<name>…)`, `\\p{L}`) works.

Sources: Studio's `regex` condition is case-insensitive and matches the whole input (reference/studio.md §2.3,
[D: TW-AI]); Studio runs on the JVM/JavaScript side, whose regex flavours have named groups `(?<name>…)` and
Unicode properties `\\p{L}` — Python's `re` has neither, the `regex` package has both [uncertain: Twilio does
not name its engine]. JSON Schema `pattern` is an ECMA-262 regex (https://json-schema.org/draft/2020-12).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from harness import patterns
from harness.budgets import BudgetExceeded
from harness.clock import FixedClock
from harness.engines.studio.conditions import SplitRules, evaluate
from harness.engines.studio.engine import StudioEnvironment
from harness.errors import EngineError, SchemaError
from harness.expectations.payload import schema_diff
from harness.models.flow import flow_from_dict
from tests.hostile.kit import assert_refused, cli, cli_subprocess, run_suite_beside

ACCOUNT = "AC" + "a" * 32
USER = "+14155550123"
BUDGET = "0.05"  # seconds; `regex` checks its clock periodically, so a timed-out match returns within ~0.5 s
FAST = 5.0

# Patterns that backtrack for seconds even in the `regex` package (measured: 2 s to > 7 s unbudgeted).
CATASTROPHIC = {
    "lazy groups before a missing letter": (r"(.*?,){11}P", "1,2,3,4,5,6,7,8,9,10,11" * 300),
    "a star inside a counted repeat": (r"(.*){1,32000}[bc]", "a" * 3000),
    "twelve greedy groups": (r".*(.*a){12}", "a" * 3000 + "b"),
    "doubled plus inside plus": (r"(x+x+)+y", "x" * 5000),
}
# Searched anywhere (reply expectations, schema patterns): these backtrack for seconds at every start.
SEARCH_CATASTROPHIC = {
    "lazy groups before a missing letter": CATASTROPHIC["lazy groups before a missing letter"],
    "nested plus before the end": (r"(a+)+$", "a" * 5000 + "!"),
    "letters then a missing digit": (r"([a-z]+)*[0-9]", "a" * 5000),
}
# Classic ReDoS patterns the `regex` package's own guards finish quickly: they must simply not hang.
DEFUSED = {
    "(a+)+$": (r"(a+)+$", "a" * 5000 + "!"),
    "(a|aa)*c": (r"(a|aa)*c", "a" * 5000),
    "(a|a?)+b": (r"(a|a?)+b", "a" * 3000),
    "((a*)*b)": (r"((a*)*b)", "a" * 3000),
    "backreference bomb": (r"((a+)*)+\1c", "a" * 3000),
    "words then a bang": (r"(\w+\s?)+$", "hello " * 2000 + "!"),
}


@pytest.fixture
def tight_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOPILOT_HARNESS_REGEX_TIMEOUT", BUDGET)


def _split_flow(pattern: str, name: str = "split.json") -> dict[str, Any]:
    def say(state: str, body: str) -> dict[str, Any]:
        return {"name": state, "type": "send-message", "transitions": [{"event": "sent"}, {"event": "failed"}],
                "properties": {"from": "{{flow.channel.address}}", "to": "{{contact.channel.address}}",
                               "body": body}}

    return {"description": "hostile", "initial_state": "Trigger", "flags": {"allow_concurrent_calls": True},
            "states": [
                {"name": "Trigger", "type": "trigger", "properties": {},
                 "transitions": [{"event": "incomingMessage", "next": "Check"}]},
                {"name": "Check", "type": "split-based-on", "properties": {"input": "{{trigger.message.Body}}"},
                 "transitions": [{"event": "noMatch", "next": "No"},
                                 {"event": "match", "next": "Yes", "conditions": [
                                     {"friendly_name": "r", "arguments": ["{{trigger.message.Body}}"],
                                      "type": "regex", "value": pattern}]}]},
                say("Yes", "yes"), say("No", "no")]}


def _run_split(pattern: str, text: str) -> Any:
    env = StudioEnvironment(bots={}, clock=FixedClock("2024-05-01T09:00:00Z"), auth_token="secret",
                            account_sid=ACCOUNT)
    return env.load(flow_from_dict(_split_flow(pattern), path="split.json")).start(
        "incomingMessage", From=USER, Body=text)


# --- split conditions ------------------------------------------------------------------------------------


@pytest.mark.parametrize("pattern,text", list(CATASTROPHIC.values()), ids=list(CATASTROPHIC))
def test_catastrophic_split_regex_stops_naming_widget_pattern_and_budget(tight_budget: None, pattern: str,
                                                                        text: str) -> None:
    started = time.perf_counter()
    with pytest.raises(BudgetExceeded) as caught:
        _run_split(pattern, text)
    assert time.perf_counter() - started < FAST
    message = caught.value.render()
    assert "state 'Check' (split-based-on), transition 1 condition 0" in message
    assert repr(pattern) in message and "REGEX_TIMEOUT" in message and "AUTOPILOT_HARNESS_REGEX_TIMEOUT" in message
    assert caught.value.location is not None and caught.value.location.pointer == "/states/1/transitions/1/conditions/0"


@pytest.mark.parametrize("pattern,text", list(DEFUSED.values()), ids=list(DEFUSED))
def test_classic_redos_split_regex_finishes_with_no_match(pattern: str, text: str) -> None:
    started = time.perf_counter()
    execution = _run_split(pattern, text)
    assert time.perf_counter() - started < FAST
    assert execution.path == ["Trigger", "Check", "No"]


@pytest.mark.parametrize("pattern,text", list(SEARCH_CATASTROPHIC.values()), ids=list(SEARCH_CATASTROPHIC))
def test_catastrophic_search_mode_also_stops(tight_budget: None, pattern: str, text: str) -> None:
    with pytest.raises(BudgetExceeded, match="REGEX_TIMEOUT"):
        evaluate({"type": "regex", "value": pattern}, text, rules=SplitRules(regex_fullmatch=False))


def test_catastrophic_split_through_chat_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOPILOT_HARNESS_REGEX_TIMEOUT", BUDGET)
    flow = tmp_path / "split.json"
    flow.write_text(json.dumps(_split_flow(CATASTROPHIC["lazy groups before a missing letter"][0])), "utf-8")
    result = cli_subprocess("chat", "--flow", flow, "--say", CATASTROPHIC["lazy groups before a missing letter"][1],
                            timeout=60)
    assert_refused(result, names=flow, says="REGEX_TIMEOUT")
    assert "state 'Check' (split-based-on)" in result.text


# --- the flavour -----------------------------------------------------------------------------------------

# (pattern, input, matches?) — Studio's regex: case-insensitive, whole input (reference/studio.md §2.3).
FLAVOUR = [
    (r"(?<answer>yes|si)", "YES", True),
    (r"(?<answer>yes|si) please", "si please", True),
    (r"\p{L}+", "Ñandú", True),
    (r"\p{L}+", "abc123", False),
    (r"\p{Lu}\p{Ll}+", "josé", True),  # ignoring case
    (r"[\p{L} ]+", "buenos días", True),
    (r"(?<d>\d)(?P=d)", "11", True),
    (r"a++b", "aaab", True),  # possessive
    (r"(?>a+)b", "aab", True),  # atomic group
]


@pytest.mark.parametrize("pattern,text,expected", FLAVOUR, ids=[f"{p} ~ {t}" for p, t, _ in FLAVOUR])
def test_studio_regex_flavour_in_a_split(pattern: str, text: str, expected: bool) -> None:
    execution = _run_split(pattern, text)
    assert execution.path[-1] == ("Yes" if expected else "No")


# Real patterns (reference/studio.md §2.3, real flows) and everyday ones: same verdict as Python's `re`.
SAME_AS_RE = [
    (r".*yes.*", "Oh YES please"), (r".*(s(i|í)|y).*", "sí claro"), (r"^\d{5}$", "02134"), (r"[A-Z]+", "abc"),
    (r"(?:foo|bar)baz", "BARBAZ"), (r".*\bagent\b.*", "an agent now"), (r"\d+(\.\d+)?", "3.25"),
    (r"[^@\s]+@[^@\s]+\.\w+", "a@b.co"), (r"(yes|no)", "maybe"), (r"\s*", "   "),
]


@pytest.mark.parametrize("pattern,text", SAME_AS_RE, ids=[p for p, _ in SAME_AS_RE])
def test_everyday_patterns_match_as_python_re_does(pattern: str, text: str) -> None:
    ours = patterns.fullmatch(pattern, text, ignore_case=True) is not None
    assert ours == (re.fullmatch(pattern, text, re.IGNORECASE) is not None)
    assert evaluate({"type": "regex", "value": pattern}, text) == ours


@pytest.mark.parametrize("pattern", ["(", "[a-", "a{3,1}", "(?<n>a"])
def test_an_invalid_split_regex_is_refused_when_the_flow_loads(pattern: str) -> None:
    with pytest.raises(SchemaError) as caught:
        _run_split(pattern, "x")
    assert "state 'Check' (split-based-on)" in caught.value.message and "not a valid regular expression" in \
        caught.value.message


def test_an_invalid_regex_rendered_from_liquid_names_the_widget() -> None:
    flow = _split_flow("{{ trigger.message.Body }}")
    env = StudioEnvironment(bots={}, clock=FixedClock("2024-05-01T09:00:00Z"), auth_token="s", account_sid=ACCOUNT)
    with pytest.raises(EngineError) as caught:
        env.load(flow_from_dict(flow, path="split.json")).start("incomingMessage", From=USER, Body="(")
    assert "state 'Check' (split-based-on)" in caught.value.message and "'('" in caught.value.message


# --- lint: the flow loads with the same flavour, and lint never runs a pattern ----------------------------


@pytest.mark.parametrize("pattern", [r"(?<w>\p{L}+) yes", *[p for p, _ in CATASTROPHIC.values()]],
                         ids=["flavour", *CATASTROPHIC])
def test_lint_accepts_studio_flavour_and_does_not_hang(tmp_path: Path, pattern: str) -> None:
    flow = tmp_path / "split.json"
    flow.write_text(json.dumps(_split_flow(pattern)), "utf-8")
    result = cli_subprocess("lint", flow, timeout=60)
    assert "Traceback" not in result.text and "not a valid regular expression" not in result.text, result.text
    assert result.code in (0, 1), result.text


@pytest.mark.parametrize("pattern", ["(", "a{3,1}"])
def test_lint_reports_an_invalid_split_regex_at_its_place(tmp_path: Path, pattern: str) -> None:
    flow = tmp_path / "split.json"
    flow.write_text(json.dumps(_split_flow(pattern)), "utf-8")
    result = cli("lint", flow)
    assert "Traceback" not in result.text and result.code == 1, result.text
    assert "/states/1/transitions/1/conditions/0/value" in result.text and "not a valid regular expression" in \
        result.text


# --- payload schema patterns (expectations) ------------------------------------------------------------


@pytest.mark.parametrize("pattern,text", list(SEARCH_CATASTROPHIC.values()), ids=list(SEARCH_CATASTROPHIC))
def test_catastrophic_schema_pattern_stops(tight_budget: None, pattern: str, text: str) -> None:
    started = time.perf_counter()
    with pytest.raises(BudgetExceeded, match="schema pattern"):
        schema_diff({"type": "object", "properties": {"name": {"type": "string", "pattern": pattern}}},
                    {"name": text})
    assert time.perf_counter() - started < FAST


def test_catastrophic_schema_pattern_property_stops(tight_budget: None) -> None:
    pattern, text = CATASTROPHIC["lazy groups before a missing letter"]
    with pytest.raises(BudgetExceeded, match="patternProperties"):
        schema_diff({"type": "object", "patternProperties": {pattern: {"type": "string"}}}, {text: "x"})


def test_schema_patterns_keep_their_meaning() -> None:
    schema = {"type": "object", "properties": {"zip": {"type": "string", "pattern": r"^\d{5}$"},
                                               "name": {"type": "string", "pattern": r"^\p{L}+$"}},
              "patternProperties": {"^n_": {"type": "integer"}}}
    assert schema_diff(schema, {"zip": "02134", "name": "José", "n_a": 1}) == []
    found = schema_diff(schema, {"zip": "2134", "name": "J0", "n_a": "x"})
    assert sorted(d.path for d in found) == ["n_a", "name", "zip"]


# --- reply expectations in a scenario -------------------------------------------------------------------

def _echo_scenario(tmp_path: Path, pattern: str, text: str) -> str:
    flow = tmp_path / "echo.json"
    echo = {"description": "echo", "initial_state": "Trigger", "flags": {"allow_concurrent_calls": True},
            "states": [{"name": "Trigger", "type": "trigger", "properties": {},
                        "transitions": [{"event": "incomingMessage", "next": "Echo"}]},
                       {"name": "Echo", "type": "send-message", "transitions": [{"event": "sent"}, {"event": "failed"}],
                        "properties": {"from": "{{flow.channel.address}}", "to": "{{contact.channel.address}}",
                                       "body": "{{trigger.message.Body}}"}}]}
    flow.write_text(json.dumps(echo), "utf-8")
    return (f"flow: {flow.as_posix()}\nscenarios:\n  - name: echo\n    turns:\n"
            f"      - user: {json.dumps(text)}\n        expect: {{replies: [{{regex: {json.dumps(pattern)}}}]}}\n")


@pytest.mark.parametrize("pattern,text", list(SEARCH_CATASTROPHIC.values())[:2], ids=list(SEARCH_CATASTROPHIC)[:2])
def test_catastrophic_reply_expectation_fails_its_case_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            pattern: str, text: str) -> None:
    monkeypatch.setenv("AUTOPILOT_HARNESS_REGEX_TIMEOUT", BUDGET)
    scenario = _echo_scenario(tmp_path, pattern, text)
    result, document, _junit = run_suite_beside(tmp_path, "reply.scenario.yaml", scenario, subprocess_timeout=90)
    assert result.code in (1, 2) and "REGEX_TIMEOUT" in result.text, result.text
    bad = [case for case in document["cases"] if case["file"].endswith("reply.scenario.yaml")]
    assert bad and bad[0]["status"] in ("failed", "error")


def test_reply_expectation_accepts_named_groups(tmp_path: Path) -> None:
    result, _document, _junit = run_suite_beside(tmp_path, "reply.scenario.yaml",
                                                 _echo_scenario(tmp_path, r"^(?<word>\p{L}+)$", "Ñandú"))
    assert result.code == 0, result.text
