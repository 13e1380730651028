"""The holiday table: administrators' overrides of the State Council schedule."""

from __future__ import annotations

from datetime import date

from sqlalchemy import extract, select

from backend import clock
from backend.audit import service as audit
from backend.auth import rules as roles
from backend.auth.rules import Caller
from backend.errors import ProblemError
from backend.extensions import db
from backend.holidays.models import HolidayOverride
from backend.jurisdictions import rules as places


def overrides() -> dict[date, bool]:
    """Every entered day -> is it a working day; pass it to clock's working-day functions."""
    rows = db.session.execute(select(HolidayOverride.day_on, HolidayOverride.is_working_day))
    return {day_on: is_working_day for day_on, is_working_day in rows}


def list_days(year: int | None = None) -> list[HolidayOverride]:
    query = select(HolidayOverride).order_by(HolidayOverride.day_on)
    if year is not None:
        query = query.where(extract("year", HolidayOverride.day_on) == year)
    return list(db.session.scalars(query))


def coverage() -> dict:
    """Which of this year and next the calendar knows; shown on /healthz."""
    this_year = clock.today_in_china().year
    return {"covered_through": clock.calendar_covered_through(),
            "missing_years": clock.years_not_covered([this_year, this_year + 1], overrides())}


def _require_county_admin(caller: Caller) -> None:
    if not caller.has(roles.ADMIN):
        raise ProblemError("forbidden", "Only administrators edit the holiday table.")
    if places.level_of(caller.jurisdiction_code) != "county":
        raise ProblemError("county-level-only",
                           "The holiday table changes every township's deadlines, so only "
                           "county-level administrators edit it.")


def set_day(caller: Caller, day_on: date, is_working_day: bool,
            note: str | None) -> tuple[HolidayOverride, bool]:
    """Enter or change one day; returns the row and whether it is new."""
    _require_county_admin(caller)
    row = db.session.get(HolidayOverride, day_on)
    before = None if row is None else {"is_working_day": row.is_working_day, "note": row.note}
    created = row is None
    if row is None:
        row = HolidayOverride(day_on=day_on)
        db.session.add(row)
    row.is_working_day = is_working_day
    row.note = note
    row.updated_at = clock.now()
    row.updated_by_id = caller.user_id
    db.session.flush()
    audit.record("holiday.set", "holiday_override", day_on.isoformat(), before=before,
                 after={"is_working_day": is_working_day, "note": note})
    return row, created


def remove_day(caller: Caller, day_on: date) -> None:
    _require_county_admin(caller)
    row = db.session.get(HolidayOverride, day_on)
    if row is None:
        raise ProblemError("not-found", f"{day_on.isoformat()} is not in the holiday table.")
    before = {"is_working_day": row.is_working_day, "note": row.note}
    db.session.delete(row)
    db.session.flush()
    audit.record("holiday.removed", "holiday_override", day_on.isoformat(), before=before)
