"""Photo ingest: verify, clean, store, and find near-duplicates filed for other households."""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable, Iterable
from concurrent import futures
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import (
    CTE,
    ColumnElement,
    Row,
    Select,
    Subquery,
    and_,
    bindparam,
    delete,
    insert,
    or_,
    select,
    union,
)
from sqlalchemy.orm import aliased

from backend import clock, events
from backend.audit import service as audit
from backend.auth.rules import Caller
from backend.bulk import any_of, chunks, upsertable_insert
from backend.errors import ProblemError
from backend.evidence.images import (
    IngestedPhoto,
    OpenedPhoto,
    PhotoLimits,
    PhotoRejected,
    hamming,
    open_photo,
)
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


@dataclass(frozen=True)
class PhotoView:
    """What a photo's EXIF says, for checks made elsewhere (visit integrity)."""

    sha256: str
    exif_lat: float | None
    exif_lon: float | None
    exif_taken_at_local: str | None
    exif_taken_at_offset: str | None
    uploaded_by_id: str | None
    device_id: str | None
    dhash: int  # the 64-bit dHash (similar_photos)


@functools.cache
def _photos_named() -> Select:
    return select(Photo).where(any_of(Photo.sha256))


def by_hashes(sha256s: Iterable[str]) -> dict[str, PhotoView]:
    """The stored photos among ``sha256s``, by hash."""
    found: dict[str, PhotoView] = {}
    for chunk in chunks(sha256s):
        for photo in db.session.scalars(_photos_named(), {"ids": chunk}):
            found[photo.sha256] = PhotoView(photo.sha256, photo.exif_lat, photo.exif_lon,
                                            photo.exif_taken_at_local,
                                            photo.exif_taken_at_offset, photo.uploaded_by_id,
                                            photo.device_id, int(photo.dhash, 16))
    return found


# The columns of a PhotoView, as photo_named_alone labels them.
_VIEW_COLUMNS = ("sha256", "exif_lat", "exif_lon", "exif_taken_at_local",
                 "exif_taken_at_offset", "uploaded_by_id", "device_id", "dhash")


@functools.cache
def photo_named_alone() -> Subquery:
    """The stored photo the bound ``photo_sha256`` names (at most one row), for another
    package to join to a statement it sends anyway: one round trip fewer on the phone's
    common push of one record (issue 23). ``photo_from_joined`` reads it back."""
    return select(*(getattr(Photo, name).label(f"named_photo_{name}")
                    for name in _VIEW_COLUMNS)).where(
        Photo.sha256 == bindparam("photo_sha256", type_=Photo.sha256.type)).subquery(
        "named_photo")


def photo_from_joined(row: Row) -> PhotoView | None:
    """The photo of ``photo_named_alone`` in a row of the statement it was joined to."""
    found = row._mapping
    if found["named_photo_sha256"] is None:
        return None

    def column(name: str):
        return found[f"named_photo_{name}"]

    return PhotoView(column("sha256"), column("exif_lat"), column("exif_lon"),
                     column("exif_taken_at_local"), column("exif_taken_at_offset"),
                     column("uploaded_by_id"), column("device_id"), int(column("dhash"), 16))


ViewPolicy = Callable[[Caller, str], bool]
_view_policies: list[ViewPolicy] = []


def allow_viewing(policy: ViewPolicy) -> None:
    """Register (at app start) a rule granting a caller a photo, e.g. "it belongs to a visit
    of a case you may see"; the uploader always may."""
    if policy not in _view_policies:
        _view_policies.append(policy)


def can_view(caller: Caller, sha256: str) -> bool:
    photo = get(sha256)
    if photo is None:
        return False
    if photo.uploaded_by_id == caller.user_id:
        return True
    return any(policy(caller, sha256) for policy in _view_policies)


def known(sha256s: list[str]) -> set[str]:
    if not sha256s:
        return set()
    return set(db.session.scalars(select(Photo.sha256).where(Photo.sha256.in_(sha256s))))


def bands_of(dhash: int) -> list[tuple[int, int]]:
    return [(band, (dhash >> (8 * band)) & 0xFF) for band in range(8)]


def upload(caller: Caller, sha256: str, raw: bytes, declared_type: str | None,
           device_id: str | None) -> tuple[Photo, bool]:
    """Store a photo once; a retried upload of the same bytes is a no-op.

    The bytes are checked against the hash first, also for a photo already stored: only
    someone holding the photo learns that the server has it (and its metadata)."""
    if hashlib.sha256(raw).hexdigest() != sha256:
        raise ProblemError("photo-hash-mismatch",
                           "The bytes received do not match the photo's hash: the upload was "
                           "cut or changed on the way. The app will send it again.")
    existing = get(sha256)
    if existing is not None:
        return existing, False
    config = current_app.config
    limits = PhotoLimits(max_bytes=config["PHOTO_MAX_BYTES"], max_pixels=config["PHOTO_MAX_PIXELS"])
    store = _store()
    try:
        with open_photo(raw, limits, declared_type, sha256) as opened:
            photo = _decoded_storing_the_original(opened, store, sha256)
    except PhotoRejected as rejected:
        raise ProblemError(rejected.slug, rejected.detail) from None
    store.put(f"{sha256}.thumb", photo.thumbnail, "image/jpeg")
    values = dict(
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
    if not _insert_unless_present(values):
        # Another upload of the same bytes committed first: answer as its replay does.
        return _stored(sha256), False
    db.session.execute(insert(PhotoHashBand), [
        {"sha256": sha256, "band": b, "value": v} for b, v in bands_of(photo.dhash)])
    audit.record("photo.uploaded", "photo", sha256, after={
        "format": photo.format, "bytes": len(raw), "has_gps": photo.gps is not None})
    events.raise_(events.PhotoStored(sha256))  # visits re-check the visits naming it
    return _stored(sha256), True


def _decoded_storing_the_original(opened: OpenedPhoto, store, sha256: str) -> IngestedPhoto:
    """The decoded photo, its cleaned original in storage.

    A JPEG is cleaned without decoding its pixels, so it is cleaned and written while a
    helper thread decodes (libjpeg runs without the GIL): for a 12 MP photo the write and
    its fsync, or the upload to object storage, no longer wait for the ~30 ms decode (issue
    23). If the decode then refuses the picture (cut off part-way), the copy is deleted
    again. PNG, WebP and HEIF are cleaned by re-encoding their pixels: decode, then store."""
    key = f"{sha256}.orig"
    if not opened.is_jpeg:
        photo = opened.decode()
        store.put(key, photo.stripped_original, photo.content_type_of_original)
        return photo
    pending = _decoder().submit(opened.decode)
    try:
        store.put(key, opened.cleaned_jpeg(), "image/jpeg")
    finally:
        futures.wait([pending])  # the picture stays open until its decode has finished
    try:
        return pending.result()
    except PhotoRejected:
        store.delete(key)
        raise


_decoder_of_process: tuple[int, futures.ThreadPoolExecutor] | None = None


def _decoder() -> futures.ThreadPoolExecutor:
    """This process's photo-decoding threads. Made on first use and again after a fork: a
    pool made in gunicorn's master before it forks would have no threads in the workers.
    Two threads: a sync worker decodes one photo at a time; `flask run` serves in threads."""
    global _decoder_of_process
    if _decoder_of_process is None or _decoder_of_process[0] != os.getpid():
        pool = futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="photo-decode")
        _decoder_of_process = (os.getpid(), pool)
    return _decoder_of_process[1]


def _stored(sha256: str) -> Photo:
    row = get(sha256)
    if row is None:  # only if the database isolated more strictly than READ COMMITTED
        raise ProblemError("conflict", "The same photo is arriving from elsewhere; retry.")
    return row


def _insert_unless_present(values: dict) -> bool:
    """INSERT … ON CONFLICT DO NOTHING: False when the photo is already there.

    Two uploads of one photo may both find it missing and both get this far; the
    database lets one insert it and the other (on PostgreSQL, after waiting for the
    first to commit) skips, instead of failing on the primary key.
    """
    statement = upsertable_insert(db.session.get_bind().dialect.name, Photo)
    return db.session.scalar(statement.values(**values).on_conflict_do_nothing()
                             .returning(Photo.sha256)) is not None


def dhashes(sha256s: Iterable[str]) -> dict[str, int]:
    """The 64-bit dHash of each stored photo among ``sha256s``."""
    found: dict[str, int] = {}
    for chunk in chunks(sha256s):
        for sha256, dhash in db.session.execute(
                select(Photo.sha256, Photo.dhash).where(Photo.sha256.in_(chunk))):
            found[sha256] = int(dhash, 16)
    return found


def _shares_a_band() -> ColumnElement[bool]:
    """A band row holding one of the 8 bytes of the dHash bound as ``dhash_band_0`` to
    ``dhash_band_7`` (band_parameters), as 8 ORed (band, value) pairs: SQLite answers each from
    ix_photo_hash_band_lookup, where a row-value IN list ((band, value) IN (VALUES ...))
    read the whole band table for every photo checked."""
    value_type = PhotoHashBand.value.type
    return or_(*(and_(PhotoHashBand.band == band,
                      PhotoHashBand.value == bindparam(f"dhash_band_{band}", type_=value_type))
                 for band in range(8)))


def _photo_sha256():
    return bindparam("photo_sha256", type_=Photo.sha256.type)


def band_parameters(sha256: str, dhash: int) -> dict[str, object]:
    """The values `photos_sharing_a_band` and `similar_photos` bind: the photo, its bands."""
    bands = {f"dhash_band_{band}": value for band, value in bands_of(dhash)}
    return {"photo_sha256": sha256, **bands}


@functools.cache
def photos_sharing_a_band() -> CTE:
    """(sha256, dhash) of the photos sharing one of the 8 bands of a dHash (every photo
    within 7 bits does), the photo itself included, bound by `band_parameters`: a CTE for a
    caller to join its own rows to, so "which of my rows hold a photo like this one" is one
    statement (issue 23). The caller keeps only those within its threshold (images.hamming).
    Built once: building the 8 pairs anew cost about 1 ms of a ~10 ms check-in."""
    banded = select(Photo.sha256, Photo.dhash).join(
        PhotoHashBand, PhotoHashBand.sha256 == Photo.sha256).where(_shares_a_band())
    itself = select(Photo.sha256, Photo.dhash).where(Photo.sha256 == _photo_sha256())
    return union(banded, itself).cte("photos_like_this")


@functools.cache
def photos_sharing_a_band_of_stored() -> CTE:
    """As `photos_sharing_a_band`, for the stored photo bound as ``photo_sha256`` alone: its
    bands come from the band index in the same statement, so a caller reads the photo and
    the photos like it at once (issue 23). None of it when that photo is not stored."""
    its_band, other_band = aliased(PhotoHashBand), aliased(PhotoHashBand)
    banded = select(Photo.sha256, Photo.dhash).join(
        other_band, other_band.sha256 == Photo.sha256).join(
        its_band, and_(its_band.band == other_band.band, its_band.value == other_band.value)
    ).where(its_band.sha256 == _photo_sha256())
    itself = select(Photo.sha256, Photo.dhash).where(Photo.sha256 == _photo_sha256())
    return union(banded, itself).cte("photos_like_the_stored")


@functools.cache
def _similar_candidates() -> Select:
    return (select(Photo.sha256, Photo.dhash)
            .join(PhotoHashBand, PhotoHashBand.sha256 == Photo.sha256)
            .where(_shares_a_band(), Photo.sha256 != _photo_sha256())
            .distinct())


def similar_photos(sha256: str, max_bits: int = SAME_PICTURE_MAX_BITS,
                   dhash: int | None = None) -> list[tuple[str, int]]:
    """Other photos whose dHash is within ``max_bits`` (at most 7: the 8 bands then find
    every match) of this one; ``dhash``: this photo's, when the caller has it already
    (PhotoView.dhash), which spares reading the photo again."""
    if dhash is None:
        photo = get(sha256)
        if photo is None:
            return []
        dhash = int(photo.dhash, 16)
    candidates = db.session.execute(_similar_candidates(), band_parameters(sha256, dhash)).all()
    matches = []
    for other, other_hash in candidates:
        distance = hamming(dhash, int(other_hash, 16))
        if distance <= max_bits:
            matches.append((other, distance))
    return sorted(matches, key=lambda m: m[1])


def read_blob(sha256: str, kind: str) -> bytes:
    try:
        return _store().get(f"{sha256}.{kind}")
    except BlobNotFound:
        raise ProblemError("photo-not-found", "The photo file is missing on the server.") from None


def read_derived(key: str) -> bytes | None:
    """A file derived from photos (a watermarked copy, a dossier), or None when not made yet."""
    try:
        return _store().get(key)
    except BlobNotFound:
        return None


def store_derived(key: str, data: bytes, content_type: str) -> None:
    """Keep a derived file beside the photos (same store, same retention)."""
    _store().put(key, data, content_type)


def blob_keys_of(sha256: str) -> tuple[str, ...]:
    """The files a stored photo has in storage (the cleaned original and its thumbnail)."""
    return (f"{sha256}.orig", f"{sha256}.thumb")


def forget_photos(sha256s: Iterable[str]) -> int:
    """Delete photos' rows (EXIF place, camera, hash bands) for a retention purge; their
    files are deleted with ``delete_blobs`` once the purge has committed (ADR 0022)."""
    count = 0
    for chunk in chunks(sha256s):
        db.session.execute(delete(PhotoHashBand).where(PhotoHashBand.sha256.in_(chunk)))
        count += db.session.execute(  # a DELETE answers a CursorResult
            delete(Photo).where(Photo.sha256.in_(chunk))).rowcount or 0  # type: ignore[attr-defined]
    return count


def delete_blobs(keys: Iterable[str]) -> list[str]:
    """Delete files from storage (local or S3); the keys deleted (a missing one counts)."""
    store = _store()
    done = []
    for key in keys:
        store.delete(key)
        done.append(key)
    return done
