"""Small builders for the Studio fidelity tests of issue 10: a flow from widgets, an environment, and a
real (trained) Autopilot assistant whose tasks are inline Actions."""

from __future__ import annotations

from typing import Any

from harness.clock import FixedClock
from harness.engines.autopilot.runtime import AutopilotRuntime
from harness.engines.studio.engine import StudioEnvironment
from harness.models.assistant_loader import assistant_from_dict
from harness.models.flow import Flow, flow_from_dict

ACCOUNT = "AC" + "a" * 32
TOKEN = "secret-token"
GUEST = "+14155550123"
HOTEL = "+15005550006"
BOT_SID = "UA" + "1" * 32
START = "2024-05-01T09:00:00Z"


def widget(name: str, type_: str, transitions: list[dict[str, Any]], **properties: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "transitions": transitions, "properties": properties}


def make_flow(*states: dict[str, Any], trigger: str = "incomingMessage", path: str = "flow.json") -> Flow:
    first = widget("Trigger", "trigger", [{"event": trigger, "next": states[0]["name"]}])
    return flow_from_dict({"description": "t", "states": [first, *states], "initial_state": "Trigger",
                           "flags": {"allow_concurrent_calls": True}}, path=path)


def bot_widget(name: str = "Bot", *, next_: dict[str, str] | None = None, **properties: Any) -> dict[str, Any]:
    """A send-to-auto-pilot widget; `next_` maps its events to following widgets."""
    next_ = next_ or {}
    props: dict[str, Any] = {"autopilot_assistant_sid": BOT_SID, "body": "{{trigger.message.Body}}",
                             "timeout": 14400, "from": "{{flow.channel.address}}"}
    props.update(properties)
    transitions = [{"event": e, **({"next": next_[e]} if e in next_ else {})}
                   for e in ("sessionEnded", "failure", "timeout")]
    return widget(name, "send-to-auto-pilot", transitions, **props)


def hotel_bot(clock: FixedClock, tasks: list[dict[str, Any]]) -> Any:
    """A trained assistant; `tasks` are (uniqueName, actions, samples) dicts; the first is the fallback."""
    data = {"uniqueName": "hotel", "friendlyName": "hotel",
            "defaults": {"defaults": {"fallback": f"task://{tasks[0]['uniqueName']}"}},
            "tasks": [{"uniqueName": t["uniqueName"], "actions": {"actions": t["actions"]}, "fields": [],
                       "samples": [{"language": "en-US", "taggedText": s} for s in t.get("samples", ["hello"])]}
                      for t in tasks]}
    return AutopilotRuntime(clock=clock).train(assistant_from_dict(data))


def make_env(bots: Any, clock: FixedClock | None = None, **kwargs: Any) -> StudioEnvironment:
    return StudioEnvironment(bots=bots, clock=clock or FixedClock(START), auth_token=TOKEN,
                             account_sid=ACCOUNT, **kwargs)
