"""Writing to the outbox, in the caller's transaction, and reading it back.

``record`` keeps the event on the session until the transaction commits; the last thing
before the commit inserts the transaction's events under one lock (PostgreSQL: an advisory
lock held to the commit; SQLite: the write lock BEGIN IMMEDIATE already holds) and numbers
them after the highest ``sequence``, so the global order is the commit order and a reader
paging by sequence never skips a row that commits later. A rollback, of the transaction or
of the SAVEPOINT the event was recorded in, drops it. After the commit the relay wakes
(backend/outbox/relay.py).

Events go in after the in-transaction events were dispatched and after the audit chain
linked its rows (both before_commit too, registered earlier), so an event recorded by an
in-transaction handler goes in with the rest, and the audit head's lock is always taken
before this one (one order: no deadlock).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from typing import Any

from marshmallow import Schema
from sqlalchemy import ColumnElement, Insert, Select, func, insert, select, text
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

import backend.audit.service  # noqa: F401 - its before_commit hook must run before ours
from backend import clock
from backend.dbtypes import new_id
from backend.extensions import db
from backend.outbox.models import OutboxEntry
from backend.outbox.rules import OutboxEvent
from backend.outbox.schemas import CATALOGUE

log = logging.getLogger(__name__)

# Events recorded in this transaction, keyed by the innermost SAVEPOINT open when they were
# recorded (None: the transaction itself), as the audit rows wait (backend/audit/service.py).
_WAITING = "doorstep_outbox_waiting"
WROTE = "doorstep_outbox_wrote"  # the transaction inserted events: wake the relay
# pg_advisory_xact_lock key of the outbox's numbering ("outbox" as a number).
LOCK_KEY = 0x6F7574626F78


@functools.cache
def _schema_of(schema_class: type[Schema]) -> Schema:
    """One instance per event schema (a push of 1,000 visits made 1,000); marshmallow
    schemas keep no state between dump and validate calls."""
    return schema_class()


def record(type: str, aggregate_type: str, aggregate_id: str, jurisdiction_code: str,
           payload: dict[str, Any]) -> str:
    """Add an event to the current transaction; returns its id. The payload is checked
    against its type's schema (a mismatch is a programming error: ValueError)."""
    event_type = CATALOGUE.get(type)
    if event_type is None:
        raise ValueError(f"unknown outbox event type {type!r}")
    schema = _schema_of(event_type.schema)
    stored = schema.dump(payload)
    errors = schema.validate(stored)
    if errors:
        raise ValueError(f"{type} payload does not match {event_type.schema.__name__}: {errors}")
    row = {"id": new_id(), "type": type, "version": event_type.version,
           "aggregate_type": aggregate_type, "aggregate_id": str(aggregate_id),
           "jurisdiction_code": jurisdiction_code, "payload": stored,
           "occurred_at": clock.now(), "relayed_at": None}
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that its end, commit or rollback, is seen
    waiting = session.info.setdefault(_WAITING, {})
    waiting.setdefault(session.get_nested_transaction(), []).append(row)
    return row["id"]


def waiting() -> list[dict[str, Any]]:
    """This transaction's events not inserted yet (tests, producers checking themselves)."""
    return [row for rows in db.session.info.get(_WAITING, {}).values() for row in rows]


@functools.cache
def _next_sequence() -> Select:
    return select(func.coalesce(func.max(OutboxEntry.sequence), 0) + 1)


@functools.cache
def _insert_numbered() -> Insert:
    """One event's INSERT, numbered in the statement, built once and run with the row: built
    per request with the row's values, it was 29 of the 40 SQL expressions a one-visit push
    built (issue 23; tests/api/test_sync_flat.py counts them)."""
    return insert(OutboxEntry.__table__).values(sequence=_next_sequence().scalar_subquery())


def _insert_waiting(session: Session) -> int:
    rows = [row for rows in session.info.pop(_WAITING, {}).values() for row in rows]
    if not rows:
        return 0
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    if len(rows) == 1:
        # The common unit of work raises one event: number it in its INSERT (one statement
        # fewer per request; the lock above, or SQLite's write lock, keeps it unique).
        connection.execute(_insert_numbered(), rows[0])
    else:
        first = int(connection.execute(_next_sequence()).scalar() or 1)
        for offset, row in enumerate(rows):
            row["sequence"] = first + offset
        connection.execute(insert(OutboxEntry.__table__), rows)
    session.info[WROTE] = True
    return len(rows)


@sa_event.listens_for(Session, "before_commit")
def _insert_on_commit(session: Session) -> None:
    # A released SAVEPOINT hands its events to the transaction around it; the transaction's
    # own commit inserts them (so the lock is taken once, last, as the audit head's is).
    if session.in_nested_transaction():
        released = session.get_nested_transaction()
        waiting_rows = session.info.get(_WAITING, {})
        rows = waiting_rows.pop(released, None)
        if rows and released is not None:
            outer = released.parent if released.parent is not None and released.parent.nested \
                else None
            waiting_rows.setdefault(outer, []).extend(rows)
        return
    if session.info.get(_WAITING):
        _insert_waiting(session)


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_rolled_back(session: Session, transaction) -> None:
    waiting_rows = session.info.get(_WAITING)
    if not waiting_rows:
        return
    if transaction.nested:
        waiting_rows.pop(transaction, None)  # rolled back (a released one handed its rows on)
    elif transaction.parent is None:
        session.info.pop(_WAITING, None)


@sa_event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    if not session.in_transaction():
        session.info.pop(_WAITING, None)
        session.info.pop(WROTE, None)


# --- reading ---------------------------------------------------------------------------------


def as_event(row: OutboxEntry) -> OutboxEvent:
    return OutboxEvent(id=row.id, sequence=row.sequence, type=row.type, version=row.version,
                       aggregate_type=row.aggregate_type, aggregate_id=row.aggregate_id,
                       jurisdiction_code=row.jurisdiction_code, payload=row.payload,
                       occurred_at=row.occurred_at)


def events_after(sequence: int, types: Iterable[str],
                 scope: Callable[[Any], ColumnElement[bool]], limit: int) -> list[OutboxEvent]:
    """Committed events of ``types`` after ``sequence``, in order, whose jurisdiction
    passes ``scope`` (the caller's ``jurisdictions.scope.within``): a page of a feed."""
    rows = db.session.scalars(
        select(OutboxEntry).where(OutboxEntry.sequence > sequence,
                                  OutboxEntry.type.in_(list(types)),
                                  scope(OutboxEntry.jurisdiction_code))
        .order_by(OutboxEntry.sequence).limit(limit))
    return [as_event(row) for row in rows]


def unrelayed(limit: int) -> list[OutboxEvent]:
    """The oldest events some subscriber has still to handle, in order."""
    return [as_event(row) for row in db.session.scalars(
        select(OutboxEntry).where(OutboxEntry.relayed_at.is_(None))
        .order_by(OutboxEntry.sequence).limit(limit))]
