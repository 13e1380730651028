"""Photo upload: content-addressed, idempotent, verified, stripped, scoped."""

import hashlib
import io
import threading
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from backend.evidence import service as evidence
from backend.evidence.images import OpenedPhoto
from backend.evidence.storage import LocalBlobStore
from backend.visits.models import VisitFlag
from tests.api.test_sync import assigned_case, push
from tests.checkin_factory import photo_bytes
from tests.visit_factory import submission

PHOTOS = Path(__file__).resolve().parents[1] / "data" / "photos"


def put_photo(api, name, content_type="image/jpeg", username="wenping_fw1", data=None):
    raw = data if data is not None else (PHOTOS / name).read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    response = api.put(username, f"/api/photos/{sha}", data=raw,
                       headers={"Content-Type": content_type})
    return sha, response


def test_upload_reads_exif_gps_and_is_idempotent(api):
    sha, first = put_photo(api, "visit_gps.jpg")
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert abs(body["exif_lat"] - 26.0712) < 1e-4 and abs(body["exif_lon"] - 103.6542) < 1e-4
    assert body["exif_taken_at_local"].startswith("2026-11-20T10:15")
    _, again = put_photo(api, "visit_gps.jpg")
    assert again.status_code == 200
    assert api.client.head(f"/api/photos/{sha}",
                           headers=api.headers("wenping_fw1")).status_code == 200


def test_unknown_photo_head_is_404(api):
    assert api.client.head("/api/photos/" + "0" * 64,
                           headers=api.headers("wenping_fw1")).status_code == 404


def test_hash_must_match_the_bytes(api):
    raw = (PHOTOS / "visit_gps.jpg").read_bytes()
    response = api.put("wenping_fw1", "/api/photos/" + "a" * 64, data=raw,
                       headers={"Content-Type": "image/jpeg"})
    assert response.status_code == 422
    assert response.get_json()["type"] == "photo-hash-mismatch"


BAD = [
    ("truncated.jpg", "image/jpeg", "photo-truncated"),
    ("bomb.png", "image/png", "photo-too-many-pixels"),
    ("png_as.jpg", "image/jpeg", "photo-type-mismatch"),
    ("zero.jpg", "image/jpeg", "photo-empty"),
    ("huge_exif.jpg", "image/jpeg", "photo-exif-too-large"),
    ("not_an_image.jpg", "image/jpeg", "photo-not-an-image"),
    ("gif.gif", "image/gif", "photo-format-not-allowed"),
]


@pytest.mark.parametrize(("name", "content_type", "slug"), BAD, ids=[b[2] for b in BAD])
def test_bad_photos_are_refused_with_their_slug(api, name, content_type, slug):
    _, response = put_photo(api, name, content_type)
    assert 400 <= response.status_code < 500
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["type"] == slug


@pytest.mark.parametrize(("name", "content_type", "slug"), BAD, ids=[b[2] for b in BAD])
def test_a_refused_photo_leaves_no_file_in_storage(app, api, name, content_type, slug):
    # A JPEG's cleaned copy is written while its pixels decode; a cut-off one is refused by
    # the decode, after the write, and its copy must go again.
    sha, response = put_photo(api, name, content_type)
    assert response.get_json()["type"] == slug
    with app.app_context():
        store = evidence._store()
        assert not store.exists(f"{sha}.orig") and not store.exists(f"{sha}.thumb")


def test_a_jpeg_is_stored_while_its_pixels_decode(app, api, monkeypatch):
    """The cleaned original reaches storage before the decode ends (issue 23): the decode
    here waits for that write, so a sequential upload would answer 500 after 10 s."""
    written = threading.Event()
    decode = OpenedPhoto.decode
    original_put = LocalBlobStore.put

    def decode_after_the_write(self):
        assert written.wait(10), "the original was not written while the photo decoded"
        return decode(self)

    def put(self, key, data, content_type):
        original_put(self, key, data, content_type)
        if key.endswith(".orig"):
            written.set()

    monkeypatch.setattr(OpenedPhoto, "decode", decode_after_the_write)
    monkeypatch.setattr(LocalBlobStore, "put", put)
    sha, response = put_photo(api, None, data=photo_bytes(23_0707))  # a photo new to the server
    assert response.status_code == 201, response.get_json()
    assert written.is_set()
    with app.app_context():
        assert evidence._store().exists(f"{sha}.thumb")


def test_photo_over_the_byte_limit(app, api):
    app.config["PHOTO_MAX_BYTES"] = 1000
    try:
        _, response = put_photo(api, "visit_gps.jpg")
        assert response.status_code == 413
        assert response.get_json()["type"] == "photo-too-large"
    finally:
        app.config["PHOTO_MAX_BYTES"] = 15 * 1024 * 1024


def test_download_has_no_metadata_and_is_scoped(api):
    sha, _ = put_photo(api, "visit_gps.jpg")
    case = assigned_case(api)
    push(api, [submission(case, photos=[{"sha256": sha, "field": "house_photo"}])])
    download = api.get("wenping_reviewer", f"/api/photos/{sha}")
    assert download.status_code == 200
    picture = Image.open(io.BytesIO(download.data))
    exif = picture.getexif()
    assert 0x8825 not in exif  # no GPS IFD
    assert b"Exif" not in download.data[:4096] or set(exif) <= {0x0112}
    thumb = api.get("wenping_reviewer", f"/api/photos/{sha}/thumbnail")
    assert max(Image.open(io.BytesIO(thumb.data)).size) <= 320
    assert api.get("longtoushan_reviewer", f"/api/photos/{sha}").status_code == 404


def test_same_picture_for_another_household_is_flagged(api, db_session):
    sha_a, _ = put_photo(api, "same_scene_a.jpg")
    sha_b, _ = put_photo(api, "same_scene_b.jpg")
    sha_other, _ = put_photo(api, "other_scene.jpg")
    cases = api.get("wenping_fw1", "/api/cases?assigned_to_me=true&kind=dibao").get_json()[
        "items"]
    cases += api.get("wenping_fw1", "/api/cases?assigned_to_me=true&kind=low_income_margin"
                     ).get_json()["items"]
    first, second, third = cases[0], cases[1], cases[2]
    assert len({first["household_id"], second["household_id"], third["household_id"]}) == 3
    push(api, [submission(first, photos=[{"sha256": sha_a}])])
    reused = submission(second, photos=[{"sha256": sha_b}])
    different = submission(third, photos=[{"sha256": sha_other}])
    push(api, [reused, different])
    codes = {f.submission_id: f.code for f in db_session.scalars(select(VisitFlag).where(
        VisitFlag.code == "photo-reused-other-household"))}
    assert reused["id"] in codes
    assert different["id"] not in codes


def test_push_names_photos_still_missing(api):
    case = assigned_case(api)
    missing = "b" * 64
    result = push(api, [submission(case, photos=[{"sha256": missing}])]).get_json()["results"][0]
    assert result["missing_photos"] == [missing]
