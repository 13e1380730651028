"""The catalogue of integrity flags: code -> severity, thresholds it compares, zh/en words.

A flag row stores only its code and its parameters (the measured values and the threshold
they were compared with); the words are rendered from this catalogue when a flag is read,
so a reworded message or a new language needs no data migration. The PWA may translate the
code itself; the API sends ``detail_zh``/``detail_en`` rendered here for convenience.

Pure: no Flask, no SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["info", "warning", "alert"]
Language = Literal["zh", "en"]


@dataclass(frozen=True)
class FlagType:
    """One kind of flag. ``templates`` maps a variant (``data["reason"]``, else "") to
    ``(zh, en)`` ``str.format`` templates over the flag's parameters."""

    code: str
    severity: Severity
    templates: Mapping[str, tuple[str, str]]
    thresholds: tuple[str, ...] = field(default=())  # IntegrityThresholds fields compared


_PLACES = {"home": ("登记住址", "the registered home"),
           "start-stamp": ("开始定位", "the start stamp")}

CATALOGUE: dict[str, FlagType] = {t.code: t for t in (
    FlagType("home-location-unknown", "info", {"": (
        "该户尚无登记位置，本次入户的位置将作为其登记位置。",
        "The household has no registered location; this visit will set it.")}),
    FlagType("missing-start-stamp", "warning", {"": (
        "缺少入户开始定位。", "The visit has no start GPS stamp.")}),
    FlagType("missing-end-stamp", "warning", {"": (
        "缺少入户结束定位。", "The visit has no end GPS stamp.")}),
    FlagType("visit-end-before-start", "alert", {"": (
        "结束定位时间早于开始定位时间。", "The end stamp is earlier than the start stamp.")}),
    FlagType("visit-too-short", "warning", {"": (
        "入户时长 {minutes:.1f} 分钟，少于 {threshold_minutes:g} 分钟。",
        "The visit lasted {minutes:.1f} min, under {threshold_minutes:g} min.")},
        ("min_visit_minutes",)),
    FlagType("stamp-far-from-home", "alert", {"": (
        "定位距登记住址 {distance_m:.0f} 米，超过 {threshold_m:g} 米。",
        "Stamp is {distance_m:.0f} m from the registered home, over {threshold_m:g} m.")},
        ("max_home_distance_m",)),
    FlagType("stamp-accuracy-poor", "warning", {"": (
        "定位精度 {accuracy_m:.0f} 米，差于 {threshold_m:g} 米。",
        "Stamp accuracy is {accuracy_m:.0f} m, worse than {threshold_m:g} m.")},
        ("max_accuracy_m",)),
    FlagType("team-devices-far-apart", "alert", {"": (
        "两名调查员的设备在同一时段相距 {distance_m:.0f} 米，超过 {threshold_m:g} 米。",
        "The two investigators' devices were {distance_m:.0f} m apart at about the same "
        "time, over {threshold_m:g} m.")}, ("max_team_distance_m",)),
    FlagType("location-possibly-mocked", "alert", {
        "zero-accuracy": (
            "定位精度为 0 米，真实定位不会如此，可能为模拟定位。",
            "The stamp reports an accuracy of exactly 0 m, which real GPS never does."),
        "impossible-speed": (
            "相邻两次定位间速度 {speed} 公里/小时，超过 {threshold_kmh:g} 公里/小时，"
            "可能为模拟定位。",
            "Speed between consecutive stamps is {speed} km/h, over {threshold_kmh:g} km/h.")},
        ("max_speed_kmh",)),
    FlagType("device-clock-skew", "warning", {"": (
        "设备时钟与服务器相差 {minutes:.1f} 分钟，超过 {threshold_minutes:g} 分钟。",
        "The device clock is {minutes:.1f} min off the server's, "
        "over {threshold_minutes:g} min.")}, ("max_clock_skew_minutes",)),
    FlagType("photo-no-exif-location", "info", {"": (
        "照片不含 EXIF 位置信息。", "The photo has no EXIF location.")}),
    FlagType("photo-far-from-visit", "warning", {"": (
        "照片拍摄位置距{place_zh} {distance_m:.0f} 米，超过 {threshold_m:g} 米。",
        "The photo was taken {distance_m:.0f} m from {place_en}, over {threshold_m:g} m.")},
        ("max_photo_distance_m",)),
    FlagType("photo-time-outside-visit", "warning", {"": (
        "照片拍摄时间在入户时段外 {minutes_outside:.0f} 分钟，超过 {threshold_minutes:g} 分钟。",
        "The photo was taken {minutes_outside:.0f} min outside the visit, "
        "over {threshold_minutes:g} min.")}, ("max_photo_time_gap_minutes",)),
    FlagType("photo-reused-other-household", "alert", {"": (
        "该照片与另一户的照片相同或高度相似。",
        "This photo matches a photo of another household.")}),
)}


# The flags a visit's photos raise (rules.check_photos and the reuse check): made again when
# a photo the visit names reaches the server after it.
PHOTO_FLAG_CODES = frozenset({"photo-no-exif-location", "photo-far-from-visit",
                              "photo-time-outside-visit", "photo-reused-other-household"})


def severity_of(code: str) -> Severity:
    return CATALOGUE[code].severity


def _parameters(data: Mapping[str, Any]) -> dict[str, Any]:
    """The flag's stored parameters plus the few words and values derived from them."""
    values = dict(data)
    if "skew_seconds" in values:
        values["minutes"] = abs(values["skew_seconds"]) / 60
    if "speed_kmh" in values:
        values["speed"] = "∞" if values["speed_kmh"] is None else f"{values['speed_kmh']:.0f}"
    place = _PLACES.get(str(values.get("reference")))
    if place is not None:
        values["place_zh"], values["place_en"] = place
    return values


def render(code: str, data: Mapping[str, Any], language: Language) -> str:
    """The flag's message in ``language``; an unknown code renders as the code itself."""
    flag_type = CATALOGUE.get(code)
    if flag_type is None:
        return code
    templates = flag_type.templates.get(str(data.get("reason") or ""))
    if templates is None:
        templates = next(iter(flag_type.templates.values()))
    template = templates[0] if language == "zh" else templates[1]
    try:
        return template.format(**_parameters(data))
    except (KeyError, ValueError, TypeError):
        return code
