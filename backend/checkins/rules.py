"""Pure rules of the recipient check-in (定期签到, DOMAIN.md "Recipient check-in", 003).

Windows per category, the window a capture falls in, on time / late / missed, and the
integrity flags a check-in raises. Flags never block a check-in: they go to staff.

No Flask, no SQLAlchemy: the service loads settings, earlier check-ins and photos' dHashes
and passes them in.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, Literal

from backend import geodesy

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")  # no DST since 1991

MONTHLY = "monthly"
QUARTERLY = "quarterly"
CATEGORIES = (MONTHLY, QUARTERLY)

Outcome = Literal["on_time", "late", "missed"]
ON_TIME: Outcome = "on_time"
LATE: Outcome = "late"
MISSED: Outcome = "missed"


# --- windows ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WindowSettings:
    """Jurisdiction settings (checkin_* in jurisdictions.rules.SETTINGS)."""

    open_day: int  # day of month the window opens (China dates)
    close_day: int  # day of month it closes, inclusive
    tolerance_days: int  # a capture up to this many days after close is late, not missed


@dataclass(frozen=True)
class Window:
    key: str  # "2026-03" (monthly) or "2026-Q2" (quarterly)
    opens_on: date
    closes_on: date  # inclusive
    tolerance_days: int

    @property
    def late_until_on(self) -> date:
        """The last day a capture still counts for this window (as late)."""
        return self.closes_on + timedelta(days=self.tolerance_days)

    def opens_at(self) -> datetime:
        return datetime.combine(self.opens_on, datetime.min.time(), CHINA).astimezone(UTC)

    def closes_at(self) -> datetime:
        """The instant the window closes (end of close day, China time)."""
        return datetime.combine(self.closes_on + timedelta(days=1), datetime.min.time(),
                                CHINA).astimezone(UTC)

    def judged_at(self) -> datetime:
        """The instant after which a window without a check-in is missed."""
        return datetime.combine(self.late_until_on + timedelta(days=1), datetime.min.time(),
                                CHINA).astimezone(UTC)


def china_date(at: datetime) -> date:
    return at.astimezone(CHINA).date()


def _month_day(year: int, month: int, day: int) -> date:
    """``day`` of the month, clamped to its last day (close day 31 in February is the 28th)."""
    first_next = date(year + month // 12, month % 12 + 1, 1)
    last = (first_next - timedelta(days=1)).day
    return date(year, month, min(day, last))


def window_of_period(category: str, year: int, period: int, settings: WindowSettings) -> Window:
    """The window of month ``period`` (1-12) or quarter ``period`` (1-4) of ``year``.

    A quarterly window lies in the first month of its quarter (January, April, July,
    October), between the same open and close days as a monthly one.
    """
    if category == MONTHLY:
        month, key = period, f"{year}-{period:02d}"
    elif category == QUARTERLY:
        month, key = 3 * (period - 1) + 1, f"{year}-Q{period}"
    else:
        raise ValueError(f"unknown check-in category {category!r}")
    return Window(key, _month_day(year, month, settings.open_day),
                  _month_day(year, month, settings.close_day), settings.tolerance_days)


def _period_of(category: str, day: date) -> tuple[int, int]:
    if category == MONTHLY:
        return day.year, day.month
    return day.year, (day.month - 1) // 3 + 1


def _shift(category: str, year: int, period: int, by: int) -> tuple[int, int]:
    per_year = 12 if category == MONTHLY else 4
    index = year * per_year + (period - 1) + by
    return index // per_year, index % per_year + 1


def window_for(category: str, captured_at: datetime, settings: WindowSettings) -> Window | None:
    """The window a capture counts for: the one whose [open, close + tolerance] holds its
    China date, or None (outside every window: recorded, judged late, flagged)."""
    day = china_date(captured_at)
    year, period = _period_of(category, day)
    for by in (0, -1):  # the tolerance may reach into the next period
        window = window_of_period(category, *_shift(category, year, period, by), settings)
        if window.opens_on <= day <= window.late_until_on:
            return window
    return None


def windows_between(category: str, start: datetime, end: datetime,
                    settings: WindowSettings) -> list[Window]:
    """Windows still open at or after ``start`` (enrolment: a recipient enrolled on the 5th
    checks in by the 20th) and judged by ``end``."""
    day = china_date(start)
    year, period = _period_of(category, day)
    found: list[Window] = []
    for by in range(0, 1000):
        window = window_of_period(category, *_shift(category, year, period, by), settings)
        if window.judged_at() > end:
            break
        if window.closes_on >= day:
            found.append(window)
    return found


def next_window(category: str, now: datetime, settings: WindowSettings) -> Window:
    """The window open now, or the next to open (what the recipient's screen shows)."""
    day = china_date(now)
    year, period = _period_of(category, day)
    for by in range(0, 3):
        window = window_of_period(category, *_shift(category, year, period, by), settings)
        if day <= window.closes_on:
            return window
    raise AssertionError("a window opens within three periods")


REMIND_DAYS_BEFORE_CLOSE = 3


def is_reminder_day(window: Window, day: date) -> bool:
    """SMS reminders go on the day a window opens and three days before it closes (a
    daily message would teach people to ignore it); the app shows its reminder all along."""
    before_close = window.closes_on - timedelta(days=REMIND_DAYS_BEFORE_CLOSE)
    return day in (window.opens_on, max(window.opens_on, before_close))


def judge(window: Window | None, captured_at: datetime, received_at: datetime) -> Outcome:
    """On time: captured between open and close (China dates) and received by the end of the
    tolerance (an offline phone may send a few days later). Anything else that arrives is
    late, also a capture outside every window: it is recorded, never dropped."""
    if window is None:
        return LATE
    captured_on, received_on = china_date(captured_at), china_date(received_at)
    if window.opens_on <= captured_on <= window.closes_on \
            and received_on <= window.late_until_on:
        return ON_TIME
    return LATE


def consecutive_misses(outcomes_oldest_first: Iterable[str]) -> int:
    """How many windows in a row ended missed, counting back from the latest."""
    count = 0
    for outcome in reversed(list(outcomes_oldest_first)):
        if outcome != MISSED:
            break
        count += 1
    return count


def needs_periodic_review(outcomes_oldest_first: Iterable[str], threshold: int) -> bool:
    """Repeated misses (``threshold`` in a row) trigger a periodic review (动态管理, 004)."""
    return threshold > 0 and consecutive_misses(outcomes_oldest_first) >= threshold


# --- integrity flags -------------------------------------------------------------------------


@dataclass(frozen=True)
class FlagThresholds:
    max_residence_distance_m: float
    photo_reuse_max_bits: int
    max_clock_skew_minutes: float
    max_speed_kmh: float


@dataclass(frozen=True)
class Flag:
    code: str
    data: dict[str, Any] = field(default_factory=dict)


FLAG_CODES = ("outside-window", "far-from-residence", "photo-reused", "face-mismatch",
              "face-not-found", "identity-unverified", "new-device", "device-clock-skew",
              "captured-in-future", "location-possibly-mocked", "proxy-check-in")

FLAG_WORDS: dict[str, tuple[str, str]] = {
    "outside-window": ("签到不在任何签到期内。", "The check-in falls outside every window."),
    "far-from-residence": ("签到位置距{place_zh} {distance_m:.0f} 米，超过 {threshold_m:g} 米。",
                           "Checked in {distance_m:.0f} m from {place_en}, "
                           "over {threshold_m:g} m."),
    "photo-reused": ("照片与以往签到或他户照片高度相似（相差 {bits} 位）。",
                     "The photo matches an earlier check-in or another household's photo "
                     "({bits} bits apart)."),
    "face-mismatch": ("人脸与登记照片不符（距离 {distance:.2f}）。",
                      "The face does not match the reference photo (distance {distance:.2f})."),
    "face-not-found": ("照片中未检测到人脸。", "No face was found in the photo."),
    "identity-unverified": ("未能自动核验身份，需人工核对。",
                            "Identity could not be verified automatically; a person must check."),
    "new-device": ("本次签到使用了新的设备。", "This check-in came from a new device."),
    "device-clock-skew": ("设备时钟与服务器相差 {minutes:.1f} 分钟，"
                          "超过 {threshold_minutes:g} 分钟。",
                          "The device clock is {minutes:.1f} min off the server's, "
                          "over {threshold_minutes:g} min."),
    "captured-in-future": ("签到时间晚于服务器收到时间。",
                           "The capture time is later than the server received it."),
    "location-possibly-mocked": ("定位可能为模拟定位。", "The location may be mocked."),
    "proxy-check-in": ("由村协理员代为签到：{reason}",
                       "Checked in by a village assistant: {reason}"),
}

_PLACES = {"registered": ("登记住址", "the registered home"),
           "declared": ("申报居住地", "the declared residence")}


def render_flag(code: str, data: Mapping[str, Any], language: Literal["zh", "en"]) -> str:
    words = FLAG_WORDS.get(code)
    if words is None:
        return code
    values = dict(data)
    if "skew_seconds" in values:
        values["minutes"] = abs(values["skew_seconds"]) / 60
    place = _PLACES.get(str(values.get("reference")))
    if place is not None:
        values["place_zh"], values["place_en"] = place
    try:
        return (words[0] if language == "zh" else words[1]).format(**values)
    except (KeyError, ValueError, TypeError):
        return code


Point = tuple[float, float]


def distance_m(a: Point, b: Point) -> float:
    return geodesy.distance_m(a, b)


def residence_flags(at: Point, registered: Point | None, declared: Point | None,
                    threshold_m: float) -> list[Flag]:
    """Far from home: flagged only when the place is far from every known residence (a
    recipient living away from the registered home, 人户分离, checks in where they live)."""
    references = [(name, point) for name, point in (("declared", declared),
                                                    ("registered", registered)) if point]
    if not references:
        return []
    if any(geodesy.at_most_m(at, point) <= threshold_m for _name, point in references):
        return []  # within reach of one residence, by the bound alone (geodesy.at_most_m)
    distances = [(distance_m(at, point), name) for name, point in references]
    nearest, name = min(distances)
    if nearest > threshold_m:
        return [Flag("far-from-residence", {"distance_m": round(nearest, 1),
                                            "threshold_m": threshold_m, "reference": name})]
    return []


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def dhash(gray_rows: list[list[int]]) -> int:
    """The 64-bit difference hash of a grayscale image already resized to 9 x 8 (rows of 9
    values): bit i is set when a pixel is brighter than its right-hand neighbour."""
    if len(gray_rows) != 8 or any(len(row) != 9 for row in gray_rows):
        raise ValueError("dhash needs 8 rows of 9 grayscale values")
    value = 0
    for row in gray_rows:
        for left, right in zip(row, row[1:], strict=False):
            value = (value << 1) | (1 if left > right else 0)
    return value


@dataclass(frozen=True)
class PhotoSeen:
    """A photo filed earlier: by a check-in (or as a reference) of some recipient."""

    sha256: str
    dhash: int
    recipient_id: str
    household_id: str
    is_reference: bool = False


def photo_reuse_flags(sha256: str, photo_dhash: int, recipient_id: str,
                      earlier: Iterable[PhotoSeen], max_bits: int) -> list[Flag]:
    """The photo is (nearly) one filed before: another check-in of anyone (``earlier`` holds
    no entry for this check-in itself), or a recipient's reference photo, its own included.
    A new picture of the same face is not reuse (dHash compares whole images)."""
    best: tuple[int, PhotoSeen] | None = None
    for seen in earlier:
        bits = hamming(photo_dhash, seen.dhash)
        if bits <= max_bits and (best is None or bits < best[0]):
            best = (bits, seen)
    if best is None:
        return []
    bits, seen = best
    return [Flag("photo-reused", {
        "bits": bits, "threshold_bits": max_bits, "other_sha256": seen.sha256,
        "scope": "same-recipient" if seen.recipient_id == recipient_id else "other-household"
        if seen.household_id else "other-recipient",
        "other_recipient_id": seen.recipient_id})]


def clock_flags(captured_at: datetime, sent_at: datetime | None, received_at: datetime,
                max_skew_minutes: float) -> list[Flag]:
    """Device clock skew, measured where it can be: the device's clock when it sent the batch
    against the server's on receipt (a queued check-in keeps its old captured_at honestly).
    Without a send time, a check-in received at once is compared by captured_at itself. A
    capture after its receipt is impossible (beyond the same threshold)."""
    flags: list[Flag] = []
    limit = timedelta(minutes=max_skew_minutes)
    device_now = sent_at if sent_at is not None else captured_at
    skew = device_now - received_at
    if abs(skew) > limit:
        flags.append(Flag("device-clock-skew", {
            "skew_seconds": round(skew.total_seconds(), 1),
            "threshold_minutes": max_skew_minutes}))
    if captured_at - received_at > limit:
        flags.append(Flag("captured-in-future", {
            "ahead_seconds": round((captured_at - received_at).total_seconds(), 1)}))
    return flags


@dataclass(frozen=True)
class Fix:
    at: Point
    captured_at: datetime


def mocked_location_flags(accuracy_m: float | None, fix: Fix, previous: Fix | None,
                          max_speed_kmh: float) -> list[Flag]:
    """Accuracy exactly 0 (real GPS never says so), or a speed from the previous check-in
    that nobody travels at."""
    if accuracy_m is not None and accuracy_m == 0:
        return [Flag("location-possibly-mocked", {"reason": "zero-accuracy"})]
    if previous is None:
        return []
    hours = abs((fix.captured_at - previous.captured_at).total_seconds()) / 3600
    if hours and geodesy.at_most_m(previous.at, fix.at) / 1000 / hours <= max_speed_kmh:
        return []  # not even the distance's upper bound is too fast (geodesy.at_most_m)
    metres = distance_m(previous.at, fix.at)
    if hours == 0:
        speed = None if metres > 0 else 0.0
    else:
        speed = metres / 1000 / hours
    if speed is None or speed > max_speed_kmh:
        return [Flag("location-possibly-mocked", {
            "reason": "impossible-speed", "speed_kmh": None if speed is None else round(speed, 1),
            "threshold_kmh": max_speed_kmh})]
    return []


def device_flags(device_id: str | None, key_id: str | None,
                 earlier_devices: set[str]) -> list[Flag]:
    """A device (or key) this recipient never checked in from. The first check-in has no
    earlier devices and raises nothing."""
    marker = key_id or device_id
    if not earlier_devices or marker is None or marker in earlier_devices:
        return []
    return [Flag("new-device", {"device_id": device_id, "key_id": key_id})]


# --- challenge, PIN and activation code ------------------------------------------------------

CHALLENGE_KINDS = ("fingers", "say_number")


def challenge_problem(challenge: Mapping[str, Any]) -> str | None:
    """Why a challenge recorded on the device is not one the app can show, or None."""
    kind, value = challenge.get("kind"), challenge.get("value")
    if kind == "fingers":
        return None if isinstance(value, int) and not isinstance(value, bool) \
            and 1 <= value <= 5 else "fingers: 1 to 5"
    if kind == "say_number":
        return None if isinstance(value, str) and value.isdigit() and len(value) == 4 \
            else "say_number: 4 digits"
    return f"kind: one of {', '.join(CHALLENGE_KINDS)}"


def new_challenge(random: secrets.SystemRandom | None = None) -> dict[str, Any]:
    chooser = random or secrets.SystemRandom()
    if chooser.random() < 0.5:
        return {"kind": "fingers", "value": chooser.randint(1, 5)}
    return {"kind": "say_number", "value": f"{chooser.randint(0, 9999):04d}"}


def pin_problem(pin: str) -> str | None:
    """A PIN is 6 digits, not all the same, not a run (123456, 654321)."""
    if len(pin) != 6 or not pin.isascii() or not pin.isdigit():
        return "6 digits"
    if len(set(pin)) == 1:
        return "not all the same digit"
    steps = {int(b) - int(a) for a, b in zip(pin, pin[1:], strict=False)}
    if steps in ({1}, {-1}):
        return "not a run of digits"
    return None


ACTIVATION_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I
ACTIVATION_CODE_LENGTH = 10  # 32**10 = 2**50 codes
ACTIVATION_VALID_FOR = timedelta(days=7)


def new_activation_code() -> str:
    return "".join(secrets.choice(ACTIVATION_ALPHABET) for _ in range(ACTIVATION_CODE_LENGTH))


def normalise_activation_code(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


def activation_problem(expires_at: datetime, used_at: datetime | None,
                       now: datetime) -> str | None:
    """The problem slug of an activation code found by its hash, or None when usable."""
    if used_at is not None:
        return "activation-code-used"
    if now >= expires_at:
        return "activation-code-expired"
    return None
