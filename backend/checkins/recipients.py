"""Recipients who check in (003): who sees which, the views of a recipient, the
recipient's own pages, the staff's list, and the window settings every check-in use case
reads. The check-in use cases are in the modules beside this one: enrolment (and
activation), pushed_checkins, photo_checks, windows (judging, reminders, the periodic-review
trigger), follow_ups and push_subscriptions.

Other packages are reached through their services (households, cases, evidence, devices,
auth); a repeated miss leaves as an event (events.PeriodicReviewDue) for the case workflow.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, select, update

from backend import clock
from backend.auth import rules as roles
from backend.auth import service as auth
from backend.auth.rules import Caller
from backend.checkins import rules
from backend.checkins.models import (
    PHONE_PURPOSE,
    CheckIn,
    CheckInFlag,
    CheckInWindowResult,
    Recipient,
)
from backend.encryption.columns import blind_index
from backend.errors import ProblemError
from backend.extensions import db
from backend.households import service as households
from backend.jurisdictions import service as jurisdictions
from backend.jurisdictions.scope import within
from backend.privacy import rules as privacy

ENROLLING_ROLES = (roles.VILLAGE_ASSISTANT, roles.INTAKE_CLERK, roles.ADMIN)
FOLLOWING_UP_ROLES = (roles.VILLAGE_ASSISTANT, roles.INTAKE_CLERK, roles.REVIEWER,
                      roles.APPROVER, roles.COUNTY_SUPERVISOR, roles.ADMIN)
PROXY_ROLES = (roles.VILLAGE_ASSISTANT,)
# A household's case must be approved before its members check in (they receive the
# allowance). The case workflow owns the statuses; "approved" is its decided-yes status.
ENROLLABLE_CASE_STATUSES = {"approved"}


def username_for(phone: str) -> str:
    """A recipient signs in by phone number; the account's name is the number's blind
    index, so the user table holds no phone number in plain text (ADR 0020)."""
    return f"recipient-{blind_index(PHONE_PURPOSE, phone)}"


def activation_url(code: str) -> str:
    return f"/checkin?code={code}"


def window_settings(settings: dict) -> rules.WindowSettings:
    return rules.WindowSettings(settings["checkin_open_day"], settings["checkin_close_day"],
                                settings["checkin_tolerance_days"])


def flag_thresholds(settings: dict) -> rules.FlagThresholds:
    return rules.FlagThresholds(settings["checkin_max_residence_distance_m"],
                                settings["checkin_photo_reuse_max_bits"],
                                settings["max_clock_skew_minutes"], settings["max_speed_kmh"])


def require_staff(caller: Caller, allowed: tuple[str, ...] = FOLLOWING_UP_ROLES) -> None:
    if not caller.has(*allowed):
        raise ProblemError("forbidden", "Your role does not allow this.")


def visible_recipients(caller: Caller):
    return select(Recipient).where(within(Recipient.jurisdiction_code, caller))


def get_visible_recipient(caller: Caller, recipient_id: str) -> Recipient:
    require_staff(caller)
    recipient = db.session.scalar(visible_recipients(caller).where(Recipient.id == recipient_id))
    if recipient is None:
        raise ProblemError("recipient-not-found", "No such recipient in your area.")
    return recipient


def with_home(query: Select) -> Select:
    """``query`` (of Recipient rows) with each one's household home (lat, lon) beside it."""
    home = households.home_locations()
    return query.add_columns(home.c.home_lat, home.c.home_lon).outerjoin(
        home, home.c.id == Recipient.household_id)


def recipient_of_user(user_id: str) -> Recipient | None:
    return db.session.scalar(select(Recipient).where(Recipient.user_id == user_id))


def own_recipient(caller: Caller) -> Recipient:
    recipient = recipient_of_user(caller.user_id) if caller.has(roles.RECIPIENT) else None
    if recipient is None:
        raise ProblemError("forbidden", "Only a recipient who checks in has this page.")
    return recipient


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
        "phone": privacy.shown_phone(recipient.phone,
                                    privacy.Disclosure.of(caller).full_phone),
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


def list_recipients(caller: Caller, village: str | None) -> list[dict]:
    require_staff(caller)
    query = visible_recipients(caller)
    if village:
        query = query.where(within(Recipient.jurisdiction_code, village))
    recipients = list(db.session.scalars(query.order_by(Recipient.enrolled_at)))
    names = member_names(recipients)
    return [recipient_view(r, caller, names.get(r.id, "")) for r in recipients]


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


def history_of_household(caller: Caller, household_id: str) -> list[dict]:
    """The household's check-ins in the caller's area, oldest first, with their flag codes
    (the household's printed file)."""
    if not caller.has(*FOLLOWING_UP_ROLES):
        return []
    rows = list(db.session.scalars(select(CheckIn).where(
        CheckIn.household_id == household_id, within(CheckIn.jurisdiction_code, caller))
        .order_by(CheckIn.captured_at, CheckIn.id)))
    flags: dict[str, list[str]] = {}
    if rows:
        for checkin_id, code in db.session.execute(select(
                CheckInFlag.checkin_id, CheckInFlag.code).where(
                CheckInFlag.checkin_id.in_([r.id for r in rows])).order_by(CheckInFlag.id)):
            flags.setdefault(checkin_id, []).append(code)
    return [{"captured_at": r.captured_at, "received_at": r.received_at, "outcome": r.outcome,
             "is_proxy": r.is_proxy, "window_key": r.window_key,
             "flags": flags.get(r.id, [])} for r in rows]


def own_checkins(caller: Caller, household_id: str) -> tuple[Recipient, list[dict]]:
    """The signed-in recipient's check-ins, for their own view; another household is 404,
    as if it did not exist."""
    recipient = own_recipient(caller)
    if household_id != recipient.household_id:
        raise ProblemError("household-not-found", "No such household.")
    rows = db.session.scalars(select(CheckIn).where(CheckIn.recipient_id == recipient.id)
                              .order_by(CheckIn.captured_at.desc()).limit(200))
    return recipient, [{"id": r.id, "captured_at": r.captured_at, "outcome": r.outcome,
                        "is_proxy": r.is_proxy, "window_key": r.window_key} for r in rows]


def forget_face_results(recipient: Recipient) -> int:
    """Revoked biometric consent: what face matching derived (the embedding distances and
    who computed them) is deleted; the check-ins themselves stay."""
    result = db.session.execute(update(CheckIn).where(
        CheckIn.recipient_id == recipient.id).values(
        identity_distance=None, identity_checked_by=None, identity_status="no-consent")
        .execution_options(synchronize_session="fetch"))
    return result.rowcount  # type: ignore[attr-defined]
