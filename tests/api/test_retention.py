"""Retention and purge (issue 22, ADR 0022): settings with their floors, the dry run and the
real purge on a clock years ahead (files in storage included), legal holds, and the audit
chain still verifying after its prefix is gone."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from backend import clock
from backend.audit.models import AuditCheckpoint, AuditEvent
from backend.auth.models import AuthSession
from backend.cases.models import Case
from backend.checkins import identity
from backend.checkins.models import CheckIn
from backend.evidence.models import Photo
from backend.evidence.storage import S3BlobStore
from backend.retention import registry, service
from backend.retention.models import PendingBlobDeletion
from backend.retention.rules import RetentionPolicy
from backend.visits.models import VisitAttestation, VisitRevision, VisitSubmission
from tests.api.test_checkins import NOW, StubFaces, activated, approved_households
from tests.api.test_photos import put_photo
from tests.api.test_sync import push
from tests.unit.test_storage import FakeS3Client
from tests.visit_factory import submission

ADMIN = "county_admin"
YEARS_AHEAD = NOW + timedelta(days=4 * 366)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """A database of this module's own: the audit purge cuts the chain's prefix only when it
    verifies, so these tests must not share a chain other modules' tests have written to
    (under xdist a worker's session database collects every module's leftovers)."""
    from tests.conftest import _worker_database, database_url, seeded_app

    data_dir = tmp_path_factory.mktemp("retention-db")
    url = database_url(data_dir)
    if url.startswith("postgres"):
        url = _worker_database(url, "retention")
    yield from seeded_app(data_dir, url)


@pytest.fixture(autouse=True)
def frozen_clock():
    clock.freeze(NOW)
    yield
    clock.freeze(None)


@pytest.fixture(autouse=True)
def faces_match(app):
    identity.use("stub-same", StubFaces(0.3))
    app.config["IDENTITY_VERIFIER"] = "stub-same"
    yield
    app.config.pop("IDENTITY_VERIFIER", None)


def store(app):
    return app.extensions["doorstep_blob_store"]


def files_of(app, sha):
    return [store(app).exists(f"{sha}.{part}") for part in ("orig", "thumb")]


def kinds(report) -> dict:
    return {kind["kind"]: kind for kind in report["kinds"]}


def preview(api):
    response = api.get(ADMIN, "/api/retention/purge-preview")
    assert response.status_code == 200, response.get_json()
    return kinds(response.get_json())


def verify(app):
    return app.test_cli_runner().invoke(args=["verify-audit"])


def two_cases_with_photos(api, db_session):
    """Case A refused (its application goes), case B open; a visit with one photo each."""
    items = api.get("wenping_fw1", "/api/cases?assigned_to_me=true&page_size=100"
                    ).get_json()["items"]
    first, second = [c for c in items if c["household"]["home_lat"] is not None][:2]
    sha_a, answer = put_photo(api, "same_scene_a.jpg")
    assert answer.status_code == 201
    sha_b, _ = put_photo(api, "other_scene.jpg")
    visit_a = submission(first, photos=[{"sha256": sha_a, "field": "house_photo"}])
    visit_b = submission(second, photos=[{"sha256": sha_b, "field": "house_photo"}])
    results = push(api, [visit_a, visit_b]).get_json()["results"]
    assert all(r["status"] == "accepted" for r in results), results
    db_session.execute(update(Case).where(Case.id == first["id"])
                       .values(status="refused", updated_at=clock.now()))
    db_session.commit()
    return first["id"], sha_a, visit_a["id"], second["id"], sha_b


# --- settings ---------------------------------------------------------------------------------

def test_every_kind_has_a_default_a_floor_and_a_source(api):
    response = api.get(ADMIN, "/api/retention/settings")
    assert response.status_code == 200
    settings = {row["kind"]: row for row in response.get_json()}
    assert set(settings) == {"closed_application", "visit_photo", "checkin_selfie",
                             "complaint_reporter", "sign_in_record", "audit_record"}
    assert settings["audit_record"]["minimum_days"] == 184
    assert "Cybersecurity Law Art. 21" in settings["audit_record"]["source"]
    assert all(row["source"] and row["is_default"] and row["days"] == row["default_days"]
               for row in settings.values())
    # Each kind is listed with its default; complaints registers the reporter kind itself.
    assert settings["complaint_reporter"]["has_purger"] is True  # backend/complaints/retention.py
    assert settings["visit_photo"]["has_purger"] is True


def test_audit_retention_under_six_months_is_refused(api, db_session):
    path = "/api/retention/settings/audit_record"
    refused = api.put(ADMIN, path, json={"days": 183}, headers={"If-Match": '"0"'})
    assert refused.status_code == 422
    assert refused.get_json()["type"] == "retention-below-minimum"
    assert refused.get_json()["minimum_days"] == 184
    changed = api.put(ADMIN, path, json={"days": 184}, headers={"If-Match": '"0"'})
    assert changed.status_code == 200, changed.get_json()
    assert changed.headers["ETag"] == '"1"' and changed.get_json()["days"] == 184
    stale = api.put(ADMIN, path, json={"days": 400}, headers={"If-Match": '"0"'})
    assert stale.status_code == 412
    assert api.put(ADMIN, path, json={"days": 400}).status_code == 428
    audited = db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "retention.setting_changed")).all()
    assert [(row.before, row.after) for row in audited] == [({"days": 1095}, {"days": 184})]


def test_settings_bad_input_and_denials(api):
    unknown = api.put(ADMIN, "/api/retention/settings/recipes", json={"days": 400},
                      headers={"If-Match": '"0"'})
    assert unknown.status_code == 404 and unknown.get_json()["type"] == "retention-kind-not-found"
    too_long = api.put(ADMIN, "/api/retention/settings/visit_photo", json={"days": 20000},
                       headers={"If-Match": '"0"'})
    assert too_long.get_json()["type"] == "retention-too-long"
    assert api.put(ADMIN, "/api/retention/settings/visit_photo", json={"days": "x"},
                   headers={"If-Match": '"0"'}).status_code == 422
    # A township administrator and a field worker: no retention, no dry run.
    assert api.get("wenping_admin", "/api/retention/settings").get_json()["type"] == \
        "county-level-only"
    assert api.get("wenping_fw1", "/api/retention/purge-preview").status_code == 403
    assert api.put("county_supervisor", "/api/retention/settings/visit_photo",
                   json={"days": 400}, headers={"If-Match": '"0"'}).status_code == 403
    assert api.client.get("/api/retention/settings").status_code == 401


# --- the dry run and the purge ----------------------------------------------------------------

def test_dry_run_then_purge_years_ahead_reaches_rows_and_files(app, api, db_session):
    refused_case, sha_a, visit_a, open_case, sha_b = two_cases_with_photos(api, db_session)
    recipient = activated(api, approved_households(db_session)[0])
    checkin_record, result = recipient.check_in()
    assert result["status"] == "accepted", result
    selfie = db_session.get(CheckIn, checkin_record["id"]).photo_sha256
    assert files_of(app, sha_a) == files_of(app, sha_b) == files_of(app, selfie) == [True, True]
    today = preview(api)  # the administrator signs in (a session of today)
    assert all(kind["count"] == 0 for kind in today.values()), today
    sessions_before = db_session.scalar(select(func.count()).select_from(AuthSession))

    clock.freeze(YEARS_AHEAD)
    dry = preview(api)
    assert refused_case in dry["closed_application"]["case_ids"]
    assert open_case not in dry["closed_application"]["case_ids"]
    assert {refused_case, open_case} <= set(dry["visit_photo"]["case_ids"])
    assert dry["checkin_selfie"]["count"] == 1 and dry["checkin_selfie"]["blob_count"] == 2
    assert dry["sign_in_record"]["count"] >= 1
    assert dry["audit_record"]["count"] > 0
    # The dry run changed nothing.
    assert files_of(app, sha_a) == [True, True] and db_session.get(Photo, sha_a) is not None
    assert db_session.scalar(select(func.count()).select_from(AuthSession)) == sessions_before

    run = app.test_cli_runner().invoke(args=["purge"])
    assert run.exit_code == 0, run.output
    assert "files deleted: 6" in run.output
    db_session.expire_all()
    for sha in (sha_a, sha_b, selfie):
        assert files_of(app, sha) == [False, False]
        assert db_session.get(Photo, sha) is None
    # The reference photo of the recipient's enrolment stays.
    assert db_session.scalar(select(func.count()).select_from(Photo)) > 0
    erased = db_session.scalars(select(VisitRevision.content)
                                .where(VisitRevision.submission_id == visit_a)).all()
    assert erased == [{}]
    kept = db_session.scalars(select(VisitRevision.content).join(VisitSubmission).where(
        VisitSubmission.case_id == open_case)).all()
    assert kept and all(content for content in kept)
    assert db_session.get(CheckIn, checkin_record["id"]).identity_distance is None
    assert db_session.scalar(select(func.count()).select_from(AuthSession)) < sessions_before

    # Audited: what kind, how many, which cases; nothing of what went.
    purged = {row.object_id: row.after for row in db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "retention.purged"))}
    assert purged["closed_application"]["count"] >= 1
    assert refused_case in purged["closed_application"]["case_ids"]
    # The refused application's photo went with it, before the visit photos' turn.
    assert purged["closed_application"]["blobs"] == 2
    assert purged["visit_photo"]["blobs"] == 2
    assert sha_a not in str(purged) and "王秀英" not in str(purged)

    # The chain's old prefix is gone behind a signed checkpoint, and what is left verifies.
    checkpoint = db_session.scalar(select(AuditCheckpoint))
    assert checkpoint is not None and checkpoint.rows_purged > 0
    assert db_session.scalar(select(func.min(AuditEvent.chain_seq))) == checkpoint.seq + 1
    verified = verify(app)
    assert verified.exit_code == 0, verified.output
    assert verified.output.startswith("OK")

    # A second night finds nothing new: the application is not erased twice. (The
    # administrator's sign-in, four years old by this clock, was purged: sign in again.)
    api._tokens.pop(ADMIN)
    again = preview(api)
    assert again["closed_application"]["count"] == 0 and again["visit_photo"]["count"] == 0


def test_a_forged_checkpoint_breaks_verification(app, api, db_session):
    clock.freeze(YEARS_AHEAD)
    assert app.test_cli_runner().invoke(args=["purge"]).exit_code == 0
    db_session.execute(update(AuditCheckpoint).values(row_hash="f" * 64))
    result = verify(app)
    assert result.exit_code == 1
    assert "checkpoint" in result.output


def test_a_changed_row_before_the_cutoff_stops_the_audit_purge(app, api, db_session):
    first = db_session.scalar(select(AuditEvent).order_by(AuditEvent.chain_seq).limit(1))
    db_session.execute(update(AuditEvent).where(AuditEvent.id == first.id)
                       .values(ip="10.6.6.6"))
    clock.freeze(YEARS_AHEAD)
    run = app.test_cli_runner().invoke(args=["purge"])
    assert run.exit_code == 0, run.output
    assert "audit_record: 0" in run.output and "not purged" in run.output
    assert db_session.scalar(select(AuditCheckpoint)) is None
    assert verify(app).exit_code == 1  # the tampering is still there to be found
    noted = db_session.scalars(select(AuditEvent.after).where(
        AuditEvent.action == "retention.purged", AuditEvent.object_id == "audit_record")).one()
    assert noted["count"] == 0 and noted["note"].startswith("not purged: audit row id")


# --- legal holds ------------------------------------------------------------------------------

def test_a_legal_hold_keeps_a_case_until_lifted(app, api, db_session):
    refused_case, sha_a, visit_a, _open_case, sha_b = two_cases_with_photos(api, db_session)
    held = api.post(ADMIN, "/api/retention/holds",
                    json={"case_id": refused_case, "reason": "行政诉讼 (2030) 滇0621行初12号"})
    assert held.status_code == 201, held.get_json()
    hold_id = held.get_json()["id"]
    again = api.post(ADMIN, "/api/retention/holds",
                     json={"case_id": refused_case, "reason": "again"})
    assert again.status_code == 200 and again.get_json()["id"] == hold_id
    assert [h["id"] for h in api.get(ADMIN, "/api/retention/holds").get_json()] == [hold_id]

    clock.freeze(YEARS_AHEAD)
    dry = preview(api)
    assert refused_case not in dry["closed_application"]["case_ids"]
    assert refused_case in dry["closed_application"]["held_case_ids"]
    assert refused_case in dry["visit_photo"]["held_case_ids"]
    assert dry["audit_record"]["note"].startswith("stops at the first record of case")
    assert app.test_cli_runner().invoke(args=["purge"]).exit_code == 0
    db_session.expire_all()
    assert files_of(app, sha_a) == [True, True]  # held
    assert files_of(app, sha_b) == [False, False]  # not held
    assert db_session.scalars(select(VisitRevision.content).where(
        VisitRevision.submission_id == visit_a)).one() != {}
    # The audit prefix ended before the held case's first record; the chain verifies.
    held_rows = db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.object_type == "case", AuditEvent.object_id == refused_case))
    assert held_rows > 0
    assert verify(app).exit_code == 0

    api._tokens.pop(ADMIN)  # today's sign-in is four years old by this clock: purged
    lifted = api.post(ADMIN, f"/api/retention/holds/{hold_id}/lift",
                      json={"reason": "判决生效"})
    assert lifted.status_code == 200 and lifted.get_json()["lifted_at"]
    twice = api.post(ADMIN, f"/api/retention/holds/{hold_id}/lift", json={"reason": "again"})
    assert twice.status_code == 409 and twice.get_json()["type"] == "legal-hold-lifted"
    actions = db_session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_id == refused_case, AuditEvent.action.like("retention.%"))).all()
    assert sorted(actions) == ["retention.hold_lifted", "retention.hold_set"]

    assert app.test_cli_runner().invoke(args=["purge"]).exit_code == 0
    assert files_of(app, sha_a) == [False, False]
    assert verify(app).exit_code == 0


def test_legal_hold_bad_input_and_denials(api, db_session):
    case_id = db_session.scalar(select(Case.id).where(
        Case.jurisdiction_code.like("530621100%")).limit(1))
    no_reason = api.post(ADMIN, "/api/retention/holds", json={"case_id": case_id})
    assert no_reason.status_code == 422
    unknown = api.post(ADMIN, "/api/retention/holds", json={"case_id": "nope", "reason": "x1"})
    assert unknown.status_code == 404 and unknown.get_json()["type"] == "case-not-found"
    assert api.post("wenping_fw1", "/api/retention/holds",
                    json={"case_id": case_id, "reason": "mine"}).status_code == 403
    assert api.post("wenping_admin", "/api/retention/holds",
                    json={"case_id": case_id, "reason": "mine"}).status_code == 403
    missing = api.post(ADMIN, "/api/retention/holds/nope/lift", json={"reason": "gone"})
    assert missing.status_code == 404 and missing.get_json()["type"] == "legal-hold-not-found"
    supervisor = api.post("county_supervisor", "/api/retention/holds",
                          json={"case_id": case_id, "reason": "spot check dispute"})
    assert supervisor.status_code == 201


# --- object storage and the registration hook -------------------------------------------------

@pytest.fixture
def s3_store(app):
    """Photos go to an S3 bucket (a fake client shaped like boto3's) for this test."""
    client = FakeS3Client()
    saved = app.extensions.get("doorstep_blob_store")
    app.extensions["doorstep_blob_store"] = S3BlobStore("county-photos", client, prefix="p/")
    yield client
    app.extensions["doorstep_blob_store"] = saved


def test_the_purge_deletes_objects_in_an_s3_bucket(app, api, db_session, s3_store):
    refused_case, sha_a, _visit_a, _open_case, sha_b = two_cases_with_photos(api, db_session)
    keys = {f"p/{sha}.{part}" for sha in (sha_a, sha_b) for part in ("orig", "thumb")}
    assert keys <= {key for _bucket, key in s3_store.objects}
    clock.freeze(YEARS_AHEAD)
    run = app.test_cli_runner().invoke(args=["purge"])
    assert run.exit_code == 0, run.output
    deleted = {call[1]["Key"] for call in s3_store.calls if call[0] == "delete_object"}
    assert keys <= deleted
    assert not keys & {key for _bucket, key in s3_store.objects}
    assert db_session.scalar(select(func.count()).select_from(PendingBlobDeletion)) == 0


def test_files_wait_for_the_next_run_when_storage_fails(app, api, db_session, s3_store):
    _refused, sha_a, _visit, _open, _sha_b = two_cases_with_photos(api, db_session)

    def unavailable(**_params):
        raise ConnectionError("bucket unreachable")

    s3_store.delete_object = unavailable
    clock.freeze(YEARS_AHEAD)
    assert app.test_cli_runner().invoke(args=["purge"]).exit_code == 0
    db_session.expire_all()
    assert db_session.get(Photo, sha_a) is None  # the rows went with the purge's commit
    waiting = set(db_session.scalars(select(PendingBlobDeletion.blob_key)))
    assert {f"{sha_a}.orig", f"{sha_a}.thumb"} <= waiting
    del s3_store.delete_object  # the bucket is back: the next run deletes them
    assert service.delete_pending_blobs() >= 2
    assert ("county-photos", f"p/{sha_a}.orig") not in s3_store.objects


def test_a_package_registers_its_own_kind_and_holds_reach_it(app, api, db_session):
    """What complaints will do: register a kind (here with its own policy) and purge it."""
    case_id = db_session.scalar(select(Case.id).where(
        Case.jurisdiction_code.like("530621100%")).order_by(Case.id).limit(1))
    other_id = db_session.scalar(select(Case.id).where(
        Case.jurisdiction_code.like("530621100%")).order_by(Case.id.desc()).limit(1))
    purged: list[list[str]] = []
    items = [registry.Purgeable("reporter-1", (case_id,)),
             registry.Purgeable("reporter-2", (other_id,))]
    policy = RetentionPolicy("test_reporter", 400, 200, "the closing", "a test's own source")
    registry.register_kind("test_reporter", lambda cutoff: items,
                           lambda chosen, cutoff: purged.append(
                               [item.subject_id for item in chosen]),
                           policy=policy, remembers_purged=True)
    try:
        assert "test_reporter" in {row["kind"] for row in
                                   api.get(ADMIN, "/api/retention/settings").get_json()}
        assert api.post(ADMIN, "/api/retention/holds",
                        json={"case_id": case_id, "reason": "复议中"}).status_code == 201
        clock.freeze(YEARS_AHEAD)
        service.purge()
        assert purged == [["reporter-2"]]
        service.purge()  # remembered: not purged again
        assert purged == [["reporter-2"]]
        db_session.commit()  # audit rows go in with the commit
        audited = db_session.scalars(select(AuditEvent.after).where(
            AuditEvent.action == "retention.purged",
            AuditEvent.object_id == "test_reporter")).all()
        assert audited[0]["case_ids"] == [other_id] and audited[0]["held_back"] == 1
    finally:
        registry._kinds.pop("test_reporter", None)


def test_the_nightly_task_is_on_the_job_kernel_and_purges(app, api, db_session):
    from backend import jobs
    from backend.retention.jobs import nightly_purge

    declared = {task.name: task for task in jobs.declared()}
    assert declared["retention_purge"].is_periodic
    _refused, sha_a, _visit, _open, _sha_b = two_cases_with_photos(api, db_session)
    clock.freeze(YEARS_AHEAD)
    counts = nightly_purge.run()
    assert counts["closed_application"] >= 1 and counts["audit_record"] > 0
    assert files_of(app, sha_a) == [False, False]
    assert verify(app).exit_code == 0


def test_flask_purge_dry_run_says_what_would_go_and_changes_nothing(app, api, db_session):
    refused_case, sha_a, _visit, _open, _sha_b = two_cases_with_photos(api, db_session)
    clock.freeze(YEARS_AHEAD)
    run = app.test_cli_runner().invoke(args=["purge", "--dry-run"])
    assert run.exit_code == 0, run.output
    assert run.output.startswith("dry run at ")
    line = next(row for row in run.output.splitlines() if row.startswith("closed_application:"))
    assert refused_case in line and "(files 2, held 0)" in line
    assert "complaint_reporter: 0" in run.output
    assert files_of(app, sha_a) == [True, True]
    assert db_session.get(Photo, sha_a) is not None
    assert db_session.scalar(select(AuditCheckpoint)) is None


def test_a_refused_applications_signature_images_go_with_it(app, api, db_session):
    refused_case, _sha_a, visit_a, _open, _sha_b = two_cases_with_photos(api, db_session)
    signature, answer = put_photo(api, "visit_gps.jpg")
    assert answer.status_code == 201
    db_session.add(VisitAttestation(
        id=str(uuid.uuid4()), submission_id=visit_a, digest="d" * 64,
        user_id=api.user_id("wenping_fw1"), signature="s", received_at=clock.now(),
        signature_image_sha256=signature, is_signature_valid=True))
    db_session.commit()
    clock.freeze(YEARS_AHEAD)
    line = next(row for row in app.test_cli_runner().invoke(args=["purge", "--dry-run"])
                .output.splitlines() if row.startswith("closed_application:"))
    assert refused_case in line and "(files 4, held 0)" in line
    assert app.test_cli_runner().invoke(args=["purge"]).exit_code == 0
    assert files_of(app, signature) == [False, False]
    db_session.expire_all()
    assert db_session.get(Photo, signature) is None
