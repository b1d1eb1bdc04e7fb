"""`channels:` (issue 11): a scenario runs once per channel, the channel in its id; rows may choose a
channel and a user; conflicting choices are refused at the key that makes them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.models.scenario_loader import load_scenario_file
from harness.models.scenario_model import ScenarioFile

BOT = (Path(__file__).resolve().parents[2] / "fixtures" / "scenarios" / "bot.json").as_posix()


def _load(tmp_path: Path, body: str) -> ScenarioFile:
    path = tmp_path / "m.scenario.yaml"
    path.write_text(f"bot: {BOT}\n{body}", encoding="utf-8")
    return load_scenario_file(path)


def _ids(scenario_file: ScenarioFile) -> list[str]:
    return [concrete.id for s in scenario_file.scenarios for concrete in s.expanded()]


def _refusal(tmp_path: Path, body: str) -> str:
    with pytest.raises(HarnessError) as caught:
        _load(tmp_path, body)
    return caught.value.render()


def test_file_channels_run_every_scenario_once_per_channel(tmp_path: Path) -> None:
    loaded = _load(tmp_path, "channels: [sms, whatsapp, voice]\nscenarios:\n"
                             "  - name: hi\n    turns: [{user: hello}]\n")
    assert _ids(loaded) == ["hi[sms]", "hi[whatsapp]", "hi[voice]"]
    assert [s.channel for s in loaded.scenarios] == ["sms", "whatsapp", "voice"]


def test_rows_channels_and_variants_combine_in_that_order(tmp_path: Path) -> None:
    loaded = _load(tmp_path, "scenarios:\n  - name: order\n    channels: [sms, chat]\n"
                             "    parametrize: [{id: pizza, food: pizza}, {id: soup, food: soup}]\n"
                             "    turns:\n      - variants: ['{{ row.food }}', 'a {{ row.food }}']\n")
    assert _ids(loaded) == ["order[pizza-sms-v1]", "order[pizza-sms-v2]", "order[pizza-chat-v1]",
                            "order[pizza-chat-v2]", "order[soup-sms-v1]", "order[soup-sms-v2]",
                            "order[soup-chat-v1]", "order[soup-chat-v2]"]


def test_a_scenario_s_own_channel_or_channels_wins_over_the_file_s(tmp_path: Path) -> None:
    loaded = _load(tmp_path, "channels: [sms, whatsapp]\nscenarios:\n"
                             "  - name: one\n    channel: voice\n    turns: [{user: hello}]\n"
                             "  - name: two\n    channels: [messenger]\n    turns: [{user: hello}]\n")
    assert _ids(loaded) == ["one", "two[messenger]"]
    assert [s.channel for s in loaded.scenarios] == ["voice", "messenger"]


def test_a_row_chooses_its_channel_and_user(tmp_path: Path) -> None:
    loaded = _load(tmp_path, "channels: [sms, chat]\nscenarios:\n  - name: who\n    parametrize:\n"
                             "      - {id: wa, channel: whatsapp, user: 'whatsapp:+15555550123'}\n"
                             "      - {id: web, channel: chat, user: room-12}\n"
                             "    turns: [{user: 'I am {{ row.user }}'}]\n")
    assert _ids(loaded) == ["who[wa]", "who[web]"]  # the row names the run: no channel part
    assert [(s.channel, s.user) for s in loaded.scenarios] == [("whatsapp", "whatsapp:+15555550123"),
                                                               ("chat", "room-12")]
    assert loaded.scenarios[1].turns[0].user == "I am room-12"


def test_the_channel_joins_the_faker_seed_so_each_channel_has_its_own_user(tmp_path: Path) -> None:
    body = ("channels: [sms, voice]\nuser: '{{ faker.phone_number }}'\n"
            "scenarios:\n  - name: s\n    turns: [{user: hi}]\n")
    first, again = _load(tmp_path, body), _load(tmp_path, body)
    assert [s.user for s in first.scenarios] == [s.user for s in again.scenarios]  # seeded: stable
    assert first.scenarios[0].user != first.scenarios[1].user


@pytest.mark.parametrize(("body", "place", "says"), [
    ("scenarios:\n  - name: s\n    channel: sms\n    channels: [chat]\n    turns: [{user: hi}]\n",
     "(/scenarios/0/channels)", "`channel` (one channel) or `channels` (a matrix), not both"),
    ("scenarios:\n  - name: s\n    channels: [sms, chat]\n    parametrize: [{id: a, channel: voice}]\n"
     "    turns: [{user: hi}]\n", "(/scenarios/0/parametrize/0/channel)",
     "the row's `channel` and the scenario's `channels` both choose the channel"),
    ("scenarios:\n  - name: s\n    parametrize: {rows: [{id: a}, {id: b, channel: fax}]}\n    turns: [{user: hi}]\n",
     "(/scenarios/0/parametrize/rows/1/channel)", 'row channel "fax": expected one of sms, whatsapp'),
    ("scenarios:\n  - name: s\n    user: '+15555550100'\n    parametrize: [{id: a, user: bob}]\n"
     "    turns: [{user: hi}]\n", "(/scenarios/0/parametrize/0/user)", "both choose the user"),
    ("scenarios:\n  - name: s\n    parametrize: [{id: a, user: 42}]\n    turns: [{user: hi}]\n",
     "(/scenarios/0/parametrize/0/user)", "row user 42: expected the user's identity as text"),
    ("channels: [sms, sms]\nscenarios:\n  - name: s\n    turns: [{user: hi}]\n", "(/channels)", "unique"),
    ("channels: []\nscenarios:\n  - name: s\n    turns: [{user: hi}]\n", "(/channels)", ""),
    ("scenarios:\n  - name: s\n    channels: [sms, fax]\n    turns: [{user: hi}]\n",
     "(/scenarios/0/channels/1)", "sms, whatsapp, chat, messenger, voice"),
])
def test_conflicting_or_bad_channel_choices_are_refused_where_written(tmp_path: Path, body: str, place: str,
                                                                       says: str) -> None:
    message = _refusal(tmp_path, body)
    assert "m.scenario.yaml:" in message and place in message and says in message


def test_faker_phone_numbers_are_e164(tmp_path: Path) -> None:
    # Twilio writes phone numbers in E.164 (`From`, `UserIdentifier`: reference/autopilot.md §4.2); Faker's
    # en_US phone_number alone gives '(555) 123-4567x890'-style text.
    loaded = _load(tmp_path, "scenarios:\n  - name: s\n    parametrize: {rows: [" + ", ".join(
        f"{{id: r{i}}}" for i in range(40)) + "]}\n    user: '{{ faker.phone_number }}'\n"
        "    turns: [{user: 'call me on {{ faker.phone_number() }}'}]\n")
    e164 = re.compile(r"\+1[2-9]\d{2}[2-9]\d{6}")
    users = [s.user for s in loaded.scenarios]
    assert all(e164.fullmatch(user or "") for user in users), users
    assert len(set(users)) == len(users)
    assert all(e164.fullmatch(s.turns[0].user.removeprefix("call me on ")) for s in loaded.scenarios)
