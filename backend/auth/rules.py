"""Pure rules about who may do what: roles, lockout, masking and scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# Client-sent device and request ids reach the audit trail, which owns their shapes.
from backend.audit.context import DEVICE_ID_PATTERN, REQUEST_ID_PATTERN

__all__ = ["DEVICE_ID_PATTERN", "REQUEST_ID_PATTERN"]  # re-exported for the auth schemas

FIELD_WORKER = "field_worker"
VILLAGE_ASSISTANT = "village_assistant"
INTAKE_CLERK = "intake_clerk"
REVIEWER = "reviewer"
APPROVER = "approver"
COUNTY_SUPERVISOR = "county_supervisor"
ADMIN = "admin"
# A recipient checking in from their own phone (003): not staff, so not in ROLES (no one
# assigns it by hand); enrolment by the village assistant or intake clerk creates it.
RECIPIENT = "recipient"

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
# Who may learn which other household a reused photo was filed for: those who check
# township work (reviewer, county supervisor), and only inside their own jurisdiction.
ROLES_SEEING_REUSE_SOURCE = {REVIEWER, COUNTY_SUPERVISOR}


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
    def sees_reuse_source(self) -> bool:
        return bool(self.roles & ROLES_SEEING_REUSE_SOURCE)

    @property
    def reads_all_cases_in_scope(self) -> bool:
        return bool(self.roles & ROLES_READING_ALL_CASES)

    def covers(self, code: str) -> bool:
        return code.startswith(self.jurisdiction_code)


def pair_lock_until(failed_count: int, now: datetime, max_failures: int,
                    lock_minutes: int) -> datetime | None:
    """When an (account, client) pair that has now failed `failed_count` times unlocks.

    Every `max_failures` consecutive failures lock the pair, each lock twice as long as
    the one before (capped at a day): guessing gets slower and slower, and only for
    the client that guesses.
    """
    if max_failures <= 0 or failed_count < max_failures or failed_count % max_failures:
        return None
    rounds = failed_count // max_failures
    return now + timedelta(minutes=min(lock_minutes * 2 ** (rounds - 1), 24 * 60))


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and locked_until > now


MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 128


def password_problem(password: str, username: str | None = None) -> str | None:
    """Why a new password is not acceptable, or None (length, and not the username)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"at most {MAX_PASSWORD_LENGTH} characters"
    if username and username.casefold() in password.casefold():
        return "must not contain the username"
    if len(set(password)) < 4:
        return "too simple: use more different characters"
    return None
