"""On SQLite the app's writers queue for the write lock (backend/sqlite_writers.py): a
request that may write holds its turn from its BEGIN IMMEDIATE to its commit, a read takes
none, and a BEGIN that fails gives the turn back. These use a database of their own: the
suite's other API tests run inside one outer transaction."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

from backend import dbtypes
from backend.sqlite_writers import QueuedWriterConnection, database_file, engine_options
from tests.api.test_sqlite_reads import before_each_statement
from tests.conftest import DEMO_PASSWORD, database_url, seeded_app

pytestmark = pytest.mark.skipif(
    database_url("/unused").startswith("postgres"), reason="SQLite's write lock only")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("sqlite-writers")
    yield from seeded_app(data_dir, f"sqlite:///{data_dir}/writers.sqlite3")


def _other_writer(path: str) -> QueuedWriterConnection:
    connection = sqlite3.connect(path, factory=QueuedWriterConnection, isolation_level=None)
    assert isinstance(connection, QueuedWriterConnection)
    connection.join_writers_queue(database_file(connection))
    return connection


def _turn_free_during_statements(app, request) -> tuple[object, set[bool]]:
    """The answer of ``request()`` and, for each statement it sent, whether another writer
    could have taken the turn at that moment."""
    other = _other_writer(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    free: set[bool] = set()

    def probe(_statement: str) -> None:
        free.add(other.take_write_turn(timeout_s=0))
        other.end_write_turn()

    try:
        with before_each_statement(app, probe):
            return request(), free
    finally:
        other.close()


def test_the_apps_sqlite_connections_queue_to_write(app):
    from backend.extensions import db

    with app.app_context():
        with db.engine.connect() as connection:
            assert isinstance(connection.connection.dbapi_connection, QueuedWriterConnection)


def test_a_write_holds_the_turn_to_its_commit_and_a_read_takes_none(app):
    client = app.test_client()
    answer, free = _turn_free_during_statements(app, lambda: client.post(
        "/api/auth/login", json={"username": "wenping_fw1", "password": DEMO_PASSWORD}))
    assert answer.status_code == 200 and free == {False}
    token = answer.get_json()["access_token"]
    # The commit ended the turn: another writer may begin now.
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    after = _other_writer(path)
    assert after.take_write_turn(timeout_s=0)
    after.close()
    answer, free = _turn_free_during_statements(app, lambda: client.get(
        "/api/cases", headers={"Authorization": f"Bearer {token}"}))
    assert answer.status_code == 200 and free == {True}


def test_a_begin_that_fails_gives_the_turn_back(tmp_path, monkeypatch):
    """Another program (the sqlite3 shell) holds SQLite's lock outside the queue: the
    request's BEGIN IMMEDIATE fails as busy, and must not keep every other writer out."""
    monkeypatch.setattr(dbtypes, "SQLITE_BUSY_TIMEOUT_MS", 50)
    path = str(tmp_path / "busy.sqlite3")
    engine = create_engine(f"sqlite:///{path}", **engine_options({}))
    dbtypes.make_sqlite_transactional(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE note (text TEXT)")
    outsider = sqlite3.connect(path, isolation_level=None)
    outsider.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(OperationalError, match="locked"), engine.begin() as connection:
            connection.exec_driver_sql("INSERT INTO note VALUES ('x')")
    finally:
        outsider.execute("ROLLBACK")
        outsider.close()
    other = _other_writer(path)
    assert other.take_write_turn(timeout_s=0)
    other.close()
    engine.dispose()
