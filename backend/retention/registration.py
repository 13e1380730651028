"""What retention plugs into at app start: its nightly task (declared on import)."""

from __future__ import annotations

from backend.retention import jobs  # noqa: F401 - declares the nightly purge
