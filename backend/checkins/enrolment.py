"""Enrolment of a recipient and activation of their account: the one-time code on the
printed slip, spent once to set the PIN; staff reset a forgotten PIN."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from backend import clock
from backend.audit import service as audit
from backend.auth import rules as roles
from backend.auth import service as auth
from backend.auth.rules import Caller
from backend.cases import service as cases
from backend.checkins import recipients, rules
from backend.checkins.models import PHONE_PURPOSE, Recipient
from backend.dbtypes import new_id
from backend.encryption.columns import blind_index
from backend.errors import ProblemError
from backend.evidence import service as evidence
from backend.extensions import db
from backend.households import service as households


def _code_hash(code: str) -> str:
    return hashlib.sha256(rules.normalise_activation_code(code).encode()).hexdigest()


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
    recipients.require_staff(caller, recipients.ENROLLING_ROLES)
    household = households.get_visible(caller, payload["household_id"])
    if not recipients.ENROLLABLE_CASE_STATUSES & cases.statuses_of_household(household.id):
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
        (Recipient.phone_index == blind_index(PHONE_PURPOSE, phone))
        | (Recipient.member_id == member.id)))
    if taken is not None or auth.find_by_username(recipients.username_for(phone)) is not None:
        raise ProblemError("recipient-already-enrolled",
                           "This member or phone number is already enrolled; reset the PIN "
                           "instead.")
    user = auth.create_pin_account(recipients.username_for(phone), member.name, roles.RECIPIENT,
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
    recipients.require_staff(caller, recipients.ENROLLING_ROLES)
    recipient = recipients.get_visible_recipient(caller, recipient_id)
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
    return recipient, recipients.member_names([recipient]).get(recipient.id, "")


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
    return recipient, recipients.member_names([recipient]).get(recipient.id, "")
