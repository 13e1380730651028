from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.dbtypes import UtcDateTime
from backend.extensions import db


class Case(db.Model):
    """One application of a household for one kind of assistance."""

    __tablename__ = "assistance_case"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    household_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("household.id"), nullable=False, index=True
    )
    # The household's village, copied so scoping is one indexed prefix match.
    jurisdiction_code: Mapped[str] = mapped_column(
        String(12), ForeignKey("jurisdiction.code"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(String(24), nullable=False)
    # The number people read on letters, screens and exports (文屏〔2026〕低保第 0012 号),
    # assigned at creation from the township's pattern; the id stays the UUID.
    case_no: Mapped[str | None] = mapped_column(String(40), unique=True)
    temporary_subtype: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24), nullable=False, index=True)
    channel: Mapped[str] = mapped_column(String(24), nullable=False)
    applied_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    # Due date in working days (Asia/Shanghai), or for emergency aid the due instant
    # (24 hours after intake, 002); exactly one is set.
    deadline_on: Mapped[date | None] = mapped_column(Date)
    deadline_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    is_economic_check_authorized: Mapped[bool] = mapped_column(Boolean, nullable=False)
    has_honesty_pledge: Mapped[bool] = mapped_column(Boolean, nullable=False)
    intake_by_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("user_account.id"))
    note: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, index=True)

    team: Mapped[list[CaseTeamMember]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="CaseTeamMember.user_id"
    )

    __mapper_args__ = {"version_id_col": version}


class CaseTeamMember(db.Model):
    """An investigator assigned to the case's home visit (≥ 2 staff, 004)."""

    __tablename__ = "case_team_member"

    case_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("assistance_case.id"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("user_account.id"), primary_key=True, index=True
    )
    assigned_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    assigned_by_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("user_account.id"))


class CaseNumberCounter(db.Model):
    """The last case number given per township, year (of intake, Beijing) and kind."""

    __tablename__ = "case_number_counter"

    township_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(24), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, nullable=False)
