"""Column types shared by every package."""

from __future__ import annotations

import array
import logging
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every backend.

    SQLite has no time zones and hands back naive values; we store UTC and
    re-attach it on the way out so `*_at` values are always aware.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utc_from_json(text: str | None) -> datetime | None:
    """A UtcDateTime as a JSON aggregate gives it back (backend.bulk.json_rows): text there,
    SQLite's "2026-12-05 02:00:00.000000" (stored as UTC) or PostgreSQL's ISO 8601 with an
    offset; aware UTC here, as the column itself would answer."""
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


def utc_from_iso(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("timestamp needs a time zone")
    return parsed.astimezone(UTC)


log = logging.getLogger(__name__)

# True while a request that only reads runs (web.hooks sets it for GET and HEAD, unless the
# route is marked `writes_on_read`): on SQLite its transaction begins DEFERRED.
reads_only: ContextVar[bool] = ContextVar("doorstep_reads_only", default=False)
_WRITES = re.compile(
    r"\s*(?:INSERT|UPDATE|DELETE|REPLACE)\b|\s*WITH\b.*\b(?:INSERT|UPDATE|DELETE)\b",
    re.IGNORECASE | re.DOTALL)


def reads_first(view):
    """Mark a route that may answer from reads alone, then write (the sync push: a replayed
    batch is answered from one lookup of its ids). On SQLite its transaction begins
    DEFERRED, reading beside the writers instead of queueing for the write lock, and the
    route calls `start_writing` before its first write."""
    view.doorstep_reads_first = True
    return view


def start_writing(session: Session) -> None:
    """From here a `reads_first` request writes. On SQLite its read transaction ends, so its
    next statement begins IMMEDIATE: a write inside the DEFERRED read could meet
    SQLITE_BUSY_SNAPSHOT. What was read before may have changed by then, so the writes must
    not rely on it (a push's inserts meet a racing push's rows as conflicts, as they do on
    PostgreSQL). On PostgreSQL nothing ends: its reads never held a lock."""
    if not reads_only.get():
        return
    reads_only.set(False)
    if session.in_transaction() and session.get_bind().dialect.name == "sqlite":
        session.commit()


def writes_on_read(view):
    """Mark a GET route that writes (an audited read, a download that counts itself): its
    transaction on SQLite takes the write lock up front, as every other method's does."""
    view.doorstep_writes_on_read = True
    return view


# SQLite has no median (its percentile extension is not compiled into Python's), so every
# connection gets this aggregate: ``func.doorstep_values(x)`` is a group's non-NULL values as
# one BLOB of float64, which ``sqlite_values`` reads back exactly, for the medians a caller
# takes in Python (reviews.queries: the dashboard's, issue 23). Exact where text (group_concat,
# json_group_array) would round the last digits.
SQLITE_VALUES = "doorstep_values"


class _Values:
    def __init__(self) -> None:
        self.values = array.array("d")

    def step(self, value: float | None) -> None:
        if value is not None:
            self.values.append(value)

    def finalize(self) -> bytes:
        return self.values.tobytes()


def sqlite_values(blob: bytes | None) -> array.array:
    """The values ``doorstep_values`` gathered (none for a group without any)."""
    values = array.array("d")
    if blob:
        values.frombytes(blob)
    return values


# How long a SQLite writer waits for the write lock before its request fails as busy.
SQLITE_BUSY_TIMEOUT_MS = 5000


def make_sqlite_transactional(engine, strict: bool = False) -> None:
    """Let SQLAlchemy, not pysqlite, begin transactions on SQLite.

    pysqlite delays BEGIN until the first write, which breaks SAVEPOINTs and makes
    reads of one request see different snapshots; this is SQLAlchemy's documented
    recipe (dialects/sqlite: "Serializable isolation / Savepoints / Transactional DDL").
    It also turns on foreign keys, which SQLite leaves off by default.

    A transaction that may write begins IMMEDIATE (the write lock up front). One that only
    reads (`reads_only`) begins DEFERRED: in WAL mode it reads its snapshot beside a writer
    instead of queueing behind it (issue 23: the case list's p99 was the writers' queue).
    A write inside a DEFERRED transaction could fail at once (SQLITE_BUSY_SNAPSHOT) when
    another writer committed meanwhile; ``strict`` (tests) makes such a write an error, so a
    GET route that writes and is not marked `writes_on_read` fails its tests; otherwise it is
    logged.
    """
    from sqlalchemy import event

    from backend.sqlite_writers import QueuedWriterConnection, database_file

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()
        dbapi_connection.create_aggregate(SQLITE_VALUES, 1, _Values)
        if isinstance(dbapi_connection, QueuedWriterConnection):
            dbapi_connection.join_writers_queue(database_file(dbapi_connection))

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        # IMMEDIATE takes the write lock up front: two requests that both read and then
        # write would otherwise deadlock on SQLite's lock upgrade ("database is locked").
        deferred = reads_only.get()
        connection.info["doorstep_deferred"] = deferred
        if deferred:
            connection.exec_driver_sql("BEGIN")
            return
        dbapi_connection = connection.connection.dbapi_connection
        if isinstance(dbapi_connection, QueuedWriterConnection):
            # Wait in the writers' queue, not in SQLite's sleeps (backend.sqlite_writers).
            # Should the BEGIN fail, the pool's rollback of the connection ends the turn.
            dbapi_connection.take_write_turn(SQLITE_BUSY_TIMEOUT_MS / 1000)
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine, "before_cursor_execute")
    def on_statement(connection, _cursor, statement, _parameters, _context, _executemany):
        if connection.info.get("doorstep_deferred") and _WRITES.match(statement):
            message = (f"a read-only request writes ({' '.join(statement.split()[:3])}); "
                       "mark its route writes_on_read")
            if strict:
                raise RuntimeError(message)
            log.warning(message)


# PostgreSQL's text type cannot hold a NUL (SQLite can), so a value holding one would fail
# as a server error on the production database. Routes answer 422 naming the fields; the
# sync push refuses the one record and keeps its neighbours.
def nul_paths(value: Any) -> list[str]:
    """The dotted paths ("a.b.0.c") of the strings and keys in ``value`` holding a NUL."""
    found: list[str] = []
    stack: list[tuple[str, Any]] = [("", value)]  # a stack, not recursion: no depth limit
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                found.append(path or "_body")
        elif isinstance(item, dict):
            for key, inner in item.items():
                inner_path = f"{path}.{key}" if path else str(key)
                if "\x00" in key:
                    found.append(inner_path.replace("\x00", "\\u0000"))
                stack.append((inner_path, inner))
        elif isinstance(item, list):
            stack.extend((f"{path}.{index}" if path else str(index), inner)
                         for index, inner in enumerate(item))
    return sorted(found)
