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

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from backend.forms.identity import is_masked_resident_id, is_valid_resident_id, mask_resident_id
from backend.geodesy import at_most_m as _at_most_m
from backend.geodesy import distance_beyond as _distance_beyond
from backend.geodesy import distance_m as _geodesic_m
from backend.visits import flags as catalogue
from backend.visits.flags import Severity

LatLon = tuple[float, float]
StampKind = Literal["start", "end", "photo"]

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
    """One piece of evidence for the reviewer: a catalogued ``code`` (see ``flags.CATALOGUE``)
    and its parameters. Severity and words come from the catalogue, never from storage."""

    code: str
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in catalogue.CATALOGUE:
            raise ValueError(f"unknown flag code {self.code!r}")

    @property
    def severity(self) -> Severity:
        return catalogue.severity_of(self.code)

    @property
    def detail_zh(self) -> str:
        return catalogue.render(self.code, self.data, "zh")

    @property
    def detail_en(self) -> str:
        return catalogue.render(self.code, self.data, "en")


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def distance_m(a: LatLon, b: LatLon) -> float:
    """Geodesic (WGS-84) distance in metres."""
    return _geodesic_m(a, b)


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
        Flag("home-location-unknown")
    ]


def check_start_end_present(stamps: Sequence[GpsStamp]) -> list[Flag]:
    flags = []
    kinds = {s.kind for s in stamps}
    if "start" not in kinds:
        flags.append(
            Flag("missing-start-stamp")
        )
    if "end" not in kinds:
        flags.append(
            Flag("missing-end-stamp")
        )
    return flags


def check_visit_duration(stamps: Sequence[GpsStamp], thresholds: IntegrityThresholds) -> list[Flag]:
    started_at, ended_at = visit_window(stamps)
    if started_at is None or ended_at is None:
        return []
    data = {"started_at": started_at.isoformat(), "ended_at": ended_at.isoformat()}
    if ended_at < started_at:
        return [
            Flag("visit-end-before-start", data)
        ]
    minutes = (ended_at - started_at).total_seconds() / 60
    if minutes < thresholds.min_visit_minutes:
        return [
            Flag("visit-too-short", {
                    **data,
                    "minutes": round(minutes, 2),
                    "threshold_minutes": thresholds.min_visit_minutes,
                })
        ]
    return []


def check_stamps_near_home(
    home: LatLon | None, stamps: Sequence[GpsStamp], thresholds: IntegrityThresholds
) -> list[Flag]:
    if home is None:
        return []
    flags = []
    for index, stamp in enumerate(stamps):
        metres = _distance_beyond(home, stamp.point, thresholds.max_home_distance_m)
        if metres is not None:
            flags.append(
                Flag("stamp-far-from-home", {
                        **_stamp_ref(index, stamp),
                        "distance_m": _metres(metres),
                        "threshold_m": thresholds.max_home_distance_m,
                    })
            )
    return flags


def check_stamp_accuracy(stamps: Sequence[GpsStamp], thresholds: IntegrityThresholds) -> list[Flag]:
    flags = []
    for index, stamp in enumerate(stamps):
        if stamp.accuracy_m is not None and stamp.accuracy_m > thresholds.max_accuracy_m:
            flags.append(
                Flag("stamp-accuracy-poor", {
                        **_stamp_ref(index, stamp),
                        "accuracy_m": stamp.accuracy_m,
                        "threshold_m": thresholds.max_accuracy_m,
                    })
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
            metres = _distance_beyond(a.point, b.point, thresholds.max_team_distance_m)
            if metres is not None:
                flags.append(
                    Flag("team-devices-far-apart", {
                            "stamp_a": _stamp_ref(index_a, a),
                            "stamp_b": _stamp_ref(index_b, b),
                            "distance_m": _metres(metres),
                            "seconds_apart": gap.total_seconds(),
                            "threshold_m": thresholds.max_team_distance_m,
                        })
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
                Flag("location-possibly-mocked",
                     {**_stamp_ref(index, stamp), "reason": "zero-accuracy"})
            )
    by_source: dict[tuple[str, str] | None, list[tuple[int, GpsStamp]]] = {}
    for index, stamp in enumerate(stamps):
        by_source.setdefault(_source_key(stamp), []).append((index, stamp))
    for _source, members in sorted(by_source.items(), key=lambda item: item[1][0][0]):
        ordered = sorted(members, key=lambda pair: (pair[1].captured_at, pair[0]))
        for (index_a, a), (index_b, b) in zip(ordered, ordered[1:], strict=False):
            seconds = (b.captured_at - a.captured_at).total_seconds()
            bound_kmh = _at_most_m(a.point, b.point) / seconds * 3.6 if seconds > 0 else None
            if bound_kmh is not None and bound_kmh <= thresholds.max_speed_kmh:
                continue  # not even the distance's upper bound is too fast: no flag either way
            metres = distance_m(a.point, b.point)
            if seconds < SPEED_MIN_INTERVAL.total_seconds() and metres < SPEED_JITTER_M:
                continue
            speed_kmh = None if seconds == 0 else metres / seconds * 3.6
            if speed_kmh is None or speed_kmh > thresholds.max_speed_kmh:
                flags.append(
                    Flag("location-possibly-mocked", {
                            "reason": "impossible-speed",
                            "stamp_a": _stamp_ref(index_a, a),
                            "stamp_b": _stamp_ref(index_b, b),
                            "distance_m": _metres(metres),
                            "seconds_apart": seconds,
                            "speed_kmh": None if speed_kmh is None else round(speed_kmh, 1),
                            "threshold_kmh": thresholds.max_speed_kmh,
                        })
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
        Flag("device-clock-skew", {
                "device_sent_at": device_sent_at.isoformat(),
                "received_at": received_at.isoformat(),
                "skew_seconds": skew,
                "threshold_minutes": thresholds.max_clock_skew_minutes,
            })
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
                Flag("photo-no-exif-location", {"sha256": photo.sha256})
            )
        elif reference is not None:
            metres = _distance_beyond(reference, photo.gps, thresholds.max_photo_distance_m)
            if metres is not None:
                flags.append(
                    Flag("photo-far-from-visit", {
                            "sha256": photo.sha256,
                            "reference": reference_kind,
                            "distance_m": _metres(metres),
                            "threshold_m": thresholds.max_photo_distance_m,
                        })
                )
        if photo.taken_at is not None and window_from is not None and window_to is not None:
            low, high = min(window_from, window_to), max(window_from, window_to)
            if photo.taken_at < low - gap or photo.taken_at > high + gap:
                outside = low - photo.taken_at if photo.taken_at < low else photo.taken_at - high
                minutes = outside.total_seconds() / 60
                flags.append(
                    Flag("photo-time-outside-visit", {
                            "sha256": photo.sha256,
                            "taken_at": photo.taken_at.isoformat(),
                            "minutes_outside": round(minutes, 2),
                            "threshold_minutes": thresholds.max_photo_time_gap_minutes,
                        })
                )
    return flags


def reused_photo_flag(sha256: str, other_household_id: str, distance: int) -> Flag:
    """The caller found this photo (by dHash, ``distance`` bits apart) in another household."""
    return Flag("photo-reused-other-household", {
        "sha256": sha256, "other_household_id": other_household_id, "dhash_distance": distance})


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


# --- masked resident IDs sent back ----------------------------------------------------------

MASK_MISMATCH = ("打码的身份证号与已登记的号码不符，请输入完整号码 (the masked ID matches no "
                 "number on record: type the full number)")


def _matching(masked: str, candidates: Sequence[str]) -> set[str]:
    return {real for real in candidates if is_valid_resident_id(real)
            and mask_resident_id(real) == masked}


def unmask_resident_ids(data: dict[str, Any], paths: Sequence[str], previous: dict[str, Any],
                        registered: Sequence[str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Survey answers with each masked resident ID (as a field worker is shown it,
    DOMAIN.md: Identity data) replaced by the real number it stands for, and the per-field
    errors of those that stand for none.

    A masked ID means "unchanged": it stands for the number stored at the same place in the
    previous revision when its mask matches, else for the one registered member's number
    that it matches. A mask that matches nothing, or two different registered numbers, is
    refused, so a masked value is never stored over a real one. ``paths`` are the form's
    resident-ID answers (``members.id_number`` for a repeat, as privacy.rules names them).
    """
    answers = dict(data)
    errors: dict[str, list[str]] = {}

    def resolve(value: Any, before: Any, field_path: str) -> Any:
        if not is_masked_resident_id(value):
            return value
        if isinstance(before, str) and _matching(value, [before]):
            return before
        found = _matching(value, registered)
        if len(found) == 1:
            return found.pop()
        errors[field_path] = [MASK_MISMATCH]
        return value

    for path in paths:
        group, _, name = path.rpartition(".")
        if not group:
            if name in answers:
                answers[name] = resolve(answers[name], previous.get(name), name)
            continue
        rows, earlier = answers.get(group), previous.get(group)
        if not isinstance(rows, list):
            continue
        earlier_rows = earlier if isinstance(earlier, list) else []
        new_rows = []
        for index, row in enumerate(rows):
            if isinstance(row, dict) and name in row:
                before = earlier_rows[index] if index < len(earlier_rows) else None
                row = {**row, name: resolve(row[name], before.get(name) if isinstance(
                    before, dict) else None, f"{group}[{index}].{name}")}
            new_rows.append(row)
        answers[group] = new_rows
    return answers, errors
