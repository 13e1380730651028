"""The relay: hands committed outbox events to subscribers, after the commit, at least once,
in order per aggregate, each subscriber idempotent by event id.

A subscriber is a name and a handler (``subscribe``). For each event the handler runs in a
SAVEPOINT together with the subscriber's receipt (outbox_receipts), committed with the next
few (every 50 events or 0.2 s): a handler's effects and its receipt commit together, so a
run that crashes before the commit hands the events over again, and a receipt already there
means an event is never handed over twice. A
handler that raises is logged; its aggregate waits for that subscriber (rules.Gate) and the
next run starts again from the failed event, while other aggregates go on.

Runs: a task queued after each commit that wrote events (coalesced by a flag in the queue's
store, see ``kick``), and a sweep every minute for anything missed (a queue outage, a
failed event to retry). A lock on the queue lets one relay run at a time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import g, has_app_context, has_request_context
from huey import crontab
from huey.exceptions import TaskLockedException
from sqlalchemy import event as sa_event
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend import clock, jobs
from backend.extensions import db
from backend.outbox import service
from backend.outbox.models import OutboxEntry, OutboxReceipt
from backend.outbox.rules import Gate, OutboxEvent, done_events
from backend.outbox.schemas import CATALOGUE

log = logging.getLogger(__name__)

BATCH = 500
COMMIT_EVERY = 50
COMMIT_SECONDS = 0.2
RELAY_LOCK = jobs.declare_lock("outbox-relay")
DUE_KEY = "outbox-relay-due"
RELAY_DUE = "doorstep_outbox_relay_due"  # g: relay after this request (immediate mode)


@dataclass(frozen=True)
class Subscriber:
    name: str
    handler: Callable[[OutboxEvent], Any]
    types: frozenset[str] | None


_subscribers: dict[str, Subscriber] = {}


def subscribe(name: str, handler: Callable[[OutboxEvent], Any],
              types: Iterable[str] | None = None) -> None:
    """Hand every committed event of ``types`` (None: all) to ``handler``, once per event id
    under this ``name`` (keep the name stable: receipts are kept under it). Subscribing
    the name again replaces its handler."""
    if len(name) > 64:
        raise ValueError("a subscriber's name has at most 64 characters")
    wanted = None if types is None else frozenset(types)
    unknown = sorted((wanted or frozenset()) - set(CATALOGUE))
    if unknown:
        raise ValueError(f"unknown outbox event types: {', '.join(unknown)}")
    _subscribers[name] = Subscriber(name, handler, wanted)


def unsubscribe(name: str) -> None:
    _subscribers.pop(name, None)


def subscribers() -> list[Subscriber]:
    return list(_subscribers.values())


@dataclass(frozen=True)
class Pass:
    events: int  # unrelayed events looked at
    handed: int  # handler calls that succeeded
    failed: int  # handler calls that raised

    @property
    def may_have_more(self) -> bool:
        return self.events >= BATCH and self.handed > 0


def _receipts(name: str, ids: list[str]) -> set[str]:
    return set(db.session.scalars(select(OutboxReceipt.event_id).where(
        OutboxReceipt.subscriber == name, OutboxReceipt.event_id.in_(ids))))


def _hand_over(subscriber: Subscriber, event: OutboxEvent) -> bool:
    """The handler and the receipt in one SAVEPOINT: a failure takes back the handler's
    effects and leaves no receipt; the caller commits (both, or neither)."""
    try:
        with db.session.begin_nested():
            subscriber.handler(event)
            db.session.add(OutboxReceipt(subscriber=subscriber.name, event_id=event.id,
                                         handled_at=clock.now()))
            db.session.flush()
    except Exception:  # noqa: BLE001 - the event waits and is retried; others go on
        log.exception("outbox subscriber %s failed on %s %s (aggregate %s %s); retried "
                      "on the next run", subscriber.name, event.type, event.id,
                      event.aggregate_type, event.aggregate_id)
        return False
    return True


class _Commits:
    """Commit after every COMMIT_EVERY handed events or COMMIT_SECONDS, whichever first: a
    commit per event would cost the relay most of its time; a whole pass in one would hold
    the database's locks (SQLite's write lock) for long."""

    def __init__(self) -> None:
        self.pending, self.since = 0, time.monotonic()

    def handed(self) -> None:
        self.pending += 1
        if self.pending >= COMMIT_EVERY or time.monotonic() - self.since >= COMMIT_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            db.session.commit()
        self.pending, self.since = 0, time.monotonic()


def run_pass(limit: int = BATCH) -> Pass:
    """Hand the oldest unrelayed events to every subscriber; stamp those now done."""
    events = service.unrelayed(limit)
    if not events:
        return Pass(0, 0, 0)
    ids = [event.id for event in events]
    handed = failed = 0
    receipts: set[tuple[str, str]] = set()
    commits = _Commits()
    for subscriber in subscribers():
        gate = Gate(types=subscriber.types, handled=_receipts(subscriber.name, ids))
        for event in gate.admit(events):
            if _hand_over(subscriber, event):
                gate.succeeded(event)
                handed += 1
                commits.handed()
            else:
                gate.failed(event)
                failed += 1
        receipts.update((subscriber.name, event_id) for event_id in gate.handled)
    done = done_events(events, {s.name: s.types for s in subscribers()}, receipts)
    if done:
        db.session.execute(update(OutboxEntry).where(OutboxEntry.id.in_(done))
                           .values(relayed_at=clock.now()))
    db.session.commit()
    return Pass(len(events), handed, failed)


def drain() -> int:
    """Relay until nothing is left or due, one relay at a time: a run that finds another
    holding the lock leaves; the holder runs again while commits keep flagging it due."""
    huey = jobs.current_huey()
    handed = 0
    while True:
        try:
            with jobs.lock(RELAY_LOCK):
                while True:
                    huey.get(DUE_KEY)  # take the flag: a commit after this sets it again
                    result = run_pass()
                    handed += result.handed
                    if not result.may_have_more and huey.get(DUE_KEY, peek=True) is None:
                        break
        except TaskLockedException:
            return handed
        if huey.get(DUE_KEY, peek=True) is None:
            return handed


@sa_event.listens_for(Session, "after_commit")
def _wake_relay(session: Session) -> None:
    if session.info.pop(service.WROTE, False):
        wake()


def wake() -> None:
    """Events were committed: have the relay run. On a real queue, one relay task is queued
    (a flag in the queue's store coalesces a burst of commits into one run); in immediate
    mode (tests, the e2e server) the relay runs when the request has finished. A queue
    outage is logged: the minute's sweep relays what this missed."""
    if not has_app_context():
        return
    try:
        if jobs.is_immediate():
            if has_request_context():
                setattr(g, RELAY_DUE, True)
            return
        kick()
    except Exception:  # noqa: BLE001 - the change is committed; the sweep relays it
        log.exception("could not queue the outbox relay; the sweep will relay the events")


def kick() -> None:
    """Queue one relay run unless one is queued already (the flag says so)."""
    if jobs.current_huey().put_if_empty(DUE_KEY, "1"):
        relay()


@jobs.task(name="outbox_relay")
def relay() -> None:
    drain()  # returns nothing: a result per run would pile up in the queue's store


@jobs.periodic_task(crontab(), name="outbox_sweep")
def sweep() -> None:
    """Every minute: relay anything a queued run missed, and retry failed events."""
    drain()
