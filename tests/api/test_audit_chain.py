"""The audit trail is a hash chain; `flask verify-audit` names the first row that breaks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, func, select, text, update

from backend.audit import rules
from backend.audit.models import AuditChainHead, AuditEvent

ROOT = Path(__file__).resolve().parents[2]


def test_canonical_row_is_stable_and_covers_every_field():
    fields = {name: None for name in rules.HASHED_FIELDS}
    fields.update(id=7, chain_seq=3, at=datetime(2026, 11, 26, 1, 2, 3, 4, tzinfo=UTC),
                  action="case.created", object_type="case", object_id="c1",
                  after={"b": 1, "a": "甲"})
    digest = rules.row_hash(rules.GENESIS_HASH, fields)
    assert digest == rules.row_hash(rules.GENESIS_HASH, dict(reversed(list(fields.items()))))
    for name in rules.HASHED_FIELDS:
        changed = {**fields, name: "x" if fields[name] != "x" else "y"}
        assert rules.row_hash(rules.GENESIS_HASH, changed) != digest, name
    assert rules.row_hash("1" * 64, fields) != digest


def _head(db_session) -> int:
    db_session.expire_all()
    return db_session.get(AuditChainHead, 1).last_seq


def _verify(app, since):
    return app.test_cli_runner().invoke(args=["verify-audit", "--since", str(since)])


def _make_rows(api):
    for _ in range(3):
        api.login("nobody-at-all", "guess-guess-1")
    api.tokens("wenping_fw1")


def _chained(db_session, since):
    return db_session.scalars(select(AuditEvent).where(AuditEvent.chain_seq > since)
                              .order_by(AuditEvent.chain_seq)).all()


def test_rows_are_chained_when_their_transaction_commits(app, api, db_session):
    since = _head(db_session)
    _make_rows(api)
    rows = _chained(db_session, since)
    assert len(rows) >= 4
    assert [row.chain_seq for row in rows] == list(range(since + 1, since + 1 + len(rows)))
    assert all(row.row_hash and len(row.row_hash) == 64 for row in rows)
    assert all(b.prev_hash == a.row_hash for a, b in zip(rows, rows[1:], strict=False))
    result = _verify(app, since)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK")


def test_a_changed_field_is_named(app, api, db_session):
    since = _head(db_session)
    _make_rows(api)
    victim = _chained(db_session, since)[1]
    db_session.execute(update(AuditEvent).where(AuditEvent.id == victim.id)
                       .values(ip="10.9.9.9"))
    result = _verify(app, since)
    assert result.exit_code == 1
    assert f"row id {victim.id} at {victim.at.isoformat()}" in result.output
    assert "changed" in result.output


def test_a_deleted_row_is_named_by_the_row_after_it(app, api, db_session):
    since = _head(db_session)
    _make_rows(api)
    rows = _chained(db_session, since)
    db_session.execute(delete(AuditEvent).where(AuditEvent.id == rows[1].id))
    result = _verify(app, since)
    assert result.exit_code == 1
    assert f"row id {rows[2].id}" in result.output


def test_reordered_rows_are_named(app, api, db_session):
    since = _head(db_session)
    _make_rows(api)
    first, second = _chained(db_session, since)[:2]
    seq_one, seq_two = first.chain_seq, second.chain_seq
    db_session.execute(update(AuditEvent).where(AuditEvent.id == first.id).values(chain_seq=-1))
    db_session.execute(update(AuditEvent).where(AuditEvent.id == second.id)
                       .values(chain_seq=seq_one))
    db_session.execute(update(AuditEvent).where(AuditEvent.id == first.id)
                       .values(chain_seq=seq_two))
    result = _verify(app, since)
    assert result.exit_code == 1
    assert f"row id {second.id}" in result.output


def test_deleting_the_newest_rows_shows(app, api, db_session):
    since = _head(db_session)
    _make_rows(api)
    newest = _chained(db_session, since)[-1]
    db_session.execute(delete(AuditEvent).where(AuditEvent.id == newest.id))
    result = _verify(app, since)
    assert result.exit_code == 1
    assert "ends early" in result.output


def test_rows_are_linked_at_the_commit_not_when_a_savepoint_is_released(app, db_session):
    """A sync push releases a SAVEPOINT per record; the head's lock waits for the commit,
    and the rows go in then, already linked (ADR 0005)."""
    from backend.audit import service as audit

    def saved(object_id):
        return db_session.scalars(select(AuditEvent).where(
            AuditEvent.action == "test.savepoint", AuditEvent.object_id == object_id)).all()

    with app.test_request_context():
        since = _head(db_session)
        with db_session.begin_nested():
            audit.record("test.savepoint", "test", "one")
        with db_session.begin_nested():
            audit.record("test.savepoint", "test", "two")
        db_session.flush()
        assert (saved("one"), saved("two")) == ([], [])
        assert [e.object_id for e in audit.events_for("test", "two")] == ["two"]
        assert _head(db_session) == since
        db_session.commit()
        assert [(row.object_id, row.chain_seq) for row in saved("one") + saved("two")] == [
            ("one", since + 1), ("two", since + 2)]
    result = _verify(app, since)
    assert result.exit_code == 0, result.output


def test_a_savepoint_rolled_back_takes_its_rows_out_of_the_chain(app, db_session):
    from backend.audit import service as audit

    with app.test_request_context():
        since = _head(db_session)
        audit.record("test.savepoint", "test", "kept")
        try:
            with db_session.begin_nested():
                audit.record("test.savepoint", "test", "undone")
                raise LookupError("undo")
        except LookupError:
            pass
        db_session.commit()
        rows = _chained(db_session, since)
        assert [row.object_id for row in rows] == ["kept"]
    result = _verify(app, since)
    assert result.exit_code == 0, result.output


def test_nested_savepoints_keep_only_the_rows_of_what_was_kept(app, db_session):
    """Rows wait for the commit per SAVEPOINT: a released one hands its rows to the one
    around it, so rolling that one back drops them too."""
    from backend.audit import service as audit

    with app.test_request_context():
        since = _head(db_session)
        with db_session.begin_nested():
            audit.record("test.savepoint", "test", "outer")
            try:
                with db_session.begin_nested():
                    audit.record("test.savepoint", "test", "inner-undone")
                    raise LookupError("undo")
            except LookupError:
                pass
        try:
            with db_session.begin_nested():
                with db_session.begin_nested():
                    audit.record("test.savepoint", "test", "released-then-undone")
                raise LookupError("undo")
        except LookupError:
            pass
        db_session.commit()
        assert [row.object_id for row in _chained(db_session, since)] == ["outer"]
    result = _verify(app, since)
    assert result.exit_code == 0, result.output


def test_rows_added_as_objects_and_recorded_rows_share_the_chain(app, db_session):
    """A row added as an AuditEvent object is in the table before the commit, unlinked;
    the commit links it, then inserts the recorded rows after it."""
    from backend.audit import service as audit

    with app.test_request_context():
        since = _head(db_session)
        db_session.add(AuditEvent(at=datetime.now(UTC), action="test.object",
                                  object_type="test", object_id="added"))
        db_session.flush()
        audit.record("test.savepoint", "test", "recorded")
        db_session.commit()
        assert [row.object_id for row in _chained(db_session, since)] == ["added", "recorded"]
    result = _verify(app, since)
    assert result.exit_code == 0, result.output


def test_savepoints_rolled_back_take_object_rows_and_recorded_rows_alike(app, db_session):
    """Rows added as objects are in the table (the SAVEPOINT's rollback removes them), the
    recorded ones wait in the session (dropped with it): either way no link dangles."""
    from backend.audit import service as audit

    def added(object_id):
        db_session.add(AuditEvent(at=datetime.now(UTC), action="test.object",
                                  object_type="test", object_id=object_id))
        db_session.flush()

    with app.test_request_context():
        since = _head(db_session)
        added("object-kept")
        try:
            with db_session.begin_nested():
                added("object-undone")
                audit.record("test.savepoint", "test", "recorded-undone")
                raise LookupError("undo")
        except LookupError:
            pass
        with db_session.begin_nested():
            audit.record("test.savepoint", "test", "recorded-kept")
            added("object-in-savepoint-kept")
        db_session.commit()
        rows = _chained(db_session, since)
        assert [row.object_id for row in rows] == [
            "object-kept", "object-in-savepoint-kept", "recorded-kept"]
        assert [row.chain_seq for row in rows] == [since + 1, since + 2, since + 3]
    result = _verify(app, since)
    assert result.exit_code == 0, result.output


def test_a_rollback_or_a_failed_commit_leaves_no_gap(app, db_session, monkeypatch):
    """Rows waiting for the commit go with a rollback. The rows, their links and the head's
    move are in the transaction: a commit that fails once they are written takes all of
    them back, and the next commit continues the chain from the same place (no position
    skipped, no row left waiting)."""
    from backend.audit import service as audit

    linked = audit.chain_pending

    def link_then_fail(session):
        linked(session)
        raise RuntimeError("the commit fails after the rows were linked")

    with app.test_request_context():
        since = _head(db_session)
        audit.record("test.failed-commit", "test", "rolled-back")
        db_session.rollback()
        audit.record("test.failed-commit", "test", "lost")
        db_session.add(AuditEvent(at=datetime.now(UTC), action="test.failed-commit",
                                  object_type="test", object_id="lost-object"))
        monkeypatch.setattr(audit, "chain_pending", link_then_fail)
        with pytest.raises(RuntimeError):
            db_session.commit()
        db_session.rollback()
        monkeypatch.setattr(audit, "chain_pending", linked)
        assert _head(db_session) == since
        audit.record("test.failed-commit", "test", "kept")
        db_session.commit()
        rows = _chained(db_session, since)
        assert [(row.object_id, row.chain_seq) for row in rows] == [("kept", since + 1)]
        assert db_session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "test.failed-commit", AuditEvent.object_id != "kept")) == 0
    result = _verify(app, since)
    assert result.exit_code == 0, result.output


@dataclass(frozen=True)
class _Noted:
    object_id: str


def _audit_noted(event: _Noted) -> None:
    from backend.audit import service as audit

    audit.record("test.noted", "test", event.object_id)


def test_audit_rows_of_event_handlers_run_at_the_commit_are_chained(app, db_session):
    """Events left for the commit are handled before the chain links (both before_commit)."""
    from backend import events

    events.subscribe(_Noted, _audit_noted)
    with app.test_request_context():
        since = _head(db_session)
        events.raise_(_Noted("at-commit"))
        db_session.commit()
        rows = _chained(db_session, since)
        assert [row.object_id for row in rows] == ["at-commit"]
        assert db_session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.chain_seq.is_(None))) == 0


def test_concurrent_writers_build_one_unbroken_chain(app):
    """Threads committing audit rows at once never link two rows to the same predecessor."""
    from backend.auth.throttle import limiter
    from backend.extensions import db

    with app.app_context():
        since = db.session.get(AuditChainHead, 1).last_seq
    barrier = threading.Barrier(6, timeout=60)
    statuses = []

    def write(n):
        client = app.test_client()
        barrier.wait()
        for _ in range(2):
            statuses.append(client.post("/api/auth/login", json={
                "username": f"nobody-{n}", "password": "guess-guess-1"},
                environ_base={"REMOTE_ADDR": f"192.0.2.{n + 1}"}).status_code)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    limiter.reset()
    assert statuses == [401] * 12
    with app.app_context():
        report = __import__("backend.audit.service", fromlist=["verify_chain"]).verify_chain(
            since)
        assert report.is_intact, report.broken
        assert report.rows >= 12
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.chain_seq.is_(None))) == 0


def test_a_writer_waiting_for_the_head_links_after_the_one_holding_it(app):
    """Two sessions commit audit rows at the same moment (real commits, two connections).
    The first is held just after it took the head; the second must wait for it (PostgreSQL:
    the head's row lock, re-read once the first commits; SQLite: the write lock of BEGIN
    IMMEDIATE), then continue the chain from the first's last row: no position or previous
    hash taken twice, rows recorded and rows added as objects alike."""
    from sqlalchemy import event as sa_event

    from backend.audit import service as audit
    from backend.extensions import db

    with app.app_context():
        since = db.session.get(AuditChainHead, 1).last_seq
        engine = db.engine
    holder: list[int] = []
    head_taken, let_go, second_done = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold_after_head(_conn, _cursor, statement, *_args):
        if threading.get_ident() in holder and statement.lstrip().upper().startswith(
                "SELECT") and "audit_chain_head" in statement:
            head_taken.set()
            let_go.wait(timeout=30)

    def commit_rows(name: str, done: threading.Event | None = None) -> None:
        try:
            with app.app_context():
                audit.record("test.concurrent", "test", f"{name}-recorded")
                db.session.add(AuditEvent(at=datetime.now(UTC), action="test.concurrent",
                                          object_type="test", object_id=f"{name}-object"))
                audit.record_many([{"action": "test.concurrent", "object_type": "test",
                                    "object_id": f"{name}-batch-{n}"} for n in range(3)])
                db.session.commit()
        except BaseException as error:  # reported by the test below
            errors.append(error)
        finally:
            if done is not None:
                done.set()

    def first() -> None:
        holder.append(threading.get_ident())
        commit_rows("first")

    sa_event.listen(engine, "after_cursor_execute", hold_after_head)
    try:
        one = threading.Thread(target=first)
        one.start()
        assert head_taken.wait(timeout=30), "the first writer never took the head"
        two = threading.Thread(target=commit_rows, args=("second", second_done))
        two.start()
        assert not second_done.wait(timeout=1.0), "the second writer did not wait for the head"
        let_go.set()
        one.join(timeout=60)
        two.join(timeout=60)
    finally:
        let_go.set()
        sa_event.remove(engine, "after_cursor_execute", hold_after_head)
    assert errors == []
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "test.concurrent", AuditEvent.chain_seq > since)
            .order_by(AuditEvent.chain_seq)).all()
        names = [row.object_id for row in rows]
        assert sorted(names) == sorted(f"{who}-{what}" for who in ("first", "second")
                                       for what in ("recorded", "object", "batch-0",
                                                    "batch-1", "batch-2"))
        # The first's five rows, then the second's five, the second linked to the first's last.
        assert all(name.startswith("first") for name in names[:5]), names
        assert rows[5].prev_hash == rows[4].row_hash
        assert len({row.prev_hash for row in rows}) == len(rows)
        report = audit.verify_chain(since)
        assert report.is_intact, report.broken
        assert report.last_seq == db.session.get(AuditChainHead, 1).last_seq


# The whole trail, through the migration that chains rows written before it --------------

def flask(*args, env, input=None):
    return subprocess.run([sys.executable, "-m", "flask", "--app", "backend", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
                          input=input)


@pytest.fixture
def empty_database(tmp_path):
    url = os.environ.get("DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path}/audit.sqlite3"
        return
    from backend.config import sqlalchemy_url

    engine = create_engine(sqlalchemy_url(url))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS audit_chain_check CASCADE"))
        connection.execute(text("CREATE SCHEMA audit_chain_check"))
    separator = "&" if "?" in url else "?"
    yield f"{url}{separator}options=-csearch_path%3Daudit_chain_check"
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS audit_chain_check CASCADE"))
    engine.dispose()


def test_verify_audit_over_an_upgraded_database(empty_database, tmp_path):
    from backend.config import sqlalchemy_url

    env = {**os.environ, "DATABASE_URL": empty_database, "PYTHONPATH": str(ROOT)}
    assert flask("db", "upgrade", "2642acaa0edc", env=env).returncode == 0
    engine = create_engine(sqlalchemy_url(empty_database))
    with engine.begin() as connection:  # rows written before the chain existed
        for n in range(3):
            connection.execute(text(
                "INSERT INTO audit_event (at, action, object_type, object_id, after) "
                "VALUES (:at, 'legacy.event', 'thing', :oid, :after)"),
                {"at": datetime(2026, 1, 1, 8, n, tzinfo=UTC), "oid": f"t{n}",
                 "after": f'{{"n": {n}}}'})
    try:
        upgraded = flask("db", "upgrade", env=env)
        assert upgraded.returncode == 0, upgraded.stderr
        # Rows the app writes after the upgrade, chained after the legacy ones: an import
        # audits itself (the demo seed did too, with 30 production-cost password hashes).
        places = tmp_path / "places.csv"
        places.write_text("code,name,parent_code\n530621,鲁甸县,\n530621100,文屏镇,530621\n",
                          encoding="utf-8")
        imported = flask("import-jurisdictions", str(places), env=env)
        assert imported.returncode == 0, imported.stderr
        ok = flask("verify-audit", env=env)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert ok.stdout.startswith("OK")
        chained = int(re.match(r"OK: (\d+) audit rows chained", ok.stdout).group(1))
        assert chained == 4, ok.stdout  # the three legacy rows, then the import's own
        with engine.begin() as connection:
            target = connection.execute(text(
                "SELECT id, at FROM audit_event WHERE object_id = 't1'")).one()
            connection.execute(text("UPDATE audit_event SET object_id = 't9' WHERE id = :id"),
                               {"id": target.id})
        broken = flask("verify-audit", env=env)
        assert broken.returncode == 1
        assert f"row id {target.id}" in broken.stderr
    finally:
        engine.dispose()


def test_cli_password_commands_read_the_password_from_stdin_never_argv(app):
    from backend.auth import service as auth

    runner = app.test_cli_runner()
    for command in ("create-user", "change-password", "reset-password"):
        params = {p.name for p in app.cli.get_command(None, command).params}
        assert "password" not in params and "new_password" not in params, command
    with app.app_context():
        reset = runner.invoke(args=["reset-password", "--username", "longtoushan_fw3"],
                              input="cli-reset-pass-1\ncli-reset-pass-1\n")
        assert reset.exit_code == 0, reset.output
        assert "cli-reset-pass-1" not in reset.output
        user = auth.find_by_username("longtoushan_fw3")
        from backend.auth.passwords import verify_password

        assert verify_password(user.password_hash, "cli-reset-pass-1")
        mismatch = runner.invoke(args=["change-password", "--username", "longtoushan_fw3"],
                                 input="cli-reset-pass-1\nanother-pass-22\ntypo-pass-22\n"
                                       "another-pass-22\nanother-pass-22\n")
        assert mismatch.exit_code == 0, mismatch.output
        user = auth.find_by_username("longtoushan_fw3")
        assert verify_password(user.password_hash, "another-pass-22")
        wrong = runner.invoke(args=["change-password", "--username", "longtoushan_fw3"],
                              input="not-the-password\nanother-pass-33\nanother-pass-33\n")
        assert wrong.exit_code != 0
        back = runner.invoke(args=["reset-password", "--username", "longtoushan_fw3"],
                             input="demo-pass-2026\ndemo-pass-2026\n")
        assert back.exit_code == 0, back.output


def test_a_request_writing_an_audit_row_moves_the_head_in_the_same_statement_on_postgres(
        api, db_session):
    """Issue 23: PostgreSQL inserts a request's few audit rows in the statement that moves
    the chain's head (a data-modifying CTE); SQLite has no such statement and sends two."""
    from tests.api.query_plans import Statements

    access = api.login("wenping_fw1").get_json()["access_token"]
    with Statements() as signing_out:
        assert api.client.post("/api/auth/logout",
                               headers={"Authorization": f"Bearer {access}"}).status_code == 204
    writes = [text for text in signing_out.texts
              if ("audit_event" in text and "INSERT" in text) or "UPDATE audit_chain_head" in text]
    if db_session.get_bind().dialect.name == "postgresql":
        assert len(writes) == 1, writes
        assert re.match(r"WITH audit_row_0 AS\s*\(INSERT INTO audit_event", writes[0]), writes
        assert "UPDATE audit_chain_head" in writes[0]
    else:
        assert len(writes) == 2, writes
    from backend.audit.service import verify_chain

    report = verify_chain()
    assert report.is_intact, report.broken


def test_a_push_writes_its_audit_rows_with_the_head_in_one_cached_statement(api, db_session):
    """A visit pushed alone writes several audit rows (the visit, its review): on PostgreSQL
    they go in with the head's move, one statement built once per number of rows (a
    multi-row VALUES could not be cached, and was compiled on every request)."""
    from backend.audit import service
    from tests.api.query_plans import Statements
    from tests.api.test_sync import assigned_case
    from tests.visit_factory import submission

    record = submission(assigned_case(api))
    with Statements() as pushing:
        answer = api.post("wenping_fw1", "/api/sync/push",
                          json={"device_id": "device-audit-1", "records": [record]})
    assert answer.get_json()["results"][0]["status"] == "accepted"
    inserts = [t for t in pushing.texts if "INSERT INTO audit_event" in t]
    if db_session.get_bind().dialect.name == "postgresql":
        assert len(inserts) == 1 and "UPDATE audit_chain_head" in inserts[0], inserts
        assert inserts[0].count("INSERT INTO audit_event") >= 2, inserts  # rows beside the head
    keys = ("at", "actor_id", "action", "object_type", "object_id", "jurisdiction_code",
            "before", "after", "request_id", "ip", "user_agent", "device_id", "id",
            "chain_seq", "prev_hash", "row_hash")
    for count in range(1, service.ROWS_WITH_THE_HEAD + 1):
        assert service._move_head_with_rows(count, keys)._generate_cache_key() is not None
    report = service.verify_chain()
    assert report.is_intact, report.broken

