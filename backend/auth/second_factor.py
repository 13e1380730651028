"""A second factor at sign-in: TOTP (RFC 6238) and one-time recovery codes.

Use cases only; the sign-in itself (password, throttle, session) stays in auth.service,
which asks this module whether a code is right and counts a wrong one like a wrong
password (docs/decisions/0004-sign-in-throttling.md, 0023).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from flask import current_app
from sqlalchemy import delete, func, or_, select, update

from backend import clock
from backend.audit import service as audit
from backend.auth import rules
from backend.auth.models import RecoveryCode, SecondFactor, User
from backend.auth.passwords import hash_password, verify_password
from backend.dbtypes import new_id
from backend.errors import ProblemError
from backend.extensions import db

ACCEPTED, WRONG, REPLAYED = "accepted", "wrong", "replayed"


@dataclass(frozen=True)
class SecondFactorState:
    is_enrolled: bool
    is_pending: bool
    is_required: bool
    due_at: datetime | None
    recovery_codes_left: int


def _row(user_id: str) -> SecondFactor | None:
    return db.session.get(SecondFactor, user_id, populate_existing=True)


def is_enrolled(user_id: str) -> bool:
    row = _row(user_id)
    return row is not None and row.confirmed_at is not None


def recovery_codes_left(user_id: str) -> int:
    return db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))) or 0


def state_of(user: User) -> SecondFactorState:
    row = _row(user.id)
    enrolled = row is not None and row.confirmed_at is not None
    return SecondFactorState(
        is_enrolled=enrolled, is_pending=row is not None and not enrolled,
        is_required=bool(rules.ROLES_NEEDING_SECOND_FACTOR & user.roles),
        due_at=None if enrolled else user.second_factor_due_at,
        recovery_codes_left=recovery_codes_left(user.id) if enrolled else 0)


def enrolment_due(user: User, now: datetime) -> datetime:
    """When this user (a role that needs a second factor, not enrolled) must have enrolled.

    The grace starts at the first sign-in that finds the factor missing, so staff who
    held the role before the county switched two factors on get the same days as new ones.
    """
    if user.second_factor_due_at is None:
        user.second_factor_due_at = now + timedelta(
            days=current_app.config["SECOND_FACTOR_GRACE_DAYS"])
        audit.record("user.second_factor_due", "user", user.id, actor_id=user.id,
                     jurisdiction_code=user.jurisdiction_code,
                     after={"due_at": user.second_factor_due_at.isoformat()})
    return user.second_factor_due_at


def begin(user: User, *, keep_pending: bool) -> dict:
    """A secret to enrol, as text and as a QR code; pending until a code confirms it.

    At sign-in the pending secret is kept (reloading the screen shows the same QR code the
    phone may have scanned already); from the account screen each start is a fresh secret.
    """
    import segno  # only enrolment draws a QR code (issue 23, memory)

    row = _row(user.id)
    if row is not None and row.confirmed_at is not None:
        raise ProblemError("second-factor-enrolled",
                           "Two-step sign-in is already set up; an administrator can reset it.")
    now = clock.now()
    if row is None:
        row = SecondFactor(user_id=user.id, secret=pyotp.random_base32(), created_at=now)
        db.session.add(row)
    elif not keep_pending:
        row.secret, row.created_at, row.last_used_step = pyotp.random_base32(), now, None
    db.session.flush()
    if row.created_at == now:  # a new secret (never the secret itself in the trail)
        audit.record("user.second_factor_started", "user", user.id, actor_id=user.id,
                     jurisdiction_code=user.jurisdiction_code)
    uri = rules.otpauth_uri(row.secret, user.username,
                            current_app.config["SECOND_FACTOR_ISSUER"])
    return {"secret": row.secret, "otpauth_uri": uri,
            "qr_code": segno.make(uri, error="m").svg_data_uri(scale=5, border=2)}


def check_code(user_id: str, code: str, now: datetime, *, pending_ok: bool = False) -> str:
    """ACCEPTED, WRONG or REPLAYED for a TOTP code; an accepted one is used up at once.

    The step is taken with one conditional UPDATE, so two requests carrying the same code
    at the same moment cannot both pass.
    """
    row = _row(user_id)
    if row is None or (row.confirmed_at is None and not pending_ok):
        return WRONG
    step = rules.matching_totp_step(row.secret, code, now)
    if step is None:
        return WRONG
    if rules.is_replay(step, row.last_used_step):
        return REPLAYED
    taken = db.session.execute(update(SecondFactor).where(
        SecondFactor.user_id == user_id,
        or_(SecondFactor.last_used_step.is_(None), SecondFactor.last_used_step < step),
    ).values(last_used_step=step).execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    return ACCEPTED if taken == 1 else REPLAYED


def use_recovery_code(user_id: str, code: str, now: datetime) -> bool:
    """Is this one of the user's unused recovery codes? If so it is used up (once only)."""
    if not rules.is_recovery_shaped(code):
        return False
    typed = rules.normalise_code(code)
    unused = db.session.execute(select(RecoveryCode.id, RecoveryCode.code_hash).where(
        RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))).all()
    for code_id, code_hash in unused:
        if verify_password(code_hash, typed):
            used = db.session.execute(update(RecoveryCode).where(
                RecoveryCode.id == code_id, RecoveryCode.used_at.is_(None),
            ).values(used_at=now).execution_options(synchronize_session=False)
            ).rowcount  # type: ignore[attr-defined]
            return used == 1
    return False


def confirm(user: User, now: datetime) -> list[str]:
    """The pending secret becomes the user's factor; fresh recovery codes are returned once
    (only their argon2 hashes are kept)."""
    row = _row(user.id)
    assert row is not None
    row.confirmed_at = now
    user.second_factor_due_at = None
    codes = rules.new_recovery_codes(secrets.choice)
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id)
                       .execution_options(synchronize_session=False))
    db.session.add_all(RecoveryCode(id=new_id(), user_id=user.id, created_at=now,
                                    code_hash=hash_password(rules.normalise_code(code)))
                       for code in codes)
    audit.record("user.second_factor_enrolled", "user", user.id,
                 jurisdiction_code=user.jurisdiction_code,
                 after={"recovery_codes": len(codes)})
    return codes


def confirm_signed_in(user: User, code: str) -> list[str]:
    """Confirm enrolment from the account screen with a first code from the app."""
    row = _row(user.id)
    if row is None or row.confirmed_at is not None:
        raise ProblemError("second-factor-not-started",
                           "Start setting up two-step sign-in first.")
    now = clock.now()
    if check_code(user.id, code, now, pending_ok=True) != ACCEPTED:
        audit.record("user.second_factor_enrol_failed", "user", user.id,
                     jurisdiction_code=user.jurisdiction_code)
        raise ProblemError("second-factor-wrong",
                           "That code is not right. Type the code the app shows now.",
                           keep_changes=True)
    return confirm(user, now)


def remove(caller: rules.Caller, user: User | None) -> bool:
    """Another administrator removes a user's second factor (a lost phone); whether one was
    enrolled. A role that needs it enrols again at the next sign-in (no new grace)."""
    if not caller.has(rules.ADMIN):
        raise ProblemError("forbidden", "Only an administrator may reset two-step sign-in.")
    if user is None or not caller.covers(user.jurisdiction_code):
        raise ProblemError("user-not-found", "No such user in your jurisdiction.")
    if user.id == caller.user_id:
        raise ProblemError("second-factor-reset-self",
                           "Another administrator must reset your own two-step sign-in.")
    row = _row(user.id)
    had = row is not None and row.confirmed_at is not None
    if row is not None:
        db.session.delete(row)
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id)
                       .execution_options(synchronize_session=False))
    user.second_factor_due_at = (clock.now() if rules.ROLES_NEEDING_SECOND_FACTOR & user.roles
                                 else None)
    return had
