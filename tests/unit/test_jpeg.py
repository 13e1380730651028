"""The JPEG segment stripper on its own (issue 9): built JPEGs in, bytes out, no Pillow
decode needed to see what it keeps and what it drops."""

import struct

import pytest

from backend.evidence.jpeg import TruncatedJpeg, strip_jpeg


def segment(marker: int, body: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(body) + 2) + body


JFIF = segment(0xE0, b"JFIF\0" + b"\x01\x02\x00\x00\x01\x00\x01" + b"\0\0")
JFIF_WITH_THUMB = segment(0xE0, b"JFIF\0" + b"\x01\x02\x00\x00\x01\x00\x01" + b"\x01\x01"
                          + b"\x7f\x7f\x7f")
EXIF_GPS = segment(0xE1, b"Exif\0\0MM\0*secret-gps-27.19,103.56")
XMP = segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>person</x:xmpmeta>")
ICC = segment(0xE2, b"ICC_PROFILE\0\x01\x01colours")
MPF = segment(0xE2, b"MPF\0second-frame-index")
ADOBE = segment(0xEE, b"Adobe\0\x64\0\0\0\0\x01")
COMMENT = segment(0xFE, b"taken at Wang's house")
DQT = segment(0xDB, b"\x00" + bytes(range(64)))
SOF = segment(0xC0, b"\x08\x00\x10\x00\x10\x01\x01\x11\x00")
SOS = segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
SCAN = b"\x12\xff\x00\x34\xff\xd0\x56"  # stuffed FF 00 and a restart marker stay in the scan
SOI, EOI = b"\xff\xd8", b"\xff\xd9"


def jpeg(*segments: bytes, trailer: bytes = b"") -> bytes:
    return SOI + b"".join(segments) + SOS + SCAN + EOI + trailer


def test_metadata_segments_go_and_structure_and_scan_stay_byte_for_byte():
    raw = jpeg(JFIF, EXIF_GPS, XMP, ICC, MPF, ADOBE, COMMENT, DQT, SOF)
    assert strip_jpeg(raw) == jpeg(JFIF, ICC, ADOBE, DQT, SOF)


def test_the_jfif_thumbnail_is_dropped_but_jfif_kept():
    stripped = strip_jpeg(jpeg(JFIF_WITH_THUMB, DQT))
    assert stripped == jpeg(JFIF, DQT)


def test_everything_after_eoi_goes():
    raw = jpeg(JFIF, DQT, trailer=b"\x00\x00ftypmp42 motion-photo-video")
    assert strip_jpeg(raw) == jpeg(JFIF, DQT)


def test_a_missing_eoi_is_added():
    raw = SOI + JFIF + DQT + SOS + SCAN
    assert strip_jpeg(raw) == jpeg(JFIF, DQT)


def test_orientation_is_written_back_after_jfif_as_the_only_exif():
    stripped = strip_jpeg(jpeg(JFIF, EXIF_GPS, DQT), orientation=6)
    assert stripped.startswith(SOI + JFIF + b"\xff\xe1")
    app1 = stripped[len(SOI + JFIF):]
    length = struct.unpack(">H", app1[2:4])[0]
    body = app1[4:2 + length]
    assert body.startswith(b"Exif\0\0MM\0*") and b"secret" not in stripped
    assert struct.unpack(">HHIHH", body[16:28]) == (0x0112, 3, 1, 6, 0)
    assert stripped.endswith(DQT + SOS + SCAN + EOI)


def test_orientation_goes_first_when_there_is_no_jfif():
    stripped = strip_jpeg(jpeg(DQT), orientation=3)
    assert stripped.startswith(SOI + b"\xff\xe1")


@pytest.mark.parametrize("raw", [
    SOI + b"\x00garbage",
    SOI + b"\xff\xdb\x00",
    SOI + b"\xff\xdb\x00\x40\x00",
])
def test_broken_structure_is_refused(raw):
    with pytest.raises(TruncatedJpeg):
        strip_jpeg(raw)
