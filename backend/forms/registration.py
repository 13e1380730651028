"""What forms plug into at app start: the pull's slice of published forms."""

from __future__ import annotations

from backend.forms import service
from backend.sync.registry import SyncRegistry


def register(sync: SyncRegistry) -> None:
    sync.provide("forms", ("forms",), service.pull_forms)
