"""Our table of Studio widget types: the events each emits, its required properties, its property keys.

Written by hand for autopilot-harness from the RJPearson94/twilio-sdk-go widget definitions (2022), Twilio's
widget docs and authoring guide, and the 17 real v2 flows we test against (docs/studio-flows.md has the
sources and the full table). Nothing is read from other files at run time.

"Required" means Twilio rejects a flow without it (per the widget definitions); every required property
is present in all real flows. Property kinds are deliberately coarse, to catch structural mistakes (an
object where Studio wants a string) without rejecting what real exports contain:

- `string`: a JSON string (Liquid templates and `${PLACEHOLDER}`s are strings too);
- `scalar`: a string, number or boolean. Used for integer and boolean properties, because real exports
  write `timeout` both as `3600` and `"3600"` and Liquid may fill any of them;
- `object`, `pairs` (a list of `{key, value}` objects), `strings` (a list of strings), `any`.

Choices where the sources are thin [uncertain]:
- `send-to-flex` also accepts `composerStarted` (listed by Twilio's authoring guide, absent from real flows);
- `connect-virtual-agent-v2` takes its events from the authoring guide; its properties are not checked;
- `send-message` / `send-and-wait-for-reply` know the content-template keys (`message_type`, `content_sid`,
  `content_variables`); with `message_type: content_template`, `body` is not required (see `required_for`);
- types in Twilio's published enum that we have no table for (`understand`, `create-task`, …) are known
  by name only: their events and properties are not checked (`UNCHECKED_TYPES`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

PropertyKind = Literal["string", "scalar", "object", "pairs", "strings", "any"]

# The 17 condition types of a split-based-on `match` transition (same list in Twilio's authoring guide and
# the RJPearson94 Terraform provider).
SPLIT_CONDITION_TYPES: tuple[str, ...] = (
    "equal_to", "not_equal_to", "matches_any_of", "does_not_match_any_of", "is_blank", "is_not_blank",
    "regex", "contains", "does_not_contain", "starts_with", "does_not_start_with", "less_than",
    "greater_than", "is_before_time", "is_after_time", "is_before_date", "is_after_date",
)
MATCH_EVENT = "match"
NO_MATCH_EVENT = "noMatch"
CONTENT_TEMPLATE = "content_template"


#: make-http-request's `method` and `content_type` values (reference/studio.md §2.7; every real flow uses them).
HTTP_METHODS: tuple[str, ...] = ("GET", "POST")
HTTP_CONTENT_TYPES: tuple[str, ...] = ("application/x-www-form-urlencoded", "application/json")


@dataclass(frozen=True)
class Choices:
    """The values a property may take. `media_type`: compare the media type only, ignoring case and
    parameters (`application/json;charset=utf-8` is `application/json`); else the exact text."""

    values: tuple[str, ...]
    media_type: bool = False

    def allows(self, value: str) -> bool:
        if self.media_type:
            return value.split(";", 1)[0].strip().lower() in self.values
        return value.strip() in self.values


@dataclass(frozen=True)
class WidgetSpec:
    """What we know of one widget type."""

    type: str
    events: frozenset[str] | None  # None: not known to us, so not checked
    required: tuple[str, ...] = ()
    properties: Mapping[str, PropertyKind] | None = None  # known keys → kind; None: not checked
    repeatable_events: frozenset[str] = frozenset()  # events that may appear on several transitions
    waits: bool = False  # suspends the execution until a reply, a callback or a timeout
    note: str = ""
    # property → allowed values, checked when the value is plain text (Liquid is checked at run time)
    choices: Mapping[str, Choices] = field(default_factory=lambda: MappingProxyType({}))

    def required_for(self, properties: Mapping[str, Any]) -> tuple[str, ...]:
        """The required property keys for these property values (a content template needs no `body`)."""
        if properties.get("message_type") == CONTENT_TEMPLATE and "body" in self.required:
            return (*(k for k in self.required if k != "body"), "content_sid")
        return self.required


def _spec(
    type_: str,
    events: tuple[str, ...],
    required: tuple[str, ...],
    properties: dict[str, PropertyKind],
    **extra: Any,
) -> WidgetSpec:
    known: dict[str, PropertyKind] = {"offset": "object", **properties}
    for key in required:
        known.setdefault(key, "string")
    return WidgetSpec(type_, frozenset(events), required, MappingProxyType(known), **extra)


_MESSAGE_PROPERTIES: dict[str, PropertyKind] = {
    "from": "string", "body": "string", "service": "string", "channel": "string", "attributes": "string",
    "media_url": "string", "message_type": "string", "content_sid": "string", "content_variables": "any",
}

_SPECS: tuple[WidgetSpec, ...] = (
    _spec("trigger",
          ("incomingMessage", "incomingCall", "incomingConversationMessage", "incomingRequest",
           "incomingParent"),
          (), {}, note="the start; emits one event chosen by how the execution started"),
    _spec("send-to-auto-pilot", ("sessionEnded", "failure", "timeout"),
          ("autopilot_assistant_sid", "from", "body", "timeout"),
          {"timeout": "scalar", "chat_channel": "string", "chat_service": "string",
           "chat_attributes": "string", "target_task": "string", "memory_parameters": "pairs"},
          waits=True, note="retired with Autopilot (2023); run offline by this kit"),
    _spec("split-based-on", (NO_MATCH_EVENT, MATCH_EVENT), ("input",), {"input": "string"},
          repeatable_events=frozenset({MATCH_EVENT}), note="conditions live on the `match` transitions"),
    _spec("send-message", ("sent", "failed"), ("from", "to", "body"),
          {**_MESSAGE_PROPERTIES, "to": "string"}),
    _spec("send-and-wait-for-reply", ("incomingMessage", "timeout", "deliveryFailure"),
          ("from", "body", "timeout"), {**_MESSAGE_PROPERTIES, "timeout": "scalar"}, waits=True),
    _spec("set-variables", ("next",), (), {"variables": "pairs"}),
    _spec("run-subflow", ("completed", "failed"), ("flow_sid", "flow_revision"), {"parameters": "pairs"},
          waits=True),
    _spec("make-http-request", ("success", "failed"), ("method", "content_type", "url"),
          {"body": "string", "parameters": "pairs", "add_twilio_auth": "scalar"},
          choices=MappingProxyType({"method": Choices(HTTP_METHODS),
                                    "content_type": Choices(HTTP_CONTENT_TYPES, media_type=True)})),
    _spec("run-function", ("success", "fail"), ("url",),
          {"service_sid": "string", "environment_sid": "string", "function_sid": "string",
           "parameters": "pairs"}),
    _spec("send-to-flex", ("callComplete", "failedToEnqueue", "callFailure", "composerStarted"),
          ("workflow", "channel"),
          {"attributes": "string", "priority": "scalar", "timeout": "scalar", "waitUrl": "string",
           "waitUrlMethod": "string"},
          note="`attributes` is a JSON string rendered with Liquid"),
    _spec("say-play", ("audioComplete",), (),
          {"say": "string", "play": "string", "voice": "string", "language": "string", "loop": "scalar",
           "digits": "scalar"}, waits=True),
    _spec("gather-input-on-call", ("keypress", "speech", "timeout"), (),
          {"say": "string", "play": "string", "voice": "string", "language": "string", "hints": "string",
           "finish_on_key": "scalar", "stop_gather": "scalar", "speech_model": "string",
           "profanity_filter": "scalar", "timeout": "scalar", "number_of_digits": "scalar",
           "speech_timeout": "scalar", "loop": "scalar", "gather_language": "string"}, waits=True),
    _spec("connect-call-to", ("callCompleted", "hangup"), ("noun", "caller_id"),
          {"to": "string", "sip_endpoint": "string", "sip_username": "string", "sip_password": "string",
           "record": "scalar", "timeout": "scalar"}, waits=True),
    _spec("enqueue-call", ("callComplete", "failedToEnqueue", "callFailure"), (),
          {"wait_url": "string", "wait_url_method": "string", "workflow_sid": "string", "priority": "scalar",
           "timeout": "scalar", "task_attributes": "string", "queue_name": "string"}, waits=True),
    _spec("record-voicemail", ("recordingComplete", "noAudio", "hangup"), (),
          {"transcribe": "scalar", "trim": "scalar", "transcription_callback_url": "string",
           "recording_status_callback_url": "string", "play_beep": "scalar", "finish_on_key": "scalar",
           "timeout": "scalar", "max_length": "scalar"}, waits=True),
    _spec("record-call", ("success", "failed"), ("record_call",),
          {"record_call": "scalar", "trim": "scalar", "recording_status_callback": "string",
           "recording_status_callback_method": "string", "recording_status_callback_events": "string",
           "recording_channels": "string"}),
    _spec("make-outgoing-call-v2", ("answered", "busy", "noAnswer", "failed"), ("from", "to"),
          {"machine_detection_speech_threshold": "scalar", "detect_answering_machine": "scalar",
           "send_digits": "scalar", "sip_auth_username": "string", "sip_auth_password": "string",
           "recording_status_callback": "string", "recording_channels": "string", "timeout": "scalar",
           "machine_detection": "string", "trim": "scalar", "record": "scalar",
           "machine_detection_speech_end_threshold": "scalar", "machine_detection_timeout": "scalar",
           "machine_detection_silence_timeout": "scalar"}, waits=True),
    _spec("add-twiml-redirect", ("return", "timeout", "fail"), ("url",),
          {"method": "string", "timeout": "scalar"}, waits=True),
    _spec("connect-virtual-agent", ("return", "hangup"), ("connector",),
          {"language": "string", "status_callback": "string", "sentiment_analysis": "scalar"}, waits=True),
    _spec("capture-payments",
          ("success", "maxFailedAttempts", "providerError", "payInterrupted", "hangup", "validationError"),
          (),
          {"payment_token_type": "string", "min_postal_code_length": "scalar", "payment_connector": "string",
           "payment_amount": "scalar", "description": "string", "language": "string", "timeout": "scalar",
           "security_code": "scalar", "max_attempts": "scalar", "currency": "string", "postal_code": "scalar",
           "payment_method": "string", "valid_card_types": "strings", "parameters": "pairs"}, waits=True),
    _spec("fork-stream", ("next",), ("stream_action",),
          {"stream_name": "string", "stream_transport_type": "string", "stream_track": "string",
           "stream_url": "string", "stream_connector": "string", "stream_parameters": "pairs"}),
    WidgetSpec("connect-virtual-agent-v2",
               frozenset({"completed", "live-agent-handoff", "hangup", "failed", "paused", "timeout"}),
               waits=True, note="events from Twilio's authoring guide; properties not checked"),
)

# Types in Twilio's published `type` enum (or its authoring guide) that we know by name only.
UNCHECKED_TYPES: frozenset[str] = frozenset({
    "add-member-to-chat-channel", "create-chat-channel", "create-task", "make-outgoing-call-v1",
    "run-function-v2", "understand", "update-sync-object", "start-conversation", "resume-conversation",
    "run-conversation-relay",
})

WIDGET_SPECS: Mapping[str, WidgetSpec] = MappingProxyType(
    {spec.type: spec for spec in _SPECS}
    | {name: WidgetSpec(name, None, note="a Twilio type this kit has no table for")
       for name in sorted(UNCHECKED_TYPES)}
)

# Widget types of the pre-2019 export format (`InitialState`, `Gather`, …): CamelCase names.
LEGACY_TYPES: frozenset[str] = frozenset({
    "InitialState", "Gather", "Branch", "Message", "EnqueueCall", "SayPlay", "SendMessage", "HttpRequest",
    "RunFunction", "SetVariables", "Dial", "Record", "Redirect", "SendAndWaitForReply",
})


def widget_spec(widget_type: str) -> WidgetSpec | None:
    """Our spec for a widget type, or None for a type we do not know at all."""
    return WIDGET_SPECS.get(widget_type)


def is_checked(spec: WidgetSpec | None) -> bool:
    """Whether events and properties of this type are checked (we have a table for it)."""
    return spec is not None and spec.events is not None


__all__ = [
    "CONTENT_TEMPLATE", "HTTP_CONTENT_TYPES", "HTTP_METHODS", "LEGACY_TYPES", "MATCH_EVENT", "NO_MATCH_EVENT",
    "SPLIT_CONDITION_TYPES",
    "UNCHECKED_TYPES", "WIDGET_SPECS", "Choices", "PropertyKind", "WidgetSpec", "is_checked", "widget_spec",
]
