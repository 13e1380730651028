"""The evidence viewer's one call (issue 10): answers masked per role, photos with EXIF time
and place beside the stamps, distances from the registered home, attestations (who, which
key, when), flags with thresholds and sentences, and a timeline; scoped like the queue."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.api.test_reviews import ISSUE, assigned_case, move, problem, push, revise
from tests.device_keys import registered_key
from tests.visit_factory import attest, member, submission, survey_answers

PHOTO = Path(__file__).resolve().parents[1] / "data" / "photos" / "visit_gps.jpg"
HEAD_ID = "53062119560309022X"
SPOUSE_ID = "530621195501010014"
MOBILE = "13912345678"


@pytest.fixture
def flagged_visit(api):
    """A visit whose end stamp is 5 km from home, with an EXIF-located photo, a phone number,
    two resident IDs and fw1's signature."""
    raw = PHOTO.read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    assert api.put("wenping_fw1", f"/api/photos/{sha}", data=raw,
                   content_type="image/jpeg").status_code in (200, 201)
    case = assigned_case(api)
    record = submission(case, offset_m=5000, photos=[{"sha256": sha, "field": "house_photo"}],
                        data=survey_answers(contact_mobile=MOBILE, members=[
                            member(), member(name="李建国", relation="spouse",
                                             id_number=SPOUSE_ID, age=71)]))
    record["stamps"][0]["lat"] = case["household"]["home_lat"]  # the start stamp at home
    pair, key_id = registered_key(api, "wenping_fw1")
    attest(record, api.user_id("wenping_fw1"), key_id, pair)
    push(api, [record])
    return {"record": record, "sha": sha, "key_id": key_id, "case": case}


def evidence(api, record, username="wenping_reviewer"):
    response = api.get(username, f"/api/reviews/{record['id']}/evidence")
    assert response.status_code == 200, response.get_json()
    assert response.headers["ETag"] == f'"{response.get_json()["version"]}"'
    return response.get_json()


def test_evidence_shows_stamps_photos_home_and_distances(api, flagged_visit):
    body = evidence(api, flagged_visit["record"])
    home = flagged_visit["case"]["household"]
    assert body["home"] == {"lat": home["home_lat"], "lon": home["home_lon"]}
    assert body["distance_rings_m"] == [250.0, 500.0, 1000.0]
    stamps = {s["kind"]: s for s in body["stamps"]}
    assert stamps["start"]["distance_from_home_m"] < 1
    assert 4900 < stamps["end"]["distance_from_home_m"] < 5100
    assert body["duration_minutes"] == 25.0
    [photo] = body["photos"]
    sha = flagged_visit["sha"]
    assert photo["sha256"] == sha and photo["is_uploaded"] is True
    assert photo["url"] == f"/api/photos/{sha}"
    assert photo["thumbnail_url"] == f"/api/photos/{sha}/thumbnail"
    assert abs(photo["exif_lat"] - 26.0712) < 1e-4 and abs(photo["exif_lon"] - 103.6542) < 1e-4
    assert photo["exif_taken_at_local"].startswith("2026-11-20T10:15")
    assert photo["exif_taken_at"].startswith("2026-11-20T")
    assert photo["located_by"] == "exif" and photo["distance_from_home_m"] > 1000
    assert photo["minutes_outside_visit"] > 0  # the fixture photo was taken long ago
    assert api.get("wenping_reviewer", photo["thumbnail_url"]).status_code == 200
    assert api.get("wenping_reviewer", photo["url"]).status_code == 200


def test_evidence_flags_carry_thresholds_and_sentences(api, flagged_visit):
    flags = {f["code"]: f for f in evidence(api, flagged_visit["record"])["flags"]}
    far = flags["stamp-far-from-home"]
    assert far["severity"] == "alert"
    assert far["thresholds"] == {"max_home_distance_m": 500}
    assert far["parameters"]["threshold_m"] == 500 and far["parameters"]["distance_m"] > 4900
    assert "500" in far["detail_en"] and "登记住址" in far["detail_zh"]
    assert "photo-far-from-visit" in flags


def test_evidence_names_who_signed_with_which_key(api, flagged_visit):
    [signed] = evidence(api, flagged_visit["record"])["attestations"]
    assert signed["user_id"] == api.user_id("wenping_fw1")
    assert signed["name"] and "field_worker" in signed["roles"]
    assert signed["key_id"] == flagged_visit["key_id"]
    assert signed["signed_at"] and signed["is_signature_valid"] is True
    assert signed["revision"] == 1 and signed["is_current_revision"] is True


def test_evidence_timeline_has_stamps_revisions_reviews_and_comments(api, flagged_visit):
    record = flagged_visit["record"]
    assert move(api, record, "has_issues", comments=ISSUE).status_code == 200
    revise(api, record, housing_area=38.0)
    body = evidence(api, record)
    events = [e["event"] for e in body["timeline"]]
    for wanted in ("started", "ended", "received", "attested", "review_moved", "commented",
                   "revised"):
        assert wanted in events, events
    assert events.index("started") < events.index("ended") < events.index("received")
    assert events.index("review_moved") < events.index("revised")
    moved = next(e for e in body["timeline"] if e["event"] == "review_moved")
    assert moved["state"] == "has_issues" and moved["actor_name"]
    commented = next(e for e in body["timeline"] if e["event"] == "commented")
    assert commented["field"] == "housing_area"
    ats = [e["at"] for e in body["timeline"]]
    assert ats == sorted(ats)
    assert body["state"] == "resubmitted" and body["revision"] == 2
    assert body["answers"]["housing_area"] == 38.0
    # The fix is a new revision: the first signature covers revision 1 only.
    first = body["attestations"][0]
    assert (first["revision"], first["is_current_revision"]) == (1, False)


# Issue 22: a full resident ID only through an audited reveal, so the evidence view masks it
# for every role; phones stay full for those who decide (the catalogue's case_work row).
@pytest.mark.parametrize(("username", "sees_id", "sees_phone"), [
    ("wenping_reviewer", False, True),
    ("wenping_approver", False, True),
    ("county_supervisor", False, False),
    ("county_admin", False, False),
])
def test_evidence_answers_masked_per_role(api, flagged_visit, username, sees_id, sees_phone):
    answers = evidence(api, flagged_visit["record"], username)["answers"]
    ids = [m["id_number"] for m in answers["members"]]
    if sees_id:
        assert ids == [HEAD_ID, SPOUSE_ID]
    else:
        assert ids == ["5306**********022X", "5306**********0014"]
    assert (answers["contact_mobile"] == MOBILE) is sees_phone
    if not sees_phone:
        assert answers["contact_mobile"].startswith("139") and "5678" in answers[
            "contact_mobile"] and "*" in answers["contact_mobile"]


def test_evidence_comment_text_masked_for_supervisor(api, flagged_visit):
    record = flagged_visit["record"]
    version = evidence(api, record)["version"]
    assert api.post("wenping_reviewer", f"/api/reviews/{record['id']}/comments",
                    json={"field": "members[1].id_number", "text": f"应为 {SPOUSE_ID}"},
                    headers={"If-Match": f'"{version}"'}).status_code == 201
    # masked by its shape in the comment too, for the reviewer who wrote it (issue 22)
    assert SPOUSE_ID not in evidence(api, record)["comments"][0]["text"]
    masked = evidence(api, record, "county_supervisor")["comments"][0]
    assert SPOUSE_ID not in masked["text"] and "5306**********0014" in masked["text"]
    assert masked["author_name"]


def test_evidence_scoping(api, flagged_visit):
    url = f"/api/reviews/{flagged_visit['record']['id']}/evidence"
    for username in ("wenping_fw1", "wenping_fw2", "wenping_fw3"):
        problem(api.get(username, url), 403, "forbidden")
    for username in ("longtoushan_reviewer", "longtoushan_approver"):
        problem(api.get(username, url), 404, "review-not-found")
    problem(api.get("wenping_reviewer", "/api/reviews/00000000-0000-4000-8000-000000000000"
                    "/evidence"), 404, "review-not-found")
    assert api.client.get(url).status_code == 401


def test_evidence_of_a_visit_without_home_or_photos(api):
    case = assigned_case(api)
    record = submission(case)
    record["stamps"] = []
    push(api, [record])
    body = evidence(api, record)
    assert body["photos"] == [] and body["stamps"] == []
    assert body["attestations"] == []
    assert {f["code"] for f in body["flags"]} >= {"missing-start-stamp", "missing-end-stamp"}


def test_queue_rows_and_the_review_name_the_village_and_team(api, flagged_visit):
    record = flagged_visit["record"]
    rows = api.get("wenping_reviewer", "/api/reviews?limit=200").get_json()["items"]
    row = next(r for r in rows if r["submission_id"] == record["id"])
    assert row["village_name"] and len(row["team_names"]) == len(row["team"]) >= 2
    assert all(name and name not in row["team"] for name in row["team_names"])
    assert evidence(api, record)["village_name"] == row["village_name"]
