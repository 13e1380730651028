"""Case workflow use cases: one transition endpoint, the application record, the economic
check, tracked tasks, the timeline, county spot checks, allowance standards, due lists,
payment lists and the content of the printable documents.

Cases, households, visits and reviews are read through their services; every change bumps
the case's version (If-Match) and writes one audit row on the case, in the request's
transaction, so a refused step leaves nothing behind.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from backend import clock, events
from backend.audit import service as audit
from backend.auth import rules as roles
from backend.auth import service as auth
from backend.auth.rules import Caller
from backend.bulk import CHUNK, chunks, insert_rows
from backend.cases import service as cases
from backend.checkins import service as checkins
from backend.dbtypes import new_id
from backend.errors import ProblemError
from backend.extensions import db
from backend.holidays import service as holidays
from backend.households import service as households
from backend.jurisdictions import service as jurisdictions
from backend.jurisdictions.scope import within
from backend.privacy import rules as privacy
from backend.reviews import service as reviews
from backend.visits import queries as visits
from backend.workflow import rules
from backend.workflow.models import (
    AllowanceStandard,
    CaseObjection,
    CaseWorkflow,
    PanelPoolMember,
    PeriodicReview,
    SpotCheck,
    SpotCheckDraw,
)

OFFICE_SUFFIX = "人民政府"
REEXAMINATION_ROUTE = ("如对本决定有异议, 可自收到本通知之日起向县级人民政府民政部门申请复查 "
                       "(you may ask the county civil-affairs bureau to re-examine this decision)")


def _add_working_days(start: date, days: int) -> date:
    return clock.add_working_days(start, days, holidays.overrides())


def _today() -> date:
    return clock.today_in_china()


def _record(case: Any) -> CaseWorkflow:
    found = db.session.get(CaseWorkflow, case.id)
    if found is None:
        found = CaseWorkflow(case_id=case.id, jurisdiction_code=case.jurisdiction_code,
                             pledge_scan_sha256s=[], authorization_scan_sha256s=[],
                             missing_documents=[], reasons=[], needs_panel=False,
                             notice_round=0, updated_at=clock.now())
        db.session.add(found)
    return found


def _iso(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def _audit(case: Any, action: str, before: dict, after: dict) -> None:
    audit.record(action, "case", case.id, jurisdiction_code=case.jurisdiction_code,
                 before={k: _iso(v) for k, v in before.items()},
                 after={k: _iso(v) for k, v in after.items()})


def _open_for_change(caller: Caller, case_id: str, if_match: str | None) -> Any:
    case = cases.get_visible(caller, case_id)
    cases.check_version(case, if_match)
    return case


# --- the transition --------------------------------------------------------------------------


def _complete_visits(case_id: str, team_size: int) -> list[str]:
    """004: the case's visits attested by ≥ team_size investigators and approved in review
    (a visit without a review counts as approved)."""
    attesters = visits.attesters_by_visit(case_id)
    states = reviews.states_of(attesters)
    return [sid for sid, who in attesters.items()
            if len(who) >= team_size and states.get(sid, "approved") == "approved"]


def _visit_complete(case_id: str, team_size: int) -> bool:
    return bool(_complete_visits(case_id, team_size))


def _self_care_level(case_id: str, team_size: int) -> str | None:
    """43号 level from a complete visit of the case that answered all six self-care items
    (001: the visit assesses an extreme-poverty applicant's self-care); None when no such
    visit did."""
    for answers in visits.current_answers(_complete_visits(case_id, team_size)).values():
        if all(isinstance(answers.data.get(item), bool) for item in rules.SELF_CARE_ITEMS):
            return rules.self_care_level(answers.data)
    return None


def _visit_income(case_id: str, team_size: int) -> Decimal | None:
    """The per-capita monthly income that a complete visit of the case computed, or None
    when none has one."""
    found = [answers.computed.get("per_capita_monthly_income") for answers
             in visits.current_answers(_complete_visits(case_id, team_size)).values()]
    numbers = [Decimal(str(v)) for v in found
               if isinstance(v, int | float | str) and not isinstance(v, bool)]
    return numbers[-1] if numbers else None


def _panel(record: dict | None) -> rules.PanelRecord | None:
    if not record:
        return None
    return rules.PanelRecord(date.fromisoformat(record["held_on"]), record["members_present"],
                             record["cadres_present"], record["is_group_leader_present"],
                             record["is_discipline_officer_present"])


def _standard(code: str, on: date, settings: dict) -> Decimal:
    chain = jurisdictions.ancestors_root_first(code)
    rows = [rules.Standard(s.jurisdiction_code, s.effective_on, s.monthly_yuan)
            for s in db.session.scalars(select(AllowanceStandard).where(
                AllowanceStandard.jurisdiction_code.in_(chain)))]
    found = rules.standard_on(rows, chain, on)
    if found is not None:
        return Decimal(found.monthly_yuan)
    return Decimal(str(settings["allowance_standard_monthly"]))


@dataclass
class Proposal:
    category: str | None = None
    per_capita_income: Decimal | None = None
    standard: Decimal | None = None
    members: int | None = None
    amount: Decimal | None = None
    problem: str | None = None


def _proposal(case: Any, key: str, body: dict, settings: dict) -> Proposal:
    """The proposed category and monthly amount (003), or why the proposal is invalid."""
    given = body.get("proposal") or {}
    if key == "temporary.expenditure":
        amount = given.get("amount_yuan")
        if amount is None or Decimal(str(amount)) <= 0:
            return Proposal(problem="临时救助需填写救助金额 (proposal.amount_yuan)")
        return Proposal(category="temporary", amount=Decimal(str(amount)))
    income = given.get("per_capita_income_yuan")
    if income is None:
        return Proposal(problem="需填写家庭月人均收入 (proposal.per_capita_income_yuan)")
    income = Decimal(str(income))
    household = households.facts([case.household_id])[case.household_id]
    members = len(household.members)
    standard = _standard(case.jurisdiction_code, _today(), settings)
    judged = rules.classify(income, standard,
                            Decimal(str(settings["low_income_margin_multiple"])))
    if judged == "ineligible":
        return Proposal(problem=(
            f"人均收入 {income} 元不低于低保边缘线 (income at or above "
            f"{settings['low_income_margin_multiple']} × the standard {standard})"))
    if judged == "low_income_margin" or case.kind == "low_income_margin":
        return Proposal("low_income_margin", income, standard, members, Decimal(0))
    amount = rules.monthly_amount(standard, income, members,
                                  settings["allowance_rounding_decimals"])
    return Proposal(case.kind, income, standard, members, amount)


def _facts(case: Any, wf: CaseWorkflow, key: str, body: dict, settings: dict,
           proposal: Proposal | None) -> rules.Facts:
    emergency = body.get("emergency") or {}
    objection = body.get("objection") or {}
    draw = db.session.get(SpotCheck, case.id)
    panel_record = body.get("panel")
    if panel_record is not None:
        panel_record = {**panel_record, "held_on": _iso(panel_record["held_on"])}
    applied_on = case.applied_at.astimezone(clock.SHANGHAI).date()
    amount = emergency.get("amount_yuan")
    return rules.Facts(
        kind=case.kind,
        has_pledge=bool(case.has_honesty_pledge), has_authorization=bool(
            case.is_economic_check_authorized),
        visit_complete=_visit_complete(case.id, settings["min_visit_team_size"]),
        economic_check_result=wf.economic_check_result,
        is_panel_held=bool(settings["is_panel_review_held"]),
        needs_panel_after_objection=wf.needs_panel,
        panel=_panel(panel_record if panel_record is not None else wf.panel_record),
        panel_min_members=settings["panel_min_members"],
        special_case_panel_min_members=settings["special_case_panel_min_members"],
        panel_due_on=_add_working_days(applied_on, rules.SPECIAL_CASE_PANEL_WORKING_DAYS),
        notice_ends_on=wf.notice_ends_on, today=_today(),
        is_spot_check_subject=rules.is_spot_check_subject(key),
        is_drawn=draw is not None, is_sampled=bool(draw and draw.is_sampled),
        spot_check_outcome=draw.outcome if draw else None,
        reasons=tuple(body.get("reasons") or ()),
        has_objection=bool(objection.get("raised_by_name") and objection.get("content")),
        emergency_recipient=emergency.get("recipient_name"),
        emergency_reason=emergency.get("reason"),
        emergency_amount=Decimal(str(amount)) if amount is not None else None,
        emergency_cap=Decimal(str(settings["emergency_aid_max_yuan"])),
        proposal_problem=proposal.problem if proposal else None,
        self_care_level=_self_care_level(case.id, settings["min_visit_team_size"])
        if case.kind == "extreme_poverty" else None,
    )


def transition(caller: Caller, case_id: str, if_match: str | None, body: dict) -> Any:
    """Move a case one step along its kind's table (rules.TRANSITIONS)."""
    case = _open_for_change(caller, case_id, if_match)
    to = body["to"]
    key = rules.kind_key(case.kind, case.temporary_subtype)
    step = rules.transition_for(case.status, to, key)
    if step is None:
        raise ProblemError("transition-not-allowed",
                           f"A {key} case cannot move from {case.status} to {to}.",
                           extra={"from": case.status, "to": to,
                                  "allowed": rules.allowed_targets(case.status, key,
                                                                   caller.roles)})
    if not caller.has(*step.roles):
        raise ProblemError("forbidden", f"Moving a case to {to} needs one of the roles "
                                        f"{', '.join(sorted(step.roles))}.")
    wf = _record(case)
    done_by = {"intake": case.intake_by_id, "preliminary_review": wf.preliminary_review_by_id,
               "approval": wf.decided_by_id}
    conflict = rules.duty_conflict(step.duty, caller.user_id, done_by)
    if conflict is not None:
        raise ProblemError("separation-of-duties",
                           f"You did the {conflict} of this case; someone else must do its "
                           f"{step.duty} (001: 受理、初审、审核确认经办人员不能为同一人).",
                           extra={"rule": "001", "duty": step.duty, "done": conflict})
    settings = jurisdictions.effective_settings(case.jurisdiction_code)
    review = _review_of(case) if key == rules.PERIODIC_REVIEW else None
    subject = cases.get_visible(caller, review.subject_case_id) if review else None
    proposal = None
    if to == rules.REVIEWING and review is None:
        proposal = _proposal(case, key, body, settings)
    elif to == rules.ADJUSTED and subject is not None:
        # 003: the new amount follows the same rules as at approval, for the subject's kind
        proposal = _proposal(subject, subject.kind, body, settings)
    facts = _facts(case, wf, key, body, settings, proposal)
    if review is not None:
        given = body.get("review") or {}
        facts = replace(facts, review_method=given.get("method") or _review_method(case, review),
                        review_findings=given.get("findings") or review.findings)
    problems = rules.guard_problems(step, facts)
    if problems:
        slug, message = problems[0]
        raise ProblemError(slug, message, {"to": [m for _, m in problems]},
                           extra={"rules": [s for s, _ in problems],
                                  "sources": {s: rules.GUARD_SOURCES.get(s) for s, _ in problems}})
    before = {"status": case.status}
    if review is not None and subject is not None:
        details = _apply_review(caller, case, wf, review, subject, to, body, proposal)
    else:
        details = _apply(caller, case, wf, key, to, body, settings, proposal)
    cases.set_status(case, to)
    wf.updated_at = clock.now()
    db.session.flush()
    _audit(case, "case.transition", before, {"status": to, **details})
    return case


def _apply(caller: Caller, case: Any, wf: CaseWorkflow, key: str, to: str, body: dict,
           settings: dict, proposal: Proposal | None) -> dict:
    """The step's effects on the workflow record; returns what the audit row says."""
    now, today = clock.now(), _today()
    reasons = [r.strip() for r in body.get("reasons") or [] if r.strip()]
    if to == rules.REVIEWING and proposal is not None:
        if body.get("panel") is not None:
            wf.panel_record = {**body["panel"], "held_on": _iso(body["panel"]["held_on"])}
        wf.preliminary_review_by_id, wf.preliminary_review_at = caller.user_id, now
        wf.category, wf.per_capita_income_yuan = proposal.category, proposal.per_capita_income
        wf.standard_yuan, wf.members_count = proposal.standard, proposal.members
        wf.monthly_amount_yuan = proposal.amount
        return {"category": wf.category, "monthly_amount_yuan": proposal.amount,
                "standard_yuan": proposal.standard, "panel": wf.panel_record}
    if to == rules.PUBLIC_NOTICE:
        wf.notice_round += 1
        wf.notice_starts_on = today
        wf.notice_ends_on = rules.notice_ends_on(today, settings["public_notice_days"])
        return {"notice_round": wf.notice_round, "notice_ends_on": wf.notice_ends_on}
    if to == rules.INVESTIGATING and case.status == rules.PUBLIC_NOTICE:
        objection = body["objection"]
        db.session.add(CaseObjection(
            id=new_id(), case_id=case.id, notice_round=wf.notice_round,
            raised_by_name=objection["raised_by_name"], content=objection["content"],
            recorded_by_id=caller.user_id, recorded_at=now))
        # 57号: an objection calls a panel, then the notice is posted again.
        wf.needs_panel, wf.panel_record = True, None
        return {"objection": objection, "needs_panel": True}
    if to == rules.APPROVED:
        wf.decided_by_id, wf.decided_at, wf.reasons = caller.user_id, now, reasons
        wf.bank_account = body.get("bank_account") or wf.bank_account
        wf.review_tier = body.get("review_tier") or wf.review_tier
        if key == "temporary.emergency":
            emergency = body["emergency"]
            wf.category = "temporary"
            wf.emergency_recipient = emergency["recipient_name"]
            wf.emergency_reason = emergency["reason"]
            wf.emergency_amount_yuan = Decimal(str(emergency["amount_yuan"]))
            wf.signatures_due_on = _add_working_days(
                today, rules.EMERGENCY_SIGNATURES_WORKING_DAYS)
            return {"emergency": {**emergency, "amount_yuan": str(wf.emergency_amount_yuan)},
                    "signatures_due_on": wf.signatures_due_on}
        if key == "temporary.expenditure":
            wf.payment_due_on = _add_working_days(today, rules.TEMPORARY_PAYMENT_WORKING_DAYS)
            return {"amount_yuan": wf.monthly_amount_yuan, "payment_due_on": wf.payment_due_on}
        wf.payment_starts_on = rules.payment_starts_on(today)
        if case.kind == "special_case":
            wf.filing_due_on = _add_working_days(today, rules.SPECIAL_CASE_FILING_WORKING_DAYS)
        details = {"category": wf.category, "monthly_amount_yuan": wf.monthly_amount_yuan,
                   "payment_starts_on": wf.payment_starts_on,
                   "filing_due_on": wf.filing_due_on, "review_tier": wf.review_tier}
        if case.kind == "extreme_poverty":  # 43号: the level the approval rests on
            details["self_care_level"] = _self_care_level(case.id,
                                                          settings["min_visit_team_size"])
        return details
    if to == rules.REFUSED:
        wf.decided_by_id, wf.decided_at, wf.reasons = caller.user_id, now, reasons
        wf.refusal_letter_due_on = _add_working_days(today, rules.REFUSAL_LETTER_WORKING_DAYS)
        return {"reasons": reasons, "refusal_letter_due_on": wf.refusal_letter_due_on}
    if to == rules.STOPPED:
        wf.stopped_by_id, wf.stopped_at, wf.stopped_on = caller.user_id, now, today
        wf.reasons = reasons
        return {"reasons": reasons, "stopped_on": today}
    if to == rules.WITHDRAWN:
        wf.reasons = reasons
        return {"reasons": reasons}
    return {}


# --- periodic review (动态管理, 004) ------------------------------------------------------------

OPENING_ROLES = (roles.INTAKE_CLERK, roles.VILLAGE_ASSISTANT)


def _review_of(case: Any) -> PeriodicReview:
    found = db.session.get(PeriodicReview, case.id)
    if found is None:  # a periodic_review case is only ever opened with its row
        raise ProblemError("case-not-found", "This periodic review has no record.")
    return found


def _review_method(case: Any, review: PeriodicReview) -> str | None:
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
    triggers = checkins.periodic_review_triggers([event.household_id]).get(
        event.household_id, [])
    review, _ = _open_review(subject, "checkin", None, [t["id"] for t in triggers])
    checkins.mark_review_triggers_handled(event.household_id, review.case_id,
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
    triggers = checkins.periodic_review_triggers([subject.household_id]).get(
        subject.household_id, [])
    review, opened = _open_review(subject, "desk", caller.user_id, [t["id"] for t in triggers])
    if not opened:
        raise ProblemError("periodic-review-open", "This case already has an open periodic "
                                                   "review.",
                           extra={"review_case_id": review.case_id})
    if triggers:
        checkins.mark_review_triggers_handled(subject.household_id, review.case_id,
                                              subject.jurisdiction_code)
    return cases.get_visible(caller, review.case_id)


@dataclass(frozen=True)
class ReviewDue:
    subject: Any
    tier: str | None
    last_reviewed_on: date
    due_on: date
    open_review_case_id: str | None
    triggers: list[dict]


def _reviews_due(subjects: list[Any]) -> list[ReviewDue]:
    """Every subject with its tier, last review and next due date (rules.review_due_on)."""
    ids = [s.id for s in subjects]
    records: dict[str, CaseWorkflow] = {}
    last: dict[str, date | None] = {}
    open_ids: dict[str | None, str] = {}
    for chunk in chunks(ids):
        records.update({w.case_id: w for w in db.session.scalars(select(CaseWorkflow).where(
            CaseWorkflow.case_id.in_(chunk)))})
        last.update(db.session.execute(select(
            PeriodicReview.subject_case_id, func.max(PeriodicReview.completed_on)).where(
            PeriodicReview.subject_case_id.in_(chunk),
            PeriodicReview.completed_on.is_not(None)).group_by(
            PeriodicReview.subject_case_id)).all())
        open_ids.update(db.session.execute(select(
            PeriodicReview.open_subject_case_id, PeriodicReview.case_id).where(
            PeriodicReview.open_subject_case_id.in_(chunk))).all())
    triggers = checkins.periodic_review_triggers({s.household_id for s in subjects})
    settings_of: dict[str, dict] = {}
    found = []
    for subject in subjects:
        wf = records.get(subject.id)
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


def _is_to_open(item: ReviewDue, today: date) -> bool:
    return item.open_review_case_id is None and (item.due_on <= today or bool(item.triggers))


def reviews_due(caller: Caller) -> list[dict]:
    """Current recipients whose periodic review is due (their tier's months since the last
    review or the approval) or triggered by missed check-ins, with none open yet."""
    if not caller.has(*OPENING_ROLES, roles.REVIEWER, roles.APPROVER, roles.COUNTY_SUPERVISOR):
        raise ProblemError("forbidden", "Your role does not open periodic reviews.")
    today = _today()
    due_items = [i for i in _reviews_due(_current_recipients(caller))
                 if _is_to_open(i, today)]
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
                                     _add_working_days)})
    return answer


def open_due_reviews(caller: Caller | None, case_ids: list[str] | None = None) -> list[str]:
    """Open the due periodic reviews in bulk: the caller's chosen ones from the desk, or
    (no caller) every due one by the daily job. Returns the review case ids opened."""
    if caller is not None and not caller.has(*OPENING_ROLES):
        raise ProblemError("forbidden", "Only intake clerks and village assistants open "
                                        "periodic reviews.")
    today = _today()
    wanted = set(case_ids) if case_ids is not None else None
    opened_by_id = caller.user_id if caller else None
    opened, scheduled = [], []
    for item in _reviews_due(_current_recipients(caller)):
        if not _is_to_open(item, today) or (wanted is not None and item.subject.id not in wanted):
            continue
        if not item.triggers:
            scheduled.append(item.subject)
            continue
        review, is_new = _open_review(item.subject, "checkin", opened_by_id,
                                      [t["id"] for t in item.triggers])
        checkins.mark_review_triggers_handled(item.subject.household_id, review.case_id,
                                              item.subject.jurisdiction_code)
        if is_new:
            opened.append(review.case_id)
    return opened + _open_reviews_in_bulk(scheduled, "desk" if caller else "schedule",
                                          opened_by_id)


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


def _apply_review(caller: Caller, case: Any, wf: CaseWorkflow, review: PeriodicReview,
                  subject: Any, to: str, body: dict, proposal: Proposal | None) -> dict:
    """A periodic review's step; its outcome changes the subject case (amount, stop)."""
    now, today = clock.now(), _today()
    given = body.get("review") or {}
    if to == rules.INVESTIGATING:
        review.method = given.get("method") or _review_method(case, review)
        return {"method": review.method}
    if to == rules.REVIEWING:
        review.method = given.get("method") or _review_method(case, review)
        review.findings = given.get("findings") or review.findings
        wf.preliminary_review_by_id, wf.preliminary_review_at = caller.user_id, now
        return {"method": review.method, "findings": review.findings}
    reasons = [r.strip() for r in body.get("reasons") or [] if r.strip()]
    wf.decided_by_id, wf.decided_at, wf.reasons = caller.user_id, now, reasons
    target = _record(subject)
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
    _audit(subject, "case.transition" if to == rules.STOPPED else "case.periodic_review_applied",
           before, after)
    return {"outcome": to, "subject_case": subject.id, "method": review.method,
            "previous_amount_yuan": review.previous_amount_yuan,
            "new_amount_yuan": review.new_amount_yuan, "reasons": reasons,
            "review_tier": target.review_tier}


# --- application, economic check, tasks -----------------------------------------------------


def record_application(caller: Caller, case_id: str, if_match: str | None, body: dict) -> Any:
    """The honesty pledge, the authorization (who, when, scans) and the missing documents
    listed at once (一次性告知)."""
    if not caller.has(roles.INTAKE_CLERK, roles.VILLAGE_ASSISTANT):
        raise ProblemError("forbidden", "Only intake clerks and village assistants record "
                                        "applications.")
    case = _open_for_change(caller, case_id, if_match)
    if case.status != rules.ACCEPTED:
        raise ProblemError("transition-not-allowed", "The application is recorded at intake.",
                           extra={"from": case.status, "to": case.status, "allowed": []})
    wf = _record(case)
    now = clock.now()
    after: dict[str, Any] = {}
    if body.get("pledge") is not None:
        wf.pledge_by_id, wf.pledge_at = caller.user_id, now
        wf.pledge_scan_sha256s = sorted(set(body["pledge"]["scan_sha256s"]))
        after["pledge_scan_sha256s"] = wf.pledge_scan_sha256s
    if body.get("authorization") is not None:
        wf.authorization_by_id, wf.authorization_at = caller.user_id, now
        wf.authorization_scan_sha256s = sorted(set(body["authorization"]["scan_sha256s"]))
        after["authorization_scan_sha256s"] = wf.authorization_scan_sha256s
    if body.get("missing_documents") is not None:
        wf.missing_documents = list(body["missing_documents"])
        wf.missing_documents_at = now
        after["missing_documents"] = wf.missing_documents
    cases.set_application(case, wf.pledge_at is not None, wf.authorization_at is not None)
    wf.updated_at = now
    db.session.flush()
    _audit(case, "case.application_recorded", {}, after)
    return case


def record_economic_check(caller: Caller, case_id: str, if_match: str | None,
                          body: dict) -> Any:
    """The economic check (核对): requested, returned, result. A check that took more
    than the trigger (001: 15 days) extends the deadline to the extended one (≤ 30)."""
    if not caller.has(roles.INTAKE_CLERK, roles.REVIEWER):
        raise ProblemError("forbidden", "Only intake clerks and reviewers record the check.")
    case = _open_for_change(caller, case_id, if_match)
    if case.status not in rules.OPEN:
        raise ProblemError("transition-not-allowed", "The case is decided.",
                           extra={"from": case.status, "to": case.status, "allowed": []})
    wf = _record(case)
    before = {"requested_at": wf.economic_check_requested_at,
              "returned_at": wf.economic_check_returned_at, "result": wf.economic_check_result,
              "deadline_on": case.deadline_on}
    wf.economic_check_requested_at = body["requested_at"]
    wf.economic_check_returned_at = body.get("returned_at")
    wf.economic_check_result = body.get("result")
    took = rules.check_took_days(wf.economic_check_requested_at, wf.economic_check_returned_at)
    settings = jurisdictions.effective_settings(case.jurisdiction_code)
    deadline = rules.decision_deadline(
        case.kind, case.temporary_subtype, case.applied_at.astimezone(clock.SHANGHAI).date(),
        settings, _add_working_days, took)
    if deadline is not None and (case.deadline_on is None or deadline > case.deadline_on):
        cases.set_deadline_on(case, deadline)
    cases.touch(case)
    wf.updated_at = clock.now()
    db.session.flush()
    _audit(case, "case.economic_check_recorded", before, {
        "requested_at": wf.economic_check_requested_at,
        "returned_at": wf.economic_check_returned_at, "result": wf.economic_check_result,
        "took_days": took, "deadline_on": case.deadline_on})
    return case


TASKS = {
    # task -> (status it belongs to, the due field, the completion field, roles)
    "refusal_letter_sent": (rules.REFUSED, "refusal_letter_due_on", "refusal_letter_sent_at",
                            (roles.INTAKE_CLERK, roles.APPROVER)),
    "emergency_signatures_completed": (rules.APPROVED, "signatures_due_on",
                                       "signatures_completed_at", (roles.APPROVER,)),
    "special_case_filed": (rules.APPROVED, "filing_due_on", "filed_at", (roles.APPROVER,)),
    "temporary_aid_paid": (rules.APPROVED, "payment_due_on", "paid_at", (roles.APPROVER,)),
}


def complete_task(caller: Caller, case_id: str, if_match: str | None, task: str) -> Any:
    status, due_field, done_field, allowed = TASKS[task]
    if not caller.has(*allowed):
        raise ProblemError("forbidden", "Your role does not complete this task.")
    case = _open_for_change(caller, case_id, if_match)
    wf = db.session.get(CaseWorkflow, case.id)
    if (case.status != status or wf is None or getattr(wf, due_field) is None
            or getattr(wf, done_field) is not None):
        raise ProblemError("task-not-open", f"The case has no open {task} task.")
    setattr(wf, done_field, clock.now())
    cases.touch(case)
    _audit(case, "case.task_completed", {}, {"task": task, "due_on": getattr(wf, due_field)})
    return case


# --- reading ---------------------------------------------------------------------------------


def _names(*ids: str | None) -> dict[str, str]:
    return auth.display_names({i for i in ids if i})


def view(caller: Caller, case: Any) -> dict:
    """The workflow side of a case: what is recorded, what is due, what the caller may do."""
    wf = db.session.get(CaseWorkflow, case.id)
    key = rules.kind_key(case.kind, case.temporary_subtype)
    check = db.session.get(SpotCheck, case.id)
    objections = db.session.scalars(select(CaseObjection).where(
        CaseObjection.case_id == case.id).order_by(CaseObjection.recorded_at)).all()
    names = _names(case.intake_by_id, *(getattr(wf, f) for f in (
        "pledge_by_id", "authorization_by_id", "preliminary_review_by_id", "decided_by_id",
        "stopped_by_id") if wf is not None))
    get = (lambda name: getattr(wf, name)) if wf is not None else (lambda name: None)
    tasks = [{"task": task, "due_on": get(due), "completed_at": get(done)}
             for task, (status, due, done, _) in TASKS.items()
             if case.status == status and get(due) is not None]
    return _plain({
        "case_id": case.id, "kind_key": key, "status": case.status, "version": case.version,
        "allowed_transitions": rules.allowed_targets(case.status, key, caller.roles),
        "duties": {"intake": _who(case.intake_by_id, names),
                   "preliminary_review": _who(get("preliminary_review_by_id"), names),
                   "approval": _who(get("decided_by_id"), names)},
        "application": {
            "has_honesty_pledge": case.has_honesty_pledge,
            "is_economic_check_authorized": case.is_economic_check_authorized,
            "pledge": {"by": _who(get("pledge_by_id"), names), "at": get("pledge_at"),
                       "scan_sha256s": get("pledge_scan_sha256s") or []},
            "authorization": {"by": _who(get("authorization_by_id"), names),
                              "at": get("authorization_at"),
                              "scan_sha256s": get("authorization_scan_sha256s") or []},
            "missing_documents": get("missing_documents") or [],
        },
        "economic_check": {"requested_at": get("economic_check_requested_at"),
                           "returned_at": get("economic_check_returned_at"),
                           "result": get("economic_check_result")},
        "panel": {"is_required_after_objection": bool(get("needs_panel")),
                  "record": get("panel_record")},
        "proposal": {"category": get("category"),
                     "per_capita_income_yuan": get("per_capita_income_yuan"),
                     "standard_yuan": get("standard_yuan"), "members_count": get("members_count"),
                     "monthly_amount_yuan": get("monthly_amount_yuan")},
        "notice": {"round": get("notice_round") or 0, "starts_on": get("notice_starts_on"),
                   "ends_on": get("notice_ends_on"),
                   "is_over": rules.notice_is_over(get("notice_ends_on"), _today())},
        "objections": [{"raised_by_name": o.raised_by_name, "content": o.content,
                        "notice_round": o.notice_round, "recorded_by_id": o.recorded_by_id,
                        "recorded_at": o.recorded_at} for o in objections],
        "spot_check": {"is_subject": rules.is_spot_check_subject(key),
                       "is_drawn": check is not None,
                       "is_sampled": bool(check and check.is_sampled),
                       "reason": check.reason if check else None,
                       "outcome": check.outcome if check else None,
                       "checked_at": check.checked_at if check else None},
        "decision": {"decided_at": get("decided_at"), "reasons": get("reasons") or [],
                     "refusal_letter_due_on": get("refusal_letter_due_on"),
                     "payment_starts_on": get("payment_starts_on"),
                     "payment_due_on": get("payment_due_on"),
                     "stopped_on": get("stopped_on")},
        "emergency": {"recipient_name": get("emergency_recipient"),
                      "reason": get("emergency_reason"),
                      "amount_yuan": get("emergency_amount_yuan"),
                      "signatures_due_on": get("signatures_due_on")},
        "tasks": tasks,
        "periodic_review": _review_view(case),
    })


def _review_view(case: Any) -> dict | None:
    """A review case: its subject, source, method, findings and outcome. A current
    recipient's case: its tier, last review, next due date and the open review."""
    if case.kind == rules.PERIODIC_REVIEW:
        review = _review_of(case)
        return {"subject_case_id": review.subject_case_id, "source": review.source,
                "trigger_ids": review.trigger_ids, "opened_at": review.opened_at,
                "method": _review_method(case, review), "findings": review.findings,
                "outcome": review.outcome, "completed_at": review.completed_at,
                "previous_amount_yuan": review.previous_amount_yuan,
                "new_amount_yuan": review.new_amount_yuan,
                # What an adjustment starts from (the desk fills its form with it): the income
                # the review's own home visit found, and the one the allowance was set on.
                "visit_income_yuan": _visit_income(case.id, jurisdictions.effective_settings(
                    case.jurisdiction_code)["min_visit_team_size"]),
                "income_on_record_yuan": _subject_income(review.subject_case_id),
                "methods": list(rules.REVIEW_METHODS), "tiers": list(rules.REVIEW_TIERS)}
    if case.status != rules.APPROVED or case.kind not in rules.MONTHLY_KINDS:
        return None
    item, = _reviews_due(cases.summaries(case_ids=[case.id]))
    return {"tier": item.tier, "last_reviewed_on": item.last_reviewed_on,
            "due_on": item.due_on, "open_review_case_id": item.open_review_case_id,
            "is_triggered_by_checkins": bool(item.triggers)}


def _subject_income(subject_case_id: str) -> Decimal | None:
    record = db.session.get(CaseWorkflow, subject_case_id)
    return record.per_capita_income_yuan if record is not None else None


def _plain(value: Any) -> Any:
    """Dates, instants and money inside the view's open dicts as ISO text and strings."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return _iso(value)


def _who(user_id: str | None, names: dict[str, str]) -> dict | None:
    return {"user_id": user_id, "display_name": names.get(user_id)} if user_id else None


def timeline(caller: Caller, case_id: str) -> list[dict]:
    """Every step of the case: what, who, when, from which device (全程留痕, 003)."""
    case = cases.get_visible(caller, case_id)
    events = audit.events_for("case", case.id)
    names = auth.display_names({e.actor_id for e in events if e.actor_id})
    return [{"at": e.at, "action": e.action, "actor_id": e.actor_id,
             "actor_name": names.get(e.actor_id) if e.actor_id else None,
             "device_id": e.device_id, "from_status": (e.before or {}).get("status"),
             "to_status": (e.after or {}).get("status"), "before": e.before or {},
             "after": e.after or {}} for e in events]


# --- panel pool and draw (004, 001) --------------------------------------------------------


def pool(caller: Caller, village: str) -> list[PanelPoolMember]:
    if not caller.covers(village):
        raise ProblemError("jurisdiction-not-found", f"No jurisdiction {village} in your area.")
    return list(db.session.scalars(select(PanelPoolMember).where(
        PanelPoolMember.village_code == village).order_by(PanelPoolMember.id)))


def replace_pool(caller: Caller, village: str, members: list[dict]) -> list[PanelPoolMember]:
    """Set a village's pool (administrators and intake clerks of the township)."""
    if not caller.has(roles.ADMIN, roles.INTAKE_CLERK):
        raise ProblemError("forbidden", "Only administrators and intake clerks keep the pool.")
    place = jurisdictions.place(village)
    if place is None or place.level != "village" or not caller.covers(village):
        raise ProblemError("jurisdiction-not-found", f"No village {village} in your area.")
    db.session.execute(PanelPoolMember.__table__.delete().where(
        PanelPoolMember.village_code == village))
    now = clock.now()
    rows = [PanelPoolMember(id=new_id(), village_code=village, name=m["name"], role=m["role"],
                            created_at=now) for m in members]
    db.session.add_all(rows)
    db.session.flush()
    audit.record("panel_pool.replaced", "jurisdiction", village, jurisdiction_code=village,
                 after={"members": len(rows)})
    return pool(caller, village)


def draw_panel(caller: Caller, case_id: str, if_match: str | None, group_leader_id: str | None
               ) -> Any:
    """Draw the case's panel from its village's pool with a stored seed (004; 001 special
    case: 12 members with a discipline officer)."""
    if not caller.has(roles.REVIEWER):
        raise ProblemError("forbidden", "Only reviewers draw panels.")
    case = _open_for_change(caller, case_id, if_match)
    if case.status not in (rules.INVESTIGATING, rules.PANEL_REVIEW):
        raise ProblemError("transition-not-allowed", "A panel is drawn during the "
                                                     "investigation or the panel review.",
                           extra={"from": case.status, "to": rules.PANEL_REVIEW, "allowed": []})
    settings = jurisdictions.effective_settings(case.jurisdiction_code)
    special = case.kind == "special_case"
    size = settings["special_case_panel_min_members" if special else "panel_min_members"]
    members = [rules.PoolMember(m.id, m.role) for m in pool(caller, case.jurisdiction_code)]
    if group_leader_id is None:
        group_leader_id = next((m.id for m in members if m.role == "group_leader"), None)
    problems = rules.panel_pool_problems(members, settings["panel_pool_min"], size, special)
    if group_leader_id is None or group_leader_id not in {m.id for m in members}:
        problems.append("申请人所在村民小组组长须在评议库中 (the group leader; 004)")
    if problems:
        raise ProblemError("panel-pool-too-small", problems[0], {"pool": problems})
    wf = _record(case)
    wf.panel_seed = secrets.token_hex(16)
    wf.panel_member_ids = rules.draw_panel(members, wf.panel_seed, size, group_leader_id,
                                           special)
    cases.touch(case)
    _audit(case, "case.panel_drawn", {}, {"seed": wf.panel_seed,
                                          "members": wf.panel_member_ids})
    return case


def panel_view(caller: Caller, case: Any) -> dict:
    wf = db.session.get(CaseWorkflow, case.id)
    if wf is None or not wf.panel_seed:
        return {"seed": None, "members": [], "redraw_matches": None}
    by_id = {m.id: m for m in pool(caller, case.jurisdiction_code)}
    chosen = list(wf.panel_member_ids or [])
    leader = next((i for i in chosen if by_id.get(i) and by_id[i].role == "group_leader"),
                  None)
    settings = jurisdictions.effective_settings(case.jurisdiction_code)
    special = case.kind == "special_case"
    size = settings["special_case_panel_min_members" if special else "panel_min_members"]
    again = rules.draw_panel([rules.PoolMember(m.id, m.role) for m in by_id.values()],
                             wf.panel_seed, size, leader, special)
    return {"seed": wf.panel_seed, "redraw_matches": again == chosen,
            "members": [{"id": i, "name": by_id[i].name if i in by_id else None,
                         "role": by_id[i].role if i in by_id else None} for i in chosen]}


# --- county spot checks (001/004) ------------------------------------------------------------


def _month_bounds(month: str) -> tuple[datetime, datetime]:
    year, number = (int(part) for part in month.split("-"))
    start = datetime.combine(date(year, number, 1), time(), clock.SHANGHAI)
    end = datetime.combine(rules.payment_starts_on(date(year, number, 1)), time(),
                           clock.SHANGHAI)
    return start.astimezone(UTC), end.astimezone(UTC)


def _population(county: str, month: str) -> list[rules.DrawCandidate]:
    start, end = _month_bounds(month)
    rows = cases.summaries(scope_code=county, applied_from=start, applied_before=end)
    keyed = [(r, rules.kind_key(r.kind, r.temporary_subtype)) for r in rows]
    keyed = [(r, k) for r, k in keyed if k in rules.SPOT_CHECK_RATIO_KEY]
    already = set(db.session.scalars(select(SpotCheck.case_id).join(
        SpotCheckDraw, SpotCheckDraw.id == SpotCheck.draw_id).where(
        SpotCheckDraw.county_code == county)))
    relatives = households.relatives_of_staff({r.household_id for r, _ in keyed})
    return [rules.DrawCandidate(r.id, k, r.household_id in relatives)
            for r, k in keyed if r.id not in already]


def _county_of(caller: Caller) -> str:
    if not caller.has(roles.COUNTY_SUPERVISOR) or len(caller.jurisdiction_code) != 6:
        raise ProblemError("forbidden", "Only the county supervisor draws and records spot "
                                        "checks.")
    return caller.jurisdiction_code


def draw_spot_checks(caller: Caller, month: str) -> SpotCheckDraw:
    """Draw the month's new cases not drawn before, with a fresh stored seed."""
    county = _county_of(caller)
    settings = jurisdictions.effective_settings(county)
    ratios = {k: float(settings[k]) for k in ("spot_check_ratio_dibao",
                                              "spot_check_ratio_temporary")}
    population = _population(county, month)
    seed = secrets.token_hex(16)
    result = rules.draw_sample(population, seed, ratios)
    draw = SpotCheckDraw(id=new_id(), county_code=county, month=month, seed=seed,
                         ratios=ratios, population_sha256=result.population_sha256,
                         population_count=len(population), sampled_count=len(result.sampled),
                         drawn_by_id=caller.user_id, drawn_at=clock.now())
    db.session.add(draw)
    db.session.flush()
    rows = [{"case_id": c.case_id, "draw_id": draw.id, "is_sampled": c.case_id in
             result.sampled, "reason": result.sampled.get(c.case_id)} for c in population]
    if rows:
        db.session.execute(SpotCheck.__table__.insert(), rows)
    audit.record("spot_check.drawn", "spot_check_draw", draw.id, jurisdiction_code=county,
                 after={"month": month, "seed": seed, "population": len(population),
                        "sampled": len(result.sampled),
                        "population_sha256": result.population_sha256})
    return draw


def get_draw(caller: Caller, draw_id: str) -> SpotCheckDraw:
    draw = db.session.scalar(select(SpotCheckDraw).where(
        SpotCheckDraw.id == draw_id, within(SpotCheckDraw.county_code, caller)))
    if draw is None or not caller.has(roles.COUNTY_SUPERVISOR, roles.ADMIN):
        raise ProblemError("draw-not-found", "No such draw in your area.")
    return draw


def draw_view(draw: SpotCheckDraw, redraw: bool = False) -> dict:
    checks = db.session.scalars(select(SpotCheck).where(SpotCheck.draw_id == draw.id)
                                .order_by(SpotCheck.case_id)).all()
    answer = {"id": draw.id, "county_code": draw.county_code, "month": draw.month,
              "seed": draw.seed, "ratios": draw.ratios,
              "population_sha256": draw.population_sha256,
              "population_count": draw.population_count, "sampled_count": draw.sampled_count,
              "drawn_by_id": draw.drawn_by_id, "drawn_at": draw.drawn_at,
              "sampled": [{"case_id": c.case_id, "reason": c.reason, "outcome": c.outcome}
                          for c in checks if c.is_sampled]}
    if redraw:
        answer["redraw"] = redraw_matches(draw, list(checks))
    return answer


def redraw_matches(draw: SpotCheckDraw, checks: list[SpotCheck] | None = None) -> dict:
    """An auditor's redraw: the stored population and seed give the stored sample."""
    checks = checks if checks is not None else list(db.session.scalars(
        select(SpotCheck).where(SpotCheck.draw_id == draw.id)))
    summaries = {r.id: r for r in cases.summaries(case_ids=[c.case_id for c in checks])}
    relatives = households.relatives_of_staff({r.household_id for r in summaries.values()})
    population = [rules.DrawCandidate(
        c.case_id, rules.kind_key(summaries[c.case_id].kind,
                                  summaries[c.case_id].temporary_subtype),
        summaries[c.case_id].household_id in relatives) for c in checks]
    result = rules.draw_sample(population, draw.seed, draw.ratios)
    stored = {c.case_id for c in checks if c.is_sampled}
    return {"population_matches": result.population_sha256 == draw.population_sha256,
            "sample_matches": set(result.sampled) == stored}


def pending_spot_checks(caller: Caller) -> list[dict]:
    county = _county_of(caller)
    rows = db.session.execute(select(SpotCheck.case_id, SpotCheck.reason, SpotCheckDraw.month)
                              .join(SpotCheckDraw, SpotCheckDraw.id == SpotCheck.draw_id)
                              .where(SpotCheck.is_sampled.is_(True), SpotCheck.outcome.is_(None),
                                     SpotCheckDraw.county_code == county)
                              .order_by(SpotCheckDraw.month, SpotCheck.case_id)).all()
    return [{"case_id": r.case_id, "reason": r.reason, "month": r.month} for r in rows]


def record_spot_check(caller: Caller, case_id: str, body: dict) -> SpotCheck:
    _county_of(caller)
    case = cases.get_visible(caller, case_id)
    check = db.session.get(SpotCheck, case.id)
    if check is None or not check.is_sampled:
        raise ProblemError("spot-check-not-sampled", "This case is not in a drawn sample.")
    before = {"outcome": check.outcome}
    check.outcome, check.note = body["outcome"], body.get("note")
    check.checked_by_id, check.checked_at = caller.user_id, clock.now()
    cases.touch(case)
    _audit(case, "case.spot_check_recorded", before, {"outcome": check.outcome,
                                                       "note": check.note})
    return check


# --- allowance standards (003) ---------------------------------------------------------------


def standards(caller: Caller) -> list[AllowanceStandard]:
    chain = jurisdictions.ancestors_root_first(caller.jurisdiction_code)
    return list(db.session.scalars(select(AllowanceStandard).where(
        (AllowanceStandard.jurisdiction_code.in_(chain))
        | within(AllowanceStandard.jurisdiction_code, caller))
        .order_by(AllowanceStandard.jurisdiction_code, AllowanceStandard.effective_on)))


def add_standard(caller: Caller, body: dict) -> AllowanceStandard:
    if not caller.has(roles.ADMIN):
        raise ProblemError("forbidden", "Only administrators set allowance standards.")
    code = body["jurisdiction_code"]
    jurisdictions.require(code)
    if not caller.covers(code):
        raise ProblemError("outside-jurisdiction", "That place is outside your jurisdiction.",
                           {"jurisdiction_code": ["outside your jurisdiction"]})
    if db.session.scalar(select(AllowanceStandard).where(
            AllowanceStandard.jurisdiction_code == code,
            AllowanceStandard.effective_on == body["effective_on"])) is not None:
        raise ProblemError("conflict", "A standard from that date exists for that place.")
    row = AllowanceStandard(id=new_id(), jurisdiction_code=code,
                            year=body["effective_on"].year, effective_on=body["effective_on"],
                            monthly_yuan=Decimal(str(body["monthly_yuan"])),
                            created_by_id=caller.user_id, created_at=clock.now())
    db.session.add(row)
    db.session.flush()
    audit.record("allowance_standard.added", "allowance_standard", row.id,
                 jurisdiction_code=code, after={"effective_on": row.effective_on.isoformat(),
                                                "monthly_yuan": str(row.monthly_yuan)})
    return row


# --- due lists -------------------------------------------------------------------------------

DUE_TASKS = {
    # task -> roles that see it
    "start_investigation": (roles.INTAKE_CLERK, roles.VILLAGE_ASSISTANT),
    "emergency_decision": (roles.APPROVER,),
    "preliminary_review": (roles.REVIEWER,),
    "post_notice": (roles.REVIEWER, roles.APPROVER),
    "decision": (roles.APPROVER,),
    "refusal_letter_sent": (roles.INTAKE_CLERK, roles.APPROVER),
    "emergency_signatures_completed": (roles.APPROVER,),
    "special_case_filed": (roles.APPROVER,),
    "temporary_aid_paid": (roles.APPROVER,),
    "spot_check": (roles.COUNTY_SUPERVISOR,),
    "spot_check_draw": (roles.COUNTY_SUPERVISOR,),
    "open_periodic_review": OPENING_ROLES,
}


def _open_task(summary: Any, key: str) -> str | None:
    if key == "temporary.emergency" and summary.status in rules.OPEN:
        return "emergency_decision"
    if summary.status == rules.ACCEPTED:
        return "start_investigation"
    if summary.status in (rules.INVESTIGATING, rules.PANEL_REVIEW):
        return "preliminary_review"
    if summary.status == rules.REVIEWING:
        return "decision" if key in ("temporary.expenditure", rules.PERIODIC_REVIEW) \
            else "post_notice"
    if summary.status == rules.PUBLIC_NOTICE:
        return "decision"
    return None


def due(caller: Caller, only: str | None = None) -> list[dict]:
    """What each of the caller's roles has to do next, overdue first."""
    now, today = clock.now(), _today()
    rows = cases.summaries(caller=caller)
    by_id = {r.id: r for r in rows}
    records = {w.case_id: w for w in db.session.scalars(select(CaseWorkflow).where(
        CaseWorkflow.case_id.in_(cases.visible_id_query(caller))))}
    items = []

    def add(summary: Any, task: str, due_on: date | None, due_at: datetime | None) -> None:
        if not caller.has(*DUE_TASKS[task]):
            return
        state = rules.due_state(due_on, due_at, today, now, _add_working_days)
        if only and state != only:
            return
        items.append({"case_id": summary.id, "household_id": summary.household_id,
                      "task": task, "kind": summary.kind,
                      "temporary_subtype": summary.temporary_subtype, "status": summary.status,
                      "jurisdiction_code": summary.jurisdiction_code, "due_on": due_on,
                      "due_at": due_at, "state": state})

    for summary in rows:
        key = rules.kind_key(summary.kind, summary.temporary_subtype)
        task = _open_task(summary, key)
        if task is not None:
            add(summary, task, summary.deadline_on, summary.deadline_at)
        wf = records.get(summary.id)
        if wf is None:
            continue
        for name, (status, due_field, done_field, _) in TASKS.items():
            if (summary.status == status and getattr(wf, due_field) is not None
                    and getattr(wf, done_field) is None):
                add(summary, name, getattr(wf, due_field), None)
    if caller.has(roles.COUNTY_SUPERVISOR) and len(caller.jurisdiction_code) == 6:
        # A case taken in after its month's draw waits for a follow-up draw (approval is
        # guarded by spot-check-not-drawn, 001/004): each one is on the county's list.
        drawn = set(db.session.scalars(select(SpotCheck.case_id).join(
            SpotCheckDraw, SpotCheckDraw.id == SpotCheck.draw_id).where(
            SpotCheckDraw.county_code == caller.jurisdiction_code)))
        for summary in rows:
            key = rules.kind_key(summary.kind, summary.temporary_subtype)
            if (summary.status in rules.OPEN and rules.is_spot_check_subject(key)
                    and summary.id not in drawn):
                add(summary, "spot_check_draw", summary.deadline_on, summary.deadline_at)
        for pending in pending_spot_checks(caller):
            sampled = by_id.get(pending["case_id"])
            if sampled is not None and sampled.status in rules.OPEN:
                add(sampled, "spot_check", sampled.deadline_on, sampled.deadline_at)
    if caller.has(*OPENING_ROLES):
        subjects = [r for r in rows if r.status == rules.APPROVED
                    and r.kind in rules.MONTHLY_KINDS]
        for review in _reviews_due(subjects):
            if _is_to_open(review, today):
                add(review.subject, "open_periodic_review", review.due_on, None)
    homes = households.facts({i["household_id"] for i in items})
    for item in items:
        head = homes[item.pop("household_id")].head
        item["applicant_name"] = head.name if head else None
    order = {"overdue": 0, "due_soon": 1, "later": 2}
    items.sort(key=lambda i: (order[i["state"]], _sort_instant(i), i["case_id"]))
    return items


def _sort_instant(item: dict) -> str:
    if item["due_at"] is not None:
        return item["due_at"].astimezone(clock.SHANGHAI).date().isoformat()
    return item["due_on"].isoformat() if item["due_on"] else "9999"


# --- payment lists (001: monthly by the 10th; temporary aid within 3 working days) -----------

PAYMENT_COLUMNS = ("seq", "payee_name", "id_number_masked", "bank_account_masked",
                   "amount_yuan", "category", "village_code", "village_name", "case_id",
                   "due_on")


def payment_list(caller: Caller, month: str) -> list[dict]:
    """The month's payments in the caller's area: every current monthly recipient (payment
    starts the month after approval, 57号) due by the pay day (001: the 10th), and the
    temporary aid approved in the month, due 3 working days after approval."""
    if not caller.has(roles.APPROVER, roles.COUNTY_SUPERVISOR, roles.ADMIN):
        raise ProblemError("forbidden", "Only approvers and the county see payment lists.")
    year, number = (int(part) for part in month.split("-"))
    first = date(year, number, 1)
    after = rules.payment_starts_on(first)
    monthly = db.session.execute(select(
        CaseWorkflow.case_id, CaseWorkflow.monthly_amount_yuan, CaseWorkflow.category,
        CaseWorkflow.bank_account, CaseWorkflow.jurisdiction_code, CaseWorkflow.stopped_on)
        .where(within(CaseWorkflow.jurisdiction_code, caller),
               CaseWorkflow.payment_starts_on <= first,
               CaseWorkflow.monthly_amount_yuan > 0)).all()
    start, end = _month_bounds(month)
    temporary = db.session.execute(select(
        CaseWorkflow.case_id, CaseWorkflow.monthly_amount_yuan, CaseWorkflow.category,
        CaseWorkflow.bank_account, CaseWorkflow.jurisdiction_code, CaseWorkflow.payment_due_on)
        .where(within(CaseWorkflow.jurisdiction_code, caller),
               CaseWorkflow.payment_due_on.is_not(None),
               CaseWorkflow.decided_at >= start, CaseWorkflow.decided_at < end)).all()
    summaries = {s.id: s for s in cases.summaries(
        case_ids=[r.case_id for r in monthly] + [r.case_id for r in temporary])}
    pay_day = jurisdictions.effective_settings(caller.jurisdiction_code)["monthly_payment_day"] \
        if len(caller.jurisdiction_code) >= 6 else 10
    entries = []
    for row in monthly:
        summary = summaries.get(row.case_id)
        if summary is None or summary.status not in (rules.APPROVED, rules.STOPPED):
            continue
        if row.stopped_on is not None and row.stopped_on < after:
            continue  # stopped before or during the month: not paid from that month on
        entries.append((summary, row, rules.monthly_payment_due_on(first, pay_day)))
    for row in temporary:
        summary = summaries.get(row.case_id)
        if summary is not None and summary.status == rules.APPROVED:
            entries.append((summary, row, row.payment_due_on))
    homes = households.facts({s.household_id for s, _, _ in entries})
    places = jurisdictions.names({s.jurisdiction_code for s, _, _ in entries})
    lines = []
    for seq, (summary, row, due_on) in enumerate(
            sorted(entries, key=lambda e: (e[0].jurisdiction_code, e[0].id)), start=1):
        head = homes[summary.household_id].head
        lines.append({
            "seq": seq, "payee_name": head.name if head else None,
            "id_number_masked": privacy.shown_id(head.id_number if head else None, False),
            "bank_account_masked": privacy.masked_account(row.bank_account),
            "amount_yuan": str(row.monthly_amount_yuan), "category": row.category,
            "village_code": summary.jurisdiction_code,
            "village_name": places.get(summary.jurisdiction_code), "case_id": summary.id,
            "due_on": due_on.isoformat()})
    return lines


# --- document content (rendered by backend.documents) ---------------------------------------


def _office(code: str) -> str:
    township = jurisdictions.township_of(code)
    return (jurisdictions.names({township}).get(township) or township) + OFFICE_SUFFIX


def document_content(caller: Caller, case_id: str, kind: str) -> dict:
    """The content of one printable document of the case; 409 when the case has none yet."""
    case = cases.get_visible(caller, case_id)
    wf = db.session.get(CaseWorkflow, case.id)
    home = households.facts([case.household_id])[case.household_id]
    head = home.head
    applicant = head.name if head else ""
    township = jurisdictions.township_of(case.jurisdiction_code)
    names = jurisdictions.names({township, case.jurisdiction_code})
    decided_on = (wf.decided_at.astimezone(clock.SHANGHAI).date().isoformat()
                  if wf is not None and wf.decided_at else None)
    if kind == "missing_documents_notice" and wf is not None and wf.missing_documents:
        return {"case_no": case.id, "applicant_name": applicant,
                "township": names.get(township, township), "items": list(wf.missing_documents),
                "issued_on": wf.missing_documents_at.astimezone(clock.SHANGHAI).date()
                .isoformat() if wf.missing_documents_at else None,
                "office": _office(case.jurisdiction_code)}
    if kind == "public_notice" and wf is not None and wf.notice_starts_on is not None:
        return {"village": names.get(case.jurisdiction_code, case.jurisdiction_code),
                "township": names.get(township, township), "applicant_name": applicant,
                "members": rules.notice_members(
                    ((m.name, m.relation, m.birth_on) for m in home.members),
                    wf.notice_starts_on),
                "category": wf.category, "monthly_amount_yuan": str(wf.monthly_amount_yuan),
                "starts_on": wf.notice_starts_on.isoformat(),
                "ends_on": wf.notice_ends_on.isoformat() if wf.notice_ends_on else None,
                "objection_contact": _office(case.jurisdiction_code)}
    if kind in ("refusal_letter", "stop_notice") and wf is not None:
        is_refusal = kind == "refusal_letter"
        if (case.status == rules.REFUSED) == is_refusal and case.status in (
                rules.REFUSED, rules.STOPPED):
            return {"case_no": case.id, "applicant_name": applicant,
                    "reasons": list(wf.reasons),
                    "decided_on": decided_on if is_refusal else (
                        wf.stopped_on.isoformat() if wf.stopped_on else None),
                    "reexamination_route": REEXAMINATION_ROUTE,
                    "office": _office(case.jurisdiction_code)}
        if (is_refusal and case.status in rules.OPEN
                and wf.economic_check_result == "obviously_ineligible"):
            # 002: an obviously ineligible check result is told in writing, with the route
            # to re-examination, before any decision.
            return {"case_no": case.id, "applicant_name": applicant,
                    "reasons": ["家庭经济状况核对结果明显不符合条件 (the economic check found "
                                "the household obviously ineligible)"],
                    "decided_on": _today().isoformat(),
                    "reexamination_route": REEXAMINATION_ROUTE,
                    "office": _office(case.jurisdiction_code)}
    if kind == "approval_notice" and wf is not None and case.status == rules.APPROVED:
        return {"case_no": case.id, "applicant_name": applicant, "category": wf.category,
                "monthly_amount_yuan": str(wf.monthly_amount_yuan or wf.emergency_amount_yuan),
                "decided_on": decided_on,
                "members_count": len(home.members),
                "payment_starts_on": (wf.payment_starts_on or wf.payment_due_on
                                      or _today()).isoformat(),
                "office": _office(case.jurisdiction_code)}
    if kind == "emergency_record" and wf is not None and wf.emergency_recipient:
        return {"case_no": case.id, "recipient_name": wf.emergency_recipient,
                "reason": wf.emergency_reason, "amount_yuan": str(wf.emergency_amount_yuan),
                "decided_on": decided_on,
                "signatures_due_on": wf.signatures_due_on.isoformat()
                if wf.signatures_due_on else None, "office": _office(case.jurisdiction_code)}
    raise ProblemError("document-not-available",
                       f"This case has no {kind} at its stage ({case.status}).")
