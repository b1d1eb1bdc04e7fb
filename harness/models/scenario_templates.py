"""Scenario templates, replaced at load time: `{{ row.key }}` (a `parametrize` row) and
`{{ faker.provider(args) }}`; and the ids of `parametrize` rows.

Any other `{{ … }}` (Liquid in an expected reply) is left alone. A string that is only one template keeps
the value's type (`{{ row.count }}` stays an integer). Faker is seeded per scenario id with the file's
`seed`, so values do not change when other scenarios are added, and the same expression text gives the
same value throughout one scenario. Faker is imported only when a file uses it: plugin start-up time matters."""

from __future__ import annotations

import ast
import difflib
import functools
import re
from collections.abc import Mapping
from typing import Any

from harness.errors import (
    SchemaError,
)
from harness.models.scenario_yaml import Origin, Problems, as_text


class TemplateProblem(Exception):
    pass


_TEMPLATE = re.compile(r"\{\{\s*((?:faker|row)\b[^{}]*?)\s*\}\}")


class Renderer:
    """Renders `{{ row.… }}` and `{{ faker.… }}` for one scenario id (one row)."""

    def __init__(self, row: Mapping[str, Any] | None, seed: int | str, scenario_id: str) -> None:
        self.row = row
        self.seed_text = f"{seed}:{scenario_id}"
        self._faker: Any = None
        self._cache: dict[str, Any] = {}

    def tree(self, node: Any, origin: Origin, problems: Problems) -> Any:
        if isinstance(node, str):
            if "{{" not in node:
                return node
            try:
                return self.text(node)
            except TemplateProblem as problem:
                problems.add(SchemaError(str(problem), origin.location()))
                return node
        if isinstance(node, dict):
            return {key: self.tree(value, origin.child(key), problems) for key, value in node.items()}
        if isinstance(node, list):
            return [self.tree(value, origin.child(i), problems) for i, value in enumerate(node)]
        return node

    def text(self, text: str) -> Any:
        whole = _TEMPLATE.fullmatch(text.strip())
        if whole:  # a value that is only a template keeps its type
            return self.expression(whole.group(1))
        return _TEMPLATE.sub(lambda m: as_text(self.expression(m.group(1))), text)

    def expression(self, expression: str) -> Any:
        if expression.startswith("row"):
            value = self.row_value(expression)
            if isinstance(value, str) and "{{ faker" in value.replace("{{faker", "{{ faker"):
                return self.text(value)  # a row may hold faker values
            return value
        key = " ".join(expression.split())
        if key not in self._cache:
            self._cache[key] = self.fake(expression)
        return self._cache[key]

    def row_value(self, expression: str) -> Any:
        if self.row is None:
            raise TemplateProblem(f"'{{{{ {expression} }}}}' is used but the scenario has no "
                                   "`parametrize` rows")
        parts = expression.split(".")[1:]
        if not parts or not all(parts):
            raise TemplateProblem(f"expected {{{{ row.<key> }}}}, found '{{{{ {expression} }}}}'")
        value: Any = self.row
        for depth, part in enumerate(parts):
            if isinstance(value, Mapping) and part in value:
                value = value[part]
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                known = ", ".join(str(k) for k in value) if isinstance(value, Mapping) else "none"
                shown = ".".join(["row", *parts[: depth + 1]])
                raise TemplateProblem(f"'{shown}': the row has no key '{part}' (keys: {known})")
        return value

    def fake(self, expression: str) -> Any:
        provider, args, kwargs = _parse_faker_call(expression)
        faker = self.faker()
        method = getattr(faker, provider, None) if not provider.startswith("_") else None
        if not callable(method):
            close = difflib.get_close_matches(provider, _faker_providers(faker), n=1)
            also = f" (did you mean '{close[0]}'?)" if close else ""
            raise TemplateProblem(f"faker has no provider '{provider}'{also}")
        try:
            return method(*args, **kwargs)
        except Exception as err:  # the user's arguments: report, do not crash collection
            raise TemplateProblem(f"faker.{provider}(...) failed: {err}") from None

    def faker(self) -> Any:
        if self._faker is None:
            self._faker = _shared_faker()
            self._faker.seed_instance(self.seed_text)
        return self._faker


@functools.cache
def _shared_faker() -> Any:
    # Lazy: faker costs tens of milliseconds to import; only files that use it pay.
    from faker import Faker

    return Faker()


@functools.cache
def _faker_providers(faker: Any) -> tuple[str, ...]:
    return tuple(name for name in dir(faker) if not name.startswith("_"))


def _parse_faker_call(expression: str) -> tuple[str, list[Any], dict[str, Any]]:
    wanted = "expected {{ faker.<provider> }} or {{ faker.<provider>(literal arguments) }}"
    try:
        tree = ast.parse(expression, mode="eval").body
    except SyntaxError:
        raise TemplateProblem(f"{wanted}, found '{{{{ {expression} }}}}'") from None
    call = tree if isinstance(tree, ast.Call) else None
    target = call.func if call else tree
    if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
            and target.value.id == "faker"):
        raise TemplateProblem(f"{wanted}, found '{{{{ {expression} }}}}'")
    try:
        args = [ast.literal_eval(arg) for arg in call.args] if call else []
        kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords if kw.arg} if call else {}
    except ValueError:
        raise TemplateProblem(f"faker arguments must be literals (numbers, strings, lists), "
                               f"found '{{{{ {expression} }}}}'") from None
    return target.attr, args, kwargs


_ID_UNSAFE = re.compile(r"[\s\[\]]+")


def default_row_id(row: Mapping[str, Any], index: int) -> str:
    """The row's `id`, else its scalar values joined by '-' (short), else `row<N>` (1-based)."""
    if "id" in row:
        return as_text(row["id"])
    values = list(row.values())
    if all(isinstance(v, str | int | float | bool) and not isinstance(v, dict) for v in values):
        text = "-".join(_ID_UNSAFE.sub("_", as_text(v)).strip("_") for v in values)
        if text and len(text) <= 40 and "{{" not in text:
            return text
    return f"row{index + 1}"
