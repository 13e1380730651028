"""False accepts and false rejects of the check-in face check, on the faces we can assemble.

    .venv/bin/python bench/eval_identity.py IMAGE [IMAGE ...]

Every face dlib finds in the images is one identity (a group photo gives several). Genuine
pairs: a face against altered shots of itself (mirror, brightness, crop, blur, small
rotation, JPEG at low quality): the same person, but not an independent photo, so the false
reject rate it gives is optimistic. Impostor pairs: every face against every other face's
shots. Faces that ship in packages: scikit-image's astronaut.png (Eileen Collins),
matplotlib's grace_hopper.jpg, insightface's Tom_Hanks_54745.png and t1.jpg (a group).
"""

from __future__ import annotations

import io
import itertools
import sys
import time

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

from backend.checkins.identity import SAME_PERSON_MAX_DISTANCE, DlibIdentity


def _jpeg(image: Image.Image, quality: int = 80) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def faces_in(path: str, model: DlibIdentity) -> list[Image.Image]:
    image = Image.open(path).convert("RGB")
    pixels = np.asarray(image)
    found = []
    for rect in model._detector(pixels, 1):
        margin = int(0.6 * rect.width())
        box = (max(0, rect.left() - margin), max(0, rect.top() - margin),
               min(image.width, rect.right() + margin), min(image.height, rect.bottom() + margin))
        found.append(image.crop(box).resize((300, int(300 * (box[3] - box[1]) /
                                                        (box[2] - box[0])))))
    return found


def shots(face: Image.Image) -> list[bytes]:
    w, h = face.size
    return [
        _jpeg(face.transpose(Image.FLIP_LEFT_RIGHT)),
        _jpeg(ImageEnhance.Brightness(face).enhance(0.6)),
        _jpeg(ImageEnhance.Brightness(face).enhance(1.4)),
        _jpeg(face.crop((w // 12, h // 12, w - w // 12, h - h // 12))),
        _jpeg(face.filter(ImageFilter.GaussianBlur(1.5))),
        _jpeg(face.rotate(8, fillcolor=(128, 128, 128))),
        _jpeg(face, quality=25),
        _jpeg(face.resize((w // 2, h // 2)).resize((w, h))),
    ]


def main(paths: list[str]) -> None:
    model = DlibIdentity()
    faces = [face for path in paths for face in faces_in(path, model)]
    print(f"{len(faces)} faces (identities) from {len(paths)} images")
    references = [model.embedding(_jpeg(face)) for face in faces]
    faces = [face for face, ref in zip(faces, references, strict=True) if ref is not None]
    references = [ref for ref in references if ref is not None]
    print(f"{len(faces)} faces embed from their own crop")
    started = time.perf_counter()
    probes = [[model.embedding(shot) for shot in shots(face)] for face in faces]
    per_photo = (time.perf_counter() - started) / sum(len(p) for p in probes)
    genuine = [(float(np.linalg.norm(references[i] - probe)) if probe is not None else None)
               for i in range(len(faces)) for probe in probes[i]]
    impostor = [float(np.linalg.norm(references[i] - probe))
                for i, j in itertools.permutations(range(len(faces)), 2)
                for probe in probes[j] if probe is not None]
    no_face = sum(1 for d in genuine if d is None)
    rejects = sum(1 for d in genuine if d is None or d > SAME_PERSON_MAX_DISTANCE)
    accepts = sum(1 for d in impostor if d <= SAME_PERSON_MAX_DISTANCE)
    print(f"threshold {SAME_PERSON_MAX_DISTANCE}; {per_photo * 1000:.0f} ms per photo")
    print(f"genuine pairs {len(genuine)}: false rejects {rejects} "
          f"({100 * rejects / len(genuine):.1f}%), of which no face found {no_face}; "
          f"max distance {max(d for d in genuine if d is not None):.3f}")
    print(f"impostor pairs {len(impostor)}: false accepts {accepts} "
          f"({100 * accepts / max(1, len(impostor)):.2f}%); "
          f"min distance {min(impostor) if impostor else float('nan'):.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
