"""SQLite writers wait their turn in a queue the kernel keeps, not in SQLite's sleeps.

SQLite lets one transaction write at a time. A second writer's BEGIN IMMEDIATE gets
SQLITE_BUSY, and the busy handler (``PRAGMA busy_timeout``) sleeps and tries again, sleeping
1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100 ms between tries. It cannot be woken when the
lock frees. So under a few gunicorn workers that all write, a writer that has lost four
tries sleeps 10 ms or more while the lock sits free, and some wait half a second. Issue 23
measured this: one visit per request on SQLite reached 124/s with a p99 of 470 ms, against
181/s and 133 ms on PostgreSQL, on the same machine and the same code.

Each connection here opens its own descriptor on a lock file beside the database, and takes
an exclusive ``flock`` on it before BEGIN IMMEDIATE. It gives the lock up when its
transaction commits or rolls back. A waiter polls the lock every 0.5 to 2 ms, so it starts
within about 2 ms of the lock freeing, instead of up to 100 ms. The kernel drops the lock of
a process that dies, so a killed worker leaves no lock behind.

Python's ``sqlite3`` module has no way to set SQLite's busy handler, which would be the
direct fix (apsw has it, but changing the driver under SQLAlchemy is a far larger step).
The waiter polls, rather than blocking in ``flock``, because a blocking ``flock`` cannot time
out. After the busy timeout it stops waiting and sends BEGIN IMMEDIATE anyway. SQLite's own
handler then answers as it did before this module: any case that would deadlock here
already failed with "database is locked". Processes that do not use this queue (the
``sqlite3`` shell, a backup tool) still get SQLite's own handler.

Only transactions that may write queue here. A read-only request begins DEFERRED
(``dbtypes.make_sqlite_transactional``), and in WAL mode it reads beside the writer.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from collections.abc import Mapping
from typing import Any

# Between tries: short enough that a freed lock is taken within a couple of milliseconds,
# long enough that three waiting workers cost nothing measurable in CPU.
_FIRST_PAUSE_S = 0.0005
_LONGEST_PAUSE_S = 0.002


def lock_path_of(database_file: str) -> str:
    """The lock file of a database file: beside it, as SQLite keeps its -wal and -shm."""
    return f"{database_file}-writers"


class QueuedWriterConnection(sqlite3.Connection):
    """A pysqlite connection that waits for its turn to write (``sqlite3.connect``'s
    ``factory``). ``take_write_turn`` before BEGIN IMMEDIATE; the turn ends on commit,
    rollback or close, after SQLite has released its own lock."""

    _lock_fd: int | None = None
    _holds_turn: bool = False

    def join_writers_queue(self, database_file: str) -> None:
        """Open this connection's own descriptor on the lock file. Called once, when the
        connection is made. An in-memory or temporary database has no file: no queue."""
        if not database_file or self._lock_fd is not None:
            return
        self._lock_fd = os.open(lock_path_of(database_file), os.O_RDWR | os.O_CREAT, 0o600)

    def take_write_turn(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for the write lock of the queue: True when it is this
        connection's turn (or there is no queue), False when the wait timed out (the caller
        begins anyway and SQLite's busy handler takes over)."""
        if self._lock_fd is None or self._holds_turn:
            return True
        deadline = time.monotonic() + timeout_s
        pause = _FIRST_PAUSE_S
        while True:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(pause)
                pause = min(pause * 2, _LONGEST_PAUSE_S)
                continue
            self._holds_turn = True
            return True

    def end_write_turn(self) -> None:
        if self._holds_turn and self._lock_fd is not None:
            self._holds_turn = False
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.end_write_turn()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.end_write_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.end_write_turn()
            self._close_lock_file()

    def __del__(self) -> None:
        # Collected without close() (the pool dropping a connection a gunicorn worker
        # inherited at fork): close the descriptor only. Unlocking here could release a
        # lock the parent holds through the same open file.
        self._close_lock_file()

    def _close_lock_file(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def engine_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """``SQLALCHEMY_ENGINE_OPTIONS`` for a SQLite database: its connections queue to write."""
    connect_args = {**options.get("connect_args", {}), "factory": QueuedWriterConnection}
    return {**options, "connect_args": connect_args}


def database_file(connection: sqlite3.Connection) -> str:
    """The main database's file, '' for an in-memory or temporary one."""
    for _seq, name, file in connection.execute("PRAGMA database_list"):
        if name == "main":
            return file or ""
    return ""
