"""Pure rules for the pull cursor: opaque to the device, compact, and tamper-evident enough.

A cursor holds the (updated_at, id) of the last case sent, plus short fingerprints of
the assignment set, the published forms and the settings the device holds. The device
sends it back; the server answers only what changed since.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Cursor:
    updated_at: str = ""  # ISO UTC of the last case sent
    last_id: str = ""
    assignments: str = ""  # fingerprint of the set of assigned case ids
    forms: str = ""
    settings: str = ""
    review_tasks: str = ""  # fingerprint of the review tasks the device holds (reviews)


def encode(cursor: Cursor) -> str:
    payload = [cursor.updated_at, cursor.last_id, cursor.assignments, cursor.forms,
               cursor.settings, cursor.review_tasks]
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode(
    ).rstrip("=")


def decode(text: str | None) -> Cursor | None:
    """The cursor, or None for a missing or unreadable one (then the device gets everything)."""
    if not text:
        return Cursor()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        values = json.loads(raw)
        # Five fields before review tasks were added: such a cursor stays valid.
        if not (isinstance(values, list) and len(values) in (5, 6)
                and all(isinstance(v, str) and len(v) <= 64 for v in values)):
            return None
        return Cursor(*values)
    except (ValueError, UnicodeDecodeError):
        return None


def fingerprint(values: object) -> str:
    text = json.dumps(values, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]
