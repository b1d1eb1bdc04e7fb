"""Message pacts for the Flex hand-off: the contact center consumes the task attributes, the flow provides.

Consumer side — `write_message_pacts(schema, pact_dir)`: a JSON Schema in `contracts/schemas/` holds
the attributes' rules and, under the extension keyword `x-pact`, the pact's names and interactions:

    "x-pact": {"consumer": "contact-center", "provider": "hospitality-flex",
               "interactions": [{"description": "a Flex task for an SMS guest who asked for an agent",
                                 "providerState": "an SMS guest asks for an agent",
                                 "params": {"channel": "sms"}, "example": 0}]}

`example` is an index into the schema's `examples` (or an inline object). Each example must satisfy
the schema and the Twilio rules, and is fed to a handler that validates it as the consumer would
(`Pact.verify(handler, "Async")`); then one Pact V4 file `<consumer>-<provider>.json` is written
(locked, reset once per run, deterministic: `pact_files`). Matchers come from the schema
(`schema_matchers`). Message and HTTP interactions never share a `Pact` object (pact.md §6.2).

Provider side — `verify_messages(pact_paths, produce)`: `produce(state, params)` returns what the flow
hands off in that provider state (the runner runs the scenario named by the state). It may return the
attributes (JSON text as Liquid rendered it, or a dict) or the whole Flex hand-off record
`{"kind": "flex", "attributes", "workflow_sid", "task_channel", "queue", "priority"}`, whose task fields
become the message metadata; wrapped in `Produced(value, problems)`, the producer's own problems fail
the interaction too. Each produced value is also checked against the Twilio rules
(`twilio_rules`): invalid JSON after Liquid, a missing key, a forbidden field fail the interaction
with the reason, as pact mismatches do. With `schemas=` (files or folders of JSON Schemas with an
`x-pact` block), the attributes are validated against the schema whose `x-pact` names the pact's
consumer and provider: Pact's matchers cannot express everything a schema says (`const`, `required`
inside arrays, formats, `minimum`…), so `"sendToAgent": "true"` or `"lastTask": 7` fail with rule
`schema`, naming the path.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.contracts import pact_files
from harness.contracts._pact import load_pact
from harness.contracts.consumer import load_json_schema, schema_problems
from harness.contracts.results import ContractFailed, ContractProblem, InteractionResult, VerifyResult
from harness.contracts.schema_matchers import MatcherBuilder
from harness.contracts.twilio_rules import DEFAULT_RULES, TwilioRules, check_flex_attributes
from harness.contracts.verify import collect_pact_sources, run_verifier, select_pacts
from harness.errors import HarnessError, LoadError, Location, SchemaError

PACT_KEYWORD = "x-pact"
TASK_FIELDS = ("workflow_sid", "task_channel", "queue", "priority")

AttributesProducer = Callable[[str, Mapping[str, Any]], Any]


@dataclass(frozen=True)
class Produced:
    """What a producer may return instead of the bare value: the value plus problems it found on the way
    (verify_flow adds the flow's Twilio rules, e.g. `twilio.autopilot-from`); they fail the interaction."""

    value: Any
    problems: tuple[ContractProblem, ...] = ()


@dataclass(frozen=True)
class MessageSpec:
    """One message interaction: the attributes expected when the flow is in `provider_state`."""

    description: str
    provider_state: str
    example: Mapping[str, Any]
    params: Mapping[str, Any] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MessagePactPlan:
    consumer: str
    provider: str
    specs: tuple[MessageSpec, ...]


def plan_from_schema(schema: Mapping[str, Any], *, path: str | None = None) -> MessagePactPlan:
    """Read the `x-pact` block of a schema; SchemaError naming the pointer when it is malformed."""
    block = schema.get(PACT_KEYWORD)
    where = Location(path, f"/{PACT_KEYWORD}")
    if not isinstance(block, Mapping):
        raise SchemaError(f"the schema has no '{PACT_KEYWORD}' object naming the pact and its interactions",
                          where)
    for key in ("consumer", "provider"):
        if not isinstance(block.get(key), str) or not block[key]:
            raise SchemaError(f"'{PACT_KEYWORD}.{key}' must be a non-empty string", where.child(key))
    # The names become the file name `<consumer>-<provider>.json`: never a path out of the pact folder.
    pact_files.check_pact_names(block["consumer"], block["provider"], locate=lambda role: where.child(role))
    items = block.get("interactions")
    if not isinstance(items, list) or not items:
        raise SchemaError(f"'{PACT_KEYWORD}.interactions' must be a non-empty list",
                          where.child("interactions"))
    examples = schema.get("examples") if isinstance(schema.get("examples"), list) else []
    specs = []
    for index, item in enumerate(items):
        at = where.child("interactions", index)
        if not isinstance(item, Mapping) or not isinstance(item.get("description"), str) \
                or not isinstance(item.get("providerState"), str):
            raise SchemaError("an interaction needs 'description' and 'providerState' strings", at)
        example = item.get("example", 0)
        if isinstance(example, int) and not isinstance(example, bool):
            if not 0 <= example < len(examples):
                raise SchemaError(f"'example' {example} is not an index into the schema's examples "
                                  f"({len(examples)} given)", at.child("example"))
            example = examples[example]
        if not isinstance(example, Mapping):
            raise SchemaError("'example' must be an object or an index into 'examples'", at.child("example"))
        specs.append(MessageSpec(item["description"], item["providerState"], example,
                                 dict(item.get("params") or {}), dict(item.get("metadata") or {})))
    return MessagePactPlan(block["consumer"], block["provider"], tuple(specs))


def write_message_pacts(
    schema: str | Path | Mapping[str, Any],
    pact_dir: str | Path,
    *,
    rules: TwilioRules = DEFAULT_RULES,
    run_id: str | None = None,
) -> Path:
    """Write the message pact a schema's `x-pact` block describes; ContractFailed if an example is invalid."""
    path = None if isinstance(schema, Mapping) else str(schema)
    document = load_json_schema(schema)
    plan = plan_from_schema(document, path=path)
    problems: list[ContractProblem] = []
    for spec in plan.specs:
        problems += schema_problems(spec.example, document, spec.description)
        problems += check_flex_attributes(spec.example, interaction=spec.description,
                                          channel=spec.params.get("channel"), rules=rules)
    if problems:
        raise ContractFailed(problems, Location(path))

    pact_module = load_pact()
    pact = pact_module.Pact(plan.consumer, plan.provider).with_specification("V4")
    builder = MatcherBuilder(pact_module.match, document)
    for spec in plan.specs:
        interaction = pact.upon_receiving(spec.description, "Async").given(spec.provider_state, **spec.params)
        body = builder.build(dict(spec.example))
        interaction = interaction.with_body(body, content_type="application/json")
        extra = builder.extra_rules()  # a `type` beside each regex: the regex alone accepts numbers
        if extra:
            interaction = interaction.with_matching_rules(extra)
        if spec.metadata:
            interaction.with_metadata(dict(spec.metadata))

    # The consumer's side of the test: each example, as pact delivers it, is a valid task for us.
    def consume(body: str | bytes, metadata: Mapping[str, Any]) -> None:
        found = schema_problems(json.loads(body), document, "message")
        if found:
            raise ContractFailed(found)

    failures = pact.verify(consume, "Async", raises=False)
    if failures:
        raise ContractFailed([ContractProblem(plan.consumer, "$", str(f), "pact.consumer") for f in failures],
                             Location(path))
    file_name = pact_files.pact_file_name(plan.consumer, plan.provider)
    return pact_files.write_pact(pact, Path(pact_dir), file_name, run_id=run_id)


# --- provider side ----------------------------------------------------------------------------------------


def verify_messages(
    pact_paths: str | Path | Iterable[str | Path],
    produce: AttributesProducer,
    *,
    provider: str | None = None,
    rules: TwilioRules | None = DEFAULT_RULES,
    quiet: bool = True,
    schemas: Iterable[str | Path] | None = None,
) -> VerifyResult:
    """Verify message pacts against what `produce(state, params)` hands off; `rules=None` skips Twilio's;
    `schemas` (files or folders) adds the JSON Schema check of the pacts' `x-pact` schemas."""
    provider, chosen, errors = select_pacts(collect_pact_sources(pact_paths), provider, "message")
    result = VerifyResult(provider=provider, pact_files=[str(p) for p, _ in chosen], errors=errors)
    if not chosen:
        return result
    schema_of = schemas_for_pacts([document for _, document in chosen], schemas or ())

    rule_problems: dict[str, list[ContractProblem]] = {}
    cache: dict[str, Any] = {}

    # pact-python passes `name` (the interaction's description) and `metadata` by keyword.
    def handler(name: str, metadata: Mapping[str, Any] | None) -> dict[str, Any]:
        description = name
        states = list((metadata or {}).get("providerStates") or [])
        state = str(states[0].get("name", "")) if states else ""
        params = dict(states[0].get("params") or {}) if states else {}
        key = json.dumps([state, params], sort_keys=True, default=str)
        if key not in cache:  # a scenario runs once even if several interactions share its state
            cache[key] = _produce(produce, state, params, description)
        value, problems = cache[key]
        attributes, task_metadata = _split_record(value)
        if rules is not None and value is not None:
            problems = problems + check_flex_attributes(attributes, interaction=description,
                                                        channel=params.get("channel"), rules=rules)
        schema = schema_of.get(description)
        if schema is not None and value is not None:
            problems = problems + _schema_check(attributes, schema, description)
        rule_problems[description] = [_renamed(p, description) for p in problems]
        text = attributes if isinstance(attributes, str) else json.dumps(attributes)
        return {"contents": text.encode("utf-8"), "metadata": task_metadata or None,
                "content_type": "application/json"}

    pact = load_pact()
    verifier = pact.Verifier(provider).message_handler(handler)
    for path, _ in chosen:
        verifier.add_source(path)
    verifier.set_coloured_output(enabled=False)
    run_verifier(verifier, result, quiet=quiet)
    result.interactions = [_with_rules(i, rule_problems.get(i.description, [])) for i in result.interactions]
    return result


def find_schemas(paths: Iterable[str | Path]) -> list[tuple[Path, dict[str, Any]]]:
    """JSON Schemas with an `x-pact` block among files and folders (`*.json`, sorted); others are skipped."""
    found: list[tuple[Path, dict[str, Any]]] = []
    for entry in paths:
        path = Path(entry)
        files = sorted(path.glob("*.json")) if path.is_dir() else [path]
        for file in files:
            if not file.is_file():
                raise LoadError("no such JSON Schema file or folder", Location(str(file)))
            document = load_json_schema(file)
            if isinstance(document.get(PACT_KEYWORD), Mapping):
                found.append((file, document))
    return found


def schemas_for_pacts(documents: Iterable[Mapping[str, Any]], paths: Iterable[str | Path]
                      ) -> dict[str, dict[str, Any]]:
    """Interaction description → the schema whose `x-pact` names the pact's consumer and provider."""
    by_names: dict[tuple[str, str], dict[str, Any]] = {}
    for _, schema in find_schemas(paths):
        block = schema[PACT_KEYWORD]
        by_names.setdefault((str(block.get("consumer")), str(block.get("provider"))), schema)
    found: dict[str, dict[str, Any]] = {}
    for document in documents:
        schema = by_names.get((document["consumer"]["name"], document["provider"]["name"]))
        if schema is None:
            continue
        for interaction in pact_files.pact_interactions(document):
            found[str(interaction.get("description"))] = schema
    return found


def _schema_check(attributes: Any, schema: Mapping[str, Any], description: str) -> list[ContractProblem]:
    if isinstance(attributes, str | bytes):
        try:
            attributes = json.loads(attributes)
        except ValueError:
            return []  # twilio.json (or the pact's own parse error) already says so
    # Problems carry the rule "schema"; the path is the attribute's JSON path.
    return schema_problems(attributes, schema, description)


def _produce(produce: AttributesProducer, state: str, params: Mapping[str, Any], description: str
             ) -> tuple[Any, list[ContractProblem]]:
    try:
        value = produce(state, params)
        if isinstance(value, Produced):
            return value.value, list(value.problems)
        return value, []
    except HarnessError as err:
        return None, [ContractProblem(description, "$", f"producing the hand-off for state {state!r} failed: "
                                      f"{err.render()}", "provider")]


def _split_record(value: Any) -> tuple[Any, dict[str, Any]]:
    if isinstance(value, Mapping) and value.get("kind") == "flex":
        metadata = {k: value[k] for k in TASK_FIELDS if value.get(k) is not None}
        return value.get("attributes"), metadata
    if isinstance(value, str | Mapping):
        return value, {}
    return ("" if value is None else value), {}


def _renamed(problem: ContractProblem, description: str) -> ContractProblem:
    if problem.interaction == description:
        return problem
    return ContractProblem(description, problem.path, problem.message, problem.rule, problem.expected,
                           problem.actual)


def _with_rules(interaction: InteractionResult, extra: list[ContractProblem]) -> InteractionResult:
    if not extra:
        return interaction
    # Rule problems first: "attributes are not valid JSON" explains the pact's parse error below it.
    return InteractionResult(interaction.description, interaction.provider_states, False,
                             tuple(extra) + interaction.problems, interaction.pact_file)
