"""The model router (harness/engines/autopilot/model_router.py), the default: generalisation, calibrated
confidence, out-of-scope fallback, and what users rely on from the lexical router (exact samples, fields,
`listen.tasks`, determinism, explanations).

Twilio's behaviour modelled (reference/autopilot.md §10, NLU routing; Twilio docs
/docs/autopilot/guides/task-confidence): "No match → defaults.fallback"; `listen.tasks` restricts the
candidates; `NextBestTask` is empty when the fallback is second best.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness.clock import FixedClock
from harness.engines.autopilot import routers
from harness.engines.autopilot.fieldtypes import FieldResolver
from harness.engines.autopilot.model_router import MAX_SCORED_CONFIDENCE, OUT_OF_SCOPE_SCORE, ModelRouter
from harness.engines.autopilot.router import Router
from harness.engines.autopilot.runtime import AutopilotRuntime
from harness.errors import UsageError
from harness.models.assistant import Assistant, FieldType, FieldValue, Sample, Task, TaskField, task_target
from harness.models.assistant_loader import load_assistant
from harness.runner import settings
from tests.conftest import EXAMPLES, REAL, real_files, real_path, requires_real

MONDAY = datetime(2024, 3, 4, 10, 0, tzinfo=UTC)
OFF_TOPIC_FILE = Path(__file__).resolve().parents[3] / "data" / "offtopic_hotel.txt"
OFF_TOPIC = [line.strip() for line in OFF_TOPIC_FILE.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
EXAMPLE_BOT = EXAMPLES / "hospitality" / "assistant.json"


def make(assistant: Assistant, **options) -> ModelRouter:
    options.setdefault("fallback_task", task_target(assistant.defaults.fallback or "") or None)
    return ModelRouter(assistant, resolver=FieldResolver(assistant, FixedClock(MONDAY)), **options)


def task(name: str, *samples: str, fields: tuple[TaskField, ...] = ()) -> Task:
    return Task(name, fields=fields, samples=tuple(Sample(s) for s in samples))


DISH = FieldType("Custom.DISH", (FieldValue("burger"), FieldValue("cheeseburger"), FieldValue("fries")))
RESTAURANT = Assistant("restaurant", "Restaurant", (
    task("greeting", "Hi", "hello", "hello there", "good morning"),
    task("order", "order a {dish}", "i want {dish}", "i am hungry", "can i order food",
         fields=(TaskField("dish", "Custom.DISH"),)),
    task("book", "book a table for tonight", "reserve a table", "table for two please"),
    task("goodbye", "bye", "goodbye", "no thanks"),
    task("fallback"),
), field_types=(DISH,))


@pytest.fixture(scope="module")
def restaurant() -> ModelRouter:
    return make(RESTAURANT, fallback_task="fallback")


@pytest.fixture(scope="module")
def example() -> ModelRouter:
    return make(load_assistant(EXAMPLE_BOT))


# -- what users rely on ----------------------------------------------------------------------------


def test_an_exact_sample_is_certain(restaurant):
    routed = restaurant.route("Hello there!")
    assert (routed.task, routed.method, routed.confidence, routed.next_best_task) == ("greeting", "exact", 1.0, "")


def test_a_scored_match_is_never_certain_and_fills_fields(restaurant):
    routed = restaurant.route("i want a burger and fries please")
    assert (routed.task, routed.method) == ("order", "scored")
    assert 0.4 <= routed.confidence <= MAX_SCORED_CONFIDENCE < 1.0
    assert routed.fields["dish"]["value"] in ("burger", "fries")


def test_listen_tasks_restrict_the_candidates(restaurant):
    routed = restaurant.route("i am so hungry", candidates=["greeting", "goodbye"])
    assert routed.task in (None, "greeting", "goodbye")
    assert all(r.task in ("greeting", "goodbye") for r in restaurant.explain("i am so hungry",
                                                                          candidates=["greeting", "goodbye"]).ranking)
    assert restaurant.route("i am so hungry").task == "order"


def test_routing_is_deterministic_across_trainings():
    first = make(load_assistant(EXAMPLE_BOT)).explain("could you send some towels up to my room")
    second = make(load_assistant(EXAMPLE_BOT)).explain("could you send some towels up to my room")
    assert first.to_dict() == second.to_dict()
    # Scores are rounded (6 decimals), so float noise cannot reorder equal scores.
    assert all(round(r.score, 6) == r.score for r in first.ranking)


def test_equal_scores_go_to_the_first_task():
    twins = Assistant("twins", "Twins", (task("first", "delta"), task("second", "alpha beta gamma"),
                                         task("third", "alpha beta gamma")))
    routed = make(twins, threshold=0.0).explain("beta gamma alpha")
    assert [r.task for r in routed.ranking[:2]] == ["second", "third"]
    assert routed.ranking[0].score == routed.ranking[1].score and routed.task == "second"


def test_explain_names_the_nearest_sample_and_the_features_that_weighed(example):
    routed = example.explain("could you send some towels up to my room")
    assert routed.task == "get_quantity" and routed.fields["item"]["value"] == "towels"
    assert "closest sample 'please send up {item}'" in routed.note and "weighed most: " in routed.note
    assert "'{Custom.ROOMITEMS}'" in routed.note  # the field value spotted counts as the tag
    assert {r.task for r in routed.ranking} >= {"greeting", "goodbye", "order_roomservice"}


# -- generalisation --------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("representatives please", "send_to_agent"),  # morphology: the sample says "Representative"
    ("conciergerie", "send_to_agent"),  # a misspelling, by character n-grams
    ("goodevening", "greeting"),  # words run together
    ("hellooo", "greeting"),
])
def test_character_n_grams_reach_what_words_miss(example, text, expected):
    routed = example.route(text)
    assert routed.task == expected, routed.note
    lexical = Router(example.assistant, resolver=example.resolver).route(text)
    assert lexical.task is None  # no shared word: the lexical router falls back


@pytest.mark.parametrize(("text", "expected"), [
    ("could someone bring me some extras", "deliver_roomitems"),
    ("I want to order somethin to eat", "order_roomservice"),
    ("send up extra pillows", "get_quantity"),
    ("nothing else thank you, bye", "goodbye"),
])
def test_paraphrases_route_confidently(example, text, expected):
    routed = example.route(text)
    assert (routed.task, routed.method) == (expected, "scored") and routed.confidence >= 0.9, routed.note


# -- confidence and out of scope ------------------------------------------------------------------


def test_a_lone_weak_match_no_longer_gets_confidence_one(restaurant):
    # The lexical router's margin is 1.0 when a single task scores, however weak the match.
    lexical = Router(RESTAURANT, resolver=FieldResolver(RESTAURANT, FixedClock(MONDAY)), threshold=0.0,
                     min_score=0.0).route("is it raining there")
    assert (lexical.task, lexical.confidence) == ("greeting", 1.0)  # "there", as in "hello there"
    routed = restaurant.route("is it raining there")
    assert routed.task is None and routed.confidence == 0.0 and routed.method == "none"


def test_out_of_scope_names_the_rule_in_the_note(restaurant):
    routed = restaurant.route("is it raining there")
    assert routed.task is None and routed.confidence == 0.0
    assert "below min_score" in routed.note and "out of scope" in routed.note
    assert routed.next_best_task == ""  # out of scope outweighs the runner-up (Twilio: fallback second → "")


def test_threshold_zero_routes_the_best_task_whatever_its_confidence(restaurant):
    loose = make(RESTAURANT, threshold=0.0).route("is it raining there")
    assert loose.task == "greeting" and 0.0 < loose.confidence < 0.4


def test_min_score_tunes_the_out_of_scope_rule():
    strict = make(RESTAURANT, min_score=0.9).route("i am very hungry")
    assert strict.task is None and "below min_score 0.9" in strict.note
    assert make(RESTAURANT).route("i am very hungry").task == "order"
    assert make(RESTAURANT).min_score == OUT_OF_SCOPE_SCORE


def test_off_topic_messages_fall_back_on_our_example(example):
    routed = {text: example.route(text) for text in OFF_TOPIC}
    wrong = {text: (r.task, r.confidence) for text, r in routed.items() if r.task is not None}
    assert len(OFF_TOPIC) >= 60
    assert len(wrong) <= 0.1 * len(OFF_TOPIC), wrong  # issue 12: at least 90 % fall back


@requires_real
def test_off_topic_messages_fall_back_on_the_real_hospitality_export():
    router = make(load_assistant(real_path("autopilot/Hospitality/schema.json")))
    wrong = {text: router.route(text).task for text in OFF_TOPIC if router.route(text).task is not None}
    assert len(wrong) <= 0.1 * len(OFF_TOPIC), wrong


REAL_ASSISTANTS = real_files("autopilot", "schema.json") + real_files("autopilot/autopilot-cli", "*.json")


@requires_real
@pytest.mark.parametrize("path", REAL_ASSISTANTS, ids=[str(p.relative_to(REAL)) for p in REAL_ASSISTANTS])
def test_every_real_sample_routes_to_its_own_task_with_the_model(path: Path):
    from harness.insight.lint_rules import sample_utterance

    assistant = load_assistant(path)
    router = make(assistant)
    duplicated = {}
    for owner in assistant.tasks:
        for sample in owner.samples:
            duplicated.setdefault(sample.tagged_text.lower().strip(" .!?"), set()).add(owner.unique_name)
    for owner in assistant.tasks:
        for sample in owner.samples:
            routed = router.route(sample_utterance(assistant, owner, sample.tagged_text))
            # The same text in two tasks goes to the first (a tie); anything else to its own task.
            assert routed.task == owner.unique_name or routed.task in duplicated[
                sample.tagged_text.lower().strip(" .!?")], (sample.tagged_text, routed.note)
            assert routed.method == "exact"


# -- choosing the router ---------------------------------------------------------------------------


def test_the_router_names_agree():
    assert routers.ROUTER_NAMES == settings.ROUTER_NAMES and routers.DEFAULT_ROUTER == settings.DEFAULT_ROUTER
    assert routers.router_class("model") is ModelRouter and routers.router_class("lexical") is Router
    with pytest.raises(UsageError, match="unknown router 'neural'"):
        routers.router_class("neural")


def test_the_runtime_trains_the_router_it_is_given():
    assistant = load_assistant(EXAMPLE_BOT)
    assert isinstance(AutopilotRuntime().train(assistant).router, ModelRouter)
    lexical = AutopilotRuntime(router="lexical").train(assistant).router
    assert type(lexical) is Router
    assert AutopilotRuntime(min_score=0.5).train(assistant).router.min_score == 0.5


def _pyproject(folder: Path, body: str) -> Path:
    (folder / "pyproject.toml").write_text(f"[tool.autopilot-harness]\n{body}\n", encoding="utf-8")
    return folder / "pyproject.toml"


def test_settings_read_router_and_min_score(tmp_path: Path):
    read = settings.read_settings(_pyproject(tmp_path, 'router = "lexical"\nmin_score = 0.3'))
    assert (read.router, read.min_score) == ("lexical", 0.3)
    assert settings.read_settings(None).router == "model"


@pytest.mark.parametrize(("body", "says"), [
    ('router = "neural"', 'router: expected "model" or "lexical", found \'neural\''),
    ("router = 3", 'router: expected "model" or "lexical", found 3'),
    ("min_score = 2", "min_score: expected a number from 0 to 1, found 2"),
    ('min_score = "low"', "min_score: expected a number from 0 to 1, found 'low'"),
])
def test_bad_router_settings_are_usage_errors_with_the_line(tmp_path: Path, body: str, says: str):
    with pytest.raises(UsageError) as caught:
        settings.read_settings(_pyproject(tmp_path, body))
    assert says in caught.value.message and caught.value.location.line == 2


def _project(tmp_path: Path, body: str = "") -> Path:
    bot = tmp_path / "bot.json"
    bot.write_text(EXAMPLE_BOT.read_text(encoding="utf-8"), encoding="utf-8")
    if body:
        _pyproject(tmp_path, body)
    return bot


def test_chat_takes_the_router_of_the_bots_project_and_the_option_wins(tmp_path: Path, capsys):
    from harness.cli import main

    bot = _project(tmp_path, 'router = "lexical"')
    assert main(["chat", "--bot", str(bot), "--say", "what time is it in Tokyo", "--json"]) == 0
    lexical = json.loads(capsys.readouterr().out)["turns"][0]
    assert lexical["task"] == "greeting"  # the lexical router's confident mistake (issue 12)
    assert main(["chat", "--bot", str(bot), "--say", "what time is it in Tokyo", "--json",
                 "--router", "model"]) == 0
    assert json.loads(capsys.readouterr().out)["turns"][0]["task"] == "fallback"


def test_run_router_option_overrides_the_project(tmp_path: Path, monkeypatch, capsys):
    from harness.cli import main

    _project(tmp_path)
    (tmp_path / "t.scenario.yaml").write_text(
        "bot: bot.json\nscenarios:\n  - name: off topic\n    turns:\n"
        "      - user: what time is it in Tokyo\n        expect: {task: fallback}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["run", "t.scenario.yaml", "-q"]) == 0
    assert main(["run", "t.scenario.yaml", "-q", "--router", "lexical"]) == 1
    _pyproject(tmp_path, 'router = "lexical"')
    assert main(["run", "t.scenario.yaml", "-q"]) == 1
    assert main(["run", "t.scenario.yaml", "-q", "--router", "model"]) == 0
    capsys.readouterr()


def test_nlu_eval_compares_routers_and_reports_calibration(tmp_path: Path, capsys):
    from harness.cli import main

    bot = _project(tmp_path)
    assert main(["nlu-eval", str(bot), "--router", "model", "--router", "lexical", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["router"] == "model"
    assert [row["router"] for row in report["comparison"]] == ["model", "lexical"]
    cv = report["cross_validation"]
    assert 0.0 <= cv["expected_calibration_error"] <= 1.0
    assert sum(b["count"] for b in cv["calibration"]) == len(cv["predictions"])
    assert main(["nlu-eval", str(bot), "--router", "model", "--router", "lexical"]) == 0
    text = capsys.readouterr().out
    assert "expected calibration error" in text and "routers compared on the same folds" in text


@pytest.mark.parametrize("argv", [
    ["chat", "--bot", str(EXAMPLE_BOT), "--say", "hi", "--router", "neural"],
    ["nlu-eval", str(EXAMPLE_BOT), "--router", "neural"],
    ["run", str(EXAMPLES.parent / "scenarios"), "--router", "neural"],
])
def test_an_unknown_router_option_is_exit_2_before_anything_runs(argv, capsys):
    from harness.cli import main

    assert main(argv) == 2
    captured = capsys.readouterr()
    assert "unknown router 'neural': expected one of model, lexical" in captured.err
    assert "Traceback" not in captured.err and captured.out == ""


def test_bots_without_samples_and_inputs_without_words_fall_back():
    empty = make(Assistant("e", "e", (task("fallback"),)))
    assert empty.route("hello").task is None and empty.explain("hello").ranking[0].score == 0.0
    one = make(Assistant("o", "o", (task("only", "hello"), task("fallback"))))
    assert one.route("!!!").note == "empty input"
    assert one.route("hello there", candidates=["fallback"]).task is None
    assert one.route("zzz qqq").note == "no sample shares a word with the input"


def test_lint_ap104_routes_with_the_configured_router(tmp_path: Path):
    from harness.insight.lint_rules import LintConfig, lint_assistant

    # AP104 trains the router it is told to ([tool.autopilot-harness] router); our example is clean under both.
    bot = load_assistant(EXAMPLE_BOT)
    for router in ("model", "lexical"):
        findings = [f for f in lint_assistant(bot, config=LintConfig(router=router)) if f.rule.id == "AP104"]
        assert findings == []
    with pytest.raises(UsageError, match="unknown router"):
        lint_assistant(bot, config=LintConfig(router="neural"))


def test_min_score_of_the_project_reaches_nlu_eval_and_lint(tmp_path: Path, capsys):
    from harness.cli import main

    bot = _project(tmp_path)
    extra = tmp_path / "extra.csv"
    extra.write_text("text,task\nsend up extra pillows please,get_quantity\n", encoding="utf-8")
    assert main(["nlu-eval", str(bot), "--extra", str(extra), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["extra"]["predictions"][0]["predicted"] == "get_quantity"
    _pyproject(tmp_path, "min_score = 0.95")  # everything is out of scope now
    assert main(["nlu-eval", str(bot), "--extra", str(extra), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["extra"]["predictions"][0]["predicted"] == "(none)"
    main(["lint", str(bot), "--json"])
    assert "AP104" not in capsys.readouterr().out
    _pyproject(tmp_path, "min_score = 0.0")  # nothing is out of scope: weak held-out samples route elsewhere
    main(["lint", str(bot), "--json"])
    assert "AP104" in capsys.readouterr().out
