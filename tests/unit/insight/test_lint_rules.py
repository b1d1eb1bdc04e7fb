"""Lint rules (issue 6 §1): each rule fails on a broken example and passes on the fixed one."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.errors import HarnessError
from harness.insight.lint_rules import RULES, LintConfig, lint_assistant, lint_flow, to_sarif
from harness.models.assistant_loader import assistant_from_dict
from harness.models.flow import flow_from_dict, load_flow
from tests.conftest import EXAMPLES, real_files, real_path

BOT = json.loads((EXAMPLES / "hospitality" / "assistant.json").read_text())
FLOW = json.loads((EXAMPLES / "hospitality" / "flows" / "flex_messaging.json").read_text())
QUIET = LintConfig(frozenset({"AP104"}))  # leave-one-out routing has its own tests


def ids(findings: list[Any]) -> list[str]:
    return [f.rule.id for f in findings]


def bot(change: Any = None) -> Any:
    data = copy.deepcopy(BOT)
    if change:
        change(data)
    return assistant_from_dict(data, path="bot.json")


def task(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in data["tasks"] if t["uniqueName"] == name)


def flow(change: Any = None) -> Any:
    data = copy.deepcopy(FLOW)
    if change:
        change(data)
    return flow_from_dict(data, path="flow.json")


def state(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in data["states"] if s["name"] == name)


def test_the_example_bot_and_flow_pass_every_rule_but_ap104() -> None:
    assert ids(lint_assistant(bot(), config=QUIET)) == []
    assert ids(lint_flow(flow(), bots={None: bot()})) == []


def test_ap101_few_samples() -> None:
    found = lint_assistant(bot(lambda d: task(d, "greeting").update(samples=task(d, "greeting")["samples"][:3])),
                           config=QUIET)
    assert ids(found) == ["AP101"] and "'greeting' has 3 sample(s)" in found[0].message
    assert found[0].location.line is None and found[0].location.pointer == "/tasks/0/samples"


def test_ap102_unreachable_task() -> None:
    def orphan(d: dict[str, Any]) -> None:
        d["tasks"].append({"uniqueName": "orphan", "actions": {"actions": [{"say": "hi"}, {"listen": True}]},
                           "fields": [], "samples": []})
    assert ids(lint_assistant(bot(orphan), config=QUIET)) == ["AP102"]
    # A flow that targets the task makes it reachable.
    flow_targeting = flow(lambda d: state(d, "HotelBot")["properties"].update(target_task="orphan"))
    assert ids(lint_assistant(bot(orphan), flows=[flow_targeting], config=QUIET)) == []


def test_ap103_duplicate_sample() -> None:
    found = lint_assistant(bot(lambda d: task(d, "goodbye")["samples"].append({"language": "en-US",
                                                                                "taggedText": "Hello!"})),
                           config=QUIET)
    assert "AP103" in ids(found)
    assert any("also a sample of task 'greeting'" in f.message for f in found)


# Samples the example gained to be lint-clean; without them 'good night' & co. route elsewhere (AP104).
EXAMPLE_AP104_FIXES = ("have a good night", "good night then", "see you soon", "catch you later",
                       "I need something to eat", "I want to order some food", "I want to order lunch",
                       "can I order dinner?")


def test_ap104_sample_routing_elsewhere_when_held_out() -> None:
    assert not lint_assistant(bot(), config=LintConfig())  # the example itself is clean
    found = lint_assistant(bot(lambda d: [t["samples"].remove(s) for t in d["tasks"] for s in list(t["samples"])
                                          if s["taggedText"] in EXAMPLE_AP104_FIXES]), config=LintConfig())
    assert ids(found) and set(ids(found)) == {"AP104"}
    assert any("'good night' of task 'goodbye' routes to 'greeting'" in f.message for f in found)
    clean = bot(lambda d: [task(d, "goodbye")["samples"].remove(s) for s in list(task(d, "goodbye")["samples"])
                           if s["taggedText"] in ("see you later", "good night")]
                and [task(d, "order_roomservice")["samples"].remove(s)
                     for s in list(task(d, "order_roomservice")["samples"])
                     if s["taggedText"] in ("I need some food", "I want to order dinner")])
    assert not any(f.message.startswith("sample 'good night'") for f in lint_assistant(clean, config=LintConfig()))


def test_ap105_task_after_collect_ends_dialogue() -> None:
    def no_listen(d: dict[str, Any]) -> None:
        actions = task(d, "complete_collect_roomitems")["actions"]["actions"]
        actions[:] = [a for a in actions if "listen" not in a]
    found = lint_assistant(bot(no_listen), config=QUIET)
    assert ids(found) == ["AP105"] and "completes a collect" in found[0].message


def test_ap106_default_missing_task() -> None:
    found = lint_assistant(bot(lambda d: d["defaults"]["defaults"].update(fallback="task://nope")), config=QUIET)
    assert "AP106" in ids(found)


def test_st201_split_on_unknown_widget() -> None:
    found = lint_flow(flow(lambda d: state(d, "CheckHandoff")["properties"].update(
        input="{{widgets.HotelBott.memory.sendToAgent}}")))
    assert ids(found) == ["ST201"] and found[0].severity == "error"
    assert found[0].hint == "did you mean 'HotelBot'?"


def test_st202_liquid_unknown_widget_variable_and_root() -> None:
    def body(d: dict[str, Any]) -> None:
        state(d, "Goodbye")["properties"]["body"] = ("{{widgets.Nope.x}} {{flow.variables.unset}} {{foo.bar}} "
                                                     "{% assign a = 1 %}{{a}}")
    messages = [f.message for f in lint_flow(flow(body))]
    assert len(messages) == 3
    assert any("widgets.Nope" in m for m in messages) and any("flow.variables.unset" in m for m in messages)
    assert any("'foo' is not a Studio variable" in m for m in messages)


def test_st203_flex_attributes_not_json() -> None:
    bad = flow(lambda d: state(d, "SendToConcierge")["properties"].update(
        attributes='{"name": {{trigger.message.From}}}'))
    found = lint_flow(bad)
    assert ids(found) == ["ST203"] and found[0].severity == "error"
    optional = flow(lambda d: state(d, "SendToConcierge")["properties"].update(
        attributes='{"vip": {% if widgets.HotelBot.memory.vip %}true{% endif %}}'))  # JSON only when set
    found = lint_flow(optional)
    assert ids(found) == ["ST203"] and found[0].severity == "warning"
    fixed = flow(lambda d: state(d, "SendToConcierge")["properties"].update(
        attributes='{"memory": {{widgets.HotelBot.memory | to_json}}}'))
    assert ids(lint_flow(fixed)) == []


@pytest.mark.parametrize(("sender", "with_flex", "problem"), [
    ("{{trigger.message.ChannelAttributes.from}}", True, False),
    ("{{trigger.message.ChannelAttributes.from}}", False, True),
    ("{{flow.channel.address}}", False, False),
    ("{{flow.channel.address}}", True, True),
    ("The Harbour Hotel", True, False),
    ("Some Other Bot", True, True),
])
def test_st204_the_guides_sender_rules(sender: str, with_flex: bool, problem: bool) -> None:
    def change(d: dict[str, Any]) -> None:
        state(d, "HotelBot")["properties"]["from"] = sender
        if not with_flex:
            state(d, "CheckHandoff")["transitions"][1]["next"] = "Goodbye"
            d["states"] = [s for s in d["states"] if s["type"] != "send-to-flex" and s["name"] != "HandoffFailed"]
    assert ids(lint_flow(flow(change), bots={None: bot()})) == (["ST204"] if problem else [])


def test_st205_unhandled_failure() -> None:
    found = lint_flow(flow(lambda d: state(d, "HotelBot")["transitions"].pop(1)))  # the failure entry
    assert sorted(ids(found)) == ["ST205", "ST206"]  # and BotUnavailable is now unreachable
    assert "'failure'" in next(f.message for f in found if f.rule.id == "ST205")


def test_st206_unreachable_state() -> None:
    found = lint_flow(flow(lambda d: state(d, "CheckHandoff")["transitions"][1].update(next="Goodbye")))
    assert sorted(ids(found)) == ["ST206", "ST206"]  # SendToConcierge and HandoffFailed


def test_xf301_flow_names_unknown_task() -> None:
    def split_on_task(d: dict[str, Any]) -> None:
        split = state(d, "CheckHandoff")
        split["properties"]["input"] = "{{widgets.HotelBot.CurrentTask}}"
        split["transitions"][1]["conditions"][0].update(arguments=["{{widgets.HotelBot.CurrentTask}}"],
                                                        value="send_to_agnet")
    found = lint_flow(flow(split_on_task), bots={None: bot()})
    assert ids(found) == ["XF301"] and found[0].hint == "did you mean 'send_to_agent'?"
    assert ids(lint_flow(flow(split_on_task))) == []  # bot unknown: nothing to check against


@pytest.mark.parametrize("path", [p for p in real_files("studio") if p.parent.name == "studio"], ids=lambda p: p.name)
def test_real_flows_get_no_rule_errors(path: Path) -> None:
    try:
        loaded = load_flow(path)
    except HarnessError:
        pytest.skip("not a loadable v2 flow (legacy or partial schema): the loader's own tests cover it")
    errors = [f.render() for f in lint_flow(loaded) if f.severity == "error"]
    assert errors == []


def test_rules_have_ids_severities_and_reasons() -> None:
    assert len(RULES) >= 13
    for rule in RULES.values():
        assert rule.severity in ("error", "warning", "note") and rule.why and rule.id[:2] in ("AP", "ST", "XF")


def test_cli_formats_disable_and_bot_link(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    data = copy.deepcopy(FLOW)
    state(data, "CheckHandoff")["properties"]["input"] = "{{widgets.Missing.x}}"
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(data, indent=2))
    monkeypatch.chdir(tmp_path)
    assert main(["lint", "--format", "sarif", "--bot", f"UA00000000000000000000000000000001="
                 f"{EXAMPLES / 'hospitality' / 'assistant.json'}", str(path)]) == 1
    sarif = json.loads(capsys.readouterr().out)
    result = sarif["runs"][0]["results"][0]
    assert sarif["version"] == "2.1.0" and result["ruleId"] == "ST201" and result["level"] == "error"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] > 1
    assert any(r["id"] == "ST201" for r in sarif["runs"][0]["tool"]["driver"]["rules"])
    assert main(["lint", "--disable", "ST201", str(path)]) == 0
    capsys.readouterr()
    (tmp_path / "pyproject.toml").write_text('[tool.autopilot-harness.lint]\ndisable = ["ST201"]\n')
    assert main(["lint", "--json", str(path)]) == 0
    (tmp_path / "pyproject.toml").write_text(
        '[tool.autopilot-harness.lint]\nper-file-disable = {"flow.json" = ["ST201"]}\n')
    assert main(["lint", str(path)]) == 0
    assert main(["lint", "--disable", "XX999", str(path)]) == 2


def test_sarif_of_a_validity_problem() -> None:
    from harness.cli.lint import lint_file

    report = lint_file(real_path("autopilot/invalid-examples/show_image_only.json"))
    result = to_sarif([report])["runs"][0]["results"][0]
    assert result["ruleId"] == "harness/schema" and result["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 4, "startColumn": 12}
