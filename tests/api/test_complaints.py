"""Complaints and reports (举报, 004: 举报箱、举报电话、电子邮箱、微信平台,
专人负责核实、排查、处理及回复; 002: 公开监督举报电话) through the API: the public form
(anonymous, bounded, rate limited, no address kept), the desk's steps with If-Match, the
reporter seen only by the handler and the county supervisor (each view audited), scoping,
deadlines, and the outbox events."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from backend import clock
from backend.audit.models import AuditEvent
from backend.complaints.models import Complaint
from backend.outbox.models import OutboxEntry
from backend.workflow.models import PeriodicReview
from tests.api.test_periodic_review import approved
from tests.api.test_workflow import ok, problem, wf

CHINA = clock.SHANGHAI
WENPING = "530621100"
LONGTOU = "530621101"
# A Tuesday in December 2026 (no holiday near): 1 working day later is Wednesday the 2nd.
START = datetime(2026, 12, 1, 10, 0, tzinfo=CHINA)
REPORTER = {"reporter_name": "王举报", "reporter_contact": "13800001234"}


@pytest.fixture(autouse=True)
def _clock():
    clock.freeze(START)
    yield
    clock.freeze(None)


def public(client, **body):
    payload = {"id": str(uuid.uuid4()), "township_code": WENPING,
               "content": "某村有人瞒报收入领取低保", **body}
    return client.post("/api/public/complaints", json=payload)


def enter(api, username="wenping_intake", **body):
    payload = {"id": str(uuid.uuid4()), "channel": "phone", "content": "电话举报：某户家里有车",
               "reply_channel": "phone", **REPORTER, **body}
    return api.post(username, "/api/complaints", json=payload)


def step(api, username, complaint, name, **body):
    current = ok(api.get(username, f"/api/complaints/{complaint['id']}"))
    return api.post(username, f"/api/complaints/{complaint['id']}/{name}", json=body,
                    headers={"If-Match": f'"{current["version"]}"'})


def assigned(api, complaint, handler="wenping_reviewer", by="wenping_intake"):
    return ok(step(api, by, complaint, "assign", handler_id=api.user_id(handler)))


def audit_rows(db_session, object_id, action=None):
    query = select(AuditEvent).where(AuditEvent.object_type == "complaint",
                                     AuditEvent.object_id == object_id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db_session.scalars(query.order_by(AuditEvent.id)))


def outbox_rows(db_session, aggregate_id):
    return list(db_session.scalars(select(OutboxEntry).where(
        OutboxEntry.aggregate_id == aggregate_id).order_by(OutboxEntry.sequence)))


def count(db_session):
    return db_session.scalar(select(func.count()).select_from(Complaint))


# --- the public form ------------------------------------------------------------------------


def test_an_anonymous_public_report_gets_a_number_and_deadlines_and_keeps_no_address(
        client, db_session):
    response = public(client, is_anonymous=True, reporter_contact="fan@example.com",
                      reply_channel="email")
    receipt = ok(response, 201)
    assert receipt["number"] == "文屏〔2026〕举报第 0001 号"
    # 15 working days from Tuesday 1 December 2026 (ADR 0024's default reply deadline).
    assert receipt["reply_due_on"] == "2026-12-22"
    again = client.post("/api/public/complaints", json={
        "id": receipt["id"], "township_code": WENPING, "content": "再次提交"})
    assert ok(again, 200)["number"] == receipt["number"]
    assert count(db_session) == 1
    stored = db_session.get(Complaint, receipt["id"])
    assert stored.is_anonymous and stored.reporter_name is None
    assert stored.channel == "web" and stored.status == "received"
    assert (stored.assign_due_on, stored.verify_due_on) == (date(2026, 12, 2), date(2026, 12, 15))
    (opened,) = audit_rows(db_session, receipt["id"])
    assert opened.action == "complaint.opened" and opened.ip is None
    assert opened.user_agent is None and opened.actor_id is None
    (event,) = outbox_rows(db_session, receipt["id"])
    assert event.type == "complaint.opened"
    text = json.dumps(event.payload, ensure_ascii=False)
    assert "fan@example.com" not in text and "reporter" not in text


def test_the_public_page_is_chinese_and_english_on_request(client):
    page = client.get("/report")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and "举报" in html
    english = client.get("/report?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english and "Send the report" in english
    townships = ok(client.get("/api/public/complaint-townships"))["items"]
    assert {"code": WENPING, "name": "文屏镇"} in townships
    assert all(len(t["code"]) == 9 for t in townships)


@pytest.mark.parametrize("body, status, slug, field", [
    ({"content": "长" * 2001}, 422, "validation-failed", "content"),
    ({"about": "x" * 101}, 422, "validation-failed", "about"),
    ({"reporter_name": "名" * 51}, 422, "validation-failed", "reporter_name"),
    ({"content": "正常文字\x1b[31m 终端转义"}, 422, "validation-failed", "content"),
    ({"content": "二进制\x00\x01"}, 422, "validation-failed", "content"),
    ({"township_code": "530621100201"}, 422, "validation-failed", "township_code"),
    ({"township_code": "530621999"}, 422, "validation-failed", "township_code"),
    ({"reply_channel": "phone"}, 422, "validation-failed", "reporter_contact"),
    ({"ip_address": "1.2.3.4"}, 422, "validation-failed", "ip_address"),
])
def test_the_public_form_refuses_bad_fields_and_stores_nothing(client, db_session, body,
                                                               status, slug, field):
    before = count(db_session)
    answer = problem(public(client, **body), status, slug)
    assert field in answer["errors"], answer
    assert count(db_session) == before


def test_the_public_form_refuses_binary_and_oversized_bodies(client, db_session):
    before = count(db_session)
    binary = bytes(range(256)) * 8
    problem(client.post("/api/public/complaints", data=binary,
                        content_type="application/octet-stream"), 415, "unsupported-media-type")
    problem(client.post("/api/public/complaints", data=binary,
                        content_type="application/json"), 400, "malformed-json")
    huge = json.dumps({"id": str(uuid.uuid4()), "township_code": WENPING,
                       "content": "长" * 9000})
    problem(client.post("/api/public/complaints", data=huge,
                        content_type="application/json"), 413, "body-too-large")
    assert count(db_session) == before


def test_scripts_are_stored_as_typed_and_served_as_json_text(api, client, db_session):
    script = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    receipt = ok(public(client, content=script, about=script), 201)
    listed = ok(api.get("wenping_intake", "/api/complaints"))["items"]
    (mine,) = [c for c in listed if c["id"] == receipt["id"]]
    assert mine["content"] == script and mine["about"] == script
    page = client.get("/report").get_data(as_text=True)
    assert "<script>alert" not in page


def test_floods_from_one_client_are_429_and_the_limit_is_per_client(app, client, db_session):
    app.config["COMPLAINT_LIMIT_PER_CLIENT"] = "2 per 10 minutes"
    try:
        ok(public(client), 201)
        ok(public(client), 201)
        flood = problem(public(client), 429, "too-many-requests")
        assert flood["retry_after_seconds"] > 0
        other = client.post("/api/public/complaints", json={
            "id": str(uuid.uuid4()), "township_code": WENPING, "content": "另一个人"},
            environ_base={"REMOTE_ADDR": "10.9.9.9"})
        ok(other, 201)
    finally:
        app.config.pop("COMPLAINT_LIMIT_PER_CLIENT")
    assert count(db_session) == 3


# --- the desk ---------------------------------------------------------------------------------


def test_a_report_goes_from_the_window_to_a_reply_through_a_home_visit_and_a_review(
        api, db_session):
    case = approved(api, db_session)
    complaint = ok(enter(api, channel="window", case_id=case["id"]), 201)
    assert complaint["status"] == "received" and complaint["case_no"] == case["case_no"]
    assert "reporter_name" not in complaint and "reporter_contact" not in complaint
    # Only the handler verifies; before any verification there is no finding.
    complaint = assigned(api, complaint)
    assert complaint["status"] == "assigned" and complaint["handler_name"]
    problem(step(api, "wenping_approver", complaint, "verifications", method="phone",
                 note="电话核实"), 403, "complaint-not-handler")
    problem(step(api, "wenping_reviewer", complaint, "finding", is_substantiated=True,
                 finding="属实"), 409, "complaint-step-not-allowed")
    # The home visit is the linked case's visit team's: a visit attested and approved.
    problem(step(api, "wenping_reviewer", complaint, "verifications", method="home_visit",
                 note="入户", visit_id=str(uuid.uuid4())), 422, "complaint-visit-incomplete")
    visits = wf(api, case["id"])
    visit_id = _complete_visit_of(db_session, case["id"])
    complaint = ok(step(api, "wenping_reviewer", complaint, "verifications",
                        method="home_visit", note="调查员入户核实：家中有一辆轿车",
                        visit_id=visit_id))
    complaint = ok(step(api, "wenping_reviewer", complaint, "verifications",
                        method="system_comparison", note="车辆登记系统比对：属实"))
    assert [v["method"] for v in complaint["verifications"]] == ["home_visit",
                                                                 "system_comparison"]
    assert visits["status"] == "approved"
    complaint = ok(step(api, "wenping_reviewer", complaint, "finding", is_substantiated=True,
                        finding="举报属实：隐瞒车辆", consequence="periodic_review"))
    assert complaint["status"] == "found"
    review_id = complaint["consequence_case_id"]
    review = wf(api, review_id)
    assert review["kind_key"] == "periodic_review" and review["status"] == "accepted"
    stored = db_session.get(PeriodicReview, review_id)
    assert (stored.subject_case_id, stored.source) == (case["id"], "complaint")
    complaint = ok(step(api, "wenping_reviewer", complaint, "reply",
                        reply="您举报的问题经核实属实，已启动复核。"))
    assert complaint["status"] == "answered" and complaint["replied_at"]
    actions = [row.action for row in audit_rows(db_session, complaint["id"])]
    assert actions == ["complaint.opened", "complaint.linked", "complaint.assigned",
                       "complaint.verified", "complaint.verified", "complaint.found",
                       "complaint.answered"]
    events = outbox_rows(db_session, complaint["id"])
    assert [e.type for e in events] == ["complaint.opened", "complaint.answered"]
    answered = events[1].payload
    assert answered["is_substantiated"] is True and answered["consequence_case_id"] == review_id
    text = json.dumps([e.payload for e in events], ensure_ascii=False)
    assert "王举报" not in text and "13800001234" not in text


def _complete_visit_of(db_session, case_id):
    from backend.workflow import records

    (visit_id, *_) = records.complete_visits(case_id, 2)
    return visit_id


def test_a_substantiated_report_stopped_by_an_approver_handler_004(api, db_session):
    case = approved(api, db_session)
    complaint = ok(enter(api, case_id=case["id"]), 201)
    complaint = assigned(api, complaint, handler="wenping_approver")
    complaint = ok(step(api, "wenping_approver", complaint, "verifications", method="phone",
                        note="电话联系户主，承认外出务工有收入"))
    problem(step(api, "wenping_approver", complaint, "finding", is_substantiated=False,
                 finding="不属实", consequence="stop"), 422, "validation-failed")
    complaint = ok(step(api, "wenping_approver", complaint, "finding", is_substantiated=True,
                        finding="外出务工收入超过标准", consequence="stop"))
    assert complaint["consequence_case_id"] == case["id"]
    assert wf(api, case["id"])["status"] == "stopped"


def test_the_reporter_is_seen_by_the_handler_and_the_county_supervisor_each_time_audited(
        api, db_session):
    complaint = assigned(api, ok(enter(api), 201))
    problem(api.get("wenping_intake", f"/api/complaints/{complaint['id']}/reporter"), 403,
            "forbidden")
    problem(api.get("wenping_approver", f"/api/complaints/{complaint['id']}/reporter"), 403,
            "forbidden")
    seen = ok(api.get("wenping_reviewer", f"/api/complaints/{complaint['id']}/reporter"))
    assert seen == {"is_anonymous": False, "name": "王举报", "contact": "13800001234",
                    "reply_channel": "phone"}
    ok(api.get("county_supervisor", f"/api/complaints/{complaint['id']}/reporter"))
    ok(api.get("wenping_reviewer", f"/api/complaints/{complaint['id']}/reporter"))
    views = audit_rows(db_session, complaint["id"], "complaint.reporter_viewed")
    assert [(row.actor_id, row.after["as"]) for row in views] == [
        (api.user_id("wenping_reviewer"), "handler"),
        (api.user_id("county_supervisor"), "county_supervisor"),
        (api.user_id("wenping_reviewer"), "handler")]
    shown = ok(api.get("county_supervisor", f"/api/complaints/{complaint['id']}"))
    assert "王举报" not in json.dumps(shown, ensure_ascii=False)


def test_another_township_cannot_see_or_touch_a_report(api, db_session):
    complaint = ok(enter(api), 201)
    problem(api.get("longtoushan_reviewer", f"/api/complaints/{complaint['id']}"), 404,
            "complaint-not-found")
    problem(api.post("longtoushan_intake", f"/api/complaints/{complaint['id']}/assign",
                     json={"handler_id": api.user_id("longtoushan_reviewer")},
                     headers={"If-Match": '"1"'}), 404, "complaint-not-found")
    problem(api.get("longtoushan_reviewer", f"/api/complaints/{complaint['id']}/reporter"),
            404, "complaint-not-found")
    theirs = ok(api.get("longtoushan_reviewer", "/api/complaints"))["items"]
    assert complaint["id"] not in {c["id"] for c in theirs}
    county = ok(api.get("county_supervisor", "/api/complaints"))["items"]
    assert complaint["id"] in {c["id"] for c in county}
    # A handler from another township cannot be named; nor can a field worker.
    for outsider in ("longtoushan_reviewer", "wenping_fw1"):
        problem(step(api, "wenping_intake", complaint, "assign",
                     handler_id=api.user_id(outsider)), 422, "validation-failed")
    # Staff enter reports for their own township only.
    problem(enter(api, township_code=LONGTOU), 422, "outside-jurisdiction")
    problem(enter(api, username="wenping_fw1"), 403, "forbidden")


def test_overdue_steps_count_working_days_and_the_county_lists_them(api, client, db_session):
    receipt = ok(public(client), 201)
    # Friday 4 December: the handler was due on Wednesday the 2nd.
    clock.freeze(datetime(2026, 12, 4, 9, 0, tzinfo=CHINA))
    listed = ok(api.get("county_supervisor", "/api/complaints?is_overdue=true"))
    (late,) = [c for c in listed["items"] if c["id"] == receipt["id"]]
    assert late["overdue_steps"] == ["assign"]
    assert listed["summary"]["overdue"] >= 1
    complaint = assigned(api, ok(api.get("wenping_intake", f"/api/complaints/{receipt['id']}")))
    assert complaint["overdue_steps"] == []
    # Wednesday 23 December: past the verification (15th) and the reply (22nd) deadlines.
    clock.freeze(datetime(2026, 12, 23, 9, 0, tzinfo=CHINA))
    late = ok(api.get("county_supervisor", f"/api/complaints/{receipt['id']}"))
    assert late["overdue_steps"] == ["verify", "reply"]


def test_deadlines_follow_the_jurisdictions_settings(api, client, db_session):
    ok(api.patch("county_admin", f"/api/jurisdictions/{WENPING}/settings", json={
        "settings": {"complaint_verify_working_days": 5, "complaint_reply_working_days": 5}}))
    receipt = ok(public(client), 201)
    assert receipt["reply_due_on"] == "2026-12-08"
    refused = api.patch("county_admin", f"/api/jurisdictions/{WENPING}/settings", json={
        "settings": {"complaint_reply_working_days": 31}})
    assert refused.status_code == 422
    # The reply cannot fall due before the verification it reports on.
    backwards = api.patch("county_admin", f"/api/jurisdictions/{WENPING}/settings", json={
        "settings": {"complaint_reply_working_days": 4}})
    assert "complaint_reply_working_days" in backwards.get_json()["errors"]


def test_steps_need_if_match_and_refuse_a_stale_one(api, db_session):
    complaint = ok(enter(api), 201)
    body = {"handler_id": api.user_id("wenping_reviewer")}
    problem(api.post("wenping_intake", f"/api/complaints/{complaint['id']}/assign", json=body),
            428, "precondition-required")
    problem(api.post("wenping_intake", f"/api/complaints/{complaint['id']}/assign", json=body,
                     headers={"If-Match": '"7"'}), 412, "stale-version")
    # A field worker names no handler: the township's office staff do.
    problem(api.post("wenping_fw1", f"/api/complaints/{complaint['id']}/assign", json=body,
                     headers={"If-Match": '"1"'}), 403, "forbidden")


def test_a_report_is_linked_by_the_case_number_within_the_township(api, db_session):
    case = approved(api, db_session)
    complaint = ok(enter(api), 201)
    problem(step(api, "wenping_intake", complaint, "link"), 422, "validation-failed")
    problem(step(api, "wenping_intake", complaint, "link", case_no="文屏〔2026〕低保第 9999 号"),
            422, "validation-failed")
    linked = ok(step(api, "wenping_intake", complaint, "link", case_no=case["case_no"]))
    assert linked["case_id"] == case["id"] and linked["household_id"]
    # Once a handler is named, only the handler links.
    linked = assigned(api, linked)
    problem(step(api, "wenping_intake", linked, "link", case_no=case["case_no"]), 403,
            "complaint-not-handler")


def test_a_reporters_identity_is_sealed_and_purged_after_its_retention(api, db_session):
    """The reporter's name and contact are ciphertext at rest (ADR 0020) and go once the
    answered report is past its retention (ADR 0022); the report itself stays."""
    from sqlalchemy import text

    from backend.retention import service as retention

    complaint = ok(enter(api), 201)
    raw = db_session.execute(text("SELECT reporter_name, reporter_contact FROM complaint "
                                  "WHERE id = :i"), {"i": complaint["id"]}).one()
    assert "王举报" not in raw[0] and "13800001234" not in raw[1]
    complaint = assigned(api, complaint)
    complaint = ok(step(api, "wenping_reviewer", complaint, "verifications", method="phone",
                        note="电话核实"))
    complaint = ok(step(api, "wenping_reviewer", complaint, "finding", is_substantiated=False,
                        finding="经核实不属实"))
    complaint = ok(step(api, "wenping_reviewer", complaint, "reply", reply="经核实不属实。"))
    stored = db_session.get(Complaint, complaint["id"])
    assert stored.reporter_name == "王举报"
    clock.freeze(START + timedelta(days=800))
    retention.purge()
    db_session.expire_all()
    stored = db_session.get(Complaint, complaint["id"])
    assert (stored.reporter_name, stored.reporter_contact) == (None, None)
    assert stored.content and stored.reply == "经核实不属实。"
