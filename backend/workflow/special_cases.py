"""The county's check of special cases' re-reviews (001: a special case, 一事一议, is
re-reviewed at least twice a year, and the county checks that the rate is 100%).

For one half-year: every special case in the caller's area that was a recipient before the
half-year began, whether a periodic review of it was completed within the half-year, the rate
per township, and the cases still missing one (with the review under way, if any).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from backend import clock
from backend.auth import rules as roles
from backend.auth.rules import Caller
from backend.bulk import chunks
from backend.cases import service as cases
from backend.errors import ProblemError
from backend.extensions import db
from backend.households import service as households
from backend.jurisdictions import service as jurisdictions
from backend.workflow import rereview_rules, rules
from backend.workflow.models import CaseWorkflow, PeriodicReview

CHECKING_ROLES = (roles.COUNTY_SUPERVISOR, roles.REVIEWER, roles.APPROVER)
TOWNSHIP_CODE_LENGTH = 9  # county 6, township 9, village 12 digits (GB/T 10114)


def current_half_year() -> tuple[int, int]:
    return rereview_rules.half_year_of(clock.today_in_china())


def rereview_report(caller: Caller, year: int, half: int) -> dict:
    if not caller.has(*CHECKING_ROLES):
        raise ProblemError("forbidden", "Only reviewers, approvers and the county supervisor "
                                        "check special cases' re-reviews.")
    start, end = rereview_rules.half_year(year, half)
    subjects = cases.summaries(caller=caller, statuses=[rules.APPROVED, rules.STOPPED],
                               kinds=[rereview_rules.SPECIAL_CASE])
    facts = _review_facts([s.id for s in subjects], start, end)
    expected, new_in_period = [], []
    for subject in subjects:
        fact = facts[subject.id]
        approved_on = (fact.decided_at or subject.applied_at).astimezone(
            clock.SHANGHAI).date()
        if approved_on > end:
            continue
        if not rereview_rules.is_rereview_expected(approved_on, start):
            new_in_period.append(subject)
        elif subject.status == rules.APPROVED or fact.reviewed_on is not None:
            # A case stopped by something else than a review left the roll: not counted.
            expected.append((subject, fact))
    return _answer(year, half, start, end, expected, new_in_period)


@dataclass
class ReviewFacts:
    decided_at: datetime | None = None
    reviewed_on: date | None = None  # the last re-review completed within the period
    last_reviewed_on: date | None = None  # the last one before it
    open_review_case_id: str | None = None


def _review_facts(case_ids: list[str], start: date, end: date) -> dict[str, ReviewFacts]:
    found = {case_id: ReviewFacts() for case_id in case_ids}
    for chunk in chunks(case_ids):
        for case_id, decided_at in db.session.execute(select(
                CaseWorkflow.case_id, CaseWorkflow.decided_at).where(
                CaseWorkflow.case_id.in_(chunk))):
            found[case_id].decided_at = decided_at
        for case_id, on in db.session.execute(select(
                PeriodicReview.subject_case_id, func.max(PeriodicReview.completed_on)).where(
                PeriodicReview.subject_case_id.in_(chunk),
                PeriodicReview.completed_on.between(start, end)).group_by(
                PeriodicReview.subject_case_id)):
            found[case_id].reviewed_on = on
        for case_id, on in db.session.execute(select(
                PeriodicReview.subject_case_id, func.max(PeriodicReview.completed_on)).where(
                PeriodicReview.subject_case_id.in_(chunk),
                PeriodicReview.completed_on < start).group_by(PeriodicReview.subject_case_id)):
            found[case_id].last_reviewed_on = on
        for subject_id, review_id in db.session.execute(select(
                PeriodicReview.open_subject_case_id, PeriodicReview.case_id).where(
                PeriodicReview.open_subject_case_id.in_(chunk))):
            if subject_id is not None:  # the IN above already rules NULL out
                found[subject_id].open_review_case_id = review_id
    return found


def _answer(year: int, half: int, start: date, end: date, expected: list, new_in_period: list
            ) -> dict:
    def township_of(subject) -> str:
        return subject.jurisdiction_code[:TOWNSHIP_CODE_LENGTH]

    codes = {township_of(s) for s, _ in expected} | {township_of(s) for s in new_in_period}
    names = jurisdictions.names(codes)
    townships = []
    for code in sorted(codes):
        mine = [fact for s, fact in expected if township_of(s) == code]
        done = sum(1 for fact in mine if fact.reviewed_on is not None)
        townships.append({
            "township_code": code, "township_name": names.get(code, code),
            "expected": len(mine), "reviewed": done,
            "rate": rereview_rules.rate(done, len(mine)),
            "new_in_period": sum(1 for s in new_in_period if township_of(s) == code)})
    missing = [(s, fact) for s, fact in expected if fact.reviewed_on is None]
    heads = households.facts({s.household_id for s, _ in missing})
    done_total = len(expected) - len(missing)
    total_rate = rereview_rules.rate(done_total, len(expected))
    return {
        "year": year, "half": half, "period_start": start, "period_end": end,
        "required_rate": rereview_rules.SPECIAL_CASE_REREVIEW_RATE,
        "is_met": rereview_rules.is_rereview_rate_met(done_total, len(expected)),
        "expected": len(expected), "reviewed": done_total, "rate": total_rate,
        "new_in_period": len(new_in_period), "townships": townships,
        "missing": [{
            "case_id": s.id, "jurisdiction_code": s.jurisdiction_code,
            "township_code": township_of(s),
            "applicant_name": head.name if (head := heads[s.household_id].head) else None,
            "last_reviewed_on": fact.last_reviewed_on,
            "open_review_case_id": fact.open_review_case_id,
        } for s, fact in sorted(missing, key=lambda m: (township_of(m[0]), m[0].id))],
    }
