"""The e2e live server closes every file it sends, even one the browser walked away from.

Werkzeug's development server closes a response only after draining the socket, and on a
reset connection that drain raises first: the static file a browser stopped downloading was
left to the garbage collector, and its ResourceWarning failed an unrelated e2e test in a
flake hunt (tests/e2e/conftest.py ``_closing``). No browser here: a socket that resets is
what a browser navigating away does.
"""

from __future__ import annotations

import io
import socket
import struct
import time
from datetime import timedelta

import pytest
from flask import Flask, send_file

from tests.e2e.conftest import LiveServer, _free_port

pytestmark = pytest.mark.e2e

BODY = b"x" * 2_000_000  # more than the socket buffers hold: the send is cut off midway


class TrackedFile(io.BytesIO):
    """Kept alive by ``opened``, so only the server's own close() closes it (a collected
    file is closed by its finaliser, which would hide the leak)."""

    opened: list[TrackedFile] = []

    def __init__(self, data: bytes):
        super().__init__(data)
        TrackedFile.opened.append(self)


def _app() -> Flask:
    app = Flask(__name__)

    @app.get("/big.js")
    def big():
        return send_file(TrackedFile(BODY), mimetype="text/javascript")

    return app


def _abort_download(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(b"GET /big.js HTTP/1.1\r\nHost: x\r\n\r\n")
        connection.recv(1000)
        # Reset the connection, as a browser does when it navigates away mid-download.
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_every_abandoned_download_has_its_file_closed():
    TrackedFile.opened = []
    server = LiveServer(_app(), _free_port())
    server.start()
    try:
        for _ in range(40):
            _abort_download(int(server.url.rsplit(":", 1)[1]))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (
                len(TrackedFile.opened) == 40 and all(f.closed for f in TrackedFile.opened)):
            time.sleep(0.05)  # the server's threads end on their own: nothing else to wait on
    finally:
        server.stop()
    assert len(TrackedFile.opened) == 40
    assert [f.closed for f in TrackedFile.opened] == [True] * 40
    TrackedFile.opened = []


def test_each_module_serves_its_own_copy_of_the_day_s_seeded_database(tmp_path):
    """The seeded database is made once per worker and day, then copied for each module's
    server (tests/e2e/conftest.py): a module's writes never reach the template or another
    module's copy, and a new day in Shanghai seeds anew (the seed dates cases from today)."""
    import sqlite3

    from backend import clock
    from tests.e2e.conftest import _keep_as_template, _seeded_database

    templates = {"directory": tmp_path}
    first = tmp_path / "first.sqlite3"
    assert not _seeded_database(templates, first)  # none yet: the first module seeds
    with sqlite3.connect(first) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE seeded (n INTEGER)")
        db.execute("INSERT INTO seeded VALUES (1)")
    _keep_as_template(templates, first)
    db.close()

    second, third = tmp_path / "second.sqlite3", tmp_path / "third.sqlite3"
    assert _seeded_database(templates, second)
    with sqlite3.connect(second) as db:
        db.execute("INSERT INTO seeded VALUES (2)")
    db.close()
    assert _seeded_database(templates, third)
    with sqlite3.connect(third) as db:
        assert db.execute("SELECT n FROM seeded").fetchall() == [(1,)]
    db.close()

    clock.freeze(clock.now() + timedelta(days=1))
    assert not _seeded_database(templates, tmp_path / "tomorrow.sqlite3")
