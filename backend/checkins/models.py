from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.dbtypes import UtcDateTime
from backend.encryption.columns import SealedString, keep_blind_index
from backend.extensions import db

PHONE_PURPOSE = "checkin_recipient.phone"


class Recipient(db.Model):
    """A member of an approved household who checks in from their own phone (003).

    The recipient signs in as a user (role ``recipient``) with phone number and a 6-digit
    PIN; the activation code printed on the slip is kept only as a hash.
    """

    __tablename__ = "checkin_recipient"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("user_account.id"), nullable=False, unique=True)
    household_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("household.id"), nullable=False, index=True)
    member_id: Mapped[str] = mapped_column(String(36), nullable=False, unique=True)
    jurisdiction_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    # Sealed at rest (ADR 0020); one recipient per phone number: its blind index is unique.
    phone: Mapped[str] = mapped_column(SealedString(PHONE_PURPOSE), nullable=False)
    phone_index: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    category: Mapped[str] = mapped_column(String(12), nullable=False)  # monthly / quarterly
    # Indexed: every check-in asks whether its photo is (nearly) someone's reference photo.
    reference_photo_sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    declared_address: Mapped[str | None] = mapped_column(String(200))
    declared_lat: Mapped[float | None] = mapped_column(Float)
    declared_lon: Mapped[float | None] = mapped_column(Float)
    activation_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    activation_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    activation_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    activated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    enrolled_by_id: Mapped[str] = mapped_column(String(36), nullable=False)
    enrolled_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}


keep_blind_index(Recipient.phone, "phone_index", PHONE_PURPOSE)


class CheckIn(db.Model):
    """One check-in as the device made it (client UUID), with the server's judgement."""

    __tablename__ = "checkin"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the device's UUID
    recipient_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("checkin_recipient.id"), nullable=False)
    household_id: Mapped[str] = mapped_column(String(36), nullable=False)
    jurisdiction_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    submitted_by_id: Mapped[str] = mapped_column(String(36), nullable=False)
    is_proxy: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    proxy_reason: Mapped[str | None] = mapped_column(String(200))
    photo_sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    photo_source: Mapped[str] = mapped_column(String(12), nullable=False)
    photo_captured_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    challenge: Mapped[dict] = mapped_column(JSON, nullable=False)
    challenge_answer: Mapped[str | None] = mapped_column(String(40))
    lat: Mapped[float] = mapped_column(Float, nullable=False)
    lon: Mapped[float] = mapped_column(Float, nullable=False)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    captured_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)  # device
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # device, batch
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)  # server
    device_id: Mapped[str | None] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(36), nullable=False)
    signature: Mapped[str] = mapped_column(String(200), nullable=False)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    window_key: Mapped[str | None] = mapped_column(String(8))
    outcome: Mapped[str] = mapped_column(String(8), nullable=False)  # on_time / late
    # pending -> verified / mismatch / no-face / unverified (a person must look)
    identity_status: Mapped[str] = mapped_column(String(12), nullable=False)
    identity_distance: Mapped[float | None] = mapped_column(Float)
    identity_checked_by: Mapped[str | None] = mapped_column(String(40))

    __table_args__ = (Index("ix_checkin_recipient_captured", "recipient_id", "captured_at"),)


class CheckInFlag(db.Model):
    """An integrity flag on a check-in (rules.FLAG_CODES); never blocks it."""

    __tablename__ = "checkin_flag"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    checkin_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("checkin.id"), nullable=False, index=True)
    code: Mapped[str] = mapped_column(String(40), nullable=False)
    data: Mapped[dict] = mapped_column(JSON, nullable=False)
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class CheckInWindowResult(db.Model):
    """How one window of one recipient ended: on time, late or missed (judged at close)."""

    __tablename__ = "checkin_window_result"

    recipient_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("checkin_recipient.id"), primary_key=True)
    window_key: Mapped[str] = mapped_column(String(8), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(8), nullable=False)
    checkin_id: Mapped[str | None] = mapped_column(String(36))
    judged_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class FollowUp(db.Model):
    """Staff follow-up of a missed or flagged check-in: a call or a home visit."""

    __tablename__ = "checkin_follow_up"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    recipient_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("checkin_recipient.id"), nullable=False, index=True)
    jurisdiction_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    reason: Mapped[str] = mapped_column(String(12), nullable=False)  # missed / flagged
    window_key: Mapped[str | None] = mapped_column(String(8))
    checkin_id: Mapped[str | None] = mapped_column(String(36))
    action: Mapped[str] = mapped_column(String(12), nullable=False)  # call / home_visit
    status: Mapped[str] = mapped_column(String(8), nullable=False)  # open / closed
    outcome: Mapped[str | None] = mapped_column(String(500))
    closed_by_id: Mapped[str | None] = mapped_column(String(36))
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __table_args__ = (Index("ix_checkin_follow_up_open", "jurisdiction_code", "status"),)


class ReviewTrigger(db.Model):
    """Repeated misses: a periodic review (动态管理) is due for the household's case."""

    __tablename__ = "checkin_review_trigger"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    recipient_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("checkin_recipient.id"), nullable=False)
    household_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    window_key: Mapped[str] = mapped_column(String(8), nullable=False)
    consecutive_misses: Mapped[int] = mapped_column(Integer, nullable=False)
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    handled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ux_checkin_review_trigger", "recipient_id", "window_key",
                            unique=True),)


class PushSubscription(db.Model):
    """A browser's Web Push subscription (RFC 8030), owned by the user signed in when it was
    made: the reminders of a recipient go to each of theirs. Unique per (user, endpoint), so
    a replay is the same row and two recipients sharing one phone each keep theirs."""

    __tablename__ = "checkin_push_subscription"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("user_account.id"), nullable=False)
    endpoint: Mapped[str] = mapped_column(String(1024), nullable=False)
    p256dh: Mapped[str] = mapped_column(String(100), nullable=False)
    auth: Mapped[str] = mapped_column(String(40), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)

    __table_args__ = (Index("ux_checkin_push_subscription", "user_id", "endpoint",
                            unique=True),)
