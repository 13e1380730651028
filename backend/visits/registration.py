"""What visits plug into at app start: the record types sync accepts, photo access, and
the outbox event of each stored revision (published.py)."""

from __future__ import annotations

from backend import events
from backend.evidence import service as evidence
from backend.sync.registry import SyncRegistry
from backend.visits import published, queries, replays, service
from backend.visits import retention as _retention  # noqa: F401 - registers its kinds
from backend.visits.schemas import RECORD_SCHEMAS


def register(sync: SyncRegistry) -> None:
    # Handlers run in registration order. Signatures sent on their own are decided against
    # the revisions stored before this batch, as they always were: attestations first.
    sync.accept("visit_attestation", RECORD_SCHEMAS["visit_attestation"],
                service.push_attestations, replays.replayed_attestations)
    sync.accept("visit_submission", RECORD_SCHEMAS["visit_submission"],
                service.push_submissions, replays.replayed_submissions)
    evidence.allow_viewing(queries.photo_in_visible_visit)
    events.subscribe(events.PhotoStored, service.on_photo_stored)
    events.subscribe_batch(events.VisitAccepted, published.on_visits_accepted)
