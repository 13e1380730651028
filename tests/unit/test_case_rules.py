"""Case deadlines (001/002): working days to a Shanghai date; emergency aid within 24 hours."""

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from backend import clock
from backend.cases.rules import deadline_for, is_overdue
from backend.jurisdictions.rules import effective_settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULTS = effective_settings([])


def test_emergency_aid_is_due_24_hours_after_intake_as_an_instant():
    # 23:30 in Shanghai: the next calendar date would leave 30 minutes, not 24 hours (002).
    applied = datetime(2026, 11, 24, 23, 30, tzinfo=SHANGHAI)
    deadline = deadline_for("temporary", "emergency", applied, DEFAULTS,
                            clock.add_working_days, SHANGHAI)
    assert deadline.due_on is None and deadline.working_days is None
    assert deadline.due_at == datetime(2026, 11, 25, 15, 30, tzinfo=UTC)
    assert deadline.due_at.tzinfo is UTC


def test_emergency_aid_over_a_holiday_is_still_24_hours():
    applied = datetime(2026, 10, 1, 9, 0, tzinfo=SHANGHAI)
    deadline = deadline_for("temporary", "emergency", applied, DEFAULTS,
                            clock.add_working_days, SHANGHAI)
    assert deadline.due_at - applied == timedelta(hours=24)


def test_other_kinds_count_working_days_from_the_shanghai_date():
    # 2026-02-13 17:00 UTC is already Sat 02-14 (a make-up workday) in Shanghai.
    applied = datetime(2026, 2, 13, 17, 0, tzinfo=UTC)
    dibao = deadline_for("dibao", None, applied, DEFAULTS, clock.add_working_days, SHANGHAI)
    assert dibao.due_at is None
    assert dibao.working_days == 20
    assert dibao.due_on == clock.add_working_days(date(2026, 2, 14), 20)
    temporary = deadline_for("temporary", "expenditure", applied,
                             effective_settings([{"temporary_deadline_working_days": 12}]),
                             clock.add_working_days, SHANGHAI)
    assert temporary.working_days == 12


def test_overdue_by_the_instant_for_emergency_aid():
    due_at = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)
    same_day = datetime(2026, 11, 25, 15, 31, tzinfo=UTC)
    assert is_overdue(None, due_at, "accepted", same_day, SHANGHAI)
    assert not is_overdue(None, due_at, "accepted", due_at, SHANGHAI)
    assert not is_overdue(None, due_at, "approved", same_day, SHANGHAI)


def test_overdue_by_the_shanghai_date_for_working_day_deadlines():
    due_on = date(2026, 3, 3)
    assert not is_overdue(due_on, None, "accepted",
                          datetime(2026, 3, 3, 15, 59, tzinfo=UTC), SHANGHAI)
    assert is_overdue(due_on, None, "accepted", datetime(2026, 3, 3, 16, 0, tzinfo=UTC),
                      SHANGHAI)


def test_application_dates_outside_the_plausible_range_are_refused():
    from backend.cases.rules import applied_at_problems

    now = datetime(2026, 12, 6, 12, tzinfo=UTC)
    for refused in (datetime(1, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai")),
                    datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-10))),
                    datetime(1999, 12, 31, tzinfo=UTC), now + timedelta(days=2)):
        assert list(applied_at_problems(refused, now)) == ["applied_at"], refused
    for accepted in (datetime(2000, 1, 1, tzinfo=UTC), now, now + timedelta(hours=20)):
        assert applied_at_problems(accepted, now) == {}


def test_case_number_from_the_townships_pattern():  # issue 21
    from backend.cases import rules as case_rules

    pattern = case_rules.DEFAULT_CASE_NUMBER_PATTERN
    assert case_rules.case_number(pattern, "文屏镇", 2026, "dibao", 12) \
        == "文屏〔2026〕低保第 0012 号"
    assert case_rules.case_number(pattern, "龙头山镇", 2027, "periodic_review", 1) \
        == "龙头山〔2027〕复核第 0001 号"
    assert case_rules.township_short_name("砚池街道") == "砚池"
    assert case_rules.township_short_name("镇") == "镇"
    # A pattern that cannot be filled still gives a number (the default's).
    assert case_rules.case_number("{owner}{seq}", "文屏镇", 2026, "dibao", 3) \
        == "文屏〔2026〕低保第 0003 号"


def test_suggested_team_rotates_pairs_skips_relatives_and_prefers_the_free():  # issue 21
    from backend.cases.rules import Investigator, joint_visits, suggest_team

    people = [Investigator("a", 0, False), Investigator("b", 0, False),
              Investigator("c", 5, False), Investigator("d", 0, True)]
    assert suggest_team(people, {}, 2) == ("a", "b")  # the freest pair
    history = joint_visits([{"a", "b"}, {"a", "b"}, {"a", "c"}])
    assert history[frozenset({"a", "b"})] == 2
    assert suggest_team(people, history, 2) == ("b", "c")  # never together here yet
    assert "d" not in suggest_team(people, history, 2)  # a relative never goes (004)
    assert suggest_team(people[:1], {}, 2) == ()
