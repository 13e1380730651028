from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.dbtypes import UtcDateTime
from backend.encryption.columns import SealedString
from backend.extensions import db


class User(db.Model):
    __tablename__ = "user_account"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(100), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(200), nullable=False)
    jurisdiction_code: Mapped[str] = mapped_column(
        String(12), ForeignKey("jurisdiction.code"), nullable=False, index=True
    )
    phone: Mapped[str | None] = mapped_column(SealedString("user_account.phone"))  # ADR 0020
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # Consecutive failed sign-ins from anywhere, counted atomically in SQL; it never
    # locks the account (see docs/decisions/0004-sign-in-throttling.md), it is evidence.
    failed_login_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    # A role that needs a second factor, not yet enrolled: set at the first sign-in that
    # finds it missing (now + SECOND_FACTOR_GRACE_DAYS); from then on sign-in enrols first.
    second_factor_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def roles(self) -> set[str]:
        return {row.role for row in self.role_rows}


class UserRole(db.Model):
    __tablename__ = "user_role"

    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("user_account.id"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class AuthSession(db.Model):
    """One sign-in on one device; both its tokens carry its id, so logout revokes both."""

    __tablename__ = "auth_session"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("user_account.id"), nullable=False, index=True
    )
    device_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    refreshed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Indexed: every worker re-reads the recently ended sign-ins (auth/revocations.py).
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    # The id (`rti` claim) of the one refresh token that may still be used; each refresh
    # replaces it, so a used refresh token dies, and presenting an old one again
    # means the token was copied: the whole session is revoked.
    refresh_token_id: Mapped[str | None] = mapped_column(String(36))
    revoked_reason: Mapped[str | None] = mapped_column(String(40))
    # The refresh token the last rotation used up, and when that rotation issued the current
    # pair: for a short grace (REFRESH_REUSE_GRACE_SECONDS) the used-up token answers with
    # that same pair, so two tabs refreshing at once both carry on (auth.service.refresh).
    previous_refresh_token_id: Mapped[str | None] = mapped_column(String(36))
    tokens_issued_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class LoginThrottle(db.Model):
    """Failed sign-ins for one account from one client (IP): the unit that gets locked.

    Locking the pair, not the account, means a stranger guessing from elsewhere locks
    only themselves out, never the field worker at the township office.
    """

    __tablename__ = "login_throttle"

    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("user_account.id"), primary_key=True)
    client_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failed_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_failed_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)



class SecondFactor(db.Model):
    """A user's TOTP secret (RFC 6238): pending until a first code confirms it."""

    __tablename__ = "user_second_factor"

    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("user_account.id"), primary_key=True)
    # Sealed at rest (ADR 0020): the app must read it to check codes, so it cannot be hashed.
    secret: Mapped[str] = mapped_column(SealedString("user_second_factor.secret"),
                                        nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The RFC 6238 time step of the last code accepted: that code, and every older one,
    # is refused from then on (a code seen over a shoulder cannot be used again).
    last_used_step: Mapped[int | None] = mapped_column(BigInteger)


class RecoveryCode(db.Model):
    """One single-use recovery code, stored as an argon2 hash like a password."""

    __tablename__ = "user_recovery_code"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("user_account.id"), nullable=False, index=True)
    code_hash: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
