"""Reads an Autopilot assistant export (`schema.json`, as the Autopilot CLI writes it) into `Assistant`.

Three passes, and every problem of a file is reported at once (`raise_all`), each with a JSON Pointer
and, for a file on disk, a line and column:

1. the top-level shape: not an object, or no `tasks` (a Studio flow, a stylesheet, an Actions document,
   a Twilio Understand export with `intents`) gives one clear error and nothing else;
2. our JSON Schema (`harness/schemas/assistant.schema.json`, which uses `actions.schema.json` for every
   task's actions; Actions errors say 90100);
3. checks across places: unique task and field-type names; `task://` targets in actions name tasks;
   every field type is built-in (name or `UB…` SID) or a custom type of the file; `{tags}` in samples
   are balanced and name fields of their task; `synonymOf` names a canonical value of its type
   (case-insensitive); a task has static actions or an Action URL (our extension), not both, not neither.

`defaults` naming a missing task: Twilio accepted it (its AirlineReservations template has
`validate_on_failure: task://hello_world` and no such task), so by default it lands in
`Assistant.warnings`; `strict_defaults=True` makes it an error.

Lenient where real exports vary: `fieldTypes`, `modelBuild`, `styleSheet`, `defaults`, `fields`, `samples`
may be missing, unknown top-level keys are ignored. Strict inside tasks and actions (unknown keys are
errors: a typo is likelier than a feature we do not know).

Extension: the console allowed an "Action URL" instead of static actions, but the exporter drops it. A
task may carry `actionsUrl` (or `actions_url`) and `actionsUrlMethod` (or `actions_url_method`, default
POST); the engine fetches the Actions JSON from there.

Built-in types named by their `UB…` SID are stored under their name in `TaskField.field_type`;
mis-cased built-in names (`Twilio.Number`) are rejected unless `ignore_type_case=True`, and then kept as
written [uncertain whether Twilio accepted them]. See docs/assistant-schema.md.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.errors import HarnessError, Location, ReferenceProblem, SchemaError, raise_all
from harness.models.actions import (
    ASSISTANT_SCHEMA_ID,
    INVALID_ACTIONS,
    TASK_SCHEME,
    check_action_rules,
    locator,
    validator_for,
)
from harness.models.assistant import (
    Assistant,
    Defaults,
    FieldType,
    FieldValue,
    Sample,
    StyleSheet,
    Task,
    TaskField,
)
from harness.models.field_types import BUILTIN_FIELD_TYPE_SIDS, builtin_name, suggest_builtin
from harness.models.json_schema import describe_value, jsonschema_messages, pointer_order
from harness.sources import Source, load_source, source_from_data

Locate = Callable[[str], Location]

EXPECTED_TOP = 'an Autopilot assistant export: an object with "uniqueName" and "tasks": [...]'


def load_assistant(
    path: str | Path,
    *,
    sid: str | None = None,
    ignore_type_case: bool = False,
    strict_defaults: bool = False,
) -> Assistant:
    """Load and check an assistant export (JSON, or YAML by suffix); a folder means its `schema.json`."""
    file = Path(path)
    if file.is_dir() and (file / "schema.json").is_file():
        file = file / "schema.json"
    source = load_source(file)
    return assistant_from_dict(
        source.data,
        path=source.path,
        sid=sid,
        source=source,
        ignore_type_case=ignore_type_case,
        strict_defaults=strict_defaults,
    )


def assistant_from_dict(
    data: Any,
    *,
    path: str | None = None,
    sid: str | None = None,
    source: Source | None = None,
    ignore_type_case: bool = False,
    strict_defaults: bool = False,
) -> Assistant:
    """Check an export already parsed (`source`, when given, adds line numbers) and build the model.

    A `defaults` entry naming a missing task is an error only with `strict_defaults`; otherwise it is
    kept in `Assistant.warnings` (Twilio accepted it: its own AirlineReservations template has one) and
    the engine fails when the default is actually used.
    """
    if source is None:
        source = source_from_data(data, path=path)
    path = path if path is not None else source.path
    locate = locator(path, source)

    shape = _shape_problem(data, locate)
    if shape is not None:
        raise shape

    problems: list[HarnessError] = [
        SchemaError(_with_code(pointer, message), locate(pointer))
        for pointer, message in jsonschema_messages(validator_for(ASSISTANT_SCHEMA_ID), data)
    ]
    default_problems = _default_problems(data, locate)
    if strict_defaults:
        problems.extend(default_problems)
    problems.extend(_semantic_problems(data, locate, ignore_type_case))
    if len(problems) > 1:
        problems.sort(key=lambda problem: pointer_order(data, problem.location.pointer))  # type: ignore[union-attr]
    raise_all(problems)
    return _build(data, path=path, sid=sid, source=source, warnings=tuple(default_problems))


def style_sheet_from_dict(data: Any, *, path: str | None = None, source: Source | None = None) -> StyleSheet:
    """A StyleSheet resource's data, `{"style_sheet": {...}}` (what the exporter nests under `styleSheet`)."""
    locate = locator(path, source)
    if not isinstance(data, dict) or "style_sheet" not in data:
        expected = 'a stylesheet: an object {"style_sheet": {...}}'
        raise SchemaError(f"expected {expected}, found {describe_value(data)}", locate(""))
    validator = validator_for(ASSISTANT_SCHEMA_ID + "#/properties/styleSheet")
    messages = jsonschema_messages(validator, data)
    raise_all(SchemaError(message, locate(pointer)) for pointer, message in messages)
    return _style_sheet(data["style_sheet"])


def load_style_sheet(path: str | Path) -> StyleSheet:
    """Load a stylesheet file such as autopilot-templates' `StyleSheets/amy.json`."""
    source = load_source(path)
    return style_sheet_from_dict(source.data, path=source.path, source=source)


# --- pass 1: the top-level shape ----------------------------------------------------------------------


def _shape_problem(data: Any, locate: Locate) -> HarnessError | None:
    if isinstance(data, list):
        return SchemaError(
            f"expected {EXPECTED_TOP}, found a list",
            locate(""),
            hint='a list of tasks must sit under "tasks" in an object that also names the assistant',
        )
    if not isinstance(data, dict):
        return SchemaError(f"expected {EXPECTED_TOP}, found {describe_value(data)}", locate(""))
    if "tasks" in data:
        return None
    if "intents" in data:
        return SchemaError(
            'this looks like a Twilio Understand export ("intents"), the format before Autopilot; '
            'expected "tasks"',
            locate("/intents"),
            hint='rename "intents" to "tasks" and each intent to a task, or re-export with the Autopilot CLI',
        )
    if "states" in data or "initial_state" in data:
        return SchemaError(f"this is a Studio flow definition, not {EXPECTED_TOP}", locate(""))
    if "style_sheet" in data:
        return SchemaError(f"this is a stylesheet, not {EXPECTED_TOP}", locate(""))
    if "actions" in data:
        return SchemaError(
            f"this is an Actions JSON document (a single task's actions), not {EXPECTED_TOP}", locate("")
        )
    if isinstance(data.get("sid"), str) and data["sid"].startswith("UA"):
        return SchemaError(
            f"this is an Assistant REST resource, not {EXPECTED_TOP}",
            locate(""),
            hint="export the assistant with `twilio autopilot:export` (or `ta export`)",
        )
    return SchemaError(f'missing "tasks": expected {EXPECTED_TOP}', locate(""))


def _with_code(pointer: str, message: str) -> str:
    parts = pointer.split("/")
    if len(parts) > 3 and parts[1] == "tasks" and parts[3] == "actions":
        return f"{message} (error {INVALID_ACTIONS})"
    return message


# --- pass 3: checks across places ---------------------------------------------------------------------


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _semantic_problems(data: dict[str, Any], locate: Locate, ignore_type_case: bool) -> list[HarnessError]:
    problems: list[HarnessError] = []
    tasks = _list(data.get("tasks"))
    field_types = _list(data.get("fieldTypes"))

    task_names: dict[str, int] = {}
    for index, task in enumerate(tasks):
        name = _dict(task).get("uniqueName")
        if not isinstance(name, str):
            continue
        if name in task_names:
            problems.append(
                SchemaError(
                    f"duplicate task name '{name}' (task {task_names[name]} has it too)",
                    locate(f"/tasks/{index}/uniqueName"),
                )
            )
        else:
            task_names[name] = index

    custom_types: dict[str, int] = {}
    for index, field_type in enumerate(field_types):
        name = _dict(field_type).get("uniqueName")
        if not isinstance(name, str):
            continue
        if name in custom_types:
            problems.append(
                SchemaError(
                    f"duplicate field type '{name}' (field type {custom_types[name]} has it too)",
                    locate(f"/fieldTypes/{index}/uniqueName"),
                )
            )
        else:
            custom_types[name] = index
        problems.extend(_synonym_problems(_dict(field_type), f"/fieldTypes/{index}", locate))

    for index, task in enumerate(tasks):
        if isinstance(task, dict):
            problems.extend(
                _task_problems(task, f"/tasks/{index}", locate, task_names, custom_types, ignore_type_case)
            )
    return problems


def _task_names(data: dict[str, Any]) -> dict[str, int]:
    names: dict[str, int] = {}
    for index, task in enumerate(_list(data.get("tasks"))):
        name = _dict(task).get("uniqueName")
        if isinstance(name, str):
            names.setdefault(name, index)
    return names


def _default_problems(data: dict[str, Any], locate: Locate) -> list[HarnessError]:
    """`defaults` entries (`task://…`) that name no task."""
    defaults = _dict(_dict(data.get("defaults")).get("defaults"))
    on_failure = _dict(defaults.get("collect")).get("validate_on_failure")
    targets = {
        "/defaults/defaults/assistant_initiation": defaults.get("assistant_initiation"),
        "/defaults/defaults/fallback": defaults.get("fallback"),
        "/defaults/defaults/collect/validate_on_failure": on_failure,
    }
    task_names = _task_names(data)
    problems: list[HarnessError] = []
    for pointer, target in targets.items():
        if isinstance(target, str) and target.startswith(TASK_SCHEME):
            problem = _missing_task(target, task_names, pointer, locate)
            if problem is not None:
                problems.append(problem)
    return problems


def _missing_task(
    uri: str, task_names: dict[str, int], pointer: str, locate: Locate
) -> ReferenceProblem | None:
    name = uri[len(TASK_SCHEME) :]
    if name in task_names:
        return None
    close = difflib.get_close_matches(name, list(task_names), n=1)
    also = f" (did you mean '{close[0]}'?)" if close else ""
    known = ", ".join(sorted(task_names)) or "none"
    return ReferenceProblem(f"'{uri}' names no task{also}; tasks: {known}", locate(pointer))


def _synonym_problems(field_type: dict[str, Any], pointer: str, locate: Locate) -> list[HarnessError]:
    values = _list(field_type.get("values"))
    canonical = {
        v["value"].lower()
        for v in values
        if isinstance(v, dict) and isinstance(v.get("value"), str) and v.get("synonymOf") is None
    }
    problems: list[HarnessError] = []
    for index, value in enumerate(values):
        synonym_of = _dict(value).get("synonymOf")
        if isinstance(synonym_of, str) and synonym_of.lower() not in canonical:
            listed = ", ".join(sorted(canonical)) or "none"
            problems.append(
                ReferenceProblem(
                    f"synonymOf '{synonym_of}' names no canonical value of {field_type.get('uniqueName')!r} "
                    f"(canonical values: {listed}); add a value '{synonym_of}' with synonymOf null",
                    locate(f"{pointer}/values/{index}/synonymOf"),
                )
            )
    return problems


def _task_problems(
    task: dict[str, Any],
    pointer: str,
    locate: Locate,
    task_names: dict[str, int],
    custom_types: dict[str, int],
    ignore_type_case: bool,
) -> list[HarnessError]:
    problems: list[HarnessError] = []
    name = task.get("uniqueName")
    label = f"task '{name}'" if isinstance(name, str) else "this task"

    urls = [key for key in ("actionsUrl", "actions_url") if key in task]
    methods = [key for key in ("actionsUrlMethod", "actions_url_method") if key in task]
    if len(urls) > 1:
        where = locate(pointer + "/actions_url")
        problems.append(SchemaError("give actionsUrl or actions_url, not both", where))
    if len(methods) > 1:
        where = locate(pointer + "/actions_url_method")
        problems.append(SchemaError("give actionsUrlMethod or actions_url_method, not both", where))
    if "actions" in task and urls:
        problems.append(
            SchemaError(
                f"{label} has both static actions and an Action URL ({urls[0]}); give one of them",
                locate(f"{pointer}/{urls[0]}"),
            )
        )
    elif "actions" not in task and not urls:
        problems.append(
            SchemaError(
                f'{label} has no actions: expected "actions": {{"actions": [...]}} or an "actionsUrl"',
                locate(pointer),
            )
        )
    if methods and not urls:
        problems.append(SchemaError(f"{methods[0]} without an Action URL", locate(f"{pointer}/{methods[0]}")))

    field_names: dict[str, int] = {}
    for index, task_field in enumerate(_list(task.get("fields"))):
        task_field = _dict(task_field)
        field_name = task_field.get("uniqueName")
        if isinstance(field_name, str):
            if field_name in field_names:
                problems.append(
                    SchemaError(
                        f"duplicate field '{field_name}' in {label} "
                        f"(field {field_names[field_name]} has it too)",
                        locate(f"{pointer}/fields/{index}/uniqueName"),
                    )
                )
            else:
                field_names[field_name] = index
        field_type = task_field.get("fieldType")
        if (
            isinstance(field_type, str)
            and field_type not in custom_types
            and builtin_name(field_type, ignore_case=ignore_type_case) is None
        ):
            where = locate(f"{pointer}/fields/{index}/fieldType")
            problems.append(_unknown_field_type(field_type, custom_types, where))

    for index, sample in enumerate(_list(task.get("samples"))):
        text = _dict(sample).get("taggedText")
        if isinstance(text, str):
            problems.extend(
                _sample_problems(text, field_names, label, f"{pointer}/samples/{index}/taggedText", locate)
            )

    if "actions" in task:
        problems.extend(
            check_action_rules(
                task["actions"],
                pointer=f"{pointer}/actions",
                locate=locate,
                task_names=task_names,
                field_type_names=custom_types,
                ignore_type_case=ignore_type_case,
            )
        )
    return problems


def _unknown_field_type(name: str, custom_types: dict[str, int], where: Location) -> ReferenceProblem:
    suggestion = suggest_builtin(name)
    if suggestion is None:
        close = difflib.get_close_matches(name, list(custom_types), n=1)
        suggestion = close[0] if close else None
    also = f" (did you mean '{suggestion}'?)" if suggestion else ""
    custom = ", ".join(sorted(custom_types)) or "none"
    return ReferenceProblem(
        f"unknown field type '{name}'{also}; expected a built-in type such as Twilio.NUMBER "
        f"or a custom type from fieldTypes (custom types: {custom})",
        where,
    )


def sample_tags(text: str) -> tuple[list[str], str | None]:
    """The `{field}` tags of a sample's text, and a description of its first brace error (or None)."""
    tags: list[str] = []
    start = -1
    for index, char in enumerate(text):
        if char == "{":
            if start >= 0:
                return tags, f"'{{' at character {index + 1} opens a tag inside another tag"
            start = index
        elif char == "}":
            if start < 0:
                return tags, f"'}}' at character {index + 1} closes no tag"
            tag = text[start + 1 : index]
            if not tag.strip():
                return tags, f"empty tag '{{}}' at character {start + 1}"
            tags.append(tag)
            start = -1
    if start >= 0:
        return tags, f"'{{' at character {start + 1} is never closed"
    return tags, None


def _sample_problems(
    text: str, field_names: dict[str, int], label: str, pointer: str, locate: Locate
) -> list[HarnessError]:
    if "{" not in text and "}" not in text:
        return []
    tags, brace_error = sample_tags(text)
    problems: list[HarnessError] = []
    if brace_error is not None:
        problems.append(SchemaError(f"unbalanced braces in sample {text!r}: {brace_error}", locate(pointer)))
    for tag in tags:
        if tag not in field_names:
            known = ", ".join(field_names) or "none"
            problems.append(
                ReferenceProblem(
                    f"sample {text!r} tags {{{tag}}}, which is not a field of {label} (fields: {known}); "
                    "a tag names the field, not its type",
                    locate(pointer),
                )
            )
    return problems


# --- building the model (the data is valid here) ------------------------------------------------------


def _say_text(say: Any) -> str:
    if isinstance(say, dict):
        return str(say.get("speech", ""))
    return "" if say is None else str(say)


def _style_sheet(inner: dict[str, Any]) -> StyleSheet:
    validate = _dict(_dict(inner.get("collect")).get("validate"))
    on_failure = _dict(validate.get("on_failure"))
    on_success = _dict(validate.get("on_success"))
    return StyleSheet(
        say_voice=_dict(inner.get("voice")).get("say_voice"),
        on_failure_messages=tuple(_say_text(_dict(m).get("say")) for m in _list(on_failure.get("messages"))),
        repeat_question=bool(on_failure.get("repeat_question", False)),
        on_success_say=_say_text(on_success["say"]) if "say" in on_success else None,
        max_attempts=validate.get("max_attempts"),
        raw=inner,
    )


def _build(
    data: dict[str, Any],
    *,
    path: str | None,
    sid: str | None,
    source: Source,
    warnings: tuple[HarnessError, ...],
) -> Assistant:
    field_types = tuple(
        FieldType(
            unique_name=ft["uniqueName"],
            values=tuple(
                FieldValue(v["value"], v.get("synonymOf"), v.get("language") or "en-US")
                for v in ft.get("values", ())
            ),
            pointer=f"/fieldTypes/{index}",
        )
        for index, ft in enumerate(data.get("fieldTypes", ()))
    )
    tasks = []
    for index, task in enumerate(data["tasks"]):
        url = task.get("actionsUrl", task.get("actions_url"))
        method = task.get("actionsUrlMethod", task.get("actions_url_method", "POST"))
        tasks.append(
            Task(
                unique_name=task["uniqueName"],
                actions=tuple(task["actions"]["actions"]) if "actions" in task else (),
                fields=tuple(
                    TaskField(f["uniqueName"], BUILTIN_FIELD_TYPE_SIDS.get(f["fieldType"], f["fieldType"]))
                    for f in task.get("fields", ())
                ),
                samples=tuple(
                    Sample(s["taggedText"], s.get("language") or "en-US") for s in task.get("samples", ())
                ),
                actions_url=url,
                actions_url_method=method.upper(),
                pointer=f"/tasks/{index}",
            )
        )
    defaults = _dict(_dict(data.get("defaults")).get("defaults"))
    unique_name = data.get("uniqueName") or data.get("friendlyName")
    return Assistant(
        unique_name=unique_name,
        friendly_name=data.get("friendlyName") or unique_name,
        tasks=tuple(tasks),
        field_types=field_types,
        defaults=Defaults(
            assistant_initiation=defaults.get("assistant_initiation"),
            fallback=defaults.get("fallback"),
            validate_on_failure=_dict(defaults.get("collect")).get("validate_on_failure"),
        ),
        style_sheet=_style_sheet(_dict(_dict(data.get("styleSheet")).get("style_sheet"))),
        model_build=_dict(data.get("modelBuild")).get("uniqueName"),
        sid=sid,
        path=path,
        raw=data,
        source=source if source.text else None,
        warnings=warnings,
    )
