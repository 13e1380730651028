from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.dbtypes import UtcDateTime
from backend.extensions import db


class HolidayOverride(db.Model):
    """One day entered by an administrator: a public holiday or a make-up workday (调休).

    It wins over the chinese-calendar package in working-day arithmetic, for a year the
    package does not know yet or a schedule changed after its release.
    """

    __tablename__ = "holiday_override"

    day_on: Mapped[date] = mapped_column(Date, primary_key=True)
    is_working_day: Mapped[bool] = mapped_column(Boolean, nullable=False)
    note: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    updated_by_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("user_account.id"))
