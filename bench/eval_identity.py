"""False accepts and false rejects of the check-in face check, on the faces we can assemble.

    .venv/bin/python bench/eval_identity.py IMAGE [IMAGE ...]

Every face dlib finds in the images is one identity (a group photo gives several). Genuine
pairs: a face against altered shots of itself (mirror, brightness, crop, blur, small
rotation, JPEG at low quality): the same person, but not an independent photo, so the false
reject rate it gives is optimistic. Impostor pairs: every face against every other face's
shots. Faces that ship in packages: scikit-image's astronaut.png (Eileen Collins),
matplotlib's grace_hopper.jpg, insightface's Tom_Hanks_54745.png and t1.jpg (a group).

    .venv/bin/python bench/eval_identity.py --people DIR [--thresholds 0.5,0.55,0.6]

Independent photos: DIR/people/<person>/* are photos of one person (its largest face counts),
DIR/groups/* are group photos (every face a different person; two group photos may share a
person, so they are not compared). Genuine pairs: two photos of one person. Impostor pairs:
photos of two people, a group face against a person's photo, two faces of one group photo.
bench/fetch_face_samples.py lays out such a DIR from the photos that ship in packages.
"""

from __future__ import annotations

import argparse
import io
import itertools
import time
from dataclasses import dataclass
from pathlib import Path

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


def altered_copies(paths: list[str]) -> None:
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



@dataclass(frozen=True)
class Sample:
    photo: str  # path under DIR, for the report
    person: str | None  # None: a face from a group photo, whose name we do not know


def pairs(samples: list[Sample]) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Genuine and impostor pairs (indices into samples), each unordered pair once. Two faces
    of different group photos are neither: one person may be in both."""
    genuine, impostor = [], []
    for i, j in itertools.combinations(range(len(samples)), 2):
        a, b = samples[i], samples[j]
        if a.person is not None and a.person == b.person:
            genuine.append((i, j))
        elif a.person is not None or b.person is not None or a.photo == b.photo:
            impostor.append((i, j))
    return genuine, impostor


def error_rates(genuine: list[float], impostor: list[float],
                threshold: float) -> tuple[float, float]:
    """False-reject rate over genuine distances, false-accept rate over impostor distances;
    distance <= threshold is "same person", as in DlibIdentity.compare."""
    rejects = sum(1 for d in genuine if d > threshold)
    accepts = sum(1 for d in impostor if d <= threshold)
    return rejects / max(1, len(genuine)), accepts / max(1, len(impostor))


def embed_folder(root: Path, model: DlibIdentity) -> tuple[list[Sample], list, list[str]]:
    """Each face found, cropped as a selfie would frame it and embedded the way check-ins
    are (DlibIdentity.embedding on a JPEG); and the photos where no face was found."""
    samples, vectors, not_found = [], [], []
    photos = [(p, p.parent.name) for p in sorted((root / "people").glob("*/*"))]
    photos += [(p, None) for p in sorted((root / "groups").glob("*"))]
    for path, person in photos:
        faces = faces_in(str(path), model)
        if person is not None:  # the person is the largest face in their own photo
            faces = sorted(faces, key=lambda f: f.width, reverse=True)[:1]
        vectors_here = [v for v in (model.embedding(_jpeg(face)) for face in faces)
                        if v is not None]
        if not vectors_here:
            not_found.append(str(path.relative_to(root)))
        for vector in vectors_here:
            samples.append(Sample(str(path.relative_to(root)), person))
            vectors.append(vector)
    return samples, vectors, not_found


def independent_photos(root: Path, thresholds: list[float]) -> None:
    model = DlibIdentity()
    samples, vectors, not_found = embed_folder(root, model)
    genuine, impostor = pairs(samples)
    distance = {pair: float(np.linalg.norm(vectors[pair[0]] - vectors[pair[1]]))
                for pair in genuine + impostor}
    people = {s.person for s in samples if s.person is not None}
    repeated = {p for p in people if sum(1 for s in samples if s.person == p) > 1}
    print(f"{len(people)} named people ({len(repeated)} with 2+ photos), "
          f"{len({s.photo for s in samples})} photos with a face, "
          f"{sum(1 for s in samples if s.person is None)} faces from group photos")
    print(f"no face found in {len(not_found)}: {', '.join(not_found) or '-'}")
    print(f"genuine pairs {len(genuine)}, impostor pairs {len(impostor)}")
    for threshold in thresholds:
        frr, far = error_rates([distance[p] for p in genuine], [distance[p] for p in impostor],
                               threshold)
        print(f"threshold {threshold:.2f}: false rejects {frr * 100:5.1f}% "
              f"({round(frr * len(genuine))}/{len(genuine)}), false accepts {far * 100:5.2f}% "
              f"({round(far * len(impostor))}/{len(impostor)})")
    for label, chosen in (("genuine", genuine), ("impostor", impostor)):
        ranked = sorted(chosen, key=distance.get, reverse=label == "genuine")[:8]
        worst = "; ".join(f"{distance[p]:.3f} {samples[p[0]].photo} ~ {samples[p[1]].photo}"
                          for p in ranked)
        print(f"hardest {label} pairs: {worst or '-'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="*", help="altered-copy mode: images of faces")
    parser.add_argument("--people", type=Path, help="a folder laid out by fetch_face_samples")
    parser.add_argument("--thresholds", default="0.5,0.55,0.6")  # ours, and dlib's own 0.6
    args = parser.parse_args()
    if args.people:
        independent_photos(args.people, [float(t) for t in args.thresholds.split(",")])
    else:
        altered_copies(args.images)
