"""Recipient check-in (003): enrolment, activation, check-ins pushed by sync, judging windows,
staff follow-up and the periodic-review trigger.

Other packages are reached through their services (households, cases, evidence, devices,
auth); a repeated miss leaves as an event (events.PeriodicReviewDue) for the case workflow.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select, update

from backend import clock, events
from backend.attestation import canonical
from backend.attestation import rules as attestation
from backend.audit import service as audit
from backend.auth import rules as roles
from backend.auth import service as auth
from backend.auth.rules import Caller
from backend.bulk import chunks, insert_ignoring_conflicts, insert_rows
from backend.cases import service as cases
from backend.checkins import push_rules, rules
from backend.checkins.models import (
    CheckIn,
    CheckInFlag,
    CheckInWindowResult,
    FollowUp,
    PushSubscription,
    Recipient,
    ReviewTrigger,
)
from backend.dbtypes import new_id
from backend.devices import rules as device_rules
from backend.devices import service as devices
from backend.errors import ProblemError
from backend.evidence import service as evidence
from backend.extensions import db
from backend.households import service as households
from backend.jurisdictions import service as jurisdictions
from backend.jurisdictions.scope import within
from backend.privacy import rules as privacy
from backend.sync.registry import ParsedRecord, PushBatch

log = logging.getLogger(__name__)

ENROLLING_ROLES = (roles.VILLAGE_ASSISTANT, roles.INTAKE_CLERK, roles.ADMIN)
FOLLOWING_UP_ROLES = (roles.VILLAGE_ASSISTANT, roles.INTAKE_CLERK, roles.REVIEWER,
                      roles.APPROVER, roles.COUNTY_SUPERVISOR, roles.ADMIN)
PROXY_ROLES = (roles.VILLAGE_ASSISTANT,)
# A household's case must be approved before its members check in (they receive the
# allowance). The case workflow owns the statuses; "approved" is its decided-yes status.
ENROLLABLE_CASE_STATUSES = {"approved"}
CHECKIN_MESSAGE_PREFIX = "doorstep-checkin:v1:"
SIGNED_KEYS = ("id", "recipient_id", "photo", "challenge", "challenge_answer", "location",
               "captured_at", "proxy")


def username_for(phone: str) -> str:
    return f"recipient-{phone}"


def _code_hash(code: str) -> str:
    return hashlib.sha256(rules.normalise_activation_code(code).encode()).hexdigest()


def activation_url(code: str) -> str:
    return f"/checkin?code={code}"


def window_settings(settings: dict) -> rules.WindowSettings:
    return rules.WindowSettings(settings["checkin_open_day"], settings["checkin_close_day"],
                                settings["checkin_tolerance_days"])


def flag_thresholds(settings: dict) -> rules.FlagThresholds:
    return rules.FlagThresholds(settings["checkin_max_residence_distance_m"],
                                settings["checkin_photo_reuse_max_bits"],
                                settings["max_clock_skew_minutes"], settings["max_speed_kmh"])


# --- who sees what ---------------------------------------------------------------------------


def _require_staff(caller: Caller, allowed: tuple[str, ...] = FOLLOWING_UP_ROLES) -> None:
    if not caller.has(*allowed):
        raise ProblemError("forbidden", "Your role does not allow this.")


def _visible_recipients(caller: Caller):
    return select(Recipient).where(within(Recipient.jurisdiction_code, caller))


def get_visible_recipient(caller: Caller, recipient_id: str) -> Recipient:
    _require_staff(caller)
    recipient = db.session.scalar(_visible_recipients(caller).where(Recipient.id == recipient_id))
    if recipient is None:
        raise ProblemError("recipient-not-found", "No such recipient in your area.")
    return recipient


def recipient_of_user(user_id: str) -> Recipient | None:
    return db.session.scalar(select(Recipient).where(Recipient.user_id == user_id))


def own_recipient(caller: Caller) -> Recipient:
    recipient = recipient_of_user(caller.user_id) if caller.has(roles.RECIPIENT) else None
    if recipient is None:
        raise ProblemError("forbidden", "Only a recipient who checks in has this page.")
    return recipient


def _member_name(household, member_id: str) -> str:
    for member in household.members:
        if member.id == member_id:
            return member.name
    return ""


def recipient_view(recipient: Recipient, caller: Caller, name: str | None = None) -> dict:
    if name is None:
        names = member_names([recipient])
        name = names.get(recipient.id, "")
    declared = None
    if recipient.declared_lat is not None:
        declared = {"address": recipient.declared_address, "lat": recipient.declared_lat,
                    "lon": recipient.declared_lon}
    return {
        "id": recipient.id, "user_id": recipient.user_id, "household_id": recipient.household_id,
        "member_id": recipient.member_id, "name": name,
        "phone": privacy.shown_phone(recipient.phone, caller.sees_full_phone),
        "jurisdiction_code": recipient.jurisdiction_code, "category": recipient.category,
        "reference_photo_sha256": recipient.reference_photo_sha256,
        "declared_residence": declared, "is_activated": recipient.activated_at is not None,
        "activation_expires_at": None if recipient.activated_at else
        recipient.activation_expires_at, "version": recipient.version,
    }


def member_names(recipients: Iterable[Recipient]) -> dict[str, str]:
    """Display names of recipients (their accounts carry the member's name)."""
    listed = list(recipients)
    names = auth.display_names(r.user_id for r in listed)
    return {r.id: names.get(r.user_id, "") for r in listed}


# --- enrolment and activation ---------------------------------------------------------------


@dataclass(frozen=True)
class Enrolment:
    recipient: Recipient
    activation_code: str
    expires_at: datetime


def _issue_code(recipient: Recipient) -> Enrolment:
    code = rules.new_activation_code()
    expires_at = clock.now() + rules.ACTIVATION_VALID_FOR
    recipient.activation_code_hash = _code_hash(code)
    recipient.activation_expires_at = expires_at
    recipient.activation_used_at = None
    return Enrolment(recipient, code, expires_at)


def enrol(caller: Caller, payload: dict) -> Enrolment:
    _require_staff(caller, ENROLLING_ROLES)
    household = households.get_visible(caller, payload["household_id"])
    if not ENROLLABLE_CASE_STATUSES & cases.statuses_of_household(household.id):
        raise ProblemError("household-not-approved",
                           "Only a member of a household whose case is approved checks in.")
    member = next((m for m in household.members if m.id == payload["member_id"]), None)
    if member is None:
        raise ProblemError("validation-failed", "Choose a member of this household.",
                           {"member_id": ["not a member of this household"]})
    phone = payload.get("phone") or member.phone
    if not phone:
        raise ProblemError("validation-failed", "The recipient needs a mobile number.",
                           {"phone": ["required: the member has no registered phone"]})
    if not evidence.can_view(caller, payload["reference_photo_sha256"]):
        raise ProblemError("photo-not-found", "Upload the reference photo first.")
    taken = db.session.scalar(select(Recipient.id).where(
        (Recipient.phone == phone) | (Recipient.member_id == member.id)))
    if taken is not None or auth.find_by_username(username_for(phone)) is not None:
        raise ProblemError("recipient-already-enrolled",
                           "This member or phone number is already enrolled; reset the PIN "
                           "instead.")
    user = auth.create_pin_account(username_for(phone), member.name, roles.RECIPIENT,
                                   household.jurisdiction_code, phone)
    declared = payload.get("declared_residence") or {}
    recipient = Recipient(
        id=new_id(), user_id=user.id, household_id=household.id, member_id=member.id,
        jurisdiction_code=household.jurisdiction_code, phone=phone,
        category=payload["category"],
        reference_photo_sha256=payload["reference_photo_sha256"],
        declared_address=declared.get("address"), declared_lat=declared.get("lat"),
        declared_lon=declared.get("lon"), enrolled_by_id=caller.user_id,
        enrolled_at=clock.now())
    enrolment = _issue_code(recipient)
    db.session.add(recipient)
    db.session.flush()
    audit.record("checkin.recipient_enrolled", "checkin_recipient", recipient.id, after={
        "household": household.id, "member": member.id, "category": recipient.category,
        "reference_photo": recipient.reference_photo_sha256,
        "declared_residence": bool(declared)}, jurisdiction_code=recipient.jurisdiction_code)
    return enrolment


def reset_pin(caller: Caller, recipient_id: str) -> Enrolment:
    """Staff reset a forgotten PIN: the old one stops working, a new slip is printed."""
    _require_staff(caller, ENROLLING_ROLES)
    recipient = get_visible_recipient(caller, recipient_id)
    enrolment = _issue_code(recipient)
    recipient.activated_at = None
    auth.end_sessions_and_lock_secret(recipient.user_id, "pin-reset")
    db.session.flush()
    audit.record("checkin.pin_reset", "checkin_recipient", recipient.id,
                 after={"expires_at": enrolment.expires_at.isoformat()},
                 jurisdiction_code=recipient.jurisdiction_code)
    return enrolment


def recipient_for_code(code: str) -> Recipient | None:
    return db.session.scalar(select(Recipient).where(
        Recipient.activation_code_hash == _code_hash(code)))


def _usable_code(code: str) -> Recipient:
    recipient = recipient_for_code(code)
    if recipient is None or recipient.activation_expires_at is None:
        raise ProblemError("activation-code-invalid",
                           "This code is not right. Check it, or ask the village assistant.")
    problem = rules.activation_problem(recipient.activation_expires_at,
                                       recipient.activation_used_at, clock.now())
    if problem == "activation-code-used":
        raise ProblemError(problem, "This code was already used. Sign in with your phone "
                           "number and PIN, or ask the village assistant for a new code.")
    if problem == "activation-code-expired":
        raise ProblemError(problem, "This code has expired (7 days). Ask the village "
                           "assistant for a new one.")
    return recipient


def slip_recipient(code: str) -> tuple[Recipient, str]:
    """The recipient an unused code belongs to, and their name (for the printed slip)."""
    recipient = _usable_code(code)
    return recipient, member_names([recipient]).get(recipient.id, "")


def activate(code: str, pin: str) -> tuple[Recipient, str]:
    """Spend the code once and set the PIN (one conditional UPDATE: of two racing
    activations one wins, the other finds the code used)."""
    problem = rules.pin_problem(pin)
    if problem:
        raise ProblemError("validation-failed", "Choose another PIN.", {"pin": [problem]})
    recipient = _usable_code(code)
    now = clock.now()
    spent = db.session.execute(update(Recipient).where(
        Recipient.id == recipient.id, Recipient.activation_used_at.is_(None),
    ).values(activation_used_at=now, activated_at=now, version=Recipient.version + 1)
        .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    if spent != 1:
        raise ProblemError("activation-code-used", "This code was already used.")
    auth.set_secret(recipient.user_id, pin, "pin-set")
    audit.record("checkin.activated", "checkin_recipient", recipient.id,
                 actor_id=recipient.user_id, jurisdiction_code=recipient.jurisdiction_code)
    db.session.refresh(recipient)
    return recipient, member_names([recipient]).get(recipient.id, "")


# --- the recipient's own pages ---------------------------------------------------------------


def my_status(caller: Caller) -> dict:
    recipient = own_recipient(caller)
    now = clock.now()
    settings = jurisdictions.effective_settings(recipient.jurisdiction_code)
    window = rules.next_window(recipient.category, now, window_settings(settings))
    last = db.session.scalar(select(CheckIn).where(CheckIn.recipient_id == recipient.id)
                             .order_by(CheckIn.captured_at.desc()).limit(1))
    done = db.session.scalar(select(CheckInWindowResult.outcome).where(
        CheckInWindowResult.recipient_id == recipient.id,
        CheckInWindowResult.window_key == window.key)) in (rules.ON_TIME, rules.LATE)
    reminders = []
    if not done and window.opens_on <= rules.china_date(now) <= window.closes_on:
        reminders.append("checkin-window-open")
    return {
        "recipient_id": recipient.id, "household_id": recipient.household_id,
        "display_name": member_names([recipient]).get(recipient.id, ""),
        "category": recipient.category, "next_window": _window_view(window),
        "is_done_this_window": done, "last_outcome": last.outcome if last else None,
        "last_checked_in_at": last.captured_at if last else None,
        "challenge": rules.new_challenge(), "reminders": reminders,
    }


def _window_view(window: rules.Window) -> dict:
    return {"key": window.key, "opens_on": window.opens_on, "closes_on": window.closes_on,
            "late_until_on": window.late_until_on}


def own_household(caller: Caller, household_id: str) -> dict:
    """A recipient sees their own household, and no other (404, as if it did not exist)."""
    recipient = own_recipient(caller)
    if household_id != recipient.household_id:
        raise ProblemError("household-not-found", "No such household.")
    household = households.views_by_id([household_id], caller).get(household_id)
    if household is None:
        raise ProblemError("household-not-found", "No such household.")
    return {"id": household_id, "address": household.get("address", ""),
            "members": [{"name": m.get("name"), "relation": m.get("relation")}
                        for m in household.get("members", [])]}


# --- check-ins pushed by sync ----------------------------------------------------------------


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
    existing = {row.id: row for chunk in chunks(ids) for row in db.session.scalars(
        select(CheckIn).where(CheckIn.id.in_(chunk)))}
    keys = devices.keys_by_id({item["key_id"] for item in loaded})
    photos = evidence.by_hashes({item["photo"]["sha256"] for item in loaded})
    own = recipient_of_user(batch.caller.user_id) if batch.caller.has(roles.RECIPIENT) else None
    return [_checkin(batch, record, existing, keys, photos, own) for record in records]


def _target_recipient(batch: PushBatch, item: dict, own: Recipient | None) -> Recipient:
    caller = batch.caller
    wanted = item.get("recipient_id")
    if item.get("proxy") is not None:
        if not caller.has(*PROXY_ROLES):
            raise ProblemError("forbidden", "Only a village assistant checks in for someone.")
        recipient = db.session.scalar(_visible_recipients(caller).where(
            Recipient.id == (wanted or "")))
        if recipient is None:
            raise ProblemError("recipient-not-found", "No such recipient in your area.")
        return recipient
    if own is None:
        raise ProblemError("forbidden", "Only a recipient checks in; staff send a proxy "
                           "check-in with a reason.")
    if wanted not in (None, own.id):
        raise ProblemError("recipient-not-found", "No such recipient.")
    return own


def _checkin(batch: PushBatch, record: ParsedRecord, existing: dict, keys: dict, photos: dict,
             own: Recipient | None) -> dict:
    item, raw = record.loaded, record.raw
    record_id = str(item["id"])
    recipient = _target_recipient(batch, item, own)
    try:
        digest = checkin_digest(raw)
    except ValueError as unsignable:
        raise ProblemError("record-not-canonical", "A value cannot be signed as canonical "
                           "JSON.", {"_record": [str(unsignable)[:200]]}) from None
    stored = existing.get(record_id)
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
    settings = jurisdictions.effective_settings(recipient.jurisdiction_code)
    age = abs(item["captured_at"] - photo["captured_at"])
    if age > timedelta(minutes=settings["checkin_max_capture_age_minutes"]):
        raise ProblemError("checkin-capture-stale",
                           "The photo was not taken at the check-in; take a new one now.",
                           {"photo.captured_at": [f"{age.total_seconds() / 60:.0f} minutes "
                                                  "from the check-in"]})
    submitter = batch.caller.user_id
    stored_photo = photos.get(photo["sha256"])
    if stored_photo is not None and stored_photo.uploaded_by_id != submitter:
        raise ProblemError("checkin-photo-not-yours",
                           "This photo was uploaded by someone else; take your own.")
    problem = rules.challenge_problem(item["challenge"])
    if problem:
        raise ProblemError("validation-failed", "The challenge is not one the app shows.",
                           {"challenge": [problem]})
    key = keys.get(item["key_id"])
    now = batch.received_at
    if key is None or key.user_id != submitter or not device_rules.is_key_active(
            key.revoked_at, now) or not attestation.verify_p256(
            key.public_key_jwk, checkin_message(digest), item["signature"]):
        raise ProblemError("checkin-signature-invalid",
                           "The check-in is not signed with your own device key.")
    window = rules.window_for(recipient.category, item["captured_at"],
                              window_settings(settings))
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
    flags = _flags(row, recipient, window, batch, settings)
    if not insert_ignoring_conflicts(CheckIn, [_columns(row)], "id"):
        # The same check-in sent twice at once (a retry racing the first send): the other
        # request stored it, so this one is its replay.
        return {"id": record_id, "status": "duplicate", "flags": []}
    _store_flags(record_id, flags, now)
    if window is not None:
        _record_window(recipient.id, window.key, outcome, record_id, now)
    audit.record("checkin.received", "checkin", record_id, actor_id=submitter, after={
        "recipient": recipient.id, "window": row.window_key, "outcome": outcome,
        "flags": [f.code for f in flags], "proxy": row.is_proxy},
        jurisdiction_code=recipient.jurisdiction_code)
    if stored_photo is not None:
        flags += assess_photo(record_id, _Known(row, recipient, settings, list(flags),
                                                stored_photo.dhash))
    else:
        _open_follow_up(recipient, "flagged", row.window_key, record_id, flags, is_new=True)
    return {"id": record_id, "status": "accepted", "flags": [
        {"code": f.code, "severity": "warning"} for f in flags]}


def _columns(row: CheckIn) -> dict:
    return {column.key: getattr(row, column.key) for column in CheckIn.__table__.columns}


def _flags(row: CheckIn, recipient: Recipient, window: rules.Window | None, batch: PushBatch,
           settings: dict) -> list[rules.Flag]:
    thresholds = flag_thresholds(settings)
    flags: list[rules.Flag] = []
    if window is None:
        flags.append(rules.Flag("outside-window", {}))
    home = households.homes([recipient.household_id]).get(recipient.household_id)
    declared = (recipient.declared_lat, recipient.declared_lon) \
        if recipient.declared_lat is not None and recipient.declared_lon is not None else None
    flags += rules.residence_flags((row.lat, row.lon), home.home if home else None, declared,
                                   thresholds.max_residence_distance_m)
    flags += rules.clock_flags(row.captured_at, batch.sent_at, row.received_at,
                               thresholds.max_clock_skew_minutes)
    own = db.session.execute(select(
        CheckIn.lat, CheckIn.lon, CheckIn.captured_at, CheckIn.key_id).where(
        CheckIn.recipient_id == recipient.id, CheckIn.is_proxy.is_(False))).all()
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


def _store_flags(checkin_id: str, flags: list[rules.Flag], now: datetime) -> None:
    insert_rows(CheckInFlag, [{"checkin_id": checkin_id, "code": f.code, "data": f.data,
                               "raised_at": now} for f in flags])


def _record_window(recipient_id: str, window_key: str, outcome: str, checkin_id: str,
                   now: datetime) -> None:
    """The window's result: the first check-in sets it; an on-time one beats a late one, and
    a late arrival replaces a miss judged before it came (nothing accepted is lost)."""
    inserted = insert_ignoring_conflicts(CheckInWindowResult, [{
        "recipient_id": recipient_id, "window_key": window_key, "outcome": outcome,
        "checkin_id": checkin_id, "judged_at": now}], "window_key")
    if inserted:
        return
    better: dict[str, tuple[str, ...]] = {rules.ON_TIME: (rules.LATE, rules.MISSED),
                                          rules.LATE: (rules.MISSED,)}
    db.session.execute(update(CheckInWindowResult).where(
        CheckInWindowResult.recipient_id == recipient_id,
        CheckInWindowResult.window_key == window_key,
        CheckInWindowResult.outcome.in_(better.get(outcome, ())),
    ).values(outcome=outcome, checkin_id=checkin_id, judged_at=now)
        .execution_options(synchronize_session=False))


def _open_follow_up(recipient: Recipient, reason: str, window_key: str | None,
                    checkin_id: str | None, flags: list[rules.Flag],
                    is_new: bool = False) -> None:
    """One open follow-up per missed window or flagged check-in (``is_new``: the check-in
    was stored in this push, so none can exist yet)."""
    if reason == "flagged" and not [f for f in flags if f.code != "proxy-check-in"]:
        return
    already = None if is_new else db.session.scalar(select(FollowUp.id).where(
        FollowUp.recipient_id == recipient.id, FollowUp.reason == reason,
        FollowUp.checkin_id == checkin_id if checkin_id else FollowUp.window_key == window_key))
    if already is not None:
        return
    db.session.add(FollowUp(
        id=new_id(), recipient_id=recipient.id, jurisdiction_code=recipient.jurisdiction_code,
        reason=reason, window_key=window_key, checkin_id=checkin_id,
        action="home_visit" if reason == "missed" else "call", status="open",
        created_at=clock.now(), version=1))


# --- photo checks: reuse and identity --------------------------------------------------------


def on_photo_stored(event: events.PhotoStored) -> None:
    """A check-in's photo arrived after the check-in: check it now."""
    for checkin_id in db.session.scalars(select(CheckIn.id).where(
            CheckIn.photo_sha256 == event.sha256, CheckIn.identity_status == "pending")):
        assess_photo(checkin_id)


@dataclass(frozen=True)
class _Known:
    """What the push already loaded: spares assess_photo reading it again."""

    row: CheckIn
    recipient: Recipient
    settings: dict
    flags: list[rules.Flag]
    photo_dhash: int


def assess_photo(checkin_id: str, known: _Known | None = None) -> list[rules.Flag]:
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
    near = [sha for sha, _ in evidence.similar_photos(
        row.photo_sha256, max_bits, dhash=known.photo_dhash if known else None)]
    candidates = near + [row.photo_sha256]  # the very same bytes in another check-in too
    earlier = db.session.execute(select(
        CheckIn.photo_sha256, CheckIn.recipient_id, CheckIn.household_id).where(
        CheckIn.photo_sha256.in_(candidates), CheckIn.id != checkin_id)).all()
    references = db.session.execute(select(
        Recipient.reference_photo_sha256, Recipient.id, Recipient.household_id).where(
        Recipient.reference_photo_sha256.in_(near))).all() if near else []
    flags: list[rules.Flag] = []
    if earlier or references:
        hashes = evidence.dhashes(candidates)
        seen = [rules.PhotoSeen(sha, hashes[sha], rid, hid)
                for sha, rid, hid in earlier if sha in hashes]
        seen += [rules.PhotoSeen(sha, hashes[sha], rid, hid, is_reference=True)
                 for sha, rid, hid in references if sha in hashes]
        if row.photo_sha256 in hashes:
            flags = rules.photo_reuse_flags(row.photo_sha256, hashes[row.photo_sha256],
                                            recipient.id, seen, max_bits)
            _store_flags(checkin_id, flags, clock.now())
    if known is not None:
        all_flags = known.flags + flags
    else:
        all_flags = [rules.Flag(code, data) for code, data in db.session.execute(select(
            CheckInFlag.code, CheckInFlag.data).where(CheckInFlag.checkin_id == checkin_id))]
    _open_follow_up(recipient, "flagged", row.window_key, checkin_id, all_flags,
                    is_new=known is not None)
    _queue_identity_check(checkin_id)
    return flags


def _queue_identity_check(checkin_id: str) -> None:
    """Queue the identity check (jobs.register put the task here); a queue outage leaves
    the check-in ``pending`` and is logged, never lost."""
    tasks = current_app.extensions.get("doorstep.huey_tasks")
    if tasks is None:
        return
    try:
        tasks["identity"](checkin_id)
    except Exception:  # noqa: BLE001 - the check-in is stored; the check can be re-run
        log.exception("could not queue the identity check of %s", checkin_id)


def check_identity(checkin_id: str) -> str | None:
    """Compare the check-in's face with the reference photo (the configured verifier)."""
    from backend.checkins import identity

    row = db.session.get(CheckIn, checkin_id)
    if row is None or row.identity_status not in ("pending",):
        return row.identity_status if row else None
    recipient = db.session.get(Recipient, row.recipient_id)
    assert recipient is not None
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
        _store_flags(checkin_id, [flag], clock.now())
        _open_follow_up(recipient, "flagged", row.window_key, checkin_id, [flag])
    audit.record("checkin.identity_checked", "checkin", checkin_id, after={
        "status": result.status, "distance": result.distance, "by": result.checked_by},
        jurisdiction_code=recipient.jurisdiction_code)
    db.session.flush()
    return result.status


# --- window close, reminders -----------------------------------------------------------------


def judge_closed_windows(now: datetime | None = None) -> int:
    """Mark missed every window that closed (with its tolerance) without a check-in, open a
    home-visit follow-up, and raise the periodic-review trigger after repeated misses."""
    now = now or clock.now()
    missed = 0
    for recipient in db.session.scalars(select(Recipient).where(
            Recipient.activated_at.is_not(None))):
        settings = jurisdictions.effective_settings(recipient.jurisdiction_code)
        windows = rules.windows_between(recipient.category, recipient.enrolled_at, now,
                                        window_settings(settings))
        if not windows:
            continue
        results = dict(db.session.execute(select(
            CheckInWindowResult.window_key, CheckInWindowResult.outcome).where(
            CheckInWindowResult.recipient_id == recipient.id)).all())
        for window in windows:
            if window.key in results:
                continue
            inserted = insert_ignoring_conflicts(CheckInWindowResult, [{
                "recipient_id": recipient.id, "window_key": window.key,
                "outcome": rules.MISSED, "checkin_id": None, "judged_at": now}], "window_key")
            if not inserted:
                continue
            missed += 1
            results[window.key] = rules.MISSED
            _open_follow_up(recipient, "missed", window.key, None, [])
            audit.record("checkin.window_missed", "checkin_recipient", recipient.id,
                         after={"window": window.key},
                         jurisdiction_code=recipient.jurisdiction_code)
            outcomes = [results.get(w.key, rules.MISSED) for w in windows
                        if w.opens_on <= window.opens_on]
            threshold = settings["checkin_misses_for_review"]
            if rules.needs_periodic_review(outcomes, threshold):
                _raise_review_trigger(recipient, window.key,
                                      rules.consecutive_misses(outcomes), now)
    db.session.flush()
    return missed


def _raise_review_trigger(recipient: Recipient, window_key: str, misses: int,
                          now: datetime) -> None:
    trigger_id = new_id()
    inserted = insert_ignoring_conflicts(ReviewTrigger, [{
        "id": trigger_id, "recipient_id": recipient.id, "household_id": recipient.household_id,
        "window_key": window_key, "consecutive_misses": misses, "raised_at": now}], "id")
    if not inserted:
        return
    audit.record("case.periodic_review_triggered", "household", recipient.household_id, after={
        "recipient": recipient.id, "window": window_key, "consecutive_misses": misses,
        "source": "checkin"}, jurisdiction_code=recipient.jurisdiction_code)
    events.raise_(events.PeriodicReviewDue(recipient.household_id, recipient.id, window_key,
                                           misses))


def periodic_review_triggers(household_ids: Iterable[str]) -> dict[str, list[dict]]:
    """Open periodic-review triggers per household, for the case workflow to read."""
    found: dict[str, list[dict]] = {}
    for chunk in chunks(household_ids):
        for trigger in db.session.scalars(select(ReviewTrigger).where(
                ReviewTrigger.household_id.in_(chunk), ReviewTrigger.handled_at.is_(None))
                .order_by(ReviewTrigger.raised_at)):
            found.setdefault(trigger.household_id, []).append({
                "id": trigger.id, "recipient_id": trigger.recipient_id,
                "household_id": trigger.household_id, "window_key": trigger.window_key,
                "consecutive_misses": trigger.consecutive_misses,
                "raised_at": trigger.raised_at})
    return found


def mark_review_triggers_handled(household_id: str, review_case_id: str,
                                 jurisdiction_code: str) -> list[str]:
    """The case workflow opened (or already had) a periodic review for the household: its
    open triggers are handled. Returns their ids; audited on the household."""
    now = clock.now()
    handled = list(db.session.scalars(select(ReviewTrigger).where(
        ReviewTrigger.household_id == household_id, ReviewTrigger.handled_at.is_(None))))
    for trigger in handled:
        trigger.handled_at = now
    if handled:
        db.session.flush()
        audit.record("case.periodic_review_trigger_handled", "household", household_id,
                     after={"triggers": [t.id for t in handled], "review_case": review_case_id,
                            "source": "checkin"}, jurisdiction_code=jurisdiction_code)
    return [t.id for t in handled]


@dataclass(frozen=True)
class Reminder:
    recipient_id: str
    user_id: str
    phone: str
    window_key: str
    closes_on: date


def due_reminders(now: datetime | None = None) -> list[Reminder]:
    """Recipients to remind today (rules.is_reminder_day) who have not checked in yet."""
    now = now or clock.now()
    due = []
    for recipient in db.session.scalars(select(Recipient).where(
            Recipient.activated_at.is_not(None))):
        settings = jurisdictions.effective_settings(recipient.jurisdiction_code)
        window = rules.next_window(recipient.category, now, window_settings(settings))
        if not rules.is_reminder_day(window, rules.china_date(now)):
            continue
        done = db.session.scalar(select(CheckInWindowResult.outcome).where(
            CheckInWindowResult.recipient_id == recipient.id,
            CheckInWindowResult.window_key == window.key))
        if done is None:
            due.append(Reminder(recipient.id, recipient.user_id, recipient.phone, window.key,
                                window.closes_on))
    return due


# --- Web Push subscriptions (RFC 8030) ------------------------------------------------------


def push_public_key() -> str:
    """The VAPID public key browsers subscribe with (applicationServerKey); push is on only
    when the key pair and the subject are all configured."""
    config = current_app.config
    if not (config.get("VAPID_PUBLIC_KEY") and config.get("VAPID_PRIVATE_KEY")
            and config.get("VAPID_SUBJECT")):
        raise ProblemError("push-not-configured", "This server sends no push notifications; "
                           "reminders come by SMS.")
    return config["VAPID_PUBLIC_KEY"]


def _subscription_view(row: PushSubscription) -> dict:
    return {"id": row.id, "endpoint_host": urlsplit(row.endpoint).hostname or "",
            "created_at": row.created_at}


def subscribe_push(caller: Caller, endpoint: str, p256dh: str, auth: str) -> tuple[dict, bool]:
    """Keep this browser's subscription for the caller (a recipient gets their reminders on
    it). Idempotent by endpoint: a replay answers the same subscription; new keys for a known
    endpoint replace the old ones. Answers the view and whether it is new."""
    push_public_key()
    problem = push_rules.endpoint_problem(
        endpoint, push_rules.parse_host_patterns(current_app.config["PUSH_SERVICE_HOSTS"]))
    if problem:
        raise ProblemError("push-endpoint-not-allowed", f"The push endpoint {problem}; "
                           "subscribe again from the phone's browser.", {"endpoint": [problem]})
    errors = push_rules.key_problems(p256dh, auth)
    if errors:
        raise ProblemError("validation-failed", "The subscription's keys are not valid; "
                           "subscribe again from the phone's browser.", errors)
    inserted = insert_ignoring_conflicts(PushSubscription, [{
        "id": new_id(), "user_id": caller.user_id, "endpoint": endpoint, "p256dh": p256dh,
        "auth": auth, "created_at": clock.now()}], "id")
    row = db.session.scalar(select(PushSubscription).where(
        PushSubscription.user_id == caller.user_id, PushSubscription.endpoint == endpoint))
    assert row is not None
    host = urlsplit(endpoint).hostname
    # The endpoint is a capability (whoever holds it can message the phone): the audit
    # trail names its push service only.
    if inserted:
        audit.record("checkin.push_subscribed", "push_subscription", row.id,
                     after={"push_service": host}, jurisdiction_code=caller.jurisdiction_code)
    elif (row.p256dh, row.auth) != (p256dh, auth):
        row.p256dh, row.auth = p256dh, auth
        audit.record("checkin.push_keys_renewed", "push_subscription", row.id,
                     after={"push_service": host}, jurisdiction_code=caller.jurisdiction_code)
    db.session.flush()
    return _subscription_view(row), bool(inserted)


def unsubscribe_push(caller: Caller, subscription_id: str) -> None:
    """Forget one of the caller's own subscriptions; anyone else's is 404."""
    row = db.session.scalar(select(PushSubscription).where(
        PushSubscription.id == subscription_id, PushSubscription.user_id == caller.user_id))
    if row is None:
        raise ProblemError("push-subscription-not-found", "No such push subscription of yours.")
    audit.record("checkin.push_unsubscribed", "push_subscription", row.id,
                 before={"push_service": urlsplit(row.endpoint).hostname},
                 jurisdiction_code=caller.jurisdiction_code)
    db.session.delete(row)
    db.session.flush()


@dataclass(frozen=True)
class PushTarget:
    """A subscription to send to, as pywebpush reads it (``subscription_info``)."""

    id: str
    user_id: str
    endpoint: str
    p256dh: str
    auth: str

    def subscription_info(self) -> dict:
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


def push_targets(user_ids: Iterable[str]) -> dict[str, list[PushTarget]]:
    """The live subscriptions of these users, by user."""
    found: dict[str, list[PushTarget]] = {}
    for chunk in chunks(user_ids):
        for row in db.session.scalars(select(PushSubscription).where(
                PushSubscription.user_id.in_(chunk)).order_by(PushSubscription.created_at)):
            found.setdefault(row.user_id, []).append(PushTarget(
                row.id, row.user_id, row.endpoint, row.p256dh, row.auth))
    return found


def forget_gone_push_target(target: PushTarget, status: int) -> None:
    """The push service answered 404/410: the subscription expired or was revoked."""
    row = db.session.get(PushSubscription, target.id)
    if row is None:
        return
    audit.record("checkin.push_subscription_gone", "push_subscription", row.id,
                 before={"push_service": urlsplit(row.endpoint).hostname},
                 after={"status": status})
    db.session.delete(row)
    db.session.flush()


# --- staff follow-up -------------------------------------------------------------------------


def _flag_views(checkin_ids: Iterable[str]) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for chunk in chunks(checkin_ids):
        for flag in db.session.scalars(select(CheckInFlag).where(
                CheckInFlag.checkin_id.in_(chunk)).order_by(CheckInFlag.id)):
            found.setdefault(flag.checkin_id, []).append({
                "code": flag.code, "data": flag.data,
                "detail_zh": rules.render_flag(flag.code, flag.data, "zh"),
                "detail_en": rules.render_flag(flag.code, flag.data, "en")})
    return found


def list_recipients(caller: Caller, village: str | None) -> list[dict]:
    _require_staff(caller)
    query = _visible_recipients(caller)
    if village:
        query = query.where(within(Recipient.jurisdiction_code, village))
    recipients = list(db.session.scalars(query.order_by(Recipient.enrolled_at)))
    names = member_names(recipients)
    return [recipient_view(r, caller, names.get(r.id, "")) for r in recipients]


def list_follow_ups(caller: Caller, village: str | None, status: str) -> list[dict]:
    _require_staff(caller)
    query = select(FollowUp).where(within(FollowUp.jurisdiction_code, caller))
    if village:
        query = query.where(within(FollowUp.jurisdiction_code, village))
    if status != "all":
        query = query.where(FollowUp.status == status)
    rows = list(db.session.scalars(query.order_by(FollowUp.created_at, FollowUp.id)))
    recipients = {r.id: r for chunk in chunks(f.recipient_id for f in rows)
                  for r in db.session.scalars(select(Recipient).where(Recipient.id.in_(chunk)))}
    names = member_names(recipients.values())
    flags = _flag_views(f.checkin_id for f in rows if f.checkin_id)
    return [_follow_up_view(f, names.get(f.recipient_id, ""), flags) for f in rows]


def _follow_up_view(row: FollowUp, name: str, flags: dict[str, list[dict]]) -> dict:
    return {
        "id": row.id, "recipient_id": row.recipient_id, "recipient_name": name,
        "jurisdiction_code": row.jurisdiction_code, "reason": row.reason,
        "window_key": row.window_key, "checkin_id": row.checkin_id,
        "flags": flags.get(row.checkin_id or "", []), "action": row.action,
        "status": row.status, "outcome": row.outcome, "closed_by_id": row.closed_by_id,
        "closed_at": row.closed_at, "created_at": row.created_at, "version": row.version}


def close_follow_up(caller: Caller, follow_up_id: str, if_match: str | None,
                    changes: dict) -> dict:
    _require_staff(caller)
    row = db.session.scalar(select(FollowUp).where(
        FollowUp.id == follow_up_id, within(FollowUp.jurisdiction_code, caller)))
    if row is None:
        raise ProblemError("follow-up-not-found", "No such follow-up in your area.")
    if not if_match:
        raise ProblemError("precondition-required", "Send If-Match with the follow-up's "
                           "version.", extra={"current_version": row.version})
    if if_match.strip().removeprefix("W/").strip('"') != str(row.version):
        raise ProblemError("stale-version", "Someone changed this follow-up; reload it.",
                           extra={"current_version": row.version})
    if row.status == "closed":
        raise ProblemError("conflict", "This follow-up is already closed.")
    now = clock.now()
    row.status, row.action, row.outcome = "closed", changes["action"], changes["outcome"]
    row.closed_by_id, row.closed_at, row.version = caller.user_id, now, row.version + 1
    audit.record("checkin.follow_up_closed", "checkin_follow_up", row.id, before={
        "status": "open"}, after={"status": "closed", "action": row.action,
                                  "outcome": row.outcome},
        jurisdiction_code=row.jurisdiction_code)
    db.session.flush()
    recipient = db.session.get(Recipient, row.recipient_id)
    name = member_names([recipient]).get(row.recipient_id, "") if recipient else ""
    return _follow_up_view(row, name, _flag_views([row.checkin_id] if row.checkin_id else []))


def history(caller: Caller, recipient_id: str) -> dict:
    """A recipient's timeline: every check-in (photo, place, judgement, flags) and window."""
    recipient = get_visible_recipient(caller, recipient_id)
    rows = list(db.session.scalars(select(CheckIn).where(
        CheckIn.recipient_id == recipient.id).order_by(CheckIn.captured_at.desc())))
    flags = _flag_views(r.id for r in rows)
    windows = [{"key": key, "outcome": outcome, "checkin_id": checkin_id}
               for key, outcome, checkin_id in db.session.execute(select(
                   CheckInWindowResult.window_key, CheckInWindowResult.outcome,
                   CheckInWindowResult.checkin_id).where(
                   CheckInWindowResult.recipient_id == recipient.id)
                   .order_by(CheckInWindowResult.window_key.desc()))]
    return {"recipient": recipient_view(recipient, caller), "windows": windows,
            "checkins": [checkin_view(r, flags.get(r.id, [])) for r in rows]}


def checkin_view(row: CheckIn, flags: list[dict]) -> dict:
    return {
        "id": row.id, "recipient_id": row.recipient_id, "photo_sha256": row.photo_sha256,
        "challenge": row.challenge, "challenge_answer": row.challenge_answer, "lat": row.lat,
        "lon": row.lon, "accuracy_m": row.accuracy_m, "captured_at": row.captured_at,
        "received_at": row.received_at, "window_key": row.window_key, "outcome": row.outcome,
        "identity_status": row.identity_status, "identity_distance": row.identity_distance,
        "is_proxy": row.is_proxy, "proxy_reason": row.proxy_reason,
        "submitted_by_id": row.submitted_by_id, "flags": flags}


def photo_in_visible_checkin(caller: Caller, sha256: str) -> bool:
    """Staff of the area see check-in and reference photos (evidence asks through this)."""
    if not caller.has(*FOLLOWING_UP_ROLES):
        return False
    in_checkin = db.session.scalar(select(CheckIn.id).where(
        CheckIn.photo_sha256 == sha256, within(CheckIn.jurisdiction_code, caller)).limit(1))
    if in_checkin is not None:
        return True
    return db.session.scalar(select(Recipient.id).where(
        Recipient.reference_photo_sha256 == sha256,
        within(Recipient.jurisdiction_code, caller)).limit(1)) is not None
