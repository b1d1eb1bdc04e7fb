"""Issue 10 row 7: Set Variables keeps numbers as numbers and quoted values without their quotes.

Source: reference/studio.md §2.9 ("An unquoted value is numeric", from Twilio's support article "How do I
use Liquid with Twilio Studio", LIQ-SUP) and the counter idiom of Twilio's authoring guide
(`{% if flow.variables.n %}{{flow.variables.n | plus: 1}}{% else %}0{% endif %}`). Whether a value that
Liquid *renders* to a number counts is not documented: `variable_numbers` chooses ("rendered" default).
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.engines.studio.widgets import variable_value
from harness.errors import UsageError
from tests.unit.engines.studio.fakebot import ScriptedBot
from tests.unit.engines.studio.studio_kit import GUEST, make_env, make_flow, widget


def _run(variables: list[dict[str, Any]], check: str, **env: Any) -> Any:
    flow = make_flow(
        widget("Set", "set-variables", [{"event": "next", "next": "Say"}], variables=variables),
        widget("Say", "send-message", [{"event": "sent"}], to="{{contact.channel.address}}",
               **{"from": "{{flow.channel.address}}"}, body=check),
    )
    return make_env({"*": ScriptedBot()}, **env).load(flow).start("incomingMessage", From=GUEST, Body="hi")


def test_an_unquoted_number_is_a_number_in_comparisons() -> None:
    execution = _run([{"key": "a", "value": "1"}, {"key": "price", "value": "2.50"}],
                     "{% if flow.variables.a == 1 %}one{% endif %} {% if flow.variables.a > 0 %}positive{% endif %}"
                     " {{flow.variables.a | plus: 1}} {% if flow.variables.price < 3 %}cheap{% endif %}")
    assert execution.variables == {"a": 1, "price": 2.5}
    assert execution.messages[0]["body"] == "one positive 2 cheap"
    assert execution.widgets["Set"] == {"a": 1, "price": 2.5}  # widgets.<name>.<key> too (TW-AI)


def test_a_quoted_value_is_text_without_its_quotes() -> None:
    execution = _run([{"key": "a", "value": '"1"'}, {"key": "name", "value": "'Ana'"}],
                     "[{{flow.variables.a}}] [{{flow.variables.name}}] {% if flow.variables.a == 1 %}number{% endif %}")
    assert execution.variables == {"a": "1", "name": "Ana"}
    assert execution.messages[0]["body"] == "[1] [Ana] "


def test_the_counter_idiom_counts() -> None:
    counter = "{% if flow.variables.n %}{{flow.variables.n | plus: 1}}{% else %}0{% endif %}"
    flow = make_flow(
        widget("Count", "set-variables", [{"event": "next", "next": "Check"}],
               variables=[{"key": "n", "value": counter}]),
        widget("Check", "split-based-on", [{"event": "noMatch"}, {"event": "match", "next": "Count", "conditions": [
            {"friendly_name": "n", "arguments": ["{{flow.variables.n}}"], "type": "less_than", "value": "3"}]}],
            input="{{flow.variables.n}}"),
    )
    execution = make_env({"*": ScriptedBot()}).load(flow).start("incomingMessage", From=GUEST, Body="hi")
    assert execution.variables == {"n": 3}
    # 0 is truthy in Liquid (only nil and false are not), so the count runs 0, 1, 2, 3.
    assert execution.path == ["Trigger"] + ["Count", "Check"] * 4


@pytest.mark.parametrize("text", ["+15555550100", "02134", "1e3", "1.", ".5", "12abc", " ", "", "true", "UA123"])
def test_text_that_only_looks_numeric_stays_text(text: str) -> None:
    assert variable_value(text, text, "rendered") == text


def test_the_choice_is_configurable() -> None:
    templated = [{"key": "a", "value": "{{trigger.message.Body | size}}"}, {"key": "b", "value": "7"}]
    assert _run(templated, "", variable_numbers="rendered").variables == {"a": 2, "b": 7}
    assert _run(templated, "", variable_numbers="written").variables == {"a": "2", "b": 7}
    assert _run(templated, "", variable_numbers="never").variables == {"a": "2", "b": "7"}
    assert _run([{"key": "a", "value": "7", "type": "string"}], "").variables == {"a": "7"}
    with pytest.raises(UsageError, match="variable_numbers must be one of"):
        _run(templated, "", variable_numbers="sometimes")
