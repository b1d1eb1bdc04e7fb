"""The scenario keys for the bot's voice handoff and a task's queue history: accepted shapes, and refused ones
with the file, line and what was expected (exit 2 through the CLI, like every schema problem).

Sources: Hand-off doc (reference/autopilot.md §2.7: `channel`, `uri`, `method`, string-typed `priority` and
`timeout`); reference/taskrouter.md §3.2 (`assignment_status` values).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.models.scenario_expect import AutopilotHandoffExpect, FlexHandoffExpect, TextMatch
from harness.models.scenario_loader import load_scenario_file


def _file(tmp_path: Path, expect: str, turn_expect: str = "{}") -> Path:
    (tmp_path / "bot.json").write_text('{"uniqueName": "b", "tasks": []}')
    path = tmp_path / "h.scenario.yaml"
    path.write_text("bot: bot.json\nchannel: voice\nscenarios:\n  - name: s\n    turns:\n"
                    f"      - user: agent\n        expect: {turn_expect}\n    expect: {expect}\n")
    return path


def test_autopilot_handoff_keys_load(tmp_path: Path) -> None:
    path = _file(tmp_path, "{handoff: {autopilot: {channel: voice, uri: {regex: '^taskrouter://'}, method: get, "
                           "priority: '5', timeout: 200, workflow: WW1, queue: Q, queue_history: [Q, R], "
                           "status: canceled, schema: {type: object}}}}",
                 "{handoff: {autopilot: {}}}")
    scenario = load_scenario_file(path).scenarios[0]
    expect = scenario.expect.handoff
    assert isinstance(expect, AutopilotHandoffExpect)
    assert expect.uri == TextMatch("regex", "^taskrouter://") and expect.method == "GET"
    assert (expect.priority, expect.timeout, expect.queue_history, expect.status) == (5, 200, ("Q", "R"), "canceled")
    assert expect.schema == {"type": "object"}
    assert scenario.turns[0].expect.handoff == AutopilotHandoffExpect() and not scenario.turns[0].expect.is_empty


def test_flex_queue_history_and_status_load(tmp_path: Path) -> None:
    path = _file(tmp_path, "{handoff: {flex: {queue: Front Desk, queue_history: [Concierge, Front Desk], "
                           "status: pending}}}")
    expect = load_scenario_file(path).scenarios[0].expect.handoff
    assert isinstance(expect, FlexHandoffExpect)
    assert (expect.queue_history, expect.status) == (("Concierge", "Front Desk"), "pending")


@pytest.mark.parametrize(("expect", "turn_expect", "line", "says"), [
    ("{handoff: {autopilot: {url: x}}}", "{}", 8, "unknown key 'url' (did you mean 'uri'?)"),
    ("{handoff: {autopilot: {priority: high}}}", "{}", 8, "priority"),
    ("{handoff: {autopilot: {status: waiting}}}", "{}", 8, "status"),
    ("{handoff: {autopilot: {queue_history: []}}}", "{}", 8, "queue_history"),
    ("{handoff: {autopilot: {}, flex: {}}}", "{}", 8, "expected exactly one key, found 2 (autopilot, flex)"),
    ("{handoff: {flex: {queue_history: Concierge}}}", "{}", 8, "queue_history"),
    ("{}", "{handoff: {flex: {}}}", 7, "unknown key 'flex'"),
    ("{}", "{handoff: {}}", 7, "handoff"),
    ("{}", "{handoff: true}", 7, "handoff"),
    ("{handoff: {autopilot: {schema: {type: 12}}}}", "{}", 8, "schema"),
])
def test_bad_handoff_keys_are_refused_with_their_line(tmp_path: Path, expect: str, turn_expect: str, line: int,
                                                     says: str) -> None:
    path = _file(tmp_path, expect, turn_expect)
    with pytest.raises(HarnessError) as caught:
        load_scenario_file(path)
    text = caught.value.render()
    assert f"h.scenario.yaml:{line}:" in text and says in text, text
