"""Pure rules about who may do what: roles, lockout, masking and scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

FIELD_WORKER = "field_worker"
VILLAGE_ASSISTANT = "village_assistant"
INTAKE_CLERK = "intake_clerk"
REVIEWER = "reviewer"
APPROVER = "approver"
COUNTY_SUPERVISOR = "county_supervisor"
ADMIN = "admin"

ROLES = (FIELD_WORKER, VILLAGE_ASSISTANT, INTAKE_CLERK, REVIEWER, APPROVER,
         COUNTY_SUPERVISOR, ADMIN)

# Roles that decide on eligibility need the full resident ID to check it against
# registers; field staff need phone numbers to reach the household. Everyone else
# sees masked values (DOMAIN.md: Identity data).
ROLES_SEEING_FULL_ID = {INTAKE_CLERK, REVIEWER, APPROVER}
ROLES_SEEING_FULL_PHONE = {INTAKE_CLERK, REVIEWER, APPROVER, FIELD_WORKER, VILLAGE_ASSISTANT}

# Who may register households and open cases (intake, or the village committee
# on the applicant's behalf, 004).
ROLES_CREATING_CASES = {INTAKE_CLERK, VILLAGE_ASSISTANT, ADMIN}
ROLES_EDITING_CASES = {INTAKE_CLERK, REVIEWER, APPROVER, ADMIN}
# Roles that see every case of their jurisdiction subtree; a field worker with
# none of them sees only the cases whose visit team they are on.
ROLES_READING_ALL_CASES = {VILLAGE_ASSISTANT, INTAKE_CLERK, REVIEWER, APPROVER,
                           COUNTY_SUPERVISOR, ADMIN}


@dataclass(frozen=True)
class Caller:
    user_id: str
    roles: frozenset[str]
    jurisdiction_code: str

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def sees_full_id(self) -> bool:
        return bool(self.roles & ROLES_SEEING_FULL_ID)

    @property
    def sees_full_phone(self) -> bool:
        return bool(self.roles & ROLES_SEEING_FULL_PHONE)

    @property
    def reads_all_cases_in_scope(self) -> bool:
        return bool(self.roles & ROLES_READING_ALL_CASES)

    def covers(self, code: str) -> bool:
        return code.startswith(self.jurisdiction_code)


@dataclass(frozen=True)
class LockoutDecision:
    failed_login_count: int
    locked_until: datetime | None
    just_locked: bool


def after_failed_login(failed_count: int, now: datetime, max_failures: int,
                       lock_minutes: int) -> LockoutDecision:
    count = failed_count + 1
    if count >= max_failures:
        return LockoutDecision(0, now + timedelta(minutes=lock_minutes), True)
    return LockoutDecision(count, None, False)


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and locked_until > now


def password_problem(password: str) -> str | None:
    if len(password) < 8:
        return "at least 8 characters"
    if len(password) > 128:
        return "at most 128 characters"
    return None
