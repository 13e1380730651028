"""What visits hold past its retention (docs/decisions/0022-retention-and-purge.md):
- visit photos: a photo's file and its row (EXIF place, camera) once every visit naming it
  was received before the cutoff; the visit keeps the line saying a photo was filed;
- refused and withdrawn applications: the survey answers of their visits are erased (the
  revision keeps its digest, so the signed attestation still says a record existed) and
  their photos and the images of the signers' signatures go with them; the case row stays,
  with its status and dates, for statistics.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, select, update

from backend.bulk import chunks
from backend.cases import retention as case_retention
from backend.evidence import service as evidence
from backend.extensions import db
from backend.retention import registry
from backend.retention import rules as retention_rules
from backend.visits.models import (
    VisitAttestation,
    VisitPhoto,
    VisitRevision,
    VisitSubmission,
)

CLOSED_STATUSES = ("refused", "withdrawn")


def _stored(sha256s: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for chunk in chunks(sorted(set(sha256s))):
        found |= evidence.known(list(chunk))
    return found


def _photo_keys(sha256s: Iterable[str]) -> tuple[str, ...]:
    return tuple(key for sha256 in sorted(sha256s) for key in evidence.blob_keys_of(sha256))


def find_visit_photos(cutoff: datetime) -> list[registry.Purgeable]:
    """Stored photos whose every visit was received before ``cutoff``."""
    old = list(db.session.scalars(
        select(VisitPhoto.sha256)
        .join(VisitSubmission, VisitSubmission.id == VisitPhoto.submission_id)
        .group_by(VisitPhoto.sha256)
        .having(func.max(VisitSubmission.received_at) < cutoff)))
    stored = _stored(old)
    cases_of: dict[str, set[str]] = defaultdict(set)
    for chunk in chunks(sorted(stored)):
        for sha256, case_id in db.session.execute(
                select(VisitPhoto.sha256, VisitSubmission.case_id)
                .join(VisitSubmission, VisitSubmission.id == VisitPhoto.submission_id)
                .where(VisitPhoto.sha256.in_(chunk))):
            cases_of[sha256].add(case_id)
    return [registry.Purgeable(sha256, tuple(sorted(cases_of[sha256])), (),
                               evidence.blob_keys_of(sha256)) for sha256 in sorted(stored)]


def purge_visit_photos(items: Sequence[registry.Purgeable], _cutoff: datetime) -> None:
    evidence.forget_photos([item.subject_id for item in items])


def _photos_of_cases(case_ids: Sequence[str]) -> dict[str, set[str]]:
    """The photos of the cases' visits, the images of the signers' signatures included."""
    photos: dict[str, set[str]] = defaultdict(set)
    for chunk in chunks(case_ids):
        for case_id, sha256 in db.session.execute(
                select(VisitSubmission.case_id, VisitPhoto.sha256)
                .join(VisitPhoto, VisitPhoto.submission_id == VisitSubmission.id)
                .where(VisitSubmission.case_id.in_(chunk))):
            photos[case_id].add(sha256)
        for case_id, signature in db.session.execute(
                select(VisitSubmission.case_id, VisitAttestation.signature_image_sha256)
                .join(VisitAttestation, VisitAttestation.submission_id == VisitSubmission.id)
                .where(VisitSubmission.case_id.in_(chunk),
                       VisitAttestation.signature_image_sha256.is_not(None))):
            if signature is not None:  # the query's own filter; the type does not know it
                photos[case_id].add(signature)
    return photos


def _used_elsewhere(sha256s: set[str], case_ids: Sequence[str]) -> set[str]:
    """Photos also filed for a visit of a case not in ``case_ids`` (they stay)."""
    outside: set[str] = set()
    for chunk in chunks(sorted(sha256s)):
        outside.update(db.session.scalars(
            select(VisitPhoto.sha256)
            .join(VisitSubmission, VisitSubmission.id == VisitPhoto.submission_id)
            .where(VisitPhoto.sha256.in_(chunk),
                   VisitSubmission.case_id.not_in(list(case_ids)))))
    return outside


def find_closed_applications(cutoff: datetime) -> list[registry.Purgeable]:
    """Refused and withdrawn applications that ended before ``cutoff``."""
    closed = case_retention.closed_before(CLOSED_STATUSES, cutoff)
    photos = _photos_of_cases([case_id for case_id, _ in closed])
    every = {sha for shas in photos.values() for sha in shas}
    stored = _stored(sorted(every)) - _used_elsewhere(every, [case_id for case_id, _ in closed])
    return [registry.Purgeable(case_id, (case_id,), (),
                               _photo_keys(photos[case_id] & stored))
            for case_id, _household_id in closed]


def purge_closed_applications(items: Sequence[registry.Purgeable], _cutoff: datetime) -> None:
    case_ids = [item.subject_id for item in items]
    photos = _photos_of_cases(case_ids)
    for chunk in chunks(case_ids):
        submission_ids = select(VisitSubmission.id).where(VisitSubmission.case_id.in_(chunk))
        db.session.execute(update(VisitRevision)
                           .where(VisitRevision.submission_id.in_(submission_ids))
                           .values(content={}, computed={}))
    every = {sha for shas in photos.values() for sha in shas}
    evidence.forget_photos(sorted(every - _used_elsewhere(every, case_ids)))


registry.register_kind(retention_rules.VISIT_PHOTO, find_visit_photos, purge_visit_photos)
registry.register_kind(retention_rules.CLOSED_APPLICATION, find_closed_applications,
                       purge_closed_applications, remembers_purged=True)
