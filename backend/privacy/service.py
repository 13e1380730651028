"""The masker with its form definitions looked up: what read sides call for survey content."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from backend import clock
from backend.audit import service as audit
from backend.auth.rules import Caller
from backend.dbtypes import new_id
from backend.errors import ProblemError
from backend.extensions import db
from backend.forms import service as forms
from backend.jurisdictions.scope import within
from backend.privacy import catalogue, rules
from backend.privacy.models import (
    BiometricConsent,
    CorrectionRequest,
    ExportAuthorisation,
    PersonalDataRead,
)


def _definition(form_id: Any, form_version: Any) -> dict | None:
    if not isinstance(form_id, str) or not isinstance(form_version, int) \
            or isinstance(form_version, bool):
        return None
    try:
        return forms.get_definition(form_id, form_version)
    except (ProblemError, ValueError, OSError):
        return None  # an unknown form: its answers are masked by shape alone


def survey_answers(caller: Caller, form_id: Any, form_version: Any, data: Any,
                   purpose: str = catalogue.CASE_WORK) -> Any:
    """Answers to one form as the caller may see them for ``purpose``."""
    return rules.mask_answers(data, _definition(form_id, form_version), caller, purpose)


def visit_content(caller: Caller, content: Any) -> Any:
    """A visit's attested content (``data`` plus stamps, photos...) as the caller may see it;
    the form is the one the content names."""
    if not isinstance(content, dict):
        return rules.mask_values(content, caller)
    masked = rules.mask_values({k: v for k, v in content.items() if k != "data"}, caller)
    if "data" in content:
        masked["data"] = survey_answers(caller, content.get("form_id"),
                                        content.get("form_version"), content["data"])
    return masked


# --- reads of full numbers: reveals and full exports ---------------------------------------------

REVEAL = "reveal"
FULL_EXPORT = "full_export"


def record_read(caller: Caller, kind: str, purpose: str, jurisdiction_code: str, *,
                household_id: str | None = None, member_id: str | None = None,
                field: str | None = None, authorisation_id: str | None = None) -> PersonalDataRead:
    """A full number seen or a full export made, kept for the report and the recipient's own
    view, and audited as a read (who, whose, which field, purpose, when)."""
    row = PersonalDataRead(id=new_id(), kind=kind, actor_id=caller.user_id,
                           jurisdiction_code=jurisdiction_code, household_id=household_id,
                           member_id=member_id, field=field, purpose=purpose,
                           authorisation_id=authorisation_id, read_at=clock.now())
    db.session.add(row)
    audit.record("privacy.revealed" if kind == REVEAL else "privacy.full_exported",
                 "household" if household_id else "export", household_id or row.id,
                 after={"member_id": member_id, "field": field, "purpose": purpose,
                        "authorisation_id": authorisation_id},
                 jurisdiction_code=jurisdiction_code)
    db.session.flush()
    return row


def require_purpose(purpose: Any) -> str:
    if purpose not in catalogue.REVEAL_PURPOSES:
        raise ProblemError("reveal-purpose-required",
                           "Choose why you need the full number from the list.")
    return purpose


def reads(caller: Caller, *, actor_id: str | None = None, household_id: str | None = None,
          kind: str | None = None, limit: int = 200) -> list[PersonalDataRead]:
    """Reveals and full exports in the caller's jurisdiction, newest first (the county
    supervisor's report, PIPL Art. 51; 等保 8.1.4.3)."""
    if not caller.has(catalogue.COUNTY_SUPERVISOR):
        raise ProblemError("forbidden", "Only the county supervisor reads this report.")
    query = select(PersonalDataRead).where(
        within(PersonalDataRead.jurisdiction_code, caller.jurisdiction_code))
    if actor_id:
        query = query.where(PersonalDataRead.actor_id == actor_id)
    if household_id:
        query = query.where(PersonalDataRead.household_id == household_id)
    if kind:
        query = query.where(PersonalDataRead.kind == kind)
    return list(db.session.scalars(query.order_by(PersonalDataRead.read_at.desc(),
                                                  PersonalDataRead.id).limit(limit)))


def reads_of_household(household_id: str, field: str) -> list[PersonalDataRead]:
    """Who saw a full number of this household (the recipient's own view, PIPL Art. 45)."""
    return list(db.session.scalars(select(PersonalDataRead).where(
        PersonalDataRead.household_id == household_id, PersonalDataRead.field == field)
        .order_by(PersonalDataRead.read_at.desc())))


# --- full exports need an approver's authorisation ----------------------------------------------

EXPORT_AUTHORISATION_HOURS = 24


def authorise_export(caller: Caller, exporter_id: str, exporter_roles: frozenset[str],
                     exporter_jurisdiction: str, purpose: Any) -> ExportAuthorisation:
    if not caller.has(catalogue.APPROVER):
        raise ProblemError("forbidden", "Only an approver authorises a full export.")
    require_purpose(purpose)
    if (exporter_id == caller.user_id or not caller.covers(exporter_jurisdiction)
            or not catalogue.may_export_full(exporter_roles)):
        raise ProblemError("export-not-authorised",
                           "This person may not make a full export in your jurisdiction.")
    now = clock.now()
    row = ExportAuthorisation(id=new_id(), exporter_id=exporter_id, approver_id=caller.user_id,
                              jurisdiction_code=caller.jurisdiction_code, purpose=purpose,
                              authorised_at=now,
                              expires_at=now + timedelta(hours=EXPORT_AUTHORISATION_HOURS))
    db.session.add(row)
    audit.record("privacy.export_authorised", "export_authorisation", row.id,
                 after={"exporter_id": exporter_id, "purpose": purpose},
                 jurisdiction_code=caller.jurisdiction_code)
    db.session.flush()
    return row


def export_authorisations(caller: Caller) -> list[ExportAuthorisation]:
    """The caller's own: those given to them (to spend) and those they gave (approvers)."""
    return list(db.session.scalars(select(ExportAuthorisation).where(
        (ExportAuthorisation.exporter_id == caller.user_id)
        | (ExportAuthorisation.approver_id == caller.user_id))
        .order_by(ExportAuthorisation.authorised_at.desc()).limit(50)))


@dataclass(frozen=True)
class FullExportLeave:
    """What a full export writes inside its file: who made it, when, why, who authorised."""

    authorisation_id: str
    exporter_id: str
    approver_id: str
    purpose: str
    authorised_at: datetime
    made_at: datetime


def use_export_authorisation(caller: Caller, authorisation_id: Any) -> FullExportLeave:
    """Spend the caller's authorisation on one full export (once), audited; 403 when there
    is none that is theirs, unused and in time."""
    row = db.session.get(ExportAuthorisation, authorisation_id) \
        if isinstance(authorisation_id, str) else None
    now = clock.now()
    if (row is None or row.exporter_id != caller.user_id or row.used_at is not None
            or row.expires_at <= now or not catalogue.may_export_full(caller.roles)):
        raise ProblemError("export-not-authorised",
                           "A full export needs an approver's authorisation for you.")
    row.used_at = now
    record_read(caller, FULL_EXPORT, row.purpose, row.jurisdiction_code,
                authorisation_id=row.id)
    return FullExportLeave(row.id, row.exporter_id, row.approver_id, row.purpose,
                           row.authorised_at, now)


# --- biometric consent (PIPL Art. 28-29) ----------------------------------------------------------

CONSENT_TEXT_VERSION = "face-2026-12"


def current_consent(user_id: str) -> BiometricConsent | None:
    return db.session.scalar(select(BiometricConsent).where(
        BiometricConsent.recipient_user_id == user_id)
        .order_by(BiometricConsent.decided_at.desc(), BiometricConsent.id.desc()).limit(1))


def has_face_consent(user_id: str) -> bool:
    """Face matching runs only for a recipient whose latest choice is a consent not revoked."""
    consent = current_consent(user_id)
    return consent is not None and consent.choice == "given" and consent.revoked_at is None


def decide_consent(caller: Caller, choice: str, text_version: str,
                   jurisdiction_code: str) -> BiometricConsent:
    if text_version != CONSENT_TEXT_VERSION:
        raise ProblemError("consent-text-outdated",
                           "The consent text changed; read the current one.")
    row = BiometricConsent(id=new_id(), recipient_user_id=caller.user_id, choice=choice,
                           text_version=text_version, decided_at=clock.now())
    db.session.add(row)
    audit.record(f"privacy.biometric_{choice}", "biometric_consent", row.id,
                 after={"text_version": text_version}, jurisdiction_code=jurisdiction_code)
    db.session.flush()
    return row


def revoke_consent(caller: Caller, jurisdiction_code: str) -> BiometricConsent | None:
    consent = current_consent(caller.user_id)
    if consent is None or consent.choice != "given" or consent.revoked_at is not None:
        return consent
    consent.revoked_at = clock.now()
    audit.record("privacy.biometric_revoked", "biometric_consent", consent.id,
                 after={"text_version": consent.text_version},
                 jurisdiction_code=jurisdiction_code)
    db.session.flush()
    return consent


# --- correction requests (PIPL Art. 46) ----------------------------------------------------------


def request_correction(caller: Caller, request_id: str, household_id: str,
                       jurisdiction_code: str, subject: str, text: str) -> CorrectionRequest:
    found = db.session.get(CorrectionRequest, request_id)
    if found is not None:
        if found.requested_by_id != caller.user_id:
            raise ProblemError("conflict", "This id is taken.")
        return found  # a retry
    row = CorrectionRequest(id=request_id, household_id=household_id,
                            jurisdiction_code=jurisdiction_code,
                            requested_by_id=caller.user_id, subject=subject,
                            requested_text=text, state="open", requested_at=clock.now())
    db.session.add(row)
    audit.record("privacy.correction_requested", "correction_request", request_id,
                 after={"subject": subject}, jurisdiction_code=jurisdiction_code)
    db.session.flush()
    return row


def corrections_of_household(household_id: str) -> list[CorrectionRequest]:
    return list(db.session.scalars(select(CorrectionRequest).where(
        CorrectionRequest.household_id == household_id)
        .order_by(CorrectionRequest.requested_at.desc())))


CORRECTION_DESK = (catalogue.VILLAGE_ASSISTANT, catalogue.INTAKE_CLERK)


def open_corrections(caller: Caller) -> list[CorrectionRequest]:
    """The assistant's desk: open requests of the caller's jurisdiction."""
    if not caller.has(*CORRECTION_DESK):
        raise ProblemError("forbidden", "Correction requests are for the village assistant.")
    return list(db.session.scalars(select(CorrectionRequest).where(
        within(CorrectionRequest.jurisdiction_code, caller.jurisdiction_code),
        CorrectionRequest.state == "open").order_by(CorrectionRequest.requested_at)))


def decide_correction(caller: Caller, request_id: str, outcome: str,
                      note: str) -> CorrectionRequest:
    if not caller.has(*CORRECTION_DESK):
        raise ProblemError("forbidden", "Correction requests are for the village assistant.")
    row = db.session.get(CorrectionRequest, request_id)
    if row is None or not caller.covers(row.jurisdiction_code):
        raise ProblemError("not-found", "No such correction request.")
    if row.state != "open":
        raise ProblemError("conflict", "This request was already decided.")
    row.state, row.outcome_note = outcome, note
    row.decided_by_id, row.decided_at = caller.user_id, clock.now()
    audit.record("privacy.correction_decided", "correction_request", row.id,
                 before={"state": "open"}, after={"state": outcome, "note": note},
                 jurisdiction_code=row.jurisdiction_code)
    db.session.flush()
    return row
