"""Failed sign-ins counted atomically under parallel guessing, and shared limiter storage.

These tests commit for real (no rolled-back outer transaction) and clean up after
themselves; audit rows stay, as they would in production.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import delete, update

from backend.auth.models import LoginThrottle, User
from backend.extensions import db

ROOT = Path(__file__).resolve().parents[2]


def test_parallel_wrong_guesses_are_all_counted(app):
    """On PostgreSQL the old read-modify-write lost updates: 32 guesses counted as fewer."""
    from backend.auth.service import find_by_username
    from backend.auth.throttle import limiter

    # SQLite serialises whole write transactions (BEGIN IMMEDIATE), so guesses there
    # cannot interleave and many threads only queue past the busy timeout: a few
    # threads keep it a smoke test; PostgreSQL, where updates were lost, gets 16.
    on_postgres = app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgres")
    threads_count, guesses_each = (16, 2) if on_postgres else (4, 2)
    app.config.update(LOGIN_MAX_FAILURES=1000, LOGIN_LIMIT_PER_CLIENT="1000 per minute",
                      LOGIN_LIMIT_PER_ACCOUNT="1000 per minute")
    limiter.reset()
    with app.app_context():
        user_id = find_by_username("wenping_intake").id
    barrier = threading.Barrier(threads_count, timeout=60)
    statuses: list[int] = []

    def guess():
        client = app.test_client()
        barrier.wait()
        for _ in range(guesses_each):
            response = client.post("/api/auth/login", json={
                "username": "wenping_intake", "password": "a-wrong-guess"},
                environ_base={"REMOTE_ADDR": "203.0.113.9"})
            statuses.append(response.status_code)

    threads = [threading.Thread(target=guess) for _ in range(threads_count)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert statuses == [401] * (threads_count * guesses_each)
        with app.app_context():
            user = db.session.get(User, user_id)
            pair = db.session.get(LoginThrottle, (user_id, "203.0.113.9"))
            assert pair.failed_count == threads_count * guesses_each
            assert user.failed_login_count == threads_count * guesses_each
    finally:
        app.config.update(LOGIN_MAX_FAILURES=3, LOGIN_LIMIT_PER_CLIENT="30 per 10 minutes",
                          LOGIN_LIMIT_PER_ACCOUNT="50 per hour")
        limiter.reset()
        with app.app_context():
            db.session.execute(delete(LoginThrottle).where(LoginThrottle.user_id == user_id))
            db.session.execute(update(User).where(User.id == user_id)
                               .values(failed_login_count=0))
            db.session.commit()


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/2")

_GUESS = """
import json, sys
from backend import create_app
app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1], "RATELIMIT_STORAGE_URI": sys.argv[2],
                  "LOGIN_LIMIT_PER_CLIENT": "3 per minute"})
client = app.test_client()
print(json.dumps([client.post("/api/auth/login", json={"username": "nobody-%d" % n,
      "password": "guess-guess"}).status_code for n in range(int(sys.argv[3]))]))
"""


def _redis():
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    return connection


def _clear(connection):
    for key in connection.scan_iter("LIMITS:LIMITER/doorstep/*"):
        connection.delete(key)


def test_workers_share_sign_in_limits_through_redis(app):
    """Two processes (two gunicorn workers) count against one limit when Redis stores it."""
    connection = _redis()
    _clear(connection)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def worker(attempts: int) -> list[int]:
        done = subprocess.run([sys.executable, "-c", _GUESS, url, REDIS_URL, str(attempts)],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    try:
        assert worker(2) == [401, 401]
        assert worker(2) == [401, 429]  # the second worker sees the first one's failures
        assert any(connection.scan_iter("LIMITS:LIMITER/doorstep/*"))
    finally:
        _clear(connection)
