"""Pure rules of the county's check of special cases' re-reviews (001: at least twice a
year, at 100%): half-years, who is due one, and the rate. No Flask, no SQLAlchemy."""

from __future__ import annotations

from datetime import date

SPECIAL_CASE = "special_case"
SPECIAL_CASE_REREVIEW_RATE = 1.0  # 001: every special case, every half-year


def half_year(year: int, half: int) -> tuple[date, date]:
    """First and last day of a half-year: 1 is January–June, 2 is July–December."""
    if half == 1:
        return date(year, 1, 1), date(year, 6, 30)
    if half == 2:
        return date(year, 7, 1), date(year, 12, 31)
    raise ValueError(f"a half-year is 1 or 2, not {half}")


def half_year_of(day: date) -> tuple[int, int]:
    return day.year, 1 if day.month <= 6 else 2


def is_rereview_expected(approved_on: date, period_start: date) -> bool:
    """001 re-reviews a special case at least twice a year: one approved before the half-year
    began is due a re-review within it; one approved during it counts from the next."""
    return approved_on < period_start


def rate(done: int, expected: int) -> float | None:
    """done / expected, or None when nothing was expected (no rate, rather than 0% or 100%)."""
    return None if expected == 0 else round(done / expected, 4)


def is_rereview_rate_met(done: int, expected: int) -> bool:
    """001's 100%: every special case due a re-review had one (nothing due: nothing missed)."""
    return done >= expected * SPECIAL_CASE_REREVIEW_RATE
