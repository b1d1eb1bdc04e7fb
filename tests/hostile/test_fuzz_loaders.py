"""Property-based fuzzing of every file loader (issue 9): whatever the bytes, a loader returns or raises the
kit's own error (`HarnessError`, any kind); any other exception is a bug in the kit.

Each loader gets three strategies: random bytes, random text, and structure-aware mutations of a valid
document from our own fixtures (a value replaced, deleted or nested deeply, a key duplicated, structural
characters inserted). Runs are derandomized and bounded so the file stays fast and reproducible.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.contracts.pact_files import read_pact
from harness.errors import HarnessError
from harness.models.actions import check_actions
from harness.models.assistant_loader import load_assistant
from harness.models.flow import load_flow
from harness.models.scenario import load_scenario_file
from harness.runner.replay import load_execution, load_requests
from harness.sources import load_source
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures"
EXAMPLE = ROOT / "examples" / "hospitality"
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


def _small_assistant() -> str:
    """The example bot cut to three tasks (a collect, a redirect, a say): every construct, a quick load."""
    bot = json.loads((EXAMPLE / "assistant.json").read_text(encoding="utf-8"))
    bot["tasks"] = [task for task in bot["tasks"]
                    if task["uniqueName"] in ("greeting", "get_quantity", "complete_collect_roomitems")]
    for task in bot["tasks"]:
        task["samples"] = task.get("samples", [])[:2]
    return json.dumps(bot, indent=2)


def _actions() -> str:
    bot = json.loads((EXAMPLE / "assistant.json").read_text(encoding="utf-8"))
    return json.dumps(next(t for t in bot["tasks"] if t["uniqueName"] == "get_quantity")["actions"], indent=2)


def _load_actions(path: Path) -> None:
    check_actions(load_source(path).data, path=str(path))


# loader, file name, a valid document (text), "json" or "yaml"
LOADERS: dict[str, tuple[Callable[[Path], Any], str, Callable[[], str], str]] = {
    "scenario": (load_scenario_file, "fuzz.scenario.yaml",
                 lambda: (FIXTURES / "scenarios" / "valid.yaml").read_text(encoding="utf-8"), "yaml"),
    "part": (load_scenario_file, "fuzz.scenario.yaml",
             lambda: "bot: bot.json\nscenarios:\n  - name: p\n    turns:\n      - include: parts/fuzz.yaml\n",
             "yaml"),
    "assistant": (load_assistant, "fuzz.json", _small_assistant, "json"),
    "flow": (load_flow, "fuzz.json", lambda: (EXAMPLE / "flows" / "chat_flex.json").read_text(encoding="utf-8"),
             "json"),
    "pact": (read_pact, "fuzz.json",
             lambda: (ROOT / "contracts" / "pacts" / "hospitality-http-contact-center.json").read_text(
                 encoding="utf-8"), "json"),
    "actions": (_load_actions, "fuzz.json", _actions, "json"),
    "execution": (load_execution, "fuzz.json",
                  lambda: (FIXTURES / "replay" / "flex_handoff.json").read_text(encoding="utf-8"), "json"),
    "requests": (load_requests, "fuzz.jsonl",
                 lambda: '{"method": "POST", "url": "https://x.example/a", "body": "a=1"}\n'
                         '{"method": "GET", "url": "https://x.example/b"}\n', "json"),
}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with what the valid scenario names (bot, parts), so mutations reach deep into the loader."""
    where = tmp_path_factory.mktemp("fuzz")
    shutil.copy(FIXTURES / "scenarios" / "bot.json", where / "bot.json")
    shutil.copytree(FIXTURES / "scenarios" / "parts", where / "parts")
    shutil.copy(FIXTURES / "scenarios" / "attributes.schema.json", where / "attributes.schema.json")
    return where


def _only_kit_errors(name: str, where: Path, data: bytes) -> None:
    loader, file_name, _, _ = LOADERS[name]
    target = where / ("parts/fuzz.yaml" if name == "part" else file_name)
    target.write_bytes(data)
    if name == "part":
        (where / file_name).write_text(LOADERS[name][2](), encoding="utf-8")
    try:
        loader(where / file_name)
    except HarnessError as err:
        err.render()  # rendering must not fail either


# --- structure-aware mutations ---------------------------------------------------------------------------

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False),
                     st.text(max_size=12), st.sampled_from(["task://nowhere", "{{flow.data}}", "", "é\u202e",
                                                            "Twilio.NUMBER", "UA" + "0" * 32]))
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=6)


def _paths(data: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [here]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*here, key))
    elif isinstance(data, list):
        for n, value in enumerate(data):
            found += _paths(value, (*here, n))
    return found


def _mutate(data: Any, draw: Callable[[Any], Any]) -> Any:
    data = copy.deepcopy(data)
    path = draw(st.sampled_from(_paths(data)))
    operation = draw(st.sampled_from(["replace", "delete", "nest", "wrap", "add"]))
    if not path:
        return draw(_VALUES) if operation == "replace" else [data]
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if operation == "replace":
        parent[last] = draw(_VALUES)
    elif operation == "delete":
        del parent[last]
    elif operation == "nest":
        parent[last] = DEEP  # replaced in the text: json.dumps itself cannot write data this deep
    elif operation == "wrap":
        parent[last] = [parent[last]]
    elif isinstance(parent[last], dict):
        parent[last][draw(st.text(max_size=8))] = draw(_VALUES)
    return data


DEEP = "__deep_nesting__"


def _dump(data: Any, kind: str, levels: int) -> str:
    text = yaml.safe_dump(data, sort_keys=False) if kind == "yaml" else json.dumps(data, indent=1)
    deep = "[" * levels + "1" + "]" * levels
    return text.replace(f'"{DEEP}"', deep).replace(DEEP, deep)


def _text_edit(text: str, draw: Callable[[Any], Any]) -> str:
    """Insert or delete structural characters at some place, or repeat a line (a duplicate key)."""
    lines = text.splitlines(keepends=True)
    kind = draw(st.sampled_from(["insert", "delete", "duplicate line", "truncate"]))
    at = draw(st.integers(0, max(len(text) - 1, 0)))
    if kind == "insert":
        return text[:at] + draw(st.text(alphabet='{}[]:,"\'-&*!|>#\n \t\\%@`\x00\ufeff', min_size=1,
                                        max_size=4)) + text[at:]
    if kind == "delete":
        return text[:at] + text[at + draw(st.integers(1, 4)):]
    if kind == "duplicate line" and lines:
        n = draw(st.integers(0, len(lines) - 1))
        return "".join([*lines[:n + 1], lines[n], *lines[n + 1:]])
    return text[:at]


def _parsed(text: str, kind: str) -> Any:
    if kind == "yaml":
        return yaml.safe_load(text)
    if "\n{" in text and not text.lstrip().startswith("["):  # JSON Lines: fuzz the first record
        return json.loads(text.splitlines()[0])
    return json.loads(text)


@pytest.mark.parametrize("name", list(LOADERS))
@SETTINGS
@given(data=st.binary(max_size=300))
def test_random_bytes(name: str, workdir: Path, data: bytes) -> None:
    _only_kit_errors(name, workdir, data)


@pytest.mark.parametrize("name", list(LOADERS))
@SETTINGS
@given(text=st.text(max_size=300))
def test_random_text(name: str, workdir: Path, text: str) -> None:
    _only_kit_errors(name, workdir, text.encode("utf-8", "surrogatepass"))


@pytest.mark.parametrize("name", list(LOADERS))
@SETTINGS
@given(data=st.data())
def test_mutated_documents(name: str, workdir: Path, data: st.DataObject) -> None:
    _, _, valid, kind = LOADERS[name]
    text = valid() if name != "part" else (FIXTURES / "scenarios" / "parts" / "greet.yaml").read_text("utf-8")
    if data.draw(st.booleans()):
        levels = data.draw(st.sampled_from([65, 3_000, 30_000]))  # past the cap, Python's and libyaml's limits
        text = _dump(_mutate(_parsed(text, kind), data.draw), kind, levels)
    else:
        text = _text_edit(text, data.draw)
    _only_kit_errors(name, workdir, text.encode("utf-8", "surrogatepass"))


def test_the_valid_documents_load(workdir: Path) -> None:
    """The starting points are valid, so the mutations start from a document that reaches the deep checks."""
    for name, (loader, file_name, valid, _) in LOADERS.items():
        target = workdir / ("parts/fuzz.yaml" if name == "part" else file_name)
        if name == "part":
            target.write_text((FIXTURES / "scenarios" / "parts" / "greet.yaml").read_text("utf-8"), "utf-8")
            (workdir / file_name).write_text(valid(), encoding="utf-8")
        else:
            target.write_text(valid(), encoding="utf-8")
        result = loader(workdir / file_name)
        if name == "actions":
            assert check_actions(load_source(workdir / file_name).data) == [], name
        else:
            assert result is not None, name
