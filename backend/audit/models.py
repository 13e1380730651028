from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.dbtypes import UtcDateTime
from backend.extensions import db


class AuditEvent(db.Model):
    """One state change: who, when, what, from which device (全程留痕, 003)."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    actor_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    object_type: Mapped[str] = mapped_column(String(40), nullable=False)
    object_id: Mapped[str] = mapped_column(String(64), nullable=False)
    jurisdiction_code: Mapped[str | None] = mapped_column(String(12))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    device_id: Mapped[str | None] = mapped_column(String(64))
    # The hash chain (docs/decisions/0005-audit-hash-chain.md): rows are numbered and
    # linked when their transaction commits, under a lock, so the order is total.
    chain_seq: Mapped[int | None] = mapped_column(Integer, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    row_hash: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_audit_event_object", "object_type", "object_id"),
        Index("ix_audit_event_at", "at"),
    )


class AuditChainHead(db.Model):
    """The one row that serialises appends to the chain and remembers its end.

    Every committing transaction with audit rows locks it (SELECT ... FOR UPDATE on
    PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers), so two writers
    never link to the same predecessor, and deleting the newest rows shows.
    """

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(Integer, nullable=False)
    last_hash: Mapped[str] = mapped_column(String(64), nullable=False)


class AuditCheckpoint(db.Model):
    """Where the chain starts once its oldest rows were purged (ADR 0022).

    A purge removes a whole prefix of the chain, positions 1..``seq``, after walking it; the
    checkpoint keeps the last purged row's position, hash and time, signed with the app's
    key, so the next row's link is still checked and a forged checkpoint shows.
    """

    __tablename__ = "audit_checkpoint"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    row_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    last_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    rows_purged: Mapped[int] = mapped_column(Integer, nullable=False)
    made_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    signature: Mapped[str] = mapped_column(String(64), nullable=False)
