"""A small, safe expression language for form definitions (relevance, constraints, calculations).

The same grammar and semantics are implemented in ``pwa/static/js/domain/expressions.js``; the
shared table ``tests/data/expression_cases.json`` runs through both, so a form answers the same on
the device (offline) and on the server (which trusts only its own computation).

Syntax (modelled on XLSForm/ODK, much smaller)::

    expr    := or
    or      := and ('or' and)*
    and     := cmp ('and' cmp)*
    cmp     := add (('=' | '!=' | '<' | '<=' | '>' | '>=') add)?   -- no chains: a < b < c fails
    add     := mul (('+' | '-') mul)*
    mul     := unary (('*' | '/') unary)*
    unary   := '-' unary | primary
    primary := NUMBER | STRING | 'true' | 'false' | 'null' | '${name}' | '${group.field}' | '.'
             | '(' expr ')' | FUNCTION '(' [expr (',' expr)*] ')'

- NUMBER is ``digits`` or ``digits.digits`` (no exponent, no leading dot: write ``0.5``).
- STRING is '...' or "..." with no escapes; to include one kind of quote use the other kind.
- ``.`` is the value being checked (constraints only).
- Keywords and function names are case-sensitive ASCII. Any other bare word (``__import__``,
  ``os``, ``eval``) is a syntax error: there is nothing to reach but the listed functions.
- Functions and their argument counts are checked when parsing: ``if(c,a,b)``,
  ``coalesce(a,b,...)``, ``sum(x)``, ``count(x)``, ``selected(x,v)``, ``count-selected(x)``,
  ``round(x[,n])``, ``string-length(s)``, ``min(...)``, ``max(...)``, ``int(x)``, ``not(x)``.
- Limits, so hostile or broken input fails cleanly: at most 2000 characters (code points) and
  nesting (parentheses, calls, unary minus) at most 64 deep. Both raise ExpressionSyntaxError.
  Operator chains (1+1+...+1) are flat nodes evaluated by a loop, so length never becomes depth.

Values: null, booleans, numbers, strings, lists (repeat groups, select_many answers, the values of
``${group.field}``) and objects (a repeat entry, a geopoint), which are opaque.

Semantics (decided once, for both languages):

- Numbers are IEEE doubles. Any non-finite result (overflow) is null. ``evaluate`` returns an
  integral double as a Python ``int`` (and -0 as 0), so the JSON the two sides print is identical.
- Arithmetic only takes numbers: null or any non-number (string, boolean, list) operand gives
  null (null + 1 → null). Division by zero → null. There is no string concatenation.
- ``=`` / ``!=``: null equals only null (``x = null`` is how to test "unanswered"). Otherwise
  values are equal only when of the same type (number, string, boolean) and equal; no coercion,
  so ``'5' = 5`` is false. Lists and objects are never equal to anything.
- ``< <= > >=``: false if either side is null; numbers compare numerically, strings by Unicode
  code point (JS compares code points too, not UTF-16 units); mixed types compare false.
- Truthiness: null, false, 0, '' and the empty list are false; everything else is true.
  ``and``/``or``/``not`` return booleans; ``and``/``or`` short-circuit, ``if`` and ``coalesce``
  evaluate only what they need. Evaluation itself never raises: bad data gives null, not a crash.
- ``${name}`` inside a repeat entry resolves to the entry's own field when the entry has that key,
  then to the top-level field; unknown names are null. ``${group.field}`` is the list of that
  field over every entry of the repeat group (null for entries without it).
- ``sum(x)``: over a list, adds the numbers and skips everything else (nulls); empty or null → 0.
  ``min``/``max``: over all arguments, lists flattened one level, numbers only; none → null.
  ``count(x)``: non-null items of a list; null → 0; any other value → 1.
- ``selected(x, v)``/``count-selected(x)``: x is a list of answers or an ODK-style string of
  answers separated by spaces; null → false / 0. Items are matched with ``=``.
- ``round(x, n=0)``: half away from zero in *decimal*: the double's shortest round-trip decimal
  form (Python repr, JS String) is rounded as written, so round(2.675, 2) → 2.68 and
  round(-2.5) → -3 in both languages. n must be an integer in -15..15, else null.
- ``int(x)`` truncates toward zero. ``string-length(s)`` counts code points; null → 0; a
  non-string → null. ``coalesce`` returns its first argument that is neither null nor ''.
- Non-number arguments to numeric functions give null.
"""

from __future__ import annotations

import decimal
import functools
import math
import numbers
from collections.abc import Callable
from typing import Any

MAX_LENGTH = 2000
MAX_DEPTH = 64

# name -> (minimum argument count, maximum or None for "any")
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "if": (3, 3),
    "coalesce": (2, None),
    "sum": (1, 1),
    "count": (1, 1),
    "selected": (2, 2),
    "count-selected": (1, 1),
    "round": (1, 2),
    "string-length": (1, 1),
    "min": (1, None),
    "max": (1, None),
    "int": (1, 1),
    "not": (1, 1),
}
_HYPHENATED = ("count-selected", "string-length")
_KEYWORDS = {"and", "or", "true", "false", "null"}
_COMPARISONS = {"=", "!=", "<", "<=", ">", ">="}
_WHITESPACE = " \t\r\n"
_DIGITS = "0123456789"
_WORD_START = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"
_WORD = _WORD_START + _DIGITS
_MAX_SAFE_INTEGER = 2**53


class ExpressionSyntaxError(ValueError):
    """The text is not an expression of this language; ``position`` is a 0-based code point."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at position {position})")
        self.message = message
        self.position = position


# ---------------------------------------------------------------- tokens

def _tokenize(text: str) -> list[tuple[str, Any, int]]:
    tokens: list[tuple[str, Any, int]] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in _WHITESPACE:
            i += 1
        elif c in _DIGITS:
            start = i
            while i < n and text[i] in _DIGITS:
                i += 1
            if i + 1 < n and text[i] == "." and text[i + 1] in _DIGITS:
                i += 1
                while i < n and text[i] in _DIGITS:
                    i += 1
            # A literal too big for a double is null, like any other non-finite number.
            tokens.append(("num", _finite(float(text[start:i])), start))
        elif c in "'\"":
            end = text.find(c, i + 1)
            if end < 0:
                raise ExpressionSyntaxError("unterminated string", i)
            tokens.append(("str", text[i + 1:end], i))
            i = end + 1
        elif c == "$":
            i = _field_token(text, i, tokens)
        elif c == ".":
            tokens.append(("current", None, i))
            i += 1
        elif c in _WORD_START:
            start = i
            word = next((h for h in _HYPHENATED if text.startswith(h, i)
                         and (i + len(h) >= n or text[i + len(h)] not in _WORD)), None)
            if word is None:
                while i < n and text[i] in _WORD:
                    i += 1
                word = text[start:i]
            else:
                i += len(word)
            if word in _KEYWORDS:
                tokens.append(("kw", word, start))
            elif word in FUNCTIONS:
                tokens.append(("func", word, start))
            else:
                raise ExpressionSyntaxError(f"unknown name '{word}'", start)
        elif text.startswith(("!=", "<=", ">="), i):
            tokens.append(("op", text[i:i + 2], i))
            i += 2
        elif c in "=<>+-*/(),":
            tokens.append(("op", c, i))
            i += 1
        else:
            raise ExpressionSyntaxError(f"unexpected character '{c}'", i)
    tokens.append(("eof", None, n))
    return tokens


def _name_end(text: str, i: int) -> int:
    if i >= len(text) or text[i] not in _WORD_START:
        return -1
    while i < len(text) and text[i] in _WORD:
        i += 1
    return i


def _field_token(text: str, start: int, tokens: list[tuple[str, Any, int]]) -> int:
    """``${name}`` or ``${group.field}``."""
    if not text.startswith("${", start):
        raise ExpressionSyntaxError("expected '${' to start a field reference", start)
    end = _name_end(text, start + 2)
    if end < 0:
        raise ExpressionSyntaxError("expected a field name after '${'", start + 2)
    name, sub = text[start + 2:end], None
    if end < len(text) and text[end] == ".":
        sub_end = _name_end(text, end + 1)
        if sub_end < 0:
            raise ExpressionSyntaxError("expected a field name after '.'", end + 1)
        sub, end = text[end + 1:sub_end], sub_end
    if end >= len(text) or text[end] != "}":
        raise ExpressionSyntaxError("expected '}' to close the field reference", end)
    tokens.append(("field", (name, sub), start))
    return end + 1


# ---------------------------------------------------------------- parser
# AST nodes are tuples, immutable and hashable, so a parsed expression can be cached and shared:
#   ("lit", value) ("field", name, sub_or_None) ("current",) ("neg", node)
#   ("arith", (operand, ...), (op, ...)) ("cmp", op, left, right)
#   ("and", (node, ...)) ("or", (node, ...)) ("call", name, (arg, ...))

class _Parser:
    def __init__(self, tokens: list[tuple[str, Any, int]]) -> None:
        self.tokens = tokens
        self.i = 0
        self.depth = 0

    def peek(self) -> tuple[str, Any, int]:
        return self.tokens[self.i]

    def advance(self) -> tuple[str, Any, int]:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def is_op(self, *ops: str) -> bool:
        kind, value, _ = self.peek()
        return kind == "op" and value in ops

    def expect_op(self, op: str) -> None:
        if not self.is_op(op):
            raise ExpressionSyntaxError(f"expected '{op}'", self.peek()[2])
        self.advance()

    def enter(self, position: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionSyntaxError(f"nested deeper than {MAX_DEPTH}", position)

    def parse(self) -> tuple:
        if self.peek()[0] == "eof":
            raise ExpressionSyntaxError("empty expression", 0)
        node = self.parse_or()
        kind, value, position = self.peek()
        if kind != "eof":
            raise ExpressionSyntaxError(f"unexpected {_describe(kind, value)}", position)
        return node

    def parse_or(self) -> tuple:
        items = [self.parse_and()]
        while self.peek()[:2] == ("kw", "or"):
            self.advance()
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else ("or", tuple(items))

    def parse_and(self) -> tuple:
        items = [self.parse_cmp()]
        while self.peek()[:2] == ("kw", "and"):
            self.advance()
            items.append(self.parse_cmp())
        return items[0] if len(items) == 1 else ("and", tuple(items))

    def parse_cmp(self) -> tuple:
        left = self.parse_add()
        if not self.is_op(*_COMPARISONS):
            return left
        op = self.advance()[1]
        right = self.parse_add()
        if self.is_op(*_COMPARISONS):
            raise ExpressionSyntaxError("comparisons cannot be chained; use 'and'", self.peek()[2])
        return ("cmp", op, left, right)

    def parse_add(self) -> tuple:
        return self._chain(self.parse_mul, ("+", "-"))

    def parse_mul(self) -> tuple:
        return self._chain(self.parse_unary, ("*", "/"))

    def _chain(self, operand: Any, ops: tuple[str, ...]) -> tuple:
        operands, operators = [operand()], []
        while self.is_op(*ops):
            operators.append(self.advance()[1])
            operands.append(operand())
        if not operators:
            return operands[0]
        return ("arith", tuple(operands), tuple(operators))

    def parse_unary(self) -> tuple:
        if self.is_op("-"):
            position = self.advance()[2]
            self.enter(position)
            operand = self.parse_unary()
            self.depth -= 1
            return ("neg", operand)
        return self.parse_primary()

    def parse_primary(self) -> tuple:
        kind, value, position = self.advance()
        if kind in ("num", "str"):
            return ("lit", value)
        if kind == "kw" and value in ("true", "false", "null"):
            return ("lit", {"true": True, "false": False, "null": None}[value])
        if kind == "field":
            return ("field", value[0], value[1])
        if kind == "current":
            return ("current",)
        if kind == "op" and value == "(":
            self.enter(position)
            node = self.parse_or()
            self.expect_op(")")
            self.depth -= 1
            return node
        if kind == "func":
            return self.parse_call(value, position)
        raise ExpressionSyntaxError(f"unexpected {_describe(kind, value)}", position)

    def parse_call(self, name: str, position: int) -> tuple:
        self.expect_op("(")
        self.enter(position)
        args = []
        if not self.is_op(")"):
            args.append(self.parse_or())
            while self.is_op(","):
                self.advance()
                args.append(self.parse_or())
        self.expect_op(")")
        self.depth -= 1
        low, high = FUNCTIONS[name]
        if len(args) < low or (high is not None and len(args) > high):
            wanted = f"{low}-{high}"
            if low == high:
                wanted = str(low)
            elif high is None:
                wanted = f"{low} or more"
            raise ExpressionSyntaxError(
                f"{name}() takes {wanted} argument(s), got {len(args)}", position)
        return ("call", name, tuple(args))


def _describe(kind: str, value: Any) -> str:
    if kind == "eof":
        return "end of expression"
    if kind == "num":
        return "number"
    if kind == "str":
        return "string"
    if kind == "field":
        return "field reference"
    if kind == "current":
        return "'.'"
    return f"'{value}'"


@functools.lru_cache(maxsize=1024)
def _parse_cached(text: str) -> tuple:
    if len(text) > MAX_LENGTH:
        raise ExpressionSyntaxError(f"longer than {MAX_LENGTH} characters", MAX_LENGTH)
    return _Parser(_tokenize(text)).parse()


def parse(text: str) -> tuple:
    """Parse once, evaluate many times. Raises ExpressionSyntaxError."""
    if not isinstance(text, str):
        raise ExpressionSyntaxError("an expression must be a string", 0)
    return _parse_cached(text)


def references(ast_or_text: tuple | str) -> set[str]:
    """Field names an expression reads: ``name``, ``group.field``, and ``.`` (current value)."""
    ast = parse(ast_or_text) if isinstance(ast_or_text, str) else ast_or_text
    found: set[str] = set()
    stack = [ast]
    while stack:
        node = stack.pop()
        kind = node[0]
        if kind == "field":
            found.add(node[1] if node[2] is None else f"{node[1]}.{node[2]}")
        elif kind == "current":
            found.add(".")
        elif kind == "neg":
            stack.append(node[1])
        elif kind == "arith":
            stack.extend(node[1])
        elif kind == "cmp":
            stack.extend(node[2:4])
        elif kind in ("and", "or"):
            stack.extend(node[1])
        elif kind == "call":
            stack.extend(node[2])
    return found


# ---------------------------------------------------------------- values

def _read(value: Any) -> Any:
    """A context value as the language sees it: ints and Decimals become doubles."""
    if value is None or isinstance(value, bool | str | list | dict):
        return value
    if isinstance(value, numbers.Real | decimal.Decimal):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, tuple):
        return list(value)
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, float)


def _finite(number: float) -> float | None:
    return number if math.isfinite(number) else None


def is_truthy(value: Any) -> bool:
    if value is None or value is False:
        return False
    if isinstance(value, float | int):
        return value != 0
    if isinstance(value, str | list):
        return len(value) > 0
    return True


def _equal(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_number(a) and _is_number(b):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    return False


def _order(op: str, a: Any, b: Any) -> bool:
    comparable = (_is_number(a) and _is_number(b)) or (isinstance(a, str) and isinstance(b, str))
    if not comparable:
        return False
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


def _decimal_digits(x: float) -> tuple[str, int]:
    """Shortest round-trip decimal of x >= 0 as (digits, exponent): x == digits * 10**exponent."""
    mantissa, _, exp = repr(x).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0") or "0"
    return digits, (int(exp) if exp else 0) - len(fraction)


def _increment(digits: str) -> str:
    """Add one to a string of decimal digits (no big integers: JS must do the same)."""
    chars = list(digits)
    i = len(chars) - 1
    while i >= 0 and chars[i] == "9":
        chars[i] = "0"
        i -= 1
    if i < 0:
        return "1" + "".join(chars)
    chars[i] = str(int(chars[i]) + 1)
    return "".join(chars)


def round_half_away(x: float, places: int = 0) -> float:
    """Round the decimal form of x to ``places`` decimals, halves away from zero (money rules)."""
    if x == 0 or not math.isfinite(x):
        return x + 0.0
    sign = -1.0 if x < 0 else 1.0
    digits, exponent = _decimal_digits(abs(x))
    if exponent >= -places:
        return x
    drop = -places - exponent
    if drop > len(digits):
        return 0.0
    keep = digits[: len(digits) - drop] or "0"
    if digits[len(digits) - drop] >= "5":
        keep = _increment(keep)
    return sign * float(f"{keep}e{-places}") + 0.0


# ---------------------------------------------------------------- evaluator
#
# An expression is compiled once into nested closures, one per node, each taking
# (values, entry, current): a form's few dozen expressions run for every field of every visit,
# and walking the tree node by node (a dispatch on the node's kind at every step) was most of
# the time a 1,000-visit push spent in validation (issue 23). The semantics are the module
# docstring's; tests/data/expression_cases.json holds both languages to them.

Compiled = Callable[[dict, dict | None, Any], Any]


def _compile(node: tuple) -> Compiled:
    kind = node[0]
    if kind == "lit":
        value = node[1]
        return lambda values, entry, current: value
    if kind == "field":
        return _compile_field(node[1], node[2])
    if kind == "current":
        return lambda values, entry, current: current
    if kind == "neg":
        return _compile_neg(_compile(node[1]))
    if kind == "arith":
        return _compile_arith(tuple(_compile(item) for item in node[1]), node[2])
    if kind == "cmp":
        return _compile_cmp(node[1], _compile(node[2]), _compile(node[3]))
    if kind in ("and", "or"):
        items = tuple(_compile(item) for item in node[1])
        if kind == "and":
            return lambda values, entry, current: all(
                is_truthy(item(values, entry, current)) for item in items)
        return lambda values, entry, current: any(
            is_truthy(item(values, entry, current)) for item in items)
    return _compile_call(node[1], tuple(_compile(arg) for arg in node[2]))


def _compile_field(name: str, sub: str | None) -> Compiled:
    if sub is not None:
        def group_field(values: dict, entry: dict | None, current: Any) -> Any:
            rows = values.get(name)
            if not isinstance(rows, list | tuple):
                return None
            return [_read(row.get(sub)) if isinstance(row, dict) else None for row in rows]
        return group_field

    def field(values: dict, entry: dict | None, current: Any) -> Any:
        if entry is not None and name in entry:  # an entry's own field shadows the top level
            return _read(entry[name])
        return _read(values.get(name))
    return field


def _compile_neg(operand: Compiled) -> Compiled:
    def neg(values: dict, entry: dict | None, current: Any) -> Any:
        value = operand(values, entry, current)
        return -value + 0.0 if _is_number(value) else None
    return neg


def _compile_arith(operands: tuple[Compiled, ...], operators: tuple[str, ...]) -> Compiled:
    first, steps = operands[0], tuple(zip(operators, operands[1:], strict=True))

    def arith(values: dict, entry: dict | None, current: Any) -> Any:
        result = first(values, entry, current)
        for op, operand in steps:
            right = operand(values, entry, current)
            if not (_is_number(result) and _is_number(right)):
                result = None
            elif op == "+":
                result = _finite(result + right)
            elif op == "-":
                result = _finite(result - right)
            elif op == "*":
                result = _finite(result * right)
            else:
                result = None if right == 0 else _finite(result / right)
        return result
    return arith


def _compile_cmp(op: str, left: Compiled, right: Compiled) -> Compiled:
    if op == "=":
        return lambda values, entry, current: _equal(
            left(values, entry, current), right(values, entry, current))
    if op == "!=":
        return lambda values, entry, current: not _equal(
            left(values, entry, current), right(values, entry, current))
    return lambda values, entry, current: _order(
        op, left(values, entry, current), right(values, entry, current))


def _compile_call(name: str, args: tuple[Compiled, ...]) -> Compiled:
    # Lazy ones first: they must not evaluate the arguments they do not need.
    if name == "if":
        condition, when_true, when_false = args
        return lambda values, entry, current: (
            when_true if is_truthy(condition(values, entry, current)) else when_false)(
            values, entry, current)
    if name == "coalesce":
        def coalesce(values: dict, entry: dict | None, current: Any) -> Any:
            for arg in args:
                value = arg(values, entry, current)
                if value is not None and value != "":
                    return value
            return None
        return coalesce
    function = _EAGER_FUNCTIONS[name]
    return lambda values, entry, current: function(
        [arg(values, entry, current) for arg in args])


def _not(values: list) -> Any:
    return not is_truthy(values[0])


def _min_max(pick: Callable[[list[float]], float]) -> Callable[[list], Any]:
    def extreme(values: list) -> Any:
        found = [n for v in values for n in _numbers_in(v)]
        return pick(found) if found else None
    return extreme


def _selected(values: list) -> Any:
    return any(_equal(answer, values[1]) for answer in _answers(values[0]))


def _round(values: list) -> Any:
    x = values[0]
    places = values[1] if len(values) > 1 else 0.0
    if not _is_number(x) or not _is_number(places) or places != int(places) or abs(places) > 15:
        return None
    return _finite(round_half_away(x, int(places)))


def _string_length(values: list) -> Any:
    if values[0] is None:
        return 0.0
    return float(len(values[0])) if isinstance(values[0], str) else None


def _int(values: list) -> Any:
    return float(math.trunc(values[0])) + 0.0 if _is_number(values[0]) else None


def _numbers_in(value: Any) -> list[float]:
    items = value if isinstance(value, list) else [value]
    return [item for item in (_read(i) for i in items) if _is_number(item)]


def _sum(value: Any) -> float | None:
    # Left-to-right addition, not fsum: JS has no fsum and the two sides must agree to the bit.
    total = 0.0
    for number in _numbers_in(value):
        total += number
    return _finite(total)


def _count(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, list):
        return float(sum(1 for item in value if item is not None))
    return 1.0


def _answers(value: Any) -> list:
    if isinstance(value, list):
        return [_read(item) for item in value if item is not None]
    if isinstance(value, str):
        return [part for part in value.split(" ") if part]
    return []


def _export(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) <= _MAX_SAFE_INTEGER:
        return int(value)
    return value


_EAGER_FUNCTIONS: dict[str, Callable[[list], Any]] = {
    "not": _not,
    "sum": lambda values: _sum(values[0]),
    "count": lambda values: _count(values[0]),
    "min": _min_max(min),
    "max": _min_max(max),
    "selected": _selected,
    "count-selected": lambda values: float(len(_answers(values[0]))),
    "round": _round,
    "string-length": _string_length,
    "int": _int,
}


@functools.lru_cache(maxsize=1024)
def compiled(text: str) -> Callable[[dict, dict | None, Any], Any]:
    """``text`` parsed and compiled once: a function of (values, entry, current) that answers
    as `evaluate` does with that context (entry None outside a repeat, current None outside
    a constraint). Raises ExpressionSyntaxError."""
    run = _compile(parse(text))

    def evaluated(values: dict, entry: dict | None, current: Any) -> Any:
        return _export(run(values, entry if isinstance(entry, dict) else None, _read(current)))
    return evaluated


def evaluate(ast_or_text: tuple | str, context: dict | None = None) -> Any:
    """Evaluate an expression.

    ``context`` is ``{"values": {...}, "entry": {...}, "current": value}``, every key optional:
    ``values`` the top-level fields (repeat groups as lists of dicts, plus any read-only context
    values such as ``case_kind``), ``entry`` the repeat entry being evaluated (its fields shadow
    top-level ones), ``current`` the value bound to ``.``.
    """
    context = context or {}
    values = context.get("values") or {}
    if isinstance(ast_or_text, str):
        return compiled(ast_or_text)(values, context.get("entry"), context.get("current"))
    entry = context.get("entry")
    run = _compile(ast_or_text)
    return _export(run(values, entry if isinstance(entry, dict) else None,
                       _read(context.get("current"))))
