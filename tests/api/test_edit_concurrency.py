"""Parallel edits with the same (valid) If-Match (issue 20): one wins with 200/201, every
other is a 412 `stale-version`, never a 500. On PostgreSQL the requests truly overlap (the
losers' UPDATE ... WHERE version = n matched no row: SQLAlchemy's StaleDataError was a 500);
SQLite serialises the writers.

Commits for real (no rolled-back outer transaction) and restores what it changed.
"""

import threading

from sqlalchemy import delete, select, update

from backend.audit.models import AuditEvent
from backend.cases.models import Case
from backend.extensions import db
from tests.api.test_concurrency import _cleanup
from tests.conftest import Api
from tests.visit_factory import submission

EDITORS = 8


def _race(app, username, method, path, body, version):
    api = Api(app.test_client())
    headers = api.headers(username, **{"If-Match": f'"{version}"'})
    barrier = threading.Barrier(EDITORS, timeout=30)
    answers: list[tuple[int, dict]] = []

    def edit(index):
        client = app.test_client()
        barrier.wait()
        response = client.open(path, method=method, headers=headers,
                               json={**body, "note" if "note" in body else "text":
                                     f"编辑 {index}"})
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=edit, args=(n,)) for n in range(EDITORS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def _assert_one_winner(answers, success):
    statuses = sorted(status for status, _ in answers)
    assert statuses == [success] + [412] * (EDITORS - 1), answers
    for status, body in answers:
        if status == 412:
            assert body["type"] == "stale-version", body


def test_parallel_case_edits_with_one_version_answer_200_and_412(app):
    with app.app_context():
        case = db.session.scalars(select(Case).where(
            Case.jurisdiction_code.like("530621100%"), Case.status == "accepted")
            .order_by(Case.id)).first()
        before = {"note": case.note, "version": case.version, "updated_at": case.updated_at}
        case_id = case.id
    try:
        answers = _race(app, "wenping_intake", "PATCH", f"/api/cases/{case_id}",
                        {"note": ""}, before["version"])
        _assert_one_winner(answers, 200)
    finally:
        with app.app_context():
            db.session.execute(update(Case).where(Case.id == case_id).values(**before))
            db.session.execute(delete(AuditEvent).where(AuditEvent.object_id == case_id))
            db.session.commit()


def test_parallel_review_comments_with_one_version_answer_201_and_412(app):
    api = Api(app.test_client())
    case = next(c for c in api.get("wenping_fw1", "/api/cases?assigned_to_me=true&kind=dibao")
                .get_json()["items"] if c["household"]["home_lat"] is not None)
    record = submission(case)
    try:
        pushed = api.post("wenping_fw1", "/api/sync/push",
                          json={"device_id": "device-race0001", "records": [record]})
        assert pushed.get_json()["results"][0]["status"] == "accepted", pushed.get_json()
        version = api.get("wenping_reviewer", f"/api/reviews/{record['id']}").get_json()[
            "version"]
        answers = _race(app, "wenping_reviewer", "POST", f"/api/reviews/{record['id']}/comments",
                        {"text": ""}, version)
        _assert_one_winner(answers, 201)
    finally:
        _cleanup(app, record["id"])
