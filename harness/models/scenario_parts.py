"""Parts files (`include:`): shared `defaults` and `turns`, spliced into the scenario file that includes them.

Paths are relative to the file that names them; a circular include is a problem at the `include` key."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.errors import (
    HarnessError,
    ReferenceProblem,
    SchemaError,
)
from harness.models.scenario_schema import parts_validator
from harness.models.scenario_yaml import Origin, describe_kind, plain, without_content
from harness.sources import Source, load_source

SCENARIO_SUFFIXES = (".scenario.yaml", ".scenario.yml")


class IncludedParts:
    """The loader's parts-file reading (a mixin of the scenario loader, which provides `file`, `resolve`,
    `data_file`, `error`, `schema_problems`, `problems`, `parts`, `path` and `root`)."""

    def part(self, raw: str, origin: Origin) -> tuple[Source, dict[str, Any]] | None:
        path = self.parts_file(raw, origin)
        if path is None:
            return None
        if path in self.parts:
            return self.parts[path]
        self.parts[path] = None  # while loading: a cycle finds None and is reported by the caller
        try:  # shown as the user wrote it (relative stays relative), read from the resolved path
            shown = os.path.normpath(os.path.join(os.path.dirname(origin.path or ""), raw))
            source = load_source(shown if Path(shown).absolute() == path else path, kind="yaml")
        except HarnessError as err:
            self.problems.add(without_content(err))  # the file may hold anything: never quote it
            return None
        data = plain(source.data)
        origin_there = Origin(source.path, "", source)
        if not isinstance(data, dict):
            self.error(SchemaError, "expected a parts file (a mapping with `turns` and/or `defaults`), "
                                    f"found {describe_kind(data)}", origin_there)
            return None
        if not self.schema_problems(data, origin_there, parts_validator()):
            return None
        self.parts[path] = (source, data)
        return self.parts[path]

    def parts_file(self, raw: str, origin: Origin) -> Path | None:
        """The parts file `raw` names: a YAML file inside the project root, and not a scenario file (this
        one or another: its `scenarios` are no parts) nor a golden transcript or results file."""
        path = self.resolve(raw, origin)
        me = Path(self.path).absolute() if self.path else None
        if me is not None and path == Path(os.path.normpath(me)):
            self.error(ReferenceProblem, f"include: {raw} is this scenario file itself", origin,
                       "include a parts file holding only `defaults` and `turns`")
            return None
        if path.name.endswith(SCENARIO_SUFFIXES):
            self.error(ReferenceProblem, f"include: {raw} is a scenario file, not a parts file", origin,
                       "move the shared `turns`/`defaults` into a parts file (.yaml) and include that")
            return None
        found = self.data_file(raw, origin, "include")
        if found is not None and found.suffix.lower() not in (".yaml", ".yml"):
            self.error(ReferenceProblem, f"include: {raw} is not a parts file: expected a .yaml or .yml file "
                                         "(a golden transcript, results or other file cannot be included)",
                       origin)
            return None
        return found

    def file_defaults(self, data: dict[str, Any]) -> dict[str, Any]:
        """Parts files' defaults (in order), then the file-level channel/user, then `defaults:`."""
        merged: dict[str, Any] = {}
        for index, raw in enumerate(data.get("include") or ()):
            found = self.part(raw, self.root.child("include", index))
            if found is not None:
                merge_defaults(merged, found[1].get("defaults") or {})
        merge_defaults(merged, {key: data[key] for key in ("channel", "user", "trigger", "parameters")
                                if key in data})
        merge_defaults(merged, data.get("defaults") or {})
        return merged

    def spliced_turns(self, turns: Sequence[Any], origin: Origin, stack: tuple[Path, ...]
                      ) -> list[tuple[dict[str, Any], Origin]]:
        """The turns with every `- include: FILE` replaced by that file's turns (recursively)."""
        result: list[tuple[dict[str, Any], Origin]] = []
        for index, turn in enumerate(turns):
            here = origin.child(index)
            if "include" not in turn:
                result.append((turn, here))
                continue
            path = self.resolve(turn["include"], here)
            if path in stack:
                chain = " → ".join(p.name for p in (*stack, path))
                self.error(ReferenceProblem, f"circular include: {chain}", here.child("include"))
                continue
            found = self.part(turn["include"], here.child("include"))
            if found is None:
                continue
            source, part = found
            if "turns" not in part:
                self.error(ReferenceProblem, f"{turn['include']} has no `turns` to include",
                           here.child("include"))
                continue
            result.extend(self.spliced_turns(part["turns"], Origin(source.path, "/turns", source),
                                             (*stack, path)))
        return result


def merge_defaults(into: dict[str, Any], new: Mapping[str, Any]) -> None:
    for key, value in new.items():
        if key in ("memory", "parameters"):
            into[key] = {**into.get(key, {}), **value}
        elif key == "tags":
            into["tags"] = list(into.get("tags", [])) + [t for t in value if t not in into.get("tags", [])]
        else:
            into[key] = value

