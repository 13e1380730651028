"""Two devices pushing the same record at the same moment store it once.

This test commits for real (no rolled-back outer transaction), so it cleans up after
itself. On PostgreSQL the two requests truly overlap; SQLite serialises the writers.
"""

import threading

from sqlalchemy import delete, func, select

from backend.audit.models import AuditEvent
from backend.extensions import db
from backend.reviews.models import ReviewComment, VisitReview
from backend.visits.models import (
    VisitAttestation,
    VisitFlag,
    VisitPhoto,
    VisitRevision,
    VisitSubmission,
)
from tests.conftest import Api
from tests.visit_factory import submission


def _cleanup(app, submission_id):
    with app.app_context():
        for model in (ReviewComment, VisitReview, VisitFlag, VisitPhoto, VisitAttestation,
                      VisitRevision):
            db.session.execute(delete(model).where(model.submission_id == submission_id))
        db.session.execute(delete(VisitSubmission).where(VisitSubmission.id == submission_id))
        db.session.execute(delete(AuditEvent).where(AuditEvent.object_id == submission_id))
        db.session.commit()


def test_concurrent_pushes_of_the_same_record_store_one_row(app):
    api_one, api_two = Api(app.test_client()), Api(app.test_client())
    case = next(c for c in api_one.get("wenping_fw1", "/api/cases?assigned_to_me=true&kind=dibao")
                .get_json()["items"] if c["household"]["home_lat"] is not None)
    record = submission(case)
    barrier = threading.Barrier(4, timeout=30)
    statuses: list[str] = []

    def push(api, username):
        headers = api.headers(username)
        barrier.wait()
        response = api.client.post("/api/sync/push", headers=headers,
                                   json={"device_id": username, "records": [record]})
        statuses.append(response.get_json()["results"][0]["status"])

    threads = [threading.Thread(target=push, args=(api, user)) for api, user in
               ((api_one, "wenping_fw1"), (api_two, "wenping_fw2"),
                (Api(app.test_client()), "wenping_fw1"), (Api(app.test_client()), "wenping_fw2"))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(statuses) == ["accepted", "duplicate", "duplicate", "duplicate"]
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(VisitSubmission).where(
                VisitSubmission.id == record["id"])) == 1
            assert db.session.scalar(select(func.count()).select_from(VisitRevision).where(
                VisitRevision.submission_id == record["id"])) == 1
    finally:
        _cleanup(app, record["id"])


def test_tabs_refreshing_at_the_same_moment_all_carry_on(app):
    """Issue 20: four tabs of one sign-in refreshing with the same token at once got one 200
    and three 401s (the session ended). Within the grace all four get the same new pair."""
    api = Api(app.test_client())
    refresh_token = api.login("wenping_fw2").get_json()["refresh_token"]
    barrier = threading.Barrier(4, timeout=30)
    answers: list[tuple[int, dict]] = []

    def refresh():
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/auth/refresh",
                               headers={"Authorization": f"Bearer {refresh_token}"})
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=refresh) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [status for status, _ in answers] == [200] * 4, answers
    assert len({(body["access_token"], body["refresh_token"]) for _, body in answers}) == 1
