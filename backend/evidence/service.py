"""Photo ingest: verify, clean, store, and find near-duplicates filed for other households."""

from __future__ import annotations

import hashlib

from flask import current_app
from sqlalchemy import select, tuple_

from backend import clock
from backend.audit import service as audit
from backend.auth.rules import Caller
from backend.errors import ProblemError
from backend.evidence.images import PhotoLimits, PhotoRejected, hamming, ingest_photo
from backend.evidence.models import Photo, PhotoHashBand
from backend.evidence.storage import BlobNotFound, make_blob_store
from backend.extensions import db

# Photos this close (bits of 64) are the same picture re-encoded or resized.
SAME_PICTURE_MAX_BITS = 6


def _store():
    store = current_app.extensions.get("doorstep_blob_store")
    if store is None:
        # PHOTO_DATA_DIR lets tests and deployments keep photos outside instance/.
        root = current_app.config.get("PHOTO_DATA_DIR") or current_app.instance_path
        store = make_blob_store(current_app.config, root)
        current_app.extensions["doorstep_blob_store"] = store
    return store


def storage_readiness() -> dict:
    """Raises unless photo storage takes writes (readiness check)."""
    return _store().readiness()


def get(sha256: str) -> Photo | None:
    return db.session.get(Photo, sha256)


def known(sha256s: list[str]) -> set[str]:
    if not sha256s:
        return set()
    return set(db.session.scalars(select(Photo.sha256).where(Photo.sha256.in_(sha256s))))


def bands_of(dhash: int) -> list[tuple[int, int]]:
    return [(band, (dhash >> (8 * band)) & 0xFF) for band in range(8)]


def upload(caller: Caller, sha256: str, raw: bytes, declared_type: str | None,
           device_id: str | None) -> tuple[Photo, bool]:
    """Store a photo once; a retried upload of the same bytes is a no-op."""
    existing = get(sha256)
    if existing is not None:
        return existing, False
    if hashlib.sha256(raw).hexdigest() != sha256:
        raise ProblemError("photo-hash-mismatch",
                           "The bytes received do not match the photo's hash: the upload was "
                           "cut or changed on the way. The app will send it again.")
    config = current_app.config
    limits = PhotoLimits(max_bytes=config["PHOTO_MAX_BYTES"], max_pixels=config["PHOTO_MAX_PIXELS"])
    try:
        photo = ingest_photo(raw, limits, declared_type)
    except PhotoRejected as rejected:
        raise ProblemError(rejected.slug, rejected.detail) from None
    store = _store()
    store.put(f"{sha256}.orig", photo.stripped_original, photo.content_type_of_original)
    store.put(f"{sha256}.thumb", photo.thumbnail, "image/jpeg")
    row = Photo(
        sha256=sha256, uploaded_by_id=caller.user_id, device_id=device_id,
        received_at=clock.now(), format=photo.format,
        content_type=photo.content_type_of_original, byte_size=len(raw),
        width=photo.width, height=photo.height,
        exif_lat=photo.gps.latitude if photo.gps else None,
        exif_lon=photo.gps.longitude if photo.gps else None,
        exif_accuracy_m=photo.gps.accuracy_m if photo.gps else None,
        exif_taken_at_local=photo.taken_at_local, exif_taken_at_offset=photo.taken_at_offset,
        camera=(photo.camera or "")[:100] or None, dhash=f"{photo.dhash:016x}",
    )
    db.session.add(row)
    db.session.add_all(PhotoHashBand(sha256=sha256, band=b, value=v)
                       for b, v in bands_of(photo.dhash))
    db.session.flush()
    audit.record("photo.uploaded", "photo", sha256, after={
        "format": row.format, "bytes": row.byte_size, "has_gps": row.exif_lat is not None})
    return row, True


def similar_photos(sha256: str) -> list[tuple[str, int]]:
    """Other photos whose dHash is within SAME_PICTURE_MAX_BITS of this one."""
    photo = get(sha256)
    if photo is None:
        return []
    dhash = int(photo.dhash, 16)
    candidates = db.session.execute(
        select(Photo.sha256, Photo.dhash).join(PhotoHashBand, PhotoHashBand.sha256 == Photo.sha256)
        .where(tuple_(PhotoHashBand.band, PhotoHashBand.value).in_(bands_of(dhash)),
               Photo.sha256 != sha256).distinct()
    ).all()
    matches = []
    for other, other_hash in candidates:
        distance = hamming(dhash, int(other_hash, 16))
        if distance <= SAME_PICTURE_MAX_BITS:
            matches.append((other, distance))
    return sorted(matches, key=lambda m: m[1])


def read_blob(sha256: str, kind: str) -> bytes:
    try:
        return _store().get(f"{sha256}.{kind}")
    except BlobNotFound:
        raise ProblemError("photo-not-found", "The photo file is missing on the server.") from None
