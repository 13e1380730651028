"""backend.bulk's IN list for statements built once: the same rows on both databases, and on
PostgreSQL one array parameter, so a thousand ids make the same SQL text as one."""

from __future__ import annotations

from sqlalchemy import select

from backend.bulk import any_of
from backend.extensions import db
from backend.households.models import Household
from tests.api.query_plans import Statements, table_scans

STATEMENT = select(Household.id).where(any_of(Household.id)).order_by(Household.id)


def test_any_of_selects_the_listed_rows_and_nothing_for_an_empty_list(app, db_session):
    ids = sorted(db_session.scalars(select(Household.id)))[:3]
    assert len(ids) == 3
    with app.app_context():
        assert db.session.scalars(STATEMENT, {"ids": [*ids, "no-such-id"]}).all() == ids
        assert db.session.scalars(STATEMENT, {"ids": []}).all() == []


def test_any_of_reads_by_the_index_and_its_text_does_not_grow_with_the_list(app, db_session):
    ids = sorted(db_session.scalars(select(Household.id)))
    with app.app_context():
        with Statements() as one:
            db.session.scalars(STATEMENT, {"ids": ids[:1]}).all()
        with Statements() as many:
            db.session.scalars(STATEMENT, {"ids": ids + [f"x{n}" for n in range(1000)]}).all()
        if db.engine.dialect.name == "postgresql":
            assert one.texts == many.texts and "ANY" in one.texts[0]
        else:  # SQLite: an expanding IN, one placeholder a value
            assert many.texts[0].count("?") == len(ids) + 1000
        assert table_scans(db.session, many.seen, "household") == []
