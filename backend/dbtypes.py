"""Column types shared by every package."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
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


def new_id() -> str:
    return str(uuid.uuid4())


def utc_from_iso(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("timestamp needs a time zone")
    return parsed.astimezone(UTC)


def make_sqlite_transactional(engine) -> None:
    """Let SQLAlchemy, not pysqlite, begin transactions on SQLite.

    pysqlite delays BEGIN until the first write, which breaks SAVEPOINTs and makes
    reads of one request see different snapshots; this is SQLAlchemy's documented
    recipe (dialects/sqlite: "Serializable isolation / Savepoints / Transactional DDL").
    It also turns on foreign keys, which SQLite leaves off by default.
    """
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        # IMMEDIATE takes the write lock up front: two requests that both read and then
        # write would otherwise deadlock on SQLite's lock upgrade ("database is locked").
        connection.exec_driver_sql("BEGIN IMMEDIATE")


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
