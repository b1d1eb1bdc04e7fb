"""Per-turn expectations: each kind passing and failing, with the explanation a user reads."""

from __future__ import annotations

from harness.expectations import MISSING, check_turn, format_mismatches
from harness.transcript import Candidate, Turn

from ._build import turn_expect

RANKING = (
    Candidate("fallback", 0.31, "help me"),
    Candidate("request_towels", 0.29, "i need more towels"),
    Candidate("goodbye", 0.05, "bye"),
    Candidate("order_food", 0.01, "food"),
)


def towel_turn(**changes) -> Turn:
    base = dict(index=1, user="I need towels", task="request_towels", confidence=0.82,
                next_best_task="order_food", fields={"Count": {"value": "2", "type": "Twilio.NUMBER"}},
                replies=("How many towels?", "We'll send them."),
                memory={"twilio": {"collected_data": {"towels": {"answers": {"Count": {"answer": "2"}}}}}},
                ended=False, ranking=RANKING, routing="scored")
    base.update(changes)
    return Turn(**base)


def test_everything_matching_gives_no_mismatch() -> None:
    expect = turn_expect("""
        task: request_towels
        confidence: ">= 0.6"
        next_best_task: order_food
        fields: {Count: 2, Room: null}
        replies: [{contains: many}, {regex: "^We.ll send"}]
        memory: {twilio.collected_data.towels.answers.Count.answer: "2"}
        ended: false
    """)
    assert check_turn(expect, towel_turn()) == []


def test_wrong_task_explains_the_routing() -> None:
    (mismatch,) = check_turn(turn_expect("task: request_towels"),
                             towel_turn(task="fallback", confidence=0.31))
    assert mismatch.where == 'turn 2 ("I need towels") task'
    assert (mismatch.expected, mismatch.actual) == ("request_towels", "fallback")
    assert mismatch.detail == (
        "routing: scored, confidence 0.31\n"
        "top candidates:\n"
        '  1. fallback        0.31  sample "help me"\n'
        '  2. request_towels  0.29  sample "i need more towels"\n'
        '  3. goodbye         0.05  sample "bye"\n'
        "decided by the sample \"help me\" of 'fallback'")
    assert mismatch.location is not None and mismatch.location.line == 6  # the `task:` line


def test_a_task_ranked_below_the_top_three_says_where_it_ranked() -> None:
    (mismatch,) = check_turn(turn_expect("task: order_food"), towel_turn(task="fallback"))
    assert mismatch.detail.endswith("'order_food' ranked 4 with 0.01  sample \"food\"")
    (absent,) = check_turn(turn_expect("task: checkout"), towel_turn(task="fallback"))
    assert absent.detail.endswith("'checkout' was not a candidate (no sample of it scored)")


def test_confidence() -> None:
    assert check_turn(turn_expect("confidence: 0.8"), towel_turn()) == []
    (mismatch,) = check_turn(turn_expect("confidence: '> 0.9'"), towel_turn())
    assert str(mismatch) == 'turn 2 ("I need towels") confidence: expected > 0.9, got 0.82'
    assert "top candidates:" in mismatch.detail
    (no_score,) = check_turn(turn_expect("confidence: 0.1"), towel_turn(confidence=None))
    assert no_score.actual is None


def test_next_best_task() -> None:
    (mismatch,) = check_turn(turn_expect("next_best_task: goodbye"), towel_turn())
    assert (mismatch.key, mismatch.expected, mismatch.actual) == ("next_best_task", "goodbye", "order_food")


def test_fields_value_type_and_absence() -> None:
    turn = towel_turn()
    assert check_turn(turn_expect("fields: {Count: '2'}"), turn) == []
    assert check_turn(turn_expect("fields: {Count: 2.0}"), turn) == []  # numbers compare numerically
    value, typed, missing, unwanted = check_turn(turn_expect("""
        fields:
          Count: {value: 3, type: Twilio.NUMBER}
          Item: {type: Twilio.NUMBER}
          Room: towel
    """), turn) + check_turn(turn_expect("fields: {Count: null}"), turn)
    assert (value.path, value.expected, value.actual) == ("fields.Count.value", 3, "2")
    assert value.detail == 'fields extracted: Count="2"'
    assert (typed.path, typed.actual) == ("fields.Item", MISSING)
    assert str(typed) == 'turn 2 ("I need towels") fields.Item: expected a Twilio.NUMBER field, got (missing)'
    assert (missing.path, missing.expected) == ("fields.Room", "towel")
    assert (unwanted.path, unwanted.expected, unwanted.actual) == ("fields.Count", None, "2")
    (wrong_type,) = check_turn(turn_expect("fields: {Count: {type: Custom.ITEMS}}"), turn)
    assert (wrong_type.path, wrong_type.actual) == ("fields.Count.type", "Twilio.NUMBER")


def test_replies_exact_list_and_checks() -> None:
    turn = towel_turn()
    assert check_turn(turn_expect("replies: ['How many towels?', \"We'll send them.\"]"), turn) == []
    checks = "replies: [{one_of: [Hi, 'How many towels?']}, {equals: \"We'll send them.\"}]"
    assert check_turn(turn_expect(checks), turn) == []
    (wrong,) = check_turn(turn_expect("replies: [{contains: towel}, {regex: '^Done'}]"), turn)
    assert (wrong.path, wrong.actual) == ("replies[1]", "We'll send them.")
    assert str(wrong) == ('turn 2 ("I need towels") replies[1]: expected matching /^Done/, '
                          'got "We\'ll send them."')


def test_reply_count_mismatch_lists_what_was_said() -> None:
    count, first = check_turn(turn_expect("replies: [Hello]"), towel_turn())
    assert str(count) == 'turn 2 ("I need towels") replies: expected 1 replies: "Hello", got 2'
    assert count.detail == 'actual replies:\n  1. "How many towels?"\n  2. "We\'ll send them."'
    assert first.path == "replies[0]"
    (none,) = check_turn(turn_expect("replies: []"), towel_turn())
    assert none.actual.text == "2"


def test_memory_subset_with_dotted_paths() -> None:
    turn = towel_turn(memory={"order": {"items": [{"name": "towel", "count": 2}]}, "vip": "true"})
    subset = "memory: {order.items.0.name: towel, order: {items: [{count: 2}]}}"
    assert check_turn(turn_expect(subset), turn) == []
    mismatches = check_turn(turn_expect("""
        memory:
          order.items.0.count: 3
          order.room.number: "12"
          vip: true
    """), turn)
    assert [m.summary() for m in mismatches] == [
        'turn 2 ("I need towels") memory.order.items[0].count: expected 3, got 2',
        'turn 2 ("I need towels") memory.order.room.number: expected "12", got (missing)',
        'turn 2 ("I need towels") memory.vip: expected true, got "true"',
    ]
    assert mismatches[1].detail == "memory.order.room is missing (memory.order has: items)"
    assert mismatches[2].detail == "a string vs a number/boolean: quote the value in YAML to expect text"
    assert [m.location.line for m in mismatches] == [7, 8, 9]  # each key's own line


def test_ended() -> None:
    assert check_turn(turn_expect("ended: true"), towel_turn(ended=True)) == []
    (mismatch,) = check_turn(turn_expect("ended: true"), towel_turn())
    assert mismatch.detail == "the dialogue is still open (listening)"


def test_the_turn_diff_text() -> None:
    mismatches = check_turn(turn_expect("""
        task: request_towels
        replies: [Sure]
    """), towel_turn(task="fallback", replies=("Sorry?",), confidence=0.31))
    assert format_mismatches(mismatches) == (
        'turn 2 ("I need towels"):\n'
        '  task: expected "request_towels", got "fallback"  [tests/fixtures/scenarios/t.scenario.yaml:6:17]\n'
        "      routing: scored, confidence 0.31\n"
        "      top candidates:\n"
        '        1. fallback        0.31  sample "help me"\n'
        '        2. request_towels  0.29  sample "i need more towels"\n'
        '        3. goodbye         0.05  sample "bye"\n'
        "      decided by the sample \"help me\" of 'fallback'\n"
        '  replies[0]: expected "Sure", got "Sorry?"  [tests/fixtures/scenarios/t.scenario.yaml:7:21]'
    ).replace("tests/fixtures/scenarios/", _fixtures_prefix())


def _fixtures_prefix() -> str:
    from ._build import FIXTURES

    return str(FIXTURES) + "/"
