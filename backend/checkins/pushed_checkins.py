"""Check-ins pushed by sync: verify, judge the window, flag, store, audit; a replay
answers what was stored."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import Insert, Row, Select, any_, bindparam, select, true
from sqlalchemy.dialects import postgresql

from backend.attestation import canonical
from backend.attestation import rules as attestation
from backend.audit import service as audit
from backend.auth import rules as roles
from backend.bulk import chunks, insert_ignoring_conflicts, json_rows, upsertable_insert
from backend.checkins import follow_ups, photo_checks, recipients, rules
from backend.checkins.models import CheckIn, CheckInFlag, CheckInWindowResult, Recipient
from backend.dbtypes import utc_from_json
from backend.devices import rules as device_rules
from backend.devices import service as devices
from backend.errors import ProblemError
from backend.evidence import service as evidence
from backend.extensions import db
from backend.jurisdictions import service as jurisdictions
from backend.sync.registry import ParsedRecord, PushBatch

CHECKIN_MESSAGE_PREFIX = "doorstep-checkin:v1:"
SIGNED_KEYS = ("id", "recipient_id", "photo", "challenge", "challenge_answer", "location",
               "captured_at", "proxy")


def checkin_digest(raw: dict) -> str:
    content = {key: raw.get(key) for key in SIGNED_KEYS}
    return hashlib.sha256(canonical.canonical_json(content)).hexdigest()


def checkin_message(digest: str) -> bytes:
    return (CHECKIN_MESSAGE_PREFIX + digest).encode("ascii")


def _answer(row: CheckIn, flags: list[str], status: str) -> dict:
    return {"id": row.id, "status": status, "flags": [
        {"code": code, "severity": "warning"} for code in flags]}


def push_checkins(batch: PushBatch, records: list[ParsedRecord]) -> list[dict]:
    """The handler of ``checkin`` records: one answer per record, in order; a replay of a
    stored check-in answers ``duplicate`` with what was stored.

    A record that is refused raises its ProblemError: the dispatcher (sync.service._handle)
    rolls the group back and handles its records again one per SAVEPOINT, so only that one
    is rejected. No SAVEPOINT per record here: a phone sends its check-ins one at a time,
    and the dispatcher's SAVEPOINT already isolates a push of one record."""
    loaded = [r.loaded for r in records]
    ids = [str(item["id"]) for item in loaded]
    # replays.replayed_checkins already looked these ids up: read again only those it found
    # (another submitter's, or changed content: the conflict below). A request racing this
    # one is still caught by the insert's conflict.
    known = batch.looked_up.get("checkin")
    wanted = ids if known is None else [i for i in ids if i in known]
    reads = _Reads(existing={row.id: row for chunk in chunks(wanted) for row in
                             db.session.scalars(select(CheckIn).where(CheckIn.id.in_(chunk)))})
    read_with_own: tuple[set, set] = (set(), set())
    if batch.caller.has(roles.RECIPIENT):
        read_with_own = _read_own(batch, loaded[0], reads)
    reads.keys |= devices.keys_by_id({item["key_id"] for item in loaded} - read_with_own[0])
    reads.photos |= evidence.by_hashes({item["photo"]["sha256"] for item in loaded}
                                       - read_with_own[1])
    return [_checkin(batch, record, reads) for record in records]


@dataclass
class _Reads:
    """What a push read for its records, once a batch."""

    existing: dict[str, CheckIn]
    keys: dict[str, devices.DeviceKeyView] = field(default_factory=dict)
    photos: dict[str, evidence.PhotoView] = field(default_factory=dict)
    own: Row | None = None  # the caller's own recipient row, with their home
    # The own recipient's earlier check-ins came with their row; each one stored here joins
    # them, so the next record of the batch compares with it as if read again.
    history: dict[str, list] = field(default_factory=dict)
    settings: dict[str, dict] = field(default_factory=dict)  # by place
    # By check-in id: the photos like its own, read with the recipient's row before it was
    # stored (the batch's first record).
    seen: dict[str, list[rules.PhotoSeen]] = field(default_factory=dict)


def _read_own(batch: PushBatch, first: dict, reads: _Reads) -> tuple[set, set]:
    """The caller's own recipient row with everything the first record needs: its device key,
    its stored photo and the photos like it, the settings of the recipient's place, in one
    statement (issue 23: a phone's push of one check-in). The key and photo ids it read."""
    own = db.session.execute(_own_recipient(db.session.get_bind().dialect.name), {
        "user_id": batch.caller.user_id, "key_ids": [str(first["key_id"])],
        "photo_sha256": first["photo"]["sha256"], "checkin_id": str(first["id"])}).first()
    if own is None:
        return set(), set()
    reads.own = own
    reads.history[own[0].id] = _earlier_from_joined(own.earlier_checkins)
    place = own[0].jurisdiction_code
    reads.settings[place] = jurisdictions.settings_from_joined(place, own.place_settings)
    reads.keys |= devices.keys_from_joined(own.named_keys)
    if (photo := evidence.photo_from_joined(own)) is not None:
        reads.photos[photo.sha256] = photo
        reads.seen[str(first["id"])] = photo_checks.seen_from_joined(own.photos_seen)
    return {first["key_id"]}, {first["photo"]["sha256"]}


Home = tuple[float, float] | None


def _target_recipient(batch: PushBatch, item: dict, own: Row | None) -> tuple[Recipient, Home]:
    """Whom the check-in is for, with their household's home, read in one statement."""
    caller = batch.caller
    wanted = item.get("recipient_id")
    if item.get("proxy") is not None:
        if not caller.has(*recipients.PROXY_ROLES):
            raise ProblemError("forbidden", "Only a village assistant checks in for someone.")
        found = db.session.execute(recipients.with_home(recipients.visible_recipients(
            caller).where(Recipient.id == (wanted or "")))).first()
        if found is None:
            raise ProblemError("recipient-not-found", "No such recipient in your area.")
        return found[0], _home(found)
    if own is None:
        raise ProblemError("forbidden", "Only a recipient checks in; staff send a proxy "
                           "check-in with a reason.")
    if wanted not in (None, own[0].id):
        raise ProblemError("recipient-not-found", "No such recipient.")
    return own[0], _home(own)


def _home(found: Row) -> Home:
    lat, lon = found[1], found[2]
    return (lat, lon) if lat is not None else None


def _checkin(batch: PushBatch, record: ParsedRecord, reads: _Reads) -> dict:
    item, raw = record.loaded, record.raw
    record_id = str(item["id"])
    recipient, home = _target_recipient(batch, item, reads.own)
    try:
        digest = checkin_digest(raw)
    except ValueError as unsignable:
        raise ProblemError("record-not-canonical", "A value cannot be signed as canonical "
                           "JSON.", {"_record": [str(unsignable)[:200]]}) from None
    stored = reads.existing.get(record_id)
    if stored is not None:
        if stored.recipient_id != recipient.id or stored.digest != digest:
            raise ProblemError("conflict", "This id belongs to another check-in.")
        codes = list(db.session.scalars(select(CheckInFlag.code).where(
            CheckInFlag.checkin_id == record_id)))
        return _answer(stored, codes, "duplicate")
    photo = item["photo"]
    if photo["source"] != "camera":
        raise ProblemError("checkin-photo-not-camera",
                           "Take the photo now with the front camera; a picture from the "
                           "gallery is not accepted.")
    place = recipient.jurisdiction_code
    if place not in reads.settings:
        reads.settings[place] = jurisdictions.effective_settings(place)
    settings = reads.settings[place]
    age = abs(item["captured_at"] - photo["captured_at"])
    if age > timedelta(minutes=settings["checkin_max_capture_age_minutes"]):
        raise ProblemError("checkin-capture-stale",
                           "The photo was not taken at the check-in; take a new one now.",
                           {"photo.captured_at": [f"{age.total_seconds() / 60:.0f} minutes "
                                                  "from the check-in"]})
    submitter = batch.caller.user_id
    stored_photo = reads.photos.get(photo["sha256"])
    if stored_photo is not None and stored_photo.uploaded_by_id != submitter:
        raise ProblemError("checkin-photo-not-yours",
                           "This photo was uploaded by someone else; take your own.")
    problem = rules.challenge_problem(item["challenge"])
    if problem:
        raise ProblemError("validation-failed", "The challenge is not one the app shows.",
                           {"challenge": [problem]})
    key = reads.keys.get(item["key_id"])
    now = batch.received_at
    if key is None or key.user_id != submitter or not device_rules.is_key_active(
            key.revoked_at, now) or not attestation.verify_p256(
            key.public_key_jwk, checkin_message(digest), item["signature"]):
        raise ProblemError("checkin-signature-invalid",
                           "The check-in is not signed with your own device key.")
    window = rules.window_for(recipient.category, item["captured_at"],
                              recipients.window_settings(settings))
    outcome = rules.judge(window, item["captured_at"], now)
    location = item["location"]
    row = CheckIn(
        id=record_id, recipient_id=recipient.id, household_id=recipient.household_id,
        jurisdiction_code=recipient.jurisdiction_code, submitted_by_id=submitter,
        is_proxy=item.get("proxy") is not None,
        proxy_reason=(item.get("proxy") or {}).get("reason"), photo_sha256=photo["sha256"],
        photo_source=photo["source"], photo_captured_at=photo["captured_at"],
        challenge=item["challenge"], challenge_answer=item.get("challenge_answer"),
        lat=location["lat"], lon=location["lon"], accuracy_m=location.get("accuracy_m"),
        captured_at=item["captured_at"], sent_at=batch.sent_at, received_at=now,
        device_id=key.device_id, key_id=key.id, signature=item["signature"], digest=digest,
        window_key=window.key if window else None, outcome=outcome,
        identity_status="pending")
    history = reads.history
    flags = _flags(row, recipient, home, window, batch, settings, history.get(recipient.id))
    if not _store(row):
        # The same check-in sent twice at once (a retry racing the first send): the other
        # request stored it, so this one is its replay.
        return {"id": record_id, "status": "duplicate", "flags": []}
    if recipient.id in history and not row.is_proxy:
        history[recipient.id].append(row)
    follow_ups.store_flags(record_id, flags, now)
    audit.record("checkin.received", "checkin", record_id, actor_id=submitter, after={
        "recipient": recipient.id, "window": row.window_key, "outcome": outcome,
        "flags": [f.code for f in flags], "proxy": row.is_proxy},
        jurisdiction_code=recipient.jurisdiction_code)
    if stored_photo is not None:
        flags += photo_checks.assess_photo(record_id, photo_checks.Known(
            row, recipient, settings, list(flags), stored_photo.dhash,
            reads.seen.pop(record_id, None)))
    else:
        follow_ups.open_follow_up(recipient, "flagged", row.window_key, record_id, flags,
                                  is_new=True)
    return {"id": record_id, "status": "accepted", "flags": [
        {"code": f.code, "severity": "warning"} for f in flags]}


def _columns(row: CheckIn) -> dict:
    return {column.key: getattr(row, column.key) for column in CheckIn.__table__.columns}


def _flags(row: CheckIn, recipient: Recipient, home: Home, window: rules.Window | None,
           batch: PushBatch, settings: dict, known: list | None) -> list[rules.Flag]:
    """The check-in's flags; ``known``: the recipient's own earlier check-ins when the push
    read them already (anything with lat, lon, captured_at and key_id), else read here."""
    thresholds = recipients.flag_thresholds(settings)
    flags: list[rules.Flag] = []
    if window is None:
        flags.append(rules.Flag("outside-window", {}))
    declared = (recipient.declared_lat, recipient.declared_lon) \
        if recipient.declared_lat is not None and recipient.declared_lon is not None else None
    flags += rules.residence_flags((row.lat, row.lon), home, declared,
                                   thresholds.max_residence_distance_m)
    flags += rules.clock_flags(row.captured_at, batch.sent_at, row.received_at,
                               thresholds.max_clock_skew_minutes)
    own = known if known is not None else db.session.execute(
        _own_checkins(), {"recipient_id": recipient.id}).all()
    previous = max((c for c in own if c.captured_at < row.captured_at),
                   key=lambda c: c.captured_at, default=None)
    flags += rules.mocked_location_flags(
        row.accuracy_m, rules.Fix((row.lat, row.lon), row.captured_at),
        rules.Fix((previous.lat, previous.lon), previous.captured_at) if previous else None,
        thresholds.max_speed_kmh)
    if not row.is_proxy:
        flags += rules.device_flags(row.device_id, row.key_id, {c.key_id for c in own})
    else:
        flags.append(rules.Flag("proxy-check-in", {"reason": row.proxy_reason}))
    return flags


def _store(row: CheckIn) -> bool:
    """Insert the check-in unless it is there already (False) and, when it is new and in a
    window, the window's result: the first check-in sets it; an on-time one beats a late one,
    and a late arrival replaces a miss judged before it came (nothing accepted is lost).
    PostgreSQL does both in one statement (issue 23: a check-in's statements)."""
    columns = _columns(row)
    replaces = _REPLACES.get(row.outcome, [])
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        return db.session.execute(_stored_with_window_result(), {
            **columns, "replaces": replaces}).first() is not None
    if not insert_ignoring_conflicts(CheckIn, [columns], "id"):
        return False
    if row.window_key is not None:
        db.session.execute(_window_result_upsert(dialect), {
            "recipient_id": row.recipient_id, "window_key": row.window_key,
            "outcome": row.outcome, "checkin_id": row.id, "judged_at": row.received_at,
            "replaces": replaces})
    return True


# An outcome replaces the stored result of its window only when it is better than it.
_REPLACES: dict[str, list[str]] = {rules.ON_TIME: [rules.LATE, rules.MISSED],
                                   rules.LATE: [rules.MISSED]}


@functools.cache
def _window_result_upsert(dialect: str) -> Insert:
    """One statement (issue 23: a check-in's statements): insert the window's result, or on
    the key's conflict replace it WHERE the stored outcome is one this one ``replaces``."""
    statement = upsertable_insert(dialect, CheckInWindowResult)
    return statement.on_conflict_do_update(
        index_elements=[CheckInWindowResult.recipient_id, CheckInWindowResult.window_key],
        set_={"outcome": statement.excluded.outcome,
              "checkin_id": statement.excluded.checkin_id,
              "judged_at": statement.excluded.judged_at},
        where=CheckInWindowResult.outcome.in_(bindparam("replaces", expanding=True)))


@functools.cache
def _stored_with_window_result() -> Select:
    """PostgreSQL: the check-in's INSERT … ON CONFLICT DO NOTHING and, from the row it
    returns (none: it was there), its window's result, as `_window_result_upsert` writes it;
    the id comes back when the check-in was stored. Data-modifying CTEs run whether or not
    the outer SELECT reads them. Built once, bound with the check-in's columns."""
    table = CheckIn.__table__
    stored = postgresql.insert(table).values(
        {column.key: bindparam(column.key, type_=column.type) for column in table.columns}
    ).on_conflict_do_nothing(index_elements=[table.c.id]).returning(
        table.c.id, table.c.recipient_id, table.c.window_key, table.c.outcome,
        table.c.received_at).cte("stored_checkin")
    result = postgresql.insert(CheckInWindowResult)
    judged = result.from_select(
        ["recipient_id", "window_key", "outcome", "checkin_id", "judged_at"],
        select(stored.c.recipient_id, stored.c.window_key, stored.c.outcome, stored.c.id,
               stored.c.received_at).where(stored.c.window_key.is_not(None)),
    ).on_conflict_do_update(
        index_elements=[CheckInWindowResult.recipient_id, CheckInWindowResult.window_key],
        set_={"outcome": result.excluded.outcome, "checkin_id": result.excluded.checkin_id,
              "judged_at": result.excluded.judged_at},
        where=CheckInWindowResult.outcome == any_(bindparam(
            "replaces", type_=postgresql.ARRAY(CheckInWindowResult.outcome.type)))
    ).cte("window_result")
    return select(stored.c.id).add_cte(judged)


@functools.cache
def _own_recipient(dialect: str) -> Select:
    """The caller's own recipient row with its home; their own earlier check-ins (where,
    when, with which key: the speed and device flags) as one JSON list; the device keys
    ``key_ids`` names (revoked too) as another; the stored photo ``photo_sha256`` names (one
    row at most, so it multiplies nothing); the photos like that one (but check-in
    ``checkin_id``) and the settings of the recipient's place. One row, one statement built
    once a dialect (issue 23: a check-in's statements), whose size grows with the history
    alone."""
    photo = evidence.photo_named_alone()
    earlier = select(json_rows(dialect, CheckIn.lat, CheckIn.lon, CheckIn.captured_at,
                               CheckIn.key_id)).where(
        CheckIn.recipient_id == Recipient.id, CheckIn.is_proxy.is_(False)
    ).scalar_subquery().label("earlier_checkins")
    return recipients.with_home(select(Recipient).where(
        Recipient.user_id == bindparam("user_id"))).add_columns(
        earlier, devices.keys_joinable(dialect), *photo.c,
        photo_checks.photos_seen_joinable(dialect),
        jurisdictions.overrides_of_place_joinable(dialect, Recipient.jurisdiction_code)
    ).outerjoin(photo, true())


class _Earlier(NamedTuple):
    """An earlier check-in of the recipient's own, as the flags read it."""

    lat: float
    lon: float
    captured_at: datetime
    key_id: str | None


def _earlier_from_joined(rows: list | None) -> list[_Earlier]:
    """The JSON list `_own_recipient` read (its times are text there)."""
    return [_Earlier(lat, lon, captured_at, key_id) for lat, lon, text, key_id in rows or ()
            if (captured_at := utc_from_json(text)) is not None]


@functools.cache
def _own_checkins() -> Select:
    """Where and with which key a recipient checked in before (speed and device flags)."""
    return select(CheckIn.lat, CheckIn.lon, CheckIn.captured_at, CheckIn.key_id).where(
        CheckIn.recipient_id == bindparam("recipient_id"), CheckIn.is_proxy.is_(False))
