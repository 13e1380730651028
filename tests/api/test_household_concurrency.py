"""Pushes touching the same household at once (issue 8): the first visit to locate a home
keeps it, and setting it never fails a push (it was a StaleDataError on the household's
version, and the whole batch a 500).

Commits for real (no rolled-back outer transaction) and restores what it changed. On
PostgreSQL the pushes truly overlap; SQLite serialises the writers.
"""

import threading

from sqlalchemy import delete, func, select, update

from backend.audit.models import AuditEvent
from backend.extensions import db
from backend.households.models import Household
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

PUSHERS = 4


def _restore(app, household_id, before, submission_ids):
    with app.app_context():
        for model in (ReviewComment, VisitReview, VisitFlag, VisitPhoto, VisitAttestation,
                      VisitRevision):
            db.session.execute(delete(model).where(model.submission_id.in_(submission_ids)))
        db.session.execute(delete(VisitSubmission).where(VisitSubmission.id.in_(submission_ids)))
        db.session.execute(delete(AuditEvent).where(
            AuditEvent.object_id.in_([*submission_ids, household_id])))
        db.session.execute(update(Household).where(Household.id == household_id).values(**before))
        db.session.commit()


def test_concurrent_visits_to_an_unlocated_home_all_succeed_and_keep_the_first_fix(app):
    users = ["wenping_fw1", "wenping_fw2"] * (PUSHERS // 2)
    clients = [Api(app.test_client()) for _ in users]
    headers = [api.headers(user) for api, user in zip(clients, users, strict=True)]
    items = clients[0].get("wenping_fw1", "/api/cases?assigned_to_me=true&page_size=100") \
        .get_json()["items"]
    case = next(c for c in items if c["household"]["home_lat"] is None)
    household_id = case["household_id"]
    with app.app_context():
        row = db.session.get(Household, household_id)
        before = {"home_lat": row.home_lat, "home_lon": row.home_lon,
                  "home_located_at": row.home_located_at, "version": row.version,
                  "updated_at": row.updated_at}
    # Each visit stamps its start a little elsewhere, so the kept fix names its visit.
    records = [submission(case, offset_m=40.0 * (index + 1)) for index in range(PUSHERS)]
    ids = [r["id"] for r in records]
    barrier = threading.Barrier(PUSHERS, timeout=30)
    answers: list[tuple[int, dict]] = []

    def push(api, header, record):
        barrier.wait()
        response = api.client.post("/api/sync/push", headers=header,
                                   json={"device_id": "device-aaaaaaaa", "records": [record]})
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=push, args=(api, header, record))
               for api, header, record in zip(clients, headers, records, strict=True)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert [status for status, _ in answers] == [200] * PUSHERS, answers
        assert [body["results"][0]["status"] for _, body in answers] == ["accepted"] * PUSHERS
        with app.app_context():
            household = db.session.get(Household, household_id)
            fixes = {(r["stamps"][0]["lat"], r["stamps"][0]["lon"]) for r in records}
            assert (household.home_lat, household.home_lon) in fixes
            located = db.session.scalars(select(AuditEvent).where(
                AuditEvent.object_id == household_id,
                AuditEvent.action == "household.located")).all()
            assert len(located) == 1  # set once, by the first visit to commit
            assert (located[0].after["lat"], located[0].after["lon"]) == (
                household.home_lat, household.home_lon)
            assert db.session.scalar(select(func.count()).select_from(VisitSubmission).where(
                VisitSubmission.id.in_(ids))) == PUSHERS
        # A later visit stamped elsewhere leaves the first fix alone.
        later = submission({**case, "household": {**case["household"], "home_lat": None}},
                           offset_m=900)
        ids.append(later["id"])
        result = clients[0].client.post("/api/sync/push", headers=headers[0], json={
            "device_id": "device-aaaaaaaa", "records": [later]}).get_json()["results"][0]
        assert result["status"] == "accepted"
        with app.app_context():
            again = db.session.get(Household, household_id)
            assert (again.home_lat, again.home_lon) == (household.home_lat, household.home_lon)
    finally:
        _restore(app, household_id, before, ids)
