"""The face check with the real model (dlib ResNet, weights from face_recognition_models).

Photos: tests/data/photos/face_astronaut.jpg (Eileen Collins, NASA, public domain, as shipped
in scikit-image) and face_hopper.jpg (Grace Hopper, US Navy, public domain, as shipped in
matplotlib).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageEnhance

from backend.checkins import identity

PHOTOS = Path(__file__).resolve().parents[1] / "data" / "photos"


@pytest.fixture(scope="module")
def faces():
    verifier = identity.verifier("dlib")
    if not isinstance(verifier, identity.DlibIdentity):
        pytest.fail("dlib or face_recognition_models is not installed")
    return verifier


def _jpeg(image: Image.Image, quality=70) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def test_same_person_in_another_shot_is_verified(faces):
    reference = (PHOTOS / "face_astronaut.jpg").read_bytes()
    image = Image.open(io.BytesIO(reference))
    darker = ImageEnhance.Brightness(image.transpose(Image.FLIP_LEFT_RIGHT)).enhance(0.7)
    cropped = darker.crop((20, 0, image.width - 10, image.height - 30))
    result = faces.compare(reference, _jpeg(cropped))
    assert result.status == "verified" and result.distance < identity.SAME_PERSON_MAX_DISTANCE


def test_another_person_is_a_mismatch(faces):
    result = faces.compare((PHOTOS / "face_astronaut.jpg").read_bytes(),
                           (PHOTOS / "face_hopper.jpg").read_bytes())
    assert result.status == "mismatch" and result.distance > identity.SAME_PERSON_MAX_DISTANCE


def test_no_face_in_the_photo(faces):
    result = faces.compare((PHOTOS / "face_astronaut.jpg").read_bytes(),
                           (PHOTOS / "other_scene.jpg").read_bytes())
    assert result.status == "no-face"


def test_without_a_model_nothing_is_vouched_for():
    result = identity.UnverifiedIdentity().compare(b"", b"")
    assert result.status == "unverified" and result.distance is None


def test_the_same_pair_is_judged_by_the_configured_threshold(faces):
    """IDENTITY_MAX_DISTANCE decides: one pair verified above its distance, a mismatch below."""
    reference = (PHOTOS / "face_astronaut.jpg").read_bytes()
    probe = (PHOTOS / "face_hopper.jpg").read_bytes()
    distance = faces.compare(reference, probe).distance
    assert identity.verifier("dlib", distance + 0.01).compare(reference, probe).status == \
        "verified"
    assert identity.verifier("dlib", distance - 0.01).compare(reference, probe).status == \
        "mismatch"
    assert identity.SAME_PERSON_MAX_DISTANCE == 0.55  # ADR 0009: stricter than dlib's 0.6
