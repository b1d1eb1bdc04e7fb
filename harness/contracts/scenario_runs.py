"""Contracts in scenario runs: pacts written and checked while the scenarios run, and the flow as provider.

Consumer side (HTTP) — `case_checks()` returns the check the faces (`autopilot-harness run`, the pytest
plugin) hand to the runner (`SessionPool(case_checks=…)`, `run_suite(case_checks=…)`). After each case:

- the Twilio rules (`twilio_rules.check_handoff`) run on every hand-off the scenario produced — each Send
  to Flex task, each Send to Flex that failed on its attributes, and the HTTP hand-off — unless the file
  says `contracts: {rules: false}`;
- when the file has `contracts.http`, the scenario's HTTP hand-off becomes one interaction (description:
  the scenario id) of `<pact_dir>/<consumer>-<provider>.json`: `HandoffPactWriter.add` checks it against
  the body schema and pact's mock server, then, in **write** mode, merges it by description (locked,
  sorted: the same bytes serially and under xdist) — only when the scenario passed: a failing scenario
  never writes. Interactions of scenarios this run did not run are kept, so a filtered run (`-k`, `-m`,
  `--lf`, one file) never cuts the committed pact down; a passing scenario that ran without an HTTP
  hand-off loses its interaction. In **check** mode the interaction is compared with the committed one
  and any difference is a `pact.drift` mismatch; nothing is written. The mode (`pact_mode`): the
  face's override (`run --write-pacts` / `--check-pacts`), else `AUTOPILOT_HARNESS_PACT_MODE`, else
  check when `$CI` is set, else the file's `contracts.http.mode`, else write. tox.ini also sets
  `AUTOPILOT_HARNESS_PACT_MODE=check`.
- the flow's Autopilot widget's `from` (`twilio_rules.check_autopilot_from`), once per flow and channel
  kind per run, reported on each scenario through that flow that hands off (not for voice).
- any rule can be switched off by id: `contracts: {rules: {disable: [twilio.autopilot-from]}}`.

Every problem is a scenario mismatch in the "contract" scope, naming the JSON path.

Provider side (Flex messages) — `verify_flow(pact_paths, scenario_paths)`: for each message interaction,
run the scenario whose `provider_state:` (else whose name) equals the interaction's provider state, take
its Send to Flex hand-off and verify it with `messages.verify_messages`. A state no scenario produces
fails the interaction, naming the state. The produced attributes are also validated against the JSON
Schema whose `x-pact` block describes the pact (`schemas=`; default: the `schemas/` folder beside the
pact folder, i.e. contracts/schemas for contracts/pacts), since Pact's matchers cannot say everything.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from harness.contracts.consumer import HandoffPactWriter, parsed_keys_used
from harness.contracts.messages import Produced, verify_messages
from harness.contracts.results import ContractFailed, ContractProblem, VerifyResult
from harness.contracts.twilio_rules import (
    CHAT_CHANNELS,
    DEFAULT_FORBIDDEN_KEYS,
    DEFAULT_RULES,
    RULE_IDS,
    TwilioRules,
    check_autopilot_from,
    check_handoff,
)
from harness.errors import EngineError, Location, UsageError
from harness.expectations import Expected, Mismatch
from harness.models.flow import Flow, load_flow
from harness.models.scenario_contracts import HttpContract, RulesSpec
from harness.models.scenario_loader import load_scenario_file
from harness.models.scenario_model import Scenario, ScenarioFile
from harness.runner.cases import run_case
from harness.runner.collect import collect_files
from harness.runner.paths import display_path
from harness.runner.pool import CaseCheck, SessionPool
from harness.transcript import Transcript

CONTRACT_SCOPE = "contract"

PACT_MODE_ENV = "AUTOPILOT_HARNESS_PACT_MODE"

__all__ = ["CONTRACT_SCOPE", "PACT_MODE_ENV", "ScenarioContracts", "case_checks", "flex_handoff", "handoffs_of",
           "pact_mode", "rules_for", "verify_flow"]


# --- consumer side: a check after every case ---------------------------------------------------------------


def _on_ci() -> bool:
    """$CI is set (GitHub Actions, GitLab, CircleCI, … all set it) and not explicitly false."""
    return (os.environ.get("CI") or "").strip().lower() not in ("", "0", "false", "no")


def pact_mode(file_mode: str | None = None, override: str | None = None) -> str:
    """`write` or `check`: the face's override, else $AUTOPILOT_HARNESS_PACT_MODE, else `check` when $CI is
    set, else the file's `contracts.http.mode`, else `write` (a local run updates the pact).

    Why $CI beats the file: a deploy gate that rewrites the pact it should guard lets every contract
    change through, so on CI only an explicit override or the variable can ask for write."""
    ci_mode = "check" if _on_ci() else None
    for value, source in ((override, "the pact mode"), (os.environ.get(PACT_MODE_ENV) or None, PACT_MODE_ENV),
                          (ci_mode, "CI"), (file_mode, "contracts.http.mode")):
        if value is None:
            continue
        mode = value.strip().lower()
        if mode not in ("write", "check"):
            raise UsageError(f"{source} must be 'write' or 'check', got {value!r}")
        return mode
    return "write"


class ScenarioContracts:
    """The case check: Twilio rules on every hand-off, HTTP hand-offs into the file's consumer pact.

    `mode` overrides the pact mode of every file (`run --write-pacts` / `--check-pacts`)."""

    wants_outcome = True  # the runner passes failed=…: a failing scenario never writes its interaction

    def __init__(self, *, run_id: str | None = None, mode: str | None = None) -> None:
        self.run_id = run_id
        self.mode = pact_mode(None, mode) if mode is not None else None
        pact_mode()  # a bad AUTOPILOT_HARNESS_PACT_MODE is bad input before anything runs
        self._writers: dict[tuple[str, str, str, str], HandoffPactWriter] = {}
        self._flows: dict[Path, Flow] = {}
        self._from_checked: dict[tuple[Path, str | None, frozenset[str]], list[Mismatch]] = {}

    def __call__(self, scenario_file: ScenarioFile, scenario: Scenario, transcript: Transcript, *,
                 failed: bool = False) -> list[Mismatch]:
        spec = scenario_file.contracts
        where = scenario.location()
        problems: list[ContractProblem] = []
        rules = rules_for(spec.rules)
        handoffs = handoffs_of(transcript)
        if spec.rules.enabled:
            for handoff in handoffs:
                if handoff["kind"] == "flex" and "channel_type" not in handoff:
                    handoff = {**handoff, "channel_type": _flex_channel(scenario.channel)}
                problems += check_handoff(handoff, interaction=scenario.id, rules=rules)
        handoff = transcript.handoff
        if spec.http is not None:
            problems += self._pact(spec.http, scenario_file, scenario, handoff, rules,
                                   failed=failed or bool(problems))
        mismatches = [_mismatch(problem, where) for problem in _unique(problems)]
        if spec.rules.enabled and handoffs:  # the guide's `from` matters to conversations that hand off
            mismatches += self._autopilot_from(scenario_file, scenario, rules)
        return mismatches

    def _pact(self, http: HttpContract, scenario_file: ScenarioFile, scenario: Scenario, handoff: Any,
              rules: TwilioRules, *, failed: bool) -> list[ContractProblem]:
        mode = self.mode or pact_mode(http.mode)
        writer = self._writer(http, scenario_file, handoff if isinstance(handoff, Mapping) else {}, rules, mode)
        try:
            if isinstance(handoff, Mapping) and handoff.get("kind") == "http":
                writer.add(_with_parsed_response(handoff), description=scenario.id,
                           provider_state=http.provider_state, write=not failed)
            elif not failed:
                # The scenario passed and no longer hands off over HTTP: its interaction (if any) is stale.
                writer.forget(scenario.id)
        except ContractFailed as failure:
            # The rules already ran in __call__; keep the pact's own findings (schema, mock server, drift).
            return [p for p in failure.problems if not p.rule.startswith("twilio.")]
        return []

    def _autopilot_from(self, scenario_file: ScenarioFile, scenario: Scenario, rules: TwilioRules
                        ) -> list[Mismatch]:
        """The flow's `from` rule, checked once per flow and channel kind per run, reported on each
        scenario through that flow that hands off (a wrong `from` breaks the hand-off), located in the flow."""
        channel = autopilot_channel(scenario.channel)
        if scenario_file.flow is None or channel is False:
            return []
        flow = self._flow(scenario_file.flow)
        key = (scenario_file.flow, channel, frozenset(rules.disabled))
        if key not in self._from_checked:
            self._from_checked[key] = [_mismatch(problem, flow.location(problem.path))
                                       for problem in check_autopilot_from(flow, channel=channel, rules=rules)]
        return list(self._from_checked[key])

    def _writer(self, http: HttpContract, scenario_file: ScenarioFile, handoff: Mapping[str, Any],
                rules: TwilioRules, mode: str) -> HandoffPactWriter:
        key = (str(http.pact_dir), http.consumer, http.provider, mode)
        writer = self._writers.get(key)
        if writer is None:
            origin = scenario_file.scenarios[0].origin if scenario_file.scenarios else None

            def names_at(role: str) -> Location:  # the names' place in the scenario file, for a bad name
                if origin is not None and origin.source is not None and origin.source.text:
                    return origin.source.locate(f"/contracts/http/{role}")
                return Location(str(scenario_file.path), f"/contracts/http/{role}")

            writer = self._writers[key] = HandoffPactWriter(
                http.pact_dir, http.consumer, http.provider, schema=http.body_schema,
                response_schema=http.response_schema, response_keys=http.response_keys, rules=rules,
                run_id=self.run_id, mode=mode, names_at=names_at)
        widget = handoff.get("widget")
        if writer.response_keys is None and http.response_keys is None and scenario_file.flow is not None \
                and isinstance(widget, str):
            # Learnt from the first HTTP hand-off (a scenario without one may have created the writer).
            writer.response_keys = parsed_keys_used(self._flow(scenario_file.flow), widget)
        return writer

    def _flow(self, path: Path) -> Flow:
        if path not in self._flows:
            self._flows[path] = load_flow(path)
        return self._flows[path]


def case_checks(*, run_id: str | None = None, pact_mode: str | None = None) -> tuple[CaseCheck, ...]:
    """What the faces pass to the runner so every scenario run checks and writes its contracts.
    `pact_mode` ('write' | 'check') overrides the environment and the files."""
    return (ScenarioContracts(run_id=run_id, mode=pact_mode),)


def rules_for(spec: RulesSpec) -> TwilioRules:
    """The `contracts.rules` of a scenario file as `TwilioRules` (extra forbidden keys are added)."""
    if spec == RulesSpec():
        return DEFAULT_RULES
    if not spec.enabled:
        return TwilioRules(disabled=frozenset(RULE_IDS))
    return TwilioRules(
        size_limit=spec.max_attributes if spec.max_attributes is not None else DEFAULT_RULES.size_limit,
        forbidden_keys=tuple(DEFAULT_FORBIDDEN_KEYS) + tuple(k for k in spec.forbidden
                                                             if k not in DEFAULT_FORBIDDEN_KEYS),
        check_cards=spec.cards, check_ssn=spec.ssn, disabled=frozenset(spec.disable))


def handoffs_of(transcript: Transcript) -> list[dict[str, Any]]:
    """Every hand-off of a conversation: each Send to Flex task (attributes as Studio rendered them),
    each Send to Flex that failed on its attributes, and the HTTP hand-off."""
    found: list[dict[str, Any]] = []
    flow = transcript.flow
    if flow is not None:
        tasks = iter(flow.flex_tasks)
        for step in flow.steps:
            if step.get("type") != "send-to-flex":
                continue
            # A refused task keeps what Liquid rendered on the step (the engine's `info`).
            if step.get("event") == "failedToEnqueue" and isinstance(step.get("attributes"), str):
                found.append({"kind": "flex", "widget": step.get("widget"), "attributes": step["attributes"],
                              "error": step.get("error")})
            else:
                task = next(tasks, None)
                if task is not None:
                    found.append(_flex_record(task))
    if isinstance(transcript.handoff, Mapping) and transcript.handoff.get("kind") == "http":
        found.append(dict(transcript.handoff))
    return found


def flex_handoff(transcript: Transcript) -> dict[str, Any] | None:
    """The conversation's last Send to Flex hand-off (a failed one included), or None."""
    flex = [h for h in handoffs_of(transcript) if h["kind"] == "flex"]
    return flex[-1] if flex else None


def _flex_record(task: Mapping[str, Any]) -> dict[str, Any]:
    text = task.get("attributes")
    return {"kind": "flex", "widget": task.get("widget"),
            # The text Studio rendered (its size is what Twilio limits); the parsed form if it is absent.
            "attributes": text if isinstance(text, str) else task.get("parsed_attributes"),
            "workflow_sid": task.get("workflow_sid"),
            "task_channel": task.get("task_channel_unique_name") or task.get("task_channel_sid"),
            "queue": task.get("task_queue_friendly_name") or task.get("task_queue_sid"),
            "priority": task.get("priority")}


def _flex_channel(channel: str) -> str:
    return "web" if channel == "chat" else channel


def autopilot_channel(channel: str) -> str | Literal[False] | None:
    """The channel `check_autopilot_from` is given for a scenario's channel: "web" for chat (any label),
    None for messaging (the guide's template), False for voice (the rule is about messaging flows)."""
    if channel == "voice":
        return False
    flex = _flex_channel(channel)
    return flex if flex in CHAT_CHANNELS else None


def _with_parsed_response(handoff: Mapping[str, Any]) -> dict[str, Any]:
    """Studio records the answer as text; the pact needs the JSON the flow parses (`widgets.X.parsed`)."""
    response = handoff.get("response")
    if isinstance(response, str | bytes):
        try:
            parsed = json.loads(response)
        except ValueError:
            return dict(handoff)
        return {**handoff, "response": parsed}
    return dict(handoff)


def _unique(problems: Iterable[ContractProblem]) -> list[ContractProblem]:
    return list(dict.fromkeys(problems))


_RULE_EXPECTS = {
    "twilio.json": "attributes that are a JSON object after Liquid",
    "twilio.size": "attributes within Twilio's size limit",
    "twilio.required": "the keys Flex needs, not empty",
    "twilio.forbidden": "no PII or secrets in the hand-off",
    "twilio.autopilot-from": "the Autopilot widget's 'from' as the hand-off guide sets it",
    "schema": "a body that satisfies the JSON Schema",
    "pact.mock": "a request pact's mock server accepts",
    "pact.drift": "the interaction as committed in the pact",
    "response": "the answer's fields the flow relies on",
}


def _mismatch(problem: ContractProblem, where: Location) -> Mismatch:
    if problem.rule == "pact.drift" and problem.expected is not None:
        # committed → now, and why it matters
        return Mismatch(f"{CONTRACT_SCOPE} {problem.path}", Expected(problem.expected), Expected(problem.actual),
                        f"rule {problem.rule}: {problem.message}", problem.path, CONTRACT_SCOPE, problem.rule,
                        where)
    expected = problem.expected or _RULE_EXPECTS.get(problem.rule, f"the {problem.rule} rule to hold")
    detail = f"rule {problem.rule}"
    if problem.actual is not None:
        detail += f"; found {problem.actual}"
    return Mismatch(f"{CONTRACT_SCOPE} {problem.path}", Expected(expected), Expected(problem.message), detail,
                    problem.path, CONTRACT_SCOPE, problem.rule, where)


# --- provider side: the flow produces the Flex attributes per provider state ------------------------------


class _StateIndex:
    """Provider state → (file, concrete scenario): `provider_state:` keys first, then scenario names."""

    def __init__(self, scenario_paths: Iterable[str | Path]) -> None:
        self.by_key: dict[str, tuple[ScenarioFile, Scenario]] = {}
        self.by_name: dict[str, tuple[ScenarioFile, Scenario]] = {}
        for path in collect_files(scenario_paths):
            scenario_file = load_scenario_file(display_path(path))
            for scenario in scenario_file.scenarios:
                concrete = next(scenario.expanded())  # a state needs one run: the first variant
                if scenario.provider_state:
                    earlier = self.by_key.get(scenario.provider_state)
                    if earlier is not None:
                        raise UsageError(
                            f"two scenarios produce provider state {scenario.provider_state!r}: "
                            f"'{earlier[1].name}' ({earlier[0].path}) and '{scenario.name}' "
                            f"({scenario_file.path})", scenario.location("provider_state"))
                    self.by_key[scenario.provider_state] = (scenario_file, concrete)
                for name in (scenario.name, scenario.id):
                    self.by_name.setdefault(name, (scenario_file, concrete))

    def find(self, state: str) -> tuple[ScenarioFile, Scenario] | None:
        return self.by_key.get(state) or self.by_name.get(state)


def verify_flow(
    pact_paths: str | Path | Iterable[str | Path],
    scenario_paths: Sequence[str | Path],
    *,
    provider: str | None = None,
    rules: TwilioRules | None = DEFAULT_RULES,
    threshold: float | None = None,
    quiet: bool = True,
    schemas: Sequence[str | Path] | None = None,
) -> VerifyResult:
    """Verify message pacts with the flow as provider: each provider state runs its scenario.

    Bad input (no such scenario file, a malformed file, two scenarios claiming one state) raises a
    HarnessError; a state without a scenario, a scenario without a Flex hand-off or attributes that
    break the pact, its JSON Schema or the Twilio rules make `result.ok` false, naming the interaction
    and JSON path. `schemas` (files or folders) default to the `schemas/` folder beside each pact folder.
    """
    if schemas is None:
        schemas = default_schema_folders(pact_paths)
    index = _StateIndex(scenario_paths)
    flows: dict[Path, Flow] = {}
    with SessionPool(threshold=threshold) as pool:

        def produce(state: str, params: Mapping[str, Any]) -> Produced:
            found = index.find(state)
            if found is None:
                raise UsageError(f"no scenario produces provider state {state!r}",
                                 hint="name a scenario after the state, or give one `provider_state: "
                                      f"{state}`")
            scenario_file, scenario = found
            wanted = params.get("channel")
            if isinstance(wanted, str) and wanted != scenario.channel:
                raise UsageError(f"scenario '{scenario.id}' talks on {scenario.channel}, the state's params "
                                 f"say channel {wanted!r}", scenario.location())
            result = run_case(pool, scenario, file=scenario_file)
            if result.error is not None:
                raise EngineError(f"scenario '{scenario.id}' broke: {result.error}", scenario.location())
            handoff = flex_handoff(result.transcript) if result.transcript is not None else None
            if handoff is None:
                path = " → ".join(result.transcript.flow.path) if result.transcript and result.transcript.flow \
                    else "(no flow)"
                raise EngineError(f"scenario '{scenario.id}' made no Send to Flex hand-off (flow path: {path})",
                                  scenario.location())
            problems: list[ContractProblem] = []
            channel = autopilot_channel(scenario.channel)
            if rules is not None and scenario_file.flow is not None and channel is not False:
                if scenario_file.flow not in flows:
                    flows[scenario_file.flow] = load_flow(scenario_file.flow)
                problems = check_autopilot_from(flows[scenario_file.flow], channel=channel)
            return Produced(handoff, tuple(problems))

        return verify_messages(pact_paths, produce, provider=provider, rules=rules, quiet=quiet,
                               schemas=schemas)


def default_schema_folders(pact_paths: str | Path | Iterable[str | Path]) -> list[Path]:
    """`contracts/schemas` for pacts in `contracts/pacts`: the `schemas/` folder beside the pact folder."""
    entries = [pact_paths] if isinstance(pact_paths, str | Path) else list(pact_paths)
    found: list[Path] = []
    for entry in entries:
        path = Path(entry)
        folder = path if path.is_dir() else path.parent
        candidate = folder.parent / "schemas"
        if candidate.is_dir() and candidate not in found:
            found.append(candidate)
    return found
