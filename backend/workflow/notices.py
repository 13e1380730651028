"""The notices (公示, 004) as content for backend.documents: the review-stage notice of one
case, the approval-stage notice of its decision, and the standing notice (长期公示) of one
village's current recipients, printed each month.

Each says where objections go: the township's office, phone and address from its settings
(``objection_phone``, ``objection_address``); a township that has not set them prints no
notice (409 ``notice-contact-missing``), rather than one nobody can object to.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from backend import clock
from backend.auth import rules as roles
from backend.auth.rules import Caller
from backend.cases import service as cases
from backend.errors import ProblemError
from backend.extensions import db
from backend.households import service as households
from backend.jurisdictions import service as jurisdictions
from backend.workflow import notice_rules, records, rules
from backend.workflow.models import CaseWorkflow

OFFICE_SUFFIX = "人民政府"
# Who prints a village's standing notice: the township's casework staff and the county.
STANDING_NOTICE_ROLES = (roles.VILLAGE_ASSISTANT, roles.INTAKE_CLERK, roles.REVIEWER,
                         roles.APPROVER, roles.COUNTY_SUPERVISOR)
# The standing notice lists households paid monthly (temporary aid is paid once).
STANDING_KINDS = ("dibao", "extreme_poverty", "low_income_margin", "special_case")


def office(code: str) -> str:
    township = jurisdictions.township_of(code)
    return (jurisdictions.names({township}).get(township) or township) + OFFICE_SUFFIX


def objection_contact(code: str) -> str:
    """``文屏镇人民政府，电话 0870-1234567，地址 …`` from the settings of ``code``'s place;
    409 ``notice-contact-missing`` when the township has not set its phone and address."""
    settings = jurisdictions.effective_settings(code)
    contact = notice_rules.objection_contact(office(code), settings["objection_phone"],
                                             settings["objection_address"])
    if contact is None:
        raise ProblemError("notice-contact-missing",
                           "Set the township's objection_phone and objection_address "
                           "(jurisdiction settings) before printing a notice.",
                           extra={"jurisdiction_code": jurisdictions.township_of(code)})
    return contact


def case_notice(case: Any, wf: CaseWorkflow, kind: str) -> dict | None:
    """The review-stage (public_notice) or approval-stage (approval_public_notice) notice of
    one case, or None when the case has none at its stage."""
    if kind == "public_notice":
        if wf.notice_starts_on is None or wf.notice_ends_on is None:
            return None
        starts_on, ends_on = wf.notice_starts_on, wf.notice_ends_on
    else:
        if (case.status != rules.APPROVED or case.kind not in STANDING_KINDS
                or wf.decided_at is None or wf.monthly_amount_yuan is None):
            return None
        starts_on = wf.decided_at.astimezone(clock.SHANGHAI).date()
        days = jurisdictions.effective_settings(case.jurisdiction_code)["public_notice_days"]
        ends_on = notice_rules.notice_ends_on(starts_on, days)
    home = households.facts([case.household_id])[case.household_id]
    township = jurisdictions.township_of(case.jurisdiction_code)
    names = jurisdictions.names({township, case.jurisdiction_code})
    return {"village": names.get(case.jurisdiction_code, case.jurisdiction_code),
            "township": names.get(township, township),
            "applicant_name": home.head.name if home.head else "",
            "members": notice_rules.notice_members(
                ((m.name, m.relation, m.birth_on) for m in home.members), starts_on),
            "category": wf.category, "monthly_amount_yuan": str(wf.monthly_amount_yuan),
            "starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat(),
            "objection_contact": objection_contact(case.jurisdiction_code)}


def standing_notice(caller: Caller, village_code: str, month: str | None) -> dict:
    """长期公示 (004) of ``village_code`` for ``month`` (YYYY-MM, default this month): every
    household paid monthly that was approved before the month ended and not stopped before
    it began, with its adult members and amount."""
    place = jurisdictions.get(village_code)
    if place is None or place.level != "village" or not caller.covers(village_code):
        raise ProblemError("jurisdiction-not-found", "No such village in your area.")
    if not caller.has(*STANDING_NOTICE_ROLES):
        raise ProblemError("forbidden", "Casework staff and the county print notices.")
    first = notice_rules.month_of(records.today()) if month is None \
        else date.fromisoformat(f"{month}-01")
    start, end = records.month_bounds(first.strftime("%Y-%m"))
    rows = cases.summaries(scope_code=village_code, kinds=STANDING_KINDS,
                           statuses=(rules.APPROVED, rules.STOPPED))
    by_id = {row.id: row for row in rows}
    workflows = db.session.scalars(select(CaseWorkflow).where(
        CaseWorkflow.case_id.in_(list(by_id)))).all() if by_id else []
    current = [wf for wf in workflows
               if wf.decided_at is not None and wf.decided_at < end
               and wf.monthly_amount_yuan is not None
               and (wf.stopped_on is None or wf.stopped_on >= start.astimezone(
                   clock.SHANGHAI).date())]
    homes = households.facts([by_id[wf.case_id].household_id for wf in current])
    recipients = []
    for wf in current:
        home = homes[by_id[wf.case_id].household_id]
        head = home.head
        adults = [m["name"] for m in notice_rules.notice_members(
            ((m.name, m.relation, m.birth_on) for m in home.members if m is not head), first)]
        recipients.append({"applicant_name": head.name if head else "", "members": adults,
                           "category": wf.category or by_id[wf.case_id].kind,
                           "monthly_amount_yuan": str(wf.monthly_amount_yuan)})
    recipients.sort(key=lambda r: str(r["applicant_name"]))
    township = jurisdictions.township_of(village_code)
    names = jurisdictions.names({township})
    return {"village": place.name, "township": names.get(township, township),
            "month": first.isoformat(), "recipients": recipients,
            "objection_contact": objection_contact(village_code),
            "issued_on": records.today().isoformat()}
