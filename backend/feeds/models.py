"""Service tokens: how another department's system reads a feed, without a user login."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.dbtypes import UtcDateTime
from backend.extensions import db


class FeedToken(db.Model):
    """One token: one feed, one jurisdiction, one purpose. Only the SHA-256 of its secret is
    kept (the token is shown once); a revoked token reads nothing."""

    __tablename__ = "feed_token"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    feed: Mapped[str] = mapped_column(String(32), nullable=False)
    jurisdiction_code: Mapped[str] = mapped_column(
        String(12), ForeignKey("jurisdiction.code"), nullable=False, index=True)
    purpose: Mapped[str] = mapped_column(String(32), nullable=False)
    label: Mapped[str] = mapped_column(String(100), nullable=False)
    secret_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    created_by_id: Mapped[str] = mapped_column(String(36), ForeignKey("user_account.id"),
                                               nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_by_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("user_account.id"))
