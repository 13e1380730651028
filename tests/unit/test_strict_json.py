"""loads_strict: JSON within limits of depth, number size, keys and encoding."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.dbtypes import nul_paths
from backend.web.strict_json import MAX_DEPTH, JsonBodyError, _brackets, loads_strict


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


def _brackets_by_hand(text: str) -> bytes:
    """The reference: walk the characters, tracking strings and their escapes."""
    out, in_string, escaped = [], False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[]{}":
            out.append(char)
    return "".join(out).encode()


TRICKY_TEXT = st.text(alphabet=st.sampled_from('ab"\\[]{}/\n\t\u00e9\u5f20\U0001f600'), max_size=12)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | TRICKY_TEXT,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(TRICKY_TEXT, children, max_size=4),
    max_leaves=30)


@settings(max_examples=500, deadline=None)
@given(JSON_VALUES, st.booleans())
def test_the_brackets_counted_are_those_outside_strings(value, ensure_ascii):
    """Quotes, backslashes and brackets inside keys and strings, escaped or not: the depth
    check sees exactly the brackets a character-by-character walk sees."""
    text = json.dumps(value, ensure_ascii=ensure_ascii)
    assert _brackets(text) == _brackets_by_hand(text)
    assert _brackets(text.encode()) == _brackets_by_hand(text)  # the body as received
    assert loads_strict(text) == value
