"""Look-ups shared by API tests (through the services, inside the test transaction)."""

from sqlalchemy import select

from backend.cases.models import Case, CaseTeamMember
from backend.households.models import Household


def case_of_township(db_session, township: str, assigned_to: str | None = None,
                     unassigned: bool = False) -> Case:
    query = select(Case).where(Case.jurisdiction_code.like(township + "%"))
    if assigned_to:
        query = query.join(CaseTeamMember).where(CaseTeamMember.user_id == assigned_to)
    cases = db_session.scalars(query.order_by(Case.id)).all()
    if unassigned:
        # Still at intake: the demo moves some unassigned cases along the workflow.
        cases = [c for c in cases if not c.team and c.status == "accepted"]
    return cases[0]


def household_of_township(db_session, township: str) -> Household:
    return db_session.scalars(select(Household).where(
        Household.jurisdiction_code.like(township + "%")).order_by(Household.id)).first()
