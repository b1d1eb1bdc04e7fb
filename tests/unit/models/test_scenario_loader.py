"""The scenario file loader: the model it builds, and every kind of problem at file:line:column."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from harness.errors import HarnessError, HarnessErrors, LoadError, ReferenceProblem, SchemaError
from harness.models.actions import load_schema
from harness.models.scenario import (
    Comparison,
    FieldExpect,
    FlexHandoffExpect,
    HttpHandoffExpect,
    Scenario,
    TextMatch,
    load_scenario_file,
    scenario_file_from_source,
)
from harness.sources import parse_text

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "scenarios"
ROOT = Path(__file__).resolve().parents[3]


def load_text(text: str, name: str = "inline.scenario.yaml", folder: Path = FIXTURES):
    """Load YAML text as if it were a file in `folder` (paths resolve there)."""
    source = parse_text(textwrap.dedent(text), path=str(folder / name), kind="yaml")
    return scenario_file_from_source(source)


def problems_of(call) -> list[str]:
    """Every rendered problem of a failing load, one string each (path shortened to the file name)."""
    with pytest.raises(HarnessError) as info:
        call()
    errors = info.value.errors if isinstance(info.value, HarnessErrors) else [info.value]
    return [e.render().replace(str(FIXTURES) + "/", "") for e in errors]


# --- a valid file ----------------------------------------------------------------------------------------


def test_valid_file_builds_the_model() -> None:
    loaded = load_scenario_file(FIXTURES / "valid.yaml")
    assert loaded.bots == {None: FIXTURES / "bot.json"}
    assert loaded.channel == "whatsapp"
    assert loaded.clock == "2024-05-01T09:00:00Z"  # an unquoted YAML timestamp becomes ISO text
    assert loaded.url_map == {"https://example.twil.io": "http://127.0.0.1:3000"}
    assert [s.as_dict() for s in loaded.servers] == [
        {"wsgi": "examples.contact_center.app:create_app", "url": "https://contact-center.example.com"}]
    assert loaded.seed == 7
    assert loaded.includes == (FIXTURES / "parts" / "greet.yaml",)

    greeting, variants = loaded.scenarios
    assert greeting.id == "greeting"
    # tags: parts defaults, then the file's defaults, then the scenario's own
    assert greeting.tags == ("shared", "smoke", "routing")
    assert greeting.memory == {"language": "en", "vip": True}
    assert (greeting.channel, greeting.user) == ("whatsapp", "+15550001111")
    assert variants.channel == "sms"  # a scenario's own channel wins

    spliced, bye = greeting.turns
    assert spliced.user == "hello" and spliced.expect.task == "greet"
    assert spliced.expect.replies == (TextMatch("equals", "Hello!"),)
    assert bye.expect.confidence == Comparison(">=", 0.6)
    assert bye.expect.replies == (TextMatch("contains", "Bye"),)
    assert bye.expect.ended is True
    assert greeting.expect.no_handoff is True and greeting.expect.ended is True


def test_spliced_turns_remember_the_parts_file_they_came_from() -> None:
    greeting = load_scenario_file(FIXTURES / "valid.yaml").scenarios[0]
    location = greeting.turns[0].origin.location()
    assert location.path is not None and location.path.endswith("parts/greet.yaml")
    assert (location.line, location.column) == (5, 5)
    own = greeting.turns[1].expect.origin.location("task")
    assert own.path.endswith("valid.yaml") and own.line == 22


def test_bot_given_as_a_folder_means_its_schema_json(tmp_path: Path) -> None:
    (tmp_path / "bot").mkdir()
    (tmp_path / "bot" / "schema.json").write_text("{}")
    sid = "UA" + "0" * 31 + "1"
    loaded = load_text(f"""
        bot: {{{sid}: bot}}
        scenarios: [{{name: a, turns: [{{user: hi}}]}}]
    """, folder=tmp_path)
    assert loaded.bots == {sid: tmp_path / "bot" / "schema.json"}


def test_every_expectation_kind_is_modelled() -> None:
    loaded = load_text("""
        scenarios:
          - name: all
            turns:
              - user: hi
                expect:
                  task: greet
                  confidence: 0.5
                  next_best_task: goodbye
                  fields: {Count: 2, Item: {value: towel, type: Custom.ITEMS}, Gone: null}
                  replies: [Hi, {regex: "^How"}, {one_of: [a, b]}, {equals: x}]
                  memory: {a.b: 1}
                  ended: false
            expect:
              flow: {path: [Trigger, Bot], mode: subsequence,
                     events: {Bot: sessionEnded, Split: [match, noMatch]}, variables: {x: 1}, status: ended}
              messages: ["Hello", {body: {contains: Hi}, from: Hotel Concierge, widget: Bot}]
              handoff:
                flex: {attributes: {name: x}, attributes_schema: attributes.schema.json,
                       queue: Q, priority: 1}
              memory: {sendToAgent: true}
      """)
    (scenario,) = loaded.scenarios
    turn = scenario.turns[0].expect
    assert turn.confidence == Comparison(">=", 0.5)
    assert turn.fields == {"Count": FieldExpect(2), "Item": FieldExpect("towel", "Custom.ITEMS"),
                           "Gone": None}
    assert [m.kind for m in turn.replies] == ["equals", "regex", "one_of", "equals"]
    expect = scenario.expect
    assert expect.flow.mode == "subsequence"
    assert expect.flow.events == {"Bot": ("sessionEnded",), "Split": ("match", "noMatch")}
    assert expect.flow.events_all == {"Split"}
    assert expect.messages[0].body == TextMatch("equals", "Hello")
    assert expect.messages[1].sender == "Hotel Concierge" and expect.messages[1].body.kind == "contains"
    assert isinstance(expect.handoff, FlexHandoffExpect)
    assert expect.handoff.attributes_schema["required"] == ["name"]  # read from the file beside it


def test_http_handoff_and_inline_schema() -> None:
    loaded = load_text("""
        scenarios:
          - name: http
            turns: [{user: agent}]
            expect:
              handoff:
                http: {method: post, url: {contains: /handoffs}, body: {lastTask: agent},
                       body_schema: {type: object, required: [memory]}, status: 201, response: {ok: true}}
    """)
    handoff = loaded.scenarios[0].expect.handoff
    assert isinstance(handoff, HttpHandoffExpect)
    assert handoff.method == "POST" and handoff.url == TextMatch("contains", "/handoffs")
    assert handoff.body_schema == {"type": "object", "required": ["memory"]}


@pytest.mark.parametrize(("raw", "op", "value"), [
    (0.6, ">=", 0.6), (">= 0.6", ">=", 0.6), ("<0.3", "<", 0.3), ("== 1", "==", 1.0), (".5", ">=", 0.5)])
def test_confidence_comparisons_parse(raw, op: str, value: float) -> None:
    assert Comparison.parse(raw) == Comparison(op, value)


def test_comparison_holds() -> None:
    assert Comparison(">=", 0.6).holds(0.6) and not Comparison(">=", 0.6).holds(0.59)
    assert Comparison("<", 0.3).holds(0.1) and not Comparison("<", 0.3).holds(0.3)
    assert not Comparison(">=", 0.1).holds(None)
    with pytest.raises(ValueError):
        Comparison.parse("about 0.5")


def test_text_matches() -> None:
    assert TextMatch("contains", "towel").matches("two towels")
    assert TextMatch("regex", r"\d+ towels?").matches("send 2 towels please")
    assert not TextMatch("regex", r"^\d").matches("send 2")
    assert TextMatch("one_of", ("a", "b")).matches("b") and not TextMatch("one_of", ("a",)).matches("c")
    assert not TextMatch("equals", "x").matches(None)


# --- include --------------------------------------------------------------------------------------------


def test_include_defaults_apply_and_the_file_wins() -> None:
    loaded = load_text("""
        include: [parts/defaults_only.yaml, parts/greet.yaml]
        scenarios:
          - name: a
            turns: [{include: parts/greet.yaml}, {user: bye}]
    """)
    (scenario,) = loaded.scenarios
    assert scenario.channel == "chat"  # from defaults_only.yaml
    assert [t.user for t in scenario.turns] == ["hello", "bye"]
    explicit = load_text("""
        include: [parts/defaults_only.yaml]
        channel: voice
        scenarios: [{name: a, turns: [{user: hi}]}]
    """)
    assert explicit.scenarios[0].channel == "voice"


def test_circular_include_is_reported() -> None:
    problems = problems_of(lambda: load_text("""
        scenarios:
          - name: loop
            turns: [{include: parts/loop_a.yaml}]
    """))
    assert problems == [
        "parts/loop_b.yaml:3:14 (/turns/1/include): circular include: inline.scenario.yaml → loop_a.yaml → "
        "loop_b.yaml → loop_a.yaml"]


def test_parts_file_problems_point_into_the_parts_file() -> None:
    problems = problems_of(lambda: load_text("""
        scenarios:
          - name: a
            turns: [{include: parts/bad.yaml}, {include: parts/defaults_only.yaml}]
    """))
    assert problems == [
        "inline.scenario.yaml:4:50 (/scenarios/0/turns/1/include): parts/defaults_only.yaml has no `turns` "
        "to include",
        "parts/bad.yaml:3:20 (/turns/0/expect/taks): unknown key 'taks' (did you mean 'task'?); "
        "allowed keys: task, confidence, next_best_task, fields, replies, memory, memory_absent, tasks_run, "
        "ended, handoff",
    ]


# --- faker ----------------------------------------------------------------------------------------------


def faker_values(seed_line: str = "") -> list[tuple]:
    text = (FIXTURES / "faker.yaml").read_text()
    if seed_line:
        text = text.replace("seed: 42", seed_line)
    loaded = scenario_file_from_source(parse_text(text, path=str(FIXTURES / "f.yaml"), kind="yaml"))
    return [(s.user, dict(s.memory), tuple(t.user for t in s.turns)) for s in loaded.scenarios]


def test_faker_values_are_reproducible_with_the_seed() -> None:
    first = faker_values()
    assert faker_values() == first
    assert faker_values("seed: 43") != first
    (user, memory, turns), (other_user, _, other_turns) = first
    assert isinstance(memory["room"], int) and 100 <= memory["room"] <= 999  # a whole template keeps its type
    assert user != other_user and turns != other_turns  # each scenario has its own stream


def test_the_same_faker_expression_gives_the_same_value_in_a_scenario() -> None:
    scenario = load_scenario_file(FIXTURES / "faker.yaml").scenarios[0]
    name = scenario.memory["guest"]
    assert scenario.turns[0].user == f"my name is {name}"
    assert scenario.turns[0].expect.memory == {"guest": name}


def test_faker_is_imported_only_when_a_file_uses_it_and_values_match_across_processes() -> None:
    code = ("import sys; from harness.models.scenario import load_scenario_file as load; "
            f"load({str(FIXTURES / 'valid.yaml')!r}); before = 'faker' in sys.modules; "
            f"user = load({str(FIXTURES / 'faker.yaml')!r}).scenarios[0].user; "
            "print(before, 'faker' in sys.modules, user)")
    env = {**os.environ, "PYTHONHASHSEED": "123"}  # another process, as an xdist worker would be
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True,
                         env=env)
    here = load_scenario_file(FIXTURES / "faker.yaml").scenarios[0].user
    assert out.stdout.split() == ["False", "True", here]


def test_faker_problems() -> None:
    problems = problems_of(lambda: load_text("""
        scenarios:
          - name: a
            user: "{{ faker.phone_numbr() }}"
            turns:
              - user: "{{ faker.random_int(min=x) }}"
              - user: "{{ faker.random_int(min=9, max=1) }}"
    """))
    assert problems[0] == ("inline.scenario.yaml:4:11 (/scenarios/0/user): faker has no provider "
                           "'phone_numbr' (did you mean 'phone_number'?)")
    assert problems[1].startswith("inline.scenario.yaml:6:15 (/scenarios/0/turns/0/user): faker arguments "
                                  "must be literals")
    assert problems[2].startswith("inline.scenario.yaml:7:15 (/scenarios/0/turns/1/user): "
                                  "faker.random_int(...) failed:")


# --- parametrize and variants ---------------------------------------------------------------------------


def test_parametrize_rows_make_one_scenario_each_with_ids() -> None:
    scenarios = load_scenario_file(FIXTURES / "rows.yaml").scenarios
    assert [s.id for s in scenarios] == ["order food[pizza-2]", "order food[big-burger]",
                                         "order food[New_York_bagel-1]"]
    pizza = scenarios[0]
    assert pizza.turns[0].user == "I want 2 pizza"
    assert pizza.turns[0].expect.fields == {"Food": FieldExpect("pizza"), "Count": FieldExpect(2)}
    assert pizza.tags == ("food",) and pizza.row == {"food": "pizza", "count": 2}


def test_parametrize_list_shorthand_and_fallback_ids() -> None:
    loaded = load_text("""
        scenarios:
          - name: a
            parametrize: [{guest: {name: Ann}}, {guest: {name: Bob}}]
            turns: [{user: "I am {{ row.guest.name }}"}]
    """)
    assert [(s.id, s.turns[0].user) for s in loaded.scenarios] == [
        ("a[row1]", "I am Ann"), ("a[row2]", "I am Bob")]


def test_row_problems() -> None:
    problems = problems_of(lambda: load_scenario_file(FIXTURES / "invalid" / "semantic.yaml"))
    at = "invalid/semantic.yaml:"
    assert (at + "16:9 (/scenarios/2/parametrize/1): duplicate row id 'pizza' (row 1 has it too)\n"
                 "  hint: give each row a unique `id:`") in problems
    assert (at + "18:15 (/scenarios/2/turns/0/user): 'row.drink': the row has no key 'drink' "
                 "(keys: food)") in problems
    assert (at + "7:15 (/scenarios/0/turns/1/user): '{{ row.food }}' is used but the scenario "
                 "has no `parametrize` rows") in problems


def test_variants_expand_to_every_combination_with_stable_ids() -> None:
    variants = load_scenario_file(FIXTURES / "valid.yaml").scenarios[1]
    assert not variants.is_concrete and variants.variant_count == 6
    expanded = list(variants.expanded())
    assert [s.id for s in expanded] == [
        "greeting variants[v1-v1]", "greeting variants[v1-v2]", "greeting variants[v2-v1]",
        "greeting variants[v2-v2]", "greeting variants[v3-v1]", "greeting variants[v3-v2]"]
    third = expanded[3]
    assert third.is_concrete
    assert [(t.user, t.variant) for t in third.turns] == [("hi there", 2), ("goodbye", 2)]
    assert third.turns[0].expect.task == "greet"
    assert [s.id for s in variants.expanded()] == [s.id for s in expanded]  # stable


def test_rows_and_variants_combine_in_the_id() -> None:
    first = load_scenario_file(FIXTURES / "rows.yaml").scenarios[1]
    assert [s.id for s in first.expanded()] == ["order food[big-burger-v1]", "order food[big-burger-v2]"]


def test_a_scenario_without_variants_expands_to_itself() -> None:
    scenario = Scenario(name="plain", turns=())
    assert list(scenario.expanded()) == [scenario] and scenario.id == "plain"


# --- problems -------------------------------------------------------------------------------------------


def test_malformed_yaml_has_line_and_column() -> None:
    with pytest.raises(LoadError) as info:
        load_scenario_file(FIXTURES / "invalid" / "malformed.yaml")
    # The bracket that is never closed (line 3, column 12), not the end of the file where PyYAML noticed.
    assert info.value.location.line == 3 and info.value.location.column == 12
    assert "malformed YAML" in info.value.message and "`turns`" in info.value.message


def test_schema_problems_are_all_reported_in_file_order() -> None:
    problems = problems_of(lambda: load_scenario_file(FIXTURES / "invalid" / "schema_errors.yaml"))
    prefix = "invalid/schema_errors.yaml:"
    assert problems == [
        prefix + '2:10 (/channel): expected one of sms, whatsapp, chat, messenger, voice, found "telegram"',
        prefix + '5:16 (/scenarios/0/tags/1): expected a tag made of letters, digits and _ (a pytest marker '
                 'name), found "not a tag"',
        prefix + "10:23 (/scenarios/0/turns/0/expect/confidence): expected a number or a comparison such as "
                 "'>= 0.6', found \"about 0.5\"",
        prefix + "11:19 (/scenarios/0/turns/0/expect/replys): unknown key 'replys' (did you mean "
                 "'replies'?); allowed keys: task, confidence, next_best_task, fields, replies, memory, "
                 "memory_absent, tasks_run, ended, handoff",
        prefix + "12:15 (/scenarios/0/turns/1/user): expected a string (quote numbers and yes/no, e.g. '42', "
                 "'yes'), found 42",
        prefix + "13:9 (/scenarios/0/turns/2): expected exactly one of `user`, `variants`, `wait`, `digits` or "
                 "`include` (an include takes no `expect`), found an empty object",
        prefix + "15:12 (/scenarios/1/turns): expected at least 1 item(s), found 0",
        prefix + "16:13 (/scenarios/1/colour): unknown key 'colour'; allowed keys: name, description, tags, "
                 "target_task, memory, channel, channels, user, trigger, parameters, parametrize, provider_state, "
                 "turns, expect, replay",
    ]


def test_semantic_problems_are_all_reported() -> None:
    problems = problems_of(lambda: load_scenario_file(FIXTURES / "invalid" / "semantic.yaml"))
    at = "invalid/semantic.yaml:"
    assert problems[0].startswith(at + "1:6 (/bot): file not found: ../missing.json (resolved to ")
    assert problems[0].endswith("\n  hint: paths are relative to the file that names them")
    assert problems[1] == (at + "2:8 (/clock): clock 'tomorrow morning': expected an ISO 8601 date-time such as "
                                "2024-05-01T09:00:00Z")
    assert (at + "10:29 (/scenarios/0/turns/2/expect/replies/0/regex): invalid regex: "
                 "missing ) at position 9") in problems
    assert (at + "11:11 (/scenarios/1/name): duplicate scenario name 'dup' (scenario 1 has it "
                 "too); names are unique in a file") in problems
    assert any(p.startswith(at + "19:18 (/scenarios/2/turns/1/include): file not found: "
                            "../parts/nope.yaml") for p in problems)
    assert len(problems) == 9


@pytest.mark.parametrize(("text", "expected"), [
    ("", "inline.scenario.yaml: the file is empty: expected a mapping with `scenarios: [...]`"),
    ("- a\n", "inline.scenario.yaml:1:1: expected a scenario file (a mapping with `scenarios: [...]`), "
              "found a list"),
    ("bot: bot.json\n", "inline.scenario.yaml:1:1: missing required key 'scenarios'"),
    ("scenarios: [{name: a, turns: [{user: hi, variants: [x]}]}]\n",
     "inline.scenario.yaml:1:31 (/scenarios/0/turns/0): a turn has exactly one of `user`, `variants`, "
     "`wait`, `digits` or `include`; found more than one"),
    ("scenarios: [{name: 'a[1]', turns: [{user: hi}]}]\n",
     "inline.scenario.yaml:1:20 (/scenarios/0/name): expected a name on one line without '[', ']' or '::', "
     'found "a[1]"'),
    ("bot: {UA12: bot.json}\nscenarios: [{name: a, turns: [{user: hi}]}]\n",
     'inline.scenario.yaml:1:6 (/bot): invalid key "UA12": expected an assistant SID (UA and 32 hex digits)'),
    ("scenarios: [{name: a, turns: [{user: hi}], expect: {handoff: {flex: {}, http: {}}}}]\n",
     "inline.scenario.yaml:1:62 (/scenarios/0/expect/handoff): expected exactly one key, "
     "found 2 (flex, http)"),
    ("scenarios: [{name: a, turns: [{user: hi}], expect: {messages: [{body: hi, sender: x}]}}]\n",
     "inline.scenario.yaml:1:83 (/scenarios/0/expect/messages/0/sender): unknown key 'sender'; allowed keys: "
     "body, from, to, channel, widget"),
    ("scenarios: [{name: a, turns: [{user: hi}], expect: {handoff: {flex: {attributes_schema: {type: 3}}}}}]"
     "\n",
     "inline.scenario.yaml:1:89 (/scenarios/0/expect/handoff/flex/attributes_schema): not a valid JSON "
     "Schema: 3 is not valid under any of the given schemas (at /type)"),
])
def test_single_problems(text: str, expected: str) -> None:
    assert problems_of(lambda: load_text(text)) == [expected]


def test_problem_kinds() -> None:
    with pytest.raises(HarnessErrors) as info:
        load_scenario_file(FIXTURES / "invalid" / "semantic.yaml")
    kinds = {type(e) for e in info.value.errors}
    assert kinds == {ReferenceProblem, SchemaError}


def test_the_editor_comment_is_ignored_and_the_schema_is_publishable() -> None:
    assert (FIXTURES / "valid.yaml").read_text().startswith("# yaml-language-server: $schema=")
    schema = load_schema("scenario.schema.json")
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == "https://autopilot-harness.dev/schemas/scenario.schema.json"
    def documented(spec: dict) -> bool:
        target = schema["$defs"].get(spec.get("$ref", "#/$defs/").rsplit("/", 1)[1], {})
        return "description" in spec or "description" in target

    undocumented = [key for key, spec in schema["properties"].items() if not documented(spec)]
    assert undocumented == []
    assert json.loads(json.dumps(schema)) == schema  # plain JSON, publishable as is
