"""Remove metadata from a JPEG without re-encoding it: the segment stripper.

Pure byte surgery (no Pillow): the caller has already decoded the photo, so it is a JPEG
whose pixels are sound; this keeps its scan data byte for byte and drops what may identify
a person or a place beyond the picture (EXIF GPS, XMP, maker notes, appended videos).
"""

from __future__ import annotations

import re
import struct

_TAG_ORIENTATION = 0x0112


class TruncatedJpeg(ValueError):
    """The JPEG's marker structure is broken (cut off, or garbage between segments)."""


# A JPEG is a list of marker segments (FF xx, then a two-byte length that counts itself),
# except that each SOS header is followed by entropy-coded scan data whose only FF bytes are
# FF 00 (a stuffed FF) or FF D0..D7 (restart markers). We copy the structural segments and
# the scan data byte for byte and leave out the metadata ones, so no pixel is re-encoded.

# First marker after a scan: FF followed by anything other than 00 (stuffing) or RSTn.
_END_OF_SCAN = re.compile(rb"\xff[^\x00\xd0-\xd7]")
_SOS, _EOI, _APP0, _APP2, _APP14, _COM = 0xDA, 0xD9, 0xE0, 0xE2, 0xEE, 0xFE


def strip_jpeg(raw: bytes, orientation: int = 1) -> bytes:
    """Drop EXIF, XMP, comments, MPF, maker segments and trailing data; keep the pixels.

    Kept: JFIF APP0 (its embedded thumbnail zeroed: a thumbnail can show what a crop hid),
    ICC_PROFILE APP2 (colours, not people), Adobe APP14 (its transform flag decides how the
    decoder reads the colour channels; dropping it changes the colours), and every
    non-APP segment (DQT, SOFn, DHT, DRI, SOS, ...). Everything after EOI goes: that is where
    phones append Motion Photo videos and MPO second frames. An ``orientation`` other than 1
    is written back as the only EXIF tag (after JFIF APP0, which must come first).
    Raises TruncatedJpeg when the marker structure is broken.
    """
    view = memoryview(raw)
    parts: list[bytes | memoryview] = [b"\xff\xd8"]
    orientation_segment = _orientation_app1(orientation) if orientation != 1 else None
    if orientation_segment is not None and not _has_jfif_first(raw):
        parts.append(orientation_segment)
        orientation_segment = None
    pos, end = 2, len(raw)
    while pos < end:
        if raw[pos] != 0xFF:
            raise TruncatedJpeg(f"JPEG structure broken at byte {pos}")
        while pos < end and raw[pos] == 0xFF:  # fill bytes may pad before any marker
            pos += 1
        if pos >= end:
            break
        marker = raw[pos]
        pos += 1
        if marker == _EOI:
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # stand-alone markers, no length
            parts.append(bytes((0xFF, marker)))
            continue
        if pos + 2 > end:
            raise TruncatedJpeg("JPEG segment header cut off")
        length = int.from_bytes(raw[pos : pos + 2], "big")
        if length < 2 or pos + length > end:
            raise TruncatedJpeg("JPEG segment runs past the end of the file")
        segment = view[pos - 2 : pos + length]  # from FF, the last byte before the marker
        pos += length
        if marker == _SOS:
            parts.append(segment)
            scan_end = _END_OF_SCAN.search(raw, pos)
            stop = scan_end.start() if scan_end else end
            parts.append(view[pos:stop])
            pos = stop
            continue
        kept = _kept_segment(marker, segment)
        if kept is not None:
            parts.append(kept)
            if marker == _APP0 and orientation_segment is not None:
                parts.append(orientation_segment)
                orientation_segment = None
    # A JPEG that decoded but lacks EOI (a few cheap cameras) gets one; decoders want it.
    parts.append(b"\xff\xd9")
    return b"".join(parts)


def _kept_segment(marker: int, segment: memoryview) -> memoryview | bytes | None:
    """The segment to keep (possibly rewritten), or None to drop it."""
    body = segment[4:]
    if marker == _APP0:
        if body[:5] != b"JFIF\0" or len(body) < 14:
            return None  # JFXX thumbnails, AVI1 and friends
        if body[12:14] == b"\0\0" and len(body) == 14:
            return segment
        return _segment(marker, bytes(body[:12]) + b"\0\0")  # JFIF without its thumbnail
    if marker == _APP2:
        return segment if body[:12] == b"ICC_PROFILE\0" else None
    if marker == _APP14:
        return segment if body[:5] == b"Adobe" else None
    if 0xE1 <= marker <= 0xEF or marker == _COM:
        return None
    return segment


def _segment(marker: int, body: bytes | memoryview) -> bytes:
    return bytes((0xFF, marker)) + (len(body) + 2).to_bytes(2, "big") + bytes(body)


def _has_jfif_first(raw: bytes) -> bool:
    return raw[2:4] == b"\xff\xe0" and raw[6:11] == b"JFIF\0"


def _orientation_app1(orientation: int) -> bytes:
    """The smallest EXIF APP1 that says only which way is up (32 bytes of payload).

    Written by hand because Pillow has no way to put EXIF into a JPEG without re-encoding the
    pixels (its only JPEG writer is the libjpeg compressor), and re-encoding a 12 MP photo
    costs time and quality. Layout: "Exif\\0\\0", a big-endian TIFF header pointing at IFD0
    at offset 8, IFD0 with one entry (Orientation, SHORT, count 1, value left-justified in
    the 4-byte field), and a zero next-IFD offset.
    """
    tiff = (
        b"MM\x00\x2a"
        + struct.pack(">I", 8)
        + struct.pack(">H", 1)
        + struct.pack(">HHIHH", _TAG_ORIENTATION, 3, 1, orientation, 0)
        + struct.pack(">I", 0)
    )
    return _segment(0xE1, b"Exif\0\0" + tiff)
