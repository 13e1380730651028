"""Scheduled and queued work of the check-in, on Huey.

- ``make run`` needs no extra server: SqliteHuey in instance/huey.sqlite3 (HUEY_BACKEND
  ``sqlite``, the default without REDIS_URL). Production sets REDIS_URL: RedisHuey.
- Tests use ``immediate`` mode (tasks run at once, in the caller's transaction) or drive a
  real queue by hand (tests/api/test_checkin_jobs.py, both backends).

Tasks: the identity check of a check-in photo (queued at push), window close (daily,
00:30 China time: misses, follow-ups, periodic-review triggers) and reminders (daily, 09:00
China time: Web Push to each live subscription when VAPID keys are configured, else or
when no push got through the SMS notifier).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Protocol

from flask import Flask, current_app, has_app_context
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab

from backend.checkins import push_rules

log = logging.getLogger(__name__)

_app: Flask | None = None


class SmsNotifier(Protocol):
    def send(self, phone: str, message: str) -> None: ...


class LogSms:
    """The default SMS notifier: writes the message to the log (no gateway configured)."""

    def send(self, phone: str, message: str) -> None:
        log.info("sms to %s****%s: %s", phone[:3], phone[-4:], message)


class WebPush(Protocol):
    """Sends one push message (webpush.PywebpushSender): "sent", "gone" (404/410: forget the
    subscription) or "failed" (logged; the next run tries again), with the HTTP status."""

    def send(self, subscription: dict, payload: str) -> tuple[str, int | None]: ...

    def close(self) -> None: ...


def sms_notifier() -> SmsNotifier:
    return current_app.extensions.get("doorstep.sms") or LogSms()


def web_push() -> WebPush | None:
    """The Web Push sender when VAPID keys are configured, else None (SMS only)."""
    from backend.checkins import webpush

    try:
        return webpush.sender()
    except Exception:  # noqa: BLE001 - a bad key must not stop the SMS reminders
        log.exception("the VAPID private key cannot be read; reminders go by SMS")
        return None


def notify_recipients(notices: list[tuple[str, str, push_rules.Notice]]) -> None:
    """Send each (user id, phone, notice): by Web Push to every live subscription of the user
    when VAPID is configured, by SMS when the user has none or no push got through. A failure
    for one recipient is logged and never stops the others."""
    from backend.checkins import service

    sms = sms_notifier()
    push = web_push()
    targets = service.push_targets(user_id for user_id, _, _ in notices) if push else {}
    try:
        for user_id, phone, notice in notices:
            try:
                pushed = False
                for target in targets.get(user_id, []):
                    assert push is not None
                    delivery, status = push.send(target.subscription_info(), notice.payload())
                    if delivery == "gone":
                        service.forget_gone_push_target(target, status or 410)
                    pushed = pushed or delivery == "sent"
                if not pushed:
                    sms.send(phone, notice.sms())
            except Exception:  # noqa: BLE001 - one recipient's failure never stops the run
                log.exception("could not notify user %s; the next run tries again", user_id)
    finally:
        if push is not None:
            push.close()


def make_huey(config: dict[str, Any], instance_path: str) -> Huey:
    backend = config.get("HUEY_BACKEND") or ("redis" if config.get("REDIS_URL") else "sqlite")
    immediate = bool(config.get("HUEY_IMMEDIATE", config.get("TESTING")))
    name = config.get("HUEY_NAME", "doorstep")
    if backend == "memory":
        return MemoryHuey(name, immediate=immediate)
    if backend == "redis":
        return RedisHuey(name, url=config["REDIS_URL"], immediate=immediate)
    path = config.get("HUEY_SQLITE_PATH") or str(Path(instance_path) / "huey.sqlite3")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=path, immediate=immediate)


def in_app(function):
    """Run a task inside an app context: the caller's (immediate mode, tests) or the
    worker's app, with one commit at the end (the unit of work)."""

    def run(*args):
        from backend.extensions import db

        if has_app_context():
            result = function(*args)
            db.session.flush()
            return result
        assert _app is not None, "the worker sets the app (flask checkins worker)"
        with _app.app_context():
            result = function(*args)
            db.session.commit()
            return result

    run.__name__ = function.__name__
    return run


def _identity(checkin_id: str) -> str | None:
    from backend.checkins import service

    return service.check_identity(checkin_id)


def _window_close() -> int:
    from backend.checkins import service

    return service.judge_closed_windows()


def _reminders() -> int:
    from backend.checkins import service

    due = service.due_reminders()
    notify_recipients([(reminder.user_id, reminder.phone,
                        push_rules.reminder_notice(reminder.closes_on)) for reminder in due])
    return len(due)


def register(app: Flask) -> Huey:
    """Create the app's Huey and its tasks (create_app calls it)."""
    huey = make_huey(app.config, app.instance_path)
    tasks = {
        "identity": huey.task(retries=3, retry_delay=10, name="checkin_identity")(
            in_app(_identity)),
        # 00:30 and 09:00 China time (16:30 and 01:00 UTC); Huey's crontab reads UTC here.
        "window_close": huey.periodic_task(crontab(minute="30", hour="16"),
                                           name="checkin_window_close")(in_app(_window_close)),
        "reminders": huey.periodic_task(crontab(minute="0", hour="1"),
                                        name="checkin_reminders")(in_app(_reminders)),
    }
    huey.utc = True
    app.extensions["doorstep.huey"] = huey
    app.extensions["doorstep.huey_tasks"] = tasks
    return huey


def run_worker(app: Flask, workers: int = 1) -> None:
    """Run the consumer (periodic tasks included) for this app: ``flask checkins worker``."""
    global _app
    _app = app
    huey = app.extensions["doorstep.huey"]
    huey.create_consumer(workers=workers, periodic=True).run()
