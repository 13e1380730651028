"""Set-wise database helpers for batches: chunked IN lists and idempotent bulk inserts.

Inserts are Core statements on the model's table, run as one executemany per shape of row
(SQLAlchemy's "insertmanyvalues" batches them, RETURNING included): the statement compiles
once and is cached, where an ORM insert or a multi-VALUES statement built per batch spent
most of a push building parameters and compiling SQL as long as the batch.

Prebuilt statements: the reads every push makes (the replay lookup, the device keys, the
photos, the similar-photo bands) are built once (`functools.cache`) with named bind
parameters (`any_of(column, "ids")` for an IN list) and executed with values. SQLAlchemy
caches the compiled SQL either way, but building the expression and its cache key anew cost
more than a millisecond of a ten-millisecond check-in (issue 23).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Insert,
    Table,
    any_,
    bindparam,
    func,
    insert,
    inspect,
    type_coerce,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.visitors import InternalTraversal

from backend.extensions import db

CHUNK = 500


class AnyOf(ColumnElement[bool]):
    """``column`` is one of the list bound as ``name``: see `any_of`."""

    inherit_cache = True  # its cache key is the class, the column and the name
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement),
                           ("name", InternalTraversal.dp_string)]
    _is_implicitly_boolean = True  # a condition as it stands (no "= 1" on SQLite)
    type = Boolean()

    def __init__(self, column: Any, name: str) -> None:
        self.column = column
        self.name = name


def any_of(column: Any, name: str = "ids") -> AnyOf:
    """``column IN (...)`` for a statement built once, the list bound as ``name`` when it
    runs. PostgreSQL gets ``column = ANY(%(name)s)``, one array parameter: an expanding IN
    of a thousand ids made a new SQL text each time, which psycopg parsed again and
    SQLAlchemy rendered with a cast per value (a sixth of a 1,000-visit replay, issue 23).
    SQLite has no arrays: an expanding IN there."""
    return AnyOf(column, name)


@compiles(AnyOf)
def _any_of_expanding(element: AnyOf, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.column.in_(bindparam(element.name, expanding=True)), **kw)


@compiles(AnyOf, "postgresql")
def _any_of_array(element: AnyOf, compiler: Any, **kw: Any) -> str:
    array = bindparam(element.name, type_=postgresql.ARRAY(element.column.type))
    return compiler.process(element.column == any_(array), **kw)


def chunks(values: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    """Sorted, de-duplicated ``values`` in lists of at most ``size`` (for IN clauses)."""
    items = sorted(set(values))
    for start in range(0, len(items), size):
        yield items[start:start + size]


@cache
def _table(model: Any) -> Table:
    """The model's table, whose column keys are the model's attribute names (checked once:
    the rows are written with attribute names)."""
    mapper = inspect(model)
    for attribute in mapper.column_attrs:
        if [column.key for column in attribute.columns] != [attribute.key]:
            raise TypeError(f"{model.__name__}.{attribute.key} is not its column's key")
    return mapper.local_table


def _shapes(rows: list[dict]) -> Iterator[list[dict]]:
    """The rows grouped by their set of keys, in order of first appearance (an executemany
    binds every row to the first one's keys)."""
    groups: dict[tuple[str, ...], list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    yield from groups.values()


def insert_rows(model: Any, rows: list[dict]) -> None:
    for group in _shapes(rows):
        db.session.execute(_insert(model), group)


def insert_ignoring_conflicts(model: Any, rows: list[dict], key: str) -> list:
    """INSERT … ON CONFLICT DO NOTHING RETURNING key, on SQLite and PostgreSQL alike: the
    keys of the rows this statement inserted (a row already there is skipped)."""
    if not rows:
        return []
    statement = _insert_ignoring(db.session.get_bind().dialect.name, model, key)
    inserted: list = []
    for group in _shapes(rows):
        inserted.extend(db.session.scalars(statement, group).all())
    return inserted


def insert_skipping_conflicts(model: Any, rows: list[dict]) -> int:
    """INSERT … ON CONFLICT DO NOTHING without RETURNING: how many rows it inserted. One
    executemany per shape, which psycopg pipelines as one short statement it parses once;
    with RETURNING, SQLAlchemy sends a VALUES list of up to 1,000 rows instead, a text of
    hundreds of kilobytes that psycopg parses anew each time (0.2 s of a 1,000-visit push on
    PostgreSQL, issue 23). Both drivers count an executemany's rows as the sum of its rows."""
    if not rows:
        return 0
    statement = _insert_skipping(db.session.get_bind().dialect.name, model)
    return sum(db.session.execute(statement, group).rowcount  # type: ignore[attr-defined]
               for group in _shapes(rows))


@cache
def _insert(model: Any) -> Insert:
    return insert(_table(model))


@cache
def _insert_ignoring(dialect: str, model: Any, key: str) -> Insert:
    table = _table(model)
    return upsertable_insert(dialect, table).on_conflict_do_nothing().returning(table.c[key])


@cache
def _insert_skipping(dialect: str, model: Any) -> Insert:
    # preserve_rowcount: SQLAlchemy reads an executemany's rowcount only when asked (else -1
    # on psycopg).
    return upsertable_insert(dialect, _table(model)).on_conflict_do_nothing().execution_options(
        preserve_rowcount=True)


def upsertable_insert(dialect: str, target: Any) -> Any:
    """The dialect's own INSERT, the one with ON CONFLICT (both have the same API)."""
    if dialect == "postgresql":
        return postgresql.insert(target)
    return sqlite.insert(target)


def json_rows(dialect: str, *columns: Any) -> ColumnElement:
    """An aggregate of ``columns`` over a select's rows as one JSON list of lists (None
    where PostgreSQL's json_agg has no row; SQLite's gives []): a read that returns many
    rows fits, as one value, beside a statement's other columns (issue 23: a check-in's
    statements). A JSON column stays JSON (SQLite keeps it as text, which json() embeds)."""
    if dialect == "postgresql":
        return type_coerce(func.json_agg(func.json_build_array(*columns)), JSON)
    embedded = [func.json(column) if isinstance(getattr(column, "type", None), JSON)
                else column for column in columns]
    return type_coerce(func.json_group_array(func.json_array(*embedded)), JSON)
