"""Benchmark: complete Flex hand-off conversations (flow + bot, in-process) per second, on one core.

One conversation = the hospitality flow `examples/hospitality/flows/flex_messaging.json` driving a bot:
5 inbound messages, the 5th asks for an agent; then the split on `memory.sendToAgent`, Send to Flex with
the memory rendered through `to_json`, and the task routed by `examples/hospitality/workflow.json`. The
flow is loaded and the bot trained once (templates parsed once, router index built once).

`--bot real` (the default): the real Autopilot engine on `examples/hospitality/assistant.json` — routing,
collects, memory. Its send_to_agent task calls a Function (an Action URL); to stay in-process with no
HTTP, the benchmark runs a copy whose send_to_agent has the Function's answer as static actions
(remember {sendToAgent: true} + say, no listen), built here at run time.
`--bot fake`: a scripted bot of negligible cost, to see the Studio engine's own share.

    python bench/bench_studio.py [--conversations 5000] [--bot real|fake]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.clock import FixedClock  # noqa: E402
from harness.engines.autopilot.runtime import AutopilotRuntime  # noqa: E402
from harness.engines.studio.botport import Reply, ScriptedTurn  # noqa: E402
from harness.engines.studio.engine import StudioEnvironment  # noqa: E402
from harness.engines.twilio.taskrouter import FakeTaskRouter, load_workflow  # noqa: E402
from harness.models.assistant_loader import assistant_from_dict  # noqa: E402
from harness.models.flow import load_flow  # noqa: E402

HOSPITALITY = ROOT / "examples" / "hospitality"
MESSAGES = ("hello", "what time is breakfast?", "can I get towels", "is the pool open", "talk to an agent")
# For the real bot: greeting, get_quantity's collect (question, answer), greeting again, send_to_agent.
REAL_MESSAGES = ("hello", "I need towels", "3 large towels", "hi", "Can I talk to an agent?")
# What examples/hospitality/functions/send-to-agent.js answers, as static actions (no webhook).
SEND_TO_AGENT_ACTIONS = [
    {"remember": {"sendToAgent": True}},
    {"say": "One moment please: I am connecting you with our concierge team."},
]


def real_bot(clock: FixedClock) -> Any:
    """The example assistant, trained, with send_to_agent answering in-process."""
    data = json.loads((HOSPITALITY / "assistant.json").read_text())
    for task in data["tasks"]:
        if task["uniqueName"] == "send_to_agent":
            for key in ("actionsUrl", "actionsUrlMethod", "actions_url", "actions_url_method"):
                task.pop(key, None)
            task["actions"] = {"actions": SEND_TO_AGENT_ACTIONS}
    assistant = assistant_from_dict(data, path=str(HOSPITALITY / "assistant.json"))
    return AutopilotRuntime(clock=clock).train(assistant)


class Dialogue:
    def __init__(self, sid: str, user: str) -> None:
        self.sid = sid
        self.ended = False
        self.memory: dict[str, Any] = {"twilio": {"chat": {"From": user}}}
        self.final_memory: dict[str, Any] = {}

    def send(self, text: str) -> ScriptedTurn:
        if "agent" in text:
            self.memory["sendToAgent"] = True
            self.ended = True
            self.final_memory = self.memory
            return ScriptedTurn("send_to_agent", {}, (Reply("say", "Connecting you."),), True, self.memory, text)
        return ScriptedTurn("faq", {}, (Reply("say", "Happy to help."),), False, self.memory, text)


class Bot:
    def __init__(self) -> None:
        self.count = 0

    def start(
        self, *, channel: str, user: str, memory: Any = None, target_task: str | None = None
    ) -> Dialogue:
        self.count += 1
        return Dialogue(f"UK{self.count:032x}", user)


def run(conversations: int, bot: str = "real") -> dict[str, Any]:
    clock = FixedClock()
    queues = json.loads((HOSPITALITY / "queues.json").read_text())
    router = FakeTaskRouter(
        {"WW00000000000000000000000000000001": load_workflow(HOSPITALITY / "workflow.json")},
        queues,
        clock=clock,
    )
    env = StudioEnvironment(
        bots={"*": real_bot(clock) if bot == "real" else Bot()},
        clock=clock, taskrouter=router, auth_token="t", account_sid="AC" + "a" * 32,
    )
    loaded = env.load(load_flow(HOSPITALITY / "flows" / "flex_messaging.json"))
    contact = "+14155550123"
    payload = {
        "To": "+14155550000",
        "ChannelSid": "CH" + "b" * 32,
        "InstanceSid": "IS" + "c" * 32,
        "ChannelAttributes": json.dumps({"from": contact, "channel_type": "sms"}),
    }
    messages = REAL_MESSAGES if bot == "real" else MESSAGES
    start = time.perf_counter()
    for _ in range(conversations):
        execution = loaded.inbound(contact, messages[0], **payload)
        for text in messages[1:]:
            loaded.inbound(contact, text)
        if execution.status != "ended" or len(execution.flex_tasks) != 1:
            raise SystemExit(f"conversation did not hand off: {execution!r} at {execution.path}")
        router.tasks.clear()  # keep memory flat over a long run
        router.events.clear()
        env.outbox.clear()
    elapsed = time.perf_counter() - start
    return {
        "bot": bot,
        "conversations": conversations,
        "seconds": round(elapsed, 3),
        "per_second": round(conversations / elapsed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=5000)
    parser.add_argument("--bot", choices=["real", "fake"], default="real",
                        help="real: the Autopilot engine on the example assistant (default); fake: scripted")
    args = parser.parse_args()
    run(200, args.bot)  # warm up (imports, caches)
    result = run(args.conversations, args.bot)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
