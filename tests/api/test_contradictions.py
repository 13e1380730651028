"""The remaining contradictions of issue 19, each test naming its source: the economic
check's dates (001/002), a 12-day (002) township never extending to 30 (001), and the
payment day from each case's own jurisdiction (001: by the 10th, a setting)."""

from __future__ import annotations

from datetime import timedelta

from backend import clock
from backend.jurisdictions.models import JurisdictionSetting
from tests.api.test_workflow import (
    draw_and_check,
    investigating,
    later,
    move,
    noticed,
    ok,
    problem,
    put,
)


def test_economic_check_dates_returned_after_requested_none_in_the_future_001_002(
        api, db_session):
    case = investigating(api, db_session)
    now = clock.now()
    path = f"/api/cases/{case['id']}/economic-check"
    for requested, returned, field in (
            (now + timedelta(days=1), None, "requested_at"),
            (now - timedelta(days=3), now + timedelta(days=1), "returned_at"),
            (now - timedelta(days=3), now - timedelta(days=4), "returned_at")):
        body = problem(put(api, "wenping_intake", path, {
            "requested_at": requested.isoformat(),
            "returned_at": returned.isoformat() if returned else None, "result": None}),
            422, "validation-failed")
        assert field in body["errors"], body
    view = ok(put(api, "wenping_intake", path, {
        "requested_at": (now - timedelta(days=3)).isoformat(),
        "returned_at": now.isoformat(), "result": "eligible"}))
    assert view["economic_check"]["result"] == "eligible"


def test_the_payment_day_comes_from_the_case_s_own_jurisdiction_001(api, db_session):
    db_session.add(JurisdictionSetting(jurisdiction_code="530621100",
                                       key="monthly_payment_day", value=5,
                                       updated_at=clock.now()))
    db_session.commit()
    case = noticed(api, db_session)
    later(days=7)
    draw_and_check(api, case["id"])
    view = ok(move(api, case["id"], "approved", "wenping_approver"))
    month = view["decision"]["payment_starts_on"][:7]
    # The county's list (its own setting: the 10th) pays 文屏镇's case by 文屏镇's day.
    lines = ok(api.get("county_supervisor", f"/api/payments?month={month}"))["items"]
    line = next(x for x in lines if x["case_id"] == case["id"])
    assert line["due_on"] == f"{month}-05"


def test_emergency_paperwork_within_a_week_where_the_township_follows_001(api, db_session):
    from tests.api.test_workflow import WENPING, create_case

    ok(api.patch("wenping_admin", f"/api/jurisdictions/{WENPING}/settings",
                 json={"settings": {"emergency_paperwork_within": "one_week"}}))
    case = create_case(api, db_session, kind="temporary", temporary_subtype="emergency")
    view = ok(move(api, case["id"], "approved", "wenping_approver", emergency={
        "recipient_name": "王秀英", "reason": "房屋失火", "amount_yuan": "2000"}))
    assert view["emergency"]["signatures_due_on"] == (
        clock.today_in_china() + timedelta(days=7)).isoformat()  # 001: 一周内
    problem(api.patch("wenping_admin", f"/api/jurisdictions/{WENPING}/settings",
                      json={"settings": {"emergency_paperwork_within": "one_month"}}),
            422, "validation-failed")


def test_near_allowance_cases_are_drawn_for_the_county_spot_check_001(api, db_session):
    from backend.workflow.models import SpotCheck
    from tests.api.test_workflow import create_case

    case = create_case(api, db_session, kind="low_income_margin")
    draw = draw_and_check(api, case["id"])
    # In the drawn population (001 §一: 低保、低边 alike), sampled or not.
    assert db_session.get(SpotCheck, case["id"]).draw_id == draw["id"]


def test_the_relative_of_staff_flag_changes_after_creation_with_an_audit_row_004(
        api, db_session):
    from sqlalchemy import select

    from backend.audit.models import AuditEvent
    from tests.api.helpers import household_of_township

    household = household_of_township(db_session, "530621100")
    path = f"/api/households/{household.id}/relative-of-staff"
    body = {"is_relative_of_staff": True, "relative_of_staff_note": "镇干部之子"}
    current = api.get("wenping_intake", f"/api/households/{household.id}")
    version = current.headers["ETag"]
    problem(api.put("wenping_intake", path, json=body), 428, "precondition-required")
    problem(api.put("wenping_fw1", path, json=body, headers={"If-Match": version}), 403,
            "forbidden")
    problem(api.put("longtoushan_intake", path, json=body, headers={"If-Match": version}), 404,
            "household-not-found")
    changed = api.put("wenping_intake", path, json=body, headers={"If-Match": version})
    assert ok(changed)["is_relative_of_staff"] is True
    problem(api.put("wenping_intake", path, json=body, headers={"If-Match": version}), 412,
            "stale-version")
    row = db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "household.relative_of_staff_changed",
        AuditEvent.object_id == household.id)).one()
    assert row.before["is_relative_of_staff"] is False
    assert row.after == {"is_relative_of_staff": True, "relative_of_staff_note": "镇干部之子"}
