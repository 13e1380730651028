"""The bad-input corpus (tests/data/bad_inputs/corpus.py): every malformed request is a 4xx
application/problem+json with a slug from the catalogue, never a 500; a malformed sync record
is that record's `rejected` result with such a problem."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backend.errors import CATALOGUE
from tests.conftest import DEMO_PASSWORD
from tests.data.bad_inputs.corpus import CASES, XFAIL

PROBLEM = "application/problem+json"
USERS = ("wenping_intake", "wenping_reviewer", "wenping_admin", "wenping_fw1")


@pytest.fixture(scope="module")
def tokens(app):
    """Signed in once for the module (outside any test's rolled-back transaction)."""
    client = app.test_client()
    answer = {}
    for username in USERS:
        response = client.post("/api/auth/login",
                               json={"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 200, response.get_json()
        answer[username] = response.get_json()["access_token"]
    return answer


@pytest.fixture(scope="module")
def editable_case_id(app):
    from backend.cases.models import Case
    from backend.extensions import db

    with app.app_context():
        return db.session.scalar(select(Case.id).where(
            Case.jurisdiction_code.like("530621100%"), Case.status == "accepted")
            .order_by(Case.id))


def assert_stable_problem(problem: dict, status: int) -> None:
    assert {"type", "title", "status", "detail", "errors"} <= set(problem), problem
    assert problem["type"] in CATALOGUE, problem
    assert CATALOGUE[problem["type"]].status == problem["status"] == status, problem


def _param(case):
    marks = ()
    if case.id in XFAIL:
        marks = pytest.mark.xfail(strict=True, reason="fixed by the json-bounds/sync-isolation "
                                                      "branch")
    return pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", [_param(case) for case in CASES])
def test_bad_input_is_answered_with_a_problem(client, tokens, editable_case_id, case):
    headers = {}
    if case.path != "/api/auth/login":
        headers["Authorization"] = f"Bearer {tokens[case.user]}"
    response = client.open(case.path.replace("{case}", editable_case_id), method=case.method,
                           data=case.body, headers=headers, content_type=case.content_type)
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    if case.wants == "problem":
        assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:500]
        assert response.mimetype == PROBLEM
        assert_stable_problem(response.get_json(), response.status_code)
    else:
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        [result] = response.get_json()["results"]
        assert result["status"] == "rejected", result
        assert 400 <= result["problem"]["status"] < 500
        assert_stable_problem(result["problem"], result["problem"]["status"])


def test_the_corpus_is_large_and_varied():
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)) >= 300
    for kind in ("deep-list", "huge-integer", "nan", "duplicate-keys", "invalid-utf8",
                 "long-string", "list-of-null"):
        assert any(kind in case_id for case_id in ids), kind
    record_fields = {case.id for case in CASES if case.wants == "rejected-record"}
    from tests.data.bad_inputs.corpus import visit_attestation, visit_submission

    for field in visit_submission():
        assert any(f"submission-{field}-" in case_id for case_id in record_fields), field
    for field in visit_attestation():
        assert any(f"attestation-{field}-" in case_id for case_id in record_fields), field
