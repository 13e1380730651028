"""Photo checks of a check-in: reuse (dHash against earlier check-ins and reference
photos) and identity (the face against the reference photo, queued)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import CTE, CompoundSelect, Label, bindparam, literal, select, union_all

from backend import clock, events, jobs
from backend.audit import service as audit
from backend.bulk import json_rows
from backend.checkins import follow_ups, rules
from backend.checkins.models import CheckIn, CheckInFlag, Recipient
from backend.errors import ProblemError
from backend.evidence import service as evidence
from backend.extensions import db
from backend.jurisdictions import service as jurisdictions
from backend.privacy import service as privacy

log = logging.getLogger(__name__)

NO_CONSENT = "no-consent"  # face matching not consented to: never compared, never flagged


def on_photo_stored(event: events.PhotoStored) -> None:
    """A check-in's photo arrived after the check-in: check it now."""
    for checkin_id in db.session.scalars(select(CheckIn.id).where(
            CheckIn.photo_sha256 == event.sha256, CheckIn.identity_status == "pending")):
        assess_photo(checkin_id)


@dataclass(frozen=True)
class Known:
    """What the push already loaded: spares assess_photo reading it again."""

    row: CheckIn
    recipient: Recipient
    settings: dict
    flags: list[rules.Flag]
    photo_dhash: int
    # The photos seen like this one, when read before the check-in was stored (the push's
    # first record): no check-in stored since can be among them, so they stand.
    seen: list[rules.PhotoSeen] | None = None


def assess_photo(checkin_id: str, known: Known | None = None) -> list[rules.Flag]:
    """Photo reuse (dHash against earlier check-ins and other recipients' reference photos),
    a follow-up when anything was flagged, then the identity check, queued (it takes a
    second of CPU)."""
    if known is not None:
        row, recipient, settings = known.row, known.recipient, known.settings
    else:
        found = db.session.get(CheckIn, checkin_id)
        if found is None:
            return []
        row = found
        owner = db.session.get(Recipient, row.recipient_id)
        assert owner is not None
        recipient = owner
        settings = jurisdictions.effective_settings(recipient.jurisdiction_code)
    max_bits = settings["checkin_photo_reuse_max_bits"]
    dhash = known.photo_dhash if known is not None else evidence.dhashes(
        [row.photo_sha256]).get(row.photo_sha256)
    flags: list[rules.Flag] = []
    if dhash is not None:  # None: the photo is not stored yet; its arrival checks again
        seen = known.seen if known is not None and known.seen is not None else \
            _photos_seen(checkin_id, row.photo_sha256, dhash)
        flags = rules.photo_reuse_flags(row.photo_sha256, dhash, recipient.id, seen, max_bits)
        follow_ups.store_flags(checkin_id, flags, clock.now())
    if known is not None:
        all_flags = known.flags + flags
    else:
        all_flags = [rules.Flag(code, data) for code, data in db.session.execute(select(
            CheckInFlag.code, CheckInFlag.data).where(CheckInFlag.checkin_id == checkin_id))]
    follow_ups.open_follow_up(recipient, "flagged", row.window_key, checkin_id, all_flags,
                    is_new=known is not None)
    _queue_identity_check(checkin_id)
    return flags


@functools.cache
def _photos_seen_statement() -> CompoundSelect:
    """Built once, bound per check-in (`checkin_id`, and evidence.band_parameters)."""
    return _photos_seen_among(evidence.photos_sharing_a_band())


@functools.cache
def photos_seen_joinable(dialect: str) -> Label:
    """The photos seen like the stored photo bound as ``photo_sha256`` (bound ``checkin_id``
    left out), as one JSON list, for the push to read with the recipient's row before it
    stores the check-in (issue 23: a check-in's statements); ``seen_from_joined`` reads it."""
    seen = _photos_seen_among(evidence.photos_sharing_a_band_of_stored()).subquery()
    return select(json_rows(dialect, *seen.c)).scalar_subquery().label("photos_seen")


def seen_from_joined(rows: list | None) -> list[rules.PhotoSeen]:
    return _seen(rows or ())


def _photos_seen_among(near: CTE) -> CompoundSelect:
    """The other check-ins and the reference photos whose photo is in ``near``."""
    return union_all(
        select(CheckIn.photo_sha256, near.c.dhash, CheckIn.recipient_id, CheckIn.household_id,
               literal("checkin").label("kind"))
        .join(near, near.c.sha256 == CheckIn.photo_sha256)
        .where(CheckIn.id != bindparam("checkin_id", type_=CheckIn.id.type)),
        select(Recipient.reference_photo_sha256, near.c.dhash, Recipient.id,
               Recipient.household_id, literal("reference").label("kind"))
        .join(near, near.c.sha256 == Recipient.reference_photo_sha256))


def _photos_seen(checkin_id: str, sha256: str, dhash: int) -> list[rules.PhotoSeen]:
    """Every other check-in and every reference photo whose picture shares a dHash band with
    this one (the very same bytes included), in one statement: the rule keeps those within
    the threshold. The check-in's own row is left out; a recipient's own reference photo is
    not (a proxy check-in sending the reference picture back is reuse)."""
    return _seen(db.session.execute(_photos_seen_statement(), {
        **evidence.band_parameters(sha256, dhash), "checkin_id": checkin_id}))


def _seen(rows: Iterable) -> list[rules.PhotoSeen]:
    return [rules.PhotoSeen(sha, int(other, 16), recipient_id, household_id,
                            is_reference=kind == "reference")
            for sha, other, recipient_id, household_id, kind in rows]


def _queue_identity_check(checkin_id: str) -> None:
    """Queue the identity check; a queue outage leaves the check-in ``pending`` and is
    logged, never lost."""
    try:
        identity_check(checkin_id)
    except Exception:  # noqa: BLE001 - the check-in is stored; the check can be re-run
        log.exception("could not queue the identity check of %s", checkin_id)


@jobs.task(retries=3, retry_delay=10, name="checkin_identity")
def identity_check(checkin_id: str) -> str | None:
    return check_identity(checkin_id)


def check_identity(checkin_id: str) -> str | None:
    """Compare the check-in's face with the reference photo (the configured verifier)."""
    from backend.checkins import identity

    row = db.session.get(CheckIn, checkin_id)
    if row is None or row.identity_status not in ("pending",):
        return row.identity_status if row else None
    recipient = db.session.get(Recipient, row.recipient_id)
    assert recipient is not None
    if not privacy.has_face_consent(recipient.user_id):
        # No separate consent (PIPL Art. 29): no face matching, and no flag for declining;
        # the check-in stands, and the assistant or a home visit confirms the person.
        row.identity_status, row.identity_distance = NO_CONSENT, None
        row.identity_checked_by = None
        db.session.flush()
        return NO_CONSENT
    try:
        reference = evidence.read_blob(recipient.reference_photo_sha256, "orig")
        probe = evidence.read_blob(row.photo_sha256, "orig")
    except ProblemError:
        return None  # a photo is not there yet; its arrival checks again
    verifier = identity.verifier(current_app.config["IDENTITY_VERIFIER"],
                                 current_app.config["IDENTITY_MAX_DISTANCE"])
    try:
        result = verifier.compare(reference, probe)
    except Exception:  # noqa: BLE001 - an image the model cannot read goes to a person
        log.exception("identity check of %s failed; a person must compare the photos",
                      checkin_id)
        result = identity.IdentityResult("unverified", None, verifier.name)
    row.identity_status, row.identity_distance = result.status, result.distance
    row.identity_checked_by = result.checked_by
    code = {"mismatch": "face-mismatch", "no-face": "face-not-found",
            "unverified": "identity-unverified"}.get(result.status)
    if code:
        flag = rules.Flag(code, {"distance": result.distance or 0.0,
                                 "checked_by": result.checked_by})
        follow_ups.store_flags(checkin_id, [flag], clock.now())
        follow_ups.open_follow_up(recipient, "flagged", row.window_key, checkin_id, [flag])
    audit.record("checkin.identity_checked", "checkin", checkin_id, after={
        "status": result.status, "distance": result.distance, "by": result.checked_by},
        jurisdiction_code=recipient.jurisdiction_code)
    db.session.flush()
    return result.status
