"""Photos belong to a team: a visit names only its team's photos, HEAD and GET answer only for
photos the caller may see, and a reuse flag names the other household only to those who may."""

from __future__ import annotations

import copy
import hashlib

from tests.api.test_photos import PHOTOS, put_photo
from tests.api.test_sync import assigned_case, push
from tests.visit_factory import submission


def head(api, username, sha):
    return api.client.head(f"/api/photos/{sha}", headers=api.headers(username))


def filed_photo(api):
    """wenping_fw1 uploads a photo, then files it in a visit to one of their cases."""
    sha, response = put_photo(api, "visit_gps.jpg")
    assert response.status_code == 201
    case = assigned_case(api)
    record = submission(case, photos=[{"sha256": sha, "field": "house_photo"}])
    assert push(api, [record]).get_json()["results"][0]["status"] == "accepted"
    return sha, case, record


# --- a visit names only its team's photos ----------------------------------------------------

def test_field_worker_of_another_township_cannot_file_someone_elses_photo(api):
    sha, _, _ = filed_photo(api)
    theirs = assigned_case(api, "longtoushan_fw1")
    result = push(api, [submission(theirs, photos=[{"sha256": sha}])],
                  username="longtoushan_fw1").get_json()["results"][0]
    assert result["status"] == "rejected"
    assert result["problem"]["type"] == "photo-not-yours"
    assert result["problem"]["status"] == 403
    assert result["problem"]["errors"]["photos"] == [sha]
    # ...so it does not open the photo to them either.
    assert api.get("longtoushan_fw1", f"/api/photos/{sha}").status_code == 404
    assert api.get("longtoushan_fw1", f"/api/photos/{sha}/thumbnail").status_code == 404
    assert head(api, "longtoushan_fw1", sha).status_code == 404


def test_unfiled_photo_of_another_township_cannot_be_filed(api):
    sha, response = put_photo(api, "visit_gps.jpg")  # uploaded, never filed
    assert response.status_code == 201
    theirs = assigned_case(api, "longtoushan_fw1")
    result = push(api, [submission(theirs, photos=[{"sha256": sha}])],
                  username="longtoushan_fw1").get_json()["results"][0]
    assert result["problem"]["type"] == "photo-not-yours"
    assert api.get("longtoushan_fw1", f"/api/photos/{sha}").status_code == 404


def test_a_bad_photo_rejects_only_its_own_record(api):
    sha, _, _ = filed_photo(api)
    theirs = assigned_case(api, "longtoushan_fw1")
    own_sha, _ = put_photo(api, "other_scene.jpg", username="longtoushan_fw1")
    results = push(api, [submission(theirs, photos=[{"sha256": sha}]),
                         submission(theirs, photos=[{"sha256": own_sha}])],
                   username="longtoushan_fw1").get_json()["results"]
    assert [r["status"] for r in results] == ["rejected", "accepted"]


def test_a_team_member_may_file_a_photo_another_member_uploaded(api):
    sha, _ = put_photo(api, "visit_gps.jpg")  # uploaded by wenping_fw1
    case = assigned_case(api)  # team: wenping_fw1, wenping_fw2
    result = push(api, [submission(case, photos=[{"sha256": sha}])],
                  username="wenping_fw2").get_json()["results"][0]
    assert result["status"] == "accepted", result


def move_team_to_fw2_and_fw3(api, case_id):
    etag = api.get("wenping_intake", f"/api/cases/{case_id}").headers["ETag"]
    team = [api.user_id("wenping_fw2"), api.user_id("wenping_fw3")]
    moved = api.client.put(f"/api/cases/{case_id}/team", json={"user_ids": team},
                           headers=api.headers("wenping_intake", **{"If-Match": etag}))
    assert moved.status_code == 200, moved.get_json()


def test_a_photo_already_filed_on_the_case_may_be_named_again(api):
    """The uploader left the team; the new team's revision keeps the photo filed before."""
    sha, case, record = filed_photo(api)
    other = next(c for c in api.get("wenping_fw2", "/api/cases?assigned_to_me=true&page_size=100")
                 .get_json()["items"] if c["id"] != case["id"])
    move_team_to_fw2_and_fw3(api, case["id"])
    move_team_to_fw2_and_fw3(api, other["id"])
    edited = copy.deepcopy(record)
    edited["base_revision"] = 1
    edited["data"]["housing_area"] = 50
    result = push(api, [edited], username="wenping_fw2").get_json()["results"][0]
    assert (result["status"], result["revision"]) == ("accepted", 2), result
    # Filed on this case, not on another: the new team may not carry it elsewhere.
    elsewhere = push(api, [submission(other, photos=[{"sha256": sha}])],
                     username="wenping_fw2").get_json()["results"][0]
    assert elsewhere["problem"]["type"] == "photo-not-yours"


# --- HEAD and GET answer only for photos the caller may see -------------------------------

def test_head_answers_the_uploader_and_those_who_see_the_visit(api):
    sha, _ = put_photo(api, "visit_gps.jpg")
    assert head(api, "wenping_fw1", sha).status_code == 200  # resumable upload still works
    for outsider in ("wenping_fw2", "wenping_reviewer", "longtoushan_fw1", "county_supervisor"):
        assert head(api, outsider, sha).status_code == 404, outsider
    case = assigned_case(api)
    push(api, [submission(case, photos=[{"sha256": sha}])])
    for insider in ("wenping_fw2", "wenping_reviewer", "county_supervisor"):
        assert head(api, insider, sha).status_code == 200, insider
    for outsider in ("longtoushan_fw1", "longtoushan_reviewer", "wenping_fw3"):
        assert head(api, outsider, sha).status_code == 404, outsider


def test_a_hidden_photo_answers_exactly_like_a_missing_one(api):
    sha, _ = put_photo(api, "visit_gps.jpg")
    missing = "c" * 64
    for method in ("HEAD", "GET"):
        for path in ("/api/photos/{}", "/api/photos/{}/thumbnail"):
            if method == "HEAD" and path.endswith("thumbnail"):
                continue
            hidden = api.client.open(path.format(sha), method=method,
                                     headers=api.headers("longtoushan_fw1"))
            absent = api.client.open(path.format(missing), method=method,
                                     headers=api.headers("longtoushan_fw1"))
            assert hidden.status_code == absent.status_code == 404
            assert hidden.data == absent.data
            assert hidden.headers.get("Content-Type") == absent.headers.get("Content-Type")


def test_put_of_other_bytes_does_not_reveal_a_stored_photo(api):
    sha, _ = put_photo(api, "visit_gps.jpg")
    probe = api.put("longtoushan_fw1", f"/api/photos/{sha}", data=b"\xff\xd8 not it",
                    headers={"Content-Type": "image/jpeg"})
    absent = api.put("longtoushan_fw1", "/api/photos/" + "c" * 64, data=b"\xff\xd8 not it",
                     headers={"Content-Type": "image/jpeg"})
    assert probe.status_code == absent.status_code == 422
    assert probe.get_json()["type"] == absent.get_json()["type"] == "photo-hash-mismatch"
    # Holding the bytes is proof enough: the same bytes again are the idempotent 200.
    raw = (PHOTOS / "visit_gps.jpg").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == sha
    again = api.put("longtoushan_fw1", f"/api/photos/{sha}", data=raw,
                    headers={"Content-Type": "image/jpeg"})
    assert again.status_code == 200


# --- a reuse flag names the other household only to those who may see it ------------------

def reused_visit(api):
    sha_a, _ = put_photo(api, "same_scene_a.jpg")
    sha_b, _ = put_photo(api, "same_scene_b.jpg")
    cases = api.get("wenping_fw1", "/api/cases?assigned_to_me=true&kind=dibao").get_json()[
        "items"]
    first, second = cases[0], cases[1]
    assert first["household_id"] != second["household_id"]
    push(api, [submission(first, photos=[{"sha256": sha_a}])])
    reused = submission(second, photos=[{"sha256": sha_b}])
    push(api, [reused])
    return reused, first["household_id"]


def reuse_flags(api, username, submission_id):
    response = api.get(username, f"/api/visits/{submission_id}")
    assert response.status_code == 200, (username, response.get_json())
    found = [f for f in response.get_json()["flags"]
             if f["code"] == "photo-reused-other-household"]
    assert found, username
    return found, response.get_data(as_text=True)


def test_reuse_flag_names_the_other_household_only_to_reviewers_and_supervisors(api):
    record, other_household = reused_visit(api)
    for username in ("wenping_reviewer", "county_supervisor"):
        found, _ = reuse_flags(api, username, record["id"])
        assert found[0]["data"]["other_household_id"] == other_household
    for username in ("wenping_fw1", "wenping_fw2", "wenping_assistant", "wenping_intake",
                     "wenping_approver", "wenping_admin"):
        found, text = reuse_flags(api, username, record["id"])
        assert "other_household_id" not in found[0]["data"]
        assert other_household not in text, username
        assert found[0]["severity"] == "alert" and found[0]["detail_en"]
    assert api.get("longtoushan_reviewer", f"/api/visits/{record['id']}").status_code == 404


# --- missing_photos speaks of the visit's own people only --------------------------------------

def test_missing_photos_never_tells_a_device_that_another_team_holds_the_photo(api):
    """A device names a hash before anyone uploads it; another township's worker uploads that
    photo later: the replayed push still lists it missing, and its flags do not change."""
    sha = hashlib.sha256((PHOTOS / "visit_gps.jpg").read_bytes()).hexdigest()
    theirs = assigned_case(api, "longtoushan_fw1")
    probe = submission(theirs, photos=[{"sha256": sha, "field": "house_photo"}])
    first = push(api, [probe], username="longtoushan_fw1").get_json()["results"][0]
    assert (first["status"], first["missing_photos"]) == ("accepted", [sha])

    _, uploaded = put_photo(api, "visit_gps.jpg")  # wenping_fw1's photo
    assert uploaded.status_code == 201
    replay = push(api, [probe], username="longtoushan_fw1").get_json()["results"][0]
    assert replay["status"] == "duplicate"
    assert replay["missing_photos"] == [sha]
    assert replay["flags"] == first["flags"]
    assert api.get("longtoushan_fw1", f"/api/photos/{sha}").status_code == 404

    # The team's own upload of the same hash counts: that device has the photo.
    mine = submission(assigned_case(api), photos=[{"sha256": sha, "field": "house_photo"}])
    assert push(api, [mine]).get_json()["results"][0]["missing_photos"] == []
    assert push(api, [mine]).get_json()["results"][0]["missing_photos"] == []
