"""Differential test of the form expression language: Python against the browser module.

Hypothesis generates expressions (mostly well formed, some mutated into syntax errors, some
past the length and depth limits) and the variable bindings they read. The server's evaluator
(backend/forms/expressions.py) and the device's (pwa/static/js/domain/expressions.js, in ONE
Node process for the whole run) must agree on every example: the same value, or the same
error class at the same code point. The run is derandomized with no example database, so CI
sees the same 300 examples every time. A disagreement found here is a real bug: fix the wrong
evaluator and add the case to tests/data/expression_cases.json.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from backend.forms.expressions import FUNCTIONS, MAX_DEPTH, MAX_LENGTH, evaluate

HELPER = Path(__file__).parent / "js" / "evaluate_expressions.mjs"


class NodeEvaluator:
    """The device's evaluator in one long-lived Node process, one JSON line per expression."""

    def __init__(self) -> None:
        node = shutil.which("node")
        if node is None:
            pytest.fail("node is not installed: the device's evaluator cannot be compared")
        self.process = subprocess.Popen(
            [node, str(HELPER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            encoding="utf-8", bufsize=1,
        )

    def __call__(self, expr: str, context: dict) -> dict:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps({"expr": expr, "context": context}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, f"the Node helper died (exit code {self.process.poll()})"
        return json.loads(line)

    def close(self) -> None:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.close()
        self.process.wait(timeout=10)
        self.process.stdout.close()
        assert self.process.returncode == 0


@pytest.fixture(scope="module")
def node_evaluate():
    evaluator = NodeEvaluator()
    yield evaluator
    evaluator.close()


# ---------------------------------------------------------------- what Python says

def python_outcome(expr: str, context: dict) -> dict:
    try:
        return {"value": evaluate(expr, context)}
    except Exception as error:  # noqa: BLE001 - any crash is an outcome to compare
        return {"error": type(error).__name__, "position": getattr(error, "position", None)}


def normal(value: Any) -> Any:
    """A value as JSON can carry it to and from JS: integral numbers as ints, -0 as 0."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return {"$nonfinite": {"inf": "Infinity", "-inf": "-Infinity"}.get(repr(value), "NaN")}
        # Through a double: JS prints 2**55 + 2 as 36028797018963970, the same double.
        return int(float(value)) if float(value).is_integer() else float(value)
    if isinstance(value, list | tuple):
        return [normal(v) for v in value]
    if isinstance(value, dict):
        return {k: normal(v) for k, v in value.items()}
    return {"$python": type(value).__name__}


def same(a: Any, b: Any) -> bool:
    """Equality that keeps True apart from 1 (and False from 0)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


def agree(python: dict, node: dict) -> bool:
    if "error" in python or "error" in node:
        return python.get("error") == node.get("error") and (
            python.get("position") == node.get("position"))
    return same(normal(python["value"]), normal(node["value"]))


# ---------------------------------------------------------------- bindings

NAMES = ["a", "b", "c", "s", "flag", "sel", "obj", "missing"]
GROUPS = ["g", "h"]
SUBFIELDS = ["x", "y", "name"]

tricky_floats = st.sampled_from([
    0.0, -0.0, 0.1, 0.5, 1.5, 2.5, -2.5, 2.675, 1.005, 0.045, 1e-7, 1e-5, 123456.789,
    1e15, 1e16 + 2, 1e21, 9007199254740993.0, 1.7976931348623157e308, 5e-324,
])
numbers = st.one_of(
    st.integers(-10, 10),
    st.integers(-(2**60), 2**60),
    tricky_floats,
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.floats(-1000, 1000, allow_nan=False).map(lambda x: round(x, 3)),
)
texts = st.one_of(
    st.sampled_from(["", " ", "a", "b", "a b", " a  b ", "5", "张三", "𠀀", "é", "ｅ", "Z", "z",
                     "ｅ𠀀", "𠀀ｅ", "a𠀀", "aｅ"]),
    # ｅ (U+FF45) sorts after 𠀀 (U+20000) in UTF-16 units, before it in code points.
    st.text(alphabet=st.sampled_from("ab 5张𠀀éｅ"), max_size=6),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(["lat", "lon", "x"]), inner, max_size=2),
    ),
    max_leaves=6,
)
entries = st.dictionaries(st.sampled_from(SUBFIELDS + ["a"]), values, max_size=4)
groups = st.one_of(st.none(), st.lists(st.one_of(entries, scalars), max_size=4))


@st.composite
def contexts(draw) -> dict:
    bound = draw(st.dictionaries(st.sampled_from(NAMES[:-1]), values, max_size=len(NAMES) - 1))
    if draw(st.booleans()):
        bound["s"] = draw(texts)
    for group in GROUPS:
        if draw(st.booleans()):
            bound[group] = draw(groups)
    context: dict = {"values": bound}
    if draw(st.booleans()):
        context["entry"] = draw(entries)
    if draw(st.booleans()):
        context["current"] = draw(values)
    return context


# ---------------------------------------------------------------- expressions

def _number_literal(n: int, fraction: int | None) -> str:
    return str(n) if fraction is None else f"{n}.{fraction:0{len(str(fraction))}d}"


number_literals = st.one_of(
    st.builds(_number_literal, st.integers(0, 10**6), st.none() | st.integers(0, 999)),
    st.sampled_from(["0", "0.5", "2.675", "1.005", "007", "0.10", "9007199254740993",
                     "99999999999999999999999", "1" + "0" * 400]),
)
string_literals = st.one_of(
    texts.map(lambda s: f"'{s}'"),
    texts.map(lambda s: f'"{s}"'),
    st.just("\"it's\""),
)
leaves = st.one_of(
    number_literals,
    string_literals,
    st.sampled_from(["true", "false", "null", "."]),
    st.sampled_from(NAMES + GROUPS).map(lambda n: "${" + n + "}"),
    st.builds(lambda g, f: "${" + g + "." + f + "}", st.sampled_from(GROUPS + ["a"]),
              st.sampled_from(SUBFIELDS)),
)
space = st.sampled_from([" ", " ", "  ", "\t", "\n", ""])
OPERATORS = ["+", "-", "*", "/", "=", "!=", "<", "<=", ">", ">=", "and", "or"]


def _binary(left: str, op: str, right: str, gap: str, parens: bool) -> str:
    gap = gap or (" " if op in ("and", "or") else "")
    text = f"{left}{gap}{op}{gap}{right}"
    return f"({text})" if parens else text


@st.composite
def _call(draw, children) -> str:
    name = draw(st.sampled_from(sorted(FUNCTIONS)))
    low, high = FUNCTIONS[name]
    count = draw(st.integers(low, (high if high is not None else low + 3)))
    if draw(st.integers(0, 19)) == 0:  # now and then a wrong argument count
        count = draw(st.integers(0, 5))
    args = draw(st.lists(children, min_size=count, max_size=count))
    return f"{name}({', '.join(args)})"


def _extend(children):
    return st.one_of(
        st.builds(_binary, children, st.sampled_from(OPERATORS), children, space,
                  st.sampled_from([True, True, True, False])),
        children.map(lambda c: f"-{c}"),
        children.map(lambda c: f"({c})"),
        _call(children),
    )


well_formed = st.recursive(leaves, _extend, max_leaves=12)
# One operator or call over leaves: most examples that say something about a single rule.
shallow = st.one_of(
    st.builds(_binary, leaves, st.sampled_from(OPERATORS), leaves, space, st.just(False)),
    _call(leaves),
    _call(leaves),
    st.builds(lambda f, x, n: f"{f}({x}, {n})", st.sampled_from(["round", "selected"]), leaves,
              st.one_of(number_literals, leaves, number_literals.map(lambda n: "-" + n))),
)


@st.composite
def mutated(draw) -> str:
    """A well-formed expression with one character deleted, inserted or replaced."""
    text = draw(well_formed)
    at = draw(st.integers(0, len(text)))
    junk = draw(st.sampled_from(list("$}{'\"(),.-!=<>é𠀀#@ 1a") + ["and", "or", "${", "=="]))
    how = draw(st.sampled_from(["delete", "insert", "replace"]))
    if how == "delete" and text:
        at = min(at, len(text) - 1)
        return text[:at] + text[at + 1:]
    if how == "replace" and at < len(text):
        return text[:at] + junk + text[at + 1:]
    return text[:at] + junk + text[at:]


at_the_limits = st.one_of(
    st.integers(MAX_DEPTH - 2, MAX_DEPTH + 2).map(lambda n: "(" * n + "1" + ")" * n),
    st.integers(MAX_DEPTH - 2, MAX_DEPTH + 2).map(lambda n: "-" * n + "1"),
    st.integers(MAX_DEPTH - 2, MAX_DEPTH + 2).map(lambda n: "not(" * n + "1" + ")" * n),
    st.integers(MAX_LENGTH - 2, MAX_LENGTH + 2).map(lambda n: ("1+" * n)[: n - 1] + "1"),
    st.integers(MAX_LENGTH - 2, MAX_LENGTH + 2).map(lambda n: "'" + "𠀀" * (n - 2) + "'"),
)
# Text rules (code points, not UTF-16 units) only show with text on both sides.
text_leaves = st.one_of(string_literals, st.just("${s}"))
about_text = st.one_of(
    st.builds(lambda x: f"string-length({x})", text_leaves),
    st.builds(_binary, text_leaves, st.sampled_from(["<", "<=", ">", ">=", "=", "!="]),
              text_leaves, space, st.just(False)),
    st.builds(lambda x, v: f"selected({x}, {v})", text_leaves, text_leaves),
    st.builds(lambda x: f"count-selected({x})", text_leaves),
)
expressions = st.one_of(*[shallow] * 4, *[well_formed] * 3, about_text, mutated(),
                        at_the_limits)


@settings(max_examples=300, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(batch=st.lists(expressions, min_size=1, max_size=8), context=contexts())
# Spots a few hundred random examples rarely reach, always run: code point order and length
# (UTF-16 would differ), decimal rounding, a syntax error after a character outside the BMP.
@example(batch=["'ｅ' < '𠀀'", "'a𠀀' >= 'aｅ'", "string-length('𠀀é')", "${s} < 'ｅ'",
                "'𠀀' +", "'𠀀𠀀' = ", "selected(${sel}, '𠀀')", "count-selected(${sel})"],
         context={"values": {"s": "𠀀", "sel": "a 𠀀  b"}})
@example(batch=["round(2.675, 2)", "round(-2.5)", "round(0.5)", "round(-0.05, 1)",
                "round(1.005, 2)", "round(0.045, 2)",
                "round(${a}, -1)", "round(1e21)", "int(-0.5)", "${a} / 0", "sum(${g.x})"],
         context={"values": {"a": 15, "g": [{"x": 0.1}, {"x": 0.2}, {"y": 1}]}})
def test_python_and_the_device_agree(node_evaluate, batch, context):
    # Several expressions per example over one set of bindings: more ground per example.
    for expr in batch:
        python = python_outcome(expr, context)
        node = node_evaluate(expr, context)

        assert agree(python, node), f"{expr!r} with {context!r}: Python {python!r}, Node {node!r}"
        assert python.get("error") in (None, "ExpressionSyntaxError"), python
        assert "$nonfinite" not in json.dumps(normal(python)), f"{expr!r}: non-finite is null"


def test_the_helper_reports_values_and_errors_like_python(node_evaluate):
    # The comparison itself must be able to fail: a value, a syntax error and its position.
    assert node_evaluate("1 + ${a}", {"values": {"a": 2}}) == {"value": 3}
    assert node_evaluate("1 +", {}) == {"error": "ExpressionSyntaxError", "position": 3}
    assert not agree(python_outcome("1 + 1", {}), node_evaluate("1 + 2", {}))
    assert not agree({"value": True}, {"value": 1})
    assert not agree({"error": "ExpressionSyntaxError", "position": 1},
                     {"error": "ExpressionSyntaxError", "position": 2})
