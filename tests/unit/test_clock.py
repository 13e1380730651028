"""Working days across the 2026 Spring Festival and National Day, with make-up workdays.

The dates are the State Council's 2026 schedule as chinese-calendar 1.11 ships it:
Spring Festival holiday 2026-02-15..23 with make-up workdays Sat 02-14 and Sat 02-28;
National Day + Mid-Autumn 2026-10-01..07 with make-up workdays Sun 09-20 and Sat 10-10.
"""

from datetime import date, timedelta

import chinese_calendar
import pytest

from backend import clock


def test_installed_package_knows_2026():
    assert clock.calendar_covered_through() >= 2026
    version = tuple(int(part) for part in chinese_calendar.__version__.split(".")[:2])
    assert version >= (1, 11)


@pytest.mark.parametrize("day", [date(2026, 2, 15) + timedelta(days=n) for n in range(9)]
                         + [date(2026, 10, 1) + timedelta(days=n) for n in range(7)])
def test_2026_holidays_are_not_working_days(day):
    assert not clock.is_working_day(day)


@pytest.mark.parametrize("day", [date(2026, 2, 14), date(2026, 2, 28), date(2026, 9, 20),
                                 date(2026, 10, 10)])
def test_2026_make_up_weekend_days_are_working_days(day):
    assert day.weekday() >= 5
    assert clock.is_working_day(day)


def test_deadline_across_the_spring_festival_counts_the_make_up_saturdays():
    # Fri 02-13 intake: Sat 02-14 (make-up) is day 1; 02-15..23 are holidays; Tue 02-24 is
    # day 2 ... Fri 02-27 day 5; Sat 02-28 (make-up) day 6.
    assert clock.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert clock.add_working_days(date(2026, 2, 13), 5) == date(2026, 2, 27)
    assert clock.add_working_days(date(2026, 2, 13), 6) == date(2026, 2, 28)
    # 12 working days (002) from Mon 02-09: 02-10..13 (4), 02-14 (5), 02-24..27 (9),
    # 02-28 (10), Mon 03-02 (11), Tue 03-03 (12).
    assert clock.add_working_days(date(2026, 2, 9), 12) == date(2026, 3, 3)
    # 20 working days (001) from Mon 02-02: lands after the festival on Fri 03-06.
    assert clock.add_working_days(date(2026, 2, 2), 20) == date(2026, 3, 6)


def test_deadline_across_national_day_counts_the_make_up_days():
    # Sun 09-20 is a make-up workday: Sat 09-19 + 1 working day is Sunday.
    assert clock.add_working_days(date(2026, 9, 19), 1) == date(2026, 9, 20)
    # Mid-Autumn 09-25..27 and National Day 10-01..07 are off; Sat 10-10 is worked.
    # From Wed 09-23: 09-24 (1), 09-28..30 (4), 10-08, 10-09 (6), Sat 10-10 (7).
    assert clock.add_working_days(date(2026, 9, 23), 7) == date(2026, 10, 10)
    # 15 working days for temporary aid (001) from Mon 09-21: 09-22..24 (3), 09-28..30 (6),
    # 10-08..10 (9), 10-12..16 (14), Mon 10-19 (15).
    assert clock.add_working_days(date(2026, 9, 21), 15) == date(2026, 10, 19)
    assert clock.working_days_between(date(2026, 9, 30), date(2026, 10, 8)) == 1


def test_an_override_row_wins_over_the_package():
    # Say the county declares Thu 02-26 a holiday too and Sun 03-01 a make-up workday.
    overrides = {date(2026, 2, 26): False, date(2026, 3, 1): True}
    assert clock.add_working_days(date(2026, 2, 13), 5) == date(2026, 2, 27)
    assert clock.add_working_days(date(2026, 2, 13), 5, overrides) == date(2026, 2, 28)
    # One extra holiday pushes the 12-day deadline from Tue 03-03 to Wed 03-04; the extra
    # make-up Sunday brings it back to 03-03.
    assert clock.add_working_days(date(2026, 2, 9), 12, {date(2026, 2, 26): False}) == date(
        2026, 3, 4)
    assert clock.add_working_days(date(2026, 2, 9), 12, overrides) == date(2026, 3, 3)


def test_a_year_beyond_the_package_is_reported_until_its_holidays_are_entered():
    beyond = clock.calendar_covered_through() + 1
    assert clock.years_not_covered([beyond - 1, beyond]) == [beyond]
    spring_festival = {date(beyond, 2, 6): False}
    assert clock.years_not_covered([beyond - 1, beyond], spring_festival) == []
    # Without the table such a year counts Monday-Friday; with it the entered day is off.
    monday = date(beyond, 2, 1) + timedelta(days=(7 - date(beyond, 2, 1).weekday()) % 7)
    assert clock.is_working_day(monday)
    assert not clock.is_working_day(monday, {monday: False})


def test_subtracting_working_days_undoes_adding_them_across_the_holidays():
    # Back from the Monday after the National Day week: the make-up Saturday counts, the
    # holiday week does not.
    assert clock.subtract_working_days(date(2026, 10, 12), 1) == date(2026, 10, 10)
    for start in (date(2026, 2, 10), date(2026, 9, 24), date(2026, 12, 1)):  # working days
        for days in (1, 5, 12, 20):
            assert clock.subtract_working_days(clock.add_working_days(start, days), days) \
                <= start
            assert clock.working_days_between(
                clock.subtract_working_days(start, days), start) == days
