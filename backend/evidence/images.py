"""Ingest one untrusted photo: verify it, read its EXIF, strip its metadata, make a thumbnail.

Pure: no Flask, no SQLAlchemy, no storage. The caller hands in the uploaded bytes and gets
back either an `IngestedPhoto` or a `PhotoRejected` whose slug is stable (tests and the UI
key on it).

Everything here treats the upload as hostile: size limits come first, the pixel count is
checked from the header before a single pixel is decoded, and metadata is best-effort
(a mangled EXIF block costs us the GPS fix, never the photo).

Privacy: the original we keep for download carries no EXIF, XMP, comments, embedded
thumbnails or trailing data (Motion Photo videos, MPO second frames). GPS is read once,
here, into columns the caller controls; it must not ride along inside the picture.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import struct
import threading
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from PIL import Image, UnidentifiedImageError
from pillow_heif import register_heif_opener

from backend.evidence.jpeg import TruncatedJpeg, strip_jpeg

# Idempotent; lets Image.open identify HEIC/HEIF, which every iPhone uploads by default.
register_heif_opener()

THUMBNAIL_CONTENT_TYPE = "image/jpeg"

# The Pillow parsers an upload is offered to. The JPEG one also answers "MPO", Pillow's name
# for a JPEG followed by an MPF second frame (many Android phones); we keep the first frame.
_OPENERS = ("JPEG", "PNG", "WEBP", "HEIF")
_ALLOWED_FORMATS = {"JPEG", "MPO", "PNG", "WEBP", "HEIF"}
# Format of the original we keep -> its Content-Type.
_CONTENT_TYPE_OF_KEPT = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
_FORMATS_OF_DECLARED_TYPE = {
    "image/jpeg": {"JPEG", "MPO"},
    "image/jpg": {"JPEG", "MPO"},
    "image/pjpeg": {"JPEG", "MPO"},
    "image/png": {"PNG"},
    "image/webp": {"WEBP"},
    "image/heic": {"HEIF"},
    "image/heif": {"HEIF"},
    "image/heic-sequence": {"HEIF"},
    "image/heif-sequence": {"HEIF"},
}
# What browsers send when they do not know (Android file pickers and HEIC often do this).
_UNDECLARED_TYPES = {"", "application/octet-stream"}

# EXIF tag numbers (EXIF 2.32 / TIFF 6.0).
_TAG_MAKE = 0x010F
_TAG_MODEL = 0x0110
_TAG_ORIENTATION = 0x0112
_TAG_EXIF_IFD = 0x8769
_TAG_GPS_IFD = 0x8825
_TAG_DATETIME_ORIGINAL = 0x9003
_TAG_OFFSET_TIME_ORIGINAL = 0x9011
_GPS_LATITUDE_REF, _GPS_LATITUDE = 1, 2
_GPS_LONGITUDE_REF, _GPS_LONGITUDE = 3, 4
_GPS_ALTITUDE_REF, _GPS_ALTITUDE = 5, 6
_GPS_H_POSITIONING_ERROR = 31

# EXIF orientation -> the transpose that makes the pixels upright (as ImageOps.exif_transpose).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_QUARTER_TURNS = {5, 6, 7, 8}

# Errors Pillow's header and EXIF parsers raise on malformed input.
_PARSE_ERRORS = (
    SyntaxError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    EOFError,
    OSError,
    struct.error,
    ZeroDivisionError,
    OverflowError,
)


@dataclass(frozen=True)
class PhotoLimits:
    max_bytes: int = 15 * 1024 * 1024
    max_pixels: int = 40_000_000
    max_exif_bytes: int = 64 * 1024
    thumbnail_edge: int = 320


class PhotoRejected(Exception):
    """The upload is not a photo we keep. `slug` is stable; `detail` is for people."""

    def __init__(self, slug: str, detail: str) -> None:
        super().__init__(f"{slug}: {detail}")
        self.slug = slug
        self.detail = detail


@dataclass(frozen=True)
class GpsFix:
    latitude: float  # signed decimal degrees, north positive (WGS-84 as the phone wrote it)
    longitude: float  # signed decimal degrees, east positive
    altitude_m: float | None = None  # metres above sea level, negative below
    accuracy_m: float | None = None  # GPSHPositioningError, when the phone wrote one


@dataclass(frozen=True)
class IngestedPhoto:
    sha256: str  # hex digest of the raw upload, as received
    format: str  # what was uploaded: "JPEG", "PNG", "WEBP" or "HEIF"
    content_type_of_original: str  # of `stripped_original` (HEIF is kept as image/jpeg)
    width: int  # as displayed, i.e. after orientation
    height: int
    gps: GpsFix | None
    taken_at_local: str | None  # DateTimeOriginal as ISO 8601 without offset: the camera's clock
    taken_at_offset: str | None  # OffsetTimeOriginal, e.g. "+08:00", when the camera wrote one
    orientation: int  # EXIF orientation of the upload, 1..8
    camera: str | None  # "Make Model"
    stripped_original: bytes = field(repr=False)
    thumbnail: bytes = field(repr=False)  # JPEG, upright, longest edge <= thumbnail_edge
    dhash: int  # 64-bit difference hash of the upright picture; compare with `hamming`


@dataclass(frozen=True)
class _CaptureMetadata:
    gps: GpsFix | None = None
    taken_at_local: str | None = None
    taken_at_offset: str | None = None
    orientation: int = 1
    camera: str | None = None


def hamming(a: int, b: int) -> int:
    """Bits that differ between two dHashes: <= ~6 same scene, >= ~20 different scenes."""
    return (a ^ b).bit_count()


def ingest_photo(
    raw: bytes, limits: PhotoLimits | None = None, declared_type: str | None = None,
    sha256: str | None = None,
) -> IngestedPhoto:
    """Check and clean one uploaded photo, or raise `PhotoRejected`. ``sha256``: the bytes'
    hash when the caller has just checked it (hashing 4 MB again costs 2-3 ms a photo)."""
    with open_photo(raw, limits, declared_type, sha256) as opened:
        return opened.decode()


def open_photo(
    raw: bytes, limits: PhotoLimits | None = None, declared_type: str | None = None,
    sha256: str | None = None,
) -> OpenedPhoto:
    """The first half of `ingest_photo`: every check that reads no pixel (size, format, declared
    type, pixel count, EXIF size) and the capture metadata. A JPEG's cleaned original
    (``cleaned_jpeg()``) needs no pixel either, so a caller may store it while ``decode()``
    runs on another thread (issue 23: libjpeg releases the GIL, so the two overlap). Raises
    `PhotoRejected`; use it in a ``with`` block, which closes the image."""
    limits = limits or PhotoLimits()
    if not raw:
        raise PhotoRejected("photo-empty", "the upload has no bytes")
    if len(raw) > limits.max_bytes:
        raise PhotoRejected("photo-too-large", f"{len(raw)} bytes; the limit is {limits.max_bytes}")
    sha256 = sha256 or hashlib.sha256(raw).hexdigest()

    # Pillow *warns* (DecompressionBombWarning) between MAX_IMAGE_PIXELS and twice that, and
    # only raises above. A warning would let a bomb through with a log line, so it is made an
    # error here and turned into our own rejection. Pillow's parsers also warn (UserWarning)
    # on mangled EXIF; metadata is best-effort, so those are silenced rather than logged per
    # upload. catch_warnings is process-global before Python 3.14, so under threads this
    # filter is not a guarantee: the explicit width*height check below is what rejects bombs.
    with _pillow_warnings():
        try:
            # Only the parsers of allowed formats ever see the bytes: Pillow's other plugins
            # (EPS, PSD, FITS, ...) are attack surface we have no use for.
            img = Image.open(io.BytesIO(raw), formats=_OPENERS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise PhotoRejected("photo-too-many-pixels", str(exc)) from None
        except UnidentifiedImageError:
            other_format = _recognised_format(raw[:16])
            if other_format:
                raise PhotoRejected(
                    "photo-format-not-allowed",
                    f"{other_format}; allowed are JPEG, PNG, WebP and HEIC/HEIF",
                ) from None
            raise PhotoRejected("photo-not-an-image", "not a picture Pillow recognises") from None
        except _PARSE_ERRORS as exc:
            raise PhotoRejected("photo-not-an-image", f"unreadable header: {exc}") from None
        try:
            return _checked_header(img, raw, sha256, limits, declared_type)
        except BaseException:
            img.close()
            raise


@contextmanager
def _pillow_warnings() -> Iterator[None]:
    """Decompression-bomb warnings as errors; Pillow's mangled-EXIF warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
        yield


def _checked_header(
    img: Image.Image,
    raw: bytes,
    sha256: str,
    limits: PhotoLimits,
    declared_type: str | None,
) -> OpenedPhoto:
    real_format = img.format or ""
    if real_format not in _ALLOWED_FORMATS:
        raise PhotoRejected(
            "photo-format-not-allowed",
            f"{real_format or 'unknown'}; allowed are JPEG, PNG, WebP and HEIC/HEIF",
        )
    _check_declared_type(declared_type, real_format)
    width, height = img.size
    if width < 1 or height < 1 or width * height > limits.max_pixels:
        raise PhotoRejected(
            "photo-too-many-pixels",
            f"{width}x{height} pixels; the limit is {limits.max_pixels}",
        )
    exif_bytes = _exif_size(img)
    if exif_bytes > limits.max_exif_bytes:
        raise PhotoRejected(
            "photo-exif-too-large",
            f"{exif_bytes} bytes of EXIF; the limit is {limits.max_exif_bytes}",
        )
    metadata = _read_capture_metadata(img)
    if real_format == "HEIF":
        # libheif already applied HEIF's own rotation (irot/imir) and pillow_heif reset the
        # EXIF tag to 1 so nobody rotates twice; report what the phone wrote, rotate nothing.
        reported_orientation, orientation = _heif_orientation(img), 1
    else:
        reported_orientation = orientation = metadata.orientation
    return OpenedPhoto(img, raw, sha256, real_format, orientation, reported_orientation,
                       metadata, limits)


class OpenedPhoto:
    """An upload whose header and metadata passed every check; `decode` reads its pixels."""

    def __init__(self, img: Image.Image, raw: bytes, sha256: str, real_format: str,
                 orientation: int, reported_orientation: int, metadata: _CaptureMetadata,
                 limits: PhotoLimits) -> None:
        self._img = img
        self._raw = raw
        self._sha256 = sha256
        self._real_format = real_format
        self._orientation = orientation
        self._reported_orientation = reported_orientation
        self._metadata = metadata
        self._limits = limits
        self._cleaned: bytes | None = None
        self._cleaning = threading.Lock()
        # JPEG is cleaned without decoding (cleaned_jpeg); PNG, WebP and HEIF are cleaned by
        # re-encoding their decoded pixels.
        self.is_jpeg = real_format in {"JPEG", "MPO"}

    def cleaned_jpeg(self) -> bytes:
        """A JPEG's original without its metadata, by byte surgery on the marker structure: no
        pixel is read, so a caller may store it while `decode` runs on another thread. A scan
        cut off part-way still passes here; the decode then refuses it, and a caller that
        stored this copy deletes it (evidence.service). Raises `PhotoRejected`."""
        with self._cleaning:  # made once, by whichever of the two threads asks first
            if self._cleaned is None:
                try:
                    self._cleaned = strip_jpeg(self._raw, self._orientation)
                except TruncatedJpeg as broken:
                    raise PhotoRejected("photo-truncated", str(broken)) from broken
            return self._cleaned

    def __enter__(self) -> OpenedPhoto:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._img.close()

    def decode(self) -> IngestedPhoto:
        """Decode the pixels, make the thumbnail and the dHash; raises `PhotoRejected` for a
        picture cut off or broken part-way. Safe to call from a helper thread."""
        with _pillow_warnings():
            return self._decoded()

    def _decoded(self) -> IngestedPhoto:
        img, real_format, orientation = self._img, self._real_format, self._orientation
        is_jpeg = self.is_jpeg
        edge = self._limits.thumbnail_edge
        width, height = img.size
        if is_jpeg:
            # Let libjpeg scale while decoding (1/2..1/8): a 12 MP photo becomes 500x375
            # without an IDCT at full size. It still reads every entropy-coded byte, so a
            # cut-off upload fails here. libjpeg does not rotate; that is done below, on the
            # small picture.
            img.draft("RGB", (edge, edge))
        try:
            img.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise PhotoRejected("photo-too-many-pixels", str(exc)) from None
        except _PARSE_ERRORS as exc:
            raise PhotoRejected("photo-truncated", f"decoding failed part-way: {exc}") from None

        upright = img.transpose(_UPRIGHT[orientation]) if orientation in _UPRIGHT else img
        icc_profile = img.info.get("icc_profile")
        thumbnail_picture = _fit_within(_flatten_to_rgb(upright), edge)
        thumbnail = _encode_jpeg(thumbnail_picture, quality=80, icc_profile=icc_profile)
        dhash = _dhash(thumbnail_picture)

        if is_jpeg:
            stripped, kept_format = self.cleaned_jpeg(), "JPEG"
        elif real_format == "HEIF":
            # Browsers cannot show HEIC, so the kept original is a JPEG.
            stripped = _encode_jpeg(_flatten_to_rgb(upright), quality=90, icc_profile=icc_profile)
            kept_format = "JPEG"
        else:
            stripped = _reencode_without_metadata(upright, real_format, icc_profile)
            kept_format = real_format

        shown_width, shown_height = (
            (height, width) if orientation in _QUARTER_TURNS else (width, height)
        )
        metadata = self._metadata
        return IngestedPhoto(
            sha256=self._sha256,
            format="JPEG" if is_jpeg else real_format,
            content_type_of_original=_CONTENT_TYPE_OF_KEPT[kept_format],
            width=shown_width,
            height=shown_height,
            gps=metadata.gps,
            taken_at_local=metadata.taken_at_local,
            taken_at_offset=metadata.taken_at_offset,
            orientation=self._reported_orientation,
            camera=metadata.camera,
            stripped_original=stripped,
            thumbnail=thumbnail,
            dhash=dhash,
        )


def _recognised_format(prefix: bytes) -> str | None:
    """The format another Pillow plugin claims by its magic bytes, without parsing further."""
    Image.init()
    for name, (_factory, accept) in Image.OPEN.items():
        if name not in _ALLOWED_FORMATS and accept is not None and accept(prefix):
            return name
    return None


def _check_declared_type(declared_type: str | None, real_format: str) -> None:
    if declared_type is None:
        return
    media_type = declared_type.split(";", 1)[0].strip().lower()
    if media_type in _UNDECLARED_TYPES:
        return
    if real_format not in _FORMATS_OF_DECLARED_TYPE.get(media_type, set()):
        raise PhotoRejected(
            "photo-type-mismatch", f"sent as {media_type} but the bytes are {real_format}"
        )


def _exif_size(img: Image.Image) -> int:
    """Bytes of EXIF the file carries, before anything parses them.

    A JPEG APP1 segment holds at most 65,533 bytes, so one EXIF block can never pass 64 KiB;
    a file can only carry more by repeating Exif APP1 segments, and that total is what counts.
    XMP is not counted: we never parse it, only drop it, and depth-map XMP is legitimately big.
    """
    applist = getattr(img, "applist", None)
    if applist is not None:
        return sum(
            len(body) for marker, body in applist if marker == "APP1" and body[:6] == b"Exif\0\0"
        )
    exif = img.info.get("exif") or b""
    raw_profile = img.info.get("Raw profile type exif") or ""  # PNG's pre-eXIf convention
    return len(exif) + len(raw_profile)


def _read_capture_metadata(img: Image.Image) -> _CaptureMetadata:
    try:
        exif = img.getexif()
        orientation = exif.get(_TAG_ORIENTATION, 1)
        exif_ifd = exif.get_ifd(_TAG_EXIF_IFD)
        gps_ifd = exif.get_ifd(_TAG_GPS_IFD)
        make, model = exif.get(_TAG_MAKE), exif.get(_TAG_MODEL)
    except _PARSE_ERRORS:
        return _CaptureMetadata()
    taken_at_local = _exif_datetime(exif_ifd.get(_TAG_DATETIME_ORIGINAL))
    return _CaptureMetadata(
        gps=_gps_fix(gps_ifd),
        taken_at_local=taken_at_local,
        taken_at_offset=_exif_offset(exif_ifd.get(_TAG_OFFSET_TIME_ORIGINAL))
        if taken_at_local
        else None,
        orientation=orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else 1,
        camera=_camera(make, model),
    )


def _heif_orientation(img: Image.Image) -> int:
    original = img.info.get("original_orientation")
    return original if isinstance(original, int) and 1 <= original <= 8 else 1


def _ascii(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return value.strip("\x00 ") if isinstance(value, str) else ""


def _exif_datetime(value: Any) -> str | None:
    """'2026:11:20 10:15:00' -> '2026-11-20T10:15:00'; anything else (incl. blanks) -> None."""
    try:
        return datetime.strptime(_ascii(value), "%Y:%m:%d %H:%M:%S").isoformat()
    except ValueError:
        return None


_OFFSET = re.compile(r"[+-](?:[01]\d|2[0-3]):[0-5]\d")


def _exif_offset(value: Any) -> str | None:
    text = _ascii(value)
    return text if _OFFSET.fullmatch(text) else None


def _camera(make: Any, model: Any) -> str | None:
    make_text, model_text = _ascii(make), _ascii(model)
    if model_text.lower().startswith(make_text.lower()):  # "Canon" + "Canon EOS R6"
        make_text = ""
    camera = " ".join(part for part in (make_text, model_text) if part)
    camera = "".join(ch for ch in camera if ch.isprintable())[:100]
    return camera or None


def _gps_fix(gps: Mapping[int, Any]) -> GpsFix | None:
    latitude = _signed_degrees(gps.get(_GPS_LATITUDE), gps.get(_GPS_LATITUDE_REF), "N", "S", 90)
    longitude = _signed_degrees(gps.get(_GPS_LONGITUDE), gps.get(_GPS_LONGITUDE_REF), "E", "W", 180)
    if latitude is None or longitude is None:
        return None
    # Phones without a fix write zeros; no household lives at 0°N 0°E.
    if latitude == 0 and longitude == 0:
        return None
    altitude = _finite(gps.get(_GPS_ALTITUDE))
    if altitude is not None and gps.get(_GPS_ALTITUDE_REF) in (1, b"\x01"):
        altitude = -altitude
    accuracy = _finite(gps.get(_GPS_H_POSITIONING_ERROR))
    return GpsFix(
        latitude=latitude,
        longitude=longitude,
        altitude_m=altitude,
        accuracy_m=accuracy if accuracy is not None and accuracy >= 0 else None,
    )


def _signed_degrees(
    value: Any, ref: Any, positive: str, negative: str, bound: float
) -> float | None:
    """EXIF degrees/minutes/seconds rationals plus a N/S or E/W ref -> signed decimal degrees."""
    if not isinstance(value, tuple) or not 1 <= len(value) <= 3:
        return None
    degrees = 0.0
    for position, part in enumerate(value):  # degrees, then minutes, then seconds
        number = _finite(part)
        if number is None or number < 0:
            return None
        degrees += number / 60**position
    side = _ascii(ref).upper()
    if side == negative:
        degrees = -degrees
    elif side != positive:
        return None  # without a ref the sign is a guess, and a wrong hemisphere is worse than none
    return degrees if abs(degrees) <= bound else None


def _finite(value: Any) -> float | None:
    try:
        number = float(value)  # IFDRational, int or float; x/0 rationals come out as NaN
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) else None


def _flatten_to_rgb(picture: Image.Image) -> Image.Image:
    """RGB for JPEG output; transparency goes onto white, as a browser shows it on our pages."""
    has_alpha = picture.mode in {"RGBA", "LA", "PA", "RGBa", "La"} or (
        picture.mode == "P" and "transparency" in picture.info
    )
    if has_alpha:
        rgba = picture.convert("RGBA")
        white = Image.new("RGB", rgba.size, "white")
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return picture if picture.mode == "RGB" else picture.convert("RGB")


def _fit_within(picture: Image.Image, edge: int) -> Image.Image:
    width, height = picture.size
    scale = edge / max(width, height)
    if scale >= 1:
        return picture
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # Bicubic, as Image.thumbnail does: at 320 px it is indistinguishable from Lanczos and
    # half the cost (a JPEG arrives here already at 1/8 scale, so this is a small step).
    # reducing_gap box-reduces a full-size PNG or HEIC by an integer factor first.
    return picture.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0)


def _dhash(picture: Image.Image) -> int:
    """64-bit difference hash: 9x8 grey, one bit per horizontally adjacent pair.

    Taken from the upright thumbnail so the same scene hashes alike whatever resolution or
    format it arrived in. BOX averages whole areas, which is what makes a re-encode or a
    resize of the same scene land within a few bits.
    """
    grey = picture.convert("L").resize((9, 8), Image.Resampling.BOX)
    pixels = grey.tobytes()
    value = 0
    for row in range(8):
        for col in range(8):
            left = pixels[row * 9 + col]
            value = (value << 1) | (left > pixels[row * 9 + col + 1])
    return value


def _encode_jpeg(picture: Image.Image, quality: int, icc_profile: bytes | None) -> bytes:
    buffer = io.BytesIO()
    # Only an RGB profile describes RGB output (a CMYK JPEG's profile would be wrong here).
    icc = icc_profile if icc_profile and icc_profile[16:20] == b"RGB " else None
    picture.save(buffer, "JPEG", quality=quality, icc_profile=icc, exif=b"")
    return buffer.getvalue()


def _reencode_without_metadata(
    picture: Image.Image, real_format: str, icc_profile: bytes | None
) -> bytes:
    """PNG and WebP cannot be cleaned losslessly as cheaply as JPEG, so they are re-encoded.

    Pillow writes text chunks, EXIF and XMP only when asked (pnginfo=, exif=, xmp=), and we
    ask for none. The ICC profile is kept: it describes colours, not people.
    """
    buffer = io.BytesIO()
    if real_format == "PNG":
        # PNG is lossless, so keep the mode (16-bit, palette, alpha) as it came.
        picture.save(buffer, "PNG", exif=b"", icc_profile=icc_profile)
    else:
        if picture.mode not in {"RGB", "RGBA"}:
            picture = picture.convert("RGBA" if "A" in picture.mode else "RGB")
        # Only the first frame of an animated WebP is kept: this is a photo, not a clip.
        picture.save(buffer, "WEBP", quality=90, exif=b"", xmp=b"", icc_profile=icc_profile or "")
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# Lossless JPEG metadata stripping.
#
