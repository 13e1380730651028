"""What jurisdictions plug into at app start: the place lookup auth uses."""

from __future__ import annotations

from backend.auth import service as auth
from backend.jurisdictions import service
from backend.sync.registry import SyncRegistry


def register(_sync: SyncRegistry) -> None:
    auth.use_places(service.place)
