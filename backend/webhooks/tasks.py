"""The webhooks' work on the job kernel: the outbox subscriber, and the delivery task.

- ``on_outbox_event`` (the relay calls it, after the commit, inside its SAVEPOINT): one
  delivery per subscription that wants the event; the delivery task is queued once the
  relay's transaction commits.
- ``deliver`` (queued; coalesced by a flag in the queue's store, as the relay is) and
  ``deliver_due`` (every minute: retries come due on their own schedule, and anything a lost
  queue message left) send what is due, one run at a time (a lock on the queue).
- In immediate mode (tests, the e2e server) nothing is queued: the tests run the task.
"""

from __future__ import annotations

import logging

from flask import has_app_context
from huey import crontab
from huey.exceptions import TaskLockedException
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from backend import jobs
from backend.webhooks import delivery

log = logging.getLogger(__name__)

DELIVERY_LOCK = jobs.declare_lock("webhooks-delivery")
DUE_KEY = "webhooks-delivery-due"
_QUEUE_AFTER_COMMIT = "doorstep_webhooks_queue"


def on_outbox_event(event) -> None:
    if delivery.fan_out(event):
        from backend.extensions import db

        db.session.info[_QUEUE_AFTER_COMMIT] = True


@sa_event.listens_for(Session, "after_commit")
def _queue_after_commit(session: Session) -> None:
    if not session.info.pop(_QUEUE_AFTER_COMMIT, False) or not has_app_context():
        return
    try:
        if not jobs.is_immediate():
            kick()
    except Exception:  # noqa: BLE001 - the deliveries are stored; the sweep sends them
        log.exception("could not queue the webhook delivery; the minute's sweep sends it")


def kick() -> None:
    """Queue one delivery run unless one is queued already."""
    if jobs.current_huey().put_if_empty(DUE_KEY, "1"):
        deliver()


def send_due() -> int:
    """Send until nothing is due, one run at a time; how many were attempted."""
    huey = jobs.current_huey()
    attempted = 0
    try:
        with jobs.lock(DELIVERY_LOCK):
            while True:
                huey.get(DUE_KEY)  # take the flag: a commit after this sets it again
                report = delivery.deliver_due()
                attempted += report.attempted
                if not report.more_due and huey.get(DUE_KEY, peek=True) is None:
                    return attempted
    except TaskLockedException:
        return attempted  # another run holds it and goes on while work is flagged


@jobs.task(name="webhooks_deliver")
def deliver() -> None:
    send_due()


@jobs.periodic_task(crontab(), name="webhooks_deliver_due")
def deliver_due() -> None:
    send_due()
