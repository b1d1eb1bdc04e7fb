"""The routers an assistant can be trained with, by name (`[tool.autopilot-harness] router = "…"`).

- `model` (the default, `model_router.ModelRouter`): a model trained on the samples (word and character
  n-grams), with a calibrated confidence and out-of-scope fallback.
- `lexical` (`router.Router`): word TF-IDF against the best sample per task, confidence = the margin
  (p1 − p2) / p1 — the router of earlier versions, for suites whose expectations depend on it.

Names only here (no engine import), so settings can check a name without loading the engines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.engines.autopilot.router import Router

ROUTER_NAMES = ("model", "lexical")
DEFAULT_ROUTER = "model"


def router_class(name: str) -> type[Router]:
    """The class of the router called `name` (one of ROUTER_NAMES)."""
    if name == "model":
        from harness.engines.autopilot.model_router import ModelRouter

        return ModelRouter
    if name == "lexical":
        from harness.engines.autopilot.router import Router

        return Router
    from harness.errors import UsageError

    raise UsageError(f"unknown router {name!r}: expected one of {', '.join(ROUTER_NAMES)}")
