"""What the case workflow plugs into at app start: nothing in sync yet (the workflow is a
desk concern; phones pull cases, whose status it moves)."""

from __future__ import annotations

from backend.sync.registry import SyncRegistry


def register(sync: SyncRegistry) -> None:
    del sync  # no record types or pull slices of its own
