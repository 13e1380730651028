"""Canonical JSON (RFC 8785) of visit submissions, checked against the vectors the PWA's
canonical.js is checked against too (tests/unit/js/canonical.test.mjs), so the bytes both
investigators sign are the bytes the server hashes (谁调查谁签字谁负责, 002/004)."""

import hashlib
import json
import struct
from pathlib import Path

import pytest

from backend.attestation.canonical import ATTESTED_KEYS, canonical_json, submission_digest

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
