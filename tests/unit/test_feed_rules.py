"""The decisions feed's pure rules without the app: signed cursors, token text, and what a
purpose sees of a decision (DOMAIN.md, Identity data: a full resident ID only where the
purpose must match the person)."""

from __future__ import annotations

from backend.feeds import rules

KEY = "test-key-0123456789abcdef0123456789abcdef"
ID = "530621197004208635"


def test_a_cursor_round_trips_and_only_this_servers_key_signs_it():
    cursor = rules.Cursor("decisions", "530621", 42)
    text = rules.encode_cursor(KEY, cursor)
    assert rules.decode_cursor(KEY, text) == cursor
    assert rules.decode_cursor("another-key-0123456789abcdef012345678", text) is None
    payload, _, signature = text.rpartition(".")
    assert rules.decode_cursor(KEY, payload + "." + signature[:-1] + "A") is None
    assert rules.decode_cursor(KEY, "x" * 301) is None


def test_a_signed_value_that_is_not_a_cursor_is_refused():
    from itsdangerous import URLSafeSerializer

    sign = URLSafeSerializer(KEY, salt=rules.CURSOR_SALT).dumps
    for value in (["decisions", "530621", -1], ["decisions", "530621", True],
                  ["decisions", 530621, 1], {"s": 1}, ["decisions", "530621"]):
        assert rules.decode_cursor(KEY, sign(value)) is None


def test_token_text_parses_back_and_only_its_secret_matches():
    secret = rules.new_secret()
    text = rules.token_text("tok-1", secret)
    assert rules.parse_token(text) == ("tok-1", secret)
    assert rules.secret_matches(secret, rules.digest(secret))
    assert not rules.secret_matches(secret + "x", rules.digest(secret))
    for bad in (None, "", "eyJhbGciOi.jwt", "dsf_", "dsf_tok-1", "dsf_.secret", "dsf_" + "a" * 300):
        assert rules.parse_token(bad) is None


def decided():
    return {"id": "e1", "sequence": 7, "jurisdiction_code": "530621100001",
            "payload": {"case_id": "c1", "household_id": "h1", "kind": "dibao",
                        "decision": "stop", "decided_at": "2026-12-06T02:00:00+00:00",
                        "reasons": [f"户主 {ID} 名下有车辆, 电话 13912345678"],
                        "head": {"name": "罗桂兰", "id_number": ID}}}


def test_statistics_sees_no_full_id_not_even_in_the_reasons():
    item = rules.decision_item(decided(), rules.PURPOSES["statistics"])
    assert item["head"]["id_number"] != ID and item["head"]["id_number"].endswith(ID[-4:])
    assert ID not in item["reasons"][0] and "13912345678" not in item["reasons"][0]
    assert item["head"]["name"] == "罗桂兰" and item["sequence"] == 7
    assert not rules.discloses_full_id([item], rules.PURPOSES["statistics"])


def test_a_purpose_that_matches_people_reads_the_full_id():
    purpose = rules.PURPOSES["medical_assistance"]
    item = rules.decision_item(decided(), purpose)
    assert item["head"]["id_number"] == ID and ID in item["reasons"][0]
    assert "13912345678" not in item["reasons"][0]  # phones are never part of a decision
    assert rules.discloses_full_id([item], purpose)
