"""The only place that reads the clock, and working-day arithmetic.

Deadlines in DOMAIN.md count working days with Chinese public holidays and
make-up workdays (调休); chinese-calendar knows the State Council's schedule for the
years it was released with. An administrator can override single days (a year the
package does not know yet, or a late change): pass those overrides as a mapping
``date -> is_working_day``; they win over the package.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
from chinese_calendar import constants as _calendar_data

SHANGHAI = ZoneInfo("Asia/Shanghai")

_frozen_now: datetime | None = None

Overrides = Mapping[date, bool]


def now() -> datetime:
    """Aware UTC now (tests may freeze it with freeze())."""
    return _frozen_now or datetime.now(UTC)


def wall_now() -> datetime:
    """The real time, never frozen: what PyJWT checks a token's iat/exp against."""
    return datetime.now(UTC)


def frozen_at() -> datetime | None:
    """The instant the clock is frozen at, or None when it runs: to put it back as it was."""
    return _frozen_now


def freeze(at: datetime | None) -> None:
    global _frozen_now
    _frozen_now = at


def today_in_china() -> date:
    return now().astimezone(SHANGHAI).date()


def calendar_covered_through() -> int:
    """The last year whose holiday schedule the installed chinese-calendar knows."""
    return max(day.year for day in _calendar_data.holidays)


def years_not_covered(years: Iterable[int], overrides: Overrides | None = None) -> list[int]:
    """Years beyond the package's schedule for which no holiday was entered by hand.

    Such a year counts Monday-Friday only, so its deadlines ignore the Spring Festival.
    """
    entered = {day.year for day, is_working in (overrides or {}).items() if not is_working}
    last = calendar_covered_through()
    return sorted(year for year in set(years) if year > last and year not in entered)


def is_working_day(day: date, overrides: Overrides | None = None) -> bool:
    if overrides and day in overrides:
        return overrides[day]
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        # The library only knows years the State Council has published; beyond
        # that Monday-Friday, until the package is updated or the days are entered.
        return day.weekday() < 5


def add_working_days(start: date, days: int, overrides: Overrides | None = None) -> date:
    """The date `days` working days after `start` (start itself not counted)."""
    if days < 0:
        raise ValueError("days must be >= 0")
    current = start
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if is_working_day(current, overrides):
            remaining -= 1
    return current


def subtract_working_days(end: date, days: int, overrides: Overrides | None = None) -> date:
    """The date `days` working days before `end` (end itself not counted): the inverse of
    ``add_working_days``."""
    if days < 0:
        raise ValueError("days must be >= 0")
    current = end
    remaining = days
    while remaining:
        current -= timedelta(days=1)
        if is_working_day(current, overrides):
            remaining -= 1
    return current


def working_days_between(start: date, end: date, overrides: Overrides | None = None) -> int:
    """Working days after `start` up to and including `end` (0 if end <= start)."""
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if is_working_day(current, overrides):
            count += 1
    return count
