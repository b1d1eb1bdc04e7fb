"""Choices Twilio's docs leave open, as settings: the engine is lenient by default (what Twilio most
plausibly did) and strict on request.

    [tool.autopilot-harness]
    strict_custom_fields = true      # custom field types fill only listed values and synonyms
    strict_task_redirects = true     # an Actions answer naming an unknown task:// is rejected whole

or the environment (it wins over pyproject.toml): `AUTOPILOT_HARNESS_STRICT_CUSTOM_FIELDS=1`,
`AUTOPILOT_HARNESS_STRICT_TASK_REDIRECTS=1` (1/true/yes/on or 0/false/no/off), or in Python
`AutopilotRuntime(options=EngineOptions(strict_custom_fields=True))`. docs/autopilot-engine.md explains each.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from harness.errors import UsageError

ENV_PREFIX = "AUTOPILOT_HARNESS_"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class EngineOptions:
    # Custom field types: a value that is not listed still fills a field where a tagged sample puts it
    # (FieldValue doc); strict = only listed values and synonyms (the kit's behaviour before issue 10).
    strict_custom_fields: bool = False
    # A webhook's Actions naming a task that does not exist: by default the redirect fails when it fires
    # (the rest of the answer runs up to it); strict = the whole answer is refused as invalid (90100).
    strict_task_redirects: bool = False

    @classmethod
    def resolve(cls, table: Mapping[str, Any] | None = None, *, where: str = "pyproject.toml",
                environ: Mapping[str, str] | None = None) -> EngineOptions:
        """From `[tool.autopilot-harness]` (`table`), then the environment over it. Bad values: UsageError."""
        environ = os.environ if environ is None else environ
        values: dict[str, bool] = {}
        for option in fields(cls):
            name = option.name
            if table is not None and name in table:
                value = table[name]
                if not isinstance(value, bool):
                    raise UsageError(f"[tool.autopilot-harness] {name} in {where}: expected true or false, "
                                     f"found {value!r}")
                values[name] = value
            variable = ENV_PREFIX + name.upper()
            if variable in environ:
                text = environ[variable].strip().lower()
                if text not in _TRUE | _FALSE:
                    raise UsageError(f"{variable}={environ[variable]!r}: expected 1/true/yes/on or 0/false/no/off")
                values[name] = text in _TRUE
        return cls(**values)
