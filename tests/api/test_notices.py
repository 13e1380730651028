"""Every kind of notice (issue 19; 004: 审核公示, 审批公示, 长期公示; 002 drops the first), with
the text `pypdf` extracts from the PDF checked: adults only, the amount, where to object
(the township's phone and address from its settings), and no Latin letter in Chinese."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from backend import clock
from backend.audit.models import AuditEvent
from backend.households.models import Member
from tests.api.test_workflow import (
    WENPING,
    complete_visit,
    create_case,
    draw_and_check,
    economic_check,
    later,
    move,
    noticed,
    ok,
    pdf_text,
    problem,
    to_reviewing,
)

PHONE, ADDRESS = "0870-5121234", "鲁甸县文屏镇人民政府社会事务办（民政窗口）"
MINOR = "王小宝"


def assert_chinese_notice(text: str) -> None:
    """Fit to post: where to object, and no Latin letter (names, codes and numbers are
    Chinese or digits; the case UUID never prints on a notice)."""
    flat = re.sub(r"\s+", "", text)
    assert PHONE in flat and ADDRESS in flat, flat
    assert re.findall(r"[A-Za-z]+", flat) == [], flat


def with_a_minor(db_session, case) -> list[Member]:
    members = db_session.scalars(select(Member).where(
        Member.household_id == case["household_id"]).order_by(Member.position)).all()
    db_session.add(Member(id="00000000-0000-4000-8000-0000000c19aa",
                          household_id=case["household_id"], position=len(members),
                          name=MINOR, relation="grandchild",
                          id_number="530621201501010012", birth_on=date(2015, 1, 1)))
    db_session.commit()
    return list(members)


def test_the_review_stage_notice_gives_the_township_s_phone_and_address_004(api, db_session):
    case = noticed(api, db_session)
    text = pdf_text(api.get("wenping_reviewer",
                            f"/api/cases/{case['id']}/documents/public_notice"))
    assert "公示" in text
    assert_chinese_notice(text)


def test_where_002_drops_the_review_stage_notice_the_decision_is_posted_002_004(
        api, db_session):
    # Only the county drops a step, and only one a regulation drops (002); audited.
    path = f"/api/jurisdictions/{WENPING}/settings"
    problem(api.patch("wenping_admin", path, json={"settings": {
        "is_review_stage_notice_held": False}}), 403, "county-level-only")
    ok(api.patch("county_admin", path, json={"settings": {"is_review_stage_notice_held": False}}))
    row = db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "jurisdiction.settings_changed",
        AuditEvent.object_id == WENPING).order_by(AuditEvent.id.desc())).first()
    assert row.after["is_review_stage_notice_held"] is False
    assert row.after["relaxed_by_regulation"] == {"is_review_stage_notice_held": "002"}

    case = create_case(api, db_session)
    members = with_a_minor(db_session, case)
    ok(api.put("wenping_intake", f"/api/cases/{case['id']}/team", json={"user_ids": [
        api.user_id("wenping_fw1"), api.user_id("wenping_fw2")]}, headers={"If-Match": '"1"'}))
    complete_visit(api, case)
    economic_check(api, case["id"])
    ok(to_reviewing(api, case["id"]))
    problem(move(api, case["id"], "public_notice", "wenping_reviewer"), 422,
            "review-stage-notice-not-held")
    notice = f"/api/cases/{case['id']}/documents/approval_public_notice"
    problem(api.get("wenping_reviewer", notice), 409, "document-not-available")
    draw_and_check(api, case["id"])
    ok(move(api, case["id"], "approved", "wenping_approver"))
    text = pdf_text(api.get("wenping_reviewer", notice))
    assert "审批结果公示" in text
    assert members[0].name in text and MINOR not in text
    for member in members:
        assert (member.id_number or "none") not in text
    assert_chinese_notice(text)


def test_where_the_review_stage_notice_is_held_the_decision_waits_for_it_004(api, db_session):
    case = create_case(api, db_session)
    ok(api.put("wenping_intake", f"/api/cases/{case['id']}/team", json={"user_ids": [
        api.user_id("wenping_fw1"), api.user_id("wenping_fw2")]}, headers={"If-Match": '"1"'}))
    complete_visit(api, case)
    economic_check(api, case["id"])
    ok(to_reviewing(api, case["id"]))
    body = problem(move(api, case["id"], "approved", "wenping_approver"), 422,
                   "review-stage-notice-required")
    assert body["sources"]["review-stage-notice-required"] == "004"


def test_the_standing_notice_lists_the_village_s_recipients_each_month_004(api, db_session):
    case = noticed(api, db_session)
    members = with_a_minor(db_session, case)
    later(days=8)
    draw_and_check(api, case["id"])
    ok(move(api, case["id"], "approved", "wenping_approver"))
    village = ok(api.get("wenping_reviewer", f"/api/cases/{case['id']}"))["jurisdiction_code"]
    path = f"/api/villages/{village}/standing-notice"
    month = clock.today_in_china().strftime("%Y-%m")
    response = api.get("wenping_assistant", f"{path}?month={month}")
    text = pdf_text(response)
    assert "长期公示" in text and f"{int(month[:4])}年{int(month[5:])}月" in text
    assert members[0].name in text and MINOR not in text
    for member in members:
        assert (member.id_number or "none") not in text
    amount = ok(api.get("wenping_reviewer", f"/api/cases/{case['id']}/workflow"))[
        "proposal"]["monthly_amount_yuan"]
    assert f"{int(amount.split('.')[0]):,}.00" in text
    assert_chinese_notice(text)
    assert "standing_notice" in response.headers["Content-Disposition"]
    # A month before the approval lists no such household.
    assert members[0].name not in pdf_text(api.get("wenping_assistant", f"{path}?month=2026-01"))
    page = api.get("wenping_assistant", f"{path}?format=html")
    assert page.status_code == 200 and MINOR not in page.get_data(as_text=True)
    # Scoped: another township's staff do not see the village; field workers print nothing.
    problem(api.get("longtoushan_reviewer", path), 404, "jurisdiction-not-found")
    problem(api.get("wenping_fw1", path), 403, "forbidden")
    problem(api.get("wenping_assistant", f"/api/villages/{WENPING}/standing-notice"), 404,
            "jurisdiction-not-found")
    problem(api.get("wenping_assistant", f"{path}?month=2026-13"), 422, "validation-failed")


def test_no_notice_prints_before_the_township_says_where_to_object_004(api, db_session):
    case = noticed(api, db_session)
    ok(api.patch("wenping_admin", f"/api/jurisdictions/{WENPING}/settings",
                 json={"settings": {"objection_phone": ""}}))
    problem(api.get("wenping_reviewer", f"/api/cases/{case['id']}/documents/public_notice"),
            409, "notice-contact-missing")
    problem(api.patch("wenping_admin", f"/api/jurisdictions/{WENPING}/settings",
                      json={"settings": {"objection_phone": "13812345678"}}),
            422, "validation-failed")
