"""Building a runtime from options, and talking through it: the one place the faces share.

`Session` owns what lives for a whole run (loaded assistants, a twilio-run server per Functions folder,
local WSGI services); `Conversation` is one user talking to the bot (alone, or through a Studio flow).
Both the CLI and the scenario runner use these; neither face builds engines itself.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.budgets import check_utterance
from harness.clock import FixedClock, parse_clock
from harness.errors import LoadError, SchemaError, UsageError
from harness.sources import loads_json
from harness.transcript import Candidate, FlowRecord, Transcript, Turn

# Who talks when a scenario names no user, shaped as Twilio addresses that channel's user (the `From` of
# the inbound message or call, and Autopilot's `UserIdentifier`; reference/autopilot.md §4.2-4.3,
# reference/studio.md §3.2): an E.164 number on SMS and voice, `whatsapp:+…` on WhatsApp, `messenger:<page-
# scoped user id>` on Facebook Messenger (Twilio's Messenger channel docs), an identity on Programmable Chat.
DEFAULT_USER = "+15555550100"
# On Programmable Chat the user is an identity, not a phone number (Twilio's Chat docs' member identity).
DEFAULT_CHAT_USER = "guest"
DEFAULT_USERS: dict[str, str] = {
    "sms": DEFAULT_USER,
    "voice": DEFAULT_USER,
    "whatsapp": f"whatsapp:{DEFAULT_USER}",
    "messenger": "messenger:1000000000000001",  # [uncertain: the id's length; Facebook's ids are digits]
    "chat": DEFAULT_CHAT_USER,
}
DEFAULT_AUTH_TOKEN = "harness-test-auth-token"


@dataclass
class SessionOptions:
    """Everything needed to run conversations. Paths are already resolved."""

    bots: dict[str | None, Path] = field(default_factory=dict)  # SID (or None for "the" bot) → schema
    flow: Path | None = None
    subflows: dict[str, Path] = field(default_factory=dict)
    workflow: Path | None = None
    workflow_sid: str | None = None  # the SID the workflow answers to (`workflow: {WW…: path}`)
    queues: Path | None = None  # queue SID → name JSON; default: queues.json beside the workflow
    functions: list[Path] = field(default_factory=list)
    servers: list[dict[str, str]] = field(default_factory=list)  # {"wsgi": "mod:factory", "url": prefix}
    url_map: dict[str, str] = field(default_factory=dict)
    auth_token: str = DEFAULT_AUTH_TOKEN
    clock: str | None = None
    threshold: float | None = None
    router: str | None = None  # None: [tool.autopilot-harness] router above the bots, else the default
    min_score: float | None = None  # None: [tool.autopilot-harness] min_score, else the router's default
    # The engine's open choices (strict_custom_fields, strict_task_redirects); None: the environment's.
    engine: Any = None  # harness.engines.autopilot.options.EngineOptions


def routing_settings(options: SessionOptions) -> tuple[str, float | None]:
    """The router and min_score a session trains its bots with: the options (`run --router` reaches them
    through the runner), then `[tool.autopilot-harness]` of the pyproject.toml nearest above the bot files
    (as chat reads threshold)."""
    router, min_score = options.router, options.min_score
    if router is None or min_score is None:
        from harness.runner.settings import find_pyproject, read_settings

        files = [path for path in options.bots.values() if Path(path).exists()]
        settings = read_settings(find_pyproject(files)) if files else None
        if settings is not None:
            router = router or settings.router
            min_score = settings.min_score if min_score is None else min_score
    from harness.engines.autopilot.routers import DEFAULT_ROUTER

    return router or DEFAULT_ROUTER, min_score


def parse_url_map(items: Sequence[str]) -> dict[str, str]:
    """`PROD=LOCAL` pairs from the command line."""
    mapping: dict[str, str] = {}
    for item in items:
        prod, sep, local = item.partition("=")
        if not sep or not prod.strip() or not local.strip():
            raise UsageError(f"--url-map {item!r}: expected PROD=LOCAL, e.g. https://x.twil.io=http://127.0.0.1:3000")
        if not local.strip().startswith(("http://", "https://")):
            # Requests would fail only at the first webhook, far from the typo; say it now.
            raise UsageError(f"--url-map {item!r}: LOCAL {local.strip()!r} is not an http(s) URL, "
                             "e.g. http://127.0.0.1:3000")
        mapping[prod.strip().rstrip("/")] = local.strip().rstrip("/")
    return mapping


def parse_bot_options(items: Sequence[str]) -> dict[str | None, Path]:
    """`--bot path` (the only bot) or `--bot UA…=path` (a flow's bots by SID)."""
    bots: dict[str | None, Path] = {}
    for item in items:
        sid, sep, path = item.partition("=")
        if sep and sid.startswith("UA"):
            bots[sid] = Path(path)
        else:
            bots[None] = Path(item)
    return bots


def parse_memory(text: str | None, *, option: str = "--memory") -> dict[str, Any] | None:
    if text is None:
        return None
    try:  # strict: a duplicate key or nesting beyond MAX_NESTING_DEPTH is refused, as in files
        value = loads_json(text)
    except LoadError as err:
        at = err.location
        column = f" at column {at.column}" if at is not None and at.column is not None else ""
        raise UsageError(f"{option}: not valid JSON ({err.message.removeprefix('malformed JSON: ')}{column})",
                         hint=err.hint) from None
    if not isinstance(value, dict):
        raise UsageError(f"{option}: expected a JSON object, got {type(value).__name__}")
    return value


class Session:
    """A context manager: loads the bots once and starts (then stops) the local servers they need."""

    def __init__(self, options: SessionOptions) -> None:
        self.options = options
        self._stack = ExitStack()
        self.url_map: dict[str, str] = dict(options.url_map)
        self.assistants: dict[str | None, Any] = {}
        self.trained: dict[str | None, Any] = {}
        self.runtime: Any = None
        self.taskrouter: Any = None  # the one fake TaskRouter: Send to Flex and Autopilot handoffs
        self.studio: Any = None
        self.flow: Any = None  # the LoadedFlow when options.flow is set
        self.clock = FixedClock(_start_instant(options.clock)) if options.clock else FixedClock()
        self._clock_start = self.clock.now()
        self._fresh_apps: list[_FreshApp] = []  # WSGI services built by a factory, rebuilt per case
        self.warnings: list[str] = []  # suspicious but runnable options, for the face to show
        self.http: Any = None  # the engines' guarded requests Session, made in _start

    def __enter__(self) -> Session:
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _start(self) -> None:
        from harness.engines.autopilot.runtime import AutopilotRuntime
        from harness.models.assistant_loader import load_assistant

        if not self.options.bots and self.options.flow is None:
            raise UsageError("no bot given: pass --bot SCHEMA.json (or UA…=SCHEMA.json with a flow)")
        # A flow without a Send to Autopilot widget needs no bot (checked in _load_flow, once it is read).
        for sid, path in self.options.bots.items():
            self.assistants[sid] = load_assistant(path, sid=sid)
        for folder in self.options.functions:
            self._serve_functions(folder)
        for server in self.options.servers:
            self._serve_wsgi(server)
        from harness.engines.twilio.network import guarded_session

        # One pooled HTTP session for both engines, through the network guard (docs/reliability.md).
        self.http = guarded_session()
        self._stack.callback(self.http.close)
        kwargs: dict[str, Any] = {"clock": self.clock, "url_map": self.url_map,
                                  "auth_token": self.options.auth_token, "http": self.http}
        if self.options.threshold is not None:
            kwargs["threshold"] = self.options.threshold
        kwargs["router"], kwargs["min_score"] = routing_settings(self.options)
        if self.options.engine is not None:
            kwargs["options"] = self.options.engine
        self.runtime = AutopilotRuntime(**kwargs)
        flow = self._read_flow() if self.options.flow is not None else None
        self.taskrouter = self._taskrouter(flow)
        self.runtime.taskrouter = self.taskrouter
        for sid, assistant in self.assistants.items():
            self.trained[sid] = self.runtime.train(assistant)
        if flow is not None:
            self._load_flow(flow)

    def _read_flow(self) -> Any:
        from harness.models.flow import load_flow

        assert self.options.flow is not None
        return load_flow(self.options.flow)

    def _taskrouter(self, flow: Any) -> Any:
        """The session's fake TaskRouter, with the workflow (if any) under the SID(s) that name it: its own,
        the scenario's `workflow: {WW…: path}`, else those of the flow's Send to Flex widgets and of the
        bots' `taskrouter://WW…` handoffs (an exported configuration has no SID of its own)."""
        from harness.engines.twilio.taskrouter import FakeTaskRouter, load_workflow

        taskrouter = FakeTaskRouter(queues=self._queues(), sids=self.runtime.sids, clock=self.clock,
                                    account_sid=self.runtime.account_sid)
        if self.options.workflow is not None:
            workflow = load_workflow(self.options.workflow)
            named = [sid for sid in (workflow.sid, self.options.workflow_sid) if sid]
            found = (_flex_workflow_sids(flow) if flow is not None else []) + \
                _handoff_workflow_sids(self.assistants.values())
            for sid in list(dict.fromkeys(named or found)) or [None]:
                taskrouter.add_workflow(workflow, sid)
        return taskrouter

    def _load_flow(self, flow: Any) -> None:
        from harness.engines.studio.engine import StudioEnvironment
        from harness.models.flow import load_flow

        if not self.options.bots:
            widgets = [s.name for s in flow.states if s.type == "send-to-auto-pilot"]
            if widgets:
                raise UsageError(f"no bot given, but {self.options.flow} runs one (Send to Autopilot widget(s) "
                                 f"{', '.join(widgets)}): pass --bot SCHEMA.json (or UA…=SCHEMA.json)")
        self._warn_unused_bots(flow)
        subflows = {sid: load_flow(path) for sid, path in self.options.subflows.items()}
        taskrouter = self.taskrouter
        bots = {("*" if sid is None else sid): trained for sid, trained in self.trained.items()}
        self.studio = StudioEnvironment(
            bots=bots, clock=self.clock, taskrouter=taskrouter, url_map=self.url_map,
            auth_token=self.options.auth_token, account_sid=self.runtime.account_sid, subflows=subflows,
            sids=self.runtime.sids, http=self.http,
        )
        self.flow = self.studio.load(flow)

    def _warn_unused_bots(self, flow: Any) -> None:
        """A `UA…=` bot no Autopilot widget names is almost always a typo: that widget then runs the
        fallback bot (or fails), so say which SIDs the flow does use."""
        used = [str(state.properties.get("autopilot_assistant_sid", "")) for state in flow.states
                if state.type == "send-to-auto-pilot"]
        if any("{" in sid for sid in used):  # a Liquid SID is known only at run time
            return
        known = ", ".join(dict.fromkeys(used)) or "none (no Autopilot widget)"
        for sid in self.options.bots:
            if sid is not None and sid not in used:
                self.warnings.append(f"--bot {sid}=…: no Autopilot widget of {self.options.flow} uses "
                                     f"this SID (the flow's assistant SIDs: {known})")

    def _queues(self) -> dict[str, str]:
        """Queue SID → name, from --queues or a queues.json beside the workflow (names make reports readable)."""
        path = self.options.queues
        if path is None and self.options.workflow is not None:
            beside = self.options.workflow.with_name("queues.json")
            path = beside if beside.is_file() else None
        if path is None:
            return {}
        from harness.sources import load_source

        data = load_source(path).data
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise UsageError(f"{path}: expected a JSON object of queue SID → queue name")
        return dict(data)

    def _serve_functions(self, folder: Path) -> None:
        from harness.engines.twilio.functions import FunctionsServer

        server = self._stack.enter_context(FunctionsServer(folder, domain=self._functions_domain()))
        # Any *.twil.io host whose path the folder serves goes to the local twilio-run.
        self.url_map.setdefault("https://*.twil.io", server.base_url)

    def _functions_domain(self) -> str | None:
        """The production Functions domain the bot and flow name (`https://hotel-1234.twil.io/...`), so
        `context.DOMAIN_NAME` is what it is on Twilio; None (twilio-run's localhost:PORT, with a warning)
        when they name none or several."""
        files = [*self.options.bots.values(), *([self.options.flow] if self.options.flow else []),
                 *self.options.subflows.values()]
        hosts: set[str] = set()
        for path in files:
            try:
                text = Path(path).read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue  # the loaders report unreadable files
            hosts.update(h.lower() for h in _TWILIO_DOMAIN.findall(text))
        if len(hosts) == 1:
            return hosts.pop()
        if hosts:
            self.warnings.append(
                f"context.DOMAIN_NAME stays localhost:PORT: the bot and flow name several Functions domains "
                f"({', '.join(sorted(hosts))}); set DOMAIN_NAME in the Functions folder's .env to choose one")
        return None

    def _serve_wsgi(self, spec: Mapping[str, str]) -> None:
        from harness.engines.twilio.server import LocalServer, WsgiTarget

        # Resolve like paths: from the scenario file's project (`project`, its pyproject.toml folder or
        # its own folder), then the working directory (`python -m` has it on sys.path, the script not).
        # WsgiTarget turns whatever the user's module or factory raises into an error naming the entry.
        where = spec.get("origin") or f"--server {spec.get('url', '')}={spec.get('wsgi', '')}"
        target = WsgiTarget(spec.get("wsgi", ""), where=where,
                            folders=[p for p in (spec.get("project"), os.getcwd()) if p])
        app: Any = target.app
        if target.factory is not None:
            app = _FreshApp(target)
            self._fresh_apps.append(app)
        server = self._stack.enter_context(LocalServer(app))
        self.url_map[spec["url"].rstrip("/")] = server.base_url

    def reset(self, seed: str) -> None:
        """Start the next case afresh: the clock back at its start and SIDs reseeded with `seed`, so a
        scenario's transcript does not depend on the cases that ran before it in this session."""
        self.clock.set(self._clock_start)
        if self.runtime is not None:
            self.runtime.sids.reseed(seed)
        for app in self._fresh_apps:  # a service's state (ticket numbers…) must not leak between cases
            app.renew()
        if self.taskrouter is not None:  # nor the tasks of an earlier case
            self.taskrouter.reset()

    def queue_name(self, handoff: Mapping[str, Any]) -> str | None:
        """The friendly name of a Flex handoff's queue, from the TaskRouter's queue table."""
        if self.taskrouter is None:
            return None
        return self.taskrouter.queues.get(str(handoff.get("queue_sid") or ""))

    def bot(self, sid: str | None = None) -> Any:
        """The trained assistant for `sid` (or the only one)."""
        if sid in self.trained:
            return self.trained[sid]
        if sid is None and len(self.trained) == 1:
            return next(iter(self.trained.values()))
        known = ", ".join(str(k) for k in self.trained) or "none"
        raise UsageError(f"no bot for assistant SID {sid!r} (known: {known})")

    def conversation(self, *, channel: str = "sms", user: str | None = None, target_task: str | None = None,
                     memory: Mapping[str, Any] | None = None, handoff_widget: str | None = None,
                     trigger: str | None = None, parameters: Mapping[str, Any] | None = None,
                     ) -> BotConversation | FlowConversation:
        """One user's conversation: through the flow when the session has one, else with the bot.

        `handoff_widget` names the HTTP Request widget whose request is the flow's HTTP hand-off
        (`FlowConversation.handoff`); without it the default rule picks one. `trigger`: the Studio event
        that starts the flow — a kind of `TRIGGERS` ("message", "call", "conversation", "request",
        "subflow") or its event name ("incomingMessage", …); default `default_trigger(channel)`.
        `parameters`: `flow.data` of a request (REST) or subflow execution."""
        event = trigger_event(trigger, channel)
        if parameters and event not in PARAMETER_TRIGGERS:
            raise UsageError(f"parameters are the flow.data of a REST or subflow execution, not of {event}",
                             hint="use trigger: request (incomingRequest) or subflow (incomingParent)")
        if self.flow is not None:
            if target_task or memory:
                raise UsageError(
                    "target_task and memory apply to a conversation with the bot alone; through a flow, the "
                    "Autopilot widget's target_task and memory_parameters decide them",
                    hint="set them on the widget in the flow, or drop the flow for this scenario")
            return FlowConversation(self.flow, channel=channel, user=user or default_user(channel),
                                    handoff_widget=handoff_widget, trigger=event, parameters=parameters)
        if trigger is not None and event != default_trigger(channel):
            raise UsageError(f"trigger {trigger!r} needs a Studio flow: without one the user talks to the bot")
        return BotConversation(self.bot(None), channel=channel, user=user or default_user(channel),
                               target_task=target_task, memory=memory)


#: Scenario and `chat --trigger` names of Studio's trigger events (reference/studio.md §2.1).
TRIGGERS: dict[str, str] = {
    "message": "incomingMessage", "call": "incomingCall", "conversation": "incomingConversationMessage",
    "request": "incomingRequest", "subflow": "incomingParent",
}
#: Triggers whose execution starts without a message from the contact (the first turn starts it).
STARTED_TRIGGERS = ("incomingCall", "incomingRequest", "incomingParent")
#: Triggers whose execution gets `flow.data` from parameters.
PARAMETER_TRIGGERS = ("incomingRequest", "incomingParent")


def default_trigger(channel: str) -> str:
    """A call on `voice`, an incoming message on every other channel."""
    return "incomingCall" if channel == "voice" else "incomingMessage"


def trigger_event(trigger: str | None, channel: str) -> str:
    """The Studio event of a trigger name ("call") or event ("incomingCall"); UsageError for others."""
    if trigger is None:
        return default_trigger(channel)
    if trigger in TRIGGERS:
        return TRIGGERS[trigger]
    if trigger in TRIGGERS.values():
        return trigger
    raise UsageError(f"unknown trigger {trigger!r}: expected one of {', '.join(TRIGGERS)}")


def trigger_problem(loaded: Any, event: str) -> str | None:
    """Why a loaded flow would stop at its Trigger for `event` (no transition with a `next`), else None.

    Studio ends such an execution at once; a test of it would pass while nothing ran (no silent pass)."""
    state = loaded.states.get(loaded.flow.initial_state) if hasattr(loaded, "states") else None
    trigger_state = getattr(state, "state", None)
    if trigger_state is None or trigger_state.type != "trigger" or trigger_state.next_for(event):
        return None
    handled = [t.event for t in trigger_state.transitions if t.next]
    kinds = {value: key for key, value in TRIGGERS.items()}
    shown = ", ".join(f"{e} (trigger: {kinds[e]})" if e in kinds else e for e in handled) or "none"
    return (f"the flow's Trigger '{trigger_state.name}' has no transition for {event} (trigger: "
            f"{kinds.get(event, event)}): Studio would end the execution at once; the Trigger handles {shown}")


_TWILIO_DOMAIN = re.compile(r"https://([A-Za-z0-9-]+\.twil\.io)(?=[/\"'\s?#]|$)")


def default_user(channel: str) -> str:
    """Who talks when no user is given, shaped for the channel (`DEFAULT_USERS`; E.164 elsewhere)."""
    return DEFAULT_USERS.get(channel, DEFAULT_USER)


class BotConversation:
    """One user talking to the bot directly (no flow)."""

    def __init__(self, trained: Any, *, channel: str, user: str, target_task: str | None,
                 memory: Mapping[str, Any] | None) -> None:
        self._trained = trained
        self._channel = channel
        self._user = user
        self._target_task = target_task
        self._memory = dict(memory) if memory else None
        self.dialogue: Any = None
        self.dialogues: list[Any] = []  # every dialogue of this conversation, the current one last
        self.turns: list[Turn] = []

    def say(self, text: str) -> Turn:
        check_utterance(text)  # before a new dialogue starts for it
        if self.dialogue is None or self.dialogue.ended:
            # A message after the end starts a new dialogue with fresh memory, as on Twilio.
            first = self.dialogue is None
            self.dialogue = self._trained.start(
                channel=self._channel, user=self._user,
                memory=self._memory if first else None,
                target_task=self._target_task if first else None,
            )
            self.dialogues.append(self.dialogue)
        bot_turn = self.dialogue.send(text)
        turn = turn_from_bot(bot_turn, index=len(self.turns))
        self.turns.append(turn)
        return turn

    def wait(self, seconds: float) -> Turn:
        """Let `seconds` pass with no message: a dialogue idle for 4 hours times out and ends (Listen doc)."""
        advance = getattr(self._trained.clock, "advance", None)
        if advance is None:
            raise UsageError("waiting needs a controllable clock (harness.clock.FixedClock)")
        advance(seconds)
        taskrouter = getattr(getattr(self._trained, "runtime", None), "taskrouter", None)
        if taskrouter is not None:  # a handed-off task's target timeouts and TTL fire on the same clock
            taskrouter.check_timeouts()
        ended = bool(self.dialogue is not None and self.dialogue.expire())
        memory = dict(self.dialogue.memory) if self.dialogue is not None else {}
        turn = Turn(index=len(self.turns), user="", ended=ended, wait=seconds, memory=memory,
                    routing="timeout" if ended else None)
        self.turns.append(turn)
        return turn

    def close(self) -> None:
        """Nothing outlives a direct conversation; here for symmetry with FlowConversation."""

    def transcript(self) -> Transcript:
        ended = bool(self.dialogue and self.dialogue.ended)
        final = self.dialogue.final_memory if ended else (self.dialogue.memory if self.dialogue else {})
        dialogues = [{"sid": d.sid, "ended": bool(d.ended),
                      "final_memory": (d.final_memory if d.ended else d.memory) or {}} for d in self.dialogues]
        taskrouter = getattr(getattr(self._trained, "runtime", None), "taskrouter", None)
        return Transcript(turns=tuple(self.turns), ended=ended, final_memory=final or {},
                          handoff=autopilot_handoff(self.turns, taskrouter),
                          meta={"dialogues": dialogues} if dialogues else {})


TWILIO_NUMBER = "+15005550006"  # the Twilio side of the conversation (Twilio's magic test number)
#: The Studio triggers a user's message can fire (reference/studio.md §2.1).
MESSAGE_TRIGGERS = ("incomingMessage", "incomingConversationMessage")
#: The speech recognizer's Confidence when a scenario gives none [uncertain: any value in 0..1 is Twilio's].
DEFAULT_SPEECH_CONFIDENCE = 0.9
# A Conversations message's `Source` per channel (trigger.conversation.Source) [uncertain for chat: "SDK"].
CONVERSATION_SOURCES = {"sms": "SMS", "whatsapp": "WHATSAPP", "messenger": "MESSENGER", "chat": "SDK"}
# Flex's channel_type for each conversation channel (ChannelAttributes.channel_type): webchat is "web".
FLEX_CHANNEL_TYPES = {"chat": "web", "messenger": "facebook"}


class FlowConversation:
    """One user talking through a Studio flow: each message is an inbound message to the flow."""

    def __init__(self, loaded: Any, *, channel: str, user: str, handoff_widget: str | None = None,
                 trigger: str = "incomingMessage", parameters: Mapping[str, Any] | None = None) -> None:
        problem = trigger_problem(loaded, trigger)
        if problem is not None:
            raise UsageError(problem, hint="start it with a trigger the flow handles (scenario `trigger:`, chat "
                                           "--trigger), or connect "
                                           "that event in the flow")
        self.parameters = dict(parameters or {})
        self._loaded = loaded
        self.handoff_widget = handoff_widget
        self.trigger = trigger
        self._channel = channel
        self._user = user
        self._sids = loaded.environment.sids
        self._chat_channel = self._sids.make("CH")
        self.execution: Any = None
        self.executions: list[Any] = []
        self.turns: list[Turn] = []
        self._steps_seen = 0
        self._messages_seen = 0
        self._last_memory: dict[str, Any] = {}
        self._dialogue_ended = False
        self._dialogues: dict[str, dict[str, Any]] = {}  # dialogue SID → {"sid", "ended", "final_memory"}
        self.chat_hosted = trigger == "incomingMessage" and (channel == "chat" or _flex_hosted(loaded.flow))
        # The Conversation (CH…) and participant (MB…) of a Conversations trigger; drawn only for one, so
        # the SIDs of other conversations do not move.
        conversations = trigger == "incomingConversationMessage"
        self._conversation = self._sids.make("CH") if conversations else ""
        self._participant = self._sids.make("MB") if conversations else ""

    @property
    def contact(self) -> str:
        return f"whatsapp:{self._user}" if self._channel == "whatsapp" and ":" not in self._user else self._user

    def inbound_payload(self, text: str) -> dict[str, Any]:
        """What Twilio posts for a message on this channel (trigger.message.*, or trigger.conversation.*
        under a Conversations trigger) [uncertain for chat]."""
        payload: dict[str, Any] = {"Body": text, "To": TWILIO_NUMBER}
        if self._channel == "whatsapp":
            payload["To"] = f"whatsapp:{TWILIO_NUMBER}"
        if self.trigger == "incomingConversationMessage":
            # Conversations' onMessageAdded: the author, the conversation and participant, the source.
            payload.update({"Author": self.contact, "ConversationSid": self._conversation,
                            "ParticipantSid": self._participant,
                            "Source": CONVERSATION_SOURCES.get(self._channel, "SDK")})
            return payload
        if self.chat_hosted:
            # Flex messaging reaches Studio through a Programmable Chat channel: the trigger carries the
            # channel and its attributes (the guide's `{{trigger.message.ChannelAttributes.from}}`).
            payload["ChannelSid"] = self._chat_channel
            payload["InstanceSid"] = "IS" + "0" * 31 + "1"
            payload["ChannelAttributes"] = json.dumps({
                "from": self.contact, "channel_type": FLEX_CHANNEL_TYPES.get(self._channel, self._channel),
                "status": "ACTIVE", "long_lived": False,
            })
        return payload

    def say(self, text: str, *, confidence: float | None = None) -> Turn:
        """The contact's message; on a call, the caller's speech (SpeechResult, with its `confidence`)."""
        check_utterance(text)  # the flow's trigger or waiting widget never sees a refused message
        if self.trigger in STARTED_TRIGGERS:
            extra: dict[str, Any] = {}
            if self.trigger == "incomingCall" and text:
                conf = DEFAULT_SPEECH_CONFIDENCE if confidence is None else confidence
                extra = {"SpeechResult": text, "Confidence": f"{conf:g}"}
            return self._started_turn(text, extra, confidence=confidence if text else None)
        before = self.execution
        execution = self._loaded.inbound(self.contact, text, trigger=self.trigger, **self.inbound_payload(text))
        if execution is not before:
            if before is not None:  # the message fired a timeout that ended the previous execution
                self._note_timed_out_dialogues(before.steps[self._steps_seen:])
            self.executions.append(execution)
            self._steps_seen = self._messages_seen = 0
        self.execution = execution
        return self._record_turn(text, wait=None)

    def press(self, digits: str) -> Turn:
        """Keypad input on a call (Digits): a Gather's `keypress`, or DTMF to the bot."""
        if self.trigger != "incomingCall":
            raise UsageError(f"digits are keypad input on a call; this conversation starts with {self.trigger}",
                             hint="use trigger: call (the default on channel: voice)")
        if not digits or any(ch not in "0123456789*#w" for ch in digits):
            raise UsageError(f"digits {digits!r}: expected keypad keys 0-9, * and #")
        return self._started_turn("", {"Digits": digits}, digits=digits)

    def _started_turn(self, text: str, extra: dict[str, Any], *, digits: str | None = None,
                      confidence: float | None = None) -> Turn:
        """A turn of a call, REST or subflow execution: the first starts the execution (the call rings,
        the request arrives), then the turn's speech, digits or message goes to the widget waiting."""
        started = self.execution is None
        if started:
            self.execution = self._loaded.start(self.trigger, **self.start_payload())
            self.executions.append(self.execution)
        body = text or digits or ""
        if not started or body:
            execution = self.execution
            if execution.status != "active":
                if self.trigger == "incomingCall":
                    raise UsageError("the call has ended (the flow hung up): the caller cannot say more",
                                     hint="end the scenario at the turn the call ends")
                # After a REST or subflow execution, the contact's reply is a new incoming message.
                return self._after_started(text)
            execution.check_timeouts()
            if execution.status != "active":
                raise UsageError("the execution ended on a timeout before this input",
                                 hint="end the scenario at the turn the execution ends")
            execution.deliver(body, **extra)
        turn = self._record_turn(text, wait=None)
        if digits is not None or confidence is not None:
            turn = replace(turn, digits=digits, confidence_heard=confidence)
            self.turns[-1] = turn
        return turn

    def _after_started(self, text: str) -> Turn:
        problem = trigger_problem(self._loaded, "incomingMessage")
        if problem is not None:
            raise UsageError(f"the {self.trigger} execution has ended, so this message would start a new "
                             f"execution: {problem}")
        execution = self._loaded.inbound(self.contact, text, trigger="incomingMessage",
                                         **{"Body": text, "To": TWILIO_NUMBER})
        self.execution = execution
        self.executions.append(execution)
        self._steps_seen = self._messages_seen = 0
        return self._record_turn(text, wait=None)

    def start_payload(self) -> dict[str, Any]:
        """What Twilio posts to start a call, REST or subflow execution (trigger.call.*, trigger.request.*,
        trigger.parent.*) [reference/studio.md §2.1]."""
        if self.trigger == "incomingCall":
            return {"From": self.contact, "To": TWILIO_NUMBER, "Caller": self.contact, "Called": TWILIO_NUMBER,
                    "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01"}
        if self.trigger == "incomingRequest":  # the REST API's To is the contact, From the flow's number
            return {"To": self.contact, "From": TWILIO_NUMBER, "Parameters": dict(self.parameters)}
        return {"From": self.contact, "To": TWILIO_NUMBER, "parameters": dict(self.parameters),
                "trigger_type": "message"}

    def wait(self, seconds: float) -> Turn:
        """Let `seconds` pass on the clock with no message: due widget timeouts fire (Studio's `timeout`
        events, e.g. the Autopilot widget's after its `timeout`)."""
        clock = self._loaded.environment.clock
        advance = getattr(clock, "advance", None)
        if advance is None:
            raise UsageError("waiting needs a controllable clock (harness.clock.FixedClock)")
        if self.trigger in STARTED_TRIGGERS and self.execution is None:  # the call rings, then silence
            self.execution = self._loaded.start(self.trigger, **self.start_payload())
            self.executions.append(self.execution)
        advance(seconds)
        if self.execution is not None and self.execution.status == "active":
            self.execution.check_timeouts()
        self._loaded.environment.taskrouter.check_timeouts()  # a Flex task's target timeouts and TTL
        return self._record_turn("", wait=seconds)

    def _record_turn(self, text: str, *, wait: float | None) -> Turn:
        execution = self.execution
        steps = execution.steps[self._steps_seen:] if execution is not None else []
        messages = execution.messages[self._messages_seen:] if execution is not None else []
        if execution is not None:
            self._steps_seen = len(execution.steps)
            self._messages_seen = len(execution.messages)
        replies = tuple(str(m.get("body", "")) for m in messages if m.get("to") == self.contact)
        index = len(self.turns)
        timed_out = self._note_timed_out_dialogues(steps)
        bot_turns = execution.last_bot_turns if execution is not None and wait is None else []
        if bot_turns:
            widget, bot_turn = bot_turns[0]
            turn = turn_from_bot(bot_turn, index=index, bot=widget, steps=steps)
            turn = replace(turn, replies=replies)
            self._last_memory = turn.memory
            self._dialogue_ended = bool(bot_turns[-1][1].ended)
            for _widget, each in bot_turns:
                sid = str(getattr(each, "dialogue_sid", "") or "")
                if sid:
                    self._dialogues[sid] = {"sid": sid, "ended": bool(each.ended),
                                            "final_memory": dict(each.memory or {})}
        else:
            ended = timed_out or any(step.get("type") == "send-to-auto-pilot" and step.get("event") == "timeout"
                                     for step in steps)
            self._dialogue_ended = self._dialogue_ended or ended
            turn = Turn(index=index, user=text, replies=replies, steps=tuple(steps), ended=ended, wait=wait,
                        memory=dict(self._last_memory))
        self.turns.append(turn)
        return turn

    def _note_timed_out_dialogues(self, steps: Sequence[Mapping[str, Any]]) -> bool:
        """Mark ended, in the transcript's dialogues, each bot dialogue an Autopilot widget's timeout (or
        Autopilot's 4-hour limit) ended in these steps; True when there was one."""
        found = False
        for step in steps:
            sid = str(step.get("dialogue_sid") or "")
            if step.get("type") != "send-to-auto-pilot" or not step.get("dialogue_ended") or not sid:
                continue
            found = True
            context = step.get("context")
            memory = context.get("memory") if isinstance(context, Mapping) else None
            entry = self._dialogues.setdefault(sid, {"sid": sid, "ended": True, "final_memory": {}})
            entry["ended"] = True
            if isinstance(memory, Mapping):
                entry["final_memory"] = dict(memory)
        return found

    def close(self) -> None:
        """End the contact's active execution, so the next conversation of this user starts afresh."""
        if self.execution is not None and self.execution.status == "active":
            self.execution.end()

    def transcript(self) -> Transcript:
        flow = FlowRecord(**self.execution.record()) if self.execution is not None else None
        return Transcript(turns=tuple(self.turns), ended=self._dialogue_ended,
                          final_memory=self._final_memory(), flow=flow, handoff=self.handoff(),
                          meta={"executions": [e.sid for e in self.executions],
                                "dialogues": list(self._dialogues.values())})

    def _final_memory(self) -> dict[str, Any]:
        if self.execution is not None:
            for value in self.execution.widgets.values():
                if isinstance(value, Mapping) and isinstance(value.get("memory"), Mapping):
                    return dict(value["memory"])
        return dict(self._last_memory)

    def handoff(self) -> dict[str, Any] | None:
        """The last handoff the flow made: a Flex task, else an HTTP request to a contact center."""
        if self.execution is None:
            return None
        if self.execution.flex_tasks:
            task = self.execution.flex_tasks[-1]
            handoff = {"kind": "flex", "widget": task.get("widget"), "attributes": task.get("parsed_attributes"),
                       "workflow_sid": task.get("workflow_sid"),
                       "task_channel": task.get("task_channel_unique_name") or task.get("task_channel_sid"),
                       "queue": task.get("task_queue_friendly_name") or task.get("task_queue_sid"),
                       "queue_sid": task.get("task_queue_sid"), "priority": task.get("priority"),
                       "task_sid": task.get("sid"), "routing": task.get("routing")}
            if task.get("interaction_sid"):  # Flex Conversations: the Interaction that created the task
                handoff["interaction_sid"] = task["interaction_sid"]
                interaction = next((i for i in self.execution.interactions
                                    if i.get("sid") == task["interaction_sid"]), None)
                if interaction is not None:  # the Interaction's channel (reference/taskrouter.md §3.1)
                    handoff["interaction_channel_type"] = (interaction.get("channel") or {}).get("type")
            return _with_live_task(handoff, self._loaded.environment.taskrouter)
        bot_handoff = autopilot_handoff(self.turns, self._loaded.environment.taskrouter)
        if bot_handoff is not None:  # a voice bot transferred the call itself
            return bot_handoff
        request = handoff_request(self.execution.steps, self.execution.http_requests,
                                  widget=self.handoff_widget)
        if request is None:
            return None
        handoff = {"kind": "http", "widget": request.get("widget"), "method": request.get("method"),
                   "url": request.get("url"), "headers": request.get("headers"),
                   "body": _parsed_body(request), "status": request.get("status"),
                   "response": request.get("response")}
        if request.get("query"):
            handoff["query"] = dict(request["query"])  # a GET's parameters (the URL carries none of them)
        return handoff


HTTP_WIDGETS = ("make-http-request", "run-function")


def autopilot_handoff(turns: Sequence[Turn], taskrouter: Any) -> dict[str, Any] | None:
    """The last Autopilot `handoff` action of the conversation, with its task as it is now (queue, status
    and queue history after the scenario's waits), or None."""
    for turn in reversed(turns):
        if turn.handoff:
            return _with_live_task(dict(turn.handoff), taskrouter)
    return None


def _with_live_task(handoff: dict[str, Any], taskrouter: Any) -> dict[str, Any]:
    """A handoff's task as the fake TaskRouter holds it now: it may have moved since it was created."""
    sid = handoff.get("task_sid")
    task = next((t for t in getattr(taskrouter, "tasks", ()) if t.sid == sid), None) if sid else None
    if task is None:
        return handoff
    handoff.update(queue=task.task_queue_friendly_name or task.task_queue_sid, queue_sid=task.task_queue_sid,
                   task_status=task.assignment_status, reason=task.reason,
                   queue_history=[dict(entry) for entry in task.queue_history])
    handoff["task_priority" if handoff.get("kind") == "autopilot" else "priority"] = task.priority
    return handoff


def handoff_request(steps: Sequence[Mapping[str, Any]], requests: Sequence[Mapping[str, Any]], *,
                    widget: str | None = None) -> Mapping[str, Any] | None:
    """Which recorded HTTP request is the hand-off to a contact center.

    With `widget`: that widget's last request (any method). Else the last make-http-request POST made
    after an Autopilot widget's session ended (the bot handed the guest over), else the last
    make-http-request POST. Run Function calls and GET lookups (opening hours, analytics) never are.
    """
    if widget is not None:
        return next((r for r in reversed(requests) if r.get("widget") == widget), None)
    calls = _typed_calls(steps, requests)
    posts = [(request, after) for request, kind, after in calls
             if kind == "make-http-request" and str(request.get("method", "")).upper() == "POST"]
    after_bot = [request for request, after in posts if after]
    if after_bot:
        return after_bot[-1]
    return posts[-1][0] if posts else None


def _typed_calls(steps: Sequence[Mapping[str, Any]], requests: Sequence[Mapping[str, Any]]
                 ) -> list[tuple[Mapping[str, Any], str | None, bool]]:
    """(request, widget type, made after an Autopilot session ended) for each recorded request.

    Steps and requests are logged in the same order (each HTTP widget records its request, then its
    Step), so the n-th HTTP step is the n-th request; a request without its Step (the widget broke)
    gets its type from an earlier Step of the same widget."""
    types = {str(s.get("widget")): str(s.get("type")) for s in steps}
    found: list[tuple[Mapping[str, Any], str | None, bool]] = []
    pending = iter(requests)
    session_ended = False
    for step in steps:
        kind = step.get("type")
        if kind == "send-to-auto-pilot" and step.get("event") == "sessionEnded":
            session_ended = True
        elif kind in HTTP_WIDGETS:
            request = next(pending, None)
            if request is None:
                break
            if request.get("widget") != step.get("widget"):  # out of step: type by name, order unknown
                found.append((request, types.get(str(request.get("widget"))), False))
                continue
            found.append((request, str(kind), session_ended))
    for request in pending:
        found.append((request, types.get(str(request.get("widget"))), session_ended))
    return found


def _start_instant(text: str) -> Any:
    """The clock's start from `clock:` / --clock: an instant outside the clock's range (harness.clock) is
    invalid input (exit 2), with the value and the range named."""
    try:
        return parse_clock(text)
    except UsageError as err:
        raise SchemaError(err.message, hint=err.hint) from None


class _FreshApp:
    """A WSGI app from a factory, replaced by a new one on `renew()` (the server keeps serving this)."""

    def __init__(self, target: Any) -> None:
        self._target = target  # a harness.engines.twilio.server.WsgiTarget naming a factory
        self._app = target.app

    def renew(self) -> None:
        self._app = self._target.build()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self._app(environ, start_response)


def _flex_hosted(flow: Any) -> bool:
    """A flow Flex messaging runs: it hands off with Send to Flex or reads the chat channel's attributes."""
    for state in flow.states:
        if state.type == "send-to-flex" or "ChannelAttributes" in json.dumps(state.properties):
            return True
    return False


def _flex_workflow_sids(flow: Any) -> list[str]:
    found = []
    for state in flow.states:
        value = state.properties.get("workflow") if state.type == "send-to-flex" else None
        if isinstance(value, str) and value.startswith("WW") and "{" not in value:
            found.append(value)
    return list(dict.fromkeys(found))


def _handoff_workflow_sids(assistants: Any) -> list[str]:
    """The workflow SIDs of the bots' static `handoff` actions (`taskrouter://WW…`)."""
    found = []
    for assistant in assistants:
        for task in assistant.tasks:
            for action in task.actions or ():
                spec = action.get("handoff") if isinstance(action, Mapping) else None
                uri = str(spec.get("uri", "")) if isinstance(spec, Mapping) else ""
                sid = uri.removeprefix("taskrouter://") if uri.startswith("taskrouter://") else ""
                if sid.startswith("WW") and "{" not in sid:
                    found.append(sid)
    return list(dict.fromkeys(found))


def _parsed_body(request: Mapping[str, Any]) -> Any:
    body = request.get("body") or ""
    content_type = str((request.get("headers") or {}).get("Content-Type", ""))
    if "json" in content_type:
        try:
            return loads_json(body)
        except LoadError:  # kept as text, as before; nothing deep or ambiguous reaches the expectations
            return body
    if "form" in content_type:
        from urllib.parse import parse_qsl

        return dict(parse_qsl(body, keep_blank_values=True))
    return body


def turn_from_bot(bot_turn: Any, *, index: int, bot: str | None = None, steps: Sequence[dict] = (),
                  extra_replies: Sequence[str] = ()) -> Turn:
    """A transcript Turn from the Autopilot engine's BotTurn."""
    data = bot_turn.to_dict()
    ranking = tuple(Candidate(c["task"], float(c["score"]), c.get("sample"))
                    for c in data.get("ranking") or ())
    replies = tuple(r["text"] if isinstance(r, dict) else str(r) for r in data.get("replies") or ())
    return Turn(
        index=index, user=data.get("user", ""), task=data.get("task"),
        confidence=data.get("confidence"), next_best_task=data.get("next_best_task"),
        fields=data.get("fields") or {}, replies=replies + tuple(extra_replies),
        memory=data.get("memory") or {}, ended=bool(data.get("ended")),
        tasks_run=tuple(data.get("tasks_run") or ()), ranking=ranking, routing=data.get("routing"),
        webhooks=tuple(data.get("webhooks") or ()), steps=tuple(steps), bot=bot,
        handoff=data.get("handoff") or None, routing_note=data.get("routing_note") or None,
    )
