"""Pure auth rules (backend/auth/rules.py): roles, masking rights, scope, lockout, passwords.

No Flask app and no database: every rule is a function of its arguments.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend.auth.rules import (
    ADMIN,
    APPROVER,
    COUNTY_SUPERVISOR,
    FIELD_WORKER,
    INTAKE_CLERK,
    REVIEWER,
    ROLES,
    VILLAGE_ASSISTANT,
    Caller,
    after_failed_login,
    is_locked,
    password_problem,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def caller(*roles: str, code: str = "530621101") -> Caller:
    return Caller("u1", frozenset(roles), code)


# --- Identity data (DOMAIN.md): masked for any role that does not need the value ----------

@pytest.mark.parametrize("role", [INTAKE_CLERK, REVIEWER, APPROVER])
def test_identity_data_roles_deciding_eligibility_see_the_full_id(role):
    assert caller(role).sees_full_id


@pytest.mark.parametrize("role", [FIELD_WORKER, VILLAGE_ASSISTANT, COUNTY_SUPERVISOR, ADMIN])
def test_identity_data_other_roles_see_the_id_masked(role):
    assert not caller(role).sees_full_id


@pytest.mark.parametrize("role", [FIELD_WORKER, VILLAGE_ASSISTANT, INTAKE_CLERK, REVIEWER,
                                  APPROVER])
def test_identity_data_staff_who_reach_the_household_see_the_full_phone(role):
    assert caller(role).sees_full_phone


@pytest.mark.parametrize("role", [COUNTY_SUPERVISOR, ADMIN])
def test_identity_data_supervisors_and_admins_see_the_phone_masked(role):
    assert not caller(role).sees_full_phone


def test_a_caller_without_roles_sees_nothing_in_full():
    nobody = caller()

    assert not nobody.sees_full_id and not nobody.sees_full_phone
    assert not nobody.reads_all_cases_in_scope


def test_roles_add_up():
    assert caller(COUNTY_SUPERVISOR, REVIEWER).sees_full_id
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

def test_failures_below_the_limit_count_up_without_locking():
    decision = after_failed_login(3, NOW, max_failures=5, lock_minutes=15)

    assert decision.failed_login_count == 4
    assert decision.locked_until is None
    assert not decision.just_locked


def test_the_failure_that_reaches_the_limit_locks_and_resets_the_count():
    decision = after_failed_login(4, NOW, max_failures=5, lock_minutes=15)

    assert decision.just_locked
    assert decision.locked_until == NOW + timedelta(minutes=15)
    assert decision.failed_login_count == 0


def test_a_first_failure_with_a_limit_of_one_locks():
    assert after_failed_login(0, NOW, max_failures=1, lock_minutes=1).just_locked


def test_locked_until_is_exclusive():
    until = NOW + timedelta(minutes=15)

    assert is_locked(until, NOW)
    assert is_locked(until, until - timedelta(microseconds=1))
    assert not is_locked(until, until)
    assert not is_locked(until, until + timedelta(seconds=1))
    assert not is_locked(None, NOW)


# --- passwords: 8 to 128 characters --------------------------------------------------------

@pytest.mark.parametrize(("length", "problem"), [
    (0, "at least 8 characters"),
    (7, "at least 8 characters"),
    (8, None),
    (128, None),
    (129, "at most 128 characters"),
])
def test_password_length_on_both_sides_of_each_limit(length, problem):
    assert password_problem("密" * length) == problem
