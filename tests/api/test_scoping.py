"""Scoping matrix: every role, every endpoint, own township vs the other one.

A user of one township asking for another township's case or household gets 404
and never its data (one team must never read another's cases).
"""

import pytest

from tests.api.helpers import case_of_township, household_of_township

WENPING, LONGTOUSHAN = "530621100", "530621101"
ROLES = ["fw1", "fw3", "assistant", "intake", "reviewer", "approver", "admin"]


@pytest.mark.parametrize("role", ROLES)
def test_other_townships_case_is_not_found(api, db_session, role):
    other = case_of_township(db_session, LONGTOUSHAN)
    response = api.get(f"wenping_{role}", f"/api/cases/{other.id}")
    assert response.status_code == 404
    assert response.get_json()["type"] == "case-not-found"
    assert other.household_id not in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ROLES)
def test_other_townships_household_is_not_found(api, db_session, role):
    other = household_of_township(db_session, LONGTOUSHAN)
    response = api.get(f"wenping_{role}", f"/api/households/{other.id}")
    assert response.status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_lists_hold_only_own_township(api, role):
    for path in ("/api/cases?page_size=100", "/api/households?page_size=100"):
        items = api.get(f"wenping_{role}", path).get_json()["items"]
        assert all(item["jurisdiction_code"].startswith(WENPING) for item in items)


@pytest.mark.parametrize("role", ["intake", "reviewer", "approver", "admin"])
def test_other_townships_case_cannot_be_edited(api, db_session, role):
    other = case_of_township(db_session, LONGTOUSHAN)
    response = api.patch(f"wenping_{role}", f"/api/cases/{other.id}",
                         json={"note": "x"}, headers={"If-Match": f'"{other.version}"'})
    assert response.status_code == 404


def test_field_worker_sees_only_assigned_cases(api, db_session):
    fw1 = api.user_id("wenping_fw1")
    items = api.get("wenping_fw1", "/api/cases?page_size=100").get_json()["items"]
    assert items
    assert all(fw1 in [m["user_id"] for m in c["team"]] for c in items)
    unassigned = case_of_township(db_session, WENPING, unassigned=True)
    assert api.get("wenping_fw1", f"/api/cases/{unassigned.id}").status_code == 404


def test_unassigned_field_worker_sees_nothing(api):
    assert api.get("wenping_fw3", "/api/cases").get_json()["total"] == 0


def test_county_supervisor_reads_both_townships(api):
    items = api.get("county_supervisor", "/api/cases?page_size=100").get_json()["items"]
    townships = {c["jurisdiction_code"][:9] for c in items}
    assert townships == {WENPING, LONGTOUSHAN}


@pytest.mark.parametrize("role", ["fw1", "reviewer", "approver"])
def test_roles_that_do_not_take_applications_cannot_create(api, db_session, role):
    household = household_of_township(db_session, WENPING)
    response = api.post(f"wenping_{role}", "/api/cases", json={
        "household_id": household.id, "kind": "dibao", "channel": "window",
        "is_economic_check_authorized": True, "has_honesty_pledge": True})
    assert response.status_code == 403
    assert response.get_json()["type"] == "forbidden"


@pytest.mark.parametrize("role", ["fw1", "assistant"])
def test_roles_that_only_read_cannot_edit(api, db_session, role):
    case = case_of_township(db_session, WENPING, assigned_to=api.user_id("wenping_fw1"))
    response = api.patch(f"wenping_{role}", f"/api/cases/{case.id}", json={"note": "x"},
                         headers={"If-Match": f'"{case.version}"'})
    assert response.status_code == 403


def test_supervisor_cannot_edit(api, db_session):
    case = case_of_township(db_session, WENPING)
    response = api.patch("county_supervisor", f"/api/cases/{case.id}", json={"note": "x"},
                         headers={"If-Match": f'"{case.version}"'})
    assert response.status_code == 403


def test_household_in_other_township_cannot_get_a_case(api, db_session):
    other = household_of_township(db_session, LONGTOUSHAN)
    response = api.post("wenping_intake", "/api/cases", json={
        "household_id": other.id, "kind": "dibao", "channel": "window",
        "is_economic_check_authorized": True, "has_honesty_pledge": True})
    assert response.status_code == 404
    assert response.get_json()["type"] == "household-not-found"


def test_household_cannot_be_registered_outside_jurisdiction(api):
    response = api.post("wenping_intake", "/api/households", json={
        "jurisdiction_code": "530621101201", "address": "龙井村1组",
        "members": [{"name": "张三", "relation": "head"}]})
    assert response.status_code == 422
    assert response.get_json()["type"] == "outside-jurisdiction"


def test_a_visit_for_another_townships_case_is_refused_even_from_its_team(api, db_session):
    """The push reads its cases in one prebuilt statement whose area is a bound pattern: a
    field worker listed (by mistake) on another township's visit team still gets
    case-not-found, and nothing is stored."""
    from sqlalchemy import func, select

    from backend import clock
    from backend.cases.models import CaseTeamMember
    from backend.visits.models import VisitSubmission
    from tests.visit_factory import submission

    other = case_of_township(db_session, LONGTOUSHAN)
    db_session.add(CaseTeamMember(case_id=other.id, user_id=api.user_id("wenping_fw1"),
                                  assigned_at=clock.now()))
    db_session.commit()
    record = submission({"id": other.id, "kind": other.kind,
                         "household": {"home_lat": None, "home_lon": None}})
    answer = api.post("wenping_fw1", "/api/sync/push",
                      json={"device_id": "device-scope-1", "records": [record]})
    result = answer.get_json()["results"][0]
    assert result["status"] == "rejected" and result["problem"]["type"] == "case-not-found"
    assert db_session.scalar(select(func.count()).select_from(VisitSubmission).where(
        VisitSubmission.case_id == other.id)) == 0

