"""Hostile values in scenario files (issue 9, scenario guards): NaN and infinities, templates that give a value
of the wrong kind, faker asked for huge values.

- YAML's `.nan`/`.inf` load as floats that JSON Schema's `number` accepts and every comparison with NaN
  answers False, so `threshold: .nan` passed `minimum: 0, maximum: 1`. JSON (RFC 8259 §6: "Numeric values
  that cannot be represented ... such as Infinity and NaN are not permitted") and so Twilio have neither:
  refused anywhere in a scenario or parts file, at its line.
- A template that is a whole value keeps its type; where the schema expects text (a user message, a reply,
  the user identity) a number, list, mapping, null or boolean is refused naming the template.
- Faker: sizes whose product passes MAX_FAKER_ARGUMENT are refused before faker runs (it would build
  gigabytes or run for hours), and a generated value longer than MAX_GENERATED_CHARS is refused.
"""

from __future__ import annotations

import signal
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.models.scenario_loader import load_scenario_file
from tests.hostile.kit import TINY_BOT, assert_refused, cli, run_suite_beside

HEAD = f"bot: {TINY_BOT.as_posix()}\n"


def scenario(body: str, head: str = HEAD) -> str:
    return head + textwrap.dedent(body)


def line_of(text: str, needle: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), start=1) if needle in line)


# (id, file text, the text on the reported line, what the message says)
NON_FINITE = [
    ("threshold-nan", scenario("threshold: .nan\nscenarios:\n  - name: a\n    turns: [{user: hello}]\n"),
     ".nan", ".nan: not a number JSON can hold"),
    ("threshold-inf", scenario("threshold: .inf\nscenarios:\n  - name: a\n    turns: [{user: hello}]\n"),
     ".inf", ".inf: not a number JSON can hold"),
    ("threshold-minus-inf", scenario("threshold: -.inf\nscenarios:\n  - name: a\n    turns: [{user: hello}]\n"),
     "-.inf", "-.inf: not a number"),
    ("threshold-overflowing-float", scenario("threshold: 1.0e+400\nscenarios:\n  - name: a\n"
                                             "    turns: [{user: hello}]\n"), "1.0e+400", ".inf: not a number"),
    ("threshold-NaN-spelling", scenario("threshold: .NaN\nscenarios:\n  - name: a\n    turns: [{user: hello}]\n"),
     ".NaN", "expected a finite number"),
    ("confidence-nan", scenario("scenarios:\n  - name: a\n    turns:\n      - user: hello\n"
                                "        expect: {confidence: .nan}\n"), "confidence", ".nan"),
    ("confidence-inf", scenario("scenarios:\n  - name: a\n    turns:\n      - user: hello\n"
                                "        expect: {confidence: .inf}\n"), "confidence", ".inf"),
    ("confidence-400-digits", scenario("scenarios:\n  - name: a\n    turns:\n      - user: hello\n"
                                       f"        expect: {{confidence: '>= {'9' * 400}'}}\n"), "confidence",
     "expected a number or a comparison"),
    ("confidence-nan-text", scenario("scenarios:\n  - name: a\n    turns:\n      - user: hello\n"
                                     "        expect: {confidence: '>= .nan'}\n"), "confidence",
     "expected a number or a comparison"),
    ("wait-inf", scenario("scenarios:\n  - name: a\n    turns:\n      - user: hello\n      - wait: .inf\n"),
     "wait", ".inf: not a number"),
    ("wait-nan", scenario("scenarios:\n  - name: a\n    turns:\n      - user: hello\n      - wait: .nan\n"),
     "wait", ".nan"),
    ("memory-nan", scenario("scenarios:\n  - name: a\n    memory: {score: .nan}\n    turns: [{user: hello}]\n"),
     "memory", ".nan"),
    ("expected-field-inf", scenario("scenarios:\n  - name: a\n    turns:\n      - user: hello\n"
                                    "        expect: {fields: {n: .inf}}\n"), "fields", ".inf"),
    ("expected-memory-minus-inf", scenario("scenarios:\n  - name: a\n    turns: [{user: hello}]\n"
                                           "    expect: {memory: {n: -.inf}}\n"), "memory", "-.inf"),
    ("row-value-nan", scenario("scenarios:\n  - name: a\n    parametrize: [{id: one, n: .nan}]\n"
                               "    turns: [{user: hello}]\n"), "parametrize", ".nan"),
    ("defaults-memory-inf", scenario("defaults: {memory: {n: .inf}}\nscenarios:\n  - name: a\n"
                                     "    turns: [{user: hello}]\n"), "defaults", ".inf"),
    ("handoff-priority-nan", scenario("scenarios:\n  - name: a\n    turns: [{user: hello}]\n"
                                      "    expect: {handoff: {flex: {priority: .nan}}}\n"), "priority", ".nan"),
]


@pytest.mark.parametrize(("text", "needle", "says"), [r[1:] for r in NON_FINITE], ids=[r[0] for r in NON_FINITE])
def test_nan_and_infinity_are_refused_at_their_line(tmp_path: Path, text: str, needle: str, says: str) -> None:
    result, document, _ = run_suite_beside(tmp_path, "bad.scenario.yaml", text)
    assert_refused(result, names="bad.scenario.yaml", line=line_of(text, needle), says=says)
    assert [c["status"] for c in document["cases"] if c["file"].endswith("bad.scenario.yaml")] == ["error"]


def test_nan_in_a_parts_file_is_refused_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "parts.yaml").write_text("defaults:\n  memory: {n: .nan}\n", encoding="utf-8")
    text = scenario("include: [parts.yaml]\nscenarios:\n  - name: a\n    turns: [{user: hello}]\n")
    result, _, _ = run_suite_beside(tmp_path, "bad.scenario.yaml", text)
    assert_refused(result, names="parts.yaml", line=2, says=".nan: not a number JSON can hold")


# --- templates giving a value of the wrong kind --------------------------------------------------------------

WRONG_KIND = [
    ("faker-number-as-user-identity", "  - name: a\n    user: '{{ faker.pyint }}'\n    turns: [{user: hello}]\n",
     "faker.pyint", "expected a string"),
    ("faker-list-as-message", "  - name: a\n    turns:\n      - user: '{{ faker.pylist }}'\n", "faker.pylist",
     "found a list"),
    ("faker-mapping-as-message", "  - name: a\n    turns:\n      - user: '{{ faker.pydict }}'\n", "faker.pydict",
     "found an"),
    ("faker-boolean-as-message", "  - name: a\n    turns:\n      - user: '{{ faker.boolean }}'\n", "faker.boolean",
     "expected a string"),
    ("faker-float-as-message", "  - name: a\n    turns:\n      - user: '{{ faker.pyfloat }}'\n", "faker.pyfloat",
     "expected a string"),
    ("faker-number-as-reply", "  - name: a\n    turns:\n      - user: hello\n"
                              "        expect: {replies: ['{{ faker.pyint }}']}\n", "faker.pyint", "found"),
    ("faker-number-as-variant", "  - name: a\n    turns:\n      - variants: ['{{ faker.pyint }}', hi]\n",
     "faker.pyint", "expected a string"),
    ("faker-number-as-target-task", "  - name: a\n    target_task: '{{ faker.pyint }}'\n"
                                    "    turns: [{user: hello}]\n", "faker.pyint", "found"),
    ("faker-bytes", "  - name: a\n    turns:\n      - user: '{{ faker.binary(length=8) }}'\n", "faker.binary",
     "gave binary data (bytes)"),
    ("row-number-as-message", "  - name: a\n    parametrize: [{id: one, n: 4}]\n    turns:\n"
                              "      - user: '{{ row.n }}'\n", "row.n", "expected a string"),
    ("row-list-as-message", "  - name: a\n    parametrize: [{id: one, l: [1, 2]}]\n    turns:\n"
                            "      - user: '{{ row.l }}'\n", "row.l", "found a list"),
    ("row-null-as-message", "  - name: a\n    parametrize: [{id: one, x: null}]\n    turns:\n"
                            "      - user: '{{ row.x }}'\n", "row.x", "found null"),
    ("row-mapping-in-contains", "  - name: a\n    parametrize: [{id: one, d: {k: v}}]\n    turns:\n"
                                "      - user: hello\n        expect: {replies: [{contains: '{{ row.d }}'}]}\n",
     "row.d", "from `{{ row.d }}`"),
    ("row-channel-not-a-channel", "  - name: a\n    parametrize: [{id: one, ch: fax}]\n"
                                  "    channel: '{{ row.ch }}'\n    turns: [{user: hello}]\n", "row.ch",
     "one of sms"),
]


@pytest.mark.parametrize(("body", "needle", "says"), [r[1:] for r in WRONG_KIND], ids=[r[0] for r in WRONG_KIND])
def test_a_template_giving_the_wrong_kind_of_value_is_refused_naming_it(tmp_path: Path, body: str, needle: str,
                                                                        says: str) -> None:
    text = HEAD + "scenarios:\n" + body
    result, _, _ = run_suite_beside(tmp_path, "bad.scenario.yaml", text)
    assert_refused(result, names="bad.scenario.yaml", line=line_of(text, needle), says=says)
    assert needle in result.text.split("bad.scenario.yaml:", 1)[1], result.text


def test_a_wrong_kind_from_the_file_defaults_names_the_scenario(tmp_path: Path) -> None:
    text = scenario("defaults: {user: '{{ faker.pyint }}'}\nscenarios:\n  - name: a\n    turns: [{user: hello}]\n")
    result, _, _ = run_suite_beside(tmp_path, "bad.scenario.yaml", text)
    assert_refused(result, names="bad.scenario.yaml", says="from `{{ faker.pyint }}`")


def test_templates_of_the_right_kind_still_load(tmp_path: Path) -> None:
    # Text inside text, numbers where numbers go (memory, fields), value bounds far above the size limit.
    path = tmp_path / "ok.scenario.yaml"
    path.write_text(scenario("""\
        scenarios:
          - name: ok
            parametrize: [{id: one, n: 4, word: towels}]
            memory: {room: '{{ faker.random_int(min=100, max=999999) }}', n: '{{ row.n }}'}
            turns:
              - user: 'I need {{ row.n }} {{ row.word }} for {{ faker.pyint(max_value=1000000000) }}'
                expect: {fields: {Count: '{{ row.n }}'}}
              - user: '{{ faker.date_this_year }}'
        """), encoding="utf-8")
    (loaded,) = load_scenario_file(path).scenarios
    assert isinstance(loaded.memory["room"], int) and loaded.memory["n"] == 4
    assert loaded.turns[0].user.startswith("I need 4 towels for ")
    assert len(loaded.turns[1].user or "") == 10  # a date, as ISO text


# --- faker asked for huge values -------------------------------------------------------------------------------

HUGE = [
    ("pystr-100-million", "faker.pystr(max_chars=100000000)", "max_chars=100000000"),
    ("random-number-100000-digits", "faker.random_number(digits=100000)", "digits=100000"),
    ("paragraph-positional", "faker.paragraph(10000000)", "nb_sentences=10000000"),
    ("texts-product", "faker.texts(nb_texts=5000, max_nb_chars=5000)", "max_nb_chars=5000, nb_texts=5000"),
    ("pylist-float-size", "faker.pylist(nb_elements=1e9)", "nb_elements=1e+09"),
    ("json-rows", "faker.json(num_rows=1000000)", "num_rows=1000000"),
    ("words-negative-huge", "faker.words(nb=-100000000)", "nb=-100000000"),
    ("random-elements-length", "faker.random_elements([1, 2, 3], length=100000000)", "length=100000000"),
    ("password-length", "faker.password(length=99999999999999999999)", "length=99999999999999999999"),
]


@pytest.fixture
def hard_timeout() -> Iterator[None]:
    """Fail (instead of hanging CI) when an in-process case runs past 30 s: SIGALRM interrupts Python code."""
    def expire(signum: int, frame: object) -> None:
        raise TimeoutError("the case ran past its 30 s hard timeout")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(30)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize(("call", "says"), [r[1:] for r in HUGE], ids=[r[0] for r in HUGE])
def test_faker_asked_for_huge_values_is_refused_before_it_runs(tmp_path: Path, hard_timeout: None, call: str,
                                                               says: str) -> None:
    # Before the guard, each of these ran for minutes or forever (hard_timeout turns a regression into a failure).
    text = scenario(f"scenarios:\n  - name: a\n    turns:\n      - user: hello\n      - user: '{{{{ {call} }}}}'\n")
    result, _, _ = run_suite_beside(tmp_path, "bad.scenario.yaml", text)
    assert_refused(result, names="bad.scenario.yaml", line=6, says="MAX_FAKER_ARGUMENT")
    assert says in result.text and "AUTOPILOT_HARNESS_MAX_FAKER_ARGUMENT" in result.text, result.text


def test_huge_faker_values_in_a_child_process_end_quickly(tmp_path: Path) -> None:
    # All of them at once, in a child process killed after 60 s: the CLI's own path, with no alarm to help it.
    turns = "".join(f"      - user: '{{{{ {row[1]} }}}}'\n" for row in HUGE)
    text = scenario(f"scenarios:\n  - name: a\n    turns:\n{turns}")
    result, _, _ = run_suite_beside(tmp_path, "bad.scenario.yaml", text, subprocess_timeout=60)
    assert_refused(result, names="bad.scenario.yaml", says=f"{len(HUGE)} problems")
    for number, row in enumerate(HUGE, start=5):
        assert f"bad.scenario.yaml:{number}:" in result.text and row[2] in result.text, (row, result.text)


def test_a_generated_value_over_the_size_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOPILOT_HARNESS_MAX_GENERATED_CHARS", "100")
    text = scenario("scenarios:\n  - name: a\n    turns:\n      - user: '{{ faker.pystr(max_chars=500) }}'\n")
    result, _, _ = run_suite_beside(tmp_path, "bad.scenario.yaml", text)
    assert_refused(result, names="bad.scenario.yaml", line=5, says="more than 100 characters (MAX_GENERATED_CHARS)")


def test_a_number_too_long_to_print_is_refused(tmp_path: Path) -> None:
    text = scenario("scenarios:\n  - name: a\n    turns:\n      - user: 'n {{ faker.random_number(digits=5000) }}'\n")
    result, _, _ = run_suite_beside(tmp_path, "bad.scenario.yaml", text)
    assert_refused(result, names="bad.scenario.yaml", line=5, says="more than 4000 digits")


def test_the_faker_size_limit_can_be_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOPILOT_HARNESS_MAX_FAKER_ARGUMENT", "20000")
    path = tmp_path / "ok.scenario.yaml"
    body = "scenarios:\n  - name: a\n    turns:\n      - user: '{{ faker.pystr(max_chars=15000) }}'\n"
    path.write_text(scenario(body),
                    encoding="utf-8")
    (loaded,) = load_scenario_file(path).scenarios
    assert len(loaded.turns[0].user or "") <= 15000


@pytest.mark.parametrize("value", ["nan", "-1", "lots", "inf"])
def test_a_bad_faker_limit_setting_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("AUTOPILOT_HARNESS_MAX_FAKER_ARGUMENT", value)
    path = tmp_path / "a.scenario.yaml"
    path.write_text(scenario("scenarios:\n  - name: a\n    turns: [{user: '{{ faker.pystr }}'}]\n"), encoding="utf-8")
    assert_refused(cli("run", path), says="AUTOPILOT_HARNESS_MAX_FAKER_ARGUMENT")


# --- numbers read elsewhere -------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "2"])
def test_a_non_finite_threshold_in_pyproject_is_refused(tmp_path: Path, value: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.autopilot-harness]\nthreshold = {value}\n", encoding="utf-8")
    (tmp_path / "a.scenario.yaml").write_text(scenario("scenarios:\n  - name: a\n    turns: [{user: hello}]\n"),
                                              encoding="utf-8")
    assert_refused(cli("run", tmp_path / "a.scenario.yaml", cwd=tmp_path), names="pyproject.toml", line=2,
                   says="threshold: expected a number from 0 to 1")


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_non_finite_chat_threshold_is_refused(value: str) -> None:
    result = cli("chat", "--bot", TINY_BOT, f"--threshold={value}", "--say", "hello")
    assert_refused(result, says="expected a confidence between 0 and 1")


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_non_finite_lint_threshold_is_refused(value: str) -> None:
    assert_refused(cli("lint", TINY_BOT, f"--threshold={value}"), says="expected a number from 0 to 1")
