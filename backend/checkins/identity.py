"""Is the face in a check-in photo the enrolled person? Behind one interface, so that a
provincial real-name verification service can replace the local model.

The local model is dlib's face-recognition ResNet (128-d embeddings, LFW 99.38%) with its
5-point landmark aligner; both weight files ship inside the ``face_recognition_models`` PyPI
package (nothing is downloaded at run time) and run through ``dlib`` (``dlib-bin`` wheel).
When dlib or the weights are missing, ``UnverifiedIdentity`` answers: it finds no face and
vouches for nothing, and every check-in goes to a person (identity ``unverified``).
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from typing import Protocol

from PIL import Image, ImageOps

# Same person at or below this Euclidean distance. dlib's own threshold for the model is
# 0.6, tuned on LFW (mostly white men). On the photos that ship in packages (ADR 0009,
# bench/eval_identity.py --people) every false accept at 0.6 was a woman or an East Asian
# man (7 of 1,087 pairs, 0.57–0.60) and none remained at 0.55, while the same person's
# photos stayed at or below 0.44. A check-in never waits on this: a false "mismatch" costs
# the assistant a call, a false accept lets someone else collect the allowance; so 0.55,
# a setting (IDENTITY_MAX_DISTANCE) to tune on real enrolment photos.
SAME_PERSON_MAX_DISTANCE = 0.55
MAX_SIDE = 800  # faces in a phone selfie stay > 80 px at this size; keeps CPU time low


@dataclass(frozen=True)
class IdentityResult:
    status: str  # verified / mismatch / no-face / unverified
    distance: float | None
    checked_by: str


class IdentityVerifier(Protocol):
    name: str

    def compare(self, reference: bytes, probe: bytes) -> IdentityResult: ...


class UnverifiedIdentity:
    """No model: a person compares the photos (the follow-up queue shows both)."""

    name = "none"

    def compare(self, reference: bytes, probe: bytes) -> IdentityResult:
        return IdentityResult("unverified", None, self.name)


def _rgb_array(raw: bytes):
    import numpy as np

    image = ImageOps.exif_transpose(Image.open(io.BytesIO(raw))).convert("RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    return np.asarray(image)


class DlibIdentity:
    name = "dlib-resnet-v1"

    def __init__(self, max_distance: float = SAME_PERSON_MAX_DISTANCE) -> None:
        import dlib
        import face_recognition_models as weights

        self._detector = dlib.get_frontal_face_detector()
        self._aligner = dlib.shape_predictor(weights.pose_predictor_five_point_model_location())
        self._encoder = dlib.face_recognition_model_v1(
            weights.face_recognition_model_location())
        self._lock = threading.Lock()  # dlib objects are not documented as thread-safe
        self.max_distance = max_distance

    def embedding(self, raw: bytes):
        """The 128-d descriptor of the largest face, or None when no face is found."""
        import numpy as np

        pixels = _rgb_array(raw)
        with self._lock:
            faces = self._detector(pixels, 1)
            if not faces:
                return None
            face = max(faces, key=lambda r: r.width() * r.height())
            shape = self._aligner(pixels, face)
            return np.array(self._encoder.compute_face_descriptor(pixels, shape))

    def compare(self, reference: bytes, probe: bytes) -> IdentityResult:
        import numpy as np

        probe_vector = self.embedding(probe)
        if probe_vector is None:
            return IdentityResult("no-face", None, self.name)
        reference_vector = self.embedding(reference)
        if reference_vector is None:
            return IdentityResult("unverified", None, self.name)
        distance = float(np.linalg.norm(reference_vector - probe_vector))
        status = "verified" if distance <= self.max_distance else "mismatch"
        return IdentityResult(status, round(distance, 4), self.name)


_plugged: dict[str, IdentityVerifier] = {}
_loaded: dict[tuple[str, float], IdentityVerifier] = {}


def verifier(name: str, max_distance: float = SAME_PERSON_MAX_DISTANCE) -> IdentityVerifier:
    """The configured verifier (IDENTITY_VERIFIER: ``dlib`` or ``none``; dlib's threshold:
    IDENTITY_MAX_DISTANCE), loaded once; dlib falls back to none when it cannot load, and
    says so in the status it records. A plugged-in verifier (``use``) comes first."""
    if name in _plugged:
        return _plugged[name]
    key = (name, max_distance)
    if key not in _loaded:
        chosen: IdentityVerifier = UnverifiedIdentity()
        if name == "dlib":
            try:
                chosen = DlibIdentity(max_distance)
            except (ImportError, RuntimeError, OSError):
                chosen = UnverifiedIdentity()
        _loaded[key] = chosen
    return _loaded[key]


def use(name: str, implementation: IdentityVerifier) -> None:
    """Plug in another verifier (a provincial real-name service, or a test double)."""
    _plugged[name] = implementation
