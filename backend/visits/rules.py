"""Pure rules for home visits (入户调查): integrity flags and two-investigator attestation.

No Flask, no SQLAlchemy: the service layer loads the visit, calls these functions and stores
what they return.

Sources (see shared DOMAIN.md):
- 004: a home visit is made by **at least 2 staff** to **100%** of applicant households.
- 002/004: 谁调查谁签字谁负责: whoever investigates signs the survey and answers for it, so
  both investigators attest the submission with their own device key.
- 003: 全程留痕 (a full trace of the visit): GPS stamps, photos and device clocks are kept as
  evidence.

Integrity flags never block anything: they are evidence for the reviewer (初审), who decides.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from geopy.distance import geodesic

LatLon = tuple[float, float]
StampKind = Literal["start", "end", "photo"]
Severity = Literal["info", "warning", "alert"]

STAMP_KINDS: frozenset[str] = frozenset({"start", "end", "photo"})

# Two stamps from different devices are compared only when they were captured at about the
# same time: the closest-in-time pair of the two devices, if it is at most this far apart.
TEAM_PAIR_WINDOW = timedelta(minutes=15)
# Consecutive stamps of one device closer in time than this, and closer in space than
# SPEED_JITTER_M, are GPS jitter, not movement: they are left out of the speed check.
SPEED_MIN_INTERVAL = timedelta(seconds=5)
SPEED_JITTER_M = 50.0


# --------------------------------------------------------------------------------------------
# Inputs and outputs
# --------------------------------------------------------------------------------------------


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")


@dataclass(frozen=True)
class GpsStamp:
    """A position the device recorded during the visit (its claim, hence ``captured_at``)."""

    lat: float
    lon: float
    accuracy_m: float | None
    captured_at: datetime
    kind: StampKind
    device_id: str | None = None
    user_id: str | None = None

    def __post_init__(self) -> None:
        _require_aware("captured_at", self.captured_at)
        if self.kind not in STAMP_KINDS:
            raise ValueError(f"kind must be one of {sorted(STAMP_KINDS)}, not {self.kind!r}")

    @property
    def point(self) -> LatLon:
        return (self.lat, self.lon)


@dataclass(frozen=True)
class PhotoEvidence:
    """A photo's identity and what its EXIF says.

    ``taken_at`` is EXIF DateTimeOriginal made timezone-aware by the caller (with
    OffsetTimeOriginal when present, else the jurisdiction's time zone, Asia/Shanghai).
    """

    sha256: str
    gps: LatLon | None
    taken_at: datetime | None

    def __post_init__(self) -> None:
        if self.taken_at is not None:
            _require_aware("taken_at", self.taken_at)


@dataclass(frozen=True)
class IntegrityThresholds:
    """Per-jurisdiction settings for the integrity checks; the defaults are the shipped ones.

    - ``max_home_distance_m`` (500): a stamp farther than this from the registered home.
    - ``max_accuracy_m`` (100): a stamp whose reported accuracy radius is larger than this.
    - ``min_visit_minutes`` (10): a visit shorter than this from first start to last end.
    - ``max_team_distance_m`` (200): two investigators' devices farther apart than this.
    - ``max_clock_skew_minutes`` (10): device clock vs the server's clock at receipt.
    - ``max_photo_distance_m`` (500): photo EXIF position vs home (or the start stamp).
    - ``max_photo_time_gap_minutes`` (60): photo EXIF time outside the visit by more than this.
    - ``max_speed_kmh`` (150): faster than this between two stamps of one device.

    Every comparison is strict: a value equal to the threshold raises no flag.
    """

    max_home_distance_m: float = 500
    max_accuracy_m: float = 100
    min_visit_minutes: float = 10
    max_team_distance_m: float = 200
    max_clock_skew_minutes: float = 10
    max_photo_distance_m: float = 500
    max_photo_time_gap_minutes: float = 60
    max_speed_kmh: float = 150


@dataclass(frozen=True)
class Flag:
    """One piece of evidence for the reviewer. ``code`` is a stable slug the UI translates."""

    code: str
    severity: Severity
    detail_zh: str
    detail_en: str
    data: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def distance_m(a: LatLon, b: LatLon) -> float:
    """Geodesic (WGS-84) distance in metres."""
    return float(geodesic(a, b).meters)


def _metres(value: float) -> float:
    return round(value, 1)


def _stamp_ref(index: int, stamp: GpsStamp) -> dict[str, Any]:
    return {
        "stamp_index": index,
        "kind": stamp.kind,
        "captured_at": stamp.captured_at.isoformat(),
        "device_id": stamp.device_id,
        "user_id": stamp.user_id,
    }


def _source_key(stamp: GpsStamp) -> tuple[str, str] | None:
    """Which device a stamp came from: the device id, else the user id, else unknown."""
    if stamp.device_id:
        return ("device", stamp.device_id)
    if stamp.user_id:
        return ("user", stamp.user_id)
    return None


def visit_window(stamps: Sequence[GpsStamp]) -> tuple[datetime | None, datetime | None]:
    """The visit runs from the earliest ``start`` stamp to the latest ``end`` stamp.

    With two investigators each device may stamp start and end; the visit covers them all.
    """
    starts = [s.captured_at for s in stamps if s.kind == "start"]
    ends = [s.captured_at for s in stamps if s.kind == "end"]
    return (min(starts) if starts else None, max(ends) if ends else None)


# --------------------------------------------------------------------------------------------
# Checks: each returns the flags it raises
# --------------------------------------------------------------------------------------------


def check_home_known(home: LatLon | None) -> list[Flag]:
    if home is not None:
        return []
    return [
        Flag(
            "home-location-unknown",
            "info",
            "该户尚无登记位置，本次入户的位置将作为其登记位置。",
            "The household has no registered location; this visit will set it.",
        )
    ]


def check_start_end_present(stamps: Sequence[GpsStamp]) -> list[Flag]:
    flags = []
    kinds = {s.kind for s in stamps}
    if "start" not in kinds:
        flags.append(
            Flag(
                "missing-start-stamp",
                "warning",
                "缺少入户开始定位。",
                "The visit has no start GPS stamp.",
            )
        )
    if "end" not in kinds:
        flags.append(
            Flag(
                "missing-end-stamp",
                "warning",
                "缺少入户结束定位。",
                "The visit has no end GPS stamp.",
            )
        )
    return flags


def check_visit_duration(stamps: Sequence[GpsStamp], thresholds: IntegrityThresholds) -> list[Flag]:
    started_at, ended_at = visit_window(stamps)
    if started_at is None or ended_at is None:
        return []
    data = {"started_at": started_at.isoformat(), "ended_at": ended_at.isoformat()}
    if ended_at < started_at:
        return [
            Flag(
                "visit-end-before-start",
                "alert",
                "结束定位时间早于开始定位时间。",
                "The end stamp is earlier than the start stamp.",
                data,
            )
        ]
    minutes = (ended_at - started_at).total_seconds() / 60
    if minutes < thresholds.min_visit_minutes:
        return [
            Flag(
                "visit-too-short",
                "warning",
                f"入户时长 {minutes:.1f} 分钟，少于 {thresholds.min_visit_minutes:g} 分钟。",
                f"The visit lasted {minutes:.1f} min, under {thresholds.min_visit_minutes:g} min.",
                {
                    **data,
                    "minutes": round(minutes, 2),
                    "threshold_minutes": thresholds.min_visit_minutes,
                },
            )
        ]
    return []


def check_stamps_near_home(
    home: LatLon | None, stamps: Sequence[GpsStamp], thresholds: IntegrityThresholds
) -> list[Flag]:
    if home is None:
        return []
    flags = []
    for index, stamp in enumerate(stamps):
        metres = distance_m(home, stamp.point)
        if metres > thresholds.max_home_distance_m:
            flags.append(
                Flag(
                    "stamp-far-from-home",
                    "alert",
                    f"定位距登记住址 {metres:.0f} 米，超过 {thresholds.max_home_distance_m:g} 米。",
                    f"Stamp is {metres:.0f} m from the registered home, "
                    f"over {thresholds.max_home_distance_m:g} m.",
                    {
                        **_stamp_ref(index, stamp),
                        "distance_m": _metres(metres),
                        "threshold_m": thresholds.max_home_distance_m,
                    },
                )
            )
    return flags


def check_stamp_accuracy(stamps: Sequence[GpsStamp], thresholds: IntegrityThresholds) -> list[Flag]:
    flags = []
    for index, stamp in enumerate(stamps):
        if stamp.accuracy_m is not None and stamp.accuracy_m > thresholds.max_accuracy_m:
            flags.append(
                Flag(
                    "stamp-accuracy-poor",
                    "warning",
                    f"定位精度 {stamp.accuracy_m:.0f} 米，差于 {thresholds.max_accuracy_m:g} 米。",
                    f"Stamp accuracy is {stamp.accuracy_m:.0f} m, "
                    f"worse than {thresholds.max_accuracy_m:g} m.",
                    {
                        **_stamp_ref(index, stamp),
                        "accuracy_m": stamp.accuracy_m,
                        "threshold_m": thresholds.max_accuracy_m,
                    },
                )
            )
    return flags


def check_team_together(stamps: Sequence[GpsStamp], thresholds: IntegrityThresholds) -> list[Flag]:
    """Both investigators were there (004: at least 2 staff): their devices stayed together.

    For each pair of devices (device id, else user id; stamps with neither are skipped) take
    the closest-in-time pair of stamps, one from each. If they are at most TEAM_PAIR_WINDOW
    apart in time and more than ``max_team_distance_m`` apart in space, raise a flag.
    """
    by_source: dict[tuple[str, str], list[tuple[int, GpsStamp]]] = {}
    for index, stamp in enumerate(stamps):
        key = _source_key(stamp)
        if key is not None:
            by_source.setdefault(key, []).append((index, stamp))
    sources = sorted(by_source)
    flags = []
    for i, source_a in enumerate(sources):
        for source_b in sources[i + 1 :]:
            (index_a, a), (index_b, b) = min(
                ((pa, pb) for pa in by_source[source_a] for pb in by_source[source_b]),
                key=lambda pair: (
                    abs(pair[0][1].captured_at - pair[1][1].captured_at),
                    pair[0][0],
                    pair[1][0],
                ),
            )
            gap = abs(a.captured_at - b.captured_at)
            if gap > TEAM_PAIR_WINDOW:
                continue
            metres = distance_m(a.point, b.point)
            if metres > thresholds.max_team_distance_m:
                flags.append(
                    Flag(
                        "team-devices-far-apart",
                        "alert",
                        f"两名调查员的设备在同一时段相距 {metres:.0f} 米，"
                        f"超过 {thresholds.max_team_distance_m:g} 米。",
                        f"The two investigators' devices were {metres:.0f} m apart at about the "
                        f"same time, over {thresholds.max_team_distance_m:g} m.",
                        {
                            "stamp_a": _stamp_ref(index_a, a),
                            "stamp_b": _stamp_ref(index_b, b),
                            "distance_m": _metres(metres),
                            "seconds_apart": gap.total_seconds(),
                            "threshold_m": thresholds.max_team_distance_m,
                        },
                    )
                )
    return flags


def check_location_mocking(
    stamps: Sequence[GpsStamp], thresholds: IntegrityThresholds
) -> list[Flag]:
    """Signs of a mock-location app: accuracy exactly 0, or impossible speed.

    Speed is measured between consecutive stamps (by ``captured_at``) of the same device; two
    devices are compared by ``check_team_together`` instead. A pair less than
    SPEED_MIN_INTERVAL apart and less than SPEED_JITTER_M apart is GPS jitter and is skipped.
    """
    flags = []
    for index, stamp in enumerate(stamps):
        if stamp.accuracy_m == 0:
            flags.append(
                Flag(
                    "location-possibly-mocked",
                    "alert",
                    "定位精度为 0 米，真实定位不会如此，可能为模拟定位。",
                    "The stamp reports an accuracy of exactly 0 m, which real GPS never does.",
                    {**_stamp_ref(index, stamp), "reason": "zero-accuracy"},
                )
            )
    by_source: dict[tuple[str, str] | None, list[tuple[int, GpsStamp]]] = {}
    for index, stamp in enumerate(stamps):
        by_source.setdefault(_source_key(stamp), []).append((index, stamp))
    for _source, members in sorted(by_source.items(), key=lambda item: item[1][0][0]):
        ordered = sorted(members, key=lambda pair: (pair[1].captured_at, pair[0]))
        for (index_a, a), (index_b, b) in zip(ordered, ordered[1:], strict=False):
            seconds = (b.captured_at - a.captured_at).total_seconds()
            metres = distance_m(a.point, b.point)
            if seconds < SPEED_MIN_INTERVAL.total_seconds() and metres < SPEED_JITTER_M:
                continue
            speed_kmh = None if seconds == 0 else metres / seconds * 3.6
            if speed_kmh is None or speed_kmh > thresholds.max_speed_kmh:
                shown = "∞" if speed_kmh is None else f"{speed_kmh:.0f}"
                flags.append(
                    Flag(
                        "location-possibly-mocked",
                        "alert",
                        f"相邻两次定位间速度 {shown} 公里/小时，"
                        f"超过 {thresholds.max_speed_kmh:g} 公里/小时，可能为模拟定位。",
                        f"Speed between consecutive stamps is {shown} km/h, "
                        f"over {thresholds.max_speed_kmh:g} km/h.",
                        {
                            "reason": "impossible-speed",
                            "stamp_a": _stamp_ref(index_a, a),
                            "stamp_b": _stamp_ref(index_b, b),
                            "distance_m": _metres(metres),
                            "seconds_apart": seconds,
                            "speed_kmh": None if speed_kmh is None else round(speed_kmh, 1),
                            "threshold_kmh": thresholds.max_speed_kmh,
                        },
                    )
                )
    return flags


def check_device_clock(
    received_at: datetime, device_sent_at: datetime | None, thresholds: IntegrityThresholds
) -> list[Flag]:
    """Compare the device's clock with the server's at the moment of the push.

    Every push carries ``sent_at``: the device's clock when it sent the push (not when it
    captured the data, which may be days earlier when offline). The push arrives within
    seconds, so ``sent_at`` vs ``received_at`` measures the device clock's error; a wrong
    clock makes every ``captured_at`` of that device doubtful. No ``sent_at``: no check.
    """
    if device_sent_at is None:
        return []
    _require_aware("device_sent_at", device_sent_at)
    skew = (device_sent_at - received_at).total_seconds()
    minutes = abs(skew) / 60
    if minutes <= thresholds.max_clock_skew_minutes:
        return []
    return [
        Flag(
            "device-clock-skew",
            "warning",
            f"设备时钟与服务器相差 {minutes:.1f} 分钟，"
            f"超过 {thresholds.max_clock_skew_minutes:g} 分钟。",
            f"The device clock is {minutes:.1f} min off the server's, "
            f"over {thresholds.max_clock_skew_minutes:g} min.",
            {
                "device_sent_at": device_sent_at.isoformat(),
                "received_at": received_at.isoformat(),
                "skew_seconds": skew,
                "threshold_minutes": thresholds.max_clock_skew_minutes,
            },
        )
    ]


def check_photos(
    home: LatLon | None,
    stamps: Sequence[GpsStamp],
    photos: Sequence[PhotoEvidence],
    thresholds: IntegrityThresholds,
) -> list[Flag]:
    """Photo EXIF vs the visit: place (home, else the first start stamp) and time window."""
    started_at, ended_at = visit_window(stamps)
    reference: LatLon | None = home
    reference_kind = "home"
    if reference is None:
        starts = sorted((s for s in stamps if s.kind == "start"), key=lambda s: s.captured_at)
        reference = starts[0].point if starts else None
        reference_kind = "start-stamp"
    window_from = started_at or ended_at
    window_to = ended_at or started_at
    gap = timedelta(minutes=thresholds.max_photo_time_gap_minutes)
    flags = []
    for photo in photos:
        if photo.gps is None:
            flags.append(
                Flag(
                    "photo-no-exif-location",
                    "info",
                    "照片不含 EXIF 位置信息。",
                    "The photo has no EXIF location.",
                    {"sha256": photo.sha256},
                )
            )
        elif reference is not None:
            metres = distance_m(reference, photo.gps)
            if metres > thresholds.max_photo_distance_m:
                where_zh = "登记住址" if reference_kind == "home" else "开始定位"
                where_en = "the registered home" if reference_kind == "home" else "the start stamp"
                flags.append(
                    Flag(
                        "photo-far-from-visit",
                        "warning",
                        f"照片拍摄位置距{where_zh} {metres:.0f} 米，"
                        f"超过 {thresholds.max_photo_distance_m:g} 米。",
                        f"The photo was taken {metres:.0f} m from {where_en}, "
                        f"over {thresholds.max_photo_distance_m:g} m.",
                        {
                            "sha256": photo.sha256,
                            "reference": reference_kind,
                            "distance_m": _metres(metres),
                            "threshold_m": thresholds.max_photo_distance_m,
                        },
                    )
                )
        if photo.taken_at is not None and window_from is not None and window_to is not None:
            low, high = min(window_from, window_to), max(window_from, window_to)
            if photo.taken_at < low - gap or photo.taken_at > high + gap:
                outside = low - photo.taken_at if photo.taken_at < low else photo.taken_at - high
                minutes = outside.total_seconds() / 60
                flags.append(
                    Flag(
                        "photo-time-outside-visit",
                        "warning",
                        f"照片拍摄时间在入户时段外 {minutes:.0f} 分钟，"
                        f"超过 {thresholds.max_photo_time_gap_minutes:g} 分钟。",
                        f"The photo was taken {minutes:.0f} min outside the visit, "
                        f"over {thresholds.max_photo_time_gap_minutes:g} min.",
                        {
                            "sha256": photo.sha256,
                            "taken_at": photo.taken_at.isoformat(),
                            "minutes_outside": round(minutes, 2),
                            "threshold_minutes": thresholds.max_photo_time_gap_minutes,
                        },
                    )
                )
    return flags


def reused_photo_flag(sha256: str, other_household_id: str, distance: int) -> Flag:
    """The caller found this photo (by dHash, ``distance`` bits apart) in another household."""
    return Flag(
        "photo-reused-other-household",
        "alert",
        "该照片与另一户的照片相同或高度相似。",
        "This photo matches a photo of another household.",
        {"sha256": sha256, "other_household_id": other_household_id, "dhash_distance": distance},
    )


def integrity_flags(
    home: LatLon | None,
    stamps: Sequence[GpsStamp],
    photos: Sequence[PhotoEvidence],
    received_at: datetime,
    device_captured_at: datetime | None,
    thresholds: IntegrityThresholds | None = None,
) -> list[Flag]:
    """Every integrity flag of one visit submission, in a stable order.

    ``home`` is the household's registered location, ``received_at`` the server's clock when
    the push arrived, and ``device_captured_at`` the device's clock when it sent the push (the
    push's ``sent_at``; see ``check_device_clock``).
    """
    _require_aware("received_at", received_at)
    limits = thresholds or IntegrityThresholds()
    return [
        *check_home_known(home),
        *check_start_end_present(stamps),
        *check_visit_duration(stamps, limits),
        *check_stamps_near_home(home, stamps, limits),
        *check_stamp_accuracy(stamps, limits),
        *check_team_together(stamps, limits),
        *check_location_mocking(stamps, limits),
        *check_device_clock(received_at, device_captured_at, limits),
        *check_photos(home, stamps, photos, limits),
    ]


# --------------------------------------------------------------------------------------------
# Attestation (谁调查谁签字谁负责, 002/004)
# --------------------------------------------------------------------------------------------

# The submission keys both investigators sign. Attestations themselves are not part of it,
# nor are server-side fields (received_at, flags, review state).
ATTESTED_KEYS: tuple[str, ...] = (
    "id",
    "case_id",
    "form_id",
    "form_version",
    "data",
    "stamps",
    "photos",
)
ATTESTATION_PREFIX = "doorstep-attestation:v1:"

_DIGEST_RE = re.compile(r"[0-9a-f]{64}")
_B64URL_RE = re.compile(r"[A-Za-z0-9_-]*")


def canonical_json(obj: Any) -> bytes:
    """RFC 8785 JSON Canonicalization Scheme (JCS), UTF-8 bytes.

    Keys sorted by UTF-16 code units (as RFC 8785 and JavaScript's default sort do; it differs
    from code-point order only between astral characters and U+E000-U+FFFF), no whitespace,
    numbers as ECMAScript's Number.prototype.toString (100.0 -> 100, 1e21 -> 1e+21,
    1e-7 -> 1e-7, -0.0 -> 0). NaN, infinities, lone surrogates, non-string keys and integers
    beyond +-(2**53 - 1) (not exact in a JavaScript number) raise ValueError.

    Uses ``rfc8785`` (Trail of Bits, pure Python, no dependencies, typed, tested against the
    RFC's vectors) rather than ``canonicaljson`` (Matrix's format: not RFC 8785, different
    number rules) or ``jcs`` (an older, unmaintained port). The PWA's canonical.js produces
    the same bytes; tests/data/canonical_cases.json proves it for both.
    """
    return rfc8785.dumps(obj)


def attested_content(submission: dict[str, Any]) -> dict[str, Any]:
    """The part of a submission the investigators sign: exactly ATTESTED_KEYS, all required."""
    missing = [key for key in ATTESTED_KEYS if key not in submission]
    if missing:
        raise ValueError(f"submission lacks attested keys: {', '.join(missing)}")
    return {key: submission[key] for key in ATTESTED_KEYS}


def submission_digest(submission: dict[str, Any]) -> str:
    """Hex SHA-256 of the canonical JSON of the submission's attested content."""
    return hashlib.sha256(canonical_json(attested_content(submission))).hexdigest()


def attestation_message(digest_hex: str) -> bytes:
    """The bytes an investigator's device signs: ``doorstep-attestation:v1:<digest hex>``."""
    if not _DIGEST_RE.fullmatch(digest_hex):
        raise ValueError("digest must be 64 lowercase hex characters")
    return (ATTESTATION_PREFIX + digest_hex).encode("ascii")


def _b64url_decode(text: object) -> bytes:
    if not isinstance(text, str) or not _B64URL_RE.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify_attestation(
    public_key_jwk: dict[str, Any], digest_hex: str, signature_b64url: str
) -> bool:
    """Whether ``signature_b64url`` is a valid WebCrypto ECDSA P-256/SHA-256 signature.

    The key is a JWK as WebCrypto exports it (``kty`` EC, ``crv`` P-256, ``x``/``y``
    base64url, 32 bytes each). WebCrypto signs in IEEE P1363 form, raw r||s (64 bytes); it is
    converted to DER for ``cryptography``. The message is ``attestation_message(digest_hex)``.
    Any malformed input gives False, never an exception.
    """
    try:
        if not isinstance(public_key_jwk, dict):
            return False
        if public_key_jwk.get("kty") != "EC" or public_key_jwk.get("crv") != "P-256":
            return False
        x = _b64url_decode(public_key_jwk.get("x"))
        y = _b64url_decode(public_key_jwk.get("y"))
        if len(x) != 32 or len(y) != 32:
            return False
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + x + y)
        raw = _b64url_decode(signature_b64url)
        if len(raw) != 64:
            return False
        r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
        message = attestation_message(digest_hex) if isinstance(digest_hex, str) else None
        if message is None:
            return False
        key.verify(encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256()))
        return True
    except (InvalidSignature, ValueError, TypeError, binascii.Error):
        return False


@dataclass(frozen=True)
class AttestationStatus:
    is_complete: bool
    attested_by: list[str]
    problems: list[str]


def attestation_status(
    team_user_ids: set[str], attestations: Iterable[tuple[str, str, bool]], *,
    min_attesters: int,
) -> AttestationStatus:
    """Whether the visit is signed by `min_attesters` distinct investigators of its team.

    `min_attesters` is the jurisdiction's ``min_visit_team_size`` (004: at least 2 staff;
    a place may require more), and every one of them signs (谁调查谁签字, 002/004).

    Each attestation is ``(user_id, key_user_id, signature_ok)``: who claims to sign, to whom
    the signing key is registered, and ``verify_attestation``'s answer. One counts only when
    the signature is valid (else ``attestation-signature-invalid``), the key belongs to the
    signer (``attestation-key-not-owned``), and the signer is on the visit's team
    (``attestation-not-team-member``); a second one by the same person counts once
    (``attestation-same-person``). Complete with `min_attesters` that count. ``problems`` lists each
    slug once, in the order first met.
    """
    attested: set[str] = set()
    problems: list[str] = []

    def note(slug: str) -> None:
        if slug not in problems:
            problems.append(slug)

    for user_id, key_user_id, signature_ok in attestations:
        if not signature_ok:
            note("attestation-signature-invalid")
        elif key_user_id != user_id:
            note("attestation-key-not-owned")
        elif user_id not in team_user_ids:
            note("attestation-not-team-member")
        elif user_id in attested:
            note("attestation-same-person")
        else:
            attested.add(user_id)
    return AttestationStatus(
        is_complete=len(attested) >= min_attesters, attested_by=sorted(attested), problems=problems
    )
