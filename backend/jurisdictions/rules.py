"""Pure rules about jurisdictions: code levels, CSV rows and per-place settings."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

LEVEL_BY_LENGTH = {6: "county", 9: "township", 12: "village"}
_CODE = re.compile(r"^\d{6}(\d{3}(\d{3})?)?$")


def level_of(code: str) -> str | None:
    if not _CODE.match(code or ""):
        return None
    return LEVEL_BY_LENGTH[len(code)]


def parent_code_of(code: str) -> str | None:
    """The parent implied by an official code: 12 → 9 digits, 9 → 6, county → none."""
    if len(code) == 12:
        return code[:9]
    if len(code) == 9:
        return code[:6]
    return None


def is_within(code: str, scope_code: str) -> bool:
    return code.startswith(scope_code)


@dataclass(frozen=True)
class Setting:
    default: object
    kind: type | tuple[type, ...]
    minimum: float | None = None
    maximum: float | None = None
    source: str = ""


# Defaults from DOMAIN.md; each is overridable per jurisdiction (the nearest wins).
SETTINGS: dict[str, Setting] = {
    "dibao_deadline_working_days": Setting(20, int, 1, 60, "001: 20 working days; 002: 12"),
    "dibao_extended_deadline_working_days": Setting(30, int, 1, 60, "001: at most 30"),
    "economic_check_extension_trigger_days": Setting(15, int, 1, 60, "001: check > 15 days"),
    "temporary_deadline_working_days": Setting(15, int, 1, 60, "001: temporary aid <= 15"),
    "is_panel_review_held": Setting(True, bool, source="004 holds it; 002 cancels it"),
    "panel_min_members": Setting(9, int, 1, 99, "004: >= 9"),
    "panel_pool_min": Setting(30, int, 1, 999, "004: pool >= 30"),
    "special_case_panel_min_members": Setting(12, int, 1, 99, "001: >= 12"),
    "is_review_stage_notice_held": Setting(True, bool, source="004; 002 drops it"),
    "public_notice_days": Setting(7, int, 1, 30, "004/001: 7 days"),
    "spot_check_ratio_dibao": Setting(0.30, (int, float), 0, 1, "001/004: >= 30%"),
    "spot_check_ratio_temporary": Setting(0.20, (int, float), 0, 1, "001: >= 20%"),
    "allowance_standard_monthly": Setting(650.0, (int, float), 0, 100000, "local standard"),
    "low_income_margin_multiple": Setting(1.5, (int, float), 1, 5, "national frame: 1.5x"),
    "emergency_aid_max_yuan": Setting(5000, (int, float), 0, 100000, "002: <= 5,000 yuan"),
    "min_visit_team_size": Setting(2, int, 2, 10, "004: at least 2 staff"),
    "max_home_distance_m": Setting(500, (int, float), 10, 100000, "integrity flag"),
    "max_accuracy_m": Setting(100, (int, float), 1, 10000, "integrity flag"),
    "min_visit_minutes": Setting(10, (int, float), 0, 600, "integrity flag"),
    "max_team_distance_m": Setting(200, (int, float), 1, 100000, "integrity flag"),
    "max_clock_skew_minutes": Setting(10, (int, float), 0, 1440, "integrity flag"),
    "max_photo_distance_m": Setting(500, (int, float), 10, 100000, "integrity flag"),
    "max_photo_time_gap_minutes": Setting(60, (int, float), 0, 1440, "integrity flag"),
    "max_speed_kmh": Setting(150, (int, float), 1, 2000, "integrity flag"),
}


def check_setting(key: str, value: object) -> str | None:
    """An error message, or None when `value` is acceptable for `key`."""
    setting = SETTINGS.get(key)
    if setting is None:
        return "unknown setting"
    if isinstance(value, bool) and setting.kind is not bool:
        return "must be a number"
    if not isinstance(value, setting.kind):
        return "must be true or false" if setting.kind is bool else "must be a number"
    if setting.minimum is not None and value < setting.minimum:  # type: ignore[operator]
        return f"must be at least {setting.minimum}"
    if setting.maximum is not None and value > setting.maximum:  # type: ignore[operator]
        return f"must be at most {setting.maximum}"
    return None


def effective_settings(overrides_root_first: list[dict[str, Any]]) -> dict[str, Any]:
    """Defaults, then each ancestor's overrides from the county down to the place itself."""
    merged = {key: setting.default for key, setting in SETTINGS.items()}
    for overrides in overrides_root_first:
        for key, value in overrides.items():
            if key in SETTINGS:
                merged[key] = value
    return merged


@dataclass(frozen=True)
class ImportRow:
    line: int
    code: str
    name: str
    parent_code: str | None


def parse_import_rows(rows: list[dict[str, Any]], known_codes: set[str]
                      ) -> tuple[list[ImportRow], list[str]]:
    """Check CSV rows (code,name,parent_code); return the rows and errors with line numbers.

    Line 1 is the header, so the first data row is line 2.
    """
    parsed: list[ImportRow] = []
    errors: list[str] = []
    seen: set[str] = set()
    for index, row in enumerate(rows, start=2):
        code = (row.get("code") or "").strip()
        name = (row.get("name") or "").strip()
        parent = (row.get("parent_code") or "").strip() or None
        if level_of(code) is None:
            errors.append(f"line {index}: code {code!r} is not a 6, 9 or 12 digit division code")
            continue
        if not name or len(name) > 100:
            errors.append(f"line {index}: name must be 1-100 characters")
            continue
        if code in seen:
            errors.append(f"line {index}: code {code} appears twice")
            continue
        expected_parent = parent_code_of(code)
        if parent != expected_parent:
            errors.append(
                f"line {index}: parent_code of {code} must be {expected_parent or 'empty'}"
                f", not {parent or 'empty'}"
            )
            continue
        if parent and parent not in seen and parent not in known_codes:
            errors.append(f"line {index}: parent {parent} is neither in the file above nor loaded")
            continue
        seen.add(code)
        parsed.append(ImportRow(index, code, name, parent))
    return parsed, errors
