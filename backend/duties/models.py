from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.dbtypes import UtcDateTime
from backend.extensions import db


class CaseDuty(db.Model):
    """One duty taken on a case (001/003): who, which duty (intake / preliminary_review /
    approval / supervision), when, through which path, holding which roles. Rows are only
    ever added: the separation rule reads the whole history."""

    __tablename__ = "case_duty"
    __table_args__ = (Index("ix_case_duty_case_user", "case_id", "user_id"),)

    # An increasing number: the history's order even when two entries share an instant.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("assistance_case.id"), nullable=False)
    jurisdiction_code: Mapped[str] = mapped_column(String(12), nullable=False)
    duty: Mapped[str] = mapped_column(String(24), nullable=False)
    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("user_account.id"), nullable=False, index=True)
    path: Mapped[str] = mapped_column(String(64), nullable=False)
    roles: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
