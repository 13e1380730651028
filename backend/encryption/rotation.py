"""Re-seal every sealed value under the current data key, in batches, while the app runs
(ADR 0020).

Readers open values under any key of the keyring, so old and new seals live side by side
until this finishes. Each batch is its own transaction; a row written meanwhile by the app
is already under the current key, and the update of a row changed since it was read
matches nothing (its value is compared), so no write is lost. Blind indexes use the index
key, which this does not change.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import String, literal, select, type_coerce, update

from backend.encryption import startup
from backend.encryption.columns import active_keyring, sealed_columns
from backend.encryption.keys import FORMAT
from backend.extensions import db


def rotate(batch_size: int = 500,
           on_batch: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Re-seal what is not under the current key; commit per batch. Returns the count per
    ``table.column``. When done, the check rows of retired keys go: the app then starts
    without them (drop them from DOORSTEP_DATA_KEYS_RETIRED)."""
    keyring = active_keyring()
    current_prefix = f"{FORMAT}.{keyring.current_id}.%"
    counts: dict[str, int] = {}
    for table, column in sealed_columns(db.metadata):
        purpose = column.type.purpose
        raw = type_coerce(column, String)
        keys = list(table.primary_key.columns)
        name = f"{table.name}.{column.name}"
        counts[name] = 0
        while True:
            rows = db.session.execute(
                select(*keys, raw.label("sealed"))
                .where(raw.is_not(None), ~raw.like(current_prefix))
                .order_by(*keys).limit(batch_size)).all()
            if not rows:
                break
            for row in rows:
                resealed = keyring.seal(purpose, keyring.open(purpose, row.sealed))
                db.session.execute(
                    update(table)
                    .where(*(key == row[index] for index, key in enumerate(keys)),
                           raw == row.sealed)
                    .values({column.name: literal(resealed, String)}))
            db.session.commit()
            counts[name] += len(rows)
            if on_batch:
                on_batch(name, counts[name])
    for key_id in keyring.secrets:
        if key_id != keyring.current_id:
            startup.forget_retired_key(key_id)
    db.session.commit()
    return counts
