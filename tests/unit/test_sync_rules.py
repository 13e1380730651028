"""Pure sync rules (backend/sync/rules.py): the pull cursor round-trips, and a cursor that was
tampered with or garbled is rejected (None: the device then gets everything again), never
trusted. docs/sync-contract.md: the cursor is opaque to the device."""

from __future__ import annotations

import base64
import json

import pytest

from backend.sync.rules import Cursor, decode, encode, fingerprint

CURSOR = Cursor("2026-03-02T01:02:03.456789+00:00", "3f1c6a52-8a7e-4c1e-9a2b-0d1e2f3a4b5c",
                "a1b2c3d4e5f6", "0123456789ab", "ba9876543210", "c0ffee123456")


def raw(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def test_a_cursor_round_trips():
    assert decode(encode(CURSOR)) == CURSOR


def test_the_empty_cursor_round_trips():
    assert decode(encode(Cursor())) == Cursor()


def test_no_cursor_means_from_the_beginning():
    assert decode(None) == Cursor()
    assert decode("") == Cursor()


def test_the_cursor_is_url_safe_and_unpadded():
    text = encode(CURSOR)

    assert "=" not in text and "+" not in text and "/" not in text


def test_a_cursor_from_before_review_tasks_still_reads():
    """Phones hold five-field cursors from before reviews added their field: still valid,
    with no review tasks held (they get the current tasks on their next pull)."""
    assert decode(raw(["a", "b", "c", "d", "e"])) == Cursor("a", "b", "c", "d", "e", "")


@pytest.mark.parametrize("length", [64, 65])
def test_fields_up_to_64_characters_on_both_sides(length):
    values = ["x" * length, "", "", "", ""]

    assert (decode(raw(values)) is None) is (length > 64)


@pytest.mark.parametrize("values", [
    ["a", "b", "c", "d"],                 # one field short
    ["a", "b", "c", "d", "e", "f", "g"],  # one too many
    ["a", "b", "c", "d", 5],              # not text
    ["a", "b", "c", "d", None],
    {"updated_at": "a"},                  # not a list
    "a",
    None,
])
def test_a_cursor_of_the_wrong_shape_is_rejected(values):
    assert decode(raw(values)) is None


@pytest.mark.parametrize("text", [
    "not base64 at all!",
    "%%%%",
    base64.urlsafe_b64encode(b"\xff\xfe\x00 not json").decode(),
    base64.urlsafe_b64encode(b"[1,2").decode(),
    "A",
])
def test_a_garbled_cursor_is_rejected(text):
    assert decode(text) is None


def test_a_flipped_character_is_rejected_or_read_differently_never_the_same():
    text = encode(CURSOR)
    for index in range(len(text)):
        flipped = text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1:]
        assert decode(flipped) != CURSOR, index


def test_a_hand_made_cursor_with_long_fields_cannot_smuggle_data():
    assert decode(raw(["2026-03-02", "id", "f" * 1000, "", ""])) is None


def test_fingerprints_are_short_and_stable_whatever_the_key_order():
    first = fingerprint({"b": [1, 2], "a": "x"})

    assert first == fingerprint({"a": "x", "b": [1, 2]})
    assert len(first) == 12
    assert first != fingerprint({"a": "x", "b": [2, 1]})
