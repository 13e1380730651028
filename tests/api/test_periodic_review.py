"""Periodic review (动态管理, 004) through the API: a review case of a current recipient, opened
from the desk, by repeated missed check-ins (003) or by its tier (national frame; 001 for
special cases); its own transitions with If-Match, guards, separation of duties (001) and
scoping; its outcome continues, adjusts (003) or stops (004, written reasons) the allowance."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from backend import clock, events
from backend.audit.models import AuditEvent
from backend.checkins.models import ReviewTrigger
from backend.households.models import Household
from backend.visits.models import VisitRevision, VisitSubmission
from backend.workflow.models import PeriodicReview
from tests.api.test_checkins import activated
from tests.api.test_workflow import (
    _multi_role_user,
    complete_visit,
    draw_and_check,
    later,
    move,
    noticed,
    ok,
    problem,
    wf,
)

CHINA = clock.SHANGHAI
START = datetime(2026, 12, 1, 10, 0, tzinfo=CHINA)


@pytest.fixture(autouse=True)
def _clock():
    clock.freeze(START)
    yield
    clock.freeze(None)


def approved(api, db_session, **body):
    """A Wenping dibao case approved after its notice and the county's spot check."""
    case = noticed(api, db_session)
    later(days=7)
    draw_and_check(api, case["id"])
    ok(move(api, case["id"], "approved", "wenping_approver", **body))
    return case


def open_review(api, case_id, username="wenping_intake"):
    return api.post(username, f"/api/cases/{case_id}/periodic-reviews")


def reviewed(api, review_id, method="phone", findings="电话联系户主, 家庭情况无变化"):
    ok(move(api, review_id, "investigating", "wenping_reviewer", review={"method": method}))
    return ok(move(api, review_id, "reviewing", "wenping_reviewer",
                   review={"findings": findings}))


def test_desk_opens_one_review_and_the_phone_review_continues_the_allowance(api, db_session):
    case = approved(api, db_session)
    opened = ok(open_review(api, case["id"]), 201)
    review_id = opened["case_id"]
    assert opened["case"]["kind"] == "periodic_review" and opened["status"] == "accepted"
    assert opened["periodic_review"]["subject_case_id"] == case["id"]
    assert opened["periodic_review"]["source"] == "desk"
    again = problem(open_review(api, case["id"]), 409, "periodic-review-open")
    assert again["review_case_id"] == review_id
    assert wf(api, case["id"])["periodic_review"]["open_review_case_id"] == review_id
    problem(move(api, review_id, "investigating", "wenping_reviewer"), 422,
            "review-method-missing")
    ok(move(api, review_id, "investigating", "wenping_reviewer", review={"method": "phone"}))
    problem(move(api, review_id, "reviewing", "wenping_reviewer"), 422,
            "review-findings-missing")
    view = ok(move(api, review_id, "reviewing", "wenping_reviewer",
                   review={"findings": "电话联系户主, 家庭情况无变化"}))
    assert view["allowed_transitions"] == []  # the reviewer does not decide
    problem(move(api, review_id, "continued", "wenping_reviewer"), 403, "forbidden")
    amount = wf(api, case["id"])["proposal"]["monthly_amount_yuan"]
    done = ok(move(api, review_id, "continued", "wenping_approver", review_tier="yearly"))
    assert done["status"] == "continued" and done["periodic_review"]["outcome"] == "continued"
    subject = wf(api, case["id"])
    assert subject["status"] == "approved" and subject["proposal"]["monthly_amount_yuan"] == \
        amount
    assert subject["periodic_review"]["tier"] == "yearly"
    assert subject["periodic_review"]["open_review_case_id"] is None
    assert subject["periodic_review"]["last_reviewed_on"] == clock.today_in_china().isoformat()
    # A closed review frees the case for the next one.
    ok(open_review(api, case["id"]), 201)


def test_adjusting_recomputes_the_amount_by_the_allowance_rules_003(api, db_session):
    case = approved(api, db_session)
    review_id = ok(open_review(api, case["id"]), 201)["case_id"]
    reviewed(api, review_id)
    problem(move(api, review_id, "adjusted", "wenping_approver"), 422, "proposal-invalid")
    members = len(case["household"]["members"])
    done = ok(move(api, review_id, "adjusted", "wenping_approver",
                   proposal={"per_capita_income_yuan": "500"}))
    assert done["periodic_review"]["previous_amount_yuan"] == f"{(680 - 300) * members}.00"
    assert done["periodic_review"]["new_amount_yuan"] == f"{(680 - 500) * members}.00"
    subject = wf(api, case["id"])
    assert subject["proposal"]["monthly_amount_yuan"] == f"{(680 - 500) * members}.00"
    timeline = ok(api.get("wenping_approver", f"/api/cases/{case['id']}/timeline"))["items"]
    assert timeline[-1]["action"] == "case.periodic_review_applied"
    assert timeline[-1]["after"]["review_case"] == review_id


def test_stopping_needs_written_reasons_and_prints_the_stop_notice_004(api, db_session):
    case = approved(api, db_session)
    review_id = ok(open_review(api, case["id"]), 201)["case_id"]
    ok(move(api, review_id, "investigating", "wenping_reviewer",
            review={"method": "system_comparison"}))
    problem(move(api, review_id, "reviewing", "wenping_reviewer",
                 review={"findings": "比对发现车辆"}), 422, "review-comparison-pending")
    version = wf(api, review_id)["version"]
    ok(api.put("wenping_intake", f"/api/cases/{review_id}/economic-check", json={
        "requested_at": clock.now().isoformat(), "returned_at": clock.now().isoformat(),
        "result": "obviously_ineligible"}, headers={"If-Match": f'"{version}"'}))
    ok(move(api, review_id, "reviewing", "wenping_reviewer", review={"findings": "比对发现车辆"}))
    problem(move(api, review_id, "stopped", "wenping_approver"), 422, "reasons-missing")
    assert wf(api, case["id"])["status"] == "approved"  # nothing half-happened
    ok(move(api, review_id, "stopped", "wenping_approver", reasons=["家庭拥有机动车辆"]))
    subject = wf(api, case["id"])
    assert subject["status"] == "stopped"
    assert subject["decision"]["reasons"] == ["家庭拥有机动车辆"]
    notice = api.get("wenping_approver",
                     f"/api/cases/{case['id']}/documents/stop_notice?format=html")
    assert notice.status_code == 200 and "家庭拥有机动车辆" in notice.get_data(as_text=True)


def test_a_home_visit_review_goes_to_the_phones_and_its_approved_visit_feeds_it(api,
                                                                              db_session):
    case = approved(api, db_session)
    review = ok(open_review(api, case["id"]), 201)
    team = [api.user_id("wenping_fw1"), api.user_id("wenping_fw2")]
    assigned = ok(api.put("wenping_intake", f"/api/cases/{review['case_id']}/team",
                          json={"user_ids": team},
                          headers={"If-Match": f'"{review["version"]}"'}))
    assert assigned["status"] == "investigating"
    pulled = api.get("wenping_fw1", "/api/sync/pull").get_json()
    assert review["case_id"] in pulled["case_ids"]
    before_visit = wf(api, review["case_id"])["periodic_review"]
    assert before_visit["method"] == "home_visit"
    # What an adjustment starts from: the allowance's income until the visit finds one.
    on_record = wf(api, case["id"])["proposal"]["per_capita_income_yuan"]
    assert before_visit["income_on_record_yuan"] == on_record is not None
    assert before_visit["visit_income_yuan"] is None
    problem(move(api, review["case_id"], "reviewing", "wenping_reviewer",
                 review={"findings": "入户核实"}), 422, "review-visit-incomplete")
    complete_visit(api, assigned)
    found = wf(api, review["case_id"])["periodic_review"]["visit_income_yuan"]
    computed = db_session.scalar(select(VisitRevision.computed).join(
        VisitSubmission, VisitSubmission.id == VisitRevision.submission_id).where(
        VisitSubmission.case_id == review["case_id"]))["per_capita_monthly_income"]
    assert Decimal(found) == Decimal(str(computed))
    ok(move(api, review["case_id"], "reviewing", "wenping_reviewer",
            review={"findings": "入户核实, 情况属实"}))
    ok(move(api, review["case_id"], "continued", "wenping_approver"))


def test_separation_of_duties_in_a_review_001(api, db_session):
    case = approved(api, db_session)
    user = _multi_role_user(db_session, ["reviewer", "approver"])
    review_id = ok(open_review(api, case["id"]), 201)["case_id"]
    ok(move(api, review_id, "investigating", user.username, review={"method": "phone"}))
    ok(move(api, review_id, "reviewing", user.username, review={"findings": "无变化"}))
    body = problem(move(api, review_id, "continued", user.username), 422,
                   "separation-of-duties")
    assert body["done"] == "preliminary_review"


def test_stale_version_scoping_and_roles(app, api, db_session):
    case = approved(api, db_session)
    problem(open_review(api, case["id"], "wenping_reviewer"), 403, "forbidden")
    problem(open_review(api, case["id"], "longtoushan_intake"), 404, "case-not-found")
    review_id = ok(open_review(api, case["id"]), 201)["case_id"]
    problem(move(api, review_id, "investigating", "wenping_reviewer", version=99,
                 review={"method": "phone"}), 412, "stale-version")
    problem(move(api, review_id, "approved", "wenping_approver"), 409,
            "transition-not-allowed")
    problem(open_review(api, review_id), 409, "periodic-review-not-applicable")
    problem(api.get("longtoushan_intake", f"/api/cases/{review_id}/workflow"), 404,
            "case-not-found")


def test_repeated_missed_check_ins_open_one_review_003(api, db_session):
    case = approved(api, db_session)
    household = db_session.get(Household, case["household_id"])
    activated(api, household)
    from backend.checkins import windows as checkin_windows

    assert checkin_windows.judge_closed_windows(datetime(2026, 12, 24, 0, 1, tzinfo=CHINA)) == 1
    events.dispatch()
    assert not db_session.scalars(select(PeriodicReview)).all()  # one miss: no review
    assert checkin_windows.judge_closed_windows(datetime(2027, 1, 24, 1, tzinfo=CHINA)) == 1
    events.dispatch()
    review, = db_session.scalars(select(PeriodicReview)).all()
    assert review.subject_case_id == case["id"] and review.source == "checkin"
    trigger, = db_session.scalars(select(ReviewTrigger)).all()
    assert trigger.handled_at is not None and review.trigger_ids == [trigger.id]
    db_session.commit()  # audit rows go in with the commit
    audited = db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "case.periodic_review_opened")).all()
    assert [a.after["source"] for a in audited] == ["checkin"]
    # A third miss raises the trigger again: the open review takes it, no second review.
    assert checkin_windows.judge_closed_windows(datetime(2027, 2, 24, 1, tzinfo=CHINA)) == 1
    events.dispatch()
    assert len(db_session.scalars(select(PeriodicReview)).all()) == 1
    assert len(db_session.scalars(select(PeriodicReview)).one().trigger_ids) == 2
    assert all(t.handled_at for t in db_session.scalars(select(ReviewTrigger)))


def test_tiers_make_reviews_due_and_they_open_in_bulk(api, db_session):
    half = approved(api, db_session)  # no tier judged: half-yearly, the stricter tier
    due = ok(api.get("wenping_intake", "/api/periodic-reviews/due"))["items"]
    assert half["id"] not in [i["case_id"] for i in due]
    clock.freeze(clock.now() + timedelta(days=183))
    due = ok(api.get("wenping_intake", "/api/periodic-reviews/due"))["items"]
    item = next(i for i in due if i["case_id"] == half["id"])
    assert item["tier"] is None and item["state"] in ("overdue", "due_soon")
    listed = ok(api.get("wenping_intake", "/api/cases/due"))["items"]
    assert any(i["case_id"] == half["id"] and i["task"] == "open_periodic_review"
               for i in listed)
    problem(api.post("wenping_reviewer", "/api/periodic-reviews/due",
                     json={"case_ids": [half["id"]]}), 403, "forbidden")
    opened = ok(api.post("wenping_intake", "/api/periodic-reviews/due",
                         json={"case_ids": [half["id"]]}), 201)["opened"]
    assert len(opened) == 1
    assert ok(api.post("wenping_intake", "/api/periodic-reviews/due",
                       json={"case_ids": [half["id"]]}), 201)["opened"] == []
    source = db_session.get(PeriodicReview, opened[0]).source
    assert source == "desk"


def test_a_yearly_household_is_not_due_at_six_months_and_the_job_opens_it(app, api,
                                                                         db_session):
    yearly = approved(api, db_session, review_tier="yearly")
    clock.freeze(clock.now() + timedelta(days=200))
    due = ok(api.get("wenping_intake", "/api/periodic-reviews/due"))["items"]
    assert yearly["id"] not in [i["case_id"] for i in due]
    clock.freeze(clock.now() + timedelta(days=170))
    due = ok(api.get("wenping_intake", "/api/periodic-reviews/due"))["items"]
    assert yearly["id"] in [i["case_id"] for i in due]
    from backend.workflow import periodic_reviews

    opened = periodic_reviews.open_due_reviews(None)
    sources = {db_session.get(PeriodicReview, r).subject_case_id:
               db_session.get(PeriodicReview, r).source for r in opened}
    assert sources[yearly["id"]] == "schedule"


def test_the_job_opens_in_bulk_and_a_review_opened_meanwhile_stays_the_only_one(
        api, db_session, monkeypatch):
    from backend.audit import service as audit
    from backend.workflow import periodic_reviews

    first, second = approved(api, db_session), approved(api, db_session)
    clock.freeze(clock.now() + timedelta(days=200))
    # The job lists what is due, then a clerk opens the first one before the job inserts:
    # the job's chunk meets the unique open-subject column and falls back to one by one.
    listed = periodic_reviews.review_schedule(periodic_reviews._current_recipients(None))
    assert {first["id"], second["id"]} <= {i.subject.id for i in listed
                                           if i.open_review_case_id is None}
    by_clerk = ok(open_review(api, first["id"]), 201)
    monkeypatch.setattr(periodic_reviews, "review_schedule", lambda _subjects: listed)
    opened = periodic_reviews.open_due_reviews(None)
    db_session.commit()
    assert by_clerk["case_id"] not in opened
    reviews = db_session.scalars(select(PeriodicReview).where(
        PeriodicReview.subject_case_id.in_([first["id"], second["id"]]))).all()
    assert sorted((r.subject_case_id, r.source) for r in reviews) == sorted(
        [(first["id"], "desk"), (second["id"], "schedule")])
    job_review = next(r for r in reviews if r.subject_case_id == second["id"])
    assert job_review.case_id in opened
    # One audit row per state change: the review case created, the subject's review opened.
    assert [a.action for a in audit.events_for("case", job_review.case_id)] == ["case.created"]
    assert [(a.action, a.after["review_case"]) for a in audit.events_for("case", second["id"])
            if a.action == "case.periodic_review_opened"] == [
        ("case.periodic_review_opened", job_review.case_id)]
    assert periodic_reviews.open_due_reviews(None) == []  # a second run opens nothing
    # Every audit row of both cases is linked into the chain (the whole chain is not walked:
    # other tests on this worker leave rows, some broken on purpose, test_audit_chain.py).
    rows = [*audit.events_for("case", job_review.case_id), *audit.events_for("case", second["id"])]
    assert rows and all(row.chain_seq is not None and row.row_hash for row in rows)


def test_the_job_opens_every_due_review_in_one_insert_per_chunk(api, db_session, monkeypatch):
    from backend import bulk
    from backend.workflow import periodic_reviews

    subjects = [approved(api, db_session)["id"] for _ in range(3)]
    clock.freeze(clock.now() + timedelta(days=200))
    monkeypatch.setattr(periodic_reviews, "CHUNK", 2)
    inserted: list[str] = []
    real_insert_rows = bulk.insert_rows

    def counted(model, rows):
        inserted.append(f"{model.__tablename__}:{len(rows)}")
        real_insert_rows(model, rows)

    monkeypatch.setattr(periodic_reviews, "insert_rows", counted)
    opened = periodic_reviews.open_due_reviews(None)
    assert set(subjects) <= {db_session.get(PeriodicReview, r).subject_case_id for r in opened}
    assert inserted == [f"periodic_review:{n}"
                        for n in [2] * (len(opened) // 2) + [len(opened) % 2] if n]
