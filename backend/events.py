"""A small in-transaction message bus: side effects that cross packages travel as events.

A service raises an event (``events.raise_(VisitAccepted(...))``) where something happened;
the event waits on the database session until the unit of work ends, then the handlers that
packages registered at app start run in the same transaction, just before the commit (the
request boundary calls ``dispatch``; a commit without it dispatches too). A rollback drops
pending events. Handlers may raise further events; they run in the same pass.

In the manner of Cosmic Python's message bus: the package that owns the data decides what an
event means for it (households set the home location when a visit is accepted), and the
package that raised it never imports that package.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, SessionTransaction

from backend.extensions import db

PENDING = "doorstep_events"
MARKS = "doorstep_event_marks"  # savepoint -> how many events were pending when it began
Event = Any
E = TypeVar("E")

_handlers: dict[type, list[Callable[[Any], None]]] = {}
# Handlers that take every event of their type queued in one pass at once: a synced batch
# of a thousand visits is one set of queries for them, not a thousand.
_batch_handlers: dict[type, list[Callable[[list[Any]], None]]] = {}


# --- the events --------------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitAccepted:
    """A home-visit revision was stored. ``home_fix`` is the first start stamp accurate enough
    to locate the home (lat, lon), or None."""

    submission_id: str
    revision: int
    case_id: str
    household_id: str
    jurisdiction_code: str
    home_fix: tuple[float, float] | None
    # For the review queue: the revision's integrity flags as (code, severity), who sent it,
    # and when the server received it.
    flags: tuple[tuple[str, str], ...] = ()
    author_id: str | None = None
    received_at: datetime | None = None
    # The visit's own start and end (device clock), for the supervisors' dashboard.
    started_at: datetime | None = None
    ended_at: datetime | None = None
    # The case's visit team as the push read it (None: the review side reads it itself).
    team: frozenset[str] | None = None


@dataclass(frozen=True)
class PhotoStored:
    """A photo's bytes reached the server for the first time (it may be one a stored visit
    already names: an upload interrupted and resumed after the push)."""

    sha256: str


@dataclass(frozen=True)
class VisitFlagsChanged:
    """A visit revision's integrity flags changed after it was stored (a late photo was
    re-checked): ``flags`` is the revision's whole new set as (code, severity)."""

    submission_id: str
    revision: int
    flags: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class PeriodicReviewDue:
    """A recipient missed ``consecutive_misses`` check-in windows in a row (003): the case
    workflow may open a periodic review (动态管理, 004) of the household's case."""

    household_id: str
    recipient_id: str
    window_key: str
    consecutive_misses: int


@dataclass(frozen=True)
class CaseStatusChanged:
    """A case moved from ``from_status`` to ``to_status`` (cases.set_status): the case
    workflow tells the outbox when the move is a decision."""

    case_id: str
    household_id: str
    jurisdiction_code: str
    kind: str
    from_status: str
    to_status: str


# --- the bus -------------------------------------------------------------------------------------


def subscribe(event_type: type[E], handler: Callable[[E], None]) -> None:
    """Register ``handler`` for ``event_type``; registering the same pair twice is a no-op."""
    handlers = _handlers.setdefault(event_type, [])
    if handler not in handlers:
        handlers.append(handler)


def subscribe_batch(event_type: type[E], handler: Callable[[list[E]], None]) -> None:
    """Register ``handler`` for the list of ``event_type`` events queued in one pass, in the
    order they were raised; registering the same pair twice is a no-op."""
    handlers = _batch_handlers.setdefault(event_type, [])
    if handler not in handlers:
        handlers.append(handler)


def raise_(event: Event) -> None:
    """Queue ``event`` on the current transaction; handled before it commits."""
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback, which drops the event, is seen
    session.info.setdefault(PENDING, []).append(event)


def pending() -> list[Event]:
    return list(db.session.info.get(PENDING, []))


def dispatch(session: Session | None = None) -> int:
    """Run the handlers of every queued event, in order, until none is left; how many ran."""
    info = (session if session is not None else db.session).info
    handled = 0
    while info.get(PENDING):
        queue = info.pop(PENDING)
        for item in queue:
            for handler in _handlers.get(type(item), []):
                handler(item)
            handled += 1
        for event_type, handlers in _batch_handlers.items():
            of_type = [item for item in queue if type(item) is event_type]
            if of_type:
                for batch_handler in handlers:
                    batch_handler(of_type)
    return handled


# First of the before_commit hooks (insert=True): a handler's audit rows must exist before
# the audit chain links the transaction's rows (backend.audit.service, also before_commit).
@sa_event.listens_for(Session, "before_commit", insert=True)
def _dispatch_before_commit(session: Session) -> None:
    if session.info.get(PENDING):
        dispatch(session)


@sa_event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        session.info.setdefault(MARKS, {})[transaction] = len(session.info.get(PENDING, []))


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_savepoint(session: Session, transaction: SessionTransaction) -> None:
    session.info.get(MARKS, {}).pop(transaction, None)


@sa_event.listens_for(Session, "after_soft_rollback")
def _drop_on_rollback(session: Session, previous: SessionTransaction) -> None:
    # A rolled-back savepoint drops only what was raised inside it (the sync dispatcher
    # isolates each group of records in one); any other rollback (of the whole
    # transaction, or of the savepoint the tests run each request in) drops everything.
    mark = session.info.get(MARKS, {}).get(previous) if previous.nested else None
    pending = session.info.get(PENDING)
    if mark is not None and pending is not None:
        del pending[mark:]
    else:
        session.info.pop(PENDING, None)
