"""On SQLite a request that only reads begins DEFERRED and reads beside a writer; one that
may write takes the write lock up front (backend/dbtypes.py, issue 23), after waiting its
turn in the writers' queue (backend/sqlite_writers.py): it holds the turn from its BEGIN
IMMEDIATE to its commit, a read takes none, and a BEGIN that fails gives the turn back.
The suite's other API tests run inside one outer transaction, so these use a database of
their own."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, event
from sqlalchemy.exc import OperationalError

from backend import dbtypes
from backend.dbtypes import make_sqlite_transactional, reads_only
from backend.sqlite_writers import QueuedWriterConnection, database_file, engine_options
from tests.conftest import DEMO_PASSWORD, database_url, seeded_app

pytestmark = pytest.mark.skipif(
    database_url("/unused").startswith("postgres"), reason="SQLite's transactions only")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("sqlite-reads")
    yield from seeded_app(data_dir, f"sqlite:///{data_dir}/reads.sqlite3")


@pytest.fixture(scope="module")
def headers(app):
    def sign_in(username: str) -> dict:
        answer = app.test_client().post("/api/auth/login", json={
            "username": username, "password": DEMO_PASSWORD})
        return {"Authorization": f"Bearer {answer.get_json()['access_token']}"}

    return sign_in


@contextmanager
def before_each_statement(app, listener):
    """``listener(statement)`` called before each statement the app's engine sends."""
    from backend.extensions import db

    def note(_conn, _cursor, statement, *_rest):
        listener(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", note)


def _begins(app, request) -> tuple[object, list[str]]:
    """The answer of ``request()`` and the BEGIN statements the database saw meanwhile."""
    seen: list[str] = []

    def note(statement: str) -> None:
        if statement.startswith("BEGIN"):
            seen.append(statement)

    with before_each_statement(app, note):
        return request(), seen


def test_a_read_begins_deferred_and_a_write_takes_the_lock(app, headers):
    reviewer = headers("wenping_reviewer")
    client = app.test_client()
    answer, begun = _begins(app, lambda: client.get("/api/cases", headers=reviewer))
    assert answer.status_code == 200 and begun == ["BEGIN"]
    answer, begun = _begins(app, lambda: client.post("/api/auth/login", json={
        "username": "wenping_fw1", "password": DEMO_PASSWORD}))
    assert answer.status_code == 200 and set(begun) == {"BEGIN IMMEDIATE"}


def test_a_read_answers_while_another_process_holds_the_write_lock(app, headers):
    """Before, every GET queued for the write lock behind the push holding it."""
    reviewer = headers("wenping_reviewer")
    writer = sqlite3.connect(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"),
                             isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        answer = app.test_client().get("/api/cases", headers=reviewer)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    # An IMMEDIATE begin would wait out busy_timeout for the lock, then answer 503.
    assert answer.status_code == 200, answer.get_json()


def test_a_get_route_that_writes_is_marked_and_takes_the_lock(app, headers):
    """The review export is audited (who exported what): it writes, so it begins IMMEDIATE."""
    reviewer = headers("wenping_reviewer")
    answer, begun = _begins(app, lambda: app.test_client().get(
        "/api/reviews/export.csv", headers=reviewer))
    assert answer.status_code == 200
    assert set(begun) == {"BEGIN IMMEDIATE"}, begun


def test_an_unmarked_write_in_a_read_only_transaction_fails_the_tests(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path}/strict.sqlite3")
    make_sqlite_transactional(engine, strict=True)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE note (text TEXT)")
    token = reads_only.set(True)
    try:
        with pytest.raises(RuntimeError, match="writes_on_read"), engine.begin() as connection:
            connection.exec_driver_sql("SELECT count(*) FROM note")
            connection.exec_driver_sql("INSERT INTO note VALUES ('x')")
    finally:
        reads_only.reset(token)
    engine.dispose()


def test_a_groups_values_come_back_exactly(tmp_path):
    """doorstep_values (dbtypes.SQLITE_VALUES): the dashboard's medians are taken in Python
    from these, so they must be the doubles SQLite held, not a rounded text of them."""
    from sqlalchemy import column, func, select, table

    from backend.dbtypes import SQLITE_VALUES, sqlite_values

    engine = create_engine(f"sqlite:///{tmp_path}/values.sqlite3")
    make_sqlite_transactional(engine)
    held = [0.1 + 0.2, 1 / 3, 1e-300, 2.5]
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE minute (grp TEXT, value REAL)")
        connection.exec_driver_sql("INSERT INTO minute VALUES (?, ?)",
                                   [("a", v) for v in held] + [("a", None), ("b", None)])
        minute = table("minute", column("grp"), column("value"))
        found = dict(connection.execute(
            select(minute.c.grp, getattr(func, SQLITE_VALUES)(minute.c.value))
            .group_by(minute.c.grp)).all())
    engine.dispose()
    assert list(sqlite_values(found["a"])) == held  # NULLs left out, every bit kept
    assert list(sqlite_values(found["b"])) == []


def test_a_replayed_push_reads_beside_the_writers_and_a_new_one_then_writes(app, monkeypatch):
    """The sync push is dbtypes.reads_first: its replay lookup begins DEFERRED. A batch of
    records already stored is answered without the write lock; one with a new record ends
    that read and begins IMMEDIATE before it writes."""
    from backend.outbox import relay
    from tests.conftest import Api
    from tests.device_keys import registered_key
    from tests.visit_factory import attest, submission

    # The outbox relay runs after each request in tests (immediate mode), in a transaction
    # of its own: not the push's.
    monkeypatch.setattr(relay, "drain", lambda: 0)
    api = Api(app.test_client())
    signers = [(api.user_id(user), *reversed(registered_key(api, user, f"{user}-reads")))
               for user in ("wenping_fw1", "wenping_fw2")]
    case = next(c for c in api.get("wenping_fw1", "/api/cases?assigned_to_me=true").get_json()[
        "items"] if c["kind"] != "extreme_poverty")
    record = submission(case)
    for user_id, key_id, pair in signers:
        attest(record, user_id, key_id, pair)
    body = {"device_id": "wenping_fw1-reads", "records": [record]}

    def push():
        return api.post("wenping_fw1", "/api/sync/push", json=body)

    answer, begun = _begins(app, push)
    assert answer.get_json()["results"][0]["status"] == "accepted"
    assert begun == ["BEGIN", "BEGIN IMMEDIATE"], begun
    answer, begun = _begins(app, push)
    assert answer.get_json()["results"][0]["status"] == "duplicate"
    assert begun == ["BEGIN"], begun


# --- the writers' queue ------------------------------------------------------------------

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
