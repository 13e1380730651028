"""Scheduled work of the case workflow, declared on the job kernel (backend/jobs.py)."""

from __future__ import annotations

from huey import crontab

from backend import jobs


# 01:30 China time (17:30 UTC), after the check-in windows are judged (00:30): open every
# periodic review the tiers make due, so none waits for someone to look at the due list.
@jobs.periodic_task(crontab(minute="30", hour="17"), name="workflow_periodic_reviews")
def open_scheduled_reviews() -> int:
    from backend.workflow import periodic_reviews

    return len(periodic_reviews.open_due_reviews(None))
