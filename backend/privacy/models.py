"""What the privacy package keeps: reads of full numbers, export authorisations, biometric
consent and recipients' correction requests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.dbtypes import UtcDateTime
from backend.extensions import db


class PersonalDataRead(db.Model):
    """A full number seen (a reveal, 显示完整号码) or a full export made: who, whose, which
    field, for what purpose, when. Also written to the audit chain; this table is what the
    supervisor's report and the recipient's own view query."""

    __tablename__ = "privacy_read"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)  # reveal / full_export
    actor_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("user_account.id"), nullable=False, index=True)
    jurisdiction_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    household_id: Mapped[str | None] = mapped_column(String(36), index=True)
    member_id: Mapped[str | None] = mapped_column(String(36))
    field: Mapped[str | None] = mapped_column(String(40))
    purpose: Mapped[str] = mapped_column(String(40), nullable=False)
    authorisation_id: Mapped[str | None] = mapped_column(String(36))
    read_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, index=True)


class ExportAuthorisation(db.Model):
    """An approver's leave for one person to make one full (unmasked) export."""

    __tablename__ = "privacy_export_authorisation"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    exporter_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("user_account.id"), nullable=False, index=True)
    approver_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("user_account.id"), nullable=False)
    jurisdiction_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    purpose: Mapped[str] = mapped_column(String(40), nullable=False)
    authorised_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class BiometricConsent(db.Model):
    """A recipient's separate consent to face matching (PIPL Art. 29): given or declined,
    with the version of the text they read; revoking keeps the row (when, who) and ends it."""

    __tablename__ = "privacy_biometric_consent"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    recipient_user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("user_account.id"), nullable=False)
    choice: Mapped[str] = mapped_column(String(10), nullable=False)  # given / declined
    text_version: Mapped[str] = mapped_column(String(20), nullable=False)
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_privacy_biometric_consent_user", "recipient_user_id",
                            "decided_at"),)


class CorrectionRequest(db.Model):
    """A recipient asks to correct what is held (PIPL Art. 46): a task on the village
    assistant's desk until decided; the recipient sees the outcome."""

    __tablename__ = "privacy_correction"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the device's UUID
    household_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    jurisdiction_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    requested_by_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("user_account.id"), nullable=False)
    subject: Mapped[str] = mapped_column(String(40), nullable=False)
    requested_text: Mapped[str] = mapped_column(Text, nullable=False)
    state: Mapped[str] = mapped_column(String(10), nullable=False)  # open/corrected/refused
    outcome_note: Mapped[str | None] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    decided_by_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
