from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.dbtypes import UtcDateTime
from backend.encryption.columns import SealedText
from backend.extensions import db


class Complaint(db.Model):
    """A complaint or report (举报) about assistance: who is reported and what, the number
    people quote, its named handler, its finding and the reply sent.

    The reporter's name and contact sit in their own columns that no list or detail view
    reads; only ``service.reporter`` does, for the handler and the county supervisor, with a
    read audit row each time. Nothing of the reporter's network address is stored.
    """

    __tablename__ = "complaint"

    # The client's UUID (the public form's or the desk's): a resend files nothing twice.
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    number: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    # The township that handles it (a case's village when linked at intake stays on the case).
    jurisdiction_code: Mapped[str] = mapped_column(
        String(12), ForeignKey("jurisdiction.code"), nullable=False, index=True)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    about: Mapped[str | None] = mapped_column(String(100))
    content: Mapped[str] = mapped_column(Text, nullable=False)
    is_anonymous: Mapped[bool] = mapped_column(Boolean, nullable=False)
    # Sealed at rest like ID numbers and phones (ADR 0020): a reporter's identity is what an
    # informant most needs kept (信访工作条例).
    reporter_name: Mapped[str | None] = mapped_column(SealedText("complaint.reporter_name"))
    reporter_contact: Mapped[str | None] = mapped_column(
        SealedText("complaint.reporter_contact"))
    reply_channel: Mapped[str] = mapped_column(String(16), nullable=False)
    case_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("assistance_case.id"), index=True)
    household_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("household.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    handler_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("user_account.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, index=True)
    received_by_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("user_account.id"))
    assign_due_on: Mapped[date] = mapped_column(Date, nullable=False)
    verify_due_on: Mapped[date] = mapped_column(Date, nullable=False)
    reply_due_on: Mapped[date] = mapped_column(Date, nullable=False)
    assigned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    is_substantiated: Mapped[bool | None] = mapped_column(Boolean)
    finding: Mapped[str | None] = mapped_column(String(1000))
    found_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    consequence: Mapped[str | None] = mapped_column(String(24))
    consequence_case_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("assistance_case.id"))
    reply: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)

    __mapper_args__ = {"version_id_col": version}


class ComplaintVerification(db.Model):
    """One way the handler checked the report: a home visit of the linked case's team (the
    visit it refers to is complete: attested and approved), a system comparison, a call."""

    __tablename__ = "complaint_verification"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    complaint_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("complaint.id"), nullable=False, index=True)
    # 1, 2, … in the order the handler recorded them
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    method: Mapped[str] = mapped_column(String(24), nullable=False)
    note: Mapped[str] = mapped_column(String(1000), nullable=False)
    visit_id: Mapped[str | None] = mapped_column(String(36))
    recorded_by_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("user_account.id"), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
