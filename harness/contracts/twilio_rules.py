"""Twilio rules a pact cannot express, checked whenever a hand-off is produced.

Each check returns `ContractProblem`s (rule names start with `twilio.`), reported like pact failures:

- `twilio.json`: Send to Flex `attributes` render to a JSON *object* (Studio parses the Liquid output;
  a guest's quote in `"{{…}}"` or an undefined object without `to_json` breaks it).
- `twilio.size`: the rendered attributes fit Send to Flex's documented 1024 characters and TaskRouter's
  4096 (whitespace included) — reference/taskrouter.md §3.3.
- `twilio.required`: the keys Flex needs per channel are present and not empty (`name`, `channelType`,
  `channelSid` for legacy messaging/chat tasks, `conversationSid` instead of it for a Flex Conversations
  task, i.e. one an Interaction created (`flexInteractionSid`; reference/taskrouter.md §4.2); `name` for
  voice) and a messaging task carries the customer's address (`customerAddress`, `from` or `name`, E.164
  or `whatsapp:+…`).
  An empty string is what lax Liquid renders for an undefined variable, so it counts as missing.
- `twilio.forbidden`: no PII in the payload: card numbers (13–19 digits passing the Luhn check), US
  social security numbers, and keys named like secrets or card data (configurable).
- `twilio.autopilot-from`: the flow's Autopilot widget sends `from` as the hand-off guide requires —
  messaging with Flex: `{{trigger.message.ChannelAttributes.from}}` (the guest's address reaches
  Flex); messaging without Flex: `{{flow.channel.address}}` ("Your messages will fail if you change
  this value"); chat: any non-empty label (examples/hospitality/README.md). A Flex Conversations flow
  (its Trigger starts from incomingConversationMessage only) has no Programmable Chat channel attributes:
  Send to Flex adds the customer's address itself (reference/taskrouter.md §4.2), so its Autopilot widget
  keeps `{{flow.channel.address}}` as messaging without Flex does [uncertain]. Scenario runs apply it only
  to scenarios that hand off (a conversation that never reaches a hand-off is not the guide's concern).

Every rule can be turned off by its id (`TwilioRules(disabled=frozenset({"twilio.autopilot-from"}))`, in a
scenario file `contracts: {rules: {disable: [twilio.autopilot-from]}}`); `RULE_IDS` lists them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.contracts.results import ContractProblem
from harness.models.flow import Flow

SEND_TO_FLEX_LIMIT = 1024  # Send to Flex widget: "max 1024 characters"
TASKROUTER_LIMIT = 4096  # Task attributes, whitespace included

MESSAGING_CHANNELS = frozenset({"sms", "whatsapp", "facebook", "messenger", "line", "custom"})
CHAT_CHANNELS = frozenset({"web", "chat"})
_LEGACY_TASK_KEYS = ("name", "channelType", "channelSid")
REQUIRED_KEYS: Mapping[str, tuple[str, ...]] = {
    **dict.fromkeys(MESSAGING_CHANNELS, _LEGACY_TASK_KEYS),
    **dict.fromkeys(CHAT_CHANNELS, _LEGACY_TASK_KEYS),
    "voice": ("name",),
}
DEFAULT_REQUIRED: tuple[str, ...] = ("name",)
ADDRESS_KEYS = ("customerAddress", "from", "name")
_ADDRESS = re.compile(r"(\+[1-9][0-9]{1,14}|[a-z][a-z0-9.-]*:\S+)")

DEFAULT_FORBIDDEN_KEYS = (
    "password", "passwd", "secret", "auth_token", "authtoken", "api_key", "apikey",
    "card_number", "cardnumber", "credit_card", "creditcard", "cvv", "cvc", "ssn",
)
# Not inside a word: a SID's hex digits ("UK…9386a04224659608477e…") are no card number.
_CARD_CANDIDATE = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
_SSN = re.compile(r"(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)")

RULE_IDS = ("twilio.json", "twilio.size", "twilio.required", "twilio.forbidden", "twilio.autopilot-from")

FLEX_FROM = "trigger.message.ChannelAttributes.from"
NO_FLEX_FROM = "flow.channel.address"


@dataclass(frozen=True)
class TwilioRules:
    """Which rules apply; the defaults are Twilio's limits and a conservative PII list."""

    size_limit: int = SEND_TO_FLEX_LIMIT
    required_keys: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(REQUIRED_KEYS))
    forbidden_keys: Sequence[str] = DEFAULT_FORBIDDEN_KEYS
    check_cards: bool = True
    check_ssn: bool = True
    disabled: frozenset[str] = frozenset()  # rule ids (RULE_IDS) that do not run

    def allows(self, rule: str) -> bool:
        return rule not in self.disabled

    def keep(self, problems: list[ContractProblem]) -> list[ContractProblem]:
        """The problems of the rules that are switched on."""
        return [p for p in problems if p.rule not in self.disabled] if self.disabled else problems


DEFAULT_RULES = TwilioRules()


# --- Flex task attributes -------------------------------------------------------------------------------


def check_flex_attributes(
    attributes: str | Mapping[str, Any],
    *,
    interaction: str = "flex hand-off",
    channel: str | None = None,
    rules: TwilioRules = DEFAULT_RULES,
) -> list[ContractProblem]:
    """Problems of one Send to Flex `attributes` value (the rendered JSON text, or already parsed)."""
    return rules.keep(_flex_attribute_problems(attributes, interaction, channel, rules))


def _flex_attribute_problems(
    attributes: str | Mapping[str, Any], interaction: str, channel: str | None, rules: TwilioRules
) -> list[ContractProblem]:
    if isinstance(attributes, str):
        text = attributes
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as err:
            return [ContractProblem(interaction, "$", "attributes are not valid JSON after Liquid: "
                                    f"{err.msg} at line {err.lineno} column {err.colno}", "twilio.json",
                                    "a JSON object", _excerpt(text, err.pos))]
    else:
        parsed = attributes
        text = json.dumps(attributes, ensure_ascii=False)  # Studio's text is unknown here: an estimate
    if not isinstance(parsed, Mapping):
        return [ContractProblem(interaction, "$", "attributes must be a JSON object", "twilio.json",
                                "object", type(parsed).__name__)]

    problems = _size_problems(text, interaction, rules.size_limit)
    declared = parsed.get("channelType")
    channel_type = channel or (declared if isinstance(declared, str) else None)
    problems += _required_problems(parsed, channel_type, interaction, rules)
    problems += forbidden_problems(parsed, interaction=interaction, rules=rules)
    return problems


def _size_problems(text: str, interaction: str, limit: int) -> list[ContractProblem]:
    size = len(text)
    for bound, what in ((TASKROUTER_LIMIT, "TaskRouter's task attributes limit"),
                        (limit, "Send to Flex's attributes limit")):
        if size > bound:
            return [ContractProblem(interaction, "$", f"attributes are {size} characters, over {what} "
                                    f"of {bound}", "twilio.size", f"<= {bound}", str(size))]
    return []


def _required_problems(
    parsed: Mapping[str, Any], channel: str | None, interaction: str, rules: TwilioRules
) -> list[ContractProblem]:
    problems = []
    required = rules.required_keys.get(channel or "", DEFAULT_REQUIRED)
    if parsed.get("flexInteractionSid"):  # Flex Conversations: the task's media is a Conversation, not a channel
        required = tuple("conversationSid" if key == "channelSid" else key for key in required)
    for key in required:
        if _blank(parsed.get(key)):
            state = "empty (an undefined Liquid variable?)" if key in parsed else "missing"
            problems.append(ContractProblem(interaction, f"$.{key}", f"required for a {channel or 'Flex'} "
                                            f"task, but {state}", "twilio.required"))
    if channel in MESSAGING_CHANNELS:
        addresses = [parsed.get(k) for k in ADDRESS_KEYS if isinstance(parsed.get(k), str)]
        if not any(_ADDRESS.fullmatch(a) for a in addresses):
            problems.append(ContractProblem(
                interaction, "$.customerAddress", f"a {channel} task needs the customer's address in one of "
                f"{', '.join(ADDRESS_KEYS)} (E.164 or channel:address)", "twilio.required",
                "an address", json.dumps(addresses)))
    return problems


# --- PII ------------------------------------------------------------------------------------------------


def forbidden_problems(
    payload: Any, *, interaction: str = "hand-off", rules: TwilioRules = DEFAULT_RULES
) -> list[ContractProblem]:
    """PII found anywhere in a JSON-like payload, each with its JSON path."""
    if not rules.allows("twilio.forbidden"):
        return []
    forbidden = {_normal_key(k) for k in rules.forbidden_keys}
    problems = []
    for path, key, value in _walk(payload, "$"):
        if key is not None and _normal_key(key) in forbidden:
            problems.append(ContractProblem(interaction, path, f"field '{key}' is forbidden in a hand-off "
                                            "(PII or a secret)", "twilio.forbidden"))
            continue
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            continue
        if rules.check_cards and any(_luhn(m.group()) for m in _CARD_CANDIDATE.finditer(value)):
            problems.append(ContractProblem(interaction, path, "looks like a payment card number "
                                            "(PII must not reach the contact center)", "twilio.forbidden"))
        elif rules.check_ssn and _SSN.search(value):
            problems.append(ContractProblem(interaction, path, "looks like a US social security number",
                                            "twilio.forbidden"))
    return problems


def _walk(value: Any, path: str, key: str | None = None) -> Iterator[tuple[str, str | None, Any]]:
    yield path, key, value
    if isinstance(value, Mapping):
        for child_key in sorted(value, key=str):
            child = str(child_key)
            plain = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", child)
            child_path = f"{path}.{child}" if plain else f"{path}['{child}']"
            yield from _walk(value[child_key], child_path, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")


def _luhn(candidate: str) -> bool:
    digits = [int(c) for c in candidate if c.isdigit()]
    if len(set(digits)) == 1:  # 0000… or 1111…: placeholders, not cards
        return False
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def _normal_key(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


# --- whole hand-offs as the engines record them -----------------------------------------------------------


def check_handoff(
    handoff: Mapping[str, Any], *, interaction: str | None = None, rules: TwilioRules = DEFAULT_RULES
) -> list[ContractProblem]:
    """The rules for one recorded hand-off: `{"kind": "flex", "attributes": …}` or `{"kind": "http", …}`."""
    return rules.keep(_handoff_problems(handoff, interaction, rules))


def _handoff_problems(
    handoff: Mapping[str, Any], interaction: str | None, rules: TwilioRules
) -> list[ContractProblem]:
    kind = handoff.get("kind")
    name = interaction or f"{kind} hand-off"
    if kind == "flex":
        attributes = handoff.get("attributes")
        if attributes is None:
            return [ContractProblem(name, "$", "the Flex hand-off has no attributes", "twilio.required")]
        channel = handoff.get("channel_type") if isinstance(handoff.get("channel_type"), str) else None
        return check_flex_attributes(attributes, interaction=name, channel=channel, rules=rules)
    if kind == "http":
        body = handoff.get("body")
        if isinstance(body, str | bytes) and _is_json(handoff):
            try:
                body = json.loads(body)
            except ValueError as err:
                return [ContractProblem(name, "$", f"the request body is not valid JSON after Liquid: {err}",
                                        "twilio.json")]
        return forbidden_problems(body, interaction=name, rules=rules)
    return [ContractProblem(name, "$", f"unknown hand-off kind {kind!r} (expected 'flex' or 'http')",
                            "twilio.kind")]


def _is_json(handoff: Mapping[str, Any]) -> bool:
    headers = handoff.get("headers") or {}
    content_type = next((str(v) for k, v in headers.items() if str(k).lower() == "content-type"), "")
    return "json" in content_type.lower()


# --- the flow's Autopilot widget --------------------------------------------------------------------------


def check_autopilot_from(flow: Flow, *, channel: str | None = None, rules: TwilioRules = DEFAULT_RULES
                         ) -> list[ContractProblem]:
    """Each send-to-auto-pilot widget's `from` against the guide's rule for this flow's kind.

    `channel` is the conversation's channel type (`sms`, `whatsapp`, `web`, …); without it, a flow with
    a Send to Flex widget is taken as messaging with Flex and one without as messaging without Flex.
    """
    if not rules.allows("twilio.autopilot-from"):
        return []
    problems = []
    has_flex = any(state.type == "send-to-flex" for state in flow.states) and not flow.conversations_only
    # Chat: a display label, anything non-empty; messaging: the guide's template.
    wanted = None if channel in CHAT_CHANNELS else FLEX_FROM if has_flex else NO_FLEX_FROM
    for state in flow.states:
        if state.type != "send-to-auto-pilot":
            continue
        value = state.properties.get("from")
        path = f"{state.pointer or state.name}/properties/from"
        if not isinstance(value, str) or not value.strip():
            problems.append(ContractProblem(state.name, path, f"Autopilot widget '{state.name}' needs 'from'",
                                            "twilio.autopilot-from"))
        elif wanted is not None and _template_path(value) != wanted:
            kind = "messaging with Flex" if has_flex else "messaging without Flex"
            # The widget's name is in the message: verify-flow reports problems under the interaction.
            problems.append(ContractProblem(
                state.name, path, f"Autopilot widget '{state.name}' sends 'from' as {value!r}; for {kind} "
                f"the guide sets it to {{{{{wanted}}}}}",
                "twilio.autopilot-from", f"{{{{{wanted}}}}}", value))
    return problems


def _template_path(value: str) -> str | None:
    found = re.fullmatch(r"\s*\{\{\s*([\w.\s-]+?)\s*\}\}\s*", value)
    return re.sub(r"\s+", "", found.group(1)) if found else None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _excerpt(text: str, position: int, width: int = 30) -> str:
    start = max(0, position - width)
    return repr(text[start:position + width])
