"""Scheduled and queued work of the check-in, declared on the job kernel (backend/jobs.py).

Tasks: window close (daily,
00:30 China time: misses, follow-ups, periodic-review triggers) and reminders (daily, 09:00
China time: Web Push to each live subscription when VAPID keys are configured, else or
when no push got through the SMS notifier). The identity check of a check-in photo is
queued at push by the service, which declares it (photo_checks.identity_check).
"""

from __future__ import annotations

import logging
from typing import Protocol

from flask import current_app
from huey import crontab

from backend import jobs
from backend.checkins import push_rules

log = logging.getLogger(__name__)


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
    from backend.checkins import push_subscriptions

    sms = sms_notifier()
    push = web_push()
    targets = push_subscriptions.push_targets(user_id for user_id, _, _ in notices) if push else {}
    try:
        for user_id, phone, notice in notices:
            try:
                pushed = False
                for target in targets.get(user_id, []):
                    assert push is not None
                    delivery, status = push.send(target.subscription_info(), notice.payload())
                    if delivery == "gone":
                        push_subscriptions.forget_gone_push_target(target, status or 410)
                    pushed = pushed or delivery == "sent"
                if not pushed:
                    sms.send(phone, notice.sms())
            except Exception:  # noqa: BLE001 - one recipient's failure never stops the run
                log.exception("could not notify user %s; the next run tries again", user_id)
    finally:
        if push is not None:
            push.close()


# 00:30 and 09:00 China time (16:30 and 01:00 UTC); the kernel's crontabs read UTC.
@jobs.periodic_task(crontab(minute="30", hour="16"), name="checkin_window_close")
def window_close() -> int:
    from backend.checkins import windows

    return windows.judge_closed_windows()


@jobs.periodic_task(crontab(minute="0", hour="1"), name="checkin_reminders")
def reminders() -> int:
    from backend.checkins import windows

    due = windows.due_reminders()
    notify_recipients([(reminder.user_id, reminder.phone,
                        push_rules.reminder_notice(reminder.closes_on)) for reminder in due])
    return len(due)
