"""The one masker (backend/privacy/rules.py), DOMAIN.md "Identity data"."""

from __future__ import annotations

from backend.auth import rules as roles
from backend.auth.rules import Caller
from backend.privacy.rules import (
    Disclosure,
    identity_fields,
    mask_answers,
    mask_text,
    mask_values,
)

DEFINITION = {"sections": [{"name": "s", "fields": [
    {"name": "contact_mobile", "type": "text", "format": "mobile"},
    {"name": "notes", "type": "text"},
    {"name": "members", "type": "repeat", "fields": [
        {"name": "id_number", "type": "text", "format": "resident_id"},
        {"name": "age", "type": "integer"}]}]}]}


def caller(*role: str) -> Caller:
    return Caller("u", frozenset(role), "530621")


SUPERVISOR = caller(roles.COUNTY_SUPERVISOR)


def test_identity_fields_come_from_the_definition():
    assert identity_fields(DEFINITION) == {"contact_mobile": "mobile",
                                           "members.id_number": "resident_id"}
    assert identity_fields(None) == {}


def test_declared_fields_are_masked_whole_even_when_malformed():
    data = {"contact_mobile": "12345", "members": [{"id_number": "abc123456789", "age": 7}]}
    masked = mask_answers(data, DEFINITION, SUPERVISOR)
    assert masked == {"contact_mobile": "*****",
                      "members": [{"id_number": "abc1****6789", "age": 7}]}


def test_numbers_in_free_text_and_unknown_forms_are_masked_by_shape():
    text = "身份证110105199003071234，电话13812345678，手机 8613912345678"
    assert mask_text(text, Disclosure(False, False)) == (
        "身份证1101**********1234，电话138****5678，手机 86139****5678")
    assert mask_answers({"x": [text]}, None, SUPERVISOR)["x"][0].count("*") == 18


def test_a_number_sent_as_an_integer_is_masked():
    assert mask_values({"n": 13812345678, "age": 70, "ok": True}, SUPERVISOR) == {
        "n": "138****5678", "age": 70, "ok": True}


def test_hashes_and_uuids_are_not_mistaken_for_numbers():
    sha = "ab13812345678cd" + "0" * 49
    uid = "12345678-1234-1234-1234-138123456789"
    assert mask_values([sha, uid], SUPERVISOR) == [sha, uid]


def test_no_role_reads_a_full_id_in_the_answers_without_a_reveal():
    """The catalogue (ADR 0021): a full resident ID is a reveal with a purpose, for a reviewer
    too; the contact phone stays whole for those whose work is to call."""
    data = {"contact_mobile": "13812345678", "members": [{"id_number": "110105199003071234"}]}
    assert mask_answers(data, DEFINITION, caller(roles.REVIEWER)) == {
        "contact_mobile": "13812345678", "members": [{"id_number": "1101**********1234"}]}
    field = mask_answers(data, DEFINITION, caller(roles.FIELD_WORKER))
    assert field == {"contact_mobile": "13812345678",
                     "members": [{"id_number": "1101**********1234"}]}
