"""What each Studio widget does when the engine enters it (reference/studio.md §2, docs/studio-flows.md).

A handler is stateless and shared by every execution. `enter` returns `Done(event, outputs)` or
`Park(deadline)`; a parked widget later gets `on_message` (the contact's next message), `on_timeout`
(its deadline passed on the clock) or, for run-subflow, `child_ended`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from harness.engines.studio.botport import accepts_start_args
from harness.engines.studio.conditions import first_match
from harness.engines.studio.engine import SUBFLOW_NESTING_LIMIT, Done, Park, Waiting
from harness.engines.studio.http import is_json_type, media_type, perform
from harness.engines.twilio.functions import LOGS_HEADER, decode_logs
from harness.engines.twilio.messaging import bare_address, channel_of
from harness.engines.twilio.network import FetchError, NetworkPolicy, redact
from harness.errors import EngineError, HarnessError
from harness.models.widget_specs import HTTP_CONTENT_TYPES, HTTP_METHODS, NO_MATCH_EVENT

if TYPE_CHECKING:
    from harness.engines.studio.engine import CompiledState, Execution

#: Send to Flex's own limit on the rendered attributes (reference/studio.md §2.6); TaskRouter allows 4096.
FLEX_ATTRIBUTES_LIMIT = 1024
DEFAULT_WAIT_SECONDS = 3600.0  # send-and-wait-for-reply (Twilio's authoring guide)
DEFAULT_BOT_TIMEOUT = 14400.0  # the Autopilot widget's value in every real flow
#: A listening Autopilot dialogue on messaging waits 4 hours, then times out; "this cannot be changed"
#: (Listen doc, reference/autopilot.md §2.1). It holds inside Studio too, whatever the widget's `timeout`.
BOT_LISTEN_LIMIT_SECONDS = 4 * 60 * 60.0
DEFAULT_GATHER_SECONDS = 5.0  # TwiML <Gather> default
#: The User-Agent of Twilio's outbound requests (its webhooks say "TwilioProxy/1.1").
TWILIO_USER_AGENT = "TwilioProxy/1.1 (autopilot-harness)"


def _pairs(value: Any) -> dict[str, Any]:
    """`[{key, value}, …]` → {key: value}; items without a key are skipped."""
    result: dict[str, Any] = {}
    if isinstance(value, list):
        for item in value:
            if isinstance(item, Mapping) and item.get("key") not in (None, ""):
                result[str(item["key"])] = item.get("value", "")
    return result


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on")
    return bool(value)


def _seconds(ex: Execution, st: CompiledState, key: str, default: float) -> float:
    text = st.text(key, ex.context).strip()
    if not text:
        return default
    try:
        seconds = float(text)
    except ValueError:
        raise EngineError(f"state '{st.name}' ({st.type}): '{key}' must be a number of seconds, got {text!r}",
                          st.where(key)) from None
    if seconds < 0:
        raise EngineError(f"state '{st.name}' ({st.type}): '{key}' must not be negative, got {text!r}",
                          st.where(key))
    return seconds


class Widget:
    """Base: a widget that finishes at once. Waiting widgets override `on_message`/`on_timeout`."""

    def enter(self, ex: Execution, st: CompiledState) -> Done | Park:
        raise NotImplementedError

    def on_message(self, ex: Execution, st: CompiledState, wait: Waiting,
                   inbound: dict[str, Any]) -> Done | Park:
        raise EngineError(f"state '{st.name}' ({st.type}) does not take messages", st.location)

    def on_timeout(self, ex: Execution, st: CompiledState, wait: Waiting) -> Done | Park:
        return Done("timeout", {})

    def child_ended(self, ex: Execution, st: CompiledState, wait: Waiting) -> Done | Park:
        raise EngineError(f"state '{st.name}' ({st.type}) runs no subflow", st.location)


# --- flow control ---------------------------------------------------------------------------------------


class Trigger(Widget):
    def enter(self, ex: Execution, st: CompiledState) -> Done:
        return Done(ex.trigger)


class Split(Widget):
    """split-based-on: render `input`, test `match` transitions in order, first hit wins, else noMatch."""

    def enter(self, ex: Execution, st: CompiledState) -> Done:
        context = ex.context
        value = st.value("input", context)
        text = value if isinstance(value, str) else st.text("input", context)
        values = st.condition_values
        render_value = (lambda v: values[v].render(context) if v in values else v) if values else None
        transition, trace = first_match(st.state.transitions, text, render_value=render_value,
                                        location=st.location, widget=f"state '{st.name}' ({st.type})")
        event = transition.get("event") if isinstance(transition, Mapping) else transition.event
        conditions = [
            {"type": condition.get("type"), "value": condition.get("value"), "matched": matched,
             "reason": reason}
            for condition, matched, reason in trace
        ]
        return Done(event or NO_MATCH_EVENT, None, {"input": text, "conditions": conditions}, transition)


class SetVariables(Widget):
    """set-variables: render every value first (variables are set at the end of the Step), then set.

    "An unquoted value is numeric" (reference/studio.md §2.9, Twilio's Liquid support article): `1` is
    the number 1, so `{% if flow.variables.a == 1 %}` holds and `a > 0` compares numbers; `"1"` (quoted)
    is the text 1, without its quotes. `StudioEnvironment(variable_numbers=…)` picks which values count.
    """

    def enter(self, ex: Execution, st: CompiledState) -> Done:
        items = st.value("variables", ex.context, []) or []
        written = st.raw.get("variables")
        mode = ex.environment.variable_numbers
        values: dict[str, Any] = {}
        for index, item in enumerate(items if isinstance(items, list) else []):
            if not isinstance(item, Mapping) or item.get("key") in (None, ""):
                continue
            value = item.get("value", "")
            if item.get("type") in ("json", "object", "array") or _truthy(item.get("parse_as_json", False)):
                # [uncertain] Studio's behaviour on bad JSON is undocumented: keep the text
                with contextlib.suppress(ValueError):
                    value = json.loads(value) if isinstance(value, str) else value
            elif isinstance(value, str):
                raw = written[index].get("value") if isinstance(written, list) and index < len(written) \
                    and isinstance(written[index], Mapping) else value
                value = variable_value(value, raw, mode, as_text=item.get("type") == "string")
            values[str(item["key"])] = value
        ex.variables.update(values)
        return Done("next", values)


#: A plain decimal number as a person writes it: no sign but "-", no leading zeros, no exponent, so phone
#: numbers (`+1555…`), zip codes (`02134`) and SIDs stay text.
_PLAIN_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")
def variable_value(rendered: str, written: Any, mode: str, *, as_text: bool = False) -> Any:
    """A Set Variables value: a number when unquoted and numeric (per `mode`), else text without the
    quotes around it (`"5"` → `5` as text, `'hi'` → `hi`). `as_text`: the item's `type` is "string"."""
    text = rendered.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]  # quoted: text, and the quotes are the widget's syntax, not part of the value
    if as_text or mode == "never" or not _PLAIN_NUMBER.fullmatch(text):
        return rendered
    if mode == "written" and not ((isinstance(written, int | float) and not isinstance(written, bool))
                                  or (isinstance(written, str) and written.strip() == text)):
        return rendered
    return float(text) if "." in text else int(text)


class RunSubflow(Widget):
    """run-subflow: start the subflow mapped to `flow_sid` with `incomingParent`; wait while it waits."""

    def enter(self, ex: Execution, st: CompiledState) -> Done | Park:
        flow_sid = st.text("flow_sid", ex.context).strip()
        if ex.subflow_depth >= SUBFLOW_NESTING_LIMIT:
            # Studio runs one level of subflows: Twilio error 81024 "Subflow could not be executed", cause
            # "Subflow is trying to invoke another Subflow" (https://www.twilio.com/docs/api/errors/81024).
            # So a flow that runs itself (A→A, A→B→A) fails here, one level down, instead of recursing.
            return Done("failed", {}, {"error": f"Twilio error 81024 (Subflow could not be executed): "
                                                f"'{st.name}' runs inside the subflow {ex.loaded.name}, and a "
                                                f"subflow cannot invoke another subflow (flow_sid {flow_sid!r})"
                                                f"; Studio allows {SUBFLOW_NESTING_LIMIT} level of subflows",
                                       "error_code": 81024})
        loaded = ex.environment.subflow(flow_sid)
        if loaded is None:
            known = ", ".join(ex.environment.subflows) or "none"
            # `unmapped_flow_sid` lets a face phrase the fix its own way (chat: --subflow FW…=FILE).
            return Done("failed", {}, {"error": f"no subflow is mapped to flow_sid {flow_sid!r} "
                                                f"(known: {known}); map it to a subflow file",
                                       "unmapped_flow_sid": flow_sid})
        parameters = {}
        for item in st.value("parameters", ex.context, []) or []:
            if isinstance(item, Mapping) and item.get("key") not in (None, ""):
                value = item.get("value", "")
                if item.get("type") in ("json", "object", "array") and isinstance(value, str):
                    with contextlib.suppress(ValueError):
                        value = json.loads(value)
                parameters[str(item["key"])] = value
        child = ex.start_child(loaded, parameters, ex.current_step_sid)
        if child.status == "ended":
            return self._completed(child)
        return Park(None, {"child": child})

    def on_message(self, ex: Execution, st: CompiledState, wait: Waiting,
                   inbound: dict[str, Any]) -> Done | Park:
        child: Execution = wait.data["child"]
        rest = {k: v for k, v in inbound.items() if k != "Body"}
        child.deliver(str(inbound.get("Body", "")), **rest)
        return self._completed(child) if child.status == "ended" else Park(None)

    def child_ended(self, ex: Execution, st: CompiledState, wait: Waiting) -> Done | Park:
        return self._completed(wait.data["child"])

    @staticmethod
    def _completed(child: Execution) -> Done:
        # Variables set in the subflow come back flat under widgets.<run-subflow name> (TW-AI).
        return Done("completed", dict(child.variables), {"subflow_execution_sid": child.sid})


# --- messaging ----------------------------------------------------------------------------------------


def _message_body(ex: Execution, st: CompiledState) -> str:
    if st.text("message_type", ex.context) == "content_template":
        # Content templates are rendered by Twilio's Content API; we record which one was sent.
        sid = st.text("content_sid", ex.context)
        variables = st.text("content_variables", ex.context)
        return f"[content template {sid}{' ' + variables if variables else ''}]"
    return st.text("body", ex.context)


def _outbound(ex: Execution, message: Any) -> dict[str, Any]:
    return {"Sid": ex.environment.sids.make("SM"), "Body": message.body, "To": message.to,
            "From": message.from_, "Status": "sent", "AccountSid": ex.environment.account_sid}


class SendMessage(Widget):
    def enter(self, ex: Execution, st: CompiledState) -> Done:
        context = ex.context
        to = st.text("to", context).strip() or ex.contact
        from_ = st.text("from", context).strip() or ex.channel_address
        media = st.text("media_url", context).strip()
        body = _message_body(ex, st)  # a Liquid error stops the run: it is the flow's bug, not a failed send
        try:
            message = ex.send_message(st.name, to, from_, body, media=(media,) if media else ())
        except EngineError as err:
            return Done("failed", {}, {"error": err.message})
        return Done("sent", {"outbound": _outbound(ex, message)})


class SendAndWait(Widget):
    """send-and-wait-for-reply: send, then wait for the contact's reply or `timeout` seconds."""

    def enter(self, ex: Execution, st: CompiledState) -> Done | Park:
        context = ex.context
        from_ = st.text("from", context).strip() or ex.channel_address
        media = st.text("media_url", context).strip()
        timeout = _seconds(ex, st, "timeout", DEFAULT_WAIT_SECONDS)
        body = _message_body(ex, st)
        try:
            message = ex.send_message(st.name, ex.contact, from_, body, media=(media,) if media else ())
        except EngineError as err:
            return Done("deliveryFailure", {}, {"error": err.message})
        return Park(ex.deadline(timeout), {"outbound": _outbound(ex, message)})

    def on_message(self, ex: Execution, st: CompiledState, wait: Waiting, inbound: dict[str, Any]) -> Done:
        return Done("incomingMessage", {"outbound": wait.data["outbound"], "inbound": inbound})

    def on_timeout(self, ex: Execution, st: CompiledState, wait: Waiting) -> Done:
        return Done("timeout", {"outbound": wait.data["outbound"]})


# --- the Autopilot widget ------------------------------------------------------------------------------


def bot_channel(ex: Execution) -> str:
    """The channel the bot is told: "voice" on a call, "chat" for Programmable Chat / Conversations,
    else the contact address's channel ("sms", "whatsapp", "messenger"…) [uncertain: Autopilot's exact
    strings for SMS/WhatsApp are undocumented]."""
    if ex.trigger_kind == "call":
        return "voice"
    if ex.trigger_kind == "conversation" or "ChannelSid" in ex.payload:
        return "chat"
    return channel_of(ex.contact)


_ASSISTANT_SID = re.compile(r"UA[0-9a-fA-F]{32}")


def _channel_info(ex: Execution, st: CompiledState, channel: str) -> dict[str, str]:
    """What the widget tells the bot about the channel (→ `memory.twilio.<channel>`): the flow's Twilio
    address as `To`; on a call its CallSid; on chat the widget's `chat_channel`, `chat_service` and
    `chat_attributes`. `AssistantName` stays "" as in real chat captures (the widget's `from` is often
    the guest's own address, so it is no name for the bot)."""
    context = ex.context
    if channel == "voice":
        return {"To": ex.channel_address, "CallSid": str(ex.payload.get("CallSid") or "")}
    if channel != "chat":
        return {"To": ex.channel_address}
    info = {"ChannelSid": st.text("chat_channel", context).strip(),
            "ServiceSid": st.text("chat_service", context).strip()}
    if st.has("chat_attributes"):
        info["Attributes"] = st.text("chat_attributes", context)
    return info


class SendToAutopilot(Widget):
    """send-to-auto-pilot: a dialogue with the bot; the contact's messages go to it until it ends."""

    def enter(self, ex: Execution, st: CompiledState) -> Done | Park:
        context = ex.context
        if ex.trigger_kind == "request":
            return Done("failure", {}, {"error": "Studio does not run the Autopilot widget in REST API "
                                                 "executions (error 81020)"})
        assistant = st.text("autopilot_assistant_sid", context).strip()
        bot = ex.environment.bot(assistant)
        memory = {key: value for key, value in _pairs(st.value("memory_parameters", context)).items()}
        target_task = st.text("target_task", context).strip() or None
        body = st.text("body", context) if st.has("body") else str(ex.payload.get("Body", ""))
        data: dict[str, Any] = {
            "assistant": assistant, "from": st.text("from", context).strip(), "channel": bot_channel(ex),
            "timeout": _seconds(ex, st, "timeout", DEFAULT_BOT_TIMEOUT), "input": body,
        }
        optional: dict[str, Any] = {}
        accepted = accepts_start_args(bot)
        if "assistant_sid" in accepted and _ASSISTANT_SID.fullmatch(assistant):
            optional["assistant_sid"] = assistant
        if "channel_info" in accepted:
            optional["channel_info"] = _channel_info(ex, st, data["channel"])
        try:
            data["dialogue"] = bot.start(channel=data["channel"], user=ex.contact, memory=memory or None,
                                         target_task=target_task, **optional)
        except HarnessError as err:
            return Done("failure", {}, {"error": f"the bot did not start: {err.message}"})
        return self._send(ex, st, data, body)

    def on_message(self, ex: Execution, st: CompiledState, wait: Waiting,
                   inbound: dict[str, Any]) -> Done | Park:
        # On a call the caller's keypad input reaches the bot as Digits (a Collect's or Listen's DTMF).
        digits = inbound.get("Digits") if ex.trigger_kind == "call" else None
        return self._send(ex, st, wait.data, str(inbound.get("Body", "")), digits=digits)

    def on_timeout(self, ex: Execution, st: CompiledState, wait: Waiting) -> Done:
        """The widget's `timeout`, or Autopilot's 4-hour listen limit when it comes first: either way the
        dialogue ends (its transcript entry says so) and the widget leaves with the memory it had."""
        data = wait.data
        dialogue = data.get("dialogue")
        expired = data["timeout"] > BOT_LISTEN_LIMIT_SECONDS
        expire = getattr(dialogue, "expire", None)
        if callable(expire) and not getattr(dialogue, "ended", True):
            expire(0)  # the dialogue has waited long enough whatever its own limit: end it now
        info = {"dialogue_sid": getattr(dialogue, "sid", ""), "dialogue_ended": True,
                "reason": (f"the bot's dialogue waited {BOT_LISTEN_LIMIT_SECONDS:g} s for the contact, "
                           "Autopilot's limit for a listening dialogue" if expired
                           else f"the widget's timeout of {data['timeout']:g} s passed")}
        event = ex.environment.bot_expiry_event if expired else "timeout"
        return Done(event, self._outputs(ex, data), info)

    def _send(self, ex: Execution, st: CompiledState, data: dict[str, Any], text: str,
              digits: Any = None) -> Done | Park:
        dialogue = data["dialogue"]
        data["input"] = text
        try:
            turn = dialogue.send(text, digits=str(digits)) if digits else dialogue.send(text)
        except HarnessError as err:
            return Done("failure", self._outputs(ex, data), {"error": f"the bot failed: {err.message}"})
        data["turn"] = turn
        ex.record_bot_turn(st.name, turn)
        try:
            self._relay(ex, st, data, turn)
        except EngineError as err:
            return Done("failure", self._outputs(ex, data),
                        {"error": f"the bot's reply could not be sent: {err.message}"})
        if turn.ended or dialogue.ended:
            return Done("sessionEnded", self._outputs(ex, data))
        # [uncertain] the timeout counts from the contact's last message (an inactivity timeout). Autopilot
        # ends a listening dialogue after 4 hours whatever the widget says (reference/autopilot.md §2.1).
        return Park(ex.deadline(min(data["timeout"], BOT_LISTEN_LIMIT_SECONDS)), data)

    @staticmethod
    def _relay(ex: Execution, st: CompiledState, data: dict[str, Any], turn: Any) -> None:
        """The bot's replies become outbound messages from the widget's rendered `from`.

        A `show` carries its images as the message's media on SMS, WhatsApp and the other messaging
        channels; Chat shows only the body (reference/autopilot.md §2.8, "How to use the Autopilot Studio
        Widget"). On SMS/WhatsApp/Messenger a `from` that is not the flow's own address makes the messages
        fail: "Your messages will fail if you change this value" (the hand-off guide, "For Messaging")."""
        on_call = ex.trigger_kind == "call"
        channel = data["channel"]
        sender = data["from"] or ex.channel_address
        custom_from = (not on_call and channel != "chat" and data["from"] and ex.environment.bot_from_must_match
                       and bare_address(data["from"]) != bare_address(ex.channel_address))
        if custom_from and any(reply.text for reply in turn.replies):  # a silent turn has nothing to fail
            raise EngineError(
                f"the widget's 'from' is {data['from']!r}, not the flow's address {ex.channel_address!r}: "
                f"on {channel} Studio sends the bot's messages from the channel address, and Twilio's "
                "hand-off guide warns that they fail when 'Send Message From' is changed",
                st.where("from"),
                hint="leave 'from' as {{flow.channel.address}} (a bot name is for Chat only), or "
                     "StudioEnvironment(bot_from_must_match=False)")
        for reply in turn.replies:
            text = reply.text or ""
            if not text:
                continue
            if on_call:
                ex.say(st.name, text)
            elif reply.kind == "play":
                ex.send_message(st.name, ex.contact, sender, "", media=(text,))
            else:
                media = tuple(getattr(reply, "media", ()) or ()) if reply.kind == "show" else ()
                ex.send_message(st.name, ex.contact, sender, text, media=() if channel == "chat" else media)

    @staticmethod
    def _outputs(ex: Execution, data: dict[str, Any]) -> dict[str, Any]:
        dialogue, turn = data.get("dialogue"), data.get("turn")
        # One SID per dialogue: the one the bot ran under (it may differ from a widget's Liquid placeholder).
        assistant = getattr(dialogue, "assistant_sid", None) or data["assistant"]
        out: dict[str, Any] = {
            "CurrentTask": _current_task(turn),
            "CurrentInput": data.get("input", ""),
            "DialogueSid": dialogue.sid if dialogue is not None else "",
            "UserIdentifier": ex.contact,
            "Channel": data["channel"],
            "AssistantSid": assistant,
        }
        if dialogue is not None:
            out["DialoguePayloadUrl"] = (
                f"https://autopilot.twilio.com/v1/Assistants/{assistant}/Dialogues/{dialogue.sid}")
            memory = dialogue.final_memory if dialogue.ended else dialogue.memory
            if not memory and turn is not None:
                memory = turn.memory
            out["memory"] = dict(memory or {})
        if turn is not None:
            for name, field in (turn.fields or {}).items():
                out[f"Field_{name}_Value"] = field.get("value", "")
                out[f"Field_{name}_Type"] = field.get("type", "")
        return out


def _current_task(turn: Any) -> str:
    """The last task that ran before the bot handed control back (a bot port's `current_task`; ports without
    it report the task that took the message)."""
    if turn is None:
        return ""
    return str(getattr(turn, "current_task", None) or turn.task or "")


# --- HTTP and Functions ---------------------------------------------------------------------------------


def _network(ex: Execution) -> NetworkPolicy:
    env = ex.environment
    return NetworkPolicy(env.url_map, env.allow_network)


def url_user(url: str) -> str | None:
    """The user name of a URL's user info (percent-decoded), or None when the URL carries no credentials."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.username is None and parts.password is None:
        return None
    return unquote(parts.username or "")


def _target(ex: Execution, url: str) -> tuple[str | None, str | None]:
    """(URL to call, None) or (None, why not): the network guard's answer (the URL map first; unmapped
    URLs only when loopback, or when the environment allows the network)."""
    try:
        return _network(ex).target(url), None
    except FetchError as err:
        return None, f"{err.message}; {err.hint}" if err.hint else err.message


def _call(ex: Execution, st: CompiledState, method: str, url: str, *, content_type: str | None,
          params: dict[str, Any], body: str, auth: bool,
          form_only: bool = False) -> tuple[Any, dict[str, Any]]:
    """Make one HTTP call for a widget and record it; returns (HttpOutcome or None, request record).

    Like Twilio's own requests it carries a Twilio User-Agent, an `I-Twilio-Idempotency-Token` and
    (unless `StudioEnvironment(sign_requests=False)`) `X-Twilio-Signature` — see `twilio_headers`.
    """
    env = ex.environment
    headers: dict[str, str] = {}
    query: dict[str, Any] | None = None
    data: Any = None
    form: dict[str, str] | None = None
    if method == "GET":
        query = {k: "" if v is None else str(v) for k, v in params.items()} or None
    elif form_only or not is_json_type(content_type):
        headers["Content-Type"] = content_type or "application/x-www-form-urlencoded"
        form = {k: "" if v is None else str(v) for k, v in params.items()}
        data = urlencode(form) if params else (body or None)
        if not params and body:  # a hand-written form body is signed by its fields
            form = dict(parse_qsl(body, keep_blank_values=True))
    else:
        headers["Content-Type"] = content_type or "application/json"
        data = body if body else (json.dumps(params) if params else None)
    if data is not None and isinstance(data, str):
        data = data.encode("utf-8")
    target, refusal = _target(ex, url)
    json_body = data if method != "GET" and form is None else None
    extra = twilio_headers(ex, url if not env.sign_local_url or target is None else target,
                           query=query, form=form, json_body=json_body)
    headers.update(extra.headers)
    # URL user info (`https://user:pw@host/…`) is sent as HTTP Basic auth, as Twilio does for any URL it
    # calls (https://www.twilio.com/docs/usage/security#http-authentication); the URL map and the network
    # guard match the host without it and keep it on the local URL. The record hides the password.
    user = url_user(url)
    record: dict[str, Any] = {
        "widget": st.name, "method": method, "url": redact(url), "headers": dict(headers),
        "body": data.decode("utf-8") if isinstance(data, bytes) else "",
        "status": None, "response": None,
    }
    if query:
        record["query"] = dict(query)
    if extra.body_sha256 is not None:
        record["body_sha256"] = extra.body_sha256
    if auth:  # "Authenticate With Twilio" replaces URL credentials (requests' rule) [uncertain for Twilio]
        record["headers"]["Authorization"] = f"Basic {env.account_sid}:***"
    elif user is not None:
        record["headers"]["Authorization"] = f"Basic {user}:***"
    if target is None:
        record["error"] = refusal
        ex.record_http(record)
        return None, record
    record["sent_to"] = redact(target)
    sent_url = _with_query(target, {"bodySHA256": extra.body_sha256} if extra.body_sha256 else {})
    outcome = perform(env.http, method, sent_url, policy=_network(ex), params=query, data=data, headers=headers,
                      auth=(env.account_sid, env.auth_token) if auth else None, shown=url)
    record["status"] = outcome.status
    record["response"] = outcome.body
    logs = decode_logs((outcome.headers or {}).get(LOGS_HEADER)) if outcome.headers else []
    if logs:  # a Function served by the kit's twilio-run sends its console output back in this header
        record["logs"] = logs
    if outcome.error:
        record["error"] = outcome.error
    ex.record_http(record)
    return outcome, record


@dataclass(frozen=True)
class TwilioHeaders:
    """The headers Twilio adds to a request it makes, and the `bodySHA256` of a JSON body (else None)."""

    headers: dict[str, str]
    body_sha256: str | None = None


def twilio_headers(ex: Execution, url: str, *, query: Mapping[str, str] | None = None,
                   form: Mapping[str, str] | None = None, json_body: bytes | None = None) -> TwilioHeaders:
    """User-Agent, I-Twilio-Idempotency-Token and X-Twilio-Signature for a widget's request to `url`.

    The signature follows Twilio's webhook rules (the `twilio` package's RequestValidator, the account's
    auth token): a form POST signs the URL plus its sorted fields; a GET signs the URL with its query
    string; a JSON body signs the URL with `bodySHA256=<hex SHA-256 of the body>` appended (the request
    is sent with that query parameter, which RequestValidator.validate checks) and no fields.
    [uncertain: Twilio documents this for its webhooks; that Studio's HTTP widgets sign is not documented.]
    The token is derived from the execution and Step SIDs, so reruns send the same bytes.
    """
    env = ex.environment
    token_seed = f"{ex.sid}:{ex.current_step_sid}:{len(ex.http_requests)}"
    token = str(uuid.UUID(hashlib.sha256(token_seed.encode()).hexdigest()[:32]))
    headers = {"User-Agent": TWILIO_USER_AGENT, "I-Twilio-Idempotency-Token": token}
    body_sha256 = hashlib.sha256(json_body).hexdigest() if json_body is not None else None
    if env.sign_requests:
        validator = env.request_validator()
        if query is not None:
            signed = validator.compute_signature(_with_query(url, query), {})
        elif body_sha256 is not None:
            signed = validator.compute_signature(_with_query(url, {"bodySHA256": body_sha256}), {})
        else:
            signed = validator.compute_signature(url, dict(form or {}))
        headers["X-Twilio-Signature"] = signed
    return TwilioHeaders(headers, body_sha256)


def _with_query(url: str, params: Mapping[str, Any]) -> str:
    """`url` with `params` appended to its query string, in the given order (as requests sends them)."""
    if not params:
        return url
    return url + ("&" if "?" in url else "?") + urlencode(list(params.items()))


def _http_outputs(outcome: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"status_code": outcome.status, "body": outcome.body,
                           "content_type": outcome.content_type}
    if outcome.has_parsed:
        out["parsed"] = outcome.parsed
    return out


class MakeHttpRequest(Widget):
    """make-http-request: success on 2xx (redirects followed), else failed; 10 s, 64 kB."""

    def enter(self, ex: Execution, st: CompiledState) -> Done:
        context = ex.context
        method = st.text("method", context, "GET").strip().upper() or "GET"
        url = st.text("url", context).strip()
        content_type = st.text("content_type", context).strip() or None
        # The loader refuses other values written in the flow; these catch ones Liquid produced.
        if method not in HTTP_METHODS:
            return Done("failed", {}, {"error": f"method {method!r}: the HTTP Request widget sends only "
                                                f"{' or '.join(HTTP_METHODS)}"})
        if content_type is not None and media_type(content_type) not in HTTP_CONTENT_TYPES:
            return Done("failed", {}, {"error": f"content_type {content_type!r}: the HTTP Request widget "
                                                f"sends only {' or '.join(HTTP_CONTENT_TYPES)}"})
        outcome, record = _call(
            ex, st, method, url, content_type=content_type,
            params=_pairs(st.value("parameters", context)), body=st.text("body", context),
            auth=_truthy(st.value("add_twilio_auth", context, False)),
        )
        if outcome is None or outcome.error:
            # network failures, timeouts and oversized answers leave an empty output map (TW-AI)
            return Done("failed", {}, {"error": record.get("error")})
        event = "success" if 200 <= (outcome.status or 0) < 300 else "failed"
        return Done(event, _http_outputs(outcome))


class RunFunction(Widget):
    """run-function: POST the parameters as a form to the Function URL; success on 2xx/3xx, else fail."""

    def enter(self, ex: Execution, st: CompiledState) -> Done:
        context = ex.context
        outcome, record = _call(ex, st, "POST", st.text("url", context).strip(),
                                content_type="application/x-www-form-urlencoded",
                                params=_pairs(st.value("parameters", context)), body="", auth=False,
                                form_only=True)
        # What the Function printed while answering (console.log/error, captured by the kit's twilio-run
        # preload): on the Step, so chat, the failure text and the HTML report show it (issue 10 row 16).
        logs = {"logs": record["logs"]} if record.get("logs") else {}
        if outcome is None or outcome.error:
            return Done("fail", {}, {"error": record.get("error"), **logs})
        out = _http_outputs(outcome)
        concurrency = outcome.headers.get("x-twilio-function-concurrency")
        if concurrency is not None:
            out["headers"] = {"x-twilio-function-concurrency": concurrency}
        return Done("success" if 200 <= (outcome.status or 0) < 400 else "fail", out, logs or None)


# --- Flex ---------------------------------------------------------------------------------------------


class _NotJsonConstant(ValueError):
    def __init__(self, word: str) -> None:
        super().__init__(word)
        self.word = word


def _refuse_constant(word: str) -> Any:
    # Python's json accepts NaN/Infinity/-Infinity; TaskRouter's JSON parser does not.
    raise _NotJsonConstant(word)


def _refuse_huge_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _NotJsonConstant(text)  # 1e400: valid JSON grammar, but no parser holds it as a number
    return value


def _attributes_problem(text: str, limit: int | None) -> str | None:
    """Why rendered task attributes cannot become a task: TaskRouter's `Attributes` is "a valid JSON
    string" (reference/taskrouter.md) and Studio's own must be a JSON object (reference/studio.md §2.6)."""
    if not text.strip():
        return "the attributes rendered to empty text, which is not JSON (write {} for no attributes)"
    if limit is not None and len(text) > limit:
        return f"the rendered attributes are {len(text)} characters; Send to Flex accepts at most {limit}"
    try:
        parsed = json.loads(text, parse_constant=_refuse_constant, parse_float=_refuse_huge_float)
    except _NotJsonConstant as err:
        if err.word in ("NaN", "Infinity", "-Infinity"):
            return (f"the rendered attributes are not valid JSON: {err.word} is not a JSON value (Python "
                    "writes it for a float that is not a number; JSON has no NaN or Infinity)")
        return f"the rendered attributes are not valid JSON: the number {err.word} is out of range"
    except ValueError as err:
        line = getattr(err, "lineno", "?")
        column = getattr(err, "colno", "?")
        position = getattr(err, "pos", 0)
        excerpt = text[max(0, position - 30): position + 30]
        return (f"the rendered attributes are not valid JSON ({getattr(err, 'msg', err)} at line {line}, "
                f"column {column}, near {excerpt!r})")
    if not isinstance(parsed, dict):
        return f"the rendered attributes must be a JSON object, got {type(parsed).__name__}"
    return None


def _create_task(ex: Execution, st: CompiledState, workflow: str, channel: str, attributes: str,
                 priority: str, timeout: str, limit: int | None) -> tuple[Any, str | None]:
    problem = _attributes_problem(attributes, limit)
    if problem is not None:
        return None, problem
    try:
        task = ex.environment.taskrouter.create_task(workflow or None, channel or None, attributes,
                                                     priority or None, timeout or None)
    except EngineError as err:
        return None, err.message
    entry = {"widget": st.name, **task.to_dict(), "parsed_attributes": task.parsed_attributes,
             "routing": task.routing.explanation if task.routing is not None else None}
    ex.record_flex_task(entry)
    return task, None


def _rendered_attributes(ex: Execution, st: CompiledState, key: str) -> str:
    """The property rendered; "{}" only when the widget has no such property [uncertain]. A property that
    renders to nothing is kept empty: `_attributes_problem` refuses it rather than sending `{}`."""
    if not st.has(key):
        return "{}"
    return st.text(key, ex.context).strip()


def _refused_attributes(st: CompiledState, key: str, problem: str | None, attributes: str) -> Done:
    """failedToEnqueue, as Studio takes it when TaskRouter refuses the task. `invalid_attributes` marks
    attributes that are not a JSON object: the flow's own bug, which fails every scenario run
    (harness.expectations) whatever transition the flow follows."""
    info: dict[str, Any] = {"error": f"state '{st.name}' ({st.type}), property '{key}': {problem}",
                            "attributes": attributes}
    if _attributes_problem(attributes, None) is not None:  # not the length: not JSON at all
        info["invalid_attributes"] = key
    return Done("failedToEnqueue", {}, info)


class SendToFlex(Widget):
    """send-to-flex: render the attributes (a JSON object ≤ 1024 characters) and create a TaskRouter task;
    under Flex Conversations (an `incomingConversationMessage` trigger) through a Flex Interaction."""

    def enter(self, ex: Execution, st: CompiledState) -> Done:
        context = ex.context
        attributes = _rendered_attributes(ex, st, "attributes")
        if ex.trigger_kind == "conversation":
            return _send_conversation_to_flex(ex, st, attributes)
        task, problem = _create_task(ex, st, st.text("workflow", context).strip(),
                                     st.text("channel", context).strip(), attributes,
                                     st.text("priority", context).strip(),
                                     st.text("timeout", context).strip(), FLEX_ATTRIBUTES_LIMIT)
        if task is None:
            return _refused_attributes(st, "attributes", problem, attributes)
        return Done("callComplete", task.to_dict())


def conversation_customer(ex: Execution) -> dict[str, str]:
    """What Send to Flex adds to the task under Flex Conversations: "For SMS, WhatsApp, and Chat
    Conversations, SendToFlex widget adds channelType, customerAddress, from, name, and customerName"
    (Twilio's Send to Flex page; reference/taskrouter.md §4.2). The customer's address is the message's
    Author; its name is the webchat's pre-engagement `friendlyName` when there is one, else the address
    [uncertain: Flex's exact rule for the name]. channelType: the trigger's `Source` when it names a
    channel (SMS, WHATSAPP, …), else the address's channel, with a chat identity as "web" (Flex webchat)."""
    payload = ex.payload
    address = str(payload.get("Author") or payload.get("From") or ex.contact)
    attributes = payload.get("ChannelAttributes")
    if isinstance(attributes, str):
        with contextlib.suppress(ValueError):
            attributes = json.loads(attributes)
    engagement = attributes.get("pre_engagement_data") if isinstance(attributes, Mapping) else None
    name = engagement.get("friendlyName") if isinstance(engagement, Mapping) else None
    source = str(payload.get("Source") or "").lower()
    channel = source if source in ("sms", "whatsapp", "messenger", "gbm", "email") else channel_of(address)
    if channel in ("chat", "sdk", "api"):
        channel = "web"
    name = str(name) if name else address
    return {"channelType": channel, "customerAddress": address, "from": address, "name": name,
            "customerName": name}


def _send_conversation_to_flex(ex: Execution, st: CompiledState, attributes: str) -> Done:
    """Send to Flex under Flex Conversations: `POST /v1/Interactions` (reference/studio.md §2.6,
    reference/taskrouter.md §3.1), whose routing properties create the task with the widget's attributes
    and the customer's (`conversation_customer`), plus the ones Flex adds (`FakeInteractions`)."""
    context = ex.context
    problem = _attributes_problem(attributes, FLEX_ATTRIBUTES_LIMIT)
    if problem is not None:
        return _refused_attributes(st, "attributes", problem, attributes)
    env = ex.environment
    customer = conversation_customer(ex)
    widget_attributes = json.loads(attributes)
    win = env.interaction_attributes_win
    merged = {**customer, **widget_attributes} if win == "flow" else {**widget_attributes, **customer}
    conversation_sid = str(ex.payload.get("ConversationSid") or "")
    channel: dict[str, Any] = {"type": customer["channelType"], "initiated_by": "customer"}
    if conversation_sid:
        channel["properties"] = {"media_channel_sid": conversation_sid}
    properties = {"workspace_sid": env.taskrouter.workspace_sid,
                  "workflow_sid": st.text("workflow", context).strip() or None,
                  "task_channel_unique_name": st.text("channel", context).strip() or None,
                  "attributes": merged, "priority": st.text("priority", context).strip() or None,
                  "timeout": st.text("timeout", context).strip() or None}
    try:
        interaction = env.interactions.create(channel=channel, routing={"properties": properties},
                                              attributes_win=win)
    except EngineError as err:
        return _refused_attributes(st, "attributes", err.message, attributes)
    task = interaction.task
    ex.record_interaction({"widget": st.name, **interaction.to_dict(), "task_sid": task.sid})
    ex.record_flex_task({"widget": st.name, **task.to_dict(), "parsed_attributes": task.parsed_attributes,
                         "routing": task.routing.explanation if task.routing is not None else None,
                         "interaction_sid": interaction.sid, "interaction_channel_sid": interaction.channel_sid})
    # [uncertain] Studio's outputs under Conversations are undocumented: the task's fields, as on messaging.
    return Done("callComplete", task.to_dict(), {"interaction_sid": interaction.sid})


# --- voice --------------------------------------------------------------------------------------------


class Gather(Widget):
    """gather-input-on-call: say/play, then wait for `deliver(Digits=…)` / `deliver(SpeechResult=…)`."""

    def enter(self, ex: Execution, st: CompiledState) -> Done | Park:
        context = ex.context
        prompt = st.text("say", context) or st.text("play", context)
        ex.say(st.name, prompt)
        scripted = ex.environment.widget_events.get(st.name) or ex.environment.widget_events.get(st.type)
        if scripted:
            return Done(scripted, {}, {"said": prompt, "scripted": True})
        return Park(ex.deadline(_seconds(ex, st, "timeout", DEFAULT_GATHER_SECONDS)), {"said": prompt})

    def on_message(self, ex: Execution, st: CompiledState, wait: Waiting, inbound: dict[str, Any]) -> Done:
        digits = inbound.get("Digits")
        speech = inbound.get("SpeechResult")
        body = str(inbound.get("Body", "")).strip()
        if digits is None and speech is None and body:
            keys = body.replace("#", "").replace("*", "")
            digits, speech = (body, None) if keys.isdigit() else (None, body)
        if digits:
            return Done("keypress", {"Digits": str(digits)}, {"said": wait.data.get("said")})
        if speech:
            confidence = str(inbound.get("Confidence", "0.9"))
            return Done("speech", {"SpeechResult": str(speech), "Confidence": confidence},
                        {"said": wait.data.get("said")})
        return Done("timeout", {}, {"said": wait.data.get("said")})


class ScriptedVoice(Widget):
    """A voice widget that needs no input here: records what it would say or dial, then takes its
    plausible default event, or the one `StudioEnvironment(widget_events=…)` names for it."""

    def __init__(self, default_event: str) -> None:
        self.default_event = default_event

    def enter(self, ex: Execution, st: CompiledState) -> Done:
        context = ex.context
        info: dict[str, Any] = {}
        prompt = st.text("say", context) or st.text("play", context)
        if prompt:
            ex.say(st.name, prompt)
            info["said"] = prompt
        output = self.outputs(ex, st, context, info)
        event = ex.environment.widget_event(st, self.default_event)
        if isinstance(output, Done):
            return output
        return Done(event, output, info or None)

    def outputs(self, ex: Execution, st: CompiledState, context: Mapping[str, Any],
                info: dict[str, Any]) -> dict[str, Any] | Done:
        return {}


class ConnectCallTo(ScriptedVoice):
    def outputs(self, ex: Execution, st: CompiledState, context: Mapping[str, Any],
                info: dict[str, Any]) -> dict[str, Any] | Done:
        info["dialed"] = {"noun": st.text("noun", context), "to": st.text("to", context),
                          "caller_id": st.text("caller_id", context)}
        return {"DialCallStatus": "completed", "DialCallDuration": "0",
                "DialCallSid": ex.environment.sids.make("CA")}


class MakeOutgoingCall(ScriptedVoice):
    def outputs(self, ex: Execution, st: CompiledState, context: Mapping[str, Any],
                info: dict[str, Any]) -> dict[str, Any] | Done:
        to, from_ = st.text("to", context), st.text("from", context)
        info["dialed"] = {"to": to, "from": from_}
        return {"CallSid": ex.environment.sids.make("CA"), "CallStatus": "in-progress", "To": to,
                "From": from_}


class RecordVoicemail(ScriptedVoice):
    def outputs(self, ex: Execution, st: CompiledState, context: Mapping[str, Any],
                info: dict[str, Any]) -> dict[str, Any] | Done:
        sid = ex.environment.sids.make("RE")
        return {"RecordingSid": sid, "RecordingDuration": "5", "TranscriptionText": "",
                "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{ex.environment.account_sid}"
                                f"/Recordings/{sid}"}


class AddTwimlRedirect(ScriptedVoice):
    def outputs(self, ex: Execution, st: CompiledState, context: Mapping[str, Any],
                info: dict[str, Any]) -> dict[str, Any] | Done:
        info["redirect"] = {"url": st.text("url", context), "method": st.text("method", context, "POST")}
        return {}


class CapturePayments(ScriptedVoice):
    def outputs(self, ex: Execution, st: CompiledState, context: Mapping[str, Any],
                info: dict[str, Any]) -> dict[str, Any] | Done:
        info["payment"] = {"amount": st.text("payment_amount", context),
                           "currency": st.text("currency", context)}
        return {"Result": "success", "PaymentConfirmationCode": ex.environment.sids.make("PK")[:12],
                "PaymentCardType": "visa", "PaymentCardNumber": "xxxxxxxxxxxx1111"}


class EnqueueCall(ScriptedVoice):
    """enqueue-call: a TaskRouter task when `workflow_sid` is set (task_attributes, ≤ 4096 characters)."""

    def outputs(self, ex: Execution, st: CompiledState, context: Mapping[str, Any],
                info: dict[str, Any]) -> dict[str, Any] | Done:
        workflow = st.text("workflow_sid", context).strip()
        if not workflow:
            info["queue"] = st.text("queue_name", context)
            return {"QueueResult": "bridged"}
        attributes = _rendered_attributes(ex, st, "task_attributes")
        task, problem = _create_task(ex, st, workflow, "voice", attributes,
                                     st.text("priority", context).strip(),
                                     st.text("timeout", context).strip(), None)
        if task is None:
            return _refused_attributes(st, "task_attributes", problem, attributes)
        return {"QueueResult": "bridged", "QueueSid": task.task_queue_sid, "TaskSid": task.sid}


class PassThrough(Widget):
    """A widget type we do not run: it takes its first listed event, with a warning in the Step."""

    def enter(self, ex: Execution, st: CompiledState) -> Done:
        transitions = st.state.transitions
        event = transitions[0].event if transitions else "next"
        warning = (f"widget type '{st.type}' is not run by this kit; '{st.name}' passed through on its "
                   f"first event '{event}'")
        ex.warnings.append(warning)
        return Done(event, {}, {"warning": warning})


_HANDLERS: dict[str, Widget] = {
    "trigger": Trigger(),
    "split-based-on": Split(),
    "set-variables": SetVariables(),
    "run-subflow": RunSubflow(),
    "send-message": SendMessage(),
    "send-and-wait-for-reply": SendAndWait(),
    "send-to-auto-pilot": SendToAutopilot(),
    "make-http-request": MakeHttpRequest(),
    "run-function": RunFunction(),
    "send-to-flex": SendToFlex(),
    "gather-input-on-call": Gather(),
    "say-play": ScriptedVoice("audioComplete"),
    "connect-call-to": ConnectCallTo("callCompleted"),
    "enqueue-call": EnqueueCall("callComplete"),
    "record-voicemail": RecordVoicemail("recordingComplete"),
    "record-call": ScriptedVoice("success"),
    "make-outgoing-call-v2": MakeOutgoingCall("answered"),
    "add-twiml-redirect": AddTwimlRedirect("return"),
    "connect-virtual-agent": ScriptedVoice("return"),
    "connect-virtual-agent-v2": ScriptedVoice("completed"),
    "capture-payments": CapturePayments("success"),
    "fork-stream": ScriptedVoice("next"),
}
_PASS_THROUGH = PassThrough()


def handler_for(widget_type: str) -> Widget:
    """The handler of a widget type; unknown types pass through on their first event."""
    return _HANDLERS.get(widget_type, _PASS_THROUGH)
