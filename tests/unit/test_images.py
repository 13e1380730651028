"""backend.evidence.images: untrusted photo ingest. Fixtures: tests/data/photos/make_fixtures.py."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageCms

from backend.evidence.images import (
    IngestedPhoto,
    PhotoLimits,
    PhotoRejected,
    hamming,
    ingest_photo,
    open_photo,
)

PHOTOS = Path(__file__).resolve().parent.parent / "data" / "photos"

# Where visit_gps.jpg was taken: a village in Ludian county, Yunnan.
LUDIAN_LATITUDE, LUDIAN_LONGITUDE = 26.0712, 103.6542


def fixture(name: str) -> bytes:
    return (PHOTOS / name).read_bytes()


@pytest.fixture(scope="module")
def visit() -> IngestedPhoto:
    return ingest_photo(fixture("visit_gps.jpg"), PhotoLimits())


def jpeg_segments(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, body) for every segment before the first scan's data, SOS included."""
    segments, pos = [], 2
    while True:
        assert data[pos] == 0xFF
        marker = data[pos + 1]
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        segments.append((marker, data[pos + 4 : pos + 2 + length]))
        pos += 2 + length
        if marker == 0xDA:
            return segments


def entropy_coded_data(data: bytes) -> bytes:
    """Everything from the end of the first SOS header to EOI: the compressed pixels."""
    sos = data.index(b"\xff\xda")
    length = int.from_bytes(data[sos + 2 : sos + 4], "big")
    return data[sos + 2 + length : data.rindex(b"\xff\xd9")]


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "declared_type", "slug"),
    [
        ("zero.jpg", None, "photo-empty"),
        ("not_an_image.jpg", "image/jpeg", "photo-not-an-image"),
        ("gif.gif", "image/gif", "photo-format-not-allowed"),
        ("bomb.png", "image/png", "photo-too-many-pixels"),
        ("truncated.jpg", "image/jpeg", "photo-truncated"),
        ("huge_exif.jpg", "image/jpeg", "photo-exif-too-large"),
        ("png_as.jpg", "image/jpeg", "photo-type-mismatch"),
    ],
)
def test_each_bad_fixture_is_refused_with_its_own_slug(name, declared_type, slug):
    with pytest.raises(PhotoRejected) as refused:
        ingest_photo(fixture(name), PhotoLimits(), declared_type=declared_type)
    assert refused.value.slug == slug
    assert refused.value.detail


def test_over_the_byte_limit_is_refused_before_anything_is_parsed():
    with pytest.raises(PhotoRejected) as refused:
        ingest_photo(b"\xff\xd8" + b"\0" * 2000, PhotoLimits(max_bytes=1000))
    assert refused.value.slug == "photo-too-large"


def test_pixel_limit_is_checked_from_the_header():
    # 600x450 = 270,000 pixels; an honest PNG, but over this deployment's limit.
    with pytest.raises(PhotoRejected) as refused:
        ingest_photo(fixture("visit_plain.png"), PhotoLimits(max_pixels=100_000))
    assert refused.value.slug == "photo-too-many-pixels"


def test_pillow_bomb_warning_range_is_a_rejection_not_a_warning():
    # 10,000 x 10,000 sits between Pillow's warning (89 MP) and error (179 MP) thresholds.
    # Even with a limit above it, the upload is refused rather than decoded, and no warning
    # escapes (pytest runs with warnings as errors).
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    rows = zlib.compress(b"\0" * (1 + 10_000 // 8) * 10_000, 9)
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 10_000, 10_000, 1, 0, 0, 0, 0))
        + chunk(b"IDAT", rows)
        + chunk(b"IEND", b"")
    )
    with pytest.raises(PhotoRejected) as refused:
        ingest_photo(png, PhotoLimits(max_pixels=200_000_000))
    assert refused.value.slug == "photo-too-many-pixels"


def test_huge_exif_in_a_png_is_refused():
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\0\0\0" + b"x" * 100_000  # UserComment
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "green").save(buffer, "PNG", exif=exif.tobytes())
    with pytest.raises(PhotoRejected) as refused:
        ingest_photo(buffer.getvalue(), PhotoLimits())
    assert refused.value.slug == "photo-exif-too-large"


@pytest.mark.parametrize(
    ("name", "declared_type"),
    [
        ("visit_gps.jpg", "image/jpeg"),
        ("visit_gps.jpg", "IMAGE/JPEG; charset=binary"),
        ("visit_gps.jpg", "application/octet-stream"),  # browsers that do not know
        ("visit_gps.jpg", None),
        ("png_as.jpg", "image/png"),  # the name lies, the declared type does not
        ("visit.webp", "image/webp"),
    ],
)
def test_declared_type_that_agrees_or_is_unknown_is_accepted(name, declared_type):
    ingest_photo(fixture(name), PhotoLimits(), declared_type=declared_type)


def test_jpeg_declared_as_text_is_a_mismatch():
    with pytest.raises(PhotoRejected) as refused:
        ingest_photo(fixture("visit_gps.jpg"), PhotoLimits(), declared_type="text/plain")
    assert refused.value.slug == "photo-type-mismatch"


# --- what is read from EXIF ------------------------------------------------------------------


def test_gps_is_read_as_signed_decimal_degrees(visit):
    assert visit.gps is not None
    assert visit.gps.latitude == pytest.approx(LUDIAN_LATITUDE, abs=1e-4)
    assert visit.gps.longitude == pytest.approx(LUDIAN_LONGITUDE, abs=1e-4)
    assert visit.gps.altitude_m == pytest.approx(1850)


def test_southern_and_western_refs_give_negative_degrees():
    from PIL.TiffImagePlugin import IFDRational

    exif = Image.Exif()
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "S", (IFDRational(33), IFDRational(52), IFDRational(0))
    gps[3], gps[4] = "W", (IFDRational(70), IFDRational(30), IFDRational(0))
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "blue").save(buffer, "JPEG", exif=exif.tobytes())
    photo = ingest_photo(buffer.getvalue(), PhotoLimits())
    assert photo.gps is not None
    assert photo.gps.latitude == pytest.approx(-(33 + 52 / 60))
    assert photo.gps.longitude == pytest.approx(-70.5)
    assert photo.gps.altitude_m is None


def test_capture_time_camera_and_orientation_are_read(visit):
    assert visit.taken_at_local == "2026-11-20T10:15:00"
    assert visit.taken_at_offset == "+08:00"
    assert visit.camera == "HUAWEI Mate 60"
    assert visit.orientation == 6
    assert visit.format == "JPEG"
    assert visit.content_type_of_original == "image/jpeg"


def test_a_photo_without_exif_has_no_metadata():
    photo = ingest_photo(fixture("other_scene.jpg"), PhotoLimits())
    assert (photo.gps, photo.taken_at_local, photo.taken_at_offset, photo.camera) == (
        None,
        None,
        None,
        None,
    )
    assert photo.orientation == 1


def test_mangled_exif_costs_the_metadata_not_the_photo():
    raw = fixture("visit_gps.jpg")
    exif_at = raw.index(b"Exif\0\0")
    mangled = raw[: exif_at + 6] + b"MM\x00\x2a\xff\xff\xff\xff" + raw[exif_at + 14 :]
    photo = ingest_photo(mangled, PhotoLimits())
    assert photo.gps is None
    assert photo.orientation == 1


def test_sha256_is_of_the_upload_as_received(visit):
    import hashlib

    assert visit.sha256 == hashlib.sha256(fixture("visit_gps.jpg")).hexdigest()


# --- the stripped original -------------------------------------------------------------------


def test_stripped_jpeg_keeps_only_orientation_of_its_exif(visit):
    with Image.open(io.BytesIO(visit.stripped_original)) as stripped:
        exif = stripped.getexif()
        assert dict(exif) == {0x0112: 6}
        assert exif.get_ifd(0x8825) == {}
        assert exif.get_ifd(0x8769) == {}
        stripped.load()  # still a whole, decodable JPEG
    for leak in (b"http://ns.adobe.com/xap/1.0/", b"surveyor", b"HUAWEI", b"GPS"):
        assert leak not in visit.stripped_original
    markers = [marker for marker, _ in jpeg_segments(visit.stripped_original)]
    assert 0xFE not in markers  # no COM
    assert markers.count(0xE1) == 1  # the hand-written orientation APP1, nothing else


def test_stripped_jpeg_is_lossless(visit):
    raw = fixture("visit_gps.jpg")
    assert entropy_coded_data(visit.stripped_original) == entropy_coded_data(raw)
    tables_and_frame = (0xDB, 0xC0, 0xC4, 0xDA)  # DQT, SOF0, DHT, SOS

    def structure(data: bytes) -> list[tuple[int, bytes]]:
        return [(m, body) for m, body in jpeg_segments(data) if m in tables_and_frame]

    assert structure(visit.stripped_original) == structure(raw)


def test_stripped_jpeg_displays_upright(visit):
    with Image.open(io.BytesIO(visit.stripped_original)) as stripped:
        from PIL import ImageOps

        assert ImageOps.exif_transpose(stripped).size == (900, 1200)
    assert (visit.width, visit.height) == (900, 1200)


def test_stripped_jpeg_keeps_the_colour_profile(visit):
    with Image.open(io.BytesIO(visit.stripped_original)) as stripped:
        profile = stripped.info.get("icc_profile")
    assert profile
    assert ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(profile)))


def test_upright_jpeg_gets_no_exif_at_all_and_trailing_data_is_dropped():
    # Motion Photos and MPO append a video or a second picture after EOI.
    raw = fixture("other_scene.jpg") + b"ftypmp42 pretend video with GPS"
    photo = ingest_photo(raw, PhotoLimits())
    assert b"Exif" not in photo.stripped_original
    assert photo.stripped_original.endswith(b"\xff\xd9")
    assert b"pretend video" not in photo.stripped_original
    assert entropy_coded_data(photo.stripped_original) == entropy_coded_data(raw)


def test_png_is_reencoded_without_text_chunks():
    raw = fixture("visit_plain.png")
    assert b"iTXt" in raw  # Author: a surveyor's name
    photo = ingest_photo(raw, PhotoLimits())
    assert photo.content_type_of_original == "image/png"
    for text_chunk in (b"tEXt", b"zTXt", b"iTXt", b"eXIf"):
        assert text_chunk not in photo.stripped_original
    with (
        Image.open(io.BytesIO(photo.stripped_original)) as stripped,
        Image.open(io.BytesIO(raw)) as original,
    ):
        assert stripped.size == original.size
        assert stripped.tobytes() == original.convert(stripped.mode).tobytes()  # lossless


def test_png_exif_is_stripped_and_its_orientation_applied():
    exif = Image.Exif()
    exif[0x0112] = 6
    exif.get_ifd(0x8825)[1] = "N"
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), "red").save(buffer, "PNG", exif=exif.tobytes())
    photo = ingest_photo(buffer.getvalue(), PhotoLimits())
    assert (photo.width, photo.height) == (40, 60)
    with Image.open(io.BytesIO(photo.stripped_original)) as stripped:
        assert stripped.size == (40, 60)
        assert not stripped.getexif()


def test_webp_is_reencoded_without_exif():
    raw = fixture("visit.webp")
    photo = ingest_photo(raw, PhotoLimits(), declared_type="image/webp")
    assert photo.gps is not None  # it was there to read
    assert photo.content_type_of_original == "image/webp"
    with Image.open(io.BytesIO(photo.stripped_original)) as stripped:
        assert stripped.format == "WEBP"
        assert not stripped.getexif()
        assert "exif" not in stripped.info
    assert b"EXIF" not in photo.stripped_original


def test_heic_is_kept_as_a_jpeg():
    path = PHOTOS / "visit.heic"
    if not path.exists():
        pytest.skip("visit.heic was not generated: this pillow-heif had no HEVC encoder")
    photo = ingest_photo(path.read_bytes(), PhotoLimits(), declared_type="image/heic")
    assert photo.format == "HEIF"
    assert photo.content_type_of_original == "image/jpeg"
    assert photo.gps is not None
    assert photo.gps.latitude == pytest.approx(LUDIAN_LATITUDE, abs=1e-4)
    with Image.open(io.BytesIO(photo.stripped_original)) as stripped:
        assert stripped.format == "JPEG"
        assert stripped.size == (640, 480)
        assert not stripped.getexif()


# --- thumbnail and dHash ---------------------------------------------------------------------


def test_thumbnail_fits_the_edge_and_is_upright(visit):
    with Image.open(io.BytesIO(visit.thumbnail)) as thumbnail:
        assert thumbnail.format == "JPEG"
        assert thumbnail.size == (240, 320)  # stored 1200x900, shown portrait
        assert not thumbnail.getexif()


def test_thumbnail_is_the_picture_turned_upright(visit):
    # The same scene, rotated by hand the way orientation 6 asks, hashes the same.
    with Image.open(PHOTOS / "visit_gps.jpg") as original:
        upright = original.transpose(Image.Transpose.ROTATE_270)
        buffer = io.BytesIO()
        upright.save(buffer, "JPEG", quality=90)
    assert hamming(visit.dhash, ingest_photo(buffer.getvalue(), PhotoLimits()).dhash) <= 4


def test_small_photos_keep_their_size_as_thumbnail():
    buffer = io.BytesIO()
    Image.new("RGBA", (100, 50), (255, 0, 0, 0)).save(buffer, "PNG")
    photo = ingest_photo(buffer.getvalue(), PhotoLimits())
    with Image.open(io.BytesIO(photo.thumbnail)) as thumbnail:
        assert thumbnail.size == (100, 50)
        assert thumbnail.getpixel((50, 25))[0] > 240  # transparent shows as white, not black


def test_dhash_tells_near_duplicates_from_different_scenes():
    a = ingest_photo(fixture("same_scene_a.jpg"), PhotoLimits()).dhash
    b = ingest_photo(fixture("same_scene_b.jpg"), PhotoLimits()).dhash
    other = ingest_photo(fixture("other_scene.jpg"), PhotoLimits()).dhash
    assert 0 <= a < 2**64
    assert hamming(a, b) <= 6
    assert hamming(a, other) > 20
    assert hamming(b, other) > 20


def test_hamming_counts_differing_bits():
    assert hamming(0, 0) == 0
    assert hamming(0b1011, 0b0001) == 2
    assert hamming(2**64 - 1, 0) == 64


# --- JPEG variants the byte-level stripper must walk -----------------------------------------


def _jpeg_with_exif(orientation: int, **options) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif.get_ifd(0x8825)[1] = "N"
    with Image.open(PHOTOS / "same_scene_a.jpg") as picture:
        buffer = io.BytesIO()
        picture.save(buffer, "JPEG", quality=80, exif=exif.tobytes(), **options)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "options",
    [
        {"progressive": True},  # several scans, DHT segments between them
        {"restart_marker_blocks": 4},  # RSTn markers inside the scan data
    ],
    ids=["progressive", "restart-markers"],
)
def test_stripping_is_lossless_for_progressive_and_restart_marker_jpegs(options):
    raw = _jpeg_with_exif(3, **options)
    photo = ingest_photo(raw, PhotoLimits())
    assert entropy_coded_data(photo.stripped_original) == entropy_coded_data(raw)
    with Image.open(io.BytesIO(photo.stripped_original)) as stripped:
        assert dict(stripped.getexif()) == {0x0112: 3}
        stripped.load()


def test_mpo_keeps_only_its_first_frame():
    # Many Android phones write MPO: a JPEG, an MPF index in APP2, then a second JPEG.
    with (
        Image.open(PHOTOS / "same_scene_a.jpg") as first,
        Image.open(PHOTOS / "other_scene.jpg") as second,
    ):
        buffer = io.BytesIO()
        first.save(buffer, "MPO", save_all=True, append_images=[second])
    raw = buffer.getvalue()
    with Image.open(io.BytesIO(raw)) as check:
        assert check.format == "MPO"
    photo = ingest_photo(raw, PhotoLimits(), declared_type="image/jpeg")
    assert photo.format == "JPEG"
    assert b"MPF\0" not in photo.stripped_original
    assert photo.stripped_original.count(b"\xff\xd8") == 1
    with Image.open(io.BytesIO(photo.stripped_original)) as stripped:
        assert stripped.format == "JPEG"
        assert getattr(stripped, "n_frames", 1) == 1


@pytest.mark.parametrize("pillow_format", ["BMP", "TIFF"])
def test_formats_pillow_knows_but_we_do_not_take(pillow_format):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, pillow_format)
    with pytest.raises(PhotoRejected) as refused:
        ingest_photo(buffer.getvalue(), PhotoLimits())
    assert refused.value.slug == "photo-format-not-allowed"


def test_opening_checks_the_header_and_the_decode_checks_the_pixels():
    # A JPEG cut off mid-scan has a sound marker structure: its cleaned copy is ready before
    # the decode (the upload stores it meanwhile), and only the decode refuses it.
    with open_photo(fixture("truncated.jpg"), PhotoLimits()) as opened:
        assert opened.is_jpeg and opened.cleaned_jpeg()[:2] == b"\xff\xd8"
        with pytest.raises(PhotoRejected) as refused:
            opened.decode()
    assert refused.value.slug == "photo-truncated"
    with open_photo(fixture("visit_plain.png"), PhotoLimits()) as opened:
        assert not opened.is_jpeg  # PNG is cleaned by re-encoding its pixels
        assert opened.decode().content_type_of_original == "image/png"
