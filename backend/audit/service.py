from __future__ import annotations

from collections.abc import Generator
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, event, select, update
from sqlalchemy.orm import Session

from backend import clock
from backend.audit import rules
from backend.audit.context import current_actor
from backend.audit.models import AuditChainHead, AuditEvent
from backend.extensions import db

_PENDING = "doorstep_audit_pending"
HEAD_ID = 1


def record(
    action: str,
    object_type: str,
    object_id: str,
    *,
    before: dict | None = None,
    after: dict | None = None,
    jurisdiction_code: str | None = None,
    actor_id: str | None = None,
) -> AuditEvent:
    """Add an audit row to the current transaction (committed with the change itself)."""
    context = current_actor()
    event = AuditEvent(
        at=clock.now(),
        actor_id=actor_id or context.actor_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        jurisdiction_code=jurisdiction_code,
        before=before,
        after=after,
        request_id=context.request_id,
        ip=context.ip,
        user_agent=(context.user_agent or "")[:300] or None,
        device_id=context.device_id,
    )
    db.session.add(event)
    db.session.info[_PENDING] = True
    return event


def changed_fields(before: dict, after: dict) -> tuple[dict, dict]:
    """Keep only what changed, so audit rows say what happened at a glance."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def events_for(object_type: str, object_id: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
            .order_by(AuditEvent.id)
        )
    )


def record_many(events: list[dict]) -> None:
    """Audit a whole batch in one INSERT (a synced batch can hold a thousand records)."""
    if not events:
        return
    from sqlalchemy import insert

    context = current_actor()
    at = clock.now()
    rows = [{
        "at": at, "actor_id": event.get("actor_id") or context.actor_id,
        "action": event["action"], "object_type": event["object_type"],
        "object_id": str(event["object_id"]), "jurisdiction_code": event.get("jurisdiction_code"),
        "before": event.get("before"), "after": event.get("after"),
        "request_id": context.request_id, "ip": context.ip,
        "user_agent": (context.user_agent or "")[:300] or None, "device_id": context.device_id,
    } for event in events]
    db.session.info[_PENDING] = True
    db.session.execute(insert(AuditEvent), rows)


# The chain ---------------------------------------------------------------------------

@event.listens_for(Session, "before_flush")
def _note_new_audit_rows(session, _context, _instances) -> None:
    # Rows added without record() (db.session.add(AuditEvent(...))) are chained too.
    if not session.info.get(_PENDING) and any(
            isinstance(obj, AuditEvent) for obj in session.new):
        session.info[_PENDING] = True


@event.listens_for(Session, "before_commit")
def _chain_on_commit(session) -> None:
    # SQLAlchemy fires before_commit when a SAVEPOINT (begin_nested) is released, too.
    # Linking there would take the head's lock in the middle of the transaction and hold
    # it through every write after (a sync push releases one SAVEPOINT per record): writers
    # would queue on it for longer, and one waiting on a row another writer holds while
    # that writer waits for the head would deadlock. Link once, at the transaction's own
    # commit (every begin_nested here is a `with` block, closed before it).
    if session.in_nested_transaction():
        return
    if session.info.pop(_PENDING, False):
        chain_pending(session)


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session) -> None:
    if not session.in_transaction():
        session.info.pop(_PENDING, None)


def chain_pending(session) -> int:
    """Number and link this transaction's audit rows, last thing before it commits.

    The head row is locked only now, after every other write of the transaction, so
    holding it never waits on another lock (no deadlocks), and the chain order is the
    commit order. Hashes are computed from the rows as the database returns them.
    """
    session.flush()
    # No "any rows?" query first: the caller links only when this transaction wrote audit
    # rows (a SAVEPOINT rolled back may have taken them away: then the lock is held for
    # nothing a moment, and nothing changes).
    head = session.execute(
        select(AuditChainHead.last_seq, AuditChainHead.last_hash)
        .where(AuditChainHead.id == HEAD_ID).with_for_update()).first()
    if head is None:
        session.add(AuditChainHead(id=HEAD_ID, last_seq=0, last_hash=rules.GENESIS_HASH))
        session.flush()
        head = (0, rules.GENESIS_HASH)
    seq, previous = head
    rows = session.execute(
        select(*(getattr(AuditEvent, name) for name in rules.HASHED_FIELDS
                 if name != "chain_seq"))
        .where(AuditEvent.chain_seq.is_(None)).order_by(AuditEvent.id)).mappings().all()
    if not rows:
        return 0
    links = []
    for row in rows:
        seq += 1
        fields = {**row, "chain_seq": seq}
        digest = rules.row_hash(previous, fields)
        links.append({"row_id": row["id"], "seq": seq, "prev": previous, "digest": digest})
        previous = digest
    connection = session.connection()
    connection.execute(
        update(AuditEvent.__table__).where(AuditEvent.__table__.c.id == bindparam("row_id"))
        .values(chain_seq=bindparam("seq"), prev_hash=bindparam("prev"),
                row_hash=bindparam("digest")), links)
    connection.execute(update(AuditChainHead.__table__)
                       .where(AuditChainHead.__table__.c.id == HEAD_ID)
                       .values(last_seq=seq, last_hash=previous))
    return len(links)


@dataclass(frozen=True)
class ChainBreak:
    row_id: int | None
    at: object
    reason: str


@dataclass(frozen=True)
class ChainReport:
    rows: int
    last_seq: int
    last_hash: str
    broken: ChainBreak | None

    @property
    def is_intact(self) -> bool:
        return self.broken is None


def _rows_in_chain_order(after_seq: int) -> Generator[Any, None, None]:
    columns = [getattr(AuditEvent, name) for name in rules.HASHED_FIELDS]
    query = (select(*columns, AuditEvent.prev_hash, AuditEvent.row_hash)
             .where((AuditEvent.chain_seq > after_seq) | AuditEvent.chain_seq.is_(None))
             .order_by(AuditEvent.chain_seq.is_(None), AuditEvent.chain_seq, AuditEvent.id)
             .execution_options(yield_per=1000))
    result = db.session.execute(query)  # a server-side cursor on PostgreSQL
    try:
        yield from result.mappings()
    finally:
        result.close()


def _why_broken(row, previous: str, expected_seq: int) -> str | None:
    if row["chain_seq"] is None:
        return "not in the chain (written without the chain, or its link was erased)"
    if row["chain_seq"] != expected_seq:
        return (f"expected position {expected_seq} in the chain, found {row['chain_seq']}: "
                "rows before it were deleted or reordered")
    if row["prev_hash"] != previous:
        return "does not link to the row before it (that row was changed or deleted)"
    if row["row_hash"] != rules.row_hash(previous, dict(row)):
        return "its content does not match its hash (the row was changed)"
    return None


def verify_chain(since_seq: int = 0) -> ChainReport:
    """Walk the chain (from after `since_seq`, trusting that row, or from the start).

    Reports the first row that does not hold, if any: changed, deleted, reordered or
    never chained; and a chain that ends before the head says it should.
    """
    previous, expected_seq, count = rules.GENESIS_HASH, since_seq + 1, 0
    if since_seq:
        anchor = db.session.scalar(select(AuditEvent.row_hash)
                                   .where(AuditEvent.chain_seq == since_seq))
        if anchor is None:
            return ChainReport(0, since_seq, "", ChainBreak(
                None, None, f"no row at position {since_seq} to start from"))
        previous = anchor
    last_at = None
    with closing(_rows_in_chain_order(since_seq)) as rows:
        for row in rows:
            broken = _why_broken(row, previous, expected_seq)
            if broken:
                return ChainReport(count, expected_seq - 1, previous,
                                   ChainBreak(row["id"], row["at"], broken))
            previous, expected_seq, count = row["row_hash"], expected_seq + 1, count + 1
            last_at = row["at"]
    head = db.session.get(AuditChainHead, HEAD_ID, populate_existing=True)
    if (count or since_seq) and (head is None or head.last_seq != expected_seq - 1
                  or head.last_hash != previous):
        return ChainReport(count, expected_seq - 1, previous, ChainBreak(
            None, last_at, "the chain ends early: the newest rows were deleted "
            f"(the head records position {head.last_seq if head else '?'})"))
    return ChainReport(count, expected_seq - 1, previous, None)
