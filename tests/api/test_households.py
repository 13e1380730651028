"""Households: registration with validated IDs and phones, idempotent retries."""

import uuid
from datetime import date

from backend.demo import resident_id


def household_body(**overrides):
    body = {"jurisdiction_code": "530621100201", "address": "砚池社区2组8号",
            "members": [{"name": "王秀英", "relation": "head",
                         "id_number": resident_id("530621", date(1956, 3, 9), 22),
                         "phone": "13812345678"},
                        {"name": "王建国", "relation": "child"}]}
    body.update(overrides)
    return body


def test_register_household_derives_birth_date_and_sex(api, db_session):
    from backend.households.models import Member

    response = api.post("wenping_intake", "/api/households", json=household_body())
    assert response.status_code == 201
    head = response.get_json()["members"][0]
    # Stored; shown as an age beside the masked ID (issue 22: no desk role sees a full ID,
    # so none sees the birth date, ADR 0019).
    assert db_session.get(Member, head["id"]).birth_on.isoformat() == "1956-03-09"
    assert head["birth_on"] is None and isinstance(head["age"], int)
    assert head["sex"] == "female"  # 17th digit 2 is even (GB 11643-1999)


def test_bad_resident_id_and_phone_are_field_errors(api):
    valid = resident_id("530621", date(1956, 3, 9), 21)
    wrong_check = valid[:-1] + ("0" if valid[-1] != "0" else "1")
    body = household_body(members=[{"name": "赵六", "relation": "head",
                                    "id_number": wrong_check, "phone": "12812345678"}])
    response = api.post("wenping_intake", "/api/households", json=body)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert "members[0].id_number" in errors and "members[0].phone" in errors


def test_household_needs_exactly_one_head(api):
    body = household_body(members=[{"name": "甲", "relation": "child"}])
    response = api.post("wenping_intake", "/api/households", json=body)
    assert response.status_code == 422
    assert "members" in response.get_json()["errors"]


def test_retry_with_same_client_id_creates_one_household(api):
    household_id = str(uuid.uuid4())
    first = api.post("wenping_intake", "/api/households", json=household_body(id=household_id))
    second = api.post("wenping_intake", "/api/households", json=household_body(id=household_id))
    assert (first.status_code, second.status_code) == (201, 200)
    listed = api.get("wenping_intake", "/api/households?q=砚池社区2组8号").get_json()
    assert [h["id"] for h in listed["items"]].count(household_id) == 1


def test_village_assistant_registers_on_behalf_of_applicant(api):
    response = api.post("wenping_assistant", "/api/households", json=household_body())
    assert response.status_code == 201


def test_a_page_of_households_costs_the_same_statements_for_two_or_twenty(api):
    """Issue 23: each household's place was read with a statement of its own."""
    from tests.api.query_plans import page_statements

    pages = page_statements(api, "wenping_reviewer", "/api/households")
    (small_items, small), (large_items, large) = pages[2], pages[20]
    assert small_items == 2 and large_items >= 10  # or the test proves nothing
    assert large == small, (small, large)
