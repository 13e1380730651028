"""Pure case rules (backend/cases/rules.py): kinds, decision deadlines, overdue, visit teams.

The deadlines are DOMAIN.md's (001, 002, 004). Working days come from backend.clock (Chinese
public holidays and make-up workdays), which is pure date arithmetic.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from backend.cases.rules import (
    OPEN_STATUSES,
    STATUSES,
    TeamCandidate,
    deadline_for,
    is_overdue,
    kind_problems,
    team_problems,
)
from backend.clock import SHANGHAI, add_working_days
from backend.jurisdictions.rules import effective_settings

SETTINGS = effective_settings([])
TOWNSHIP = "530621101"


def at_ten(day: date) -> datetime:
    """An application received at 10:00 in Shanghai on `day`."""
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=SHANGHAI)


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, 0, tzinfo=SHANGHAI)


def test_001_default_dibao_deadline_is_20_working_days():
    assert SETTINGS["dibao_deadline_working_days"] == 20


def test_001_temporary_aid_default_is_15_working_days():
    assert SETTINGS["temporary_deadline_working_days"] == 15


def test_001_dibao_decision_is_due_20_working_days_after_application():
    # Monday 2 March 2026: 20 working days on, no holiday in between, is Monday 30 March.
    deadline = deadline_for("dibao", None, at_ten(date(2026, 3, 2)), SETTINGS, add_working_days,
                            SHANGHAI)

    assert deadline.working_days == 20
    assert deadline.due_on == date(2026, 3, 30)
    assert deadline.due_at is None


def test_001_the_deadline_skips_public_holidays():
    # Applied on Tuesday 29 September 2026: the National Day week (1-7 October) does not count.
    deadline = deadline_for("dibao", None, at_ten(date(2026, 9, 29)), SETTINGS, add_working_days,
                            SHANGHAI)

    assert deadline.due_on == add_working_days(date(2026, 9, 29), 20)
    assert (deadline.due_on - date(2026, 9, 29)).days > 28


@pytest.mark.parametrize("kind", ["dibao", "extreme_poverty", "low_income_margin",
                                  "special_case"])
def test_001_002_non_temporary_kinds_use_the_dibao_setting(kind):
    # 002 shortens it to 12: a setting per jurisdiction.
    settings = effective_settings([{"dibao_deadline_working_days": 12}])

    deadline = deadline_for(kind, None, at_ten(date(2026, 3, 2)), settings, add_working_days,
                            SHANGHAI)

    assert deadline.working_days == 12
    assert deadline.due_on == date(2026, 3, 18)


def test_001_expenditure_temporary_aid_has_the_temporary_deadline():
    deadline = deadline_for("temporary", "expenditure", at_ten(date(2026, 3, 2)), SETTINGS,
                            add_working_days, SHANGHAI)

    assert deadline.working_days == 15
    assert deadline.due_on == date(2026, 3, 23)


def test_002_emergency_aid_is_due_within_24_hours_even_on_a_holiday():
    # Helping cannot wait for working days: 1 October is a holiday, 2 October too.
    deadline = deadline_for("temporary", "emergency", at_ten(date(2026, 10, 1)), SETTINGS,
                            add_working_days, SHANGHAI)

    assert deadline.due_at == at_ten(date(2026, 10, 2))
    assert deadline.working_days is None
    assert deadline.due_on is None


def test_a_fake_calendar_shows_the_setting_is_passed_through():
    seen = []

    def add(start, days):
        seen.append((start, days))
        return start + timedelta(days=days)

    deadline_for("dibao", None, at_ten(date(2026, 1, 5)), {"dibao_deadline_working_days": 7,
                                                   "temporary_deadline_working_days": 3},
                 add, SHANGHAI)

    assert seen == [(date(2026, 1, 5), 7)]


# --- overdue: only open cases, strictly after the due date ---------------------------------

DUE = date(2026, 3, 30)


def test_a_case_is_not_overdue_on_its_due_date():
    assert not is_overdue(DUE, None, "investigating", noon(DUE), SHANGHAI)


def test_a_case_is_overdue_the_day_after():
    assert is_overdue(DUE, None, "investigating", noon(DUE + timedelta(days=1)), SHANGHAI)


@pytest.mark.parametrize("status", sorted(set(STATUSES) - set(OPEN_STATUSES)))
def test_a_decided_case_is_never_overdue(status):
    assert not is_overdue(DUE, None, status, noon(DUE + timedelta(days=100)), SHANGHAI)


@pytest.mark.parametrize("status", OPEN_STATUSES)
def test_every_open_status_can_be_overdue(status):
    assert is_overdue(DUE, None, status, noon(DUE + timedelta(days=1)), SHANGHAI)


def test_no_deadline_is_never_overdue():
    assert not is_overdue(None, None, "accepted", noon(date(2099, 1, 1)), SHANGHAI)




# --- kinds: temporary aid (001/002) is emergency or expenditure, nothing else has a subtype --

@pytest.mark.parametrize("subtype", ["emergency", "expenditure"])
def test_002_temporary_aid_with_a_subtype_is_accepted(subtype):
    assert kind_problems("temporary", subtype) == {}


@pytest.mark.parametrize("subtype", [None, "other"])
def test_002_temporary_aid_needs_emergency_or_expenditure(subtype):
    assert list(kind_problems("temporary", subtype)) == ["temporary_subtype"]


def test_only_temporary_aid_has_a_subtype():
    assert list(kind_problems("dibao", "emergency")) == ["temporary_subtype"]
    assert kind_problems("dibao", None) == {}


# --- 004: at least two staff visit; no relative of the household --------------------------

def worker(user_id: str, roles=("field_worker",), township: str = TOWNSHIP) -> TeamCandidate:
    return TeamCandidate(user_id, frozenset(roles), township)


def slugs(problems) -> list[str]:
    return [slug for slug, _ in problems]


def test_004_two_field_workers_of_the_township_are_a_team():
    assert team_problems([worker("a"), worker("b")], TOWNSHIP, set(), 2) == []


def test_004_one_investigator_is_too_few():
    assert slugs(team_problems([worker("a")], TOWNSHIP, set(), 2)) == ["visit-team-too-small"]


def test_004_the_same_person_twice_is_still_one():
    assert slugs(team_problems([worker("a"), worker("a")], TOWNSHIP, set(), 2)) == [
        "visit-team-too-small"]


def test_004_a_larger_minimum_setting_is_respected():
    team = [worker("a"), worker("b")]

    assert slugs(team_problems(team, TOWNSHIP, set(), 3)) == ["visit-team-too-small"]
    assert team_problems([*team, worker("c")], TOWNSHIP, set(), 3) == []


def test_004_a_declared_relative_may_not_investigate():
    problems = team_problems([worker("a"), worker("b")], TOWNSHIP, {"b"}, 2)

    assert slugs(problems) == ["visit-team-conflict-of-interest"]


def test_a_member_must_be_a_field_worker_of_the_case_township():
    team = [worker("a"), worker("b", roles=("reviewer",)), worker("c", township="530621102")]

    assert slugs(team_problems(team, TOWNSHIP, set(), 2)) == [
        "visit-team-not-field-worker", "visit-team-not-field-worker"]
