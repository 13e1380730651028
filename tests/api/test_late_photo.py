"""A photo uploaded after its visit (an interrupted upload) re-evaluates that visit's photo
flags (issue 13): its EXIF place and time, and whether it is reused in another household."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from backend.audit.models import AuditEvent
from backend.visits.models import VisitFlag
from tests.api.test_photos import PHOTOS, put_photo
from tests.api.test_sync import push
from tests.visit_factory import submission


def _codes(db_session, submission_id):
    return sorted(f.code for f in db_session.scalars(select(VisitFlag).where(
        VisitFlag.submission_id == submission_id)))


def _located_cases(api, count):
    items = api.get("wenping_fw1", "/api/cases?assigned_to_me=true&page_size=100").get_json()
    return [c for c in items["items"] if c["household"]["home_lat"] is not None][:count]


def test_a_photo_arriving_after_its_visit_rechecks_the_visit(api, db_session):
    """visit_gps.jpg was taken about 125 km from these homes (EXIF GPS 26.07, 103.65)."""
    sha = hashlib.sha256((PHOTOS / "visit_gps.jpg").read_bytes()).hexdigest()
    case, other = _located_cases(api, 2)
    ref = {"sha256": sha, "field": "house_photo", "captured_at": None, "lat": None,
           "lon": None, "accuracy_m": None}
    first = submission(case, photos=[dict(ref)])
    second = submission(other, photos=[dict(ref)])
    results = push(api, [first, second]).get_json()["results"]
    assert [r["missing_photos"] for r in results] == [[sha], [sha]]
    before = _codes(db_session, first["id"])
    assert "photo-no-exif-location" in before  # nothing known of the photo yet
    assert "photo-far-from-visit" not in before
    assert "photo-reused-other-household" not in before

    _, uploaded = put_photo(api, "visit_gps.jpg")
    assert uploaded.status_code == 201

    for record in (first, second):
        after = _codes(db_session, record["id"])
        assert "photo-far-from-visit" in after, after
        assert "photo-time-outside-visit" in after  # taken 2026-11-20, the visit is today
        assert "photo-reused-other-household" in after  # both households name it
        assert "photo-no-exif-location" not in after
        # Flags of the stamps are untouched.
        assert [c for c in after if not c.startswith("photo-")] == \
            [c for c in before if not c.startswith("photo-")]
    replay = push(api, [first]).get_json()["results"][0]
    assert replay["status"] == "duplicate" and replay["missing_photos"] == []
    assert "photo-far-from-visit" in {f["code"] for f in replay["flags"]}
    audits = db_session.scalars(select(AuditEvent).where(
        AuditEvent.object_id == first["id"], AuditEvent.action == "visit.photos_rechecked")).all()
    assert len(audits) == 1 and "photo-far-from-visit" in audits[0].after["flags"]


def test_a_photo_no_visit_names_changes_no_flags(api, db_session):
    case = _located_cases(api, 1)[0]
    record = submission(case)
    push(api, [record])
    before = _codes(db_session, record["id"])
    _, uploaded = put_photo(api, "visit_gps.jpg")
    assert uploaded.status_code == 201
    assert _codes(db_session, record["id"]) == before


def test_a_late_photo_reranks_the_visit_in_the_review_queue(api, db_session):
    """The flags the late photo raises count in the queue's risk and order (issue 13)."""
    sha = hashlib.sha256((PHOTOS / "visit_gps.jpg").read_bytes()).hexdigest()
    (case,) = _located_cases(api, 1)
    ref = {"sha256": sha, "field": "house_photo", "captured_at": None, "lat": None,
           "lon": None, "accuracy_m": None}
    record = submission(case, photos=[ref])
    push(api, [record])

    def row():
        items = api.get("wenping_reviewer", "/api/reviews?limit=200").get_json()["items"]
        return next(r for r in items if r["submission_id"] == record["id"])

    before = row()
    assert "photo-far-from-visit" not in before["flag_codes"]
    _, uploaded = put_photo(api, "visit_gps.jpg")
    assert uploaded.status_code == 201
    after = row()
    assert "photo-far-from-visit" in after["flag_codes"]
    assert "photo-no-exif-location" not in after["flag_codes"]
    assert after["risk"] > before["risk"] and after["version"] > before["version"]
    assert sorted(after["flag_codes"]) == sorted(_codes(db_session, record["id"]))
    rescored = db_session.scalars(select(AuditEvent).where(
        AuditEvent.object_id == record["id"], AuditEvent.action == "review.rescored")).all()
    assert len(rescored) == 1 and rescored[0].after["risk"] == after["risk"]
