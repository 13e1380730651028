from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from backend.dbtypes import UtcDateTime
from backend.extensions import db


class DeviceKey(db.Model):
    """A device-held P-256 public key a user signs attestations with (谁调查谁签字).

    At most one active key per user and device: registering a new one revokes the old.
    """

    __tablename__ = "device_key"
    __table_args__ = (
        Index("ux_device_key_active_user_device", "user_id", "device_id", unique=True,
              sqlite_where=text("revoked_at IS NULL"),
              postgresql_where=text("revoked_at IS NULL")),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("user_account.id"), nullable=False, index=True
    )
    device_id: Mapped[str] = mapped_column(String(64), nullable=False)
    public_key_jwk: Mapped[dict] = mapped_column(JSON, nullable=False)
    # RFC 7638 thumbprint of the public key: finds a key registered before, by anyone.
    thumbprint: Mapped[str] = mapped_column(String(43), nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_by_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("user_account.id"))
    # "replaced" (a newer key for the same user and device) or "revoked" (by hand)
    revoked_reason: Mapped[str | None] = mapped_column(String(32))


class DeviceKeyChallenge(db.Model):
    """A single-use nonce a new key must sign to be registered (proof of possession)."""

    __tablename__ = "device_key_challenge"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("user_account.id"), nullable=False, index=True
    )
    device_id: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
