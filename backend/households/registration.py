"""What households plug into at app start: events they act on."""

from __future__ import annotations

from backend import events
from backend.households import service
from backend.sync.registry import SyncRegistry


def register(_sync: SyncRegistry) -> None:
    events.subscribe_batch(events.VisitAccepted, service.on_visits_accepted)
