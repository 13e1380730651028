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

# dlib's own threshold for this model: same person below 0.6 (Euclidean distance).
SAME_PERSON_MAX_DISTANCE = 0.6
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

    def __init__(self) -> None:
        import dlib
        import face_recognition_models as weights

        self._detector = dlib.get_frontal_face_detector()
        self._aligner = dlib.shape_predictor(weights.pose_predictor_five_point_model_location())
        self._encoder = dlib.face_recognition_model_v1(
            weights.face_recognition_model_location())
        self._lock = threading.Lock()  # dlib objects are not documented as thread-safe

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
        status = "verified" if distance <= SAME_PERSON_MAX_DISTANCE else "mismatch"
        return IdentityResult(status, round(distance, 4), self.name)


_verifiers: dict[str, IdentityVerifier] = {}


def verifier(name: str) -> IdentityVerifier:
    """The configured verifier (IDENTITY_VERIFIER: ``dlib`` or ``none``), loaded once; dlib
    falls back to none when it cannot load, and says so in the status it records."""
    if name not in _verifiers:
        chosen: IdentityVerifier = UnverifiedIdentity()
        if name == "dlib":
            try:
                chosen = DlibIdentity()
            except (ImportError, RuntimeError, OSError):
                chosen = UnverifiedIdentity()
        _verifiers[name] = chosen
    return _verifiers[name]


def use(name: str, implementation: IdentityVerifier) -> None:
    """Plug in another verifier (a provincial real-name service, or a test double)."""
    _verifiers[name] = implementation
