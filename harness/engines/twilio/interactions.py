"""Flex Interactions: how a conversation reaches an agent under Flex Conversations (Flex UI 2.x).

    interactions = FakeInteractions(taskrouter, sids)
    interaction = interactions.create(
        channel={"type": "sms", "initiated_by": "customer", "properties": {"media_channel_sid": "CH…"}},
        routing={"properties": {"workflow_sid": "WW…", "task_channel_unique_name": "chat",
                                "attributes": {"customerAddress": "+1555…"}}})
    interaction.sid, interaction.channel_sid, interaction.task.sid, interaction.to_dict()

`POST /v1/Interactions` (real/openapi/twilio_flex_v1.json, schema `flex.v1.interaction`): "The Interactions
resource uses TaskRouter for all routing functionality. All attributes in the Routing object on your
Interaction request body are added 'as is' to the task" — so the Interaction creates the TaskRouter task
through the fake TaskRouter, with the attributes Flex adds itself (reference/taskrouter.md §4.2, §4.5):
`channelType`, `flexInteractionSid`, `flexInteractionChannelSid`, `conversationSid` (the media channel),
`initiatedBy`, `direction`, and whatever the caller adds (Studio's Send to Flex adds `customerAddress`,
`from`, `name`, `customerName`). Which side wins when the routing attributes set the same key is not
documented [uncertain]: `attributes_win="flow"` (the caller's attributes, the default) or `"flex"`.

Interaction channel types: sms, email, chat, whatsapp, web, messenger, gbm (the Channels subresource page).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.engines.twilio.taskrouter import FakeTaskRouter, Task
from harness.errors import EngineError
from harness.sids import SidFactory

#: Interaction channel types (https://www.twilio.com/docs/flex/developer/conversations/interactions-api/channels-subresource).
CHANNEL_TYPES = ("sms", "email", "chat", "whatsapp", "web", "messenger", "gbm")
ATTRIBUTE_SIDES = ("flow", "flex")
BASE_URL = "https://flex-api.twilio.com/v1/Interactions"


@dataclass(frozen=True)
class Interaction:
    """One Interaction (KD…) with its channel (UO…) and the task it created."""

    sid: str
    channel_sid: str
    channel_type: str
    task: Task
    interaction_context_sid: str | None = None
    webhook_ttid: str | None = None

    @property
    def url(self) -> str:
        return f"{BASE_URL}/{self.sid}"

    def to_dict(self) -> dict[str, Any]:
        """The `flex.v1.interaction` resource; `routing.properties` are the created task's fields."""
        task = self.task
        created = int(task.date_created.timestamp())
        properties = {
            "date_updated": created, "task_queue_entered_date": created,
            "workflow_name": task.workflow_friendly_name, "age_in_queue": 0,
            "task_channel_unique_name": task.task_channel_unique_name,
            "assignment_status": task.assignment_status, "queue_name": task.task_queue_friendly_name,
            "assignmentCounter": 0, "priority": task.priority, "sid": task.sid,
            "workflow_sid": task.workflow_sid, "routing_target": None, "reason": "",
            "attributes": task.attributes, "task_channel_sid": task.task_channel_sid, "age": 0,
            "workspace_sid": task.workspace_sid, "account_sid": task.account_sid, "timeout": task.timeout,
            "date_created": created, "addons": task.addons, "queue_sid": task.task_queue_sid,
        }
        return {
            "sid": self.sid,
            "channel": {"type": self.channel_type, "sid": self.channel_sid},
            "routing": {"reservation": None, "properties": properties},
            "interaction_context_sid": self.interaction_context_sid,
            "webhook_ttid": self.webhook_ttid,
            "url": self.url,
            "links": {"channels": f"{self.url}/Channels"},
        }


class FakeInteractions:
    """Creates Interactions; each creates its task in `taskrouter`. `interactions` keeps them in order."""

    def __init__(self, taskrouter: FakeTaskRouter, sids: SidFactory) -> None:
        self.taskrouter = taskrouter
        self.sids = sids
        self.interactions: list[Interaction] = []

    def create(self, *, channel: Mapping[str, Any], routing: Mapping[str, Any],
               attributes_win: str = "flow", interaction_context_sid: str | None = None,
               webhook_ttid: str | None = None) -> Interaction:
        """`POST /v1/Interactions` with `Channel` and `Routing` (parsed); EngineError where Flex says 400."""
        if attributes_win not in ATTRIBUTE_SIDES:
            raise EngineError(f"attributes_win must be 'flow' or 'flex', got {attributes_win!r}")
        channel_type = str(channel.get("type") or "")
        if channel_type not in CHANNEL_TYPES:
            raise EngineError(f"Interaction channel type {channel_type!r} is not one of {', '.join(CHANNEL_TYPES)}")
        properties = routing.get("properties")
        if not isinstance(properties, Mapping) or not properties:
            raise EngineError("Routing.properties must be a JSON object naming the workflow and task channel")
        attributes = properties.get("attributes") or {}
        if isinstance(attributes, str):
            try:
                attributes = json.loads(attributes)
            except ValueError:
                raise EngineError("Routing.properties.attributes must be JSON") from None
        if not isinstance(attributes, Mapping):
            raise EngineError("Routing.properties.attributes must be a JSON object")
        sid, channel_sid = self.sids.make("KD"), self.sids.make("UO")
        initiated_by = str(channel.get("initiated_by") or "customer")
        added: dict[str, Any] = {"channelType": channel_type, "flexInteractionSid": sid,
                                 "flexInteractionChannelSid": channel_sid, "initiatedBy": initiated_by,
                                 "direction": "outbound" if initiated_by == "agent" else "inbound"}
        media_sid = (channel.get("properties") or {}).get("media_channel_sid")
        if media_sid:
            added["conversationSid"] = media_sid
            added["conversations"] = {"media": [{"conversation_sid": media_sid}]}
        merged = {**added, **attributes} if attributes_win == "flow" else {**attributes, **added}
        task = self.taskrouter.create_task(
            properties.get("workflow_sid"), properties.get("task_channel_unique_name") or "default",
            json.dumps(merged), properties.get("priority"), properties.get("timeout"))
        interaction = Interaction(sid, channel_sid, channel_type, task, interaction_context_sid, webhook_ttid)
        self.interactions.append(interaction)
        return interaction
