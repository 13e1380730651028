"""Cases: create (idempotent), read, edit with If-Match/412, team assignment, audit."""

import uuid

from backend.audit.models import AuditEvent
from backend.forms.identity import is_valid_resident_id
from tests.api.helpers import case_of_township, household_of_township

WENPING = "530621100"


def new_case(api, db_session, **overrides):
    household = household_of_township(db_session, WENPING)
    body = {"household_id": household.id, "kind": "dibao", "channel": "window",
            "is_economic_check_authorized": True, "has_honesty_pledge": True, **overrides}
    return api.post("wenping_intake", "/api/cases", json=body)


def test_create_case_sets_status_and_deadline(api, db_session):
    response = new_case(api, db_session)
    assert response.status_code == 201
    case = response.get_json()
    assert case["status"] == "accepted"
    assert case["deadline_on"] > case["applied_at"][:10]
    assert response.headers["ETag"] == '"1"'


def test_create_is_idempotent_with_client_id(api, db_session):
    case_id = str(uuid.uuid4())
    first = new_case(api, db_session, id=case_id)
    second = new_case(api, db_session, id=case_id)
    assert first.status_code == 201 and second.status_code == 200
    assert second.get_json()["id"] == case_id
    assert db_session.query(AuditEvent).filter_by(object_id=case_id,
                                                   action="case.created").count() == 1


def test_temporary_aid_needs_a_subtype(api, db_session):
    response = new_case(api, db_session, kind="temporary")
    assert response.status_code == 422
    assert "temporary_subtype" in response.get_json()["errors"]


def test_emergency_aid_is_due_next_day(api, db_session):
    response = new_case(api, db_session, kind="temporary", temporary_subtype="emergency",
                        applied_at="2026-11-24T09:00:00+08:00")
    assert response.get_json()["deadline_on"] == "2026-11-25"


def test_deadline_follows_the_townships_setting(api, db_session):
    # 龙头山镇 follows 002: 12 working days; 文屏镇 the 001 default of 20.
    body = {"kind": "dibao", "channel": "window", "is_economic_check_authorized": True,
            "has_honesty_pledge": True, "applied_at": "2026-11-02T09:00:00+08:00"}
    wenping = api.post("wenping_intake", "/api/cases", json={
        **body, "household_id": household_of_township(db_session, WENPING).id}).get_json()
    longtou = api.post("longtoushan_intake", "/api/cases", json={
        **body, "household_id": household_of_township(db_session, "530621101").id}).get_json()
    assert wenping["deadline_on"] == "2026-11-30"
    assert longtou.get("deadline_on") == "2026-11-18", longtou


def test_patch_needs_if_match(api, db_session):
    case = case_of_township(db_session, WENPING)
    response = api.patch("wenping_reviewer", f"/api/cases/{case.id}", json={"note": "复核"})
    assert response.status_code == 428
    assert response.get_json()["type"] == "precondition-required"


def test_patch_with_current_version_then_stale_version(api, db_session):
    case = case_of_township(db_session, WENPING)
    version = api.get("wenping_reviewer", f"/api/cases/{case.id}").get_json()["version"]
    ok = api.patch("wenping_reviewer", f"/api/cases/{case.id}", json={"note": "材料齐全"},
                   headers={"If-Match": f'"{version}"'})
    assert ok.status_code == 200
    assert ok.get_json()["note"] == "材料齐全"
    assert ok.get_json()["version"] == version + 1
    stale = api.patch("wenping_approver", f"/api/cases/{case.id}", json={"note": "覆盖"},
                      headers={"If-Match": f'"{version}"'})
    assert stale.status_code == 412
    assert stale.get_json()["type"] == "stale-version"
    assert stale.get_json()["current_version"] == version + 1
    again = api.get("wenping_reviewer", f"/api/cases/{case.id}").get_json()
    assert again["note"] == "材料齐全"


def test_edit_is_audited_with_before_and_after(api, db_session):
    case = case_of_township(db_session, WENPING)
    channel = "online" if case.channel != "online" else "window"
    response = api.patch("wenping_reviewer", f"/api/cases/{case.id}", json={"channel": channel},
              headers={"If-Match": f'"{case.version}"', "X-Device-Id": "device-123",
                       "User-Agent": "pytest-phone"})
    assert response.status_code == 200, response.get_json()
    event = db_session.query(AuditEvent).filter_by(object_id=case.id,
                                                   action="case.updated").one()
    assert event.actor_id == api.user_id("wenping_reviewer")
    assert event.after == {"channel": channel}
    assert event.device_id == "device-123"
    assert event.user_agent == "pytest-phone"
    assert event.request_id


def test_list_filters_and_pagination(api):
    page1 = api.get("wenping_reviewer", "/api/cases?page_size=5&page=1").get_json()
    page2 = api.get("wenping_reviewer", "/api/cases?page_size=5&page=2").get_json()
    assert page1["total"] == 20 and len(page1["items"]) == 5
    assert not {c["id"] for c in page1["items"]} & {c["id"] for c in page2["items"]}
    kinds = api.get("wenping_reviewer", "/api/cases?kind=extreme_poverty").get_json()["items"]
    assert kinds and all(c["kind"] == "extreme_poverty" for c in kinds)


def test_search_by_member_name(api, db_session):
    case = case_of_township(db_session, WENPING)
    name = api.get("wenping_reviewer", f"/api/cases/{case.id}").get_json()["household"][
        "head_name"]
    found = api.get("wenping_reviewer", f"/api/cases?q={name}").get_json()["items"]
    assert case.id in [c["id"] for c in found]


def test_ids_are_masked_for_field_workers_and_full_for_reviewers(api, db_session):
    fw = api.user_id("wenping_fw1")
    case = case_of_township(db_session, WENPING, assigned_to=fw)
    seen_by_worker = api.get("wenping_fw1", f"/api/cases/{case.id}").get_json()
    seen_by_reviewer = api.get("wenping_reviewer", f"/api/cases/{case.id}").get_json()
    seen_by_county = api.get("county_supervisor", f"/api/cases/{case.id}").get_json()
    worker_id = seen_by_worker["household"]["members"][0]["id_number"]
    full_id = seen_by_reviewer["household"]["members"][0]["id_number"]
    assert is_valid_resident_id(full_id)
    assert worker_id == full_id[:4] + "*" * 10 + full_id[-4:]
    assert "*" in seen_by_county["household"]["members"][0]["id_number"]
    county_phone = seen_by_county["household"]["members"][0]["phone"]
    assert county_phone is None or "****" in county_phone
    worker_phone = seen_by_worker["household"]["members"][0]["phone"]
    assert worker_phone is None or "*" not in worker_phone


def test_team_needs_two_field_workers(api, db_session):
    case = case_of_township(db_session, WENPING, unassigned=True)
    one = api.put("wenping_intake", f"/api/cases/{case.id}/team",
                  json={"user_ids": [api.user_id("wenping_fw1")]},
                  headers={"If-Match": f'"{case.version}"'})
    assert one.status_code == 422
    assert one.get_json()["type"] == "visit-team-too-small"
    same_twice = api.put("wenping_intake", f"/api/cases/{case.id}/team",
                         json={"user_ids": [api.user_id("wenping_fw1")] * 2},
                         headers={"If-Match": f'"{case.version}"'})
    assert same_twice.get_json()["type"] == "visit-team-too-small"
    reviewer = api.put("wenping_intake", f"/api/cases/{case.id}/team",
                       json={"user_ids": [api.user_id("wenping_fw1"),
                                          api.user_id("wenping_reviewer")]},
                       headers={"If-Match": f'"{case.version}"'})
    assert reviewer.get_json()["type"] == "visit-team-not-field-worker"
    other_township = api.put("wenping_intake", f"/api/cases/{case.id}/team",
                             json={"user_ids": [api.user_id("wenping_fw1"),
                                                api.user_id("longtoushan_fw1")]},
                             headers={"If-Match": f'"{case.version}"'})
    assert other_township.get_json()["type"] == "visit-team-not-field-worker"
    ok = api.put("wenping_intake", f"/api/cases/{case.id}/team",
                 json={"user_ids": [api.user_id("wenping_fw1"), api.user_id("wenping_fw3")]},
                 headers={"If-Match": f'"{case.version}"'})
    assert ok.status_code == 200
    assert ok.get_json()["status"] == "investigating"
    assert len(ok.get_json()["team"]) == 2


def test_team_member_who_is_a_declared_relative_is_refused(api, db_session):
    fw3 = api.user_id("wenping_fw3")
    household = api.post("wenping_intake", "/api/households", json={
        "jurisdiction_code": "530621100201", "address": "砚池社区3组5号",
        "staff_relatives": [{"user_id": fw3, "relation": "兄弟"}],
        "members": [{"name": "李四", "relation": "head"}]}).get_json()
    assert household["is_relative_of_staff"] is True
    case = api.post("wenping_intake", "/api/cases", json={
        "household_id": household["id"], "kind": "dibao", "channel": "window",
        "is_economic_check_authorized": True, "has_honesty_pledge": True}).get_json()
    response = api.put("wenping_intake", f"/api/cases/{case['id']}/team",
                       json={"user_ids": [api.user_id("wenping_fw1"), fw3]},
                       headers={"If-Match": f'"{case["version"]}"'})
    assert response.status_code == 422
    assert response.get_json()["type"] == "visit-team-conflict-of-interest"
