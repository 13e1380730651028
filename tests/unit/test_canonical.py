"""Canonical JSON (RFC 8785) of visit submissions, checked against the vectors the PWA's
canonical.js is checked against too (tests/unit/js/canonical.test.mjs), so the bytes both
investigators sign are the bytes the server hashes (谁调查谁签字谁负责, 002/004)."""

import hashlib
import json
import struct
from pathlib import Path

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.attestation import canonical
from backend.attestation.canonical import (
    ATTESTED_KEYS,
    _fast_canonical_json,
    canonical_json,
    parsed_submission_digest_in,
    submission_digest,
)

VECTORS = json.loads(
    (Path(__file__).parents[1] / "data" / "canonical_cases.json").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda case: case["name"])
def test_shared_case_canonical_text_and_digest(case):
    canonical = canonical_json(case["input"])

    assert canonical.decode("utf-8") == case["canonical"]
    assert hashlib.sha256(canonical).hexdigest() == case["sha256"]


@pytest.mark.parametrize("case", VECTORS["rejects"], ids=lambda case: case["name"])
def test_shared_rejects_raise(case):
    with pytest.raises(ValueError):
        canonical_json(json.loads(case["input_json"]))


@pytest.mark.parametrize("vector", VECTORS["numbers"], ids=lambda vector: vector["ieee_hex"])
def test_rfc8785_appendix_b_numbers(vector):
    (number,) = struct.unpack(">d", bytes.fromhex(vector["ieee_hex"]))

    assert canonical_json(number) == vector["canonical"].encode("ascii")


@pytest.mark.parametrize("ieee_hex", VECTORS["numbers_rejected"])
def test_rfc8785_nan_and_infinity_rejected(ieee_hex):
    (number,) = struct.unpack(">d", bytes.fromhex(ieee_hex))

    with pytest.raises(ValueError):
        canonical_json(number)


def test_python_float_with_integral_value_prints_like_javascript():
    assert canonical_json({"amount": 100.0, "big": 1e21, "small": 1e-7, "zero": -0.0}) == (
        b'{"amount":100,"big":1e+21,"small":1e-7,"zero":0}'
    )


def test_chinese_text_is_utf8_not_escaped():
    assert canonical_json({"户主": "张三"}) == '{"户主":"张三"}'.encode()


def test_integer_beyond_javascript_safe_range_rejected():
    # A JavaScript number cannot hold 2**53 + 1 exactly, so the device could not sign it.
    canonical_json(2**53 - 1)
    with pytest.raises(ValueError):
        canonical_json(2**53 + 1)


@pytest.mark.parametrize("value", [{1: "x"}, {"when": object()}, b"bytes", {1.5}])
def test_non_json_values_rejected(value):
    with pytest.raises(ValueError):
        canonical_json(value)


def _visit_submission():
    case = next(c for c in VECTORS["cases"] if c["name"] == "a visit submission")
    return dict(case["input"]), case["sha256"]


def test_submission_digest_covers_exactly_the_attested_keys():
    submission, expected = _visit_submission()
    assert set(submission) == set(ATTESTED_KEYS)

    assert submission_digest(submission) == expected


def test_submission_digest_ignores_attestations_and_server_fields():
    submission, expected = _visit_submission()
    submission["attestations"] = [{"user_id": "u1", "signature": "..."}]
    submission["received_at"] = "2024-05-06T02:41:00Z"

    assert submission_digest(submission) == expected


def test_submission_digest_changes_with_any_attested_field():
    submission, expected = _visit_submission()
    submission["data"] = {**submission["data"], "per_capita_income": 412.6}

    assert submission_digest(submission) != expected


@pytest.mark.parametrize("key", ATTESTED_KEYS)
def test_submission_digest_requires_every_attested_key(key):
    submission, _ = _visit_submission()
    del submission[key]

    with pytest.raises(ValueError, match=key):
        submission_digest(submission)


# --- the fast path (json's C encoder plus the number rules) agrees with rfc8785 ------------

def _rfc8785_or_error(value):
    try:
        return rfc8785.dumps(value)
    except ValueError:
        return ValueError


def _ours_or_error(value):
    try:
        return canonical_json(value)
    except ValueError:
        return ValueError


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda case: case["name"])
def test_shared_cases_take_the_fast_path_unless_astral_keys_need_utf16_order(case):
    fast = _fast_canonical_json(case["input"])
    if any(ord(ch) > 0xFFFF for ch in json.dumps(case["input"], ensure_ascii=False)):
        assert fast is None  # handed to rfc8785, which sorts by UTF-16 code units
    else:
        assert fast is not None and fast.decode("utf-8") == case["canonical"]


@pytest.mark.parametrize("vector", VECTORS["numbers"], ids=lambda vector: vector["ieee_hex"])
def test_fast_path_numbers_in_every_position(vector):
    (number,) = struct.unpack(">d", bytes.fromhex(vector["ieee_hex"]))
    text = vector["canonical"]

    assert _fast_canonical_json(number) == text.encode()
    assert _fast_canonical_json({"b": [number, "1.0,", number], "a": number, "s": 'x"1e-07'}) \
        == f'{{"a":{text},"b":[{text},"1.0,",{text}],"s":"x\\"1e-07"}}'.encode()


_KEYS = st.text(st.characters(codec="utf-8"), max_size=4) | st.sampled_from(
    ["a", "b", "\ue000", "\U0001f600", "é", "Z", "10", "1"])
_SCALARS = (st.none() | st.booleans()
            | st.integers(min_value=-(2**53) - 2, max_value=2**53 + 2)
            | st.integers(min_value=-(2**64), max_value=2**64)
            | st.floats(allow_nan=True, allow_infinity=True)
            | st.floats(min_value=-1e25, max_value=1e25).map(round)
            | st.floats(min_value=-1e25, max_value=1e25).map(lambda f: float(round(f)))
            | st.floats(width=32) | st.sampled_from([1e-7, 1e-6, 1e16, 1e21, 1e20, -0.0, 5e-324])
            | st.text() | st.text(st.characters(codec="utf-8")) | st.sampled_from(
                ['"', "\\", "\x00\x1f\x7f", "\u2028", "1.0,", ":1e-07", "\ud800"]))
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=5)
                       | st.dictionaries(_KEYS, inner, max_size=5), max_leaves=30)


@settings(max_examples=600, deadline=None)
@given(_VALUES)
def test_canonical_json_equals_rfc8785_on_any_json_value(value):
    assert _ours_or_error(value) == _rfc8785_or_error(value)


@settings(max_examples=1500, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_float_is_written_as_rfc8785_writes_it(number):
    assert _fast_canonical_json([number]) == rfc8785.dumps([number])


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.tuples(st.integers()), st.sets(st.integers(), max_size=3),
                 st.dictionaries(st.integers() | st.booleans() | st.none(), st.integers(),
                                 min_size=1, max_size=3),
                 st.binary(max_size=3)))
def test_values_json_would_coerce_are_left_to_rfc8785(value):
    assert _fast_canonical_json(value) is None
    assert _ours_or_error(value) == _rfc8785_or_error(value)


# --- a replay's probe: the C encoder's text alone, the full digest where it misses ----------

def _parsed(value):
    """``value`` as the push's JSON parser would hand it over, or None where JSON cannot."""
    try:
        return json.loads(json.dumps(value, ensure_ascii=False, allow_nan=False))
    except (TypeError, ValueError, RecursionError):
        return None


def _with_data(data):
    submission, _ = _visit_submission()
    return {**submission, "data": data}


def _digest_or_none(submission):
    try:
        return submission_digest(submission)
    except ValueError:
        return None


@settings(max_examples=400, deadline=None)
@given(_VALUES, _VALUES)
def test_a_replay_probe_answers_as_the_full_digest_does(stored_value, sent_value):
    stored, sent = _parsed(stored_value), _parsed(sent_value)
    digests = {d for d in (_digest_or_none(_with_data(stored)),) if d is not None}
    expected = _digest_or_none(_with_data(sent))
    if expected is None:
        with pytest.raises(ValueError):
            parsed_submission_digest_in(_with_data(sent), digests)
        return
    assert parsed_submission_digest_in(_with_data(sent), digests) == (expected in digests)
    if digests:
        assert parsed_submission_digest_in(_with_data(stored), digests)


def test_a_plain_replay_is_matched_without_the_full_canonical_form(monkeypatch):
    """As a phone sends it: JavaScript writes 1200, never 1200.0."""
    case = next(c for c in VECTORS["cases"] if c["name"] == "a visit submission")
    submission, expected = json.loads(case["canonical"]), case["sha256"]

    def refuse(_value):
        raise AssertionError("the full canonical form was computed")

    monkeypatch.setattr(canonical, "canonical_json", refuse)
    assert parsed_submission_digest_in(submission, {expected})


@pytest.mark.parametrize("data", [{"amount": 100.0}, {"big": 1e21}, {"\U0001f600": 1, "\ue000": 2}])
def test_a_replay_whose_text_is_not_yet_canonical_is_matched_by_the_full_digest(data, monkeypatch):
    submission = _with_data(data)
    digest = submission_digest(submission)
    full_forms = []
    real = canonical.canonical_json

    def counted(value):
        full_forms.append(value)
        return real(value)

    monkeypatch.setattr(canonical, "canonical_json", counted)
    assert parsed_submission_digest_in(submission, {digest})
    assert len(full_forms) == 1  # the encoder's text missed; the full digest answered
    assert not parsed_submission_digest_in(submission, {submission_digest(_with_data({}))})


def test_a_replay_probe_refuses_what_the_digest_refuses():
    submission, _ = _visit_submission()
    del submission["stamps"]
    with pytest.raises(ValueError, match="stamps"):
        parsed_submission_digest_in(submission, set())
