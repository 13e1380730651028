"""The case's workflow record and what every workflow use case does with it: get or
create the record, open a case for a change (If-Match), write the change's audit row, the
China-time day and working-day arithmetic, and the facts of the case's complete visits.

Every change bumps the case's version (If-Match) and writes one audit row on the case, in the
request's transaction, so a refused step leaves nothing behind.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from backend import clock
from backend.audit import service as audit
from backend.auth.rules import Caller
from backend.cases import service as cases
from backend.extensions import db
from backend.holidays import service as holidays
from backend.reviews import queue as review_queue
from backend.visits import queries as visits
from backend.workflow import rules
from backend.workflow.models import CaseWorkflow


def add_working_days(start: date, days: int) -> date:
    return clock.add_working_days(start, days, holidays.overrides())


def today() -> date:
    return clock.today_in_china()


def workflow_of(case: Any) -> CaseWorkflow:
    found = db.session.get(CaseWorkflow, case.id)
    if found is None:
        found = CaseWorkflow(case_id=case.id, jurisdiction_code=case.jurisdiction_code,
                             pledge_scan_sha256s=[], authorization_scan_sha256s=[],
                             missing_documents=[], reasons=[], needs_panel=False,
                             notice_round=0, updated_at=clock.now())
        db.session.add(found)
    return found


def iso(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def audit_case(case: Any, action: str, before: dict, after: dict) -> None:
    audit.record(action, "case", case.id, jurisdiction_code=case.jurisdiction_code,
                 before={k: iso(v) for k, v in before.items()},
                 after={k: iso(v) for k, v in after.items()})


def open_for_change(caller: Caller, case_id: str, if_match: str | None) -> Any:
    case = cases.get_visible(caller, case_id)
    cases.check_version(case, if_match)
    return case


def complete_visits(case_id: str, team_size: int) -> list[str]:
    """004: the case's visits attested by ≥ team_size investigators and approved in review
    (a visit without a review counts as approved)."""
    attesters = visits.attesters_by_visit(case_id)
    states = review_queue.states_of(attesters)
    return [sid for sid, who in attesters.items()
            if len(who) >= team_size and states.get(sid, "approved") == "approved"]


def is_visit_complete(case_id: str, team_size: int) -> bool:
    return bool(complete_visits(case_id, team_size))


def self_care_level(case_id: str, team_size: int) -> str | None:
    """43号 level from a complete visit of the case that answered all six self-care items
    (001: the visit assesses an extreme-poverty applicant's self-care); None when no such
    visit did."""
    for answers in visits.current_answers(complete_visits(case_id, team_size)).values():
        if all(isinstance(answers.data.get(item), bool) for item in rules.SELF_CARE_ITEMS):
            return rules.self_care_level(answers.data)
    return None


def visit_income(case_id: str, team_size: int) -> Decimal | None:
    """The per-capita monthly income that a complete visit of the case computed, or None
    when none has one."""
    found = [answers.computed.get("per_capita_monthly_income") for answers
             in visits.current_answers(complete_visits(case_id, team_size)).values()]
    numbers = [Decimal(str(v)) for v in found
               if isinstance(v, int | float | str) and not isinstance(v, bool)]
    return numbers[-1] if numbers else None


def month_bounds(month: str) -> tuple[datetime, datetime]:
    year, number = (int(part) for part in month.split("-"))
    start = datetime.combine(date(year, number, 1), time(), clock.SHANGHAI)
    end = datetime.combine(rules.payment_starts_on(date(year, number, 1)), time(),
                           clock.SHANGHAI)
    return start.astimezone(UTC), end.astimezone(UTC)
