"""Due lists: what each of the caller's roles has to do next, overdue first."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from backend import clock
from backend.auth import rules as roles
from backend.auth.rules import Caller
from backend.cases import service as cases
from backend.extensions import db
from backend.households import service as households
from backend.jurisdictions import service as jurisdictions
from backend.workflow import paperwork, periodic_reviews, records, rules, spot_checks
from backend.workflow.models import CaseWorkflow, SpotCheck, SpotCheckDraw

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
    "open_periodic_review": periodic_reviews.OPENING_ROLES,
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
    now, today = clock.now(), records.today()
    rows = cases.summaries(caller=caller)
    by_id = {r.id: r for r in rows}
    workflows = {w.case_id: w for w in db.session.scalars(select(CaseWorkflow).where(
        CaseWorkflow.case_id.in_(cases.visible_id_query(caller))))}
    items = []

    def add(summary: Any, task: str, due_on: date | None, due_at: datetime | None) -> None:
        if not caller.has(*DUE_TASKS[task]):
            return
        state = rules.due_state(due_on, due_at, today, now, records.add_working_days)
        if only and state != only:
            return
        items.append({"case_id": summary.id, "case_no": summary.case_no,
                      "household_id": summary.household_id, "task": task, "kind": summary.kind,
                      "temporary_subtype": summary.temporary_subtype, "status": summary.status,
                      "jurisdiction_code": summary.jurisdiction_code, "due_on": due_on,
                      "due_at": due_at, "state": state,
                      "intake_month": _china_month(summary.applied_at)})

    for summary in rows:
        key = rules.kind_key(summary.kind, summary.temporary_subtype)
        task = _open_task(summary, key)
        if task is not None:
            add(summary, task, summary.deadline_on, summary.deadline_at)
        wf = workflows.get(summary.id)
        if wf is None:
            continue
        for name, (status, due_field, done_field, _) in paperwork.TASKS.items():
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
        for pending in spot_checks.pending_spot_checks(caller):
            sampled = by_id.get(pending["case_id"])
            if sampled is not None and sampled.status in rules.OPEN:
                add(sampled, "spot_check", sampled.deadline_on, sampled.deadline_at)
    if caller.has(*periodic_reviews.OPENING_ROLES):
        subjects = [r for r in rows if r.status == rules.APPROVED
                    and r.kind in rules.MONTHLY_KINDS]
        for review in periodic_reviews.review_schedule(subjects):
            if periodic_reviews.is_to_open(review, today):
                add(review.subject, "open_periodic_review", review.due_on, None)
    homes = households.facts({i["household_id"] for i in items})
    towns = jurisdictions.names({jurisdictions.township_of(i["jurisdiction_code"])
                                 for i in items})
    for item in items:
        head = homes[item.pop("household_id")].head
        item["applicant_name"] = head.name if head else None
        item["township_name"] = towns.get(jurisdictions.township_of(item["jurisdiction_code"]))
    order = {"overdue": 0, "due_soon": 1, "later": 2}
    items.sort(key=lambda i: (order[i["state"]], _sort_instant(i), i["case_id"]))
    return items


def _sort_instant(item: dict) -> str:
    if item["due_at"] is not None:
        return item["due_at"].astimezone(clock.SHANGHAI).date().isoformat()
    return item["due_on"].isoformat() if item["due_on"] else "9999"


def _china_month(instant: datetime | None) -> str | None:
    """The month (Beijing) a case was taken in: the month of the county draw that covers it
    (issue 21: the task said 本月 when last month's draw was missing)."""
    if instant is None:
        return None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(clock.SHANGHAI).strftime("%Y-%m")
