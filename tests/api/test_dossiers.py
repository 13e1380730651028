"""Watermarked evidence and the household's file (issue 24): the watermark says verified
facts only and is scoped like the photo, its copy cached; the dossier is a job with progress,
downloaded by the one who asked, masked for them, 404 to everyone else."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from huey import MemoryHuey
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from backend import jobs
from backend.audit.models import AuditEvent
from backend.auth import service as auth
from backend.dossiers import rules, service, watermarks
from backend.evidence import service as photos
from backend.privacy import rules as privacy
from tests.api.test_reviews import assigned_case, push
from tests.device_keys import registered_key
from tests.visit_factory import attest, member, submission, survey_answers

PHOTO = Path(__file__).resolve().parents[1] / "data" / "photos" / "visit_gps.jpg"
SPOUSE_ID = "530621195501010014"
# What the phone typed about the photo: must never reach the watermark.
PHONE_LAT, PHONE_LON = 12.34567, 98.76543


@pytest.fixture
def photographed_visit(api):
    raw = PHOTO.read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    assert api.put("wenping_fw1", f"/api/photos/{sha}", data=raw,
                   content_type="image/jpeg").status_code in (200, 201)
    case = assigned_case(api)
    record = submission(case, photos=[{
        "sha256": sha, "field": "house_photo", "lat": PHONE_LAT, "lon": PHONE_LON,
        "captured_at": "2020-01-01T00:00:00+00:00"}],
        data=survey_answers(members=[member(), member(
            name="李建国", relation="spouse", id_number=SPOUSE_ID, age=71)]))
    pair, key_id = registered_key(api, "wenping_fw1")
    attest(record, api.user_id("wenping_fw1"), key_id, pair)
    push(api, [record])
    return {"sha": sha, "case": case, "record": record}


def _caller(api, username):
    return auth.caller_for(auth.get_user(api.user_id(username)))


def test_watermark_says_verified_facts_never_the_phones(api, photographed_visit):
    sha, case = photographed_visit["sha"], photographed_visit["case"]
    facts = watermarks.visible_facts(_caller(api, "wenping_reviewer"), sha)
    lines = "\n".join(rules.watermark_lines(facts))
    assert case["case_no"] and case["case_no"] in lines
    assert f"SHA-256 {sha[:12]}" in lines
    assert "26.07120" in lines  # the EXIF fix of the fixture photo
    assert f"{PHONE_LAT:.5f}" not in lines and f"{PHONE_LON:.5f}" not in lines
    assert "2020-01-01" not in lines  # the phone's claimed capture time
    assert "2026-11-20" in lines  # the camera clock in the photo's bytes
    assert facts.investigators  # the assigned team, by name
    assert all(name in lines for name in facts.investigators)
    assert auth.display_names({api.user_id("wenping_fw1")})[api.user_id("wenping_fw1")] \
        in facts.investigators


def test_watermarked_copy_is_derived_cached_and_original_untouched(api, photographed_visit):
    sha = photographed_visit["sha"]
    original = photos.read_blob(sha, "orig")
    first = api.get("wenping_reviewer", f"/api/photos/{sha}/watermarked")
    assert first.status_code == 200 and first.mimetype == "image/jpeg"
    marked = Image.open(io.BytesIO(first.data))
    plain = Image.open(io.BytesIO(original))
    assert marked.size[0] <= watermarks.MAX_EDGE and marked.size[0] > 0
    # The band at the foot differs from the original; the original's bytes are unchanged.
    assert first.data != original
    assert photos.read_blob(sha, "orig") == original
    assert hashlib.sha256(api.get("wenping_reviewer", f"/api/photos/{sha}").data).hexdigest() \
        == hashlib.sha256(original).hexdigest()
    assert plain.size[0] > 0
    facts = watermarks.visible_facts(_caller(api, "wenping_reviewer"), sha)
    key = rules.watermark_cache_key(sha, rules.watermark_lines(facts, "zh-CN"))
    assert photos.read_derived(key) == first.data
    assert key.startswith(f"{sha}.wm{rules.WATERMARK_VERSION}-")
    second = api.get("wenping_reviewer", f"/api/photos/{sha}/watermarked")
    assert second.data == first.data
    english = api.get("wenping_reviewer", f"/api/photos/{sha}/watermarked?lang=en")
    assert english.status_code == 200 and english.data != first.data


def test_watermark_is_scoped_like_the_photo(api, photographed_visit):
    sha = photographed_visit["sha"]
    for username in ("longtoushan_reviewer", "longtoushan_approver"):
        response = api.get(username, f"/api/photos/{sha}/watermarked")
        assert response.status_code == 404
        assert response.get_json()["type"].endswith("photo-not-found")
    missing = api.get("wenping_reviewer", f"/api/photos/{'0' * 64}/watermarked")
    assert missing.status_code == 404
    assert api.get("wenping_reviewer", f"/api/photos/{'Z' * 64}/watermarked").status_code == 404
    assert api.client.get(f"/api/photos/{sha}/watermarked").status_code == 401


def _request(api, username, household_id, lang="zh-CN"):
    return api.post(username, f"/api/households/{household_id}/dossiers", json={"lang": lang})


def test_dossier_job_lifecycle_and_pdf(api, db_session, photographed_visit):
    household_id = photographed_visit["case"]["household"]["id"]
    response = _request(api, "wenping_approver", household_id)
    assert response.status_code == 202, response.get_json()
    job = response.get_json()
    # Tests run the job kernel immediate: the job has already run.
    status = api.get("wenping_approver", f"/api/dossiers/{job['id']}").get_json()
    assert status["state"] == "done", status
    assert status["progress"] == 100 and status["page_count"] >= 8
    assert status["file_url"] == f"/api/dossiers/{job['id']}/file"
    pdf = api.get("wenping_approver", status["file_url"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert hashlib.sha256(pdf.data).hexdigest() == status["sha256"]
    reader = PdfReader(io.BytesIO(pdf.data))
    assert len(reader.pages) == status["page_count"]
    text = "\n".join(page.extract_text() for page in reader.pages)
    case_no = photographed_visit["case"]["case_no"]
    for words in ("一户一档", "目录", "入户调查", "审批决定", "办理留痕", case_no,
                  f"共 {len(reader.pages)} 页", "生成"):
        assert words in text, words
    # Every font of the file is embedded.
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            descriptor = font.get_object().get("/DescendantFonts")
            if descriptor:
                inner = descriptor[0].get_object()["/FontDescriptor"].get_object()
                assert "/FontFile2" in inner
    actions = {e.action for e in db_session.scalars(select(AuditEvent).where(
        AuditEvent.object_id == household_id))}
    assert {"dossier.requested", "dossier.built", "dossier.downloaded"} <= actions


def test_dossier_masks_identity_numbers_as_the_catalogue_says(api, photographed_visit):
    """Identity numbers print as the sensitivity catalogue's table says (ADR 0021): no desk
    role reads a full resident ID without a reveal, so every printed file masks the spouse's."""
    household_id = photographed_visit["case"]["household"]["id"]
    for username in ("county_supervisor", "wenping_approver"):
        assert not privacy.Disclosure.of(_caller(api, username)).full_id
        job = _request(api, username, household_id).get_json()
        pdf = api.get(username, f"/api/dossiers/{job['id']}/file")
        assert pdf.status_code == 200, (username, job)
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
        assert SPOUSE_ID not in text.replace(" ", "")
        assert "5306**********0014" in text.replace(" ", "")


def test_dossier_is_scoped_and_private_to_who_asked(api, photographed_visit):
    household_id = photographed_visit["case"]["household"]["id"]
    for username in ("longtoushan_approver", "longtoushan_reviewer"):
        response = _request(api, username, household_id)
        assert response.status_code == 404
        assert response.get_json()["type"].endswith("household-not-found")
    assert _request(api, "wenping_fw1", household_id).status_code == 403
    job = _request(api, "wenping_approver", household_id).get_json()
    for username in ("longtoushan_approver", "wenping_reviewer"):
        for url in (f"/api/dossiers/{job['id']}", f"/api/dossiers/{job['id']}/file"):
            response = api.get(username, url)
            assert response.status_code == 404
            assert response.get_json()["type"].endswith("dossier-not-found")
    assert api.get("wenping_approver", "/api/dossiers/nope").status_code == 404
    assert _request(api, "wenping_approver", household_id, lang="fr").status_code == 422


def test_dossier_not_ready_is_409_and_a_queued_job_builds(api, photographed_visit, monkeypatch):
    household_id = photographed_visit["case"]["household"]["id"]
    monkeypatch.setattr(service.jobs, "is_immediate", lambda: False)
    queued: list[str] = []
    monkeypatch.setattr(service, "build_task", queued.append)
    job = _request(api, "wenping_approver", household_id).get_json()
    assert job["state"] == "queued" and job["progress"] == 0 and job["file_url"] is None
    response = api.get("wenping_approver", f"/api/dossiers/{job['id']}/file")
    assert response.status_code == 409
    assert response.get_json()["type"].endswith("dossier-not-ready")
    monkeypatch.undo()
    assert service.build(job["id"]) == job["id"]
    status = api.get("wenping_approver", f"/api/dossiers/{job['id']}").get_json()
    assert status["state"] == "done" and status["progress"] == 100


@pytest.fixture
def real_queue(app):
    """The app's kernel on a queue that is not immediate, as in production."""
    huey = MemoryHuey("doorstep-dossier-test", immediate=False, utc=True)
    kernel = app.extensions[jobs.EXTENSION]
    app.extensions[jobs.EXTENSION] = jobs.Kernel(
        huey, {task: jobs.bind(huey, task) for task in jobs.declared()})
    yield huey
    app.extensions[jobs.EXTENSION] = kernel


def test_the_request_queues_the_build_for_the_worker(api, photographed_visit, real_queue):
    """The web request only writes the row and queues the job after its commit; the worker
    builds it, committing its progress as it goes."""
    household_id = photographed_visit["case"]["household"]["id"]
    job = _request(api, "wenping_approver", household_id).get_json()
    assert job["state"] == "queued" and job["file_url"] is None
    builds = []
    while (task := real_queue.dequeue()) is not None:
        if task.name == "dossier_build":
            builds.append(task)
    assert [task.args for task in builds] == [(job["id"],)]
    assert api.get("wenping_approver", f"/api/dossiers/{job['id']}").get_json()["state"] \
        == "queued"
    assert real_queue.execute(builds[0]) == job["id"]
    done = api.get("wenping_approver", f"/api/dossiers/{job['id']}").get_json()
    assert done["state"] == "done" and done["progress"] == 100 and done["page_count"] >= 8
    assert api.get("wenping_approver", done["file_url"]).mimetype == "application/pdf"
