"""The `contracts:` key of a scenario file: which pact its HTTP hand-offs feed, and which Twilio rules apply.

    contracts:
      http:                                   # the flow is the consumer of the vendor's endpoint
        pact_dir: ../../contracts/pacts       # folder, relative to the scenario file
        consumer: hospitality-http
        provider: contact-center
        body_schema: ../../contracts/schemas/handoff.schema.json   # matchers from it (optional)
        response_schema: …                    # optional
        provider_state: hand-offs are accepted                           # the default
        response_keys: [ticket_id]            # default: `widgets.<widget>.parsed.*` the flow reads
        mode: write                           # write (default) | check: compare with the committed pact
      rules:                                  # Twilio rules Pact cannot express (on by default)
        forbidden: [loyalty_pin]              # added to the built-in PII list
        max_attributes: 1024                  # Send to Flex's limit
        cards: true                           # Luhn-checked card numbers
        ssn: true
        disable: [twilio.autopilot-from]      # turn single rules off by id
      # `rules: false` turns the Twilio rules off for this file

`mode` is the file's default; `AUTOPILOT_HARNESS_PACT_MODE` and `autopilot-harness run --write-pacts /
--check-pacts` override it (harness.contracts.scenario_runs.pact_mode).

Plain data only: the contract face (`harness.contracts.scenario_runs`) turns it into pact writers and
`TwilioRules`. The shape is checked by scenario.schema.json; `parse_contracts` resolves the paths.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_HTTP_PROVIDER_STATE = "hand-offs are accepted"
PACT_MODES = ("write", "check")


@dataclass(frozen=True)
class HttpContract:
    """The consumer pact that recorded HTTP hand-offs are added to."""

    pact_dir: Path
    consumer: str
    provider: str
    body_schema: Path | None = None
    response_schema: Path | None = None
    provider_state: str = DEFAULT_HTTP_PROVIDER_STATE
    response_keys: tuple[str, ...] | None = None  # None: what the flow's templates read
    mode: str | None = None  # "write" | "check"; None: not set in the file (the environment decides)


@dataclass(frozen=True)
class RulesSpec:
    """Which Twilio rules run on every hand-off of the file's scenarios."""

    enabled: bool = True
    forbidden: tuple[str, ...] = ()  # extra forbidden keys, on top of the built-in PII list
    max_attributes: int | None = None  # None: Send to Flex's 1024 characters
    cards: bool = True
    ssn: bool = True
    disable: tuple[str, ...] = ()  # rule ids switched off (twilio_rules.RULE_IDS)


@dataclass(frozen=True)
class ContractsSpec:
    http: HttpContract | None = None
    rules: RulesSpec = field(default_factory=RulesSpec)


PathResolver = Callable[[str, tuple[str, ...]], Path | None]  # (raw path, pointer parts) → path or None


def parse_contracts(raw: Mapping[str, Any] | None, *, folder: PathResolver, file: PathResolver
                    ) -> ContractsSpec:
    """The schema-checked `contracts` mapping as a model. `folder`/`file` resolve a path relative to the
    scenario file (reporting a missing file as a problem and returning None); the pact folder itself
    may not exist yet, so only its parent must."""
    if not raw:
        return ContractsSpec()
    http = None
    if "http" in raw:
        spec = raw["http"]
        pact_dir = folder(spec["pact_dir"], ("contracts", "http", "pact_dir"))
        body_schema = file(spec["body_schema"], ("contracts", "http", "body_schema")) \
            if "body_schema" in spec else None
        response_schema = file(spec["response_schema"], ("contracts", "http", "response_schema")) \
            if "response_schema" in spec else None
        if pact_dir is not None:
            keys = spec.get("response_keys")
            http = HttpContract(
                pact_dir=pact_dir, consumer=spec["consumer"], provider=spec["provider"],
                body_schema=body_schema, response_schema=response_schema,
                provider_state=spec.get("provider_state", DEFAULT_HTTP_PROVIDER_STATE),
                response_keys=tuple(keys) if keys is not None else None,
                mode=spec.get("mode"),
            )
    rules_raw = raw.get("rules", True)
    if rules_raw is False:
        rules = RulesSpec(enabled=False)
    elif isinstance(rules_raw, Mapping):
        rules = RulesSpec(enabled=bool(rules_raw.get("enabled", True)),
                          forbidden=tuple(rules_raw.get("forbidden") or ()),
                          max_attributes=rules_raw.get("max_attributes"),
                          cards=bool(rules_raw.get("cards", True)), ssn=bool(rules_raw.get("ssn", True)),
                          disable=tuple(rules_raw.get("disable") or ()))
    else:
        rules = RulesSpec()
    return ContractsSpec(http=http, rules=rules)
