from __future__ import annotations

import functools
import hmac
import json
from collections.abc import Generator
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import Select, Update, bindparam, event, func, insert, select, update
from sqlalchemy.orm import Session

from backend import clock
from backend.audit import rules
from backend.audit.context import current_actor
from backend.audit.models import AuditChainHead, AuditCheckpoint, AuditEvent
from backend.extensions import db

_PENDING = "doorstep_audit_pending"
# Rows recorded in this transaction, inserted already linked when it commits; keyed by the
# innermost SAVEPOINT open when they were recorded (None: the transaction itself), so a
# SAVEPOINT rolled back takes its rows with it, as it would take rows already inserted.
_WAITING = "doorstep_audit_waiting"
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
) -> None:
    """Add an audit row to the current transaction (committed with the change itself)."""
    record_many([{"action": action, "object_type": object_type, "object_id": object_id,
                  "before": before, "after": after, "jurisdiction_code": jurisdiction_code,
                  "actor_id": actor_id}])


def changed_fields(before: dict, after: dict) -> tuple[dict, dict]:
    """Keep only what changed, so audit rows say what happened at a glance."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def events_for(object_type: str, object_id: str) -> list[AuditEvent]:
    """The object's audit rows in order, this transaction's (not inserted yet) last."""
    stored = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
        .order_by(AuditEvent.id))
    waiting = [AuditEvent(**row) for rows in db.session.info.get(_WAITING, {}).values()
               for row in rows
               if row["object_type"] == object_type and row["object_id"] == object_id]
    return [*stored, *waiting]


@dataclass(frozen=True)
class Happening:
    """One stored audit row, as other packages may read it (they never see the model)."""

    action: str
    at: Any
    ip: str | None
    device_id: str | None
    after: dict | None


def latest_of(object_type: str, object_id: str, actions: tuple[str, ...],
              limit: int = 200) -> list[Happening]:
    """The object's newest stored audit rows of these actions, newest first."""
    rows = db.session.execute(
        select(AuditEvent.action, AuditEvent.at, AuditEvent.ip, AuditEvent.device_id,
               AuditEvent.after)
        .where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id,
               AuditEvent.action.in_(actions))
        .order_by(AuditEvent.id.desc()).limit(limit))
    return [Happening(*row) for row in rows]


def record_many(events: list[dict]) -> None:
    """Audit a batch (a synced batch can hold a thousand records): the rows wait in the
    session and go in with the transaction's commit, in one INSERT, already linked."""
    if not events:
        return
    context = current_actor()
    at = clock.now()
    rows = [{
        "at": at, "actor_id": event.get("actor_id") or context.actor_id,
        "action": event["action"], "object_type": event["object_type"],
        "object_id": str(event["object_id"]), "jurisdiction_code": event.get("jurisdiction_code"),
        # As the JSON column gives them back: the hash is taken before the row is stored.
        "before": _stored_json(event.get("before")), "after": _stored_json(event.get("after")),
        "request_id": context.request_id, "ip": context.ip,
        "user_agent": (context.user_agent or "")[:300] or None, "device_id": context.device_id,
    } for event in events]
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that its end, commit or rollback, is seen
    waiting = session.info.setdefault(_WAITING, {})
    waiting.setdefault(session.get_nested_transaction(), []).extend(rows)


def _stored_json(value: dict | None) -> dict | None:
    return None if value is None else json.loads(json.dumps(value))


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
    # commit (every begin_nested here is a `with` block, closed before it); a released
    # SAVEPOINT hands its waiting rows to the transaction around it.
    if session.in_nested_transaction():
        released = session.get_nested_transaction()
        waiting = session.info.get(_WAITING, {})
        rows = waiting.pop(released, None)
        if rows:
            outer = released.parent if released.parent is not None and released.parent.nested \
                else None
            waiting.setdefault(outer, []).extend(rows)
        return
    if session.info.get(_PENDING) or session.info.get(_WAITING):
        chain_pending(session)


@event.listens_for(Session, "after_transaction_end")
def _forget_rolled_back_rows(session, transaction) -> None:
    waiting = session.info.get(_WAITING)
    if not waiting:
        return
    if transaction.nested:
        waiting.pop(transaction, None)  # rolled back (a released one handed its rows on)
    elif transaction.parent is None:
        session.info.pop(_WAITING, None)


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session) -> None:
    if not session.in_transaction():
        session.info.pop(_PENDING, None)
        session.info.pop(_WAITING, None)


def _lock_head(session, count: int) -> tuple[int, str, list[int]] | None:
    """Lock the head and take ids for ``count`` new rows, in one statement: the ids are
    in the rows' hashes, so they are known before the INSERT. PostgreSQL takes them from
    the id sequence; on SQLite the transaction holds the write lock (BEGIN IMMEDIATE), so
    the ids after the highest are free."""
    head = session.execute(_head_locked(session.get_bind().dialect.name),
                            {"count": count}).first()
    if head is None:
        return None
    seq, previous, taken = head
    if not isinstance(taken, list):
        taken = list(range(taken + 1, taken + 1 + count))
    return seq, previous, sorted(taken or [])


@functools.cache
def _head_locked(dialect: str) -> Select:
    """The head, locked, with ids for ``count`` new rows: built once per dialect (its
    expression and cache key cost more than its round trip, issue 23)."""
    table = AuditEvent.__table__
    if dialect == "postgresql":
        ids = (select(func.array_agg(func.nextval(func.pg_get_serial_sequence(
            table.name, "id")))).select_from(func.generate_series(1, bindparam("count")))
            .scalar_subquery())
    else:
        ids = select(func.coalesce(func.max(table.c.id), 0)).scalar_subquery()
    return (select(AuditChainHead.last_seq, AuditChainHead.last_hash, ids)
            .where(AuditChainHead.id == HEAD_ID).with_for_update(of=AuditChainHead))


# Up to this many new audit rows are inserted in the statement that moves the head.
ROWS_WITH_THE_HEAD = 4


@functools.cache
def _move_head() -> Update:
    head = AuditChainHead.__table__
    return update(head).where(head.c.id == HEAD_ID).values(
        last_seq=bindparam("last_seq"), last_hash=bindparam("last_hash"))


@functools.cache
def _move_head_with_rows(count: int, keys: tuple[str, ...]) -> Update:
    """The head's move with ``count`` rows inserted beside it, one data-modifying CTE a row
    (PostgreSQL runs each once, read or not), their values bound as ``r<i>_<key>``: built
    once per shape. A multi-row VALUES statement is not one SQLAlchemy can cache, so it
    was compiled anew on every request (about 1 ms)."""
    table = AuditEvent.__table__
    statement = _move_head()
    for index in range(count):
        statement = statement.add_cte(insert(table).values(
            {key: bindparam(f"r{index}_{key}", type_=table.c[key].type) for key in keys})
            .cte(f"audit_row_{index}"))
    return statement


def chain_pending(session) -> int:
    """Number and link this transaction's audit rows, last thing before it commits.

    The head row is locked only now, after every other write of the transaction, so
    holding it never waits on another lock (no deadlocks), and the chain order is the
    commit order. Rows recorded through record() are inserted now, linked; rows added
    as AuditEvent objects are in the table already and are linked as the database returns
    them.
    """
    session.flush()
    waiting = [row for rows in session.info.pop(_WAITING, {}).values() for row in rows]
    has_unlinked = session.info.pop(_PENDING, False)
    head = _lock_head(session, len(waiting))
    if head is None:
        session.add(AuditChainHead(id=HEAD_ID, last_seq=0, last_hash=rules.GENESIS_HASH))
        session.flush()
        head = _lock_head(session, len(waiting))
    assert head is not None
    seq, previous, ids = head
    unlinked = session.execute(
        select(*(getattr(AuditEvent, name) for name in rules.HASHED_FIELDS
                 if name != "chain_seq"))
        .where(AuditEvent.chain_seq.is_(None)).order_by(AuditEvent.id)
    ).mappings().all() if has_unlinked else []
    links, new_rows = [], []
    for row in unlinked:
        seq += 1
        digest = rules.row_hash(previous, {**row, "chain_seq": seq})
        links.append({"row_id": row["id"], "seq": seq, "prev": previous, "digest": digest})
        previous = digest
    for row, row_id in zip(waiting, ids, strict=True):
        seq += 1
        fields = {**row, "id": row_id, "chain_seq": seq}
        digest = rules.row_hash(previous, fields)
        new_rows.append({**fields, "prev_hash": previous, "row_hash": digest})
        previous = digest
    if not links and not new_rows:
        return 0
    connection = session.connection()
    table = AuditEvent.__table__
    if links:
        connection.execute(
            update(table).where(table.c.id == bindparam("row_id"))
            .values(chain_seq=bindparam("seq"), prev_hash=bindparam("prev"),
                    row_hash=bindparam("digest")), links)
    moved = {"last_seq": seq, "last_hash": previous}
    keys = tuple(new_rows[0]) if new_rows else ()
    if (new_rows and len(new_rows) <= ROWS_WITH_THE_HEAD
            and connection.dialect.name == "postgresql"
            and all(tuple(row) == keys for row in new_rows)):
        # The common request writes a row or two: on PostgreSQL they go in with the head's
        # move, one statement (data-modifying CTEs), one round trip fewer per request
        # (issue 23). More rows go as one executemany, whose statement does not grow.
        connection.execute(_move_head_with_rows(len(new_rows), keys), {
            f"r{index}_{key}": value for index, row in enumerate(new_rows)
            for key, value in row.items()} | moved)
        return len(links) + len(new_rows)
    if new_rows:
        connection.execute(insert(table), new_rows)
    connection.execute(_move_head(), moved)
    return len(links) + len(new_rows)


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
    checkpoint = latest_checkpoint()
    if checkpoint is not None and since_seq <= checkpoint.seq:
        # The oldest rows were purged (ADR 0022): the chain starts after the checkpoint.
        if not checkpoint_holds(checkpoint):
            return ChainReport(0, checkpoint.seq, "", ChainBreak(
                None, checkpoint.last_at, f"the purge checkpoint at position {checkpoint.seq} "
                "is not signed with this deployment's key (made up or changed)"))
        since_seq, previous, expected_seq = checkpoint.seq, checkpoint.row_hash, \
            checkpoint.seq + 1
    elif since_seq:
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


# Purge checkpoints (docs/decisions/0022-retention-and-purge.md) -------------------------

def checkpoint_key() -> bytes:
    """The key purge checkpoints are signed with: AUDIT_CHECKPOINT_KEY, else SECRET_KEY."""
    config = current_app.config if has_app_context() else {}
    key = config.get("AUDIT_CHECKPOINT_KEY") or config.get("SECRET_KEY") or ""
    return key.encode() if isinstance(key, str) else key


def latest_checkpoint() -> AuditCheckpoint | None:
    """The newest purge checkpoint: the chain starts after it (None: from the genesis)."""
    return db.session.scalar(select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc())
                             .limit(1))


def checkpoint_holds(checkpoint: AuditCheckpoint) -> bool:
    expected = rules.checkpoint_signature(checkpoint_key(), checkpoint.seq, checkpoint.row_hash,
                                          checkpoint.last_at, checkpoint.rows_purged)
    return hmac.compare_digest(expected, checkpoint.signature)
