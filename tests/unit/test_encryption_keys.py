"""The keyring's seal, open and blind index (ADR 0020), without the app."""

from __future__ import annotations

import base64

import pytest

from backend.encryption.keys import (
    KeyProblem,
    SealedValueProblem,
    is_sealed,
    keyring_from,
    new_index_key_text,
    new_key_text,
)

INDEX = new_index_key_text()


def test_a_sealed_value_opens_and_says_nothing_of_the_plain_value():
    keyring = keyring_from(new_key_text("k1"), None, INDEX)
    token = keyring.seal("household_member.id_number", "530621198101042520")
    assert token.startswith("v1.k1.") and is_sealed(token)
    assert "530621198101042520" not in token and "2520" not in token
    assert keyring.open("household_member.id_number", token) == "530621198101042520"
    # Random nonces: the same number seals differently each time (no equality leak).
    assert keyring.seal("household_member.id_number", "530621198101042520") != token


def test_a_value_does_not_open_under_another_purpose_or_when_changed():
    keyring = keyring_from(new_key_text("k1"), None, INDEX)
    token = keyring.seal("household_member.id_number", "530621198101042520")
    with pytest.raises(SealedValueProblem):
        keyring.open("household_member.phone", token)  # copied into another column
    body = token.split(".", 2)[2]
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    with pytest.raises(SealedValueProblem):
        keyring.open("household_member.id_number", f"v1.k1.{flipped}")
    with pytest.raises(SealedValueProblem, match="not sealed"):
        keyring.open("household_member.id_number", "530621198101042520")


def test_a_retired_key_opens_old_values_and_the_current_one_seals_new_ones():
    old = new_key_text("k1")
    before = keyring_from(old, None, INDEX)
    token = before.seal("p", "13912345678")
    after = keyring_from(new_key_text("k2"), old, INDEX)
    assert after.open("p", token) == "13912345678"
    assert after.seal("p", "x").startswith("v1.k2.") and not after.is_current(token)
    without_old = keyring_from(new_key_text("k2"), None, INDEX)
    with pytest.raises(SealedValueProblem, match="'k1'"):
        without_old.open("p", token)


def test_the_blind_index_is_keyed_and_stable_across_data_keys():
    first = keyring_from(new_key_text("k1"), None, INDEX)
    second = keyring_from(new_key_text("k2"), None, INDEX)
    assert first.blind_index("p", "13912345678") == second.blind_index("p", "13912345678")
    assert first.blind_index("p", "13912345678") != first.blind_index("q", "13912345678")
    other = keyring_from(new_key_text("k1"), None, new_index_key_text())
    assert other.blind_index("p", "13912345678") != first.blind_index("p", "13912345678")


# Fixed keys, not new ones: each xdist worker must collect the same test ids.
FIXED_INDEX = base64.b64encode(b"i" * 32).decode()
FIXED_DATA = "k1:" + base64.b64encode(b"d" * 32).decode()


@pytest.mark.parametrize(("data_key", "index_key", "says"), [
    (None, FIXED_INDEX, "DOORSTEP_DATA_KEY"),
    ("", "", "DOORSTEP_DATA_KEY and DOORSTEP_INDEX_KEY not set"),
    (base64.b64encode(b"k" * 32).decode(), FIXED_INDEX, "<key id>:<base64"),  # no key id
    ("k1:not-base64!", FIXED_INDEX, "not base64"),
    ("k1:" + base64.b64encode(b"short").decode(), FIXED_INDEX, "32 bytes"),
    (FIXED_DATA, "", "DOORSTEP_INDEX_KEY"),
], ids=["no-data-key", "neither", "no-key-id", "not-base64", "short", "no-index-key"])
def test_missing_or_malformed_keys_are_refused_with_a_sentence(data_key, index_key, says):
    with pytest.raises(KeyProblem, match=says.replace("<", "<").replace("(", r"\(")):
        keyring_from(data_key, None, index_key)
