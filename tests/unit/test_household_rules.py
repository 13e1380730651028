"""Pure household rules (backend/households/rules.py, backend/forms/identity.py).

DOMAIN.md "Identity data": resident IDs are GB 11643-1999 (18 characters, birth date,
sequence odd for men, ISO 7064 MOD 11-2 check character); mobiles are 11 digits starting 1
then 3-9; both are shown masked to roles that do not need them.
"""

from __future__ import annotations

from datetime import date

import pytest

from backend.forms.identity import (
    is_calendar_date,
    is_valid_mobile,
    is_valid_resident_id,
    normalize_resident_id,
    resident_id_check_char,
)
from backend.households.rules import birth_date_and_sex, head_of, member_problems
from backend.privacy.rules import shown_id, shown_phone

# The standard's own worked example (GB 11643-1999, appendix): born 1 January 1880.
STANDARD_EXAMPLE = "440524188001010014"
# 11010519491231002X: the well-known example whose check character is X.
WITH_X = "11010519491231002X"


def with_check(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


# --- GB 11643: the check character ----------------------------------------------------------

def test_gb11643_the_standards_example_is_valid():
    assert resident_id_check_char(STANDARD_EXAMPLE[:17]) == "4"
    assert is_valid_resident_id(STANDARD_EXAMPLE)


def test_gb11643_a_sum_giving_2_has_the_check_character_x():
    assert resident_id_check_char(WITH_X[:17]) == "X"
    assert is_valid_resident_id(WITH_X)


def test_gb11643_a_lower_case_x_is_rejected_until_normalized():
    assert not is_valid_resident_id(WITH_X.lower())
    assert is_valid_resident_id(normalize_resident_id(f"  {WITH_X.lower()} "))


@pytest.mark.parametrize("position", range(18))
def test_gb11643_changing_any_one_digit_breaks_the_check(position):
    digit = STANDARD_EXAMPLE[position]
    other = "1" if digit != "1" else "2"
    changed = STANDARD_EXAMPLE[:position] + other + STANDARD_EXAMPLE[position + 1:]

    assert not is_valid_resident_id(changed)


def test_gb11643_the_check_maps_every_remainder():
    # sum mod 11 = 0..10 indexes "10X98765432": each check character is reachable.
    seen = {resident_id_check_char(f"5306212001010{n:04d}") for n in range(200)}

    assert seen == set("10X98765432")


@pytest.mark.parametrize(
    "text", [STANDARD_EXAMPLE[:17], STANDARD_EXAMPLE + "0", "", None, 440524188001010014])
def test_gb11643_an_id_is_exactly_18_characters(text):
    assert not is_valid_resident_id(text)


def test_gb11643_the_address_code_may_not_start_with_0():
    assert not is_valid_resident_id(with_check("04052418800101001"))


# --- GB 11643: the birth date (a real date, from 1800 on) -----------------------------------

def test_gb11643_birth_date_on_both_sides_of_1800():
    assert is_valid_resident_id(with_check("44052418000101001"))
    assert not is_valid_resident_id(with_check("44052417991231001"))


@pytest.mark.parametrize(("birth", "valid"), [
    ("20000229", True),   # 2000 is a leap year (divisible by 400)
    ("19000229", False),  # 1900 is not (divisible by 100)
    ("20240229", True),
    ("20230229", False),
    ("20230431", False),
    ("20231231", True),
    ("20231301", False),
    ("20230001", False),
    ("20230100", False),
])
def test_gb11643_the_birth_date_must_be_a_calendar_date(birth, valid):
    assert is_valid_resident_id(with_check(f"530621{birth}123")) is valid


def test_calendar_date_edges():
    assert is_calendar_date(1, 1, 1) and is_calendar_date(9999, 12, 31)
    assert not is_calendar_date(0, 1, 1) and not is_calendar_date(10000, 1, 1)


def test_gb11643_birth_date_and_sex_come_from_the_number():
    # 17th digit odd: a man; even: a woman.
    assert birth_date_and_sex(STANDARD_EXAMPLE) == (date(1880, 1, 1), "male")
    assert birth_date_and_sex(WITH_X) == (date(1949, 12, 31), "female")


# --- mobiles: 11 digits, 1 then 3-9 ---------------------------------------------------------

@pytest.mark.parametrize(("phone", "valid"), [
    ("13812345678", True),
    ("19912345678", True),
    ("12812345678", False),   # second digit below 3
    ("10812345678", False),
    ("1381234567", False),    # 10 digits
    ("138123456789", False),  # 12 digits
    ("23812345678", False),
    ("1381234567a", False),
    ("", False),
    (None, False),
    (13812345678, False),
])
def test_mobile_numbers(phone, valid):
    assert is_valid_mobile(phone) is valid


# --- member problems: what the API reports per field ----------------------------------------

def test_a_member_with_a_valid_id_and_phone_has_no_problems():
    assert member_problems({"id_number": STANDARD_EXAMPLE, "phone": "13812345678"}) == {}


def test_a_member_without_id_or_phone_has_no_problems():
    assert member_problems({"name": "张三"}) == {}


def test_a_bad_id_and_a_bad_phone_are_both_reported():
    problems = member_problems({"id_number": STANDARD_EXAMPLE[:-1] + "5", "phone": "12345"})

    assert set(problems) == {"id_number", "phone"}


# --- masking: 1101**********1234, 138****5678 -----------------------------------------------

def test_identity_data_the_id_is_masked_to_its_first_and_last_four():
    assert shown_id("110105199003071234", sees_full=False) == "1101**********1234"
    assert shown_id("110105199003071234", sees_full=True) == "110105199003071234"


def test_identity_data_the_phone_is_masked_to_its_first_three_and_last_four():
    assert shown_phone("13812345678", sees_full=False) == "138****5678"
    assert shown_phone("13812345678", sees_full=True) == "13812345678"


def test_identity_data_a_short_value_is_masked_completely():
    # Too short to keep head and tail without showing it all.
    assert shown_id("12345678", sees_full=False) == "********"
    assert shown_id("123456789", sees_full=False) == "1234*6789"
    assert shown_phone("1234567", sees_full=False) == "*******"


def test_nothing_to_show_stays_nothing():
    assert shown_id(None, sees_full=False) is None
    assert shown_phone(None, sees_full=True) is None


# --- the head of household -------------------------------------------------------------------

def test_the_head_is_the_member_named_head():
    members = [{"name": "a", "relation": "child"}, {"name": "b", "relation": "head"}]

    assert head_of(members)["name"] == "b"


def test_without_a_named_head_the_first_member_stands_for_the_household():
    assert head_of([{"name": "a", "relation": "spouse"}, {"name": "b"}])["name"] == "a"
    assert head_of([]) is None
