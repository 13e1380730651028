"""What check-ins plug into at app start: the sync record type, photo access, events,
and the outbox events of periodic reviews made due (jobs declare their tasks on import)."""

from __future__ import annotations

from backend import events
from backend.checkins import (  # noqa: F401 - jobs declares tasks
    jobs,
    photo_checks,
    published,
    pushed_checkins,
    recipients,
    replays,
)
from backend.checkins import retention as _retention  # noqa: F401 - registers its kind
from backend.checkins.schemas import CheckInRecordSchema
from backend.evidence import service as evidence
from backend.sync.registry import SyncRegistry


def register(sync: SyncRegistry) -> None:
    sync.accept("checkin", CheckInRecordSchema(), pushed_checkins.push_checkins,
                replays.replayed_checkins)
    evidence.allow_viewing(recipients.photo_in_visible_checkin)
    events.subscribe(events.PhotoStored, photo_checks.on_photo_stored)
    events.subscribe(events.PeriodicReviewDue, published.on_periodic_review_due)
