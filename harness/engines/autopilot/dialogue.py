"""One Autopilot dialogue: route each message, run Actions, keep Memory — the turn rules of docs/autopilot-engine.md.

A turn is one user message (`Dialogue.send`). It either answers a pending collect question or is routed to a
task (target task, `listen.tasks` candidates, fallback below the confidence threshold). Actions run in order:
say/show/play/remember continue; listen, collect, redirect and handoff are transitional; a list that ends
without one of them ends the dialogue. At most 5 redirects run in one request, as on Twilio.

Memory holds the channel block (`twilio.sms` …), `twilio.collected_data.<collect>` records as Twilio wrote
them, remembered keys and inbound memory. When the dialogue ends, `final_memory` keeps the last snapshot.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.budgets import check_utterance
from harness.clock import iso
from harness.engines.autopilot.webhooks import WebhookCall
from harness.errors import EngineError, HarnessError, LoadError, Location
from harness.models.assistant import task_target
from harness.sources import check_depth, is_malformed, loads_json

if TYPE_CHECKING:
    from harness.engines.autopilot.runtime import TrainedAssistant

MAX_REDIRECTS = 5  # per request (Redirect doc)
TASKROUTER_SCHEME = "taskrouter://"  # a handoff to a TaskRouter Workflow (Hand-off doc)
# A pending listen on a messaging channel waits 4 hours, then the dialogue times out (Listen doc). Voice
# calls end with the call instead; we apply the same limit there [uncertain].
IDLE_TIMEOUT_SECONDS = 4 * 60 * 60

# Memory block per channel (reference §4.3). Studio's messaging channels map onto these.
CHANNEL_MEMORY_KEYS = {
    "sms": "sms", "voice": "voice", "chat": "chat", "whatsapp": "messaging.whatsapp",
    "messenger": "messaging.facebook", "web": "chat",
}

# Twilio's limits page: Memory over 16 KB fails with error 90100, and 12 KB when the dialogue runs under a
# Studio flow (the Autopilot widget). Measured as the `Memory` parameter Autopilot sends (compact JSON,
# UTF-8 bytes; 1 KB = 1024 bytes [uncertain]). Twilio's limits, not the kit's: not raisable.
MAX_MEMORY_BYTES = 16 * 1024
MAX_STUDIO_MEMORY_BYTES = 12 * 1024

# What the stylesheet falls back to when an assistant defines no failure messages [uncertain].
DEFAULT_FAILURE_MESSAGE = "Sorry, I didn't get that."


@dataclass(frozen=True)
class Reply:
    """Something the bot sent: a say, a show (text and images) or a play (a media URL)."""

    kind: str
    text: str
    media: tuple[str, ...] = ()
    task: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "text": self.text}
        if self.media:
            data["media"] = list(self.media)
        if self.task:
            data["task"] = self.task
        return data


# How a turn's task was chosen when the router did not choose it.
_NOTES = {"target": "the target task ran without routing", "collect": "an answer to the pending collect question",
          "digits": "voice digits redirected (listen.voice_digits)", "initiation": "defaults.assistant_initiation"}


@dataclass
class BotTurn:
    """What one user message caused."""

    user: str
    task: str | None = None
    confidence: float | None = None
    next_best_task: str | None = None
    fields: dict[str, dict[str, str]] = field(default_factory=dict)
    replies: tuple[Reply, ...] = ()
    memory: dict[str, Any] = field(default_factory=dict)
    ended: bool = False
    tasks_run: tuple[str, ...] = ()
    ranking: tuple[dict[str, Any], ...] = ()
    routing: str | None = None  # "exact" | "scored" | "none" | "target" | "collect" | "digits"
    webhooks: tuple[dict[str, Any], ...] = ()
    handoff: dict[str, Any] | None = None
    dialogue_sid: str = ""
    collect: dict[str, Any] | None = None  # the question asked at the end of the turn, if any
    routing_note: str = ""  # the router's reason (Routing.note), or how the task was chosen without it
    # The last task that ran before the bot handed control back (a redirect to task://agent makes it
    # "agent"): what Studio's `widgets.<bot>.CurrentTask` shows. `task` stays the task that took the message.
    current_task: str | None = None

    @property
    def texts(self) -> list[str]:
        return [r.text for r in self.replies]

    def to_dict(self) -> dict[str, Any]:
        return {
            "user": self.user, "task": self.task, "confidence": self.confidence,
            "next_best_task": self.next_best_task, "fields": self.fields,
            "replies": [r.to_dict() for r in self.replies], "memory": self.memory, "ended": self.ended,
            "tasks_run": list(self.tasks_run), "ranking": list(self.ranking), "routing": self.routing,
            "webhooks": list(self.webhooks), "handoff": self.handoff, "dialogue_sid": self.dialogue_sid,
            "collect": self.collect, "routing_note": self.routing_note,
        }


@dataclass
class _PendingCollect:
    task: str
    spec: dict[str, Any]  # the collect action
    index: int = 0  # question being asked
    attempts: int = 0  # answers given to this question so far

    @property
    def name(self) -> str:
        return str(self.spec["name"])

    @property
    def question(self) -> dict[str, Any]:
        return self.spec["questions"][self.index]


@dataclass
class _PendingListen:
    tasks: tuple[str, ...] | None = None
    voice_digits: dict[str, Any] | None = None


class _Request:
    """Bookkeeping for one inbound message (redirect count, what ran, what was said)."""

    def __init__(self, user: str) -> None:
        self.user = user
        self.redirects = 0
        self.replies: list[Reply] = []
        self.tasks_run: list[str] = []
        self.visited: list[str] = []  # every task name and URL run, in order (a redirect loop's chain)
        self.webhooks: list[WebhookCall] = []
        self.current_task: str | None = None
        self.confidence: float | None = None
        self.next_best_task: str | None = None
        self.fields: dict[str, dict[str, str]] = {}
        self.handoff: dict[str, Any] | None = None
        self.answered_task: str | None = None  # the task whose collect question this message answered


class Dialogue:
    """A conversation with one trained assistant. Create with `TrainedAssistant.start(...)`."""

    def __init__(self, trained: TrainedAssistant, *, sid: str, channel: str, user: str,
                 memory: Mapping[str, Any] | None = None, target_task: str | None = None,
                 assistant_sid: str | None = None, channel_info: Mapping[str, Any] | None = None) -> None:
        self.trained = trained
        self.assistant = trained.assistant
        self.sid = sid
        # The SID this dialogue runs under: the one a Studio widget named (a "*" bot map serves any SID),
        # else the assistant's own. Webhook AssistantSid and DialoguePayloadUrl use it.
        self.assistant_sid = assistant_sid or trained.sid
        self.channel_info: dict[str, Any] = dict(channel_info or {})
        self.channel = channel
        self.user = user
        self.target_task = target_task
        self.ended = False
        self.final_memory: dict[str, Any] = {}
        self.turns: list[BotTurn] = []
        self.current_task: str | None = None
        self.current_input = ""
        self.memory: dict[str, Any] = {"twilio": {CHANNEL_MEMORY_KEYS.get(channel, channel): self._channel_block()}}
        if memory:  # from the Python API too: cap its nesting as the loaders do (deepcopy would recurse)
            check_depth(memory, what="the initial memory")
            self.memory.update(copy.deepcopy(dict(memory)))
        # A Studio widget passes channel_info (the flow's address…): that is how a dialogue knows it runs
        # under Studio, where the memory limit is lower.
        self.memory_limit = MAX_STUDIO_MEMORY_BYTES if channel_info is not None else MAX_MEMORY_BYTES
        self._check_memory("the initial memory (memory_parameters / --memory)")
        self._pending: _PendingCollect | _PendingListen | None = None
        self._fields: dict[str, dict[str, str]] = {}
        self._confidence: float | None = None
        self._next_best: str | None = None
        self._ranking: tuple[dict[str, Any], ...] = ()
        self._routing_note = ""
        self.last_activity = trained.clock.now()
        self.timed_out = False
        if target_task is not None and self.assistant.task(target_task) is None:
            raise EngineError(f"target task {target_task!r} is not a task of {self.assistant.unique_name}",
                              hint=f"tasks: {', '.join(self.assistant.task_names)}")

    # -- public -----------------------------------------------------------------------------------

    def send(self, text: str, *, digits: str | None = None) -> BotTurn:
        """One inbound message. Raises EngineError/WebhookError (the dialogue then ends)."""
        if self.ended:
            raise EngineError(f"dialogue {self.sid} has ended; start a new one for the next message")
        check_utterance(text)  # a several-MB message is refused before routing reads it (harness.budgets)
        request = _Request(text)
        self.current_input = text
        self.last_activity = self.trained.clock.now()
        try:
            routing = self._dispatch(request, text, digits)
            self._check_memory("this turn")  # collect answers grow memory too, not only remember
        except HarnessError:
            self._end()
            raise
        return self._finish_turn(request, routing)

    def initiate(self) -> BotTurn:
        """Run defaults.assistant_initiation (how a voice call opens); an empty user message."""
        request = _Request("")
        uri = self.assistant.defaults.assistant_initiation
        if not uri:
            raise EngineError(f"{self.assistant.unique_name} has no defaults.assistant_initiation")
        try:
            self._run_uri(request, uri, purpose="default")
        except HarnessError:
            self._end()
            raise
        return self._finish_turn(request, "initiation")

    def expire(self, idle_seconds: float = IDLE_TIMEOUT_SECONDS) -> bool:
        """End the dialogue if it has waited for the user `idle_seconds` or more (on the clock); True if so."""
        if self.ended:
            return False
        waited = (self.trained.clock.now() - self.last_activity).total_seconds()
        if waited < idle_seconds:
            return False
        self.timed_out = True
        self._end()
        return True

    @property
    def waiting_for(self) -> str:
        """What the next message answers: 'collect:<name>/<question>', 'listen' or 'nothing' (ended)."""
        if self.ended:
            return "nothing"
        if isinstance(self._pending, _PendingCollect):
            return f"collect:{self._pending.name}/{self._pending.question['name']}"
        return "listen"

    # -- routing ----------------------------------------------------------------------------------

    def _dispatch(self, request: _Request, text: str, digits: str | None) -> str:
        pending = self._pending
        self._pending = None
        if isinstance(pending, _PendingCollect):
            request.current_task = request.answered_task = pending.task
            self._answer(request, pending, text, digits)
            return "collect"
        if isinstance(pending, _PendingListen) and digits and pending.voice_digits:
            target = (pending.voice_digits.get("redirects") or {}).get(digits)
            if target:
                self._run_uri(request, target, purpose="redirect")
                return "digits"
        if self._opens_call(text, digits):
            # An inbound call opens with no speech: Autopilot runs defaults.assistant_initiation (Defaults doc).
            self._run_uri(request, str(self.assistant.defaults.assistant_initiation), purpose="default")
            return "initiation"
        if self.target_task is not None and not self.turns:
            request.confidence, request.next_best_task = 1.0, ""
            self._fields, self._confidence, self._next_best = {}, 1.0, ""
            self._run_task(request, self.target_task)
            return "target"
        candidates = pending.tasks if isinstance(pending, _PendingListen) else None
        routed = self.trained.router.route(text, candidates=candidates)
        self._ranking = tuple({"task": r.task, "score": round(r.score, 4), "sample": r.sample}
                              for r in routed.ranking[:5])
        self._fields = dict(routed.fields)
        self._routing_note = routed.note
        self._confidence = round(routed.confidence, 4)
        self._next_best = routed.next_best_task
        request.fields = dict(routed.fields)
        request.confidence, request.next_best_task = self._confidence, self._next_best
        if routed.task is None:
            fallback = self.assistant.defaults.fallback
            if not fallback:
                raise EngineError(
                    f"no task matched {text!r} and {self.assistant.unique_name} has no defaults.fallback",
                    Location(self.assistant.path, "/defaults/defaults/fallback"),
                )
            self._routing_note = f"{routed.note}; ran defaults.fallback ({fallback})"
            self._run_uri(request, fallback, purpose="default")
            return "none"
        self._run_task(request, routed.task)
        return routed.method

    def _opens_call(self, text: str, digits: str | None) -> bool:
        """The first, empty message of a voice dialogue without a target task is the call coming in."""
        return (self.channel == "voice" and not self.turns and self.target_task is None and not text.strip()
                and digits is None and bool(self.assistant.defaults.assistant_initiation))

    # -- tasks and actions ------------------------------------------------------------------------

    def _run_uri(self, request: _Request, uri: str, *, purpose: str, method: str = "POST") -> None:
        target = task_target(uri)
        if target is not None:
            self._run_task(request, target)
            return
        request.visited.append(uri)
        actions, _call = self._fetch(request, purpose, uri, method)
        self._run_actions(request, actions, source=uri)

    def _run_task(self, request: _Request, name: str) -> None:
        task = self.assistant.task(name)
        if task is None:
            raise EngineError(f"task://{name} names no task of {self.assistant.unique_name}",
                              hint=f"tasks: {', '.join(self.assistant.task_names)}")
        request.current_task = name
        self.current_task = name
        request.tasks_run.append(name)
        request.visited.append(name)
        if task.actions_url:
            actions, _call = self._fetch(request, "actions_url", task.actions_url, task.actions_url_method)
            self._run_actions(request, actions, source=task.actions_url)
        else:
            self._run_actions(request, list(task.actions), source=f"task://{name}")

    def _fetch(self, request: _Request, purpose: str, url: str, method: str,
               extra: Mapping[str, str] | None = None) -> tuple[list, WebhookCall]:
        params = self._request_params(request)
        if extra:
            params.update(extra)
        actions, call = self.trained.webhooks.actions(
            purpose, url, method, params,
            task_names=self.assistant.task_names,
            field_type_names=[ft.unique_name for ft in self.assistant.field_types],
            defer_unknown_tasks=not self.trained.options.strict_task_redirects,
        )
        request.webhooks.append(call)
        return actions, call

    def _run_actions(self, request: _Request, actions: list, *, source: str) -> None:
        for action in actions:
            ((name, value),) = action.items()
            if name == "say":
                request.replies.append(Reply("say", _speech(value), task=request.current_task))
            elif name == "show":
                media = tuple(str(i.get("url", "")) for i in value.get("images") or ())
                request.replies.append(Reply("show", str(value.get("body", "")), media, request.current_task))
            elif name == "play":
                url = value.get("url", "") if isinstance(value, dict) else str(value)
                request.replies.append(Reply("play", url, (url,), request.current_task))
            elif name == "remember":
                self.memory.update(copy.deepcopy(value))
                self._check_memory(f"remember in {source}")
            elif name == "listen":
                if isinstance(value, dict):
                    tasks = value.get("tasks")
                    self._pending = _PendingListen(tuple(tasks) if tasks else None, value.get("voice_digits"))
                else:
                    self._pending = _PendingListen()
                return
            elif name == "collect":
                self._start_collect(request, value)
                return
            elif name == "redirect":
                self._check_task_target(value, source)
                self._redirect(request, value)
                return
            elif name == "handoff":
                request.handoff = self._handoff(request, dict(value))
                self._end()
                return
            else:  # the validator rejects unknown actions before they get here
                raise EngineError(f"unknown action {name!r} in {source}")
        if self._pending is None:
            self._end()

    def _check_task_target(self, value: Any, source: str) -> None:
        """A redirect to a task that does not exist fails when it fires (a webhook's answer may name one)."""
        uri = str(value.get("uri", "")) if isinstance(value, dict) else str(value)
        name = task_target(uri)
        if name is not None and self.assistant.task(name) is None:
            raise EngineError(
                f"{source} redirects to task://{name}, which names no task of {self.assistant.unique_name}: "
                "the dialogue fails here, as on Twilio",
                hint=f"tasks: {', '.join(self.assistant.task_names)}")

    def _redirect(self, request: _Request, value: Any, *, purpose: str = "redirect") -> None:
        request.redirects += 1
        if request.redirects > MAX_REDIRECTS:
            # Tasks and URLs alike: a loop between redirect URLs shows its URLs, not just the first task.
            chain = " → ".join(request.visited[-(MAX_REDIRECTS + 1):])
            raise EngineError(
                f"more than {MAX_REDIRECTS} redirects in one request (Twilio stops there): {chain}",
                hint="a task redirects in a loop; end one of them with listen or say",
            )
        if isinstance(value, dict):
            uri, method = str(value.get("uri", "")), str(value.get("method") or "POST")
        else:
            uri, method = str(value), "POST"
        self._run_uri(request, uri, purpose=purpose, method=method)

    # -- handoff ----------------------------------------------------------------------------------

    def _handoff(self, request: _Request, spec: dict[str, Any]) -> dict[str, Any]:
        """Perform a voice `handoff` (Hand-off doc, reference/autopilot.md §2.7): request the TwiML at `uri`
        with the Autopilot parameters, or for `taskrouter://WW…` create the task in the fake TaskRouter
        with the action's priority and timeout. The record keeps the action as written, plus what happened."""
        uri = str(spec.get("uri", ""))
        record: dict[str, Any] = {"kind": "autopilot", **spec}
        if self.channel != "voice":
            raise EngineError(
                f"task '{request.current_task}' hands off on {self.channel}: the handoff action is voice only "
                f"(Hand-off doc), so Twilio does not transfer a {self.channel} conversation with it",
                hint="on messaging, remember a flag (sendToAgent) and end the dialogue: the Studio flow's "
                     "Send to Flex routes it (the hand-off guide)")
        if uri.startswith(TASKROUTER_SCHEME):
            workflow_sid = uri[len(TASKROUTER_SCHEME):]
            # [uncertain] the task's attributes: the dialogue's Memory (what Autopilot sends everywhere)
            attributes = json.dumps(self.memory, separators=(",", ":"))
            try:
                task = self.trained.runtime.taskrouter.create_task(
                    workflow_sid, "voice", attributes, spec.get("priority"), spec.get("timeout"))
            except EngineError as err:
                raise EngineError(f"handoff to {uri}: {err.message}", err.location, err.hint) from None
            record.update(task_sid=task.sid, workflow_sid=task.workflow_sid, queue_sid=task.task_queue_sid,
                          queue=task.task_queue_friendly_name or task.task_queue_sid,
                          task_priority=task.priority, task_timeout=task.timeout, attributes=task.parsed_attributes,
                          routing=task.routing.explanation if task.routing is not None else None,
                          task_status=task.assignment_status, queue_history=[dict(e) for e in task.queue_history])
            return record
        method = str(spec.get("method") or "POST")
        twiml, call = self.trained.webhooks.twiml("handoff", uri, method, self._request_params(request))
        request.webhooks.append(call)
        record.update(status=call.status, twiml=twiml)
        return record

    # -- collect ----------------------------------------------------------------------------------

    def _start_collect(self, request: _Request, spec: dict[str, Any]) -> None:
        now = iso(self.trained.clock.now())
        collected = self.memory.setdefault("twilio", {}).setdefault("collected_data", {})
        collected[spec["name"]] = {"answers": {}, "date_started": now}  # a second run overwrites [uncertain]
        pending = _PendingCollect(request.current_task or "", spec)
        self._ask_next(request, pending)

    def _ask_next(self, request: _Request, pending: _PendingCollect) -> None:
        """Ask the current question, or finish the collect when every question is answered."""
        questions = pending.spec["questions"]
        while pending.index < len(questions):
            question = questions[pending.index]
            prefill = question.get("prefill")
            if prefill and prefill in self._fields:  # filled from the routed utterance [uncertain]
                value = self._fields[prefill]["value"]
                self._record_answer(pending, question, value, attempts=0)
                pending.index += 1
                continue
            request.replies.append(Reply("say", _speech(question["question"]), task=pending.task))
            self._pending = pending
            return
        self._complete_collect(request, pending)

    def _answer(self, request: _Request, pending: _PendingCollect, text: str, digits: str | None) -> None:
        question = pending.question
        pending.attempts += 1
        qtype = question.get("type")
        raw = text
        mapping = (question.get("voice_digits") or {}).get("mapping") or {}
        if digits is not None and digits in mapping:
            raw = str(mapping[digits])
        value = self.trained.resolver.parse(qtype, raw) if qtype else (raw.strip() or None)
        valid = value is not None
        validate = question.get("validate") or {}
        if valid and validate.get("allowed_values"):
            allowed = [str(v).lower() for v in validate["allowed_values"].get("list") or []]
            valid = str(value).lower() in allowed
        if valid and validate.get("webhook"):
            hook = validate["webhook"]
            params = self._request_params(request)
            params["ValidateFieldAnswer"] = str(value)
            ok, call = self.trained.webhooks.validate(hook["url"], hook.get("method") or "POST", params)
            request.webhooks.append(call)
            valid = ok
        if valid:
            self._record_answer(pending, question, str(value), attempts=pending.attempts)
            on_success = validate.get("on_success") or self.assistant.style_sheet.raw.get(
                "collect", {}).get("validate", {}).get("on_success") or {}
            success_text = _speech(on_success.get("say", "")) if isinstance(on_success, dict) else ""
            if success_text:
                request.replies.append(Reply("say", success_text, task=pending.task))
            pending.index += 1
            pending.attempts = 0
            self._ask_next(request, pending)
            return
        limit, redirect = self._attempt_limit(question)
        if limit is not None and pending.attempts >= limit:
            self._record_failure(pending, question, raw)
            target = redirect or self.assistant.defaults.validate_on_failure
            if not target:
                self._end()  # nowhere to go: Twilio ended the collect [uncertain]
                return
            self._redirect(request, target, purpose="validate_on_failure")
            return
        messages, repeat = self._failure_messages(question)
        request.replies.append(Reply("say", messages[(pending.attempts - 1) % len(messages)], task=pending.task))
        if repeat:
            request.replies.append(Reply("say", _speech(question["question"]), task=pending.task))
        self._pending = pending

    def _attempt_limit(self, question: Mapping[str, Any]) -> tuple[int | None, str | None]:
        own = (question.get("validate") or {}).get("max_attempts")
        if isinstance(own, dict):
            return int(own.get("num_attempts") or 1), own.get("redirect")
        return self.assistant.style_sheet.max_attempts, None

    def _failure_messages(self, question: Mapping[str, Any]) -> tuple[list[str], bool]:
        own = (question.get("validate") or {}).get("on_failure")
        if isinstance(own, dict) and own.get("messages"):
            return [_speech(m.get("say", "")) for m in own["messages"]], bool(own.get("repeat_question"))
        sheet = self.assistant.style_sheet
        if sheet.on_failure_messages:
            return list(sheet.on_failure_messages), sheet.repeat_question
        return [DEFAULT_FAILURE_MESSAGE], True

    def _record_answer(self, pending: _PendingCollect, question: Mapping[str, Any], value: str, *,
                       attempts: int) -> None:
        record: dict[str, Any] = {"answer": value}
        if question.get("type"):
            record["type"] = question["type"]
        record.update(filled=True, attempts=attempts, validate_attempts=attempts, confirm_attempts=0,
                      confirmed=False)
        self._collected(pending)["answers"][question["name"]] = record

    def _record_failure(self, pending: _PendingCollect, question: Mapping[str, Any], raw: str) -> None:
        record: dict[str, Any] = {"filled": False}
        if question.get("type"):
            record["type"] = question["type"]
        record.update(error={"message": "Invalid Value", "value": raw}, attempts=pending.attempts,
                      validate_attempts=pending.attempts, confirm_attempts=0, confirmed=False)
        data = self._collected(pending)
        data["answers"][question["name"]] = record
        data["status"] = "validation-max-attempts"
        data["date_completed"] = iso(self.trained.clock.now())

    def _collected(self, pending: _PendingCollect) -> dict[str, Any]:
        collected = self.memory.setdefault("twilio", {}).setdefault("collected_data", {})
        return collected.setdefault(pending.name, {"answers": {}})

    def _complete_collect(self, request: _Request, pending: _PendingCollect) -> None:
        data = self._collected(pending)
        data["status"] = "complete"
        data["date_completed"] = iso(self.trained.clock.now())
        on_complete = pending.spec.get("on_complete") or {}
        target = on_complete.get("redirect")
        if target is None:
            self._end()
            return
        self._redirect(request, target, purpose="on_complete")

    # -- bookkeeping ------------------------------------------------------------------------------

    def _request_params(self, request: _Request) -> dict[str, str]:
        assistant_sid = self.assistant_sid
        params = {
            "AccountSid": self.trained.account_sid,
            "AssistantSid": assistant_sid,
            "DialogueSid": self.sid,
            "UserIdentifier": self.user,
            "CurrentInput": self.current_input,
            "CurrentTask": request.current_task or "",
            "CurrentTaskConfidence": _confidence_text(self._confidence),
            "NextBestTask": self._next_best or "",
            "DialoguePayloadUrl": f"https://autopilot.twilio.com/v1/Assistants/{assistant_sid}/Dialogues/{self.sid}",
            "Memory": json.dumps(self.memory, separators=(",", ":")),
            "Channel": self.channel,
        }
        for name, found in self._fields.items():
            params[f"Field_{name}_Value"] = found["value"]
            params[f"Field_{name}_Type"] = found["type"]
        return params

    def _channel_block(self) -> dict[str, Any]:
        """`memory.twilio.<channel>`: the keys Autopilot wrote (reference §4.3), filled from `channel_info`
        (what the Studio widget knows: the flow's address as `To`, its chat_channel/chat_service…)."""
        info = self.channel_info
        if self.channel == "voice":
            block: dict[str, Any] = {"From": self.user, "To": "", "CallSid": "", "Direction": "inbound"}
        elif self.channel == "chat":
            block = {"From": self.user, "ChannelSid": "", "ServiceSid": "", "AssistantName": ""}
        elif self.channel == "whatsapp":
            who = self.user if self.user.startswith("whatsapp:") else f"whatsapp:{self.user}"
            block = {"From": who, "To": ""}
            to = str(info.get("To") or "")
            if to and not to.startswith("whatsapp:"):
                info = {**info, "To": f"whatsapp:{to}"}
        else:
            block = {"From": self.user, "To": ""}
        for key, value in info.items():
            if key == "Attributes" and isinstance(value, str):
                value = _json_object_or_text(value)  # Autopilot kept chat Attributes as an object
            block[key] = value
        return block

    def _check_memory(self, where: str) -> None:
        """Error 90100 when Memory grows past Twilio's limit (16 KB, 12 KB under Studio)."""
        size = len(json.dumps(self.memory, separators=(",", ":")).encode("utf-8"))
        if size > self.memory_limit:
            under = " under Studio" if self.memory_limit == MAX_STUDIO_MEMORY_BYTES else ""
            raise EngineError(
                f"Memory is {size} bytes after {where}, over Twilio's {self.memory_limit // 1024} KB limit"
                f"{under} (error 90100 Invalid Autopilot Actions JSON)",
                hint="remember less (keep ids, not whole records) — Twilio fails the dialogue at this size")

    def _end(self) -> None:
        self.ended = True
        self._pending = None
        self.final_memory = copy.deepcopy(self.memory)

    def _finish_turn(self, request: _Request, routing: str) -> BotTurn:
        collect = None
        if isinstance(self._pending, _PendingCollect):
            collect = {"name": self._pending.name, "question": self._pending.question["name"]}
        turn = BotTurn(
            user=request.user,
            task=request.answered_task or (request.tasks_run[0] if request.tasks_run else request.current_task),
            confidence=request.confidence if routing not in ("collect",) else None,
            next_best_task=request.next_best_task if routing not in ("collect",) else None,
            fields=dict(request.fields),
            replies=tuple(request.replies),
            memory=copy.deepcopy(self.memory),
            ended=self.ended,
            tasks_run=tuple(request.tasks_run),
            ranking=self._ranking if routing in ("exact", "scored", "none") else (),
            routing=routing,
            webhooks=tuple(c.to_dict() for c in request.webhooks),
            handoff=request.handoff,
            dialogue_sid=self.sid,
            collect=collect,
            routing_note=self._routing_note if routing in ("exact", "scored", "none") else _NOTES.get(routing, ""),
            current_task=request.current_task or self.current_task,
        )
        self.turns.append(turn)
        return turn

    def __iter__(self) -> Iterator[BotTurn]:
        return iter(self.turns)


def _speech(value: Any) -> str:
    if isinstance(value, dict):
        if "speech" in value:
            return str(value["speech"])
        if "say" in value:
            return _speech(value["say"])
        return ""
    return "" if value is None else str(value)


def _json_object_or_text(text: str) -> Any:
    try:
        parsed = loads_json(text) if text.strip() else {}
    except LoadError as err:
        if is_malformed(err):
            return text
        raise EngineError(f"chat Attributes: {err.message}", hint=err.hint) from None
    return parsed if isinstance(parsed, dict) else text


def _confidence_text(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.1f}" if value in (0.0, 1.0) else f"{value:g}"
