"""Contract outcomes as plain data: one `ContractProblem` per broken expectation, grouped per interaction.

Pact mismatches, JSON Schema violations and the Twilio rules (`twilio_rules`) all end up as the same
`ContractProblem(interaction, path, message, rule)`, so the CLI, pytest and JUnit print them alike.
`path` is a JSON path into the payload (`$.memory.sendToAgent`), or `status` / `header:<name>` /
`metadata:<key>` for the parts of a message that are not the body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.errors import ExpectationFailed, Location

_MISSING_KEYS = re.compile(r"missing the following keys: (?P<keys>.+)$")


@dataclass(frozen=True)
class ContractProblem:
    """One broken expectation of a contract."""

    interaction: str  # the pact interaction's description (or the hand-off being checked)
    path: str  # "$.memory.sendToAgent", "status", "header:Content-Type", "metadata:topic", "$"
    message: str
    rule: str = "pact"  # "pact", "schema", "twilio.size", "twilio.forbidden", …
    expected: str | None = None
    actual: str | None = None

    def render(self) -> str:
        text = f"{self.interaction}: {self.path}: {self.message}"
        if self.expected is not None and self.actual is not None and self.rule != "pact":
            text += f" (expected {self.expected}, got {self.actual})"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {"interaction": self.interaction, "path": self.path, "message": self.message,
                "rule": self.rule, "expected": self.expected, "actual": self.actual}


class ContractFailed(ExpectationFailed):
    """A hand-off broke its contract (schema, pact matchers or a Twilio rule)."""

    kind = "contract"

    def __init__(self, problems: Sequence[ContractProblem], location: Location | None = None) -> None:
        self.problems = list(problems)
        first = self.problems[0].render() if self.problems else "contract failed"
        super().__init__(first, location)

    def render(self) -> str:
        where = f"{self.location}: " if self.location else ""
        if len(self.problems) == 1:
            return where + self.problems[0].render()
        lines = [f"{where}{len(self.problems)} contract problems:"]
        lines += ["  " + p.render() for p in self.problems]
        return "\n".join(lines)


@dataclass(frozen=True)
class InteractionResult:
    description: str
    provider_states: tuple[str, ...] = ()
    ok: bool = True
    problems: tuple[ContractProblem, ...] = ()
    pact_file: str | None = None


@dataclass
class VerifyResult:
    """What a provider verification found. `ok` is never true when nothing was verified."""

    provider: str
    pact_files: list[str] = field(default_factory=list)
    interactions: list[InteractionResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # failures outside any interaction
    output: str = ""  # the Rust verifier's own report, ANSI stripped
    published: str | None = None  # where the results were published (`verify --publish`), None if not

    @property
    def ok(self) -> bool:
        return bool(self.interactions) and not self.errors and all(i.ok for i in self.interactions)

    @property
    def problems(self) -> list[ContractProblem]:
        return [p for i in self.interactions for p in i.problems]

    def render(self) -> str:
        """A short report: one line per interaction, one indented line per problem."""
        lines = []
        for interaction in self.interactions:
            states = interaction.provider_states
            given = f" (given {', '.join(states)})" if states else ""
            lines.append(f"{'PASS' if interaction.ok else 'FAIL'} {interaction.description}{given}")
            lines += [f"    {p.path}: {p.message}{_rule_note(p)}" for p in interaction.problems]
        lines += [f"ERROR {e}" for e in self.errors]
        verdict = "contract verified" if self.ok else "contract verification FAILED"
        passed = sum(i.ok for i in self.interactions)
        lines.append(f"{verdict}: {passed}/{len(self.interactions)} interactions passed "
                     f"for provider '{self.provider}'")
        if self.published:
            lines.append(f"verification results published to {self.published}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "provider": self.provider, "pact_files": self.pact_files, "errors": self.errors,
            "published": self.published,
            "interactions": [
                {"description": i.description, "provider_states": list(i.provider_states), "ok": i.ok,
                 "pact_file": i.pact_file, "problems": [p.to_dict() for p in i.problems]}
                for i in self.interactions
            ],
        }


    def to_junit_xml(self, *, duration: float = 0.0) -> str:
        """JUnit XML (junit-10.xsd, as `run --junit`): a <testsuite> per pact file, a <testcase> per
        interaction; problems outside any interaction, or nothing verified at all, are one test case in
        error, so a CI page never shows an empty green run."""
        from pathlib import Path

        from harness.runner.junit import JUnitCase, JUnitSuite, junit_document

        by_file: dict[str, list[JUnitCase]] = {}
        for item in self.interactions:
            file = item.pact_file or "pacts"
            given = f" (given {', '.join(item.provider_states)})" if item.provider_states else ""
            classname = f"pact.{Path(file).stem}" if item.pact_file else f"pact.{self.provider}"
            if item.ok:
                case = JUnitCase(item.description + given, classname)
            else:
                count = len(item.problems)
                case = JUnitCase(item.description + given, classname, outcome="failed",
                                 message=f"{count} contract problem{'s' if count != 1 else ''}",
                                 text="\n".join(f"{p.path}: {p.message}{_rule_note(p)}" for p in item.problems),
                                 type="ContractFailed")
            by_file.setdefault(file, []).append(case)
        suites = [JUnitSuite(name=file, file=file if file != "pacts" else None, cases=cases)
                  for file, cases in by_file.items()]
        errors = self.errors or ([] if self.interactions else ["zero interactions were verified"])
        if errors:
            suites.append(JUnitSuite(name=f"pact verification of {self.provider}", cases=[
                JUnitCase("(verification)", f"pact.{self.provider}", outcome="error", message=errors[0],
                          text="\n".join(errors), type="VerificationError")]))
        return junit_document(suites, name=f"autopilot-harness verify {self.provider}", duration=duration)


def _rule_note(problem: ContractProblem) -> str:
    """Name the kit's own rules (`[twilio.autopilot-from]`): pact's mismatches speak for themselves."""
    return "" if problem.rule in ("pact", "provider") else f" [{problem.rule}]"


# --- reading the Rust verifier's structured results ---------------------------------------------------


def problems_from_mismatches(
    description: str, mismatches: Iterable[Mapping[str, Any]]
) -> list[ContractProblem]:
    """`verifier.results[...]["mismatch"]["mismatches"]` entries as problems naming the field."""
    problems: list[ContractProblem] = []
    for mismatch in mismatches:
        kind = str(mismatch.get("type", "Mismatch"))
        text = str(mismatch.get("mismatch") or mismatch.get("message") or kind)
        expected, actual = _text(mismatch.get("expected")), _text(mismatch.get("actual"))
        if kind == "BodyMismatch":
            path = str(mismatch.get("path") or "$")
            missing = _MISSING_KEYS.search(text)
            if missing:  # "$ -> missing the following keys: a, b" names no field in `path`: split it per key
                for key in (k.strip() for k in missing.group("keys").split(",")):
                    problems.append(ContractProblem(description, _child_path(path, key),
                                                    f"missing in the provider's answer ({text})",
                                                    "pact", expected, actual))
                continue
        elif kind == "StatusMismatch":
            path = "status"
            text = f"expected status {expected}, got {actual}"
        elif kind == "HeaderMismatch":
            path = f"header:{mismatch.get('key', '?')}"
        elif kind == "MetadataMismatch":
            path = f"metadata:{mismatch.get('key', '?')}"
        elif kind == "QueryMismatch":
            path = f"query:{mismatch.get('parameter', '?')}"
        else:
            path = str(mismatch.get("path") or kind)
        problems.append(ContractProblem(description, path, text, "pact", expected, actual))
    return problems


def interaction_results(results: Mapping[str, Any] | None) -> list[InteractionResult]:
    """The per-interaction part of `Verifier.results`."""
    found: list[InteractionResult] = []
    for item in (results or {}).get("interactionResults") or []:
        description = str(item.get("description", "?"))
        states = tuple(str(s) for s in item.get("providerStates") or ())
        ok = str(item.get("result", "")).lower() == "ok"
        problems: list[ContractProblem] = []
        mismatch = item.get("mismatch")
        if isinstance(mismatch, Mapping):
            if mismatch.get("mismatches"):
                problems = problems_from_mismatches(description, mismatch["mismatches"])
            elif mismatch.get("message") or mismatch.get("type") == "error":
                problems = [ContractProblem(description, "$", str(mismatch.get("message", mismatch)))]
        if not ok and not problems:
            problems = [ContractProblem(description, "$", "the interaction failed (see the verifier output)")]
        found.append(InteractionResult(description, states, ok, tuple(problems)))
    return found


def _child_path(path: str, key: str) -> str:
    return f"{path}.{key}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) else f"{path}['{key}']"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value)
