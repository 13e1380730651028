"""Pure rules of the household file: what a photo's watermark says, and the words and
geometry of the dossier (一户一档).

The watermark says only what the server has verified (全程留痕, 003): the camera clock as the
photo's own bytes carry it (EXIF, bound to the photo by its SHA-256), the server's receipt
time, the EXIF GPS fix and its accuracy, the distance from the home the office registered,
the case number the server gave, the names of the investigators the office assigned, and the
hash the server computed. ``WatermarkFacts`` has no field for anything a phone typed (the
visit's own claimed time or place), so no such value can reach the picture.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

# Raise when the picture or its words change: cached copies of older versions are not reused.
WATERMARK_VERSION = 1
LANGS = ("zh-CN", "en")
CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")  # no DST since 1991
SHORT_HASH = 12


@dataclass(frozen=True)
class WatermarkFacts:
    """The verified facts a watermark prints, and nothing else."""

    sha256: str
    received_at: datetime                 # the server's receipt (Photo.received_at)
    camera_taken_at: datetime | None      # EXIF DateTimeOriginal with its offset
    camera_taken_at_local: str | None     # EXIF time without an offset: printed as written
    lat: float | None                     # EXIF GPS
    lon: float | None
    accuracy_m: float | None              # EXIF GPSHPositioningError
    distance_from_home_m: float | None    # EXIF fix to the registered home
    case_no: str | None
    investigators: tuple[str, ...]        # the case team the office assigned


_WORDS = {
    "zh-CN": {"taken": "拍摄", "device_clock": "设备时钟", "received": "服务器收到",
              "no_time": "照片未含拍摄时间", "place": "定位", "no_place": "照片未含定位",
              "accuracy": "精度±{n}米", "from_home": "距登记住址{n}米",
              "no_home": "未登记住址", "case": "案件编号", "no_case": "无",
              "team": "调查人员", "nobody": "未指派", "hash": "照片指纹", "sep": "、",
              "beijing": "北京时间"},
    "en": {"taken": "Taken", "device_clock": "device clock", "received": "server received",
           "no_time": "no capture time in the photo", "place": "GPS", "no_place":
           "no GPS fix in the photo", "accuracy": "±{n} m", "from_home": "{n} m from the "
           "registered home", "no_home": "no registered home", "case": "Case",
           "no_case": "none", "team": "Investigators", "nobody": "not assigned",
           "hash": "Photo hash", "sep": ", ", "beijing": "Beijing time"},
}


def words(lang: str) -> dict[str, str]:
    return _WORDS[lang if lang in _WORDS else "zh-CN"]


def beijing(instant: datetime) -> str:
    """``2026-11-20 10:15:03``: an aware instant on Beijing's clock."""
    return instant.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def _metres(value: float) -> str:
    return f"{value:,.0f}"


def watermark_lines(facts: WatermarkFacts, lang: str = "zh-CN") -> list[str]:
    """The watermark's lines, top to bottom."""
    w = words(lang)
    if facts.camera_taken_at is not None:
        taken = f"{beijing(facts.camera_taken_at)} {w['beijing']}（{w['device_clock']}）" \
            if lang != "en" else \
            f"{beijing(facts.camera_taken_at)} {w['beijing']} ({w['device_clock']})"
    elif facts.camera_taken_at_local:
        taken = facts.camera_taken_at_local.replace("T", " ")[:19] + (
            f"（{w['device_clock']}）" if lang != "en" else f" ({w['device_clock']})")
    else:
        taken = w["no_time"]
    received = f"{w['received']} {beijing(facts.received_at)}"
    colon = "：" if lang != "en" else ": "
    lines = [f"{w['taken']}{colon}{taken} · {received}"]
    if facts.lat is not None and facts.lon is not None:
        place = f"{facts.lat:.5f}, {facts.lon:.5f}"
        if facts.accuracy_m is not None:
            place += " " + w["accuracy"].format(n=_metres(facts.accuracy_m))
        home = (w["from_home"].format(n=_metres(facts.distance_from_home_m))
                if facts.distance_from_home_m is not None else w["no_home"])
        lines.append(f"{w['place']}{colon}{place} · {home}")
    else:
        lines.append(f"{w['place']}{colon}{w['no_place']}")
    lines.append(f"{w['case']}{colon}{facts.case_no or w['no_case']}")
    lines.append(f"{w['team']}{colon}{w['sep'].join(facts.investigators) or w['nobody']}")
    lines.append(f"{w['hash']}{colon}SHA-256 {facts.sha256[:SHORT_HASH]}")
    return lines


def watermark_cache_key(sha256: str, lines: Sequence[str]) -> str:
    """The derived copy's blob key: the original's hash, the watermark's version, and a
    digest of its words (a new case number or team gives a new copy, never a stale one)."""
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]
    return f"{sha256}.wm{WATERMARK_VERSION}-{digest}"


def font_size_for(width: int) -> int:
    """Readable on a printed thumbnail and on a full photo alike."""
    return max(14, min(48, width // 42))


# ----------------------------------------------------------------------------- stamp plot

@dataclass(frozen=True)
class PlotPoint:
    label: str
    east_m: float
    north_m: float


def east_north_m(origin: tuple[float, float], point: tuple[float, float]
                 ) -> tuple[float, float]:
    """Metres east and north of ``origin`` (local flat projection: a visit spans a few km)."""
    lat0, lon0 = origin
    north = (point[0] - lat0) * 111_320.0
    east = (point[1] - lon0) * 111_320.0 * math.cos(math.radians(lat0))
    return east, north


def plot_points(home: tuple[float, float] | None,
                points: Iterable[tuple[str, float | None, float | None]]) -> list[PlotPoint]:
    """The stamps and photos around the home (the first located point stands in for a
    missing home, so the plot still shows their spread)."""
    located = [(label, lat, lon) for label, lat, lon in points
               if lat is not None and lon is not None]
    origin = home or ((located[0][1], located[0][2]) if located else None)
    if origin is None:
        return []
    return [PlotPoint(label, *east_north_m(origin, (lat, lon)))
            for label, lat, lon in located]


def plot_radius_m(points: Sequence[PlotPoint], rings_m: Sequence[float]) -> float:
    """The plot's half-width: the farthest point or ring, at least 100 m, with a margin."""
    farthest = max([math.hypot(p.east_m, p.north_m) for p in points] + list(rings_m) + [100.0])
    return farthest * 1.15


# ----------------------------------------------------------------------------- progress

DOSSIER_STATES = ("queued", "building", "done", "failed")


def progress_percent(done: int, total: int) -> int:
    """Whole percent, 99 at most until the file is stored (then the job says 100)."""
    if total <= 0:
        return 0
    return min(99, int(100 * done / total))


# A watermark asked for a photo outside the caller's scope (or none): 404, as for the photo.
PHOTO_NOT_FOUND = "No such photo in your area; upload it if it is yours."
