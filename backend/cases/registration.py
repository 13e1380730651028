"""What cases plug into at app start: the pull's slice of assignments, households' team scope."""

from __future__ import annotations

from backend.cases import service
from backend.households import service as households
from backend.sync.registry import SyncRegistry


def register(sync: SyncRegistry) -> None:
    sync.provide("assignments", ("updated_at", "last_id", "assignments", "settings"),
                 service.pull_assignments)
    households.use_team_scope(service.household_ids_on_team)
