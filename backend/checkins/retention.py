"""Check-in selfies past their retention (docs/decisions/0022-retention-and-purge.md): the
photo's file and row, and the face-match distance derived from it. Face embeddings are
computed in memory for each match and never stored (identity.py), so nothing else of the
face stays. A recipient's enrolment photo is the reference of every later match: it stays
while the recipient is enrolled. The check-in row stays (when, where, on time or late).

Check-ins belong to a household, not a case: a legal hold on any case of the household
holds them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update

from backend.bulk import chunks
from backend.checkins.models import CheckIn, Recipient
from backend.evidence import service as evidence
from backend.extensions import db
from backend.retention import registry
from backend.retention import rules as retention_rules


def find_selfies(cutoff: datetime) -> list[registry.Purgeable]:
    """Check-ins received before ``cutoff`` whose selfie is still stored."""
    rows = db.session.execute(
        select(CheckIn.id, CheckIn.household_id, CheckIn.photo_sha256)
        .where(CheckIn.received_at < cutoff,
               CheckIn.photo_sha256.not_in(select(Recipient.reference_photo_sha256)))
        .order_by(CheckIn.id)).all()
    stored: set[str] = set()
    for chunk in chunks(sorted({sha256 for _, _, sha256 in rows})):
        stored |= evidence.known(list(chunk))
    young: set[str] = set()  # also the selfie of a check-in not due yet: its file stays
    for chunk in chunks(sorted(stored)):
        young.update(db.session.scalars(select(CheckIn.photo_sha256).where(
            CheckIn.photo_sha256.in_(chunk), CheckIn.received_at >= cutoff)))
    return [registry.Purgeable(checkin_id, (), (household_id,),
                               () if sha256 in young else evidence.blob_keys_of(sha256))
            for checkin_id, household_id, sha256 in rows if sha256 in stored]


def purge_selfies(items: Sequence[registry.Purgeable], _cutoff: datetime) -> None:
    checkin_ids = [item.subject_id for item in items]
    photos: set[str] = set()
    for chunk in chunks(checkin_ids):
        photos.update(db.session.scalars(select(CheckIn.photo_sha256)
                                         .where(CheckIn.id.in_(chunk))))
        db.session.execute(update(CheckIn).where(CheckIn.id.in_(chunk))
                           .values(identity_distance=None))
    # A selfie another check-in still keeps (one not yet due, or held) stays.
    kept: set[str] = set()
    for chunk in chunks(sorted(photos)):
        kept.update(db.session.scalars(select(CheckIn.photo_sha256).where(
            CheckIn.photo_sha256.in_(chunk), CheckIn.id.not_in(checkin_ids))))
    evidence.forget_photos(sorted(photos - kept))


registry.register_kind(retention_rules.CHECKIN_SELFIE, find_selfies, purge_selfies)
