"""Allowance standards (003) and the category and monthly amount proposed from them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from backend import clock
from backend.audit import service as audit
from backend.auth import rules as roles
from backend.auth.rules import Caller
from backend.dbtypes import new_id
from backend.errors import ProblemError
from backend.extensions import db
from backend.households import service as households
from backend.jurisdictions import service as jurisdictions
from backend.jurisdictions.scope import within
from backend.workflow import records, rules
from backend.workflow.models import AllowanceStandard


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


def propose(case: Any, key: str, body: dict, settings: dict) -> Proposal:
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
    standard = _standard(case.jurisdiction_code, records.today(), settings)
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
