"""backend.bulk's IN list for statements built once: the same rows on both databases, and on
PostgreSQL one array parameter, so a thousand ids make the same SQL text as one."""

from __future__ import annotations

from sqlalchemy import func, select

from backend.bulk import any_of, insert_skipping_conflicts
from backend.cases.models import CaseNumberCounter
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


def test_insert_skipping_conflicts_counts_the_new_rows_in_one_short_statement(app, db_session):
    """The count a batch insert relies on to find rows another request stored meanwhile
    (visits/service.StoredMeanwhile), on both drivers; and no VALUES list that grows with
    the batch (psycopg parsed each anew), but one statement text for 2 rows or 1,000."""
    def rows(years):
        return [{"township_code": "bulk-test", "year": year, "kind": "dibao", "last_seq": 0}
                for year in years]

    with app.app_context():
        with Statements() as few:
            assert insert_skipping_conflicts(CaseNumberCounter, rows([1, 2])) == 2
        with Statements() as many:
            assert insert_skipping_conflicts(CaseNumberCounter, rows(range(1, 1001))) == 998
        assert insert_skipping_conflicts(CaseNumberCounter, rows([5, 2000])) == 1
        assert insert_skipping_conflicts(CaseNumberCounter, []) == 0
        # (the first holds the test session's SAVEPOINT too)
        assert few.texts[-1] == many.texts[-1] and len(many.texts) == 1
        assert "RETURNING" not in many.texts[0].upper()
        assert db.session.scalar(select(func.count()).select_from(CaseNumberCounter).where(
            CaseNumberCounter.township_code == "bulk-test")) == 1001
