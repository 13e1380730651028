"""Payment lists (001: monthly by the 10th; temporary aid within 3 working days)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from backend.auth import rules as roles
from backend.auth.rules import Caller
from backend.cases import service as cases
from backend.errors import ProblemError
from backend.extensions import db
from backend.forms.identity import mask_resident_id
from backend.households import service as households
from backend.jurisdictions import service as jurisdictions
from backend.jurisdictions.scope import within
from backend.privacy import catalogue
from backend.privacy import rules as privacy
from backend.workflow import records, rules
from backend.workflow.models import CaseWorkflow

PAYMENT_COLUMNS = ("seq", "payee_name", "id_number_masked", "bank_account_masked",
                   "amount_yuan", "category", "village_code", "village_name", "case_no",
                   "case_id", "due_on")


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
    start, end = records.month_bounds(month)
    temporary = db.session.execute(select(
        CaseWorkflow.case_id, CaseWorkflow.monthly_amount_yuan, CaseWorkflow.category,
        CaseWorkflow.bank_account, CaseWorkflow.jurisdiction_code, CaseWorkflow.payment_due_on)
        .where(within(CaseWorkflow.jurisdiction_code, caller),
               CaseWorkflow.payment_due_on.is_not(None),
               CaseWorkflow.decided_at >= start, CaseWorkflow.decided_at < end)).all()
    summaries = {s.id: s for s in cases.summaries(
        case_ids=[r.case_id for r in monthly] + [r.case_id for r in temporary])}
    pay_days: dict[str, int] = {}

    def pay_day(code: str) -> int:
        """The pay day of the case's own jurisdiction (001: by the 10th; a setting), not the
        caller's: a county list covers townships with different days."""
        if code not in pay_days:
            pay_days[code] = int(jurisdictions.effective_settings(code)["monthly_payment_day"])
        return pay_days[code]

    entries = []
    for row in monthly:
        summary = summaries.get(row.case_id)
        if summary is None or summary.status not in (rules.APPROVED, rules.STOPPED):
            continue
        if row.stopped_on is not None and row.stopped_on < after:
            continue  # stopped before or during the month: not paid from that month on
        entries.append((summary, row, rules.monthly_payment_due_on(
            first, pay_day(summary.jurisdiction_code))))
    for row in temporary:
        summary = summaries.get(row.case_id)
        if summary is not None and summary.status == rules.APPROVED:
            entries.append((summary, row, row.payment_due_on))
    homes = households.facts({s.household_id for s, _, _ in entries})
    places = jurisdictions.names({s.jurisdiction_code for s, _, _ in entries})
    # A payment list is a file that leaves the system: the catalogue's export row (masked
    # for every role: the bank matches on the account it already holds).
    id_cell = catalogue.field_shown(caller.roles, catalogue.EXPORT, "member.id_number")
    account_cell = catalogue.field_shown(caller.roles, catalogue.EXPORT, "payment.bank_account")
    lines = []
    for seq, (summary, row, due_on) in enumerate(
            sorted(entries, key=lambda e: (e[0].jurisdiction_code, e[0].id)), start=1):
        head = homes[summary.household_id].head
        lines.append({
            "seq": seq, "payee_name": head.name if head else None,
            "id_number_masked": privacy.shown_value(head.id_number if head else None, id_cell,
                                                    mask_resident_id),
            "bank_account_masked": privacy.shown_value(row.bank_account or None, account_cell,
                                                       privacy.masked_account),
            "amount_yuan": str(row.monthly_amount_yuan), "category": row.category,
            "village_code": summary.jurisdiction_code,
            "village_name": places.get(summary.jurisdiction_code),
            "case_no": summary.case_no, "case_id": summary.id,
            "due_on": due_on.isoformat()})
    return lines
