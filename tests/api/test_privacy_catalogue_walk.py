"""Every role over every endpoint that answers with personal data, each member field
compared with the sensitivity catalogue's table (issue 22, PIPL Art. 6).

For each (role, endpoint) the expected cell is read from ``backend.privacy.catalogue``
for the endpoint's purpose; the unit test (tests/unit/test_privacy_catalogue.py) pins the
table's cells themselves. Here the point is that no endpoint decides on its own: a member
record found anywhere in an answer shows ``id_number``, ``phone`` and ``birth_on`` exactly
as its cell says (full: the stored value; masked: the mask; hidden: null), and a survey
answer's number appears in full in the raw text only where its cell is full."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from backend.forms.identity import mask_mobile, mask_resident_id
from backend.households.models import Member
from backend.privacy import catalogue
from tests.api.test_checkins import (  # noqa: F401 - fixtures
    activated,
    approved_households,
    faces_match,
    frozen_clock,
)
from tests.api.test_privacy import SURVEY_ID, SURVEY_MOBILE, visit_with_numbers

ROLES = {
    "wenping_fw1": catalogue.FIELD_WORKER,
    "wenping_assistant": catalogue.VILLAGE_ASSISTANT,
    "wenping_intake": catalogue.INTAKE_CLERK,
    "wenping_reviewer": catalogue.REVIEWER,
    "wenping_approver": catalogue.APPROVER,
    "county_supervisor": catalogue.COUNTY_SUPERVISOR,
    "wenping_admin": catalogue.ADMIN,
}


def endpoints(case: dict, visit_id: str) -> list[tuple[str, str]]:
    return [
        (f"/api/cases/{case['id']}", catalogue.CASE_WORK),
        ("/api/cases?page_size=100", catalogue.CASE_WORK),
        (f"/api/households/{case['household_id']}", catalogue.CASE_WORK),
        ("/api/households?page_size=100", catalogue.CASE_WORK),
        (f"/api/visits/{visit_id}", catalogue.CASE_WORK),
        (f"/api/reviews/{visit_id}/evidence", catalogue.CASE_WORK),
        ("/api/sync/pull", catalogue.PHONE_PULL),
        ("/api/reviews/export.csv?lang=en", catalogue.EXPORT),
        ("/api/reviews/export.csv?lang=en&sheet=members", catalogue.EXPORT),
    ]


def member_records(value: Any, known: dict[str, Member]):
    """Every dict in an answer that is a household member's record (its id is a member's)."""
    if isinstance(value, dict):
        if value.get("id") in known and "id_number" in value:
            yield value
        for item in value.values():
            yield from member_records(item, known)
    elif isinstance(value, list):
        for item in value:
            yield from member_records(item, known)


def expected(stored: Any, cell: str, masker) -> Any:
    if stored is None or cell == catalogue.HIDDEN:
        return None
    return stored if cell == catalogue.FULL else masker(stored)


def compare_member(record: dict, member: Member, roles: set[str], purpose: str) -> None:
    def cell(key: str) -> str:
        return catalogue.field_shown(roles, purpose, key)

    where = (sorted(roles), purpose, member.id)
    assert record["id_number"] == expected(member.id_number, cell("member.id_number"),
                                           mask_resident_id), where
    assert record["phone"] == expected(member.phone, cell("member.phone"), mask_mobile), where
    sees_birth = (cell("member.id_number") == catalogue.FULL
                  and cell("member.birth_on") == catalogue.FULL)
    assert record["birth_on"] == (member.birth_on.isoformat()
                                  if sees_birth and member.birth_on else None), where


def survey_cells(roles: set[str], purpose: str) -> tuple[str, str]:
    section = {"name": "members"}
    id_mark = catalogue.answer_entry(section, {"name": "id_number", "format": "resident_id"})
    phone_mark = catalogue.answer_entry({"name": "household"},
                                        {"name": "contact_mobile", "format": "mobile"})
    return (catalogue.shown(roles, purpose, id_mark.mark),
            catalogue.shown(roles, purpose, phone_mark.mark))


@pytest.fixture
def walked(api, db_session):
    case, record = visit_with_numbers(api)
    members = {m.id: m for m in db_session.scalars(select(Member))}
    return case, record["id"], members


@pytest.mark.parametrize("username", list(ROLES))
def test_every_endpoint_shows_each_member_field_as_the_catalogue_says(api, walked, username):
    case, visit_id, members = walked
    roles = {ROLES[username]}
    checked = 0
    for path, purpose in endpoints(case, visit_id):
        response = api.get(username, path)
        text = response.get_data(as_text=True)
        if response.status_code in (403, 404):
            assert SURVEY_ID not in text and SURVEY_MOBILE not in text, path
            continue
        assert response.status_code == 200, (path, response.get_json())
        id_cell, phone_cell = survey_cells(roles, purpose)
        if SURVEY_ID[-4:] in text:  # the visit is in this answer
            assert (SURVEY_ID in text) is (id_cell == catalogue.FULL), (path, id_cell)
            assert (SURVEY_MOBILE in text) is (phone_cell == catalogue.FULL), (path, phone_cell)
        if response.mimetype != "application/json":
            continue
        for found in member_records(response.get_json(), members):
            compare_member(found, members[found["id"]], roles, purpose)
            checked += 1
    assert checked, "the walk found no member record for this role: it proves nothing"


def test_the_recipient_sees_their_own_household_as_the_catalogue_says(api, db_session):
    household = approved_households(db_session)[0]
    recipient = activated(api, household)
    members = {m.id: m for m in household.members}
    response = api.get(recipient.name, f"/api/personal-data/own/{household.id}")
    assert response.status_code == 200
    found = list(member_records(response.get_json(), members))
    assert len(found) == len(members)
    for record in found:
        compare_member(record, members[record["id"]], {catalogue.RECIPIENT},
                       catalogue.OWN_VIEW)
    # and nothing through the desk's endpoints (a recipient's cell there is hidden)
    for path in (f"/api/households/{household.id}", "/api/cases?page_size=100",
                 "/api/households?page_size=100"):
        answer = api.get(recipient.name, path)
        assert answer.status_code in (200, 403, 404)
        if answer.status_code == 200:
            assert list(member_records(answer.get_json(), members)) == [], path


def test_the_walk_would_catch_an_endpoint_that_decides_on_its_own(app):
    """The comparison is not toothless: a full number where the cell says masked fails."""
    with app.app_context():  # a member's ID number keeps its blind index: the app's keys
        member = Member(id="m1", household_id="h", position=0, name="x", relation="head",
                        id_number=SURVEY_ID, phone=SURVEY_MOBILE, birth_on=date(1956, 3, 9))
    leaked = {"id": "m1", "id_number": SURVEY_ID, "phone": SURVEY_MOBILE, "birth_on": None}
    with pytest.raises(AssertionError):
        compare_member(leaked, member, {catalogue.REVIEWER}, catalogue.CASE_WORK)
