"""The only place that reads the clock, and working-day arithmetic.

Deadlines in DOMAIN.md count working days with Chinese public holidays and
make-up workdays (调休); chinese-calendar knows the State Council's schedule.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")

_frozen_now: datetime | None = None


def now() -> datetime:
    """Aware UTC now (tests may freeze it with freeze())."""
    return _frozen_now or datetime.now(UTC)


def freeze(at: datetime | None) -> None:
    global _frozen_now
    _frozen_now = at


def today_in_china() -> date:
    return now().astimezone(SHANGHAI).date()


def is_working_day(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        # The library only knows years the State Council has published; beyond
        # that we fall back to Monday-Friday until the package is updated.
        return day.weekday() < 5


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (start itself not counted)."""
    if days < 0:
        raise ValueError("days must be >= 0")
    current = start
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 if end <= start)."""
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if is_working_day(current):
            count += 1
    return count
