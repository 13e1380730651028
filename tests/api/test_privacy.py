"""One role-aware masker for everything that answers with survey answers or household data.

DOMAIN.md "Identity data" and the sensitivity catalogue (issue 22): a full resident ID to
nobody on the desk (those who decide eligibility reveal one with a purpose, audited: see
test_privacy_reveals.py); full mobile numbers to them and to the field staff who reach the
household. The expectations below are written out per role on purpose (not read from
backend.auth.rules), so a loosened rule fails here. Each check looks at the raw JSON text:
a full number must not appear anywhere in it, in any field.
"""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import select

from backend.households.models import Member
from tests.api.test_sync import assigned_case, push
from tests.visit_factory import member, submission, survey_answers

SURVEY_ID = "53062119560309022X"   # members[].id_number (format resident_id)
SURVEY_MOBILE = "13987654321"      # contact_mobile (format mobile)
NOTE_ID = "530621198001010019"     # written into the free-text notes
NOTE_MOBILE = "15812345678"        # written into the free-text notes

# username -> (sees full resident IDs, sees full mobile numbers)
ROLES = {
    "wenping_fw1": (False, True),              # field_worker (on the case's team)
    "wenping_assistant": (False, True),        # village_assistant
    "wenping_intake": (False, True),           # intake_clerk
    "wenping_reviewer": (False, True),         # reviewer
    "wenping_approver": (False, True),         # approver
    "county_supervisor": (False, False),       # county_supervisor
    "wenping_admin": (False, False),           # admin
}
PARAMS = pytest.mark.parametrize(("username", "sees"), list(ROLES.items()), ids=list(ROLES))


def assert_disclosed(text: str, ids: list[str], phones: list[str], sees: tuple[bool, bool]):
    full_id, full_phone = sees
    for number in ids:
        assert (number in text) is full_id, f"resident ID {number} shown={not full_id}"
        assert number[:4] in text  # still there, masked: 1101**********1234
    for number in phones:
        assert (number in text) is full_phone, f"mobile {number} shown={not full_phone}"
        assert f"{number[:3]}****{number[-4:]}" in text or full_phone


def visit_with_numbers(api) -> tuple[dict, dict]:
    case = assigned_case(api, kind="dibao")
    data = survey_answers(members=[member(id_number=SURVEY_ID)],
                          contact_mobile=SURVEY_MOBILE,
                          notes=f"邻居说户主身份证{NOTE_ID}，电话 {NOTE_MOBILE}")
    record = submission(case, data=data)
    result = push(api, [record]).get_json()["results"][0]
    assert result["status"] == "accepted", result
    return case, record


@PARAMS
def test_visit_detail_masks_every_revision_for_the_role(api, username, sees):
    _, record = visit_with_numbers(api)
    edited = copy.deepcopy(record)
    edited["base_revision"] = 1
    edited["data"]["housing_area"] = 50
    assert push(api, [edited]).get_json()["results"][0]["revision"] == 2
    response = api.get(username, f"/api/visits/{record['id']}")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [r["revision"] for r in body["revisions"]] == [1, 2]
    assert_disclosed(response.get_data(as_text=True), [SURVEY_ID, NOTE_ID],
                     [SURVEY_MOBILE, NOTE_MOBILE], sees)


def test_visit_detail_masks_declared_fields_whole(api):
    _, record = visit_with_numbers(api)
    content = api.get("county_supervisor", f"/api/visits/{record['id']}").get_json()[
        "revisions"][0]["content"]
    assert content["data"]["members"][0]["id_number"] == "5306**********022X"
    assert content["data"]["contact_mobile"] == "139****4321"
    assert content["data"]["housing_area"] == 45.5  # other answers untouched
    assert content["photos"] == [] and content["case_id"] == record["case_id"]


def test_conflict_body_masks_both_versions(api):
    """fw2 (a field worker: full phone, masked ID) edits a stale copy: the 409 inside the
    sync result carries the server's and their own answers, both masked."""
    _, record = visit_with_numbers(api)
    edited = copy.deepcopy(record)
    edited["base_revision"] = 1
    edited["data"]["housing_area"] = 50
    assert push(api, [edited]).get_json()["results"][0]["revision"] == 2
    stale = copy.deepcopy(record)
    stale["base_revision"] = 1
    stale["data"]["housing_area"] = 75
    response = push(api, [stale], username="wenping_fw2")
    problem = response.get_json()["results"][0]["problem"]
    assert problem["type"] == "submission-conflict" and problem["status"] == 409
    assert problem["your_version"]["content"]["data"]["housing_area"] == 75
    assert problem["server_version"]["content"]["data"]["members"][0]["id_number"] \
        == "5306**********022X"
    assert_disclosed(response.get_data(as_text=True), [SURVEY_ID, NOTE_ID],
                     [SURVEY_MOBILE, NOTE_MOBILE], ROLES["wenping_fw1"])


def test_conflict_body_masks_a_number_sent_in_an_unknown_field(api):
    _, record = visit_with_numbers(api)
    push(api, [{**copy.deepcopy(record), "base_revision": 1,
                "data": {**record["data"], "housing_area": 50}}])
    stale = copy.deepcopy(record)
    stale["base_revision"] = 1
    stale["data"]["not_in_the_form"] = {"ids": [f"id {SURVEY_ID}", NOTE_ID]}
    response = push(api, [stale], username="wenping_fw2")
    assert response.get_json()["results"][0]["problem"]["type"] == "submission-conflict"
    assert_disclosed(response.get_data(as_text=True), [SURVEY_ID, NOTE_ID], [], (False, True))


def household_numbers(db_session, household_id: str) -> tuple[list[str], list[str]]:
    members = db_session.scalars(select(Member).where(Member.household_id == household_id))
    members = list(members)
    return ([m.id_number for m in members if m.id_number],
            [m.phone for m in members if m.phone])


def case_with_phones(api, db_session) -> dict:
    items = api.get("wenping_fw1", "/api/cases?assigned_to_me=true&page_size=100").get_json()[
        "items"]
    return next(c for c in items if household_numbers(db_session, c["household_id"])[1])


@PARAMS
def test_case_and_household_views_mask_for_the_role(api, db_session, username, sees):
    case = case_with_phones(api, db_session)
    ids, phones = household_numbers(db_session, case["household_id"])
    for path in (f"/api/cases/{case['id']}", f"/api/households/{case['household_id']}",
                 "/api/cases?page_size=100", "/api/households?page_size=100"):
        response = api.get(username, path)
        assert response.status_code == 200, (path, response.get_json())
        text = response.get_data(as_text=True)
        if path.endswith("page_size=100") and case["household_id"] not in text:
            continue  # not on this page for this role: nothing of it to leak
        assert_disclosed(text, ids, phones, sees)


def test_pull_masks_households_for_the_field_worker(api, db_session):
    case = case_with_phones(api, db_session)
    ids, phones = household_numbers(db_session, case["household_id"])
    response = api.get("wenping_fw1", "/api/sync/pull")
    assert case["household_id"] in response.get_data(as_text=True)
    assert_disclosed(response.get_data(as_text=True), ids, phones, ROLES["wenping_fw1"])


def test_form_invalid_problem_does_not_echo_answers(api):
    case = assigned_case(api, kind="dibao")
    data = survey_answers(members=[member(id_number=NOTE_ID[:-1] + "5")],  # bad check digit
                          contact_mobile="1" + SURVEY_MOBILE)  # 12 digits
    response = push(api, [submission(case, data=data)], username="wenping_fw1")
    result = response.get_json()["results"][0]
    assert result["problem"]["type"] == "form-invalid"
    assert NOTE_ID[:-1] not in response.get_data(as_text=True)
    assert SURVEY_MOBILE not in response.get_data(as_text=True)


# --- a masked ID sent back stands for the stored number, or is refused -------------------------

def _stored_ids(db_session, record_id, revision):
    from backend.visits.models import VisitRevision

    stored = db_session.get(VisitRevision, (record_id, revision))
    db_session.refresh(stored)
    return [m["id_number"] for m in stored.content["data"]["members"]]


def test_a_masked_id_sent_back_keeps_the_real_number(api, db_session):
    """fw1 sees members' IDs masked; their revision sends the mask back unchanged."""
    _, record = visit_with_numbers(api)
    edited = copy.deepcopy(record)
    edited["base_revision"] = 1
    edited["data"]["members"][0]["id_number"] = "5306**********022X"  # as fw1 is shown it
    edited["data"]["housing_area"] = 50
    result = push(api, [edited]).get_json()["results"][0]
    assert (result["status"], result["revision"]) == ("accepted", 2), result
    assert _stored_ids(db_session, record["id"], 2) == [SURVEY_ID]
    # The same record again is a replay, not a new revision.
    assert push(api, [edited]).get_json()["results"][0]["status"] == "duplicate"


def test_a_mask_matching_nothing_is_refused_per_field(api, db_session):
    _, record = visit_with_numbers(api)
    edited = copy.deepcopy(record)
    edited["base_revision"] = 1
    edited["data"]["members"][0]["id_number"] = "5306**********1234"  # not this member's
    result = push(api, [edited]).get_json()["results"][0]
    assert result["status"] == "rejected"
    assert (result["problem"]["type"], result["problem"]["status"]) == ("masked-id-mismatch", 422)
    assert list(result["problem"]["errors"]) == ["members[0].id_number"]
    assert _stored_ids(db_session, record["id"], 1) == [SURVEY_ID]


def test_a_first_visit_masked_id_stands_for_the_registered_member(api, db_session):
    """The survey prefills the register's IDs masked; a first revision sends them back."""
    case = assigned_case(api, kind="dibao")
    registered = household_numbers(db_session, case["household_id"])[0]
    assert registered
    masked = registered[0][:4] + "*" * 10 + registered[0][-4:]
    record = submission(case, data=survey_answers(members=[member(id_number=masked)]))
    result = push(api, [record]).get_json()["results"][0]
    assert result["status"] == "accepted", result
    assert _stored_ids(db_session, record["id"], 1) == [registered[0]]
    stranger = submission(case, data=survey_answers(members=[member(
        id_number="1101**********1234")]))
    refused = push(api, [stranger]).get_json()["results"][0]
    assert refused["problem"]["type"] == "masked-id-mismatch"
