"""The Actions validator: what Twilio rejected with error 90100 "Invalid Autopilot Actions JSON".

An Actions document is `{"actions": [ {<one key>: <value>}, … ]}`: what a task holds and what an Action URL
returns. Its shape is checked with our JSON Schema (`harness/schemas/actions.schema.json`, draft 2020-12);
rules that need more than one place are checked in Python afterwards:

- every `task://name` (redirect, collect `on_complete`, `max_attempts.redirect`, `listen.voice_digits`)
  and every `listen.tasks` entry names a task, when `task_names` is given (`ReferenceProblem`);
- question names are unique within a collect;
- a question `type` is a built-in type (its name, or its `UB…` SID) or, when `field_type_names` is given,
  a custom type of the assistant (error 90104). Without `field_type_names` only `Twilio.*` names can be
  checked; other names are accepted.

Choices where the sources are thin [uncertain], documented in docs/assistant-schema.md:
- unknown keys are rejected everywhere, not only at the action level (Twilio's schema is lost; only the
  `say` object is known to forbid extra keys) — a typo is the likelier cause;
- a redirect string must be `task://…` or an http(s) URL (`function://` is undocumented: rejected);
- `handoff.priority` / `timeout` may be integers or strings of digits (Twilio's templates use strings);
- HTTP methods are GET or POST, upper or lower case;
- mis-cased built-in type names (`Twilio.Number`) are rejected unless `ignore_type_case=True`.

Validators are compiled once per process, lazily. jsonschema's errors become short messages in
`harness.models.json_schema`, shared with the other loaders.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Collection
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from harness.errors import Location, ReferenceProblem, SchemaError, escape_pointer, raise_all
from harness.models.field_types import builtin_name, suggest_builtin
from harness.models.json_schema import ACTION_NAMES as ACTION_NAMES  # re-exported (tests, older imports)
from harness.models.json_schema import describe_value as describe_value
from harness.models.json_schema import json_schema_problem as json_schema_problem  # re-exported
from harness.models.json_schema import jsonschema_messages, load_schema
from harness.models.json_schema import pointer_order as pointer_order
from harness.sources import Source

TASK_SCHEME = "task://"
SCHEMA_BASE = "https://autopilot-harness.dev/schemas/"
ACTIONS_SCHEMA_ID = SCHEMA_BASE + "actions.schema.json"
ASSISTANT_SCHEMA_ID = SCHEMA_BASE + "assistant.schema.json"
INVALID_ACTIONS = "90100"
INVALID_FIELD_TYPE = "90104"

Locate = Callable[[str], Location]
Problem = SchemaError | ReferenceProblem


# --- schemas and validators (compiled once) --------------------------------------------------------


@functools.cache
def schema_registry() -> Registry:
    """Our schemas by `$id`, so `$ref`s between them resolve offline."""
    resources_ = [
        (schema["$id"], Resource.from_contents(schema))
        for schema in (load_schema("actions.schema.json"), load_schema("assistant.schema.json"))
    ]
    return Registry().with_resources(resources_)


@functools.cache
def validator_for(schema_ref: str) -> Draft202012Validator:
    """A validator for a schema, or a part of one, by URI (`…/assistant.schema.json#/$defs/task`).

    `$ref`s are resolved through `schema_registry()` once, here, and inlined (our schemas are not
    recursive): following references on every validation halved the speed.
    """
    resolved = schema_registry().resolver().lookup(schema_ref)
    return Draft202012Validator(_inline(resolved.contents, resolved.resolver))


def _inline(node: Any, resolver: Any) -> Any:
    if isinstance(node, list):
        return [_inline(item, resolver) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        resolved = resolver.lookup(node["$ref"])
        target = _inline(resolved.contents, resolved.resolver)
        extra = {k: _inline(v, resolver) for k, v in node.items() if k not in ("$ref", "description")}
        return {"allOf": [target], **extra} if extra else target
    return {k: _inline(v, resolver) for k, v in node.items() if k not in ("$defs", "$id", "$schema")}


def actions_validator() -> Draft202012Validator:
    return validator_for(ACTIONS_SCHEMA_ID)


# --- the Actions checks -----------------------------------------------------------------------------


def locator(path: str | None = None, source: Source | None = None) -> Locate:
    """Pointer → Location: with line and column when a parsed file is known."""
    if source is not None and source.text:
        if path is None or path == source.path:
            return source.locate
        return lambda pointer: _with_path(source.locate(pointer), path)
    file = path if path is not None else (source.path if source is not None else None)
    return lambda pointer: Location(file, pointer)


def _with_path(location: Location, path: str) -> Location:
    return Location(path, location.pointer, location.line, location.column)


def check_actions(
    document: Any,
    *,
    path: str | None = None,
    pointer: str = "",
    task_names: Collection[str] | None = None,
    field_type_names: Collection[str] | None = None,
    source: Source | None = None,
    ignore_type_case: bool = False,
) -> list[Problem]:
    """Every problem of an Actions document (`{"actions": [...]}`), schema violations first.

    `pointer` is where the document sits in its file (e.g. `/tasks/3/actions`); `source`, when given,
    adds line numbers. `task_names` / `field_type_names` enable the reference checks.
    """
    locate = locator(path, source)
    problems: list[Problem] = [
        SchemaError(f"{message} (error {INVALID_ACTIONS})", locate(pointer + rel))
        for rel, message in jsonschema_messages(actions_validator(), document)
    ]
    problems.extend(
        check_action_rules(
            document,
            pointer=pointer,
            locate=locate,
            task_names=task_names,
            field_type_names=field_type_names,
            ignore_type_case=ignore_type_case,
        )
    )
    return problems


def validate_actions(
    document: Any,
    *,
    path: str | None = None,
    pointer: str = "",
    task_names: Collection[str] | None = None,
    field_type_names: Collection[str] | None = None,
    source: Source | None = None,
    ignore_type_case: bool = False,
) -> None:
    """Raise every problem of an Actions document together (`harness.errors.raise_all`)."""
    raise_all(
        check_actions(
            document,
            path=path,
            pointer=pointer,
            task_names=task_names,
            field_type_names=field_type_names,
            source=source,
            ignore_type_case=ignore_type_case,
        )
    )


def check_action_rules(
    document: Any,
    *,
    pointer: str = "",
    locate: Locate | None = None,
    task_names: Collection[str] | None = None,
    field_type_names: Collection[str] | None = None,
    ignore_type_case: bool = False,
) -> list[Problem]:
    """The checks beyond the JSON Schema (references, unique question names, field types).

    Tolerates documents that break the schema: whatever has the wrong shape is skipped here.
    """
    locate = locate or (lambda p: Location(None, p))
    checker = _RuleChecker(locate, task_names, field_type_names, ignore_type_case)
    actions = document.get("actions") if isinstance(document, dict) else None
    if isinstance(actions, list):
        for index, action in enumerate(actions):
            if isinstance(action, dict) and len(action) == 1:
                ((name, value),) = action.items()
                checker.action(name, value, f"{pointer}/actions/{index}/{escape_pointer(name)}")
    return checker.problems


class _RuleChecker:
    def __init__(
        self,
        locate: Locate,
        task_names: Collection[str] | None,
        field_type_names: Collection[str] | None,
        ignore_type_case: bool,
    ) -> None:
        self.locate = locate
        self.task_names = task_names
        self.field_type_names = field_type_names
        self.ignore_type_case = ignore_type_case
        self.problems: list[Problem] = []

    def action(self, name: str, value: Any, pointer: str) -> None:
        if name == "redirect":
            self.redirect(value, pointer)
        elif name == "listen" and isinstance(value, dict):
            self.listen(value, pointer)
        elif name == "collect" and isinstance(value, dict):
            self.collect(value, pointer)

    def redirect(self, value: Any, pointer: str) -> None:
        if isinstance(value, dict):
            self.target(value.get("uri"), pointer + "/uri")
        else:
            self.target(value, pointer)

    def target(self, uri: Any, pointer: str) -> None:
        if isinstance(uri, str) and uri.startswith(TASK_SCHEME):
            self.task_name(uri[len(TASK_SCHEME) :], pointer, shown=uri)

    def task_name(self, name: str, pointer: str, *, shown: str) -> None:
        if self.task_names is None or name in self.task_names:
            return
        close = difflib.get_close_matches(name, list(self.task_names), n=1)
        also = f" (did you mean '{close[0]}'?)" if close else ""
        known = ", ".join(sorted(self.task_names)) or "none"
        self.problems.append(
            ReferenceProblem(f"'{shown}' names no task{also}; tasks: {known}", self.locate(pointer))
        )

    def listen(self, value: dict[str, Any], pointer: str) -> None:
        tasks = value.get("tasks")
        if isinstance(tasks, list):
            for index, name in enumerate(tasks):
                if isinstance(name, str):
                    self.task_name(name, f"{pointer}/tasks/{index}", shown=name)
        digits = value.get("voice_digits")
        redirects = digits.get("redirects") if isinstance(digits, dict) else None
        if isinstance(redirects, dict):
            for key, uri in redirects.items():
                self.target(uri, f"{pointer}/voice_digits/redirects/{escape_pointer(key)}")

    def collect(self, value: dict[str, Any], pointer: str) -> None:
        questions = value.get("questions")
        if isinstance(questions, list):
            seen: dict[str, int] = {}
            for index, question in enumerate(questions):
                if not isinstance(question, dict):
                    continue
                here = f"{pointer}/questions/{index}"
                name = question.get("name")
                if isinstance(name, str):
                    if name in seen:
                        self.problems.append(
                            SchemaError(
                                f"duplicate question name '{name}' (question {seen[name]} has it too); "
                                "names are unique within a collect",
                                self.locate(here + "/name"),
                            )
                        )
                    else:
                        seen[name] = index
                field_type = question.get("type")
                if isinstance(field_type, str):
                    self.field_type(field_type, here + "/type")
                validate = question.get("validate")
                attempts = validate.get("max_attempts") if isinstance(validate, dict) else None
                if isinstance(attempts, dict) and "redirect" in attempts:
                    self.redirect(attempts["redirect"], here + "/validate/max_attempts/redirect")
        on_complete = value.get("on_complete")
        if isinstance(on_complete, dict) and "redirect" in on_complete:
            self.redirect(on_complete["redirect"], pointer + "/on_complete/redirect")

    def field_type(self, name: str, pointer: str) -> None:
        if builtin_name(name, ignore_case=self.ignore_type_case) is not None:
            return
        if self.field_type_names is not None:
            if name in self.field_type_names:
                return
        elif not name.upper().startswith("TWILIO."):
            return  # a custom type we cannot check without the assistant
        suggestion = suggest_builtin(name)
        if suggestion is None and self.field_type_names:
            close = difflib.get_close_matches(name, list(self.field_type_names), n=1)
            suggestion = close[0] if close else None
        also = f" (did you mean '{suggestion}'?)" if suggestion else ""
        custom = ", ".join(sorted(self.field_type_names or ())) or "none"
        self.problems.append(
            ReferenceProblem(
                f"unknown field type '{name}'{also} (error {INVALID_FIELD_TYPE}); expected a built-in type "
                f"such as Twilio.NUMBER or a custom type of the assistant (custom types: {custom})",
                self.locate(pointer),
            )
        )

