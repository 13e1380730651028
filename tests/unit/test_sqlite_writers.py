"""SQLite writers queue for the write lock on a file lock (backend/sqlite_writers.py): a
connection holds its turn from before BEGIN IMMEDIATE until its transaction ends, and no
other connection (thread or process) gets a turn meanwhile. No Flask, no SQLAlchemy."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading

import pytest

from backend.sqlite_writers import QueuedWriterConnection, database_file, lock_path_of


def _connect(path) -> QueuedWriterConnection:
    connection = sqlite3.connect(path, factory=QueuedWriterConnection, isolation_level=None,
                                 check_same_thread=False)
    assert isinstance(connection, QueuedWriterConnection)
    connection.join_writers_queue(database_file(connection))
    return connection


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "queue.sqlite3"
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE note (text TEXT)")
    setup.close()
    return path


@pytest.mark.parametrize("end", ["commit", "rollback", "close"])
def test_a_turn_is_one_writers_until_its_transaction_ends(database, end):
    first, second = _connect(database), _connect(database)
    assert first.take_write_turn(timeout_s=0)
    first.execute("BEGIN IMMEDIATE")
    first.execute("INSERT INTO note VALUES ('first')")
    assert not second.take_write_turn(timeout_s=0.02)  # waited, and gave up
    getattr(first, end)()
    assert second.take_write_turn(timeout_s=0)
    second.execute("BEGIN IMMEDIATE")
    second.commit()
    second.close()
    if end != "close":
        first.close()


def test_a_waiting_writer_begins_after_the_holder_commits(database):
    """The waiter is let in by the commit, and then sees what was committed."""
    holder, waiter = _connect(database), _connect(database)
    assert holder.take_write_turn(timeout_s=0)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO note VALUES ('held')")
    waiting, seen = threading.Event(), []

    def write_after_the_holder() -> None:
        waiting.set()
        seen.append(waiter.take_write_turn(timeout_s=30))
        waiter.execute("BEGIN IMMEDIATE")
        seen.append(waiter.execute("SELECT count(*) FROM note").fetchone()[0])
        waiter.commit()

    thread = threading.Thread(target=write_after_the_holder)
    thread.start()
    assert waiting.wait(30)
    holder.commit()
    thread.join(30)
    assert seen == [True, 1]
    holder.close()
    waiter.close()


def test_a_turn_is_taken_once_however_often_it_is_asked_for(database):
    connection, other = _connect(database), _connect(database)
    assert connection.take_write_turn(timeout_s=0)
    assert connection.take_write_turn(timeout_s=0)
    connection.rollback()  # one end frees it
    assert other.take_write_turn(timeout_s=0)
    other.close()
    connection.close()


def test_the_lock_of_a_killed_process_is_gone_with_it(database):
    """A gunicorn worker killed mid-write must not leave every other worker waiting."""
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import fcntl, os, sys, time
        fd = os.open({lock_path_of(str(database))!r}, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        print("held", flush=True)
        time.sleep(600)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        connection = _connect(database)
        assert not connection.take_write_turn(timeout_s=0.02)
        holder.kill()
        holder.wait(30)
        assert connection.take_write_turn(timeout_s=5)
        connection.close()
    finally:
        holder.kill()
        holder.wait(30)
        if holder.stdout is not None:
            holder.stdout.close()


def test_an_in_memory_database_has_no_queue(tmp_path):
    connection = sqlite3.connect(":memory:", factory=QueuedWriterConnection)
    assert database_file(connection) == ""
    connection.join_writers_queue(database_file(connection))
    assert connection.take_write_turn(timeout_s=0)  # nothing to wait for: begin at once
    connection.close()
    assert list(tmp_path.iterdir()) == []
