"""Scenario templates, replaced at load time: `{{ row.key }}` (a `parametrize` row) and
`{{ faker.provider(args) }}`; and the ids of `parametrize` rows.

Any other `{{ … }}` (Liquid in an expected reply) is left alone. A string that is only one template keeps
the value's type (`{{ row.count }}` stays an integer). Faker is seeded per scenario id with the file's
`seed`, so values do not change when other scenarios are added, and the same expression text gives the
same value throughout one scenario. Faker is imported only when a file uses it: plugin start-up time matters."""

from __future__ import annotations

import ast
import datetime
import decimal
import difflib
import functools
import inspect
import re
import uuid
from collections.abc import Mapping
from typing import Any

from harness.budgets import budget, env_name, int_budget
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
        # The strings rendered (where, the template): the loader checks the rendered values against the
        # schema again (a template may give a number where text is expected) and names the template.
        self.places: list[tuple[Origin, str]] = []  # every string rendered

    def tree(self, node: Any, origin: Origin, problems: Problems) -> Any:
        if isinstance(node, str):
            if "{{" not in node:
                return node
            try:
                rendered = self.text(node)
                self.places.append((origin, node.strip()))
                return rendered
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
        _check_arguments(method, expression, args, kwargs)
        try:
            value = method(*args, **kwargs)
        except Exception as err:  # the user's arguments: report, do not crash collection
            raise TemplateProblem(f"faker.{provider}(...) failed: {err}") from None
        return _checked_size(expression, value)

    def faker(self) -> Any:
        if self._faker is None:
            self._faker = _shared_faker()
            self._faker.seed_instance(self.seed_text)
        return self._faker


@functools.cache
def _shared_faker() -> Any:
    # Lazy: faker costs tens of milliseconds to import; only files that use it pay.
    from faker import Faker
    from faker.providers import BaseProvider

    class E164PhoneNumbers(BaseProvider):
        """Phone numbers as Twilio writes them (E.164: `From`, `To`, `UserIdentifier`). Faker's en_US
        `phone_number` gives '(555) 123-4567x890'-style text, which no Twilio webhook ever carries."""

        def phone_number(self) -> str:
            # A North American number: +1, an area code and exchange not starting with 0 or 1, 4 digits.
            digits = "23456789"
            return (f"+1{self.random_element(digits)}{self.numerify('##')}"
                    f"{self.random_element(digits)}{self.numerify('######')}")

    faker = Faker()
    faker.add_provider(E164PhoneNumbers)  # added last: replaces en_US's phone_number
    return faker


@functools.cache
def _faker_providers(faker: Any) -> tuple[str, ...]:
    return tuple(name for name in dir(faker) if not name.startswith("_"))


# Arguments that bound a value rather than size one (`pyint(max_value=10**9)` builds nothing big).
_VALUE_BOUNDS = frozenset({"min_value", "max_value", "min", "max", "step", "start", "end", "self"})


def _check_arguments(method: Any, expression: str, args: list[Any], kwargs: dict[str, Any]) -> None:
    """Refuse, before calling faker, sizes that make it build a huge value or run for minutes
    (`pystr(max_chars=100000000)`, `random_number(digits=100000)`, `texts(nb_texts=5000, max_nb_chars=5000)`):
    the product of the numbers passed (value bounds such as `max_value=` excepted) is capped by
    MAX_FAKER_ARGUMENT. Positional arguments are named through the provider's signature."""
    limit = budget("MAX_FAKER_ARGUMENT")
    try:
        named = list(inspect.signature(method).bind(*args, **kwargs).arguments.items())
    except (TypeError, ValueError):  # faker itself reports a bad call
        named = [(None, a) for a in args] + list(kwargs.items())
    product = 1.0
    sizes: list[str] = []
    stack = [(name, value) for name, value in named if name not in _VALUE_BOUNDS]
    while stack:
        name, value = stack.pop()
        if isinstance(value, list | tuple | set | frozenset):
            stack.extend((name, item) for item in value)
        elif isinstance(value, dict):
            stack.extend((name, item) for item in value.values())
        elif isinstance(value, int | float) and not isinstance(value, bool):
            size = abs(value)
            if not size <= limit:  # NaN too
                product = float("inf")
            elif size > 1:
                product *= size
            sizes.append(f"{name}={_short_number(value)}" if name else _short_number(value))
        elif isinstance(value, str | bytes) and len(value) > limit:
            product = float("inf")
            sizes.append(f"a text of {len(value)} characters")
    if not product <= limit:
        raise TemplateProblem(
            f"'{{{{ {expression[:100]} }}}}': {', '.join(sorted(sizes))} asks for more than the limit of "
            f"{limit:g} (MAX_FAKER_ARGUMENT, the product of the sizes and counts passed: larger ones make faker "
            f"build huge values or run for minutes); raise it with the environment variable "
            f"{env_name('MAX_FAKER_ARGUMENT')}")


def _short_number(value: float) -> str:
    text = f"{value:g}" if isinstance(value, float) else str(value) if abs(value) < 10**30 else f"{value:.3e}"
    return text


def _checked_size(expression: str, value: Any) -> Any:
    """`value` when its text fits MAX_GENERATED_CHARS; a bigger one is refused, naming the template."""
    limit = int_budget("MAX_GENERATED_CHARS")
    if isinstance(value, int) and value.bit_length() > _MAX_INT_BITS:
        raise TemplateProblem(f"'{{{{ {expression} }}}}' generated a number of more than 4000 digits "
                              "(Python cannot even print it); ask faker for fewer digits")
    value = _json_value(expression, value)
    size = _text_size(value, limit)
    if size > limit:
        raise TemplateProblem(
            f"'{{{{ {expression} }}}}' generated more than {limit} characters (MAX_GENERATED_CHARS); "
            f"ask faker for less, or raise the limit with the environment variable "
            f"{env_name('MAX_GENERATED_CHARS')}")
    return value


def _json_value(expression: str, value: Any) -> Any:
    """A provider's value as scenario data (JSON): dates as ISO text, decimals as numbers, UUIDs as text;
    bytes and other objects are refused (a scenario file cannot hold them)."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_value(expression, item) for item in value]
    if isinstance(value, dict):
        return {as_text(key): _json_value(expression, item) for key, item in value.items()}
    kind = "binary data (bytes)" if isinstance(value, bytes | bytearray) else f"a {type(value).__name__} object"
    raise TemplateProblem(f"'{{{{ {expression} }}}}' gave {kind}, which scenario data cannot hold "
                          "(text, numbers, booleans, lists and mappings)")


_MAX_INT_BITS = 13_000  # about 3,900 decimal digits: Python refuses to print an integer of more than 4,300


def _text_size(value: Any, limit: int) -> int:
    """The length of `value` as text, counted until `limit` is passed (a nested value is not dumped whole)."""
    total = 0
    stack = [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
            total += 2
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
            total += 2
        elif isinstance(item, str | bytes):
            total += len(item)
        elif isinstance(item, int) and not isinstance(item, bool):
            total += item.bit_length() * 3 // 10 + 1  # digits, without converting a 100,000-digit number
        else:
            total += len(str(item))
    return total


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
