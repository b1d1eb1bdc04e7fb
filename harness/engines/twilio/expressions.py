"""TaskRouter expressions: parse once, evaluate many (reference/taskrouter.md §2).

    expression = compile_expression("type == 'ticket' AND customer_value IN ['Silver', 'Bronze']")
    expression.evaluate({"type": "ticket", "customer_value": "Gold"})  # -> False

Grammar (EXPR-DOC, plus what real workflows and other Twilio pages use):

- constants: strings in single or double quotes (backslash escapes the next character [uncertain]),
  integers and decimals (a leading `-` on a number is accepted), `true`, `false`, `null`, and lists of
  constants in square brackets;
- keys: unquoted names with dot notation and `[n]` indexes (`object.array[2]`); a segment after a dot
  may start with a digit (`worker.routing.levels.988ENsk`, real). A missing key is NULL;
- comparisons: `==` (and `=`, MT-DOC), `!=`, `>`, `>=`, `<`, `<=`, `CONTAINS` (substring),
  `HAS` (array on the left holds the value), `IN`, `NOT IN` (value in the array on the right);
- logic: `AND`, `OR`, parentheses. Keywords and `true`/`false`/`null` are case-insensitive
  ([inferred]: Twilio pages use `in` and `and`). `&&` and `||` are not TaskRouter syntax (the reference
  lists none): they are syntax errors with a hint.

[uncertain] choices (docs/fake-twilio.md lists them too):

- `NOT <condition>`, `!<condition>`, `NOT HAS`, `NOT CONTAINS` are undocumented: accepted with a warning
  (`Expression.warnings`) and rejected when `strict=True`.
- Precedence: `NOT` > comparisons > `AND` > `OR`, left-associative.
- NULL is a value unequal to everything but `null`: `missing == null` is true, `missing != 'x'` is true,
  `missing > 1`, `CONTAINS`, `HAS`, `IN` with a missing side are false. `NOT IN` is false unless the
  right side is an array.
- No type coercion: `'2' > 1` and `'true' == true` are false (`!=` true); numbers compare numerically
  (`1 == 1.0`); two strings order lexicographically (`<`, `>`); booleans are not numbers.
- Scalar operators on arrays or objects are false (`!=` too), array operators on two scalars are false
  (EXPR-DOC).
- String comparison is case-sensitive; an index out of range is NULL.

Keys resolve in the mapping given to `evaluate`: a filter expression gets the task's attributes; a target
expression gets `{"task": ..., "worker": ...}`, so `worker.*` inside a *filter* is NULL (as proposed in
reference §2.4) unless the task itself has a `worker` attribute.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.errors import Location, SchemaError

Evaluator = Callable[[Mapping[str, Any]], bool]
Getter = Callable[[Mapping[str, Any]], Any]

_KEYWORDS = {"AND", "OR", "NOT", "IN", "HAS", "CONTAINS"}
_LITERAL_WORDS = {"TRUE": True, "FALSE": False, "NULL": None}
_COMPARISONS = {"==", "=", "!=", ">", ">=", "<", "<=", "IN", "NOT IN", "HAS", "NOT HAS", "CONTAINS",
                "NOT CONTAINS"}
_UNDOCUMENTED = {"NOT", "!", "NOT HAS", "NOT CONTAINS"}
_IDENT_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_$")
_IDENT_PART = _IDENT_START | frozenset("0123456789")
_DIGITS = frozenset("0123456789")
_SPACE = frozenset(" \t\r\n")


# --- tokens ------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "op", "kw", "lit", "key", "(", ")", "[", "]", ",", "end"
    value: Any
    column: int  # 1-based
    text: str


class _Syntax(Exception):
    """Internal: a syntax error at a column; turned into a SchemaError by compile_expression."""

    def __init__(self, message: str, column: int, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.column = column
        self.hint = hint


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _SPACE:
            i += 1
            continue
        start = i
        column = i + 1
        if ch in "()[],":
            tokens.append(_Token(ch, ch, column, ch))
            i += 1
        elif ch in "=!<>":
            two = text[i:i + 2]
            if two in ("==", "!=", ">=", "<="):
                tokens.append(_Token("op", two, column, two))
                i += 2
            elif ch == "!":
                tokens.append(_Token("op", "!", column, "!"))
                i += 1
            else:
                tokens.append(_Token("op", ch, column, ch))
                i += 1
        elif ch in "'\"":
            value, i = _scan_string(text, i)
            tokens.append(_Token("lit", value, column, text[start:i]))
        elif ch in _DIGITS or (
            ch == "-" and i + 1 < n and text[i + 1] in _DIGITS and _operand_expected(tokens)
        ):
            i += 1
            while i < n and text[i] in _DIGITS:
                i += 1
            if i + 1 < n and text[i] == "." and text[i + 1] in _DIGITS:
                i += 1
                while i < n and text[i] in _DIGITS:
                    i += 1
            if i < n and text[i] in _IDENT_START:
                raise _Syntax(f"a number cannot run into a name: {text[start:i + 1]!r}", column)
            literal = text[start:i]
            tokens.append(_Token("lit", float(literal) if "." in literal else int(literal), column, literal))
        elif ch == "$" and text.startswith("${", i):
            end = text.find("}", i)
            name = text[i:end + 1] if end > 0 else text[i:]
            raise _Syntax(f"unsubstituted placeholder {name}", column,
                          "substitute deploy-time placeholders first "
                          "(load_workflow(..., placeholders={...}))")
        elif ch in _IDENT_START:
            path, i = _scan_path(text, i)
            word = text[start:i]
            upper = word.upper()
            if len(path) == 1 and upper in _KEYWORDS:
                tokens.append(_Token("kw", upper, column, word))
            elif len(path) == 1 and upper in _LITERAL_WORDS:
                tokens.append(_Token("lit", _LITERAL_WORDS[upper], column, word))
            else:
                tokens.append(_Token("key", tuple(path), column, word))
        elif ch == "-":
            raise _Syntax("hyphens are not supported in TaskRouter expressions", column,
                          "a key like skill-level reads as skill minus level; rename the attribute "
                          "or quote the value")
        elif text.startswith("&&", i) or text.startswith("||", i):
            word = "AND" if ch == "&" else "OR"
            raise _Syntax(f"{text[i:i + 2]!r} is not TaskRouter syntax", column, f"write {word}")
        else:
            raise _Syntax(f"unexpected character {ch!r}", column)
    tokens.append(_Token("end", None, n + 1, "end of expression"))
    return tokens


def _operand_expected(tokens: list[_Token]) -> bool:
    """True where a `-` can only start a negative number (after an operator, a bracket, or at the start)."""
    if not tokens:
        return True
    last = tokens[-1]
    return last.kind in ("op", "kw", "(", "[", ",")


def _scan_string(text: str, i: int) -> tuple[str, int]:
    quote = text[i]
    out: list[str] = []
    j = i + 1
    n = len(text)
    while j < n:
        ch = text[j]
        if ch == "\\" and j + 1 < n:
            out.append(text[j + 1])
            j += 2
            continue
        if ch == quote:
            return "".join(out), j + 1
        out.append(ch)
        j += 1
    raise _Syntax(f"unterminated string (opened with {quote} here)", i + 1)


def _scan_path(text: str, i: int) -> tuple[list[str | int], int]:
    n = len(text)
    j = i
    while j < n and text[j] in _IDENT_PART:
        j += 1
    path: list[str | int] = [text[i:j]]
    while j < n:
        if text[j] == "." and j + 1 < n and text[j + 1] in _IDENT_PART:
            k = j + 1
            while k < n and text[k] in _IDENT_PART:
                k += 1
            path.append(text[j + 1:k])
            j = k
        elif text[j] == "[":
            k = j + 1
            while k < n and text[k] in _DIGITS:
                k += 1
            if k == j + 1 or k >= n or text[k] != "]":
                raise _Syntax("expected an array index such as [0] after a key", j + 1)
            path.append(int(text[j + 1:k]))
            j = k + 1
        elif text[j] == ".":
            raise _Syntax("expected a name after '.'", j + 2 if j + 1 < n else j + 1)
        else:
            break
    return path, j


# --- values and operators ----------------------------------------------------------------------------

def _is_number(value: Any) -> bool:
    return (type(value) is int or type(value) is float)


def _is_scalar(value: Any) -> bool:
    return value is None or type(value) in (str, bool, int, float)


def _equal(a: Any, b: Any) -> bool:
    """Type-strict equality of two scalars: no coercion, booleans are not numbers, NULL equals NULL."""
    if a is None or b is None:
        return a is b
    ta, tb = type(a), type(b)
    if ta is tb:
        return bool(a == b)
    return _is_number(a) and _is_number(b) and a == b


def _op_eq(a: Any, b: Any) -> bool:
    return _is_scalar(a) and _is_scalar(b) and _equal(a, b)


def _op_ne(a: Any, b: Any) -> bool:
    return _is_scalar(a) and _is_scalar(b) and not _equal(a, b)


def _orderable(a: Any, b: Any) -> bool:
    return (_is_number(a) and _is_number(b)) or (type(a) is str and type(b) is str)


def _op_gt(a: Any, b: Any) -> bool:
    return _orderable(a, b) and a > b


def _op_ge(a: Any, b: Any) -> bool:
    return _orderable(a, b) and a >= b


def _op_lt(a: Any, b: Any) -> bool:
    return _orderable(a, b) and a < b


def _op_le(a: Any, b: Any) -> bool:
    return _orderable(a, b) and a <= b


def _op_contains(a: Any, b: Any) -> bool:
    return type(a) is str and type(b) is str and b in a


def _op_not_contains(a: Any, b: Any) -> bool:
    return type(a) is str and type(b) is str and b not in a


def _member(value: Any, array: list[Any]) -> bool:
    return any(_equal(value, item) for item in array)


def _op_has(a: Any, b: Any) -> bool:
    return type(a) is list and _is_scalar(b) and _member(b, a)


def _op_not_has(a: Any, b: Any) -> bool:
    return type(a) is list and _is_scalar(b) and not _member(b, a)


def _op_in(a: Any, b: Any) -> bool:
    return type(b) is list and _is_scalar(a) and _member(a, b)


def _op_not_in(a: Any, b: Any) -> bool:
    return type(b) is list and _is_scalar(a) and not _member(a, b)


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": _op_eq, "=": _op_eq, "!=": _op_ne, ">": _op_gt, ">=": _op_ge, "<": _op_lt, "<=": _op_le,
    "CONTAINS": _op_contains, "NOT CONTAINS": _op_not_contains, "HAS": _op_has, "NOT HAS": _op_not_has,
    "IN": _op_in, "NOT IN": _op_not_in,
}


def _getter(path: tuple[str | int, ...]) -> Getter:
    if len(path) == 1:
        (key,) = path

        def get_one(data: Mapping[str, Any]) -> Any:
            return data.get(key)  # type: ignore[arg-type]

        return get_one
    if len(path) == 2 and all(type(p) is str for p in path):
        first, second = path

        def get_two(data: Mapping[str, Any]) -> Any:
            inner = data.get(first)  # type: ignore[arg-type]
            return inner.get(second) if type(inner) is dict else None

        return get_two

    def get_path(data: Mapping[str, Any]) -> Any:
        current: Any = data
        for part in path:
            if type(part) is int:
                if type(current) is not list or part >= len(current):
                    return None
                current = current[part]
            elif isinstance(current, Mapping):
                current = current.get(part)
            else:
                return None
        return current

    return get_path


# --- parser -------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Operand:
    constant: bool
    value: Any  # the constant, or the key path
    text: str

    def getter(self) -> Getter:
        if self.constant:
            value = self.value
            return lambda _data: value
        return _getter(self.value)


class _Parser:
    def __init__(self, text: str, strict: bool) -> None:
        self.text = text
        self.strict = strict
        self.tokens = _tokenize(text)
        self.position = 0
        self.warnings: list[str] = []
        self.references: list[str] = []

    @property
    def current(self) -> _Token:
        return self.tokens[self.position]

    def advance(self) -> _Token:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def parse(self) -> Evaluator:
        if self.current.kind == "end":
            raise _Syntax("empty expression", 1, "use 1==1 to match everything")
        evaluator = self.parse_or()
        if self.current.kind != "end":
            token = self.current
            raise _Syntax(f"expected AND, OR or the end of the expression, found {token.text!r}",
                          token.column, self._hint_after(token))
        return evaluator

    def _hint_after(self, token: _Token) -> str | None:
        if token.kind == ")":
            return "this ')' has no matching '('"
        if token.kind == "key":
            return "a key cannot follow a complete condition; is an operator or AND/OR missing?"
        return None

    def parse_or(self) -> Evaluator:
        parts = [self.parse_and()]
        while self.current.kind == "kw" and self.current.value == "OR":
            self.advance()
            parts.append(self.parse_and())
        if len(parts) == 1:
            return parts[0]
        return _any_of(parts)

    def parse_and(self) -> Evaluator:
        parts = [self.parse_not()]
        while self.current.kind == "kw" and self.current.value == "AND":
            self.advance()
            parts.append(self.parse_not())
        if len(parts) == 1:
            return parts[0]
        return _all_of(parts)

    def parse_not(self) -> Evaluator:
        token = self.current
        if (token.kind == "kw" and token.value == "NOT") or (token.kind == "op" and token.value == "!"):
            self.advance()
            self._undocumented(token.value if token.kind == "kw" else "!", token)
            inner = self.parse_not()
            return lambda data: not inner(data)
        return self.parse_primary()

    def parse_primary(self) -> Evaluator:
        token = self.current
        if token.kind == "(":
            self.advance()
            inner = self.parse_or()
            if self.current.kind != ")":
                found = self.current
                where = "the end of the expression" if found.kind == "end" else repr(found.text)
                raise _Syntax(f"expected AND, OR or ')' closing the '(' at column {token.column}, "
                              f"found {where}", found.column, self._hint_after(found))
            self.advance()
            return inner
        return self.parse_comparison()

    def parse_comparison(self) -> Evaluator:
        left = self.parse_operand()
        operator = self.parse_operator()
        right = self.parse_operand()
        function = _OPERATORS[operator]
        if left.constant and right.constant:
            folded = function(left.value, right.value)  # `1==1`, `1==0`: decided once
            return (lambda _data: True) if folded else (lambda _data: False)
        if operator in ("IN", "NOT IN") and right.constant and type(right.value) is list \
                and right.value and all(type(v) is str for v in right.value):
            return _string_set_test(left.getter(), frozenset(right.value), operator == "IN")
        if operator in ("==", "=") and right.constant and type(right.value) is str:
            return _string_equals(left.getter(), right.value)
        get_left, get_right = left.getter(), right.getter()
        return lambda data: function(get_left(data), get_right(data))

    def parse_operator(self) -> str:
        token = self.current
        if token.kind == "op" and token.value in _COMPARISONS:
            self.advance()
            return str(token.value)
        if token.kind == "kw" and token.value in ("IN", "HAS", "CONTAINS"):
            self.advance()
            return str(token.value)
        if token.kind == "kw" and token.value == "NOT":
            following = self.tokens[self.position + 1]
            if following.kind == "kw" and following.value in ("IN", "HAS", "CONTAINS"):
                self.advance()
                self.advance()
                operator = f"NOT {following.value}"
                if operator != "NOT IN":
                    self._undocumented(operator, token)
                return operator
        where = "the end of the expression" if token.kind == "end" else repr(token.text)
        raise _Syntax(f"expected a comparison (==, !=, >, >=, <, <=, IN, NOT IN, HAS, CONTAINS), "
                      f"found {where}", token.column,
                      "every condition compares two values, e.g. isSurveyTask == true")

    def parse_operand(self) -> _Operand:
        token = self.current
        if token.kind == "lit":
            self.advance()
            return _Operand(True, token.value, token.text)
        if token.kind == "key":
            self.advance()
            self.references.append(".".join(str(p) for p in token.value))
            return _Operand(False, token.value, token.text)
        if token.kind == "[":
            return self.parse_list()
        where = "the end of the expression" if token.kind == "end" else repr(token.text)
        raise _Syntax(f"expected a key, a constant or a list, found {where}", token.column)

    def parse_list(self) -> _Operand:
        opening = self.advance()
        values: list[Any] = []
        if self.current.kind == "]":
            self.advance()
            return _Operand(True, values, "[]")
        while True:
            token = self.current
            if token.kind != "lit":
                where = "the end of the expression" if token.kind == "end" else repr(token.text)
                raise _Syntax(f"a list holds constants only ('a', 1, true, null), found {where}",
                              token.column)
            self.advance()
            values.append(token.value)
            if self.current.kind == ",":
                self.advance()
                continue
            if self.current.kind == "]":
                self.advance()
                return _Operand(True, values, self.text[opening.column - 1:self.current.column - 1])
            found = self.current
            where = "the end of the expression" if found.kind == "end" else repr(found.text)
            raise _Syntax(f"expected ',' or ']' in the list opened at column {opening.column}, found {where}",
                          found.column)

    def _undocumented(self, operator: str, token: _Token) -> None:
        message = f"{operator} (column {token.column}) is not documented TaskRouter syntax"
        if self.strict:
            raise _Syntax(message, token.column, "rewrite it with != or NOT IN, or use strict=False")
        self.warnings.append(message)


def _any_of(parts: list[Evaluator]) -> Evaluator:
    if len(parts) == 2:
        first, second = parts
        return lambda data: first(data) or second(data)
    return lambda data: any(part(data) for part in parts)


def _all_of(parts: list[Evaluator]) -> Evaluator:
    if len(parts) == 2:
        first, second = parts
        return lambda data: first(data) and second(data)
    return lambda data: all(part(data) for part in parts)


def _string_equals(get: Getter, wanted: str) -> Evaluator:
    # `key == 'text'` is most of what real filters say; skip the generic type dispatch.
    def test(data: Mapping[str, Any]) -> bool:
        value = get(data)
        return type(value) is str and value == wanted

    return test


def _string_set_test(get: Getter, members: frozenset[str], inside: bool) -> Evaluator:
    # All-string literal lists (the common `channelType IN ['web','sms']`): a set lookup.
    if inside:
        def test_in(data: Mapping[str, Any]) -> bool:
            value = get(data)
            return type(value) is str and value in members

        return test_in

    def test_not_in(data: Mapping[str, Any]) -> bool:
        value = get(data)
        return _is_scalar(value) and not (type(value) is str and value in members)

    return test_not_in


# --- public API ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Expression:
    """A compiled TaskRouter expression. `evaluate` is safe to call from many threads."""

    text: str
    warnings: tuple[str, ...] = ()
    references: tuple[str, ...] = ()  # the keys it reads, dotted (`preEngagementData.reason`)
    _evaluate: Evaluator = field(default=lambda _data: False, repr=False, compare=False)

    def evaluate(self, attributes: Mapping[str, Any]) -> bool:
        """True when the expression holds for `attributes` (a task's attributes, or {"task", "worker"})."""
        return bool(self._evaluate(attributes))

    __call__ = evaluate


def compile_expression(text: str, *, strict: bool = False, location: Location | None = None) -> Expression:
    """Parse `text`; a syntax error is a SchemaError naming the column (and `location`, when given).

    `strict=True` rejects the undocumented operators (NOT, !, NOT HAS, NOT CONTAINS) instead of warning.
    """
    if not isinstance(text, str):
        raise SchemaError(f"an expression must be a string, got {type(text).__name__}", location)
    try:
        return _compile_cached(text, strict)
    except _Syntax as problem:
        raise _syntax_error(text, problem, location) from None


@functools.lru_cache(maxsize=4096)
def _compile_cached(text: str, strict: bool) -> Expression:
    parser = _Parser(text, strict)
    evaluator = parser.parse()
    return Expression(text, tuple(parser.warnings), tuple(dict.fromkeys(parser.references)), evaluator)


def _syntax_error(text: str, problem: _Syntax, location: Location | None) -> SchemaError:
    excerpt, caret = _excerpt(text, problem.column)
    pointer_hint = f"{excerpt}\n  {' ' * caret}^"
    hint = f"{problem.hint}\n  {pointer_hint}" if problem.hint else pointer_hint
    message = f"bad TaskRouter expression: {problem.message} (column {problem.column})"
    if location is None:
        location = Location(None, "", 1, problem.column)
    return SchemaError(message, location, hint)


def _excerpt(text: str, column: int, width: int = 70) -> tuple[str, int]:
    """A one-line window of `text` around `column` and the caret's offset in it."""
    flat = text.replace("\n", " ").replace("\r", " ").replace("\t", " ")
    index = min(max(column - 1, 0), len(flat))
    start = max(0, index - width // 2)
    end = min(len(flat), start + width)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(flat) else ""
    return prefix + flat[start:end] + suffix, len(prefix) + index - start
