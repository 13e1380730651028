"""The shipped household survey, the definition checker, validation and identity checks."""

from __future__ import annotations

import copy

import pytest

from backend.forms.definition import check_definition, iter_fields, load_definition
from backend.forms.identity import (
    is_valid_mobile,
    is_valid_resident_id,
    mask_mobile,
    mask_resident_id,
    normalize_resident_id,
    resident_id_check_char,
)
from backend.forms.validation import (
    MESSAGES,
    check_constraint,
    compute_calculations,
    is_relevant,
    validate_submission,
)

SURVEY = load_definition("household_survey", 1)
REQUIRED = MESSAGES["required"]
SELF_CARE_ITEMS = ("eats_alone", "dresses_alone", "transfers_alone", "uses_toilet_alone",
                   "walks_indoors_alone", "bathes_alone")


def member(**overrides):
    answer = {
        "name": "王建国", "relation": "head", "id_number": "11010519491231002X", "sex": "male",
        "age": 75, "health": "chronic_illness", "education": "primary",
        "marital_status": "widowed", "work_status": "unable_to_work", "can_work": False,
        "income_wages": None, "income_business": None, "income_property": None,
        "income_transfer": 600,
    }
    answer.update(overrides)
    return answer


def submission(**overrides):
    """A complete, valid survey of a two-person dibao household."""
    answer = {
        "address_confirmed": True, "contact_mobile": "13812345678", "housing_type": "owned",
        "housing_area": 45.5, "has_running_water": True, "heating": "stove",
        "appliances": ["tv", "fridge"],
        "visit_location": {"lat": 34.7466, "lon": 113.6254, "accuracy": 12},
        "members": [
            member(),
            member(name="王小明", relation="grandchild", id_number="110105201003071239",
                   age=14, health="healthy", education="junior_secondary", work_status="student",
                   marital_status="single", income_transfer=None, income_wages=None),
        ],
        "deposits": 3000, "securities": 0, "vehicle_count": 0, "owns_other_housing": False,
        "owns_business": False, "medical_expense": 350.5,
        "supporters": [{"name": "王芳", "relation": "child", "monthly_support": 300}],
    }
    answer.update(overrides)
    return answer


def field_named(name):
    return next(field for _, field, _ in iter_fields(SURVEY) if field["name"] == name)


# ---------------------------------------------------------------- the definition and its checker

def test_the_shipped_survey_passes_the_checker():
    assert check_definition(SURVEY) == []


def test_the_shipped_survey_is_bilingual_and_has_the_domain_sections():
    assert [s["name"] for s in SURVEY["sections"]] == [
        "household", "members", "property", "expenditure", "supporters", "self_care", "summary"]
    for _, field, _ in iter_fields(SURVEY):
        assert field["label"]["zh-CN"] and field["label"]["en"]
    # Four income buckets per member (DOMAIN.md, national frame).
    members = field_named("members")["fields"]
    assert {"income_wages", "income_business", "income_property", "income_transfer"} <= {
        f["name"] for f in members if f["type"] == "money"}


def broken(mutate):
    defn = copy.deepcopy(SURVEY)
    mutate(defn)
    return check_definition(defn)


def _field(defn, name):
    return next(field for _, field, _ in iter_fields(defn) if field["name"] == name)


@pytest.mark.parametrize(("mutate", "fragment"), [
    (lambda d: _field(d, "heating").update(type="dropdown"), "unknown type 'dropdown'"),
    (lambda d: _field(d, "heating").update(name="housing_type"), "duplicate name 'housing_type'"),
    (lambda d: d["sections"][0].update(name="members"), "duplicate name 'members'"),
    (lambda d: _field(d, "housing_area").update(constraint=". > 0 and"), "constraint:"),
    (lambda d: _field(d, "actual_address").update(relevant="${adress_confirmed} = false"),
     "${adress_confirmed} refers to no field"),
    (lambda d: _field(d, "heating").pop("choices"), "needs a non-empty choices list"),
    (lambda d: _field(d, "heating")["choices"].append({"value": "none", "label": {"zh-CN": "无",
                                                                                  "en": "None"}}),
     "duplicate choice 'none'"),
    (lambda d: _field(d, "member_count").update(calculation="${per_capita_monthly_income}"),
     "is a calculation that comes later"),
    (lambda d: _field(d, "housing_area").update(relevant=". > 0"), "only means something"),
    (lambda d: _field(d, "housing_area").update(relevent="true"), "unknown key 'relevent'"),
    (lambda d: _field(d, "housing_area")["label"].pop("en"), "label needs non-empty text"),
    (lambda d: _field(d, "household_monthly_income").update(calculation="sum(${member_income})"),
     "${member_income} refers to no field"),
    (lambda d: _field(d, "household_monthly_income").update(calculation="sum(${members.wage})"),
     "is not a field of a repeat group"),
    (lambda d: _field(d, "notes").update(name="case_kind"), "duplicate name 'case_kind'"),
    (lambda d: _field(d, "vehicle_count").update(format="mobile"), "format must be one of"),
    (lambda d: _field(d, "vehicle_count").update(min=30), "min is greater than max"),
    (lambda d: _field(d, "supporters")["fields"].append(
        {"name": "nested", "type": "repeat", "label": {"zh-CN": "嵌套", "en": "Nested"},
         "fields": [{"name": "x", "type": "text", "label": {"zh-CN": "x", "en": "x"}}]}),
     "repeat groups cannot be nested"),
    (lambda d: _field(d, "notes").update(name="__proto__"), "reserved"),
    (lambda d: d.update(version=0), "version must be a positive integer"),
    (lambda d: _field(d, "member_count").pop("calculation"), "needs a calculation"),
])
def test_the_checker_catches_broken_definitions(mutate, fragment):
    problems = broken(mutate)
    assert any(fragment in problem for problem in problems), problems


def test_the_checker_survives_garbage():
    assert check_definition([]) == ["a definition must be a JSON object"]
    assert check_definition({"sections": [None, {"fields": "x"}]})


# ---------------------------------------------------------------- validating a submission

def test_a_complete_survey_is_valid_and_the_server_computes_the_totals():
    errors, computed = validate_submission(SURVEY, submission(), {"case_kind": "dibao"})
    assert errors == {}
    assert computed["members[0].member_income"] == 600
    assert computed["members[1].member_income"] == 0
    assert computed["household_monthly_income"] == 900  # 600 + 0 + 300 from the supporter
    assert computed["member_count"] == 2
    assert computed["per_capita_monthly_income"] == 450
    assert computed["self_care_level"] is None  # not an extreme-poverty case


def test_client_computed_values_are_ignored():
    data = submission(household_monthly_income=1, per_capita_monthly_income=0.5)
    data["members"][0]["member_income"] = 1
    _, computed = validate_submission(SURVEY, data, {"case_kind": "dibao"})
    assert computed["household_monthly_income"] == 900
    assert computed["per_capita_monthly_income"] == 450


def test_per_capita_income_is_rounded_half_away_from_zero():
    data = submission(supporters=[])
    data["members"][0].update(income_wages=1000.01, income_transfer=None)
    data["members"].append(member(id_number="110105199003071239", age=34, relation="child"))
    data["members"][2].update(income_transfer=None, income_wages=None)
    _, computed = validate_submission(SURVEY, data)
    assert computed["per_capita_monthly_income"] == 333.34  # 1000.01 / 3 = 333.336…


def test_required_fields_are_reported():
    errors, _ = validate_submission(SURVEY, submission(housing_type=None, deposits=""))
    assert errors == {"housing_type": [REQUIRED], "deposits": [REQUIRED]}


def test_a_required_repeat_needs_an_entry():
    errors, computed = validate_submission(SURVEY, submission(members=[]))
    assert errors == {"members": [REQUIRED]}
    assert computed["per_capita_monthly_income"] is None  # division by zero members → null


def test_relevance_turns_requirements_on_and_off():
    assert "actual_address" not in validate_submission(SURVEY, submission())[0]
    errors, _ = validate_submission(SURVEY, submission(address_confirmed=False))
    assert errors == {"actual_address": [REQUIRED]}
    errors, _ = validate_submission(SURVEY, submission(vehicle_count=1))
    assert errors == {"vehicle_value": [REQUIRED]}


def test_non_relevant_fields_are_skipped_even_when_wrong():
    data = submission(owns_other_housing=False, other_housing_area=-5)
    data["members"][0].update(health="healthy", disability_grade=99)
    assert validate_submission(SURVEY, data)[0] == {}


def test_disability_grade_is_checked_for_disabled_members():
    data = submission()
    data["members"][1].update(health="disabled", disability_grade=5)
    errors, _ = validate_submission(SURVEY, data)
    assert errors == {"members[1].disability_grade": ["不能大于 4"]}


def test_constraint_messages_come_from_the_definition():
    data = submission(housing_area=0)
    data["members"][1]["age"] = 130
    errors, _ = validate_submission(SURVEY, data)
    assert errors == {
        "housing_area": ["住房面积应大于 0 且小于 2000 平方米"],
        "members[1].age": ["年龄应在 0 到 120 岁之间"],
    }
    area = field_named("housing_area")
    assert check_constraint(area, 2500, {}, language="en") == (
        "Housing area must be more than 0 and less than 2000 m²")
    assert check_constraint(area, 60, {}) is None


def test_repeat_errors_carry_the_entry_index():
    data = submission()
    data["members"].append(member(id_number="110105194912310021", relation="spouse"))
    data["supporters"].append({"name": "", "relation": "son", "monthly_support": 12.345})
    errors, _ = validate_submission(SURVEY, data)
    assert errors == {
        "members[2].id_number": [MESSAGES["resident_id"]],
        "supporters[1].name": [REQUIRED],
        "supporters[1].relation": [MESSAGES["select_one"]],
        "supporters[1].monthly_support": [MESSAGES["money"]],
    }


def test_type_errors():
    errors, _ = validate_submission(SURVEY, submission(
        contact_mobile="12345", appliances=["tv", "jacuzzi"], has_running_water="yes",
        visit_location={"lat": 34.7, "lon": 200, "accuracy": 5}, deposits=-1,
        house_photo="not-a-hash"))
    assert errors == {
        "contact_mobile": [MESSAGES["mobile"]],
        "appliances": [MESSAGES["select_many"]],
        "has_running_water": [MESSAGES["yes_no"]],
        "visit_location": [MESSAGES["geopoint"]],
        "deposits": [MESSAGES["money"]],
        "house_photo": [MESSAGES["photo"]],
    }


def test_the_self_care_section_is_only_for_extreme_poverty():
    section = SURVEY["sections"][5]
    assert not is_relevant(section, {"case_kind": "dibao"})
    assert is_relevant(section, {"case_kind": "extreme_poverty"})
    errors, _ = validate_submission(SURVEY, submission(), {"case_kind": "extreme_poverty"})
    assert errors == {item: [REQUIRED] for item in SELF_CARE_ITEMS}
    # An answer cannot pose as the context value: case_kind comes from the case only.
    errors, _ = validate_submission(SURVEY, submission(case_kind="extreme_poverty"),
                                    {"case_kind": "dibao"})
    assert errors == {}


# 民发〔2021〕43号 (特困人员认定办法), via DOMAIN.md: six items (eating, dressing, getting in and
# out of bed, toilet, walking indoors, bathing); all six alone = self-caring; one to three not
# done = partly unable; four or more not done = fully unable.
@pytest.mark.parametrize(("not_done", "level"), [
    (0, "self_caring"), (1, "partly_unable"), (3, "partly_unable"), (4, "fully_unable"),
    (6, "fully_unable"),
])
def test_self_care_level_boundaries(not_done, level):
    answers = {item: index >= not_done for index, item in enumerate(SELF_CARE_ITEMS)}
    errors, computed = validate_submission(SURVEY, submission(**answers),
                                           {"case_kind": "extreme_poverty"})
    assert errors == {}
    assert computed["self_care_unable_count"] == not_done
    assert computed["self_care_level"] == level


def test_self_care_level_waits_for_all_six_answers():
    computed = compute_calculations(SURVEY, submission(eats_alone=False),
                                    {"case_kind": "extreme_poverty"})
    assert computed["self_care_level"] is None


# ---------------------------------------------------------------- identity (GB 11643-1999)

# The standard's own examples: 11010519491231002X and 440524188001010014.
@pytest.mark.parametrize("number", [
    "11010519491231002X", "440524188001010014", "110105199003071239", "320106198506152314",
    "440304200002290014",  # born 29 Feb 2000, a leap year (divisible by 400)
])
def test_valid_resident_ids(number):
    assert is_valid_resident_id(number)
    assert resident_id_check_char(number[:17]) == number[17]


@pytest.mark.parametrize(("number", "why"), [
    ("110105194912310021", "wrong check character (MOD 11-2 gives X)"),
    ("110105199902300015", "19990230 is not a date"),
    ("110105190002290017", "1900 is not a leap year"),
    ("11010519491231002", "17 characters"),
    ("11010519491231002X0", "19 characters"),
    ("010105194912310026", "address code starting with 0"),
    ("110105179912310024", "born before 1800"),
    ("１１0105194912310021", "full-width digits"),
    ("11010519491231002x", "lower-case x is not stored: normalize first"),
    ("", "empty"),
    (None, "not a string"),
])
def test_invalid_resident_ids(number, why):
    assert not is_valid_resident_id(number), why


def test_lower_case_x_is_accepted_only_after_normalizing():
    # Decision: the validator is strict so stored numbers are canonical (upper-case X, as printed
    # on the card); input screens call normalize_resident_id first.
    assert normalize_resident_id(" 11010519491231002x ") == "11010519491231002X"
    assert is_valid_resident_id(normalize_resident_id("11010519491231002x"))


def test_mobile_numbers():
    assert is_valid_mobile("13812345678")
    assert is_valid_mobile("19912345678")
    assert not is_valid_mobile("12812345678")  # second digit 3-9
    assert not is_valid_mobile("1381234567")
    assert not is_valid_mobile("138123456789")
    assert not is_valid_mobile("13812345678\n")
    assert not is_valid_mobile(13812345678)


def test_masks():
    assert mask_resident_id("110105199003071234") == "1101**********1234"
    assert mask_mobile("13812345678") == "138****5678"
    assert mask_mobile("1234") == "****"
