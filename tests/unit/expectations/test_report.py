"""The failure text: grouped per turn, explanation indented, the expectation's place in the file."""

from __future__ import annotations

from harness.errors import ExpectationFailed, Location
from harness.expectations import Expected, Mismatch, expectation_error, format_mismatches


def sample() -> list[Mismatch]:
    here = Location("hotel.scenario.yaml", "/scenarios/0/turns/1/expect/task", 14, 13)
    return [
        Mismatch('turn 2 ("I need towels") task', "request_towels", "fallback", "routing: scored\nmore",
                 None, 'turn 2 ("I need towels")', "task", here),
        Mismatch('turn 2 ("I need towels") memory', "en", "fr", "", "memory.lang", 'turn 2 ("I need towels")',
                 "memory"),
        Mismatch("after the last turn ended", True, False, scope="after the last turn", key="ended",
                 location=Location("hotel.scenario.yaml", "/scenarios/0/expect/ended")),
        Mismatch("after the last turn handoff", Expected("a Flex task"), Expected("no handoff"),
                 scope="after the last turn", key="handoff"),
    ]


def test_format_groups_per_turn() -> None:
    assert format_mismatches(sample(), title="hotel.scenario.yaml::towels") == (
        "hotel.scenario.yaml::towels\n"
        'turn 2 ("I need towels"):\n'
        '  task: expected "request_towels", got "fallback"  [hotel.scenario.yaml:14:13]\n'
        "      routing: scored\n"
        "      more\n"
        '  memory.lang: expected "en", got "fr"\n'
        "after the last turn:\n"
        "  ended: expected true, got false  [hotel.scenario.yaml#/scenarios/0/expect/ended]\n"
        "  handoff: expected a Flex task, got no handoff"
    )


def test_long_values_are_cut() -> None:
    mismatch = Mismatch("x", "a" * 300, None)
    assert len(mismatch.summary()) < 200 and mismatch.summary().endswith("…, got null")


def test_expectation_error_renders_the_diff_at_the_first_location() -> None:
    error = expectation_error(sample())
    assert isinstance(error, ExpectationFailed) and isinstance(error, AssertionError)
    text = error.render()
    assert text.startswith("hotel.scenario.yaml:14:13 (/scenarios/0/turns/1/expect/task): "
                           "4 expectations failed\nturn 2")
    assert error.mismatches == sample()
