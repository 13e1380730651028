from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.dbtypes import UtcDateTime
from backend.extensions import db


class RetentionSetting(db.Model):
    """A deployment's own retention of one kind (no row: the catalogue's default)."""

    __tablename__ = "retention_setting"

    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    days: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_by_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)


class LegalHold(db.Model):
    """A case nothing may be purged of while the hold stands (a dispute, a lawsuit, an
    inspection). Lifted holds stay, so who held what and why remains visible."""

    __tablename__ = "legal_hold"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    household_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    jurisdiction_code: Mapped[str] = mapped_column(String(12), nullable=False)
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    set_by_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("user_account.id"))
    set_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    lifted_by_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("user_account.id"))
    lifted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    lift_reason: Mapped[str | None] = mapped_column(String(500))


class PurgedSubject(db.Model):
    """That an item of a kind was purged, and when: only its id (a case id, a photo hash),
    never its content, so a kind whose row stays is not purged again each night."""

    __tablename__ = "retention_purged_subject"

    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    purged_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class PendingBlobDeletion(db.Model):
    """A blob whose row was purged, deleted from storage after the purge commits (a rollback
    then never leaves a row without its file); kept until the store confirms."""

    __tablename__ = "retention_pending_blob"

    blob_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    queued_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)

    __table_args__ = (Index("ix_retention_pending_blob_queued", "queued_at"),)
