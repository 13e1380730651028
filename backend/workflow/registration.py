"""What the case workflow plugs into at app start: the periodic-review trigger from missed
check-ins (an event) and the daily job that opens the reviews the tiers make due. Nothing in
sync: the workflow is a desk concern; phones pull cases, whose status it moves."""

from __future__ import annotations

from flask import Flask
from huey import crontab

from backend import events
from backend.sync.registry import SyncRegistry
from backend.workflow import service


def register(sync: SyncRegistry) -> None:
    del sync  # no record types or pull slices of its own
    events.subscribe(events.PeriodicReviewDue, service.on_periodic_review_due)


def _open_scheduled_reviews() -> int:
    return len(service.open_due_reviews(None))


def register_jobs(app: Flask) -> None:
    """A daily task on the app's Huey (created by the check-in jobs): at 01:30 China time
    (17:30 UTC), after the check-in windows are judged, open every periodic review the
    tiers make due, so none waits for someone to look at the due list."""
    from backend.checkins.jobs import in_app

    huey = app.extensions["doorstep.huey"]
    task = huey.periodic_task(crontab(minute="30", hour="17"),
                              name="workflow_periodic_reviews")(in_app(_open_scheduled_reviews))
    app.extensions["doorstep.huey_tasks"]["periodic_reviews"] = task
