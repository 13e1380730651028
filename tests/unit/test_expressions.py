"""The shared expression table, run through the Python evaluator.

The same table runs through pwa/static/js/domain/expressions.js (tests/unit/js), so a case that
passes here and there proves the device and the server compute the same thing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backend.forms.expressions import ExpressionSyntaxError, evaluate, parse, references

CASES = json.loads(
    (Path(__file__).parents[1] / "data" / "expression_cases.json").read_text(encoding="utf-8")
)["cases"]


def same(actual, expected) -> bool:
    """Equality that, unlike ==, keeps True apart from 1 (the JS side uses deepStrictEqual)."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        return type(actual) is type(expected) and actual == expected
    if isinstance(actual, list) and isinstance(expected, list):
        return len(actual) == len(expected) and all(map(same, actual, expected))
    if isinstance(actual, int | float) and isinstance(expected, int | float):
        return actual == expected
    return type(actual) is type(expected) and actual == expected


def test_the_table_is_big_enough():
    assert len(CASES) >= 60
    assert len({case["name"] for case in CASES}) == len(CASES), "case names are test ids"


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_case(case):
    if "error" in case:
        with pytest.raises(ExpressionSyntaxError) as caught:
            evaluate(case["expr"], case.get("context"))
        if "position" in case:
            assert caught.value.position == case["position"], caught.value
    else:
        actual = evaluate(case["expr"], case.get("context"))
        assert same(actual, case["expect"]), f"{actual!r} != {case['expect']!r}"


class RecordingDict(dict):
    """Top-level values that remember which fields were read."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.read = []

    def get(self, key, default=None):
        self.read.append(key)
        return super().get(key, default)


@pytest.mark.parametrize(("expr", "expect", "never_read"), [
    ("${a} = 0 and ${b} = 1", False, "b"),
    ("${a} = 1 or ${b} = 1", True, "b"),
    ("if(${a} = 1, ${c}, ${b})", 3, "b"),
    ("coalesce(${a}, ${b})", 1, "b"),
])
def test_short_circuit_does_not_read_the_skipped_side(expr, expect, never_read):
    values = RecordingDict(a=1, b=2, c=3)
    assert evaluate(expr, {"values": values}) == expect
    assert never_read not in values.read


def test_parse_is_cached_and_reusable():
    ast = parse("${a} + 1")
    assert parse("${a} + 1") is ast
    assert evaluate(ast, {"values": {"a": 1}}) == 2
    assert evaluate(ast, {"values": {"a": 41}}) == 42


def test_references_lists_fields_groups_and_the_current_value():
    assert references("sum(${members.income}) > ${limit} and . != null") == {
        "members.income", "limit", "."}


def test_integral_results_are_ints_so_json_matches_javascript():
    assert json.dumps(evaluate("round(-0.4)")) == "0"
    assert json.dumps(evaluate("6 / 3")) == "2"
    assert json.dumps(evaluate("7 / 2")) == "3.5"


def test_non_string_expression_is_a_syntax_error():
    with pytest.raises(ExpressionSyntaxError):
        parse(None)  # type: ignore[arg-type]
