"""Use cases over personal data that span packages: a reveal with a purpose (显示完整号码),
the county supervisor's report of reveals and full exports, the recipient's own view
(PIPL Art. 44-46), their correction requests and their biometric consent (Art. 28-29)."""

from __future__ import annotations

from typing import Any

from backend.auth import service as auth
from backend.auth.rules import Caller
from backend.checkins import recipients
from backend.errors import ProblemError
from backend.households import service as households
from backend.privacy import catalogue
from backend.privacy import service as privacy
from backend.workflow import case_view

REVEALABLE = {"id_number": "member.id_number", "phone": "member.phone"}


def reveal(caller: Caller, household_id: str, member_id: str, field: str,
           purpose: Any) -> dict:
    """One full number, for a purpose from the list, audited as a read. Checked in this
    order so nothing is read before the purpose and the role allow it."""
    privacy.require_purpose(purpose)
    key = REVEALABLE.get(field)
    if key is None or not catalogue.may_reveal(caller.roles, key):
        raise ProblemError("reveal-not-allowed", "Your role does not reveal this number.")
    value, jurisdiction_code = households.full_number(caller, household_id, member_id, field)
    row = privacy.record_read(caller, privacy.REVEAL, purpose, jurisdiction_code,
                              household_id=household_id, member_id=member_id, field=field)
    return {"household_id": household_id, "member_id": member_id, "field": field,
            "value": value, "purpose": purpose, "revealed_at": row.read_at}


def report(caller: Caller, filters: dict) -> list[dict]:
    rows = privacy.reads(caller, actor_id=filters.get("user_id"),
                         household_id=filters.get("household_id"), kind=filters.get("kind"))
    names = auth.display_names({r.actor_id for r in rows})
    heads = households.head_names({r.household_id for r in rows if r.household_id}, caller)
    return [{"id": r.id, "kind": r.kind, "user_id": r.actor_id,
             "user_name": names.get(r.actor_id, ""), "household_id": r.household_id,
             "head_name": heads.get(r.household_id) if r.household_id else None,
             "member_id": r.member_id, "field": r.field, "purpose": r.purpose,
             "authorisation_id": r.authorisation_id, "read_at": r.read_at} for r in rows]


def authorise_export(caller: Caller, exporter_id: str, purpose: Any) -> dict:
    exporter = auth.get_user(exporter_id)
    if exporter is None:
        raise ProblemError("user-not-found", "No such user.")
    exporter_caller = auth.caller_for(exporter)
    row = privacy.authorise_export(caller, exporter_id, exporter_caller.roles,
                                   exporter_caller.jurisdiction_code, purpose)
    return _authorisation_view(row)


def _authorisation_view(row, names: dict[str, str] | None = None) -> dict:
    names = names if names is not None else auth.display_names(
        {row.exporter_id, row.approver_id})
    return {"id": row.id, "exporter_id": row.exporter_id, "approver_id": row.approver_id,
            "exporter_name": names.get(row.exporter_id, ""),
            "approver_name": names.get(row.approver_id, ""),
            "purpose": row.purpose, "authorised_at": row.authorised_at,
            "expires_at": row.expires_at, "used_at": row.used_at}


def export_authorisations(caller: Caller) -> list[dict]:
    rows = privacy.export_authorisations(caller)
    names = auth.display_names({u for r in rows for u in (r.exporter_id, r.approver_id)})
    return [_authorisation_view(r, names) for r in rows]


def exporters(caller: Caller) -> list[dict]:
    """Whom an approver may authorise a full export for: deciding staff of their area."""
    if not caller.has(catalogue.APPROVER):
        raise ProblemError("forbidden", "Only an approver authorises a full export.")
    return [{"id": card.id, "display_name": card.display_name, "roles": list(card.roles)}
            for card in auth.staff_within(caller.jurisdiction_code, catalogue.DECIDING)
            if card.id != caller.user_id and catalogue.may_export_full(set(card.roles))]


def own_view(caller: Caller, household_id: str) -> dict:
    """What is held about the recipient's household (PIPL Art. 44-45): members as the
    catalogue shows them for ``own_view``, decisions with reasons, check-ins, who saw a
    full ID number and when, correction requests with their outcome."""
    recipient, checkins = recipients.own_checkins(caller, household_id)
    household = households.own_view(household_id, caller)
    staff_reads = privacy.reads_of_household(household_id, "id_number")
    names = auth.display_names({r.actor_id for r in staff_reads})
    members = {m["id"]: m["name"] for m in household["members"]}
    consent = privacy.current_consent(caller.user_id)
    return {
        "household_id": household_id, "address": household["address"],
        "members": household["members"],
        "decisions": case_view.decisions_of_household(household_id),
        "checkins": checkins,
        "id_number_views": [{"viewed_at": r.read_at, "staff_name": names.get(r.actor_id, ""),
                             "member_name": members.get(r.member_id or ""),
                             "purpose": r.purpose} for r in staff_reads],
        "corrections": [_correction_view(c) for c in
                        privacy.corrections_of_household(household_id)],
        "biometric_consent": _consent_view(consent),
        "recipient_id": recipient.id,
    }


def _correction_view(row) -> dict:
    return {"id": row.id, "household_id": row.household_id, "subject": row.subject,
            "requested_text": row.requested_text, "state": row.state,
            "outcome_note": row.outcome_note, "requested_at": row.requested_at,
            "decided_at": row.decided_at}


def _consent_view(row) -> dict:
    return {"text_version": privacy.CONSENT_TEXT_VERSION,
            "choice": None if row is None else ("revoked" if row.revoked_at else row.choice),
            "decided_at": None if row is None else row.decided_at,
            "revoked_at": None if row is None else row.revoked_at}


def request_correction(caller: Caller, body: dict) -> dict:
    recipient, _ = recipients.own_checkins(caller, body["household_id"])
    row = privacy.request_correction(caller, body["id"], recipient.household_id,
                                     recipient.jurisdiction_code, body["subject"],
                                     body["text"])
    return _correction_view(row)


def correction_desk(caller: Caller) -> list[dict]:
    rows = privacy.open_corrections(caller)
    heads = households.head_names({r.household_id for r in rows}, caller)
    return [{**_correction_view(r), "head_name": heads.get(r.household_id)} for r in rows]


def decide_correction(caller: Caller, request_id: str, body: dict) -> dict:
    return _correction_view(privacy.decide_correction(caller, request_id, body["outcome"],
                                                      body["note"]))


def consent(caller: Caller) -> dict:
    recipients.own_recipient(caller)
    return _consent_view(privacy.current_consent(caller.user_id))


def decide_consent(caller: Caller, body: dict) -> dict:
    recipient = recipients.own_recipient(caller)
    row = privacy.decide_consent(caller, body["choice"], body["text_version"],
                                 recipient.jurisdiction_code)
    return _consent_view(row)


def revoke_consent(caller: Caller) -> dict:
    """Revoking ends face matching and deletes what it derived from the face (PIPL Art. 15,
    47): the distances stored on the recipient's check-ins."""
    recipient = recipients.own_recipient(caller)
    row = privacy.revoke_consent(caller, recipient.jurisdiction_code)
    recipients.forget_face_results(recipient)
    return _consent_view(row)
