"""The outbox: events written in the transaction of the change they tell of, and the
receipts that make each subscriber idempotent by event id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.dbtypes import UtcDateTime
from backend.encryption.columns import SealedJSON
from backend.extensions import db


class OutboxEntry(db.Model):
    """One event. ``sequence`` is the global order (taken at commit, under a lock, so it is
    also the commit order: a reader paging by it never skips a later commit) and the feed's
    cursor. ``relayed_at`` is set once every subscriber that wants it has handled it."""

    __tablename__ = "outbox_events"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sequence: Mapped[int] = mapped_column(Integer, nullable=False, unique=True)
    type: Mapped[str] = mapped_column(String(48), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    aggregate_type: Mapped[str] = mapped_column(String(32), nullable=False)
    aggregate_id: Mapped[str] = mapped_column(String(36), nullable=False)
    jurisdiction_code: Mapped[str] = mapped_column(String(12), nullable=False)
    # A decision's payload names the head of household by ID number: sealed (ADR 0020).
    payload: Mapped[dict] = mapped_column(SealedJSON("outbox_events.payload"), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    relayed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)

    __table_args__ = (
        Index("ix_outbox_events_type_sequence", "type", "sequence"),
        Index("ix_outbox_events_aggregate", "aggregate_type", "aggregate_id", "sequence"),
    )


class OutboxReceipt(db.Model):
    """Subscriber ``subscriber`` handled event ``event_id``; written in the transaction of
    the handler's own effects, so both commit or neither does."""

    __tablename__ = "outbox_receipts"

    subscriber: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), ForeignKey("outbox_events.id"),
                                          primary_key=True)
    handled_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
