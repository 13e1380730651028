"""loads_strict: JSON within limits of depth, number size, keys and encoding."""

import json

import pytest

from backend.dbtypes import nul_paths
from backend.web.strict_json import MAX_DEPTH, JsonBodyError, loads_strict


def test_depth_up_to_the_limit_parses():
    assert loads_strict("[" * MAX_DEPTH + "]" * MAX_DEPTH) == json.loads(
        "[" * MAX_DEPTH + "]" * MAX_DEPTH)


def test_one_level_more_is_refused():
    with pytest.raises(JsonBodyError, match="nested more than 64"):
        loads_strict("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))


def test_brackets_inside_strings_do_not_count():
    text = json.dumps({"note": "[[[[{{{{" * 1000, "quote": 'a "[" b \\ [ c'})
    assert loads_strict(text)["note"].startswith("[[[[")


def test_fifty_thousand_levels_are_refused_without_recursion():
    # Tests never assert on time (bench/ does); a recursive parser would raise RecursionError.
    with pytest.raises(JsonBodyError, match="more than 64 levels"):
        loads_strict(b"[" * 50_000 + b"]" * 50_000)


@pytest.mark.parametrize("literal", ["1" * 1001, "-" + "1" * 1000, "1e400", "-1e400",
                                     "0." + "5" * 1000, "NaN", "Infinity", "-Infinity"])
def test_numbers_out_of_bounds_are_refused(literal):
    with pytest.raises(JsonBodyError):
        loads_strict('{"n": ' + literal + "}")


def test_numbers_within_bounds_parse_exactly():
    assert loads_strict('{"n": ' + "9" * 400 + "}")["n"] == int("9" * 400)
    assert loads_strict('[1.5e300, -0.0, 12]') == [1.5e300, -0.0, 12]


def test_duplicate_keys_are_refused_at_any_depth():
    with pytest.raises(JsonBodyError, match="'b' appears twice"):
        loads_strict('{"a": [{"b": 1, "c": 2, "b": 3}]}')


def test_invalid_utf8_and_lone_surrogates_are_refused():
    with pytest.raises(JsonBodyError, match="UTF-8"):
        loads_strict(b'"\xff"')
    with pytest.raises(JsonBodyError, match="unpaired"):
        loads_strict('["ok", {"k": "\\udfff"}]')
    assert loads_strict('"\\ud83d\\ude00"') == "😀"


def test_nul_characters_parse_and_nul_paths_names_each_field_holding_one():
    # PostgreSQL text cannot hold NUL: the caller refuses those fields (422 or one record).
    value = loads_strict('{"a": ["ok", {"k": "x\\u0000"}], "\\u0000": 1, "b": "\\\\u0000"}')
    assert nul_paths(value) == ["\\u0000", "a.1.k"]
    assert nul_paths(value["b"]) == []
    assert nul_paths("\x00") == ["_body"]


def test_empty_and_unbalanced_bodies_are_refused():
    for text in ("", "  ", "[}", "{]", "]["):
        with pytest.raises(JsonBodyError):
            loads_strict(text)
