"""The shape of `autopilot-harness run --json` results, as far as `report` and `coverage` read them.

One JSON Schema, checked once where results are loaded (`harness.insight.coverage.load_results`), so a
results file of the wrong shape (a list, a case that is not an object, a transcript whose turns are text,
JUnit XML…) is exit 2 naming the file, the place (line and JSON Pointer) and what was expected, instead of
a traceback deep in the HTML or coverage code. Keys the tools do not read stay free (forward compatible).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from harness.errors import HarnessError, SchemaError, raise_all
from harness.sources import Source

# Problems listed for one file: the first ones tell what is wrong; hundreds would bury them.
MAX_SHAPE_PROBLEMS = 20

_OBJECT = {"type": "object"}
_LIST_OF_OBJECTS = {"type": "array", "items": _OBJECT, "x-expected": "a list of objects"}
_OPTIONAL_TEXT = {"type": ["string", "null"], "x-expected": "a string or null"}

_STEP = {
    "type": "object",
    "properties": {
        "conditions": {**_LIST_OF_OBJECTS},
        "widget": {"type": ["string", "null"]},
        "next": {"type": ["string", "null"]},
    },
}

_TURN = {
    "type": "object",
    "properties": {
        "user": {"type": ["string", "null"]},
        "task": {"type": ["string", "null"]},
        "confidence": {"type": ["number", "null"]},
        "wait": {"type": ["number", "null"], "x-expected": "a number of seconds or null"},
        "fields": {"type": ["object", "null"]},
        "replies": {"type": ["array", "null"]},
        "tasks_run": {"type": ["array", "null"], "items": {"type": "string"}},
        "ranking": {"type": ["array", "null"], "items": _OBJECT, "x-expected": "a list of objects"},
        "steps": {"type": ["array", "null"], "items": _STEP, "x-expected": "a list of step objects"},
        "memory": {
            "type": ["object", "null"],
            "properties": {
                "twilio": {
                    "type": ["object", "null"],
                    "properties": {
                        "collected_data": {
                            "type": ["object", "null"],
                            "additionalProperties": {
                                "type": ["object", "null"],
                                "properties": {"answers": {"type": ["object", "array", "null"]}},
                            },
                        },
                    },
                },
            },
        },
        "routing": {"type": ["string", "null"]},
        "bot": {"type": ["string", "null"]},
    },
}

_CASE = {
    "type": "object",
    "required": ["file"],
    "properties": {
        "file": {"type": "string", "x-expected": "the scenario file's path, a string"},
        "id": {"type": ["string", "null"]},
        "name": {"type": ["string", "null"]},
        "status": {"type": "string", "x-expected": "a status string such as \"passed\""},
        "error": _OPTIONAL_TEXT,
        "mismatches": {"type": ["array", "null"], "items": _OBJECT, "x-expected": "a list of objects"},
        "transcript": {
            "type": ["object", "null"],
            "properties": {
                "turns": {"type": ["array", "null"], "items": _TURN, "x-expected": "a list of turn objects"},
                "flow": {
                    "type": ["object", "null"],
                    "properties": {"steps": {"type": ["array", "null"], "items": _STEP,
                                             "x-expected": "a list of step objects"}},
                },
                "handoff": {"type": ["object", "null"]},
            },
        },
    },
}

RESULTS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "autopilot-harness run --json results (the parts report and coverage read)",
    "type": "object",
    "x-expected": "the JSON written by `autopilot-harness run --json` (an object with 'version', 'files' "
                  "and a 'cases' list)",
    "required": ["cases"],
    "properties": {
        "version": {"const": 1, "x-expected": "results version 1"},
        "cwd": {"type": ["string", "null"]},
        "summary": {"type": ["object", "null"]},
        "files": {
            "type": ["object", "null"],
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "bot": {"type": ["string", "object", "null"],
                            "x-expected": "a path, an object of SID → path, or null"},
                    "flow": _OPTIONAL_TEXT,
                },
            },
        },
        "cases": {"type": "array", "items": _CASE, "x-expected": "a list of case objects"},
    },
}


@cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(RESULTS_SCHEMA)


def check_results_shape(source: Source) -> None:
    """Raise SchemaError(s) naming each place where `source` (a parsed results file) breaks RESULTS_SCHEMA."""
    from harness.models.actions import jsonschema_messages

    problems: list[HarnessError] = []
    for pointer, message in jsonschema_messages(_validator(), source.data)[:MAX_SHAPE_PROBLEMS]:
        problems.append(SchemaError(message, source.locate(pointer),
                                    hint="pass the --json file of `autopilot-harness run` (not --junit)"
                                    if not pointer else None))
    raise_all(problems)
