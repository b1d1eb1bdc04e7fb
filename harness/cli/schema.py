"""`autopilot-harness schema [--path] [NAME]`: the kit's JSON Schemas, for editors, offline.

The schemas ship inside the package (`harness/schemas/`), so an editor can use them without any website:
print one (`schema scenario > .vscode/scenario.schema.json`, to commit beside the project), or print where
the installed copy is (`schema --path`) for a `yaml.schemas` setting or a `# yaml-language-server:
$schema=…` modeline (docs/scenarios.md, "Editors").
"""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from harness.errors import ExitCode

# NAME → file in harness/schemas/, and what it describes (shown by --list).
SCHEMAS: dict[str, tuple[str, str]] = {
    "scenario": ("scenario.schema.json", "scenario files (*.scenario.yaml); parts files are its $defs/parts"),
    "assistant": ("assistant.schema.json", "Autopilot assistant exports (schema.json)"),
    "actions": ("actions.schema.json", "Autopilot Actions documents (a task's actions, a webhook's answer)"),
    "flow": ("flow.schema.json", "Studio flow definitions (JSON)"),
}


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("schema", help="print a JSON Schema of the kit (for editors), or where it is installed",
                       description="Print the JSON Schema NAME (default: scenario) as shipped in the installed "
                                   "package, or with --path the file's absolute path (for VS Code's "
                                   "yaml.schemas or a `# yaml-language-server: $schema=PATH` modeline).")
    p.add_argument("name", nargs="?", default="scenario", choices=sorted(SCHEMAS), metavar="NAME",
                   help=f"one of {', '.join(SCHEMAS)} (default: scenario)")
    p.add_argument("--path", action="store_true", help="print the installed file's path instead of its text")
    p.add_argument("--list", action="store_true", help="list the schemas and their paths")
    return p


def schema_path(name: str) -> Path:
    """The installed schema file (a real file: setuptools installs package data unzipped)."""
    return Path(str(resources.files("harness").joinpath("schemas", SCHEMAS[name][0]))).resolve()


def run(args: argparse.Namespace, *, stdout: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    if args.list:
        for name, (_, what) in SCHEMAS.items():
            print(f"{name:<10} {schema_path(name)}  ({what})", file=out)
        return ExitCode.OK
    path = schema_path(args.name)
    if args.path:
        print(path, file=out)
    else:
        out.write(path.read_text(encoding="utf-8"))
    return ExitCode.OK
