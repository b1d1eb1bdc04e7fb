"""The Studio execution engine: run a checked `Flow` offline, step by step, like Twilio Studio does.

Three lifetimes (docs/architecture.md):

- `StudioEnvironment` — configuration shared by every run: the clock, the bots by assistant SID, the
  fake TaskRouter and outbox, the URL map and HTTP session, the subflows by FW SID, the step limit.
- `LoadedFlow` (`env.load(flow)`) — the flow with every Liquid template parsed once, and the active
  execution of each contact.
- `Execution` (`loaded.start(trigger, **payload)` / `loaded.inbound(contact, body)`) — one run: its
  context (`trigger.*`, `widgets.*`, `flow.*`, `contact.*`), its Steps, what it sent.

Semantics (reference/studio.md §4.2, docs/studio-flows.md "Executing a flow"): start at the trigger,
which emits the event of how the execution started; each widget emits exactly one event and stores its
outputs under `widgets.<name>` when its Step ends; the transition for that event gives the next widget;
a missing transition or `next` ends the execution. Waiting widgets (send-and-wait-for-reply, the
Autopilot widget, gather-input-on-call, run-subflow while its child waits) park the execution until
`deliver()` or their timeout on the clock. A contact has at most one active execution.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import requests

from harness.clock import Clock, iso
from harness.engines.studio.botport import BotPort, BotTurnLike
from harness.engines.studio.http import UrlMap
from harness.engines.studio.liquid import (
    CompiledTemplate,
    CompiledValue,
    StudioLiquid,
    is_template,
    studio_context,
)
from harness.engines.twilio.interactions import FakeInteractions
from harness.engines.twilio.messaging import OutboundMessage, Outbox
from harness.engines.twilio.network import guarded_session
from harness.engines.twilio.taskrouter import FakeTaskRouter
from harness.errors import EngineError, HarnessError, Location, SchemaError, UsageError, raise_all
from harness.models.flow import Flow, State
from harness.patterns import pattern_problem
from harness.sids import SidFactory

#: Trigger events and the `trigger.<kind>` root each one fills.
TRIGGER_KINDS: dict[str, str] = {
    "incomingMessage": "message",
    "incomingCall": "call",
    "incomingConversationMessage": "conversation",
    "incomingRequest": "request",
    "incomingParent": "parent",
}
#: The Twilio side of a conversation when the caller gives no `To` (Twilio's magic test number).
DEFAULT_TWILIO_ADDRESS = "+15005550006"
DEFAULT_STEP_LIMIT = 1000
# Studio runs one level of subflows: a subflow that invokes another fails with Twilio error 81024
# (https://www.twilio.com/docs/api/errors/81024). Twilio's rule, so not configurable.
SUBFLOW_NESTING_LIMIT = 1
#: Which Set Variables values become numbers: any value that renders to a plain number ("rendered", the
#: default), only numbers written literally in the widget ("written"), or none ("never": all text).
VARIABLE_NUMBER_MODES = ("rendered", "written", "never")
ENDED = "Ended"  # transitioned_to of the last Step, as Studio's Steps API shows it [uncertain]

BotSource = Callable[[str], BotPort] | Mapping[str, BotPort]


# --- results of running a widget ------------------------------------------------------------------------


@dataclass(slots=True)
class Done:
    """A widget finished: the event it emits, its outputs (→ `widgets.<name>`), extra Step fields."""

    event: str
    output: dict[str, Any] | None = None
    info: dict[str, Any] | None = None
    transition: Any = None  # the exact transition taken (a split's `match`); None: the one for `event`


@dataclass(slots=True)
class Park:
    """A widget waits for the contact's next message (or a callback) until `deadline` (None: forever)."""

    deadline: datetime | None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Waiting:
    """Where an execution is parked."""

    widget: str
    type: str
    since: datetime
    deadline: datetime | None
    step_sid: str
    data: dict[str, Any]


# --- compiled states -------------------------------------------------------------------------------------


class CompiledState:
    """One widget with its properties' templates parsed once."""

    __slots__ = ("condition_values", "handler", "input", "location", "name", "props", "raw", "state", "type")

    def __init__(self, state: State, handler: Any, props: dict[str, CompiledValue],
                 condition_values: dict[str, CompiledTemplate], location: Location) -> None:
        self.state = state
        self.name = state.name
        self.type = state.type
        self.raw = state.properties
        self.handler = handler
        self.props = props
        self.input = props.get("input")
        self.condition_values = condition_values
        self.location = location

    def has(self, key: str) -> bool:
        return self.raw.get(key) is not None

    def value(self, key: str, context: Mapping[str, Any], default: Any = None) -> Any:
        """The property rendered (strings inside lists/dicts too); `default` when absent."""
        compiled = self.props.get(key)
        if compiled is None:
            return default
        try:
            return compiled.render(context)
        except EngineError as err:  # a Liquid error or budget: name the widget (the template names the property)
            if not err.message.startswith("state '"):
                err.message = f"state '{self.name}' ({self.type}): {err.message}"
                err.args = (err.message,)
            raise

    def text(self, key: str, context: Mapping[str, Any], default: str = "") -> str:
        """The property rendered as text (numbers and booleans as JSON writes them)."""
        value = self.value(key, context, None)
        if value is None:
            return default
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        return json.dumps(value)

    def where(self, key: str | None = None) -> Location:
        return self.location.child("properties", key) if key else self.location


# --- the environment ---------------------------------------------------------------------------------------


class StudioEnvironment:
    """Configuration every execution shares. `load(flow)` compiles a flow for running."""

    def __init__(
        self,
        *,
        bots: BotSource,
        clock: Clock,
        taskrouter: FakeTaskRouter | None = None,
        outbox: Outbox | None = None,
        url_map: Mapping[str, str] | None = None,
        auth_token: str,
        account_sid: str,
        subflows: Mapping[str, Flow] | None = None,
        http: requests.Session | None = None,
        sids: SidFactory | None = None,
        step_limit: int = DEFAULT_STEP_LIMIT,
        allow_network: bool = False,
        widget_events: Mapping[str, str] | None = None,
        liquid: StudioLiquid | None = None,
        sign_requests: bool = True,
        sign_local_url: bool = False,
        variable_numbers: str = "rendered",
        bot_expiry_event: str = "timeout",
        bot_from_must_match: bool = True,
        interaction_attributes_win: str = "flow",
    ) -> None:
        """`allow_network`: let HTTP widgets call URLs the URL map does not cover (loopback URLs are
        always allowed); off by default so a flow never reaches the internet or real Twilio by accident.
        `widget_events`: widget name (or type) → the event a voice widget takes instead of its default.
        `sign_requests`: HTTP Request and Run Function send `X-Twilio-Signature` (auth token over the URL
        as the flow writes it; `sign_local_url=True` signs the URL actually called, after the URL map).

        Choices Twilio's docs leave open (docs/studio-flows.md):
        `variable_numbers`: which Set Variables values become numbers — "rendered" (any value that renders
        to a plain number), "written" (only numbers written in the widget) or "never".
        `bot_expiry_event`: the event the Autopilot widget takes when the bot's listening dialogue reaches
        Autopilot's 4-hour limit before the widget's own `timeout` — "timeout" or "sessionEnded".
        `bot_from_must_match`: on SMS/WhatsApp/Messenger, a `from` other than the flow's address makes the
        bot's messages fail (the hand-off guide); False sends them from it anyway.
        `interaction_attributes_win`: under Flex Conversations, which side wins when the widget's attributes
        and the ones Flex adds share a key — "flow" or "flex".
        """
        if step_limit < 1:
            raise UsageError(f"step_limit must be at least 1, got {step_limit}")
        _choose("variable_numbers", variable_numbers, VARIABLE_NUMBER_MODES)
        _choose("bot_expiry_event", bot_expiry_event, ("timeout", "sessionEnded"))
        _choose("interaction_attributes_win", interaction_attributes_win, ("flow", "flex"))
        self.variable_numbers = variable_numbers
        self.bot_expiry_event = bot_expiry_event
        self.bot_from_must_match = bot_from_must_match
        self.interaction_attributes_win = interaction_attributes_win
        self.clock = clock
        self.sids = sids or SidFactory()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.taskrouter = taskrouter or FakeTaskRouter(sids=self.sids, clock=clock, account_sid=account_sid)
        self.outbox = outbox if outbox is not None else Outbox(clock)
        # Send to Flex under Flex Conversations creates an Interaction, which creates the task.
        self.interactions = FakeInteractions(self.taskrouter, self.sids)
        self.url_map = UrlMap(url_map)
        self.subflows: dict[str, Flow] = dict(subflows or {})
        self.http = http or guarded_session()  # the network guard and per-request deadline
        self.step_limit = step_limit
        self.allow_network = allow_network
        self.widget_events: dict[str, str] = dict(widget_events or {})
        self.liquid = liquid or StudioLiquid(clock=clock)
        self.sign_requests = sign_requests
        self.sign_local_url = sign_local_url
        self._validator: Any = None
        self._bots = bots
        self._bot_cache: dict[str, BotPort] = {}
        self._loaded_subflows: dict[str, LoadedFlow] = {}

    def request_validator(self) -> Any:
        """The `twilio` package's RequestValidator for this account's auth token (signs HTTP widgets)."""
        if self._validator is None:
            from twilio.request_validator import RequestValidator  # import cost only when used

            self._validator = RequestValidator(self.auth_token)
        return self._validator

    def load(self, flow: Flow, *, flow_sid: str | None = None) -> LoadedFlow:
        """Compile every template of `flow` once. Raises the Liquid errors of all states together."""
        return LoadedFlow(self, flow, flow_sid=flow_sid)

    def bot(self, assistant_sid: str) -> BotPort:
        """The bot for an Autopilot widget's `autopilot_assistant_sid` (or the "*" bot)."""
        cached = self._bot_cache.get(assistant_sid)
        if cached is not None:
            return cached
        bots = self._bots
        if isinstance(bots, Mapping):
            found = bots.get(assistant_sid) or bots.get("*")
            if found is None:
                known = ", ".join(bots) or "none"
                raise UsageError(f"no bot for assistant SID {assistant_sid!r} (known: {known})",
                                 hint="map the widget's autopilot_assistant_sid to a bot, or use '*' for any")
        else:
            found = bots(assistant_sid)
        self._bot_cache[assistant_sid] = found
        return found

    def subflow(self, flow_sid: str) -> LoadedFlow | None:
        """The loaded subflow for a run-subflow widget's `flow_sid` (loaded once), or None."""
        loaded = self._loaded_subflows.get(flow_sid)
        if loaded is None:
            flow = self.subflows.get(flow_sid)
            if flow is None:
                return None
            loaded = self._loaded_subflows[flow_sid] = LoadedFlow(self, flow, flow_sid=flow_sid)
        return loaded

    def widget_event(self, state: CompiledState, default: str) -> str:
        """The event a scripted (voice) widget takes: `widget_events` by name, then by type, else default."""
        return self.widget_events.get(state.name) or self.widget_events.get(state.type) or default


# --- a loaded flow ----------------------------------------------------------------------------------------


class LoadedFlow:
    """A flow ready to run: templates parsed, handlers chosen; tracks the active execution per contact."""

    def __init__(self, env: StudioEnvironment, flow: Flow, *, flow_sid: str | None = None) -> None:
        from harness.engines.studio.widgets import handler_for  # widgets import this module's types

        self.environment = env
        self.flow = flow
        self.flow_sid = flow_sid or flow.sid or env.sids.make("FW")
        self.flow_version = _flow_version(flow)
        self.name = flow.path or flow.friendly_name or flow.description or self.flow_sid
        self.active: dict[str, Execution] = {}
        self.states: dict[str, CompiledState] = {}
        problems: list[HarnessError] = []
        for state in flow.states:
            try:
                self.states[state.name] = self._compile(state, handler_for(state.type))
            except HarnessError as err:
                problems.extend(getattr(err, "errors", [err]))
        raise_all(problems)

    def _compile(self, state: State, handler: Any) -> CompiledState:
        env, flow = self.environment, self.flow
        base = flow.path or "<flow>"
        props: dict[str, CompiledValue] = {}
        problems: list[HarnessError] = []
        for key, value in state.properties.items():
            if key == "offset" or value is None:
                continue
            pointer = f"{state.pointer}/properties/{key}"
            try:
                props[key] = env.liquid.compile_value(value, name=f"{base}#{pointer}",
                                                      location=flow.location(pointer))
            except SchemaError as err:
                problems.append(_in_state(err, state, f"property '{key}'"))
        conditions: dict[str, CompiledTemplate] = {}
        for transition in state.match_transitions:
            for number, condition in enumerate(transition.conditions):
                value = condition.get("value") if isinstance(condition, Mapping) else None
                if condition.get("type") == "regex" and isinstance(value, str) and not is_template(value):
                    problem = _regex_problem(value)
                    if problem:  # a static pattern can be checked now, not on the first message
                        pointer = f"{transition.pointer}/conditions/{number}/value"
                        problems.append(_in_state(SchemaError(
                            f"split condition regex {value!r} is not a valid regular expression: {problem}",
                            flow.location(pointer)), state, f"condition {number} of a match transition"))
                    continue
                if not is_template(value) or value in conditions:
                    continue
                pointer = f"{transition.pointer}/conditions/{number}/value"
                try:
                    conditions[value] = env.liquid.compile(value, name=f"{base}#{pointer}",
                                                           location=flow.location(pointer))
                except SchemaError as err:
                    problems.append(_in_state(err, state, f"condition {number} of a match transition"))
        raise_all(problems)
        return CompiledState(state, handler, props, conditions, flow.location(state.pointer))

    # -- running

    def start(self, trigger: str, **payload: Any) -> Execution:
        """Start an execution with a trigger event (`incomingMessage`, `incomingCall`,
        `incomingConversationMessage`, `incomingRequest`, `incomingParent`) and its webhook payload.

        Messages and calls: `From` (the contact), `To` (the Twilio side), `Body`, any webhook key.
        REST: `To` (the contact), `From` (the Twilio side), `Parameters` (a dict or a JSON string).
        """
        execution = self._new_execution(trigger, payload, parent=None)
        if execution.status == "active":
            self.active[execution.contact] = execution
        return execution

    def inbound(self, contact: str, body: str, *, trigger: str = "incomingMessage",
                **payload: Any) -> Execution:
        """The contact's next message: to its active execution if there is one, else a new execution."""
        execution = self.active.get(contact)
        if execution is not None:
            execution.check_timeouts()
            if execution.status == "active":
                execution.deliver(body, **payload)
                return execution
        key = "Author" if trigger == "incomingConversationMessage" and "From" not in payload else "From"
        return self.start(trigger, **{key: contact, "Body": body, **payload})

    def check_timeouts(self) -> list[Execution]:
        """Fire the due timeouts of every active execution; returns those that moved."""
        moved = [ex for ex in list(self.active.values()) if ex.check_timeouts()]
        return moved

    def _new_execution(self, trigger: str, payload: Mapping[str, Any], parent: Execution | None) -> Execution:
        if trigger not in TRIGGER_KINDS:
            raise UsageError(f"unknown trigger {trigger!r}; Studio's triggers are {', '.join(TRIGGER_KINDS)}")
        execution = Execution(self, trigger, dict(payload), parent=parent)
        if parent is None:
            current = self.active.get(execution.contact)
            if current is not None and current.status == "active":
                concurrent_call = trigger == "incomingCall" and self.flow.allow_concurrent_calls
                if not concurrent_call:
                    raise UsageError(
                        f"{execution.contact} already has an active execution {current.sid} of this flow "
                        f"(waiting at {current.waiting!r}); Studio allows one per contact",
                        hint="send the message with inbound()/deliver(), or end() the execution first",
                    )
        execution._begin()
        return execution

    def _ended(self, execution: Execution) -> None:
        if self.active.get(execution.contact) is execution:
            del self.active[execution.contact]


def _choose(option: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise UsageError(f"{option} must be one of {', '.join(map(repr, allowed))}, got {value!r}")


def _flow_version(flow: Flow) -> int:
    """The revision of a REST Flow resource file, else 1 (a bare definition has no revision)."""
    data = getattr(flow.source, "data", None)
    revision = data.get("revision") if isinstance(data, Mapping) else None
    return revision if isinstance(revision, int) and not isinstance(revision, bool) else 1


def _regex_problem(pattern: str) -> str | None:
    return pattern_problem(pattern, ignore_case=True)  # the flavour splits match with (harness.patterns)


def _in_state(err: SchemaError, state: State, what: str) -> SchemaError:
    """Name the state and the property in a Liquid error raised at load time."""
    return SchemaError(f"state '{state.name}' ({state.type}), {what}: {err.message}", err.location, err.hint)


# --- an execution -----------------------------------------------------------------------------------------


@dataclass
class _Log:
    """What an execution (and its subflows) did, shared by a parent and its children."""

    steps: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    flex_tasks: list[dict[str, Any]] = field(default_factory=list)
    http_requests: list[dict[str, Any]] = field(default_factory=list)
    interactions: list[dict[str, Any]] = field(default_factory=list)
    bot_turns: list[tuple[str, BotTurnLike]] = field(default_factory=list)
    widget_runs: int = 0


class Execution:
    """One run of a flow for one contact (Studio's Execution resource, FN…)."""

    def __init__(self, loaded: LoadedFlow, trigger: str, payload: dict[str, Any],
                 parent: Execution | None = None) -> None:
        env = loaded.environment
        self.loaded = loaded
        self.environment = env
        self.flow = loaded.flow
        self.sid = env.sids.make("FN")
        self.trigger = trigger
        self.trigger_kind = TRIGGER_KINDS[trigger]
        self.status = "active"
        self.parent = parent
        self.parent_step_sid: str | None = None
        self.current_step_sid = ""  # the Step of the widget running now (a subflow's parent_step_sid)
        self.warnings: list[str] = []
        self.date_created = self.date_updated = env.clock.now()
        self._wait: Waiting | None = None
        self._log = parent._log if parent is not None else _Log()
        self._standalone = ("", DEFAULT_TWILIO_ADDRESS)
        self.payload = self._complete_payload(payload, parent)
        self.contact, self.channel_address = self._addresses(self.payload, parent)
        # Studio keeps one Contact (FC…) per address; derived from it, so it is the same in every run.
        self.contact_sid = "FC" + hashlib.sha256(self.contact.encode()).hexdigest()[:32]
        self.initiated_by = self._initiator(parent)
        # Programmable Chat / Flex webchat: the contact is an identity (which may look like a phone number),
        # so messages to it are on "chat" whatever its address says; a subflow inherits its parent's.
        self.contact_channel: str | None = (parent.contact_channel if parent is not None
                                            else _chat_channel_of(self.payload))
        self.widgets: dict[str, Any] = {}
        self.variables: dict[str, Any] = {}
        data = self.payload.get("parameters", {}) if trigger == "incomingRequest" else {}
        self.flow_context: dict[str, Any] = {
            "flow_sid": loaded.flow_sid, "sid": self.sid, "channel": {"address": self.channel_address},
            "data": data, "variables": self.variables,
        }
        self.context: dict[str, Any] = studio_context(
            trigger={self.trigger_kind: self.payload}, widgets=self.widgets, flow=self.flow_context,
            contact={"channel": {"address": self.contact}},
        )

    # -- public state

    @property
    def steps(self) -> list[dict[str, Any]]:
        """Steps so far, shaped like Studio's Steps API plus `widget`/`type`/`event`/`next`."""
        return self._log.steps

    @property
    def waiting(self) -> str | None:
        """The widget the execution is parked on, or None."""
        return self._wait.widget if self._wait is not None else None

    @property
    def wait(self) -> Waiting | None:
        """Details of the wait (widget, type, since, deadline), or None."""
        return self._wait

    @property
    def last_bot_turns(self) -> list[tuple[str, BotTurnLike]]:
        """(Autopilot widget name, BotTurn) for every bot answer of the latest start/deliver/timeout call."""
        return self._log.bot_turns

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self._log.messages

    @property
    def flex_tasks(self) -> list[dict[str, Any]]:
        return self._log.flex_tasks

    @property
    def http_requests(self) -> list[dict[str, Any]]:
        return self._log.http_requests

    @property
    def ended(self) -> bool:
        return self.status == "ended"

    @property
    def path(self) -> list[str]:
        """The widgets run so far, in order."""
        return [step["widget"] for step in self._log.steps]

    # -- driving it

    def deliver(self, body: str, **payload: Any) -> Execution:
        """The contact's next inbound message (or, on a call, speech/digits: `Digits=`, `SpeechResult=`)."""
        self._log.bot_turns = []
        self._fire_due_timeout()
        if self.status != "active" or self._wait is None:
            raise UsageError(f"execution {self.sid} has ended; a new message starts a new execution",
                             hint="use LoadedFlow.inbound(contact, body), which does that")
        inbound = self._inbound_payload(body, payload)
        wait = self._wait
        state = self.loaded.states[wait.widget]
        self._continue(state, state.handler.on_message(self, state, wait, inbound))
        return self

    def advance_clock(self, seconds: float) -> bool:
        """Move the environment's clock forward and fire a due timeout; True when one fired."""
        advance = getattr(self.environment.clock, "advance", None)
        if advance is None:
            raise UsageError("advance_clock needs a controllable clock such as harness.clock.FixedClock")
        advance(seconds)
        return self.check_timeouts()

    def check_timeouts(self) -> bool:
        """Fire the parked widget's timeout if the clock has reached it; True when one fired."""
        self._log.bot_turns = []
        return self._fire_due_timeout()

    def end(self) -> None:
        """End the execution as `Update Status=ended` does (the parked widget emits nothing)."""
        if self.status == "active":
            self._wait = None
            self._finish_execution()

    def record(self) -> dict[str, Any]:
        """The execution as `harness.transcript.FlowRecord` fields: `FlowRecord(**execution.record())`.

        (A dict, because the transcript layer sits above the engines and may not be imported here.)
        """
        return {
            "flow": self.loaded.name,
            "steps": tuple(self._log.steps),
            "variables": dict(self.variables),
            "messages": tuple(self._log.messages),
            "flex_tasks": tuple(self._log.flex_tasks),
            "http_requests": tuple(self._log.http_requests),
            "interactions": tuple(self._log.interactions),
            "ended": self.status == "ended",
            "status": self.status,
            "execution_sid": self.sid,
        }

    @property
    def url(self) -> str:
        """The Execution resource's URL on Studio's REST API."""
        return f"https://studio.twilio.com/v2/Flows/{self.loaded.flow_sid}/Executions/{self.sid}"

    def to_dict(self) -> dict[str, Any]:
        """Studio's Execution resource (OpenAPI studio.v2.flow.execution)."""
        return {
            "sid": self.sid, "account_sid": self.environment.account_sid, "flow_sid": self.loaded.flow_sid,
            "contact_sid": self.contact_sid, "contact_channel_address": self.contact,
            "flow_version": self.loaded.flow_version, "context": self.context, "status": self.status,
            "date_created": iso(self.date_created), "date_updated": iso(self.date_updated),
            "initiated_by": self.initiated_by, "url": self.url,
            "links": {"steps": f"{self.url}/Steps", "execution_context": f"{self.url}/Context"},
        }

    def __repr__(self) -> str:
        where = f" waiting at {self.waiting!r}" if self._wait else ""
        return f"<Execution {self.sid} {self.status}{where} steps={len(self._log.steps)}>"

    # -- helpers for widgets

    def render(self, template: CompiledValue | None, default: Any = "") -> Any:
        return default if template is None else template.render(self.context)

    def now(self) -> datetime:
        return self.environment.clock.now()

    def deadline(self, seconds: float | None) -> datetime | None:
        return None if seconds is None else self.now() + timedelta(seconds=seconds)

    def send_message(self, widget: str, to: str, from_: str, body: str, *, media: tuple[str, ...] = (),
                     channel: str | None = None) -> OutboundMessage:
        """Send through the outbox and record it; EngineError when Twilio would refuse it."""
        if channel is None and to == self.contact:
            channel = self.contact_channel
        message = self.environment.outbox.send(to, from_, body, media=media, widget=widget, channel=channel)
        record = {"from": message.from_, "to": message.to, "body": message.body, "channel": message.channel,
                  "widget": widget}
        if message.media:
            record["media"] = list(message.media)
        self._log.messages.append(record)
        return message

    def say(self, widget: str, text: str) -> None:
        """Record speech on a call (a voice widget's `say`) as a message on the "voice" channel."""
        if text:
            self._log.messages.append({"from": self.channel_address, "to": self.contact, "body": text,
                                       "channel": "voice", "widget": widget})

    def record_bot_turn(self, widget: str, turn: BotTurnLike) -> None:
        self._log.bot_turns.append((widget, turn))

    @property
    def subflow_depth(self) -> int:
        """0 for a flow's own execution, 1 for a subflow it runs, and so on."""
        depth, execution = 0, self.parent
        while execution is not None:
            depth, execution = depth + 1, execution.parent
        return depth

    def record_flex_task(self, entry: dict[str, Any]) -> None:
        self._log.flex_tasks.append(entry)

    def record_interaction(self, entry: dict[str, Any]) -> None:
        self._log.interactions.append(entry)

    @property
    def interactions(self) -> list[dict[str, Any]]:
        """Flex Interactions Send to Flex created (Flex Conversations), each with its `task_sid`."""
        return self._log.interactions

    def record_http(self, entry: dict[str, Any]) -> None:
        self._log.http_requests.append(entry)

    def start_child(self, loaded: LoadedFlow, parameters: Mapping[str, Any], step_sid: str) -> Execution:
        """Start `loaded` as a subflow of this execution (trigger `incomingParent`).

        Never deeper than SUBFLOW_NESTING_LIMIT (the run-subflow widget fails with 81024 before this), so
        a flow that runs itself cannot recurse without bound."""
        if self.subflow_depth >= SUBFLOW_NESTING_LIMIT:
            raise EngineError(f"{self.loaded.name} runs as a subflow and cannot start the subflow {loaded.name}: "
                              f"Studio runs {SUBFLOW_NESTING_LIMIT} level of subflows (Twilio error 81024)")
        parent_info = {
            "parameters": dict(parameters), "trigger_type": self.trigger_kind, "step_sid": step_sid,
            "execution_sid": self.sid, "flow_sid": self.loaded.flow_sid,
        }
        child = Execution(loaded, "incomingParent", {"__parent__": parent_info}, parent=self)
        child.parent_step_sid = step_sid
        child._begin()
        return child

    # -- the step loop

    def _begin(self) -> None:
        self._log.bot_turns = []
        first = self.loaded.states[self.flow.initial_state]
        self._run(first)

    def _run(self, state: CompiledState | None) -> None:
        sids = self.environment.sids
        while state is not None:
            self._count_widget_run(state)
            self.current_step_sid = step_sid = sids.make("FT")
            outcome = state.handler.enter(self, state)
            if isinstance(outcome, Park):
                self._park(state, outcome, step_sid)
                return
            state = self._complete(state, outcome, step_sid)
        if self._wait is None:
            self._finish_execution()

    def _continue(self, state: CompiledState, outcome: Done | Park) -> None:
        """After a parked widget got a message or timed out."""
        wait = self._wait
        assert wait is not None
        if isinstance(outcome, Park):  # still waiting (the bot asked another question)
            wait.deadline = outcome.deadline
            wait.data.update(outcome.data)
            return
        self._wait = None
        self._run(self._complete(state, outcome, wait.step_sid, wait.since))

    def _complete(self, state: CompiledState, done: Done, step_sid: str,
                  entered: datetime | None = None) -> CompiledState | None:
        """End the widget's Step: store its outputs, record the Step, follow the transition.
        `entered`: when a parked widget's Step began (a Step starts when its widget is entered)."""
        if done.output is not None:
            self.widgets[state.name] = done.output
        transition = done.transition if done.transition is not None else state.state.transition(done.event)
        if isinstance(transition, Mapping):  # conditions.first_match's bare {"event": "noMatch"}
            next_name = transition.get("next") or None
        else:
            next_name = transition.next if transition is not None else None
        now = iso(self.now())
        url = f"{self.url}/Steps/{step_sid}"
        # Studio's ExecutionStep resource (OpenAPI studio.v2.flow.execution.execution_step), plus our
        # `widget`/`event`/`next` and what the widget reported (`error`, `input`, …).
        step: dict[str, Any] = {
            "sid": step_sid, "account_sid": self.environment.account_sid, "flow_sid": self.loaded.flow_sid,
            "execution_sid": self.sid, "parent_step_sid": self.parent_step_sid, "name": done.event,
            "transitioned_from": state.name, "transitioned_to": next_name or ENDED, "type": state.type,
            "widget": state.name, "event": done.event, "next": next_name,
            "date_created": iso(entered) if entered is not None else now, "date_updated": now,
            "context": done.output if done.output is not None else {},
            "url": url, "links": {"step_context": f"{url}/Context"},
        }
        self.date_updated = self.now()
        if done.info:
            step.update(done.info)
        self._log.steps.append(step)
        return self.loaded.states[next_name] if next_name else None

    def _park(self, state: CompiledState, park: Park, step_sid: str) -> None:
        self._wait = Waiting(state.name, state.type, self.now(), park.deadline, step_sid, park.data)

    def _fire_due_timeout(self) -> bool:
        wait = self._wait
        if wait is None or self.status != "active":
            return False
        state = self.loaded.states[wait.widget]
        child = wait.data.get("child")
        if child is not None:  # a subflow's own wait times out inside it
            if not child._fire_due_timeout():
                return False
            if child.status == "active":
                return True
            self._continue(state, state.handler.child_ended(self, state, wait))
            return True
        if wait.deadline is None or self.now() < wait.deadline:
            return False
        self._continue(state, state.handler.on_timeout(self, state, wait))
        return True

    def _count_widget_run(self, state: CompiledState) -> None:
        self._log.widget_runs += 1
        if self._log.widget_runs <= self.environment.step_limit:
            return
        loop = self._loop_through(state.name)
        execution: Execution | None = self
        while execution is not None:  # a runaway subflow ends its parents too
            execution.status = "ended"
            execution._wait = None
            execution.loaded._ended(execution)
            execution = execution.parent
        raise EngineError(
            f"execution {self.sid} of {self.loaded.name} stopped after {self.environment.step_limit} steps "
            f"(the step limit): it loops through {loop}",
            state.location,
            hint="Studio has no loop widget; a flow that transitions back must wait for the contact or "
            "leave the loop on some event. Raise StudioEnvironment(step_limit=…) if the flow is just long",
        )

    def _loop_through(self, current: str) -> str:
        names = [step["widget"] for step in self._log.steps[-self.environment.step_limit:]]
        for back in range(len(names) - 1, -1, -1):
            if names[back] == current:
                cycle = [*names[back:], current]
                return " → ".join(dict.fromkeys(cycle[:-1])) + f" → {current}"
        return current

    def _finish_execution(self) -> None:
        self.status = "ended"
        self.loaded._ended(self)

    # -- payloads

    def _complete_payload(self, payload: dict[str, Any], parent: Execution | None) -> dict[str, Any]:
        env = self.environment
        kind = self.trigger_kind
        if kind == "parent":
            if "__parent__" in payload:
                return dict(payload["__parent__"])
            # started directly (a test of a subflow on its own): From/To give the addresses
            self._standalone = (str(payload.get("From", "")), str(payload.get("To", DEFAULT_TWILIO_ADDRESS)))
            return {"parameters": dict(payload.get("parameters") or {}),
                    "trigger_type": payload.get("trigger_type", "message"),
                    "step_sid": payload.get("step_sid"), "execution_sid": payload.get("execution_sid"),
                    "flow_sid": payload.get("flow_sid")}
        if kind == "request":
            parameters = payload.get("Parameters", payload.get("parameters", {}))
            if isinstance(parameters, str):
                try:
                    parameters = json.loads(parameters) if parameters.strip() else {}
                except ValueError:
                    raise UsageError("Parameters must be a JSON object (Studio's REST trigger)") from None
            if not isinstance(parameters, Mapping):
                raise UsageError("Parameters must be a JSON object (Studio's REST trigger)")
            return {"from": payload.get("From", payload.get("from", DEFAULT_TWILIO_ADDRESS)),
                    "to": payload.get("To", payload.get("to", "")), "parameters": dict(parameters)}
        full = dict(payload)
        full.setdefault("AccountSid", env.account_sid)
        if kind == "call":
            full.setdefault("CallSid", env.sids.make("CA"))
            full.setdefault("CallStatus", "ringing")
            full.setdefault("Direction", "inbound")
        elif kind == "conversation":
            full.setdefault("MessageSid", env.sids.make("IM"))
            if "Author" in full and "From" not in full:
                full["From"] = full["Author"]
            full.setdefault("Body", "")
        else:
            full.setdefault("MessageSid", env.sids.make("SM"))
            full.setdefault("Body", "")
        full.setdefault("To", DEFAULT_TWILIO_ADDRESS)
        return full

    def _initiator(self, parent: Execution | None) -> str | None:
        """`initiated_by`: the Message or Call SID that started the execution; a subflow's parent Step
        [uncertain]; None for the REST trigger (Studio names a request SID we do not have)."""
        if parent is not None:
            return parent.current_step_sid or None
        for key in ("CallSid", "MessageSid"):
            if self.payload.get(key):
                return str(self.payload[key])
        return None

    def _addresses(self, payload: Mapping[str, Any], parent: Execution | None) -> tuple[str, str]:
        """(contact.channel.address, flow.channel.address) for this trigger."""
        if parent is not None:
            return parent.contact, parent.channel_address
        if self.trigger_kind == "parent":
            return self._standalone
        if self.trigger_kind == "request":
            return str(payload.get("to", "")), str(payload.get("from", ""))
        contact = payload.get("From") or payload.get("Author") or ""
        if not contact:
            raise UsageError(f"a {self.trigger} needs the contact's address in 'From'")
        return str(contact), str(payload.get("To", ""))

    def _inbound_payload(self, body: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        inbound = {"Body": body, "From": self.contact, "To": self.channel_address,
                   "AccountSid": self.environment.account_sid}
        if self.trigger_kind == "call":
            inbound["CallSid"] = self.payload.get("CallSid")
        else:
            inbound["MessageSid"] = self.environment.sids.make("SM")
        inbound.update(payload)
        return inbound


# ChannelAttributes.channel_type values of a Programmable Chat channel that is chat, not a bridged SMS/WhatsApp.
_CHAT_CHANNEL_TYPES = {"web", "chat"}


def _chat_channel_of(payload: Mapping[str, Any]) -> str | None:
    """"chat" when the trigger's ChannelAttributes say the channel is webchat/chat, else None (the address
    decides). Flex bridges SMS and WhatsApp through chat channels too; those keep their own channel."""
    raw = payload.get("ChannelAttributes")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return None
    if isinstance(raw, Mapping) and str(raw.get("channel_type", "")).lower() in _CHAT_CHANNEL_TYPES:
        return "chat"
    return None
