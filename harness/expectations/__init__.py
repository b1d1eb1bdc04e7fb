"""Expectations: a scenario's `expect` blocks checked against a transcript, and readable diffs.

Stands between the transcript and the runner: imports only `harness.transcript`, `harness.errors` and
`harness.models` (docs/architecture.md).

    mismatches = check_turn(turn_spec.expect, transcript.turns[0])
    mismatches += check_scenario(scenario.expect, transcript, queue_of=...)
    print(format_mismatches(mismatches))
"""

from harness.expectations.checks import (
    check_scenario,
    check_transcript,
    check_turn,
    routing_detail,
    step_detail,
)
from harness.expectations.mismatch import MISSING, Expected, Mismatch, show
from harness.expectations.payload import Difference, schema_diff, subset_diff
from harness.expectations.report import expectation_error, format_mismatches

__all__ = [
    "MISSING",
    "Difference",
    "Expected",
    "Mismatch",
    "check_scenario",
    "check_transcript",
    "check_turn",
    "expectation_error",
    "format_mismatches",
    "routing_detail",
    "schema_diff",
    "show",
    "step_detail",
    "subset_diff",
]
