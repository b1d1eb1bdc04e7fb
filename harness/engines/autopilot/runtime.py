"""The offline Autopilot service: train an assistant once, then start dialogues with it.

    runtime = AutopilotRuntime(url_map={"https://*.twil.io": "http://127.0.0.1:3000"})
    bot = runtime.train(load_assistant("examples/hospitality/assistant.json"))
    dialogue = bot.start(channel="sms", user="+15555550100")
    dialogue.send("I need towels").texts   # ["How many would you like?"]

"Training" builds the router (docs/routing.md: `router="model"`, the default, or `"lexical"`); it is cheap and
done once per assistant.
`TrainedAssistant` satisfies the Studio engine's BotPort protocol, so a flow's Autopilot widget drives it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from typing import Any

import requests

from harness.clock import Clock, FixedClock
from harness.engines.autopilot.dialogue import Dialogue
from harness.engines.autopilot.field_resolver import FieldResolver
from harness.engines.autopilot.options import EngineOptions
from harness.engines.autopilot.router import Routing
from harness.engines.autopilot.routers import DEFAULT_ROUTER, router_class
from harness.engines.autopilot.webhooks import WebhookClient
from harness.engines.twilio.taskrouter import FakeTaskRouter
from harness.engines.twilio.urlmap import UrlMap
from harness.models.assistant import Assistant, task_target
from harness.sids import SidFactory

DEFAULT_ACCOUNT_SID = "AC" + "0" * 31 + "1"
DEFAULT_AUTH_TOKEN = "harness-test-auth-token"
DEFAULT_THRESHOLD = 0.4


class AutopilotRuntime:
    """What lives for a whole run: the clock, the URL map, the webhook client and SID factory."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        url_map: Mapping[str, str] | UrlMap | None = None,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        threshold: float = DEFAULT_THRESHOLD,
        http: requests.Session | None = None,
        sids: SidFactory | None = None,
        sign_requests: bool = True,
        sign_local_url: bool = False,
        timeout: float | None = None,  # None: $AUTOPILOT_HARNESS_WEBHOOK_DEADLINE, else WEBHOOK_DEADLINE_SECONDS
        router: str = DEFAULT_ROUTER,
        min_score: float | None = None,
        options: EngineOptions | None = None,
        taskrouter: FakeTaskRouter | None = None,
    ) -> None:
        self.clock: Clock = clock or FixedClock()
        # The open choices (options.py): given, else from AUTOPILOT_HARNESS_* in the environment.
        self.options = options if options is not None else EngineOptions.resolve()
        self.url_map = url_map if isinstance(url_map, UrlMap) else UrlMap(url_map)
        self.account_sid = account_sid
        self.threshold = threshold
        self.router = router
        self.router_class = router_class(router)  # an unknown name fails here, before any training
        self.min_score = min_score  # None: the router's own default
        self.sids = sids or SidFactory()
        self.webhooks = WebhookClient(
            url_map=self.url_map, auth_token=auth_token, timeout=timeout, sign=sign_requests,
            sign_local_url=sign_local_url, http=http,
        )
        # Where a voice `handoff` to taskrouter://WW… creates its task (a session shares one with Studio).
        self.taskrouter = taskrouter or FakeTaskRouter(sids=self.sids, clock=self.clock, account_sid=account_sid)

    def train(self, assistant: Assistant, *, threshold: float | None = None) -> TrainedAssistant:
        return TrainedAssistant(self, assistant, threshold=self.threshold if threshold is None else threshold)


class TrainedAssistant:
    """An assistant ready to talk (the BotPort the Studio engine drives)."""

    def __init__(self, runtime: AutopilotRuntime, assistant: Assistant, *, threshold: float) -> None:
        self.runtime = runtime
        self.assistant = assistant
        self.clock = runtime.clock
        self.webhooks = runtime.webhooks
        self.account_sid = runtime.account_sid
        self.options = runtime.options
        self.sid = assistant.sid or _stable_sid("UA", assistant.unique_name)
        self.resolver = FieldResolver(assistant, runtime.clock)
        fallback = task_target(assistant.defaults.fallback or "") or None
        scoring = {} if runtime.min_score is None else {"min_score": runtime.min_score}
        self.router = runtime.router_class(assistant, resolver=self.resolver, threshold=threshold,
                                           fallback_task=fallback,
                                           strict_custom_fields=self.options.strict_custom_fields, **scoring)

    def start(self, *, channel: str = "sms", user: str = "+15555550100", memory: Mapping[str, Any] | None = None,
              target_task: str | None = None, assistant_sid: str | None = None,
              channel_info: Mapping[str, Any] | None = None) -> Dialogue:
        """Open a dialogue. A Studio widget passes `assistant_sid` (the SID it names, so the widget's outputs
        and the webhooks agree on one SID) and `channel_info` (the channel block's `To`, `ChannelSid`, …)."""
        return Dialogue(self, sid=self.runtime.sids.make("UK"), channel=channel, user=user, memory=memory,
                        target_task=target_task or None, assistant_sid=assistant_sid,
                        channel_info=channel_info)

    def route(self, text: str, *, candidates: Collection[str] | None = None) -> Routing:
        return self.router.route(text, candidates=candidates)

    def explain(self, text: str, *, candidates: Collection[str] | None = None) -> Routing:
        """Every task ranked with its score and the sample that decided."""
        return self.router.explain(text, candidates=candidates)


def _stable_sid(prefix: str, name: str) -> str:
    return prefix + hashlib.sha1(name.encode()).hexdigest()[:32]
