"""What reviews plug into at app start: the visits they start reviewing, the pull's tasks."""

from __future__ import annotations

from marshmallow import fields

from backend import events
from backend.reviews import synced_visits
from backend.reviews.schemas import ReviewTaskSchema
from backend.sync.registry import SyncRegistry


def register(sync: SyncRegistry) -> None:
    events.subscribe_batch(events.VisitAccepted, synced_visits.on_visits_accepted)
    events.subscribe(events.VisitFlagsChanged, synced_visits.on_visit_flags_changed)
    sync.provide("review_tasks", ("review_tasks",), synced_visits.pull_tasks, {
        "review_tasks": fields.List(fields.Nested(ReviewTaskSchema), metadata={
            "description": "every open review task of the caller's cases, sent when the list "
                           "changed (an empty list too): replace the tasks held on the device"}),
    })
