"""The audit hash chain's arithmetic (pure): canonical bytes of a row and its hash.

Never change these functions: rows already stored were hashed with them. A new format
would need a version number in the chain.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64

# The columns a row's hash covers, in this order (the id and its place in the chain
# included, so moving a row shows).
HASHED_FIELDS = ("id", "chain_seq", "at", "actor_id", "action", "object_type", "object_id",
                 "jurisdiction_code", "before", "after", "request_id", "ip", "user_agent",
                 "device_id")


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    return value


def canonical_row(fields: dict[str, Any]) -> bytes:
    """One row's fields as canonical JSON: sorted keys, no spaces, UTF-8."""
    document = {name: _plain(fields.get(name)) for name in HASHED_FIELDS}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str).encode()


def row_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical_row(fields)).hexdigest()


ANCHOR_FORMAT = "doorstep-audit-anchor/1"


def anchor_statement(chain_seq: int, row_hash: str, anchored_at: datetime) -> bytes:
    """The bytes an audit anchor's signature covers: the chain's head at a moment.

    Canonical like a row (sorted keys, no spaces, UTF-8), and carrying its format, so a
    signature over one kind of statement can never be read as another.
    """
    document = {"format": ANCHOR_FORMAT, "chain_seq": chain_seq, "row_hash": row_hash,
                "anchored_at": _plain(anchored_at)}
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def checkpoint_signature(key: bytes, seq: int, row_hash_at_seq: str, last_at: datetime,
                         rows_purged: int) -> str:
    """HMAC-SHA256 over a purge checkpoint (ADR 0022): the chain restarts after ``seq``
    from ``row_hash_at_seq``; without the key, a checkpoint cannot be made up or moved."""
    message = json.dumps({"seq": seq, "row_hash": row_hash_at_seq, "last_at": _plain(last_at),
                          "rows_purged": rows_purged}, sort_keys=True,
                         separators=(",", ":")).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
