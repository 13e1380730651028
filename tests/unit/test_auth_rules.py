"""Pure auth rules (backend/auth/rules.py): roles, scope, lockout, passwords.

No Flask app and no database: every rule is a function of its arguments.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend.auth.rules import (
    APPROVER,
    FIELD_WORKER,
    REVIEWER,
    ROLES,
    Caller,
    is_locked,
    pair_lock_until,
    password_problem,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def caller(*roles: str, code: str = "530621101") -> Caller:
    return Caller("u1", frozenset(roles), code)


# --- Identity data: who sees full numbers is the catalogue's table (test_privacy_catalogue) ---

def test_a_caller_without_roles_reads_nothing_in_scope():
    assert not caller().reads_all_cases_in_scope


def test_roles_add_up():
    assert caller(FIELD_WORKER, APPROVER).has(APPROVER)
    assert not caller(FIELD_WORKER).has(APPROVER, REVIEWER)


# --- scope: a field worker sees their visit team's cases; others the whole jurisdiction ----

def test_a_field_worker_alone_reads_only_cases_of_their_visit_team():
    assert not caller(FIELD_WORKER).reads_all_cases_in_scope


@pytest.mark.parametrize("role", sorted(set(ROLES) - {FIELD_WORKER}))
def test_every_other_role_reads_all_cases_in_scope(role):
    assert caller(role).reads_all_cases_in_scope


# --- the jurisdiction tree: county → township → village ------------------------------------

def test_a_caller_covers_their_own_place_and_everything_below():
    township = caller(FIELD_WORKER, code="530621101")

    assert township.covers("530621101")
    assert township.covers("530621101203")


@pytest.mark.parametrize("code", ["530621", "530621102", "530621102203", "5306211", "630621101"])
def test_a_caller_does_not_cover_a_parent_or_a_sibling(code):
    assert not caller(FIELD_WORKER, code="530621101").covers(code)


# --- lockout after repeated failed sign-ins -------------------------------------------------

def test_failures_below_the_limit_do_not_lock_the_pair():
    assert pair_lock_until(4, NOW, max_failures=5, lock_minutes=15) is None


def test_the_failure_that_reaches_the_limit_locks_the_pair():
    assert pair_lock_until(5, NOW, max_failures=5, lock_minutes=15) == NOW + timedelta(minutes=15)
    assert pair_lock_until(6, NOW, max_failures=5, lock_minutes=15) is None


def test_each_further_round_of_failures_locks_twice_as_long_capped_at_a_day():
    assert pair_lock_until(10, NOW, max_failures=5, lock_minutes=15) == NOW + timedelta(minutes=30)
    assert pair_lock_until(500, NOW, max_failures=5, lock_minutes=15) == NOW + timedelta(days=1)


def test_a_first_failure_with_a_limit_of_one_locks():
    assert pair_lock_until(1, NOW, max_failures=1, lock_minutes=1) == NOW + timedelta(minutes=1)


def test_locked_until_is_exclusive():
    until = NOW + timedelta(minutes=15)

    assert is_locked(until, NOW)
    assert is_locked(until, until - timedelta(microseconds=1))
    assert not is_locked(until, until)
    assert not is_locked(until, until + timedelta(seconds=1))
    assert not is_locked(None, NOW)


# --- passwords: 10 to 128 characters, not the username, not one repeated character ------

@pytest.mark.parametrize(("length", "problem"), [
    (0, "at least 10 characters"),
    (9, "at least 10 characters"),
    (10, None),
    (128, None),
    (129, "at most 128 characters"),
])
def test_password_length_on_both_sides_of_each_limit(length, problem):
    assert password_problem(("甲乙丙丁" * 40)[:length]) == problem


def test_a_password_may_not_contain_the_username_or_be_too_simple():
    assert password_problem("xx-wenping_fw1-xx", "wenping_fw1") == "must not contain the username"
    assert password_problem("aaaaabbbbb") == "too simple: use more different characters"
