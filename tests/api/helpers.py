"""Look-ups shared by API tests (through the services, inside the test transaction)."""

from sqlalchemy import select

from backend.cases.models import Case, CaseTeamMember
from backend.households.models import Household


def case_of_township(db_session, township: str, assigned_to: str | None = None,
                     unassigned: bool = False) -> Case:
    # Never the demo's relative-of-staff household (see household_of_township).
    query = select(Case).join(Household, Household.id == Case.household_id).where(
        Case.jurisdiction_code.like(township + "%"), Household.is_relative_of_staff.is_(False))
    if assigned_to:
        query = query.join(CaseTeamMember).where(CaseTeamMember.user_id == assigned_to)
    cases = db_session.scalars(query.order_by(Case.id)).all()
    if unassigned:
        # Still at intake: the demo moves some unassigned cases along the workflow.
        cases = [c for c in cases if not c.team and c.status == "accepted"]
    return cases[0]


def household_of_township(db_session, township: str) -> Household:
    """An ordinary household of the township: never the demo's relative of staff.

    Ids are random per seed, so "the first by id" must not be allowed to land on the one
    household whose flag changes what a case may do (CI once drew it and a test failed).
    """
    return db_session.scalars(select(Household).where(
        Household.jurisdiction_code.like(township + "%"),
        Household.is_relative_of_staff.is_(False)).order_by(Household.id)).first()
