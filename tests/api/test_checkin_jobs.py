"""Check-in jobs on a real Huey queue: SQLite (what `make run` uses) and Redis (production).

A task is enqueued, taken off the queue as the consumer would (dequeue + execute) and run
against the app; the window-close task marks the missed windows. The reminders task sends
through the SMS notifier, whose default writes to the log.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime

import pytest
import redis
from sqlalchemy import select

from backend import clock, jobs
from backend.checkins import jobs as checkin_jobs
from backend.checkins.models import CheckInWindowResult
from backend.checkins.rules import CHINA
from tests.api.test_checkins import activated, approved_households

# `make test` runs the SQLite and PostgreSQL passes side by side: each its own Redis database.
REDIS_URL = os.environ.get("TEST_JOBS_REDIS_URL", "redis://127.0.0.1:6379/13")


def _redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.exceptions.ConnectionError:
        return False


@pytest.fixture
def recipient(api, db_session):
    clock.freeze(datetime(2026, 12, 5, 10, tzinfo=CHINA))
    try:
        yield activated(api, approved_households(db_session)[0])
    finally:
        clock.freeze(None)


def _drain(huey) -> list:
    results = []
    while (task := huey.dequeue()) is not None:
        results.append(huey.execute(task))
    return results


def _queue_window_close_on(huey, app) -> None:
    window_close = huey.task(name="test_window_close")(
        jobs.in_app(checkin_jobs.window_close.function))
    clock.freeze(datetime(2026, 12, 24, 1, tzinfo=CHINA))
    window_close()
    assert len(huey) == 1  # queued, not run


def test_sqlite_huey_runs_the_window_close(app, db_session, recipient, tmp_path):
    huey = jobs.make_huey({"HUEY_BACKEND": "sqlite", "HUEY_NAME": "doorstep-ck-test",
                           "HUEY_SQLITE_PATH": str(tmp_path / "huey.sqlite3"),
                           "HUEY_IMMEDIATE": False}, str(tmp_path))
    try:
        _queue_window_close_on(huey, app)
        assert _drain(huey) == [1]
    finally:
        clock.freeze(None)
    outcome = db_session.scalar(select(CheckInWindowResult.outcome).where(
        CheckInWindowResult.recipient_id == recipient.id))
    assert outcome == "missed"


@pytest.mark.skipif(not _redis_available(), reason="Redis is not running on 127.0.0.1:6379")
def test_redis_huey_runs_the_window_close(app, db_session, recipient, tmp_path):
    huey = jobs.make_huey({"REDIS_URL": REDIS_URL, "HUEY_NAME": "doorstep-ck-test",
                           "HUEY_IMMEDIATE": False}, str(tmp_path))
    huey.flush()
    try:
        _queue_window_close_on(huey, app)
        assert _drain(huey) == [1]
    finally:
        clock.freeze(None)
        huey.flush()
    assert db_session.scalar(select(CheckInWindowResult.outcome).where(
        CheckInWindowResult.recipient_id == recipient.id)) == "missed"


def test_redis_is_chosen_when_redis_url_is_set(tmp_path):
    from huey import RedisHuey, SqliteHuey

    assert isinstance(jobs.make_huey({"REDIS_URL": REDIS_URL}, str(tmp_path)), RedisHuey)
    assert isinstance(jobs.make_huey({}, str(tmp_path)), SqliteHuey)
    assert (tmp_path / "huey.sqlite3").exists()


def test_reminders_go_through_the_sms_notifier_log_by_default(app, db_session, recipient,
                                                               caplog):
    clock.freeze(datetime(2026, 12, 16, 9, tzinfo=CHINA))
    try:
        assert checkin_jobs.reminders.run() == 0  # not a reminder day
        clock.freeze(datetime(2026, 12, 17, 9, tzinfo=CHINA))  # three days before close
        with caplog.at_level(logging.INFO, logger="backend.checkins.jobs"):
            assert checkin_jobs.reminders.run() == 1
    finally:
        clock.freeze(None)
    assert "sms to 139" in caplog.text and "12月20日" in caplog.text


def test_app_registers_the_periodic_tasks(app):
    with app.app_context():
        names = {task.__name__ for task in jobs.current_huey()._registry._periodic_tasks}
    assert {"checkin_window_close", "checkin_reminders", "workflow_periodic_reviews"} <= names
