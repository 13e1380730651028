"""Set-wise database helpers for batches: chunked IN lists and idempotent bulk inserts."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import insert

from backend.extensions import db

CHUNK = 500


def chunks(values: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    """Sorted, de-duplicated ``values`` in lists of at most ``size`` (for IN clauses)."""
    items = sorted(set(values))
    for start in range(0, len(items), size):
        yield items[start:start + size]


def insert_rows(model: Any, rows: list[dict]) -> None:
    if rows:
        db.session.execute(insert(model), rows)


def insert_ignoring_conflicts(model: Any, rows: list[dict], key: str) -> list:
    """INSERT … ON CONFLICT DO NOTHING RETURNING key, on SQLite and PostgreSQL alike."""
    if not rows:
        return []
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert  # type: ignore[assignment]
    column = getattr(model, key)
    inserted: list = []
    for start in range(0, len(rows), CHUNK):
        statement = (dialect_insert(model).values(rows[start:start + CHUNK])
                     .on_conflict_do_nothing().returning(column))
        inserted.extend(db.session.scalars(statement).all())
    return inserted
