"""What the case workflow plugs into at app start: the periodic-review trigger from missed
check-ins (an event), decisions leaving through the outbox (published.py), and the daily
job that opens the reviews the tiers make due (jobs.py). Nothing in sync: the workflow is a
desk concern; phones pull cases, whose status it moves."""

from __future__ import annotations

from backend import events
from backend.sync.registry import SyncRegistry
from backend.workflow import jobs, periodic_reviews, published  # noqa: F401 - jobs declares tasks


def register(sync: SyncRegistry) -> None:
    del sync  # no record types or pull slices of its own
    events.subscribe(events.PeriodicReviewDue, periodic_reviews.on_periodic_review_due)
    events.subscribe(events.CaseStatusChanged, published.on_case_status_changed)
