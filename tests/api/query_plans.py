"""What the database runs for a request, and whether any of it reads a table from end to end:
for tests that a request costs what its records cost, not what the database holds (issue 23)."""

from __future__ import annotations

import re

from sqlalchemy import event, text

from backend.extensions import db


class Statements:
    """The SQL the database runs while the block is open, with its first parameters."""

    def __init__(self):
        self.seen: list[tuple[str, object]] = []

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self._note)
        return self

    def __exit__(self, *_):
        event.remove(db.engine, "before_cursor_execute", self._note)

    def _note(self, _conn, _cursor, statement, parameters, _context, executemany):
        many = executemany and isinstance(parameters, list | tuple)  # not insertmanyvalues
        self.seen.append((statement, parameters[0] if many else parameters))

    @property
    def texts(self) -> list[str]:
        """The statements, savepoint names aside (a counter of the session)."""
        return [re.sub(r"sa_savepoint_\d+", "sa_savepoint", statement)
                for statement, _ in self.seen]


def table_scans(session, seen, tables: str) -> list[str]:
    """The plan lines of the statements that read a table whose whole name matches the
    regular expression ``tables`` from end to end (SQLite's SCAN, PostgreSQL's Seq Scan with
    sequential scans priced out). A CTE's own rows, built by the statement, are not a table."""
    named = re.compile(rf"\b(?:{tables})\b")
    dialect = session.get_bind().dialect.name
    scans = []
    if dialect == "postgresql":
        # Tables this small would be read whole by choice; forbid it, so that a seq scan
        # in the plan means no index could answer the statement.
        session.execute(text("SET LOCAL enable_seqscan = off"))
    connection = session.connection()
    for statement, parameters in seen:
        head = statement.lstrip().split(None, 1)[0].upper()
        if head not in ("SELECT", "UPDATE", "DELETE", "WITH") or not named.search(statement):
            continue
        explain = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
        rows = connection.exec_driver_sql(explain + statement, parameters).all()
        plan = [str(row[-1] if dialect == "sqlite" else row[0]) for row in rows]
        scan = re.compile(rf"(?:^|\s)(?:SCAN|Seq Scan on) (?:{tables})(?:\s|$)")
        scans += [f"{line}  <-  {statement[:120]}" for line in plan if scan.search(line)]
    if dialect == "postgresql":
        session.execute(text("SET LOCAL enable_seqscan = on"))
    return scans


def page_statements(api, username: str, path: str) -> dict[int, tuple[int, int]]:
    """{page size: (items on the page, statements run)} for a page of 2 and one of 20 of a
    list endpoint: a page's cost should not grow with its rows (issue 23)."""
    def one_page(page_size: int) -> tuple[int, int]:
        with Statements() as page:
            answer = api.get(username, f"{path}?page_size={page_size}")
        assert answer.status_code == 200, answer.get_json()
        return len(answer.get_json()["items"]), len(page.texts)

    one_page(1)  # signs in, and this worker reads the ended sign-ins
    return {size: one_page(size) for size in (2, 20)}
