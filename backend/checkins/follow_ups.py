"""The flags raised on a check-in and the follow-ups they open (one per missed window or
flagged check-in); the staff's follow-up list, closing one (If-Match), and a recipient's
timeline."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select

from backend import clock, versions
from backend.audit import service as audit
from backend.auth.rules import Caller
from backend.bulk import chunks, insert_rows
from backend.checkins import published, recipients, rules
from backend.checkins.models import CheckIn, CheckInFlag, CheckInWindowResult, FollowUp, Recipient
from backend.dbtypes import new_id
from backend.errors import ProblemError
from backend.extensions import db
from backend.jurisdictions.scope import within
from backend.privacy import rules as privacy


def store_flags(checkin_id: str, flags: list[rules.Flag], now: datetime) -> None:
    insert_rows(CheckInFlag, [{"checkin_id": checkin_id, "code": f.code, "data": f.data,
                               "raised_at": now} for f in flags])


def open_follow_up(recipient: Recipient, reason: str, window_key: str | None,
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
    row = FollowUp(
        id=new_id(), recipient_id=recipient.id, jurisdiction_code=recipient.jurisdiction_code,
        reason=reason, window_key=window_key, checkin_id=checkin_id,
        action="home_visit" if reason == "missed" else "call", status="open",
        created_at=clock.now(), version=1)
    db.session.add(row)
    published.follow_up_opened(row, recipient.household_id)


def flag_views(checkin_ids: Iterable[str]) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for chunk in chunks(checkin_ids):
        for flag in db.session.scalars(select(CheckInFlag).where(
                CheckInFlag.checkin_id.in_(chunk)).order_by(CheckInFlag.id)):
            found.setdefault(flag.checkin_id, []).append({
                "code": flag.code, "data": flag.data,
                "detail_zh": rules.render_flag(flag.code, flag.data, "zh"),
                "detail_en": rules.render_flag(flag.code, flag.data, "en")})
    return found


def list_follow_ups(caller: Caller, village: str | None, status: str) -> list[dict]:
    recipients.require_staff(caller)
    query = select(FollowUp).where(within(FollowUp.jurisdiction_code, caller))
    if village:
        query = query.where(within(FollowUp.jurisdiction_code, village))
    if status != "all":
        query = query.where(FollowUp.status == status)
    rows = list(db.session.scalars(query.order_by(FollowUp.created_at, FollowUp.id)))
    by_id = {r.id: r for chunk in chunks(f.recipient_id for f in rows)
                  for r in db.session.scalars(select(Recipient).where(Recipient.id.in_(chunk)))}
    names = recipients.member_names(by_id.values())
    checkin_ids = [f.checkin_id for f in rows if f.checkin_id]
    flags = flag_views(checkin_ids)
    checkins = _checkins(checkin_ids)
    return [_follow_up_view(f, names.get(f.recipient_id, ""), flags, by_id.get(f.recipient_id),
                            checkins.get(f.checkin_id or ""), caller) for f in rows]


def _checkins(ids: Iterable[str]) -> dict[str, CheckIn]:
    return {c.id: c for chunk in chunks(ids)
            for c in db.session.scalars(select(CheckIn).where(CheckIn.id.in_(chunk)))}


def _follow_up_view(row: FollowUp, name: str, flags: dict[str, list[dict]],
                    recipient: Recipient | None, checkin: CheckIn | None,
                    caller: Caller) -> dict:
    """What the assistant needs to tell one card from another (issue 21: they read alike):
    the check-in's time and selfie beside the reference photo, the phone number as the
    caller's role may see it, and the flags' reasons."""
    return {
        "id": row.id, "recipient_id": row.recipient_id, "recipient_name": name,
        "phone": privacy.shown_phone(recipient.phone, privacy.Disclosure.of(caller).full_phone)
        if recipient else None,
        "reference_photo_sha256": recipient.reference_photo_sha256 if recipient else None,
        "checkin_captured_at": checkin.captured_at if checkin else None,
        "checkin_photo_sha256": checkin.photo_sha256 if checkin else None,
        "jurisdiction_code": row.jurisdiction_code, "reason": row.reason,
        "window_key": row.window_key, "checkin_id": row.checkin_id,
        "flags": flags.get(row.checkin_id or "", []), "action": row.action,
        "status": row.status, "outcome": row.outcome, "closed_by_id": row.closed_by_id,
        "closed_at": row.closed_at, "created_at": row.created_at, "version": row.version}


def close_follow_up(caller: Caller, follow_up_id: str, if_match: str | None,
                    changes: dict) -> dict:
    recipients.require_staff(caller)
    row = db.session.scalar(select(FollowUp).where(
        FollowUp.id == follow_up_id, within(FollowUp.jurisdiction_code, caller)))
    if row is None:
        raise ProblemError("follow-up-not-found", "No such follow-up in your area.")
    versions.check_if_match(if_match, row.version, "follow-up")
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
    name = recipients.member_names([recipient]).get(row.recipient_id, "") if recipient else ""
    ids = [row.checkin_id] if row.checkin_id else []
    return _follow_up_view(row, name, flag_views(ids), recipient,
                           _checkins(ids).get(row.checkin_id or ""), caller)


def history(caller: Caller, recipient_id: str) -> dict:
    """A recipient's timeline: every check-in (photo, place, judgement, flags) and window."""
    recipient = recipients.get_visible_recipient(caller, recipient_id)
    rows = list(db.session.scalars(select(CheckIn).where(
        CheckIn.recipient_id == recipient.id).order_by(CheckIn.captured_at.desc())))
    flags = flag_views(r.id for r in rows)
    windows = [{"key": key, "outcome": outcome, "checkin_id": checkin_id}
               for key, outcome, checkin_id in db.session.execute(select(
                   CheckInWindowResult.window_key, CheckInWindowResult.outcome,
                   CheckInWindowResult.checkin_id).where(
                   CheckInWindowResult.recipient_id == recipient.id)
                   .order_by(CheckInWindowResult.window_key.desc()))]
    return {"recipient": recipients.recipient_view(recipient, caller), "windows": windows,
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
