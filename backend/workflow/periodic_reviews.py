"""Periodic review (动态管理, 004): open a review of a current recipient's case (from the
desk, from missed check-ins, or by the daily job when the tier makes it due), apply its
outcome to the subject case, and show a case's review side.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from backend import clock, events
from backend.audit import service as audit
from backend.auth import rules as roles
from backend.auth.rules import Caller
from backend.bulk import CHUNK, chunks, insert_rows
from backend.cases import service as cases
from backend.checkins import windows as checkin_windows
from backend.duties import service as duties
from backend.errors import ProblemError
from backend.extensions import db
from backend.households import service as households
from backend.jurisdictions import service as jurisdictions
from backend.workflow import allowances, records, rules
from backend.workflow.models import CaseWorkflow, PeriodicReview

OPENING_ROLES = (roles.INTAKE_CLERK, roles.VILLAGE_ASSISTANT)


def review_of(case: Any) -> PeriodicReview:
    found = db.session.get(PeriodicReview, case.id)
    if found is None:  # a periodic_review case is only ever opened with its row
        raise ProblemError("case-not-found", "This periodic review has no record.")
    return found


def review_method(case: Any, review: PeriodicReview) -> str | None:
    """The recorded method; a review whose visit team was assigned is a home visit."""
    return review.method or ("home_visit" if case.team else None)


def _is_reviewable(summary: Any) -> bool:
    return summary.status == rules.APPROVED and summary.kind in rules.MONTHLY_KINDS


def _open_review(subject: Any, source: str, opened_by_id: str | None,
                 trigger_ids: list[str]) -> tuple[PeriodicReview, bool]:
    """Open the subject's periodic review, or return the one already open (and False).
    The unique open-subject column settles a race between two openers."""
    existing = db.session.scalar(select(PeriodicReview).where(
        PeriodicReview.open_subject_case_id == subject.id))
    if existing is None:
        try:
            with db.session.begin_nested():
                case = cases.open_periodic_review(subject.household_id,
                                                  subject.jurisdiction_code, source,
                                                  opened_by_id)
                row = PeriodicReview(
                    case_id=case.id, subject_case_id=subject.id,
                    open_subject_case_id=subject.id,
                    jurisdiction_code=subject.jurisdiction_code, source=source,
                    trigger_ids=sorted(trigger_ids), opened_at=clock.now())
                db.session.add(row)
                db.session.flush()
        except IntegrityError:
            existing = db.session.scalar(select(PeriodicReview).where(
                PeriodicReview.open_subject_case_id == subject.id))
            if existing is None:
                raise
        else:
            audit.record("case.periodic_review_opened", "case", subject.id,
                         jurisdiction_code=subject.jurisdiction_code, actor_id=opened_by_id,
                         after={"review_case": row.case_id, "source": source,
                                "triggers": row.trigger_ids})
            return row, True
    new_triggers = sorted(set(trigger_ids) - set(existing.trigger_ids))
    if new_triggers:
        existing.trigger_ids = sorted([*existing.trigger_ids, *new_triggers])
        audit.record("case.periodic_review_triggered_again", "case", existing.case_id,
                     jurisdiction_code=existing.jurisdiction_code,
                     after={"triggers": new_triggers, "source": source})
    return existing, False


def on_periodic_review_due(event: events.PeriodicReviewDue) -> None:
    """Repeated missed check-ins (003) open a periodic review of the household's current
    allowance case, once: a review already open takes the trigger instead. A household
    with no current monthly case keeps its trigger open (shown in the due list)."""
    subjects = [s for s in cases.summaries(household_ids=[event.household_id],
                                           statuses=[rules.APPROVED]) if _is_reviewable(s)]
    if not subjects:
        return
    subject = max(subjects, key=lambda s: (s.applied_at, s.id))
    triggers = checkin_windows.periodic_review_triggers([event.household_id]).get(
        event.household_id, [])
    review, _ = _open_review(subject, "checkin", None, [t["id"] for t in triggers])
    checkin_windows.mark_review_triggers_handled(event.household_id, review.case_id,
                                          subject.jurisdiction_code)


def open_periodic_review(caller: Caller, subject_case_id: str) -> Any:
    """Open a periodic review of a current recipient's case from the desk (intake clerks
    and village assistants, as they open applications)."""
    if not caller.has(*OPENING_ROLES):
        raise ProblemError("forbidden", "Only intake clerks and village assistants open "
                                        "periodic reviews.")
    subject = cases.get_visible(caller, subject_case_id)
    if not _is_reviewable(subject):
        raise ProblemError("periodic-review-not-applicable",
                           f"A {subject.kind} case in state {subject.status} is not a current "
                           "monthly allowance.", extra={"case_status": subject.status})
    triggers = checkin_windows.periodic_review_triggers([subject.household_id]).get(
        subject.household_id, [])
    review, opened = _open_review(subject, "desk", caller.user_id, [t["id"] for t in triggers])
    if not opened:
        raise ProblemError("periodic-review-open", "This case already has an open periodic "
                                                   "review.",
                           extra={"review_case_id": review.case_id})
    if triggers:
        checkin_windows.mark_review_triggers_handled(subject.household_id, review.case_id,
                                              subject.jurisdiction_code)
    opened_case = cases.get_visible(caller, review.case_id)
    duties.take(caller, cases.duty_ref(opened_case), "periodic_review.open")  # its intake
    return opened_case


def open_for_complaint(caller: Caller, subject_case_id: str, complaint_number: str) -> Any:
    """A substantiated complaint (举报, 004) opens a periodic review of the recipient's case,
    or joins the one already open; the handler who found it takes the review's intake duty.
    Returns the review case."""
    subject = cases.get_visible(caller, subject_case_id)
    if not _is_reviewable(subject):
        raise ProblemError("periodic-review-not-applicable",
                           f"A {subject.kind} case in state {subject.status} is not a current "
                           "monthly allowance.", extra={"case_status": subject.status})
    review, opened = _open_review(subject, "complaint", caller.user_id, [])
    audit.record("case.periodic_review_for_complaint", "case", review.case_id,
                 jurisdiction_code=subject.jurisdiction_code,
                 after={"complaint": complaint_number, "opened": opened})
    opened_case = cases.get_visible(caller, review.case_id)
    if opened:
        duties.take(caller, cases.duty_ref(opened_case), "periodic_review.open")
    return opened_case


@dataclass(frozen=True)
class ReviewDue:
    subject: Any
    tier: str | None
    last_reviewed_on: date
    due_on: date
    open_review_case_id: str | None
    triggers: list[dict]


def review_schedule(subjects: list[Any]) -> list[ReviewDue]:
    """Every subject with its tier, last review and next due date (rules.review_due_on)."""
    ids = [s.id for s in subjects]
    workflows: dict[str, CaseWorkflow] = {}
    last: dict[str, date | None] = {}
    open_ids: dict[str | None, str] = {}
    for chunk in chunks(ids):
        workflows.update({w.case_id: w for w in db.session.scalars(select(CaseWorkflow).where(
            CaseWorkflow.case_id.in_(chunk)))})
        last.update(db.session.execute(select(
            PeriodicReview.subject_case_id, func.max(PeriodicReview.completed_on)).where(
            PeriodicReview.subject_case_id.in_(chunk),
            PeriodicReview.completed_on.is_not(None)).group_by(
            PeriodicReview.subject_case_id)).all())
        open_ids.update(db.session.execute(select(
            PeriodicReview.open_subject_case_id, PeriodicReview.case_id).where(
            PeriodicReview.open_subject_case_id.in_(chunk))).all())
    triggers = checkin_windows.periodic_review_triggers({s.household_id for s in subjects})
    settings_of: dict[str, dict] = {}
    found = []
    for subject in subjects:
        wf = workflows.get(subject.id)
        settings = settings_of.get(subject.jurisdiction_code)
        if settings is None:
            settings = settings_of[subject.jurisdiction_code] = (
                jurisdictions.effective_settings(subject.jurisdiction_code))
        approved_at = wf.decided_at if wf is not None and wf.decided_at else subject.applied_at
        since = last.get(subject.id) or approved_at.astimezone(clock.SHANGHAI).date()
        tier = wf.review_tier if wf is not None else None
        months = rules.review_interval_months(subject.kind, tier, settings)
        found.append(ReviewDue(subject, tier, since, rules.review_due_on(since, months),
                               open_ids.get(subject.id), triggers.get(subject.household_id, [])))
    return found


def _current_recipients(caller: Caller | None) -> list[Any]:
    return cases.summaries(caller=caller, statuses=[rules.APPROVED], kinds=rules.MONTHLY_KINDS)


def is_to_open(item: ReviewDue, today: date) -> bool:
    return item.open_review_case_id is None and (item.due_on <= today or bool(item.triggers))


def reviews_due(caller: Caller) -> list[dict]:
    """Current recipients whose periodic review is due (their tier's months since the last
    review or the approval) or triggered by missed check-ins, with none open yet."""
    if not caller.has(*OPENING_ROLES, roles.REVIEWER, roles.APPROVER, roles.COUNTY_SUPERVISOR):
        raise ProblemError("forbidden", "Your role does not open periodic reviews.")
    today = records.today()
    due_items = [i for i in review_schedule(_current_recipients(caller))
                 if is_to_open(i, today)]
    homes = households.facts({i.subject.household_id for i in due_items})
    answer = []
    for item in sorted(due_items, key=lambda i: (i.due_on, i.subject.id)):
        head = homes[item.subject.household_id].head
        answer.append({
            "case_id": item.subject.id, "applicant_name": head.name if head else None,
            "kind": item.subject.kind, "jurisdiction_code": item.subject.jurisdiction_code,
            "tier": item.tier, "last_reviewed_on": item.last_reviewed_on,
            "due_on": item.due_on, "is_triggered_by_checkins": bool(item.triggers),
            "state": rules.due_state(item.due_on, None, today, clock.now(),
                                     records.add_working_days)})
    return answer


def open_due_reviews(caller: Caller | None, case_ids: list[str] | None = None) -> list[str]:
    """Open the due periodic reviews in bulk: the caller's chosen ones from the desk, or
    (no caller) every due one by the daily job. Returns the review case ids opened."""
    if caller is not None and not caller.has(*OPENING_ROLES):
        raise ProblemError("forbidden", "Only intake clerks and village assistants open "
                                        "periodic reviews.")
    today = records.today()
    wanted = set(case_ids) if case_ids is not None else None
    opened_by_id = caller.user_id if caller else None
    opened, scheduled = [], []
    for item in review_schedule(_current_recipients(caller)):
        if not is_to_open(item, today) or (wanted is not None and item.subject.id not in wanted):
            continue
        if not item.triggers:
            scheduled.append(item.subject)
            continue
        review, is_new = _open_review(item.subject, "checkin", opened_by_id,
                                      [t["id"] for t in item.triggers])
        checkin_windows.mark_review_triggers_handled(item.subject.household_id, review.case_id,
                                              item.subject.jurisdiction_code)
        if is_new:
            opened.append(review.case_id)
    opened += _open_reviews_in_bulk(scheduled, "desk" if caller else "schedule",
                                    opened_by_id)
    if caller is not None:  # the opener takes each review's intake (001)
        duties.take_many(caller, [duties.CaseRef(r.id, r.household_id, r.jurisdiction_code)
                                  for r in cases.summaries(case_ids=opened)],
                         "periodic_review.open")
    return opened


def _open_reviews_in_bulk(subjects: list[Any], source: str,
                          opened_by_id: str | None) -> list[str]:
    """Open the reviews of subjects that had none open when listed, a chunk at a time: one
    INSERT each for the review cases, their review rows and their audit rows (one a review
    was 337 s for 11,453 reviews on PostgreSQL). Another opener racing this one (the daily
    job and a clerk's bulk opening) may take one of them first: the unique open-subject
    column then refuses the chunk, its SAVEPOINT takes every row of it back, and its
    subjects are opened one at a time, each finding the review already open as
    _open_review does."""
    opened: list[str] = []
    for start in range(0, len(subjects), CHUNK):
        chunk = subjects[start:start + CHUNK]
        try:
            with db.session.begin_nested():
                case_ids = cases.open_periodic_reviews(
                    [(s.household_id, s.jurisdiction_code) for s in chunk], source,
                    opened_by_id)
                now = clock.now()
                insert_rows(PeriodicReview, [{
                    "case_id": case_id, "subject_case_id": subject.id,
                    "open_subject_case_id": subject.id,
                    "jurisdiction_code": subject.jurisdiction_code, "source": source,
                    "trigger_ids": [], "opened_at": now}
                    for subject, case_id in zip(chunk, case_ids, strict=True)])
                audit.record_many([{
                    "action": "case.periodic_review_opened", "object_type": "case",
                    "object_id": subject.id, "jurisdiction_code": subject.jurisdiction_code,
                    "actor_id": opened_by_id,
                    "after": {"review_case": case_id, "source": source, "triggers": []}}
                    for subject, case_id in zip(chunk, case_ids, strict=True)])
        except IntegrityError:
            for subject in chunk:
                review, is_new = _open_review(subject, source, opened_by_id, [])
                if is_new:
                    opened.append(review.case_id)
        else:
            opened.extend(case_ids)
    return opened


def apply_review(caller: Caller, case: Any, wf: CaseWorkflow, review: PeriodicReview,
                  subject: Any, to: str, body: dict, proposal: allowances.Proposal | None) -> dict:
    """A periodic review's step; its outcome changes the subject case (amount, stop)."""
    now, today = clock.now(), records.today()
    given = body.get("review") or {}
    if to == rules.INVESTIGATING:
        review.method = given.get("method") or review_method(case, review)
        return {"method": review.method}
    if to == rules.REVIEWING:
        review.method = given.get("method") or review_method(case, review)
        review.findings = given.get("findings") or review.findings
        wf.preliminary_review_by_id, wf.preliminary_review_at = caller.user_id, now
        return {"method": review.method, "findings": review.findings}
    reasons = [r.strip() for r in body.get("reasons") or [] if r.strip()]
    wf.decided_by_id, wf.decided_at, wf.reasons = caller.user_id, now, reasons
    target = records.workflow_of(subject)
    review.outcome, review.completed_at, review.completed_on = to, now, today
    review.open_subject_case_id = None
    review.previous_amount_yuan = target.monthly_amount_yuan
    before = {"status": subject.status, "monthly_amount_yuan": target.monthly_amount_yuan,
              "review_tier": target.review_tier}
    target.review_tier = body.get("review_tier") or target.review_tier
    if to == rules.ADJUSTED and proposal is not None:
        target.category = proposal.category
        target.per_capita_income_yuan = proposal.per_capita_income
        target.standard_yuan, target.members_count = proposal.standard, proposal.members
        target.monthly_amount_yuan = proposal.amount
    if to == rules.STOPPED:
        # 004: stopping payment needs written reasons; the stop notice prints from either case
        wf.stopped_by_id, wf.stopped_at, wf.stopped_on = caller.user_id, now, today
        target.stopped_by_id, target.stopped_at, target.stopped_on = caller.user_id, now, today
        target.reasons = reasons
        cases.set_status(subject, rules.STOPPED)
    review.new_amount_yuan = None if to == rules.STOPPED else target.monthly_amount_yuan
    target.updated_at = now
    cases.touch(subject)
    after = {"status": subject.status, "monthly_amount_yuan": review.new_amount_yuan,
             "review_tier": target.review_tier, "review_case": case.id, "outcome": to,
             "reasons": reasons}
    records.audit_case(
        subject, "case.transition" if to == rules.STOPPED else "case.periodic_review_applied",
        before, after)
    return {"outcome": to, "subject_case": subject.id, "method": review.method,
            "previous_amount_yuan": review.previous_amount_yuan,
            "new_amount_yuan": review.new_amount_yuan, "reasons": reasons,
            "review_tier": target.review_tier}


def review_view(case: Any) -> dict | None:
    """A review case: its subject, source, method, findings and outcome. A current
    recipient's case: its tier, last review, next due date and the open review."""
    if case.kind == rules.PERIODIC_REVIEW:
        review = review_of(case)
        return {"subject_case_id": review.subject_case_id, "source": review.source,
                "trigger_ids": review.trigger_ids, "opened_at": review.opened_at,
                "method": review_method(case, review), "findings": review.findings,
                "outcome": review.outcome, "completed_at": review.completed_at,
                "previous_amount_yuan": review.previous_amount_yuan,
                "new_amount_yuan": review.new_amount_yuan,
                # What an adjustment starts from (the desk fills its form with it): the income
                # the review's own home visit found, and the one the allowance was set on.
                "visit_income_yuan": records.visit_income(case.id, jurisdictions.effective_settings(
                    case.jurisdiction_code)["min_visit_team_size"]),
                "income_on_record_yuan": _subject_income(review.subject_case_id),
                "methods": list(rules.REVIEW_METHODS), "tiers": list(rules.REVIEW_TIERS)}
    if case.status != rules.APPROVED or case.kind not in rules.MONTHLY_KINDS:
        return None
    item, = review_schedule(cases.summaries(case_ids=[case.id]))
    return {"tier": item.tier, "last_reviewed_on": item.last_reviewed_on,
            "due_on": item.due_on, "open_review_case_id": item.open_review_case_id,
            "is_triggered_by_checkins": bool(item.triggers)}


def _subject_income(subject_case_id: str) -> Decimal | None:
    record = db.session.get(CaseWorkflow, subject_case_id)
    return record.per_capita_income_yuan if record is not None else None
