"""Every JSON body is parsed within limits: a hostile body is a 400 `malformed-json`
problem that says which limit it broke, never a 500 (issue 8, "Sync must survive")."""

import json
from pathlib import Path

import pytest
from webargs import core as webargs_core

import backend
from backend.web import hooks, strict_json
from tests.api.test_sync import push

PROBLEM = "application/problem+json"

DEEP = 50_000

# (id, raw body, words the problem's detail must contain)
HOSTILE_BODIES = [
    ("deep-list", b"[" * DEEP + b"]" * DEEP, "nested more than 64"),
    ("deep-object", b'{"a":' * DEEP + b"1" + b"}" * DEEP, "nested more than 64"),
    ("deep-in-field", b'{"username": "a", "password": ' + b"[" * DEEP + b"]" * DEEP + b"}",
     "nested more than 64"),
    ("deep-unclosed", b'{"records": ' + b"[" * DEEP, "brackets do not match"),
    ("huge-int", b'{"username": "a", "password": ' + b"9" * 5000 + b"}", "longer than 1000"),
    ("huge-negative-int", b'{"records": [-' + b"1" * 100_000 + b"]}", "longer than 1000"),
    ("float-overflow", b'{"username": "a", "password": 1e400}', "too large"),
    ("long-float", b'{"records": [0.' + b"1" * 2000 + b"]}", "longer than 1000"),
    ("nan", b'{"username": NaN, "password": "b"}', "NaN"),
    ("infinity", b'{"username": "a", "password": Infinity}', "Infinity"),
    ("minus-infinity", b'{"records": [-Infinity]}', "-Infinity"),
    ("duplicate-key", b'{"username": "a", "username": "b", "password": "c"}',
     "'username' appears twice"),
    ("nested-duplicate", b'{"records": [{"id": "a", "id": "b"}]}', "'id' appears twice"),
    ("invalid-utf8", b'{"username": "\xff\xfe", "password": "b"}', "not valid UTF-8"),
    ("overlong-utf8", b'{"username": "\xc0\xaf", "password": "b"}', "not valid UTF-8"),
    ("encoded-surrogate", b'{"username": "\xed\xa0\x80", "password": "b"}', "not valid UTF-8"),
    ("lone-surrogate-escape", b'{"username": "\\ud800", "password": "b"}', "unpaired"),
    ("lone-surrogate-key", b'{"\\udc00": 1}', "unpaired"),
    ("syntax", b'{"username": "a", "password": ', "not valid JSON"),
]


def assert_refused(response, words):
    assert response.status_code == 400, response.get_data(as_text=True)[:500]
    assert response.mimetype == PROBLEM
    problem = response.get_json()
    assert problem["type"] == "malformed-json"
    assert words in problem["detail"], problem["detail"]


@pytest.mark.parametrize(("body", "words"), [(b, w) for _, b, w in HOSTILE_BODIES],
                         ids=[name for name, _, _ in HOSTILE_BODIES])
def test_hostile_login_body_is_a_400_problem(client, body, words):
    response = client.post("/api/auth/login", data=body, content_type="application/json")
    assert_refused(response, words)


@pytest.mark.parametrize(("body", "words"), [(b, w) for _, b, w in HOSTILE_BODIES],
                         ids=[name for name, _, _ in HOSTILE_BODIES])
def test_hostile_push_body_is_a_400_problem(api, body, words):
    response = api.post("wenping_fw1", "/api/sync/push", data=body,
                        content_type="application/json")
    assert_refused(response, words)


def test_limits_hold_for_routes_parsed_by_hand_too(api):
    """A route reading `request.get_json()` itself gets the same strict parser."""
    from flask import request

    app = api.client.application
    with app.test_request_context("/api/x", method="POST", data=b'{"a": NaN}',
                                  content_type="application/json"):
        from backend.errors import ProblemError

        with pytest.raises(ProblemError) as raised:
            request.get_json()
    assert raised.value.slug == "malformed-json"


def test_bodies_within_the_limits_still_work(api):
    nested = {"records": [{"type": "visit_submission", "id": "not-a-uuid",
                           "data": json.loads("[" * 60 + "]" * 60)}]}
    response = push(api, nested["records"])
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["results"][0]["status"] == "rejected"
    paired = client_login(api.client, "\\ud83d\\ude00")
    assert paired.status_code == 401  # a real emoji escape is fine: just a wrong password


def client_login(client, username_escape):
    body = '{"username": "' + username_escape + '", "password": "nope-nope-nope"}'
    return client.post("/api/auth/login", data=body.encode(), content_type="application/json")


def test_a_nul_character_is_a_422_naming_the_field_not_a_server_error(client):
    # PostgreSQL text cannot hold NUL: unrefused, this was a 500 on the production database.
    response = client.post("/api/auth/login", data=b'{"username": "a\\u0000b", "password": "b"}',
                           content_type="application/json")
    assert response.status_code == 422, response.get_data(as_text=True)[:500]
    assert response.mimetype == PROBLEM
    problem = response.get_json()
    assert problem["type"] == "validation-failed"
    assert list(problem["errors"]) == ["username"]


def test_a_nul_character_refuses_its_sync_record_and_keeps_the_neighbours(api):
    good = {"type": "visit_submission", "id": "not-a-uuid"}
    odd = {"type": "visit_submission", "id": "also-not-a-uuid", "note": "x\x00"}
    results = push(api, [good, odd]).get_json()["results"]
    assert results[1]["status"] == "rejected"
    assert results[1]["problem"]["errors"] == {"note": ["NUL characters are not allowed."]}
    assert results[0]["problem"]["errors"] != results[1]["problem"]["errors"]


def test_a_body_is_parsed_once_for_the_hook_and_the_route_s_arguments(api, monkeypatch):
    """webargs reads the value the strict parse left on the request (backend/blueprint.py): a
    second parse was a fifth of a 1,000-visit replay (issue 23)."""
    parses = []
    real_loads = strict_json.loads_strict

    def counted(raw, *args, **kwargs):
        parses.append(raw)
        return real_loads(raw, *args, **kwargs)

    monkeypatch.setattr(hooks, "loads_strict", counted)
    monkeypatch.setattr(webargs_core, "parse_json", _no_second_parse)
    response = push(api, [{"type": "visit_submission", "id": "not-a-uuid"}])
    assert response.status_code == 200
    assert response.get_json()["results"][0]["status"] == "rejected"
    assert len([raw for raw in parses if b'"records"' in raw]) == 1  # not the sign-in's


def _no_second_parse(*_args, **_kwargs):
    raise AssertionError("the body was parsed a second time, by webargs")


def test_every_api_package_declares_its_routes_on_the_blueprint_that_parses_once():
    modules = sorted(Path(backend.__file__).parent.glob("*/routes.py"))
    assert modules
    plain = [str(module) for module in modules
             if "from flask_smorest import Blueprint" in module.read_text(encoding="utf-8")]
    assert plain == []


@pytest.mark.parametrize(("body", "status", "slug"), [
    (b"", 422, "validation-failed"),  # no body: the records are missing
    (b"   ", 400, "malformed-json"),
])
def test_an_empty_json_body_on_a_route_with_arguments_is_a_problem(api, body, status, slug):
    response = api.post("wenping_fw1", "/api/sync/push", data=body,
                        content_type="application/json")
    assert response.status_code == status
    assert response.mimetype == PROBLEM
    assert response.get_json()["type"] == slug
