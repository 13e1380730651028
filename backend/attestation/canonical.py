"""The bytes both investigators sign: RFC 8785 canonical JSON and the submission digest.

Shared by every record that is attested on the device (home visits today, check-ins next);
the PWA's canonical.js produces the same bytes (tests/data/canonical_cases.json).
"""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785

# The submission keys both investigators sign. Attestations themselves are not part of it,
# nor are server-side fields (received_at, flags, review state).
ATTESTED_KEYS: tuple[str, ...] = (
    "id",
    "case_id",
    "form_id",
    "form_version",
    "data",
    "stamps",
    "photos",
)


def canonical_json(obj: Any) -> bytes:
    """RFC 8785 JSON Canonicalization Scheme (JCS), UTF-8 bytes.

    Keys sorted by UTF-16 code units (as RFC 8785 and JavaScript's default sort do; it differs
    from code-point order only between astral characters and U+E000-U+FFFF), no whitespace,
    numbers as ECMAScript's Number.prototype.toString (100.0 -> 100, 1e21 -> 1e+21,
    1e-7 -> 1e-7, -0.0 -> 0). NaN, infinities, lone surrogates, non-string keys and integers
    beyond +-(2**53 - 1) (not exact in a JavaScript number) raise ValueError.

    Uses ``rfc8785`` (Trail of Bits, pure Python, no dependencies, typed, tested against the
    RFC's vectors) rather than ``canonicaljson`` (Matrix's format: not RFC 8785, different
    number rules) or ``jcs`` (an older, unmaintained port). The PWA's canonical.js produces
    the same bytes; tests/data/canonical_cases.json proves it for both.
    """
    return rfc8785.dumps(obj)


def attested_content(submission: dict[str, Any]) -> dict[str, Any]:
    """The part of a submission the investigators sign: exactly ATTESTED_KEYS, all required."""
    missing = [key for key in ATTESTED_KEYS if key not in submission]
    if missing:
        raise ValueError(f"submission lacks attested keys: {', '.join(missing)}")
    return {key: submission[key] for key in ATTESTED_KEYS}


def submission_digest(submission: dict[str, Any]) -> str:
    """Hex SHA-256 of the canonical JSON of the submission's attested content."""
    return hashlib.sha256(canonical_json(attested_content(submission))).hexdigest()
