from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.dbtypes import UtcDateTime
from backend.encryption.columns import SealedJSON
from backend.extensions import db


class VisitSubmission(db.Model):
    """A home visit's survey, identified by the UUID the device gave it."""

    __tablename__ = "visit_submission"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("assistance_case.id"), nullable=False, index=True)
    household_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("household.id"), nullable=False, index=True)
    form_id: Mapped[str] = mapped_column(String(64), nullable=False)
    form_version: Mapped[int] = mapped_column(Integer, nullable=False)
    current_revision: Mapped[int] = mapped_column(Integer, nullable=False)
    is_complete: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    submitted_by_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("user_account.id"), nullable=False)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class VisitRevision(db.Model):
    """One version of a submission; a change never overwrites, it adds a revision."""

    __tablename__ = "visit_revision"

    submission_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("visit_submission.id"), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    # The answers hold ID and mobile numbers: sealed as one value (ADR 0020).
    content: Mapped[dict] = mapped_column(SealedJSON("visit_revision.content"), nullable=False)
    computed: Mapped[dict] = mapped_column(JSON, nullable=False)
    author_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("user_account.id"), nullable=False)
    device_id: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    captured_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # device clock
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # device clock
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)  # server clock


class VisitAttestation(db.Model):
    """An investigator's signature over one revision's digest (谁调查谁签字谁负责)."""

    __tablename__ = "visit_attestation"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    submission_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("visit_submission.id"), nullable=False, index=True)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    user_id: Mapped[str] = mapped_column(String(36), nullable=False)
    key_id: Mapped[str | None] = mapped_column(String(36))
    key_user_id: Mapped[str | None] = mapped_column(String(36))
    device_id: Mapped[str | None] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(200), nullable=False)
    signature_image_sha256: Mapped[str | None] = mapped_column(String(64))
    signed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # device clock
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    is_signature_valid: Mapped[bool] = mapped_column(Boolean, nullable=False)


class VisitFlag(db.Model):
    """An integrity flag for the reviewer; never blocks the sync."""

    __tablename__ = "visit_flag"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("visit_submission.id"), nullable=False)
    revision: Mapped[int] = mapped_column(Integer, nullable=False)
    code: Mapped[str] = mapped_column(String(48), nullable=False)
    severity: Mapped[str] = mapped_column(String(10), nullable=False)
    data: Mapped[dict] = mapped_column(JSON, nullable=False)  # parameters; words: flags.py
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)

    __table_args__ = (Index("ix_visit_flag_submission", "submission_id", "revision"),)


class VisitPhoto(db.Model):
    """A photo named by a revision, with where and when the device says it was taken."""

    __tablename__ = "visit_photo"

    submission_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("visit_submission.id"), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    household_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    field: Mapped[str | None] = mapped_column(String(100))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    captured_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
