"""The sensitivity catalogue (backend/privacy/catalogue.py): every personal field has a mark
and a source; one table per role and purpose says full, masked or hidden (PIPL Art. 6, 28;
DOMAIN.md Identity data). The expectations are written out here, not read from the table,
so loosening a cell fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backend.auth.rules import (
    ADMIN,
    APPROVER,
    COUNTY_SUPERVISOR,
    FIELD_WORKER,
    INTAKE_CLERK,
    RECIPIENT,
    REVIEWER,
    ROLES,
    VILLAGE_ASSISTANT,
    Caller,
)
from backend.forms.definition import iter_fields
from backend.privacy import catalogue
from backend.privacy.catalogue import FULL, HIDDEN, MASKED
from backend.privacy.rules import Disclosure

FORMS = Path(__file__).resolve().parents[2] / "backend" / "forms" / "definitions"


def caller(*roles: str) -> Caller:
    return Caller("u1", frozenset(roles), "530621101")


def test_every_field_has_one_of_the_four_marks_and_says_where_it_comes_from():
    for key, entry in catalogue.FIELDS.items():
        assert entry.mark in catalogue.MARKS, key
        assert entry.source.strip(), key


def test_the_resident_id_health_bank_account_and_faces_are_highly_sensitive():
    # PIPL Art. 28: identity numbers, health, financial accounts, biometrics
    for key in ("member.id_number", "payment.bank_account", "checkin.photo",
                "checkin.face_result", "recipient.reference_photo"):
        assert catalogue.mark_of(key) == catalogue.HIGHLY_SENSITIVE, key
    assert "MZ/T 073-2024" in catalogue.entry("member.id_number").source


def test_a_field_nobody_catalogued_is_treated_as_the_most_sensitive():
    assert catalogue.mark_of("complaint.reporter_name") == catalogue.HIGHLY_SENSITIVE


def test_a_package_registers_its_fields_with_a_known_mark_only():
    catalogue.register("test.thing", catalogue.INTERNAL, "a test")
    try:
        assert catalogue.mark_of("test.thing") == catalogue.INTERNAL
        with pytest.raises(ValueError):
            catalogue.register("test.other", "secret", "not a mark")
    finally:
        del catalogue.FIELDS["test.thing"]


def test_every_answer_of_the_shipped_forms_has_a_mark_with_its_source():
    for path in FORMS.glob("*.v*.json"):
        definition = json.loads(path.read_text(encoding="utf-8"))
        for section, field, _repeat in iter_fields(definition):
            entry = catalogue.answer_entry(section, field)
            assert entry is not catalogue.UNKNOWN, (path.name, field["name"])
            if field.get("format") == "resident_id":
                assert entry.mark == catalogue.HIGHLY_SENSITIVE
            if field["name"] in ("health", "disability_grade"):
                assert entry.mark == catalogue.HIGHLY_SENSITIVE


def test_a_form_may_declare_a_fields_mark_itself():
    entry = catalogue.answer_entry({"name": "household"}, {"name": "x", "sensitivity": "public"})
    assert entry.mark == catalogue.PUBLIC and "form definition" in entry.source


# (role, purpose) -> how (resident ID, phone) are shown
EXPECTED = {
    (FIELD_WORKER, "case_work"): (MASKED, FULL),
    (VILLAGE_ASSISTANT, "case_work"): (MASKED, FULL),
    (INTAKE_CLERK, "case_work"): (MASKED, FULL),
    (REVIEWER, "case_work"): (MASKED, FULL),
    (APPROVER, "case_work"): (MASKED, FULL),
    (COUNTY_SUPERVISOR, "case_work"): (MASKED, MASKED),
    (ADMIN, "case_work"): (MASKED, MASKED),
    (FIELD_WORKER, "phone_pull"): (MASKED, FULL),
    (REVIEWER, "phone_pull"): (MASKED, FULL),
    (COUNTY_SUPERVISOR, "phone_pull"): (MASKED, MASKED),
    (REVIEWER, "export"): (MASKED, MASKED),
    (APPROVER, "export"): (MASKED, MASKED),
    (REVIEWER, "full_export"): (FULL, FULL),
    (COUNTY_SUPERVISOR, "full_export"): (HIDDEN, HIDDEN),
    (FIELD_WORKER, "full_export"): (HIDDEN, HIDDEN),
    (REVIEWER, "reveal"): (FULL, FULL),
    (INTAKE_CLERK, "reveal"): (FULL, FULL),
    (APPROVER, "reveal"): (FULL, FULL),
    (FIELD_WORKER, "reveal"): (HIDDEN, HIDDEN),
    (COUNTY_SUPERVISOR, "reveal"): (HIDDEN, HIDDEN),
    (ADMIN, "reveal"): (HIDDEN, HIDDEN),
    (RECIPIENT, "own_view"): (MASKED, FULL),
    (RECIPIENT, "case_work"): (HIDDEN, HIDDEN),
    (catalogue.RECEIVER, "joint_handling"): (FULL, MASKED),
    (catalogue.RECEIVER, "reporting"): (MASKED, MASKED),
}


@pytest.mark.parametrize(("pair", "expected"), list(EXPECTED.items()),
                         ids=[f"{r}-{p}" for r, p in EXPECTED])
def test_the_table_shows_each_number_as_written(pair, expected):
    role, purpose = pair
    shown = (catalogue.field_shown({role}, purpose, "member.id_number"),
             catalogue.field_shown({role}, purpose, "member.phone"))
    assert shown == expected


@pytest.mark.parametrize("role", ROLES)
def test_no_role_reads_a_full_resident_id_on_the_desk_without_a_reveal(role):
    assert not Disclosure.of(caller(role)).full_id


def test_only_those_who_decide_may_reveal_or_export_in_full():
    assert {r for r in ROLES if catalogue.may_reveal({r}, "member.id_number")} == {
        INTAKE_CLERK, REVIEWER, APPROVER}
    assert {r for r in ROLES if catalogue.may_export_full({r})} == {
        INTAKE_CLERK, REVIEWER, APPROVER}


def test_roles_add_up_to_the_most_open_cell():
    assert catalogue.field_shown({COUNTY_SUPERVISOR, REVIEWER}, "case_work",
                                 "member.phone") == FULL
    assert Disclosure.of(caller(COUNTY_SUPERVISOR, FIELD_WORKER)).full_phone


def test_a_purpose_nobody_holds_shows_nothing():
    assert catalogue.field_shown({REVIEWER}, "no_such_purpose", "member.name") == HIDDEN


def test_reveal_purposes_have_words_in_both_languages():
    for language in ("zh-CN", "en"):
        assert set(catalogue.REVEAL_PURPOSE_WORDS[language]) == set(catalogue.REVEAL_PURPOSES)
