"""A corpus of malformed requests: each answers a 4xx application/problem+json, never a 500."""

import pytest

from tests.api.helpers import case_of_township, household_of_township

PROBLEM = "application/problem+json"


def assert_problem(response, status, slug=None):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert {"type", "title", "detail", "errors", "status"} <= set(body)
    if slug:
        assert body["type"] == slug
    return body


def test_unknown_path_is_a_problem(client):
    assert_problem(client.get("/api/no-such-thing"), 404, "not-found")


def test_wrong_method_is_a_problem(client):
    body = assert_problem(client.delete("/api/auth/login"), 405, "method-not-allowed")
    assert body["detail"]


def test_malformed_json_is_a_problem(client):
    response = client.post("/api/auth/login", data='{"username": "a", "password": ',
                           content_type="application/json")
    assert_problem(response, 400, "malformed-json")


def test_wrong_content_type_is_415(client):
    response = client.post("/api/auth/login", data="username=a&password=b",
                           content_type="application/x-www-form-urlencoded")
    assert_problem(response, 415, "unsupported-media-type")


def test_body_too_large_is_413(app, client):
    huge = "x" * (app.config["MAX_CONTENT_LENGTH"] + 10)
    response = client.post("/api/auth/login", data=huge, content_type="application/json")
    assert_problem(response, 413, "body-too-large")


BAD_LOGIN_BODIES = [
    {},
    {"username": 12, "password": "x"},
    {"username": ["a"], "password": {"b": 1}},
    {"username": "a" * 10000, "password": "b"},
    {"username": "a", "password": "b" * 100000},
    {"username": None, "password": None},
    [],
    "just a string",
    17,
]


@pytest.mark.parametrize("body", BAD_LOGIN_BODIES, ids=range(len(BAD_LOGIN_BODIES)))
def test_bad_login_bodies(client, body):
    response = client.post("/api/auth/login", json=body)
    assert 400 <= response.status_code < 500
    assert response.mimetype == PROBLEM


def _valid_case_body(db_session):
    return {"household_id": household_of_township(db_session, "530621100").id, "kind": "dibao",
            "channel": "window", "is_economic_check_authorized": True, "has_honesty_pledge": True}


BAD_CASE_FIELDS = [
    ("kind", "pension"), ("kind", 3), ("channel", None), ("household_id", "not-a-uuid"),
    ("household_id", "0" * 36), ("is_economic_check_authorized", "yes please"),
    ("applied_at", "yesterday"), ("applied_at", "2026-11-25T08:00:00"),
    # Issue 20: the edges of the calendar overflowed in the deadline arithmetic (500).
    ("applied_at", "0001-01-01T00:00:00+08:00"), ("applied_at", "9999-12-31T23:59:59-10:00"),
    ("applied_at", "1899-06-01T09:00:00+08:00"), ("applied_at", "2999-06-01T09:00:00+08:00"),
    ("note", "长" * 501), ("temporary_subtype", "sudden"), ("id", "1; DROP TABLE"),
]


@pytest.mark.parametrize(("field", "value"), BAD_CASE_FIELDS, ids=[f for f, _ in BAD_CASE_FIELDS])
def test_bad_case_fields_name_the_field(api, db_session, field, value):
    body = {**_valid_case_body(db_session), field: value}
    response = api.post("wenping_intake", "/api/cases", json=body)
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)
    problem = response.get_json()
    assert response.mimetype == PROBLEM
    if response.status_code == 422:
        assert field in problem["errors"]


def test_unknown_fields_are_refused_with_their_names(api, db_session):
    body = {**_valid_case_body(db_session), "status": "approved"}
    problem = assert_problem(api.post("wenping_intake", "/api/cases", json=body), 422,
                             "validation-failed")
    assert "status" in problem["errors"]


BAD_QUERIES = ["page=0", "page=abc", "page_size=1000", "status=done", "kind=%00",
               "village=abc", "q=" + "x" * 100, "assigned_to_me=maybe"]


@pytest.mark.parametrize("query", BAD_QUERIES)
def test_bad_list_queries(api, query):
    response = api.get("wenping_reviewer", f"/api/cases?{query}")
    assert_problem(response, 422, "validation-failed")


def test_bad_if_match_values(api, db_session):
    case = case_of_township(db_session, "530621100")
    for value in ("abc", '"999"', "W/\"0\"", "*" * 300):
        response = api.patch("wenping_reviewer", f"/api/cases/{case.id}", json={"note": "n"},
                             headers={"If-Match": value})
        assert_problem(response, 412, "stale-version")


def test_patch_with_wrong_types(api, db_session):
    case = case_of_township(db_session, "530621100")
    response = api.patch("wenping_reviewer", f"/api/cases/{case.id}",
                         json={"is_economic_check_authorized": [1]},
                         headers={"If-Match": f'"{case.version}"'})
    body = assert_problem(response, 422)
    assert "is_economic_check_authorized" in body["errors"]


def test_household_with_huge_member_list(api):
    members = [{"name": "甲", "relation": "head"}] + [{"name": "乙", "relation": "child"}] * 40
    response = api.post("wenping_intake", "/api/households", json={
        "jurisdiction_code": "530621100201", "address": "x村", "members": members})
    assert_problem(response, 422)


def test_nothing_accepted_is_lost_after_a_bad_request(api, db_session):
    good = api.post("wenping_intake", "/api/cases", json=_valid_case_body(db_session))
    assert good.status_code == 201
    api.post("wenping_intake", "/api/cases", json={**_valid_case_body(db_session), "kind": 1})
    again = api.get("wenping_intake", f"/api/cases/{good.get_json()['id']}")
    assert again.status_code == 200
