"""Pure rules about who may do what: roles, lockout, masking and scope."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp

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

# Who sees a full resident ID or phone number is the sensitivity catalogue's table
# (backend.privacy.catalogue), by role and purpose; nothing here decides masking.

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


# Two factors for those who decide (等保 2.0 level 3, 8.1.4.1: two or more authentication
# techniques, one of them cryptographic). Everyone else may enrol, and is then asked too.
ROLES_NEEDING_SECOND_FACTOR = frozenset({APPROVER, COUNTY_SUPERVISOR, ADMIN})
# Roles whose work is on a phone, offline for hours or days: their sign-ins have no idle
# timeout (the phone's own PIN lock guards an unattended phone); desk sign-ins do.
ROLES_WORKING_OFFLINE = frozenset({FIELD_WORKER, VILLAGE_ASSISTANT, RECIPIENT})

TOTP_STEP_SECONDS = 30  # RFC 6238's default, and what every authenticator app assumes
TOTP_DIGITS = 6
# Codes one step either side of now are accepted: a phone clock a little off still works.
TOTP_DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_LENGTH = 10  # lowercase base32: 50 bits each, shown as two groups of five
_RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


def needs_second_factor(roles: set[str] | frozenset[str], is_enrolled: bool) -> bool:
    """Must this sign-in show a second factor (a required role, or one enrolled by choice)?"""
    return is_enrolled or bool(ROLES_NEEDING_SECOND_FACTOR & set(roles))


def has_idle_timeout(roles: set[str] | frozenset[str]) -> bool:
    return not (ROLES_WORKING_OFFLINE & set(roles))


def is_idle_too_long(last_refresh_at: datetime, now: datetime, idle: timedelta,
                     access_lifetime: timedelta) -> bool:
    """Refuse a refresh once the sign-in has been idle longer than `idle`.

    The server sees activity only at refresh, and a busy user refreshes at most once an
    access-token lifetime; so it allows `idle` plus that lifetime, and never ends a sign-in
    whose user was idle for less than `idle`. The desk's own timer signs out on the minute.
    """
    if idle <= timedelta(0):
        return False
    return now - last_refresh_at > idle + access_lifetime


def totp_step(moment: datetime) -> int:
    """RFC 6238's time step T = floor(unix time / 30)."""
    return int(moment.timestamp()) // TOTP_STEP_SECONDS


def normalise_code(text: str) -> str:
    """What the user typed, without spaces or dashes, lower case (codes are read aloud,
    copied from paper, pasted with a space)."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def is_totp_shaped(text: str) -> bool:
    code = normalise_code(text)
    return len(code) == TOTP_DIGITS and code.isdigit()


def matching_totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code this is (now, or one step either side), or None.

    Knowing the step, not just "valid", is what lets the caller refuse a replay: a step at
    or before the last one used is refused even though its code is right.
    """
    code = normalise_code(code)
    if not is_totp_shaped(code):
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP_SECONDS)
    current = totp_step(now)
    for step in range(current - TOTP_DRIFT_STEPS, current + TOTP_DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * TOTP_STEP_SECONDS), code):
            return step
    return None


def is_replay(step: int, last_used_step: int | None) -> bool:
    """RFC 6238 §5.2: a code once accepted is not accepted again, nor any older one."""
    return last_used_step is not None and step <= last_used_step


def new_recovery_codes(random_choice: Callable[[str], str]) -> list[str]:
    """Fresh one-time recovery codes; `random_choice` is `secrets.choice` (tests pass their own)."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(random_choice(_RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        codes.append(f"{raw[:5]}-{raw[5:]}".upper())  # read and typed more easily
    return codes


def is_recovery_shaped(text: str) -> bool:
    code = normalise_code(text)
    return len(code) == RECOVERY_CODE_LENGTH and all(ch in _RECOVERY_ALPHABET for ch in code)


def otpauth_uri(secret: str, username: str, issuer: str) -> str:
    """The key-URI an authenticator app scans (Google Authenticator's format, RFC 6238 SHA-1)."""
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP_SECONDS).provisioning_uri(
        name=username, issuer_name=issuer)
