"""Data flows one way: no module of the kit imports a layer above its own (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "harness"

# Lowest first. A module may import its own layer and those before it.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base", ("harness.errors", "harness.sources", "harness.clock", "harness.sids", "harness.budgets",
              "harness.patterns")),
    ("models", ("harness.models",)),
    ("engines", ("harness.engines",)),
    ("transcript", ("harness.transcript",)),
    ("expect", ("harness.expect", "harness.expectations")),
    ("runner", ("harness.runner",)),
    ("faces", ("harness.cli", "harness.pytest_plugin", "harness.contracts", "harness.reporters", "harness.insight",
               "harness.__main__", "harness")),
]
FACE_ONLY_IMPORTS = ("pytest", "_pytest", "argparse", "pact", "rich")
# Inside engines: the Twilio fakes and the Autopilot engine stand below Studio.
ENGINE_RULES = {"harness.engines.twilio": ("harness.engines.studio",),
                "harness.engines.autopilot": ("harness.engines.studio",)}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def layer_of(name: str) -> int:
    best, best_len = len(LAYERS) - 1, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = index, len(prefix)
    return best


def imports_of(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno))
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_no_upward_imports(path: Path) -> None:
    me = module_name(path)
    my_layer = layer_of(me)
    problems = []
    for imported, line in imports_of(path):
        if imported.startswith("harness"):
            if layer_of(imported) > my_layer:
                problems.append(f"line {line}: {me} ({LAYERS[my_layer][0]}) imports {imported} "
                                f"({LAYERS[layer_of(imported)][0]})")
            for low, forbidden in ENGINE_RULES.items():
                if me.startswith(low) and imported.startswith(forbidden):
                    problems.append(f"line {line}: {me} imports {imported}")
        elif imported.split(".")[0] in FACE_ONLY_IMPORTS and LAYERS[my_layer][0] != "faces":
            problems.append(f"line {line}: {me} imports {imported}, which only faces may use")
    assert not problems, "\n".join(problems)


def test_layer_table_catches_an_upward_import(tmp_path: Path) -> None:
    # The check itself must be able to fail: an engine importing the runner is upward.
    assert layer_of("harness.engines.studio.execution") < layer_of("harness.runner")
    assert layer_of("harness.models.flow") < layer_of("harness.engines.autopilot")
    assert layer_of("harness.cli") == len(LAYERS) - 1
    # Expectations read transcripts and models, and the runner reads them (not a prefix match of "expect").
    expectations = layer_of("harness.expectations.checks")
    assert layer_of("harness.transcript") < expectations < layer_of("harness.runner")
    assert layer_of("harness.expectations") < layer_of("harness.pytest_plugin")
