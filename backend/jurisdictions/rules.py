"""Pure rules about jurisdictions: code levels, CSV rows and per-place settings."""

from __future__ import annotations

import re
from collections.abc import Iterable
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
    about: str = ""
    choices: tuple[str, ...] = ()  # a text setting that is one of these words


# 002: 5 working days to register and sign; 001: 一周内补齐相关手续 (a calendar week).
EMERGENCY_PAPERWORK_CHOICES = ("five_working_days", "one_week")

# Defaults from DOMAIN.md; each is overridable per jurisdiction (the nearest wins).
SETTINGS: dict[str, Setting] = {
    "dibao_deadline_working_days": Setting(20, int, "001: 20 working days; 002: 12"),
    "dibao_extended_deadline_working_days": Setting(30, int, "001: at most 30"),
    "economic_check_extension_trigger_days": Setting(15, int, "001: check > 15 days"),
    "temporary_deadline_working_days": Setting(15, int, "001: temporary aid <= 15"),
    "is_panel_review_held": Setting(True, bool, "004 holds it; 002 cancels it"),
    "panel_min_members": Setting(9, int, "004: >= 9"),
    "panel_pool_min": Setting(30, int, "004: pool >= 30"),
    "special_case_panel_min_members": Setting(12, int, "001: >= 12"),
    "is_review_stage_notice_held": Setting(True, bool, "004; 002 drops it"),
    "public_notice_days": Setting(7, int, "004/001: 7 days"),
    "spot_check_ratio_dibao": Setting(0.30, (int, float), "001/004: >= 30%"),
    "spot_check_ratio_temporary": Setting(0.20, (int, float), "001: >= 20%"),
    "allowance_standard_monthly": Setting(650.0, (int, float), "local standard"),
    "low_income_margin_multiple": Setting(1.5, (int, float), "national frame: 1.5x"),
    "emergency_aid_max_yuan": Setting(5000, (int, float), "001: <= 5,000 yuan"),
    "allowance_rounding_decimals": Setting(0, int, "monthly amount rounded to whole yuan"),
    "monthly_payment_day": Setting(10, int, "001: monthly allowances paid by the 10th"),
    "min_visit_team_size": Setting(2, int, "004: at least 2 staff"),
    "case_number_pattern": Setting("{township}〔{year}〕{kind}第 {seq:04d} 号", str,
                                   "the case number on letters, screens and exports"),
    # 002: signatures within 5 working days; 001: the paperwork within a week (一周内).
    "emergency_paperwork_within": Setting("five_working_days", str, "002 / 001",
                                          EMERGENCY_PAPERWORK_CHOICES),
    # Where objections to a notice go (004: every notice; the township's own line and desk).
    "objection_phone": Setting("", str, "the township's public line for objections"),
    "objection_address": Setting("", str, "the township's address for objections"),
    "max_home_distance_m": Setting(500, (int, float), "integrity flag"),
    "max_accuracy_m": Setting(100, (int, float), "integrity flag"),
    "min_visit_minutes": Setting(10, (int, float), "integrity flag"),
    "max_team_distance_m": Setting(200, (int, float), "integrity flag"),
    "max_clock_skew_minutes": Setting(10, (int, float), "integrity flag"),
    "max_photo_distance_m": Setting(500, (int, float), "integrity flag"),
    "max_photo_time_gap_minutes": Setting(60, (int, float), "integrity flag"),
    "max_speed_kmh": Setting(150, (int, float), "integrity flag"),
    # Recipient check-in (003): windows per category and the thresholds of its flags.
    "checkin_open_day": Setting(1, int, "check-in window opens (day of month)"),
    "checkin_close_day": Setting(20, int, "check-in window closes (day of month)"),
    "checkin_tolerance_days": Setting(3, int, "a later capture is late, not missed"),
    "checkin_max_residence_distance_m": Setting(2000, (int, float), "check-in flag"),
    "checkin_photo_reuse_max_bits": Setting(6, int, "check-in flag: dHash bits"),
    "checkin_max_capture_age_minutes": Setting(10, (int, float), "stale photo"),
    "checkin_misses_for_review": Setting(2, int, "misses in a row -> periodic review"),
    # Periodic review (动态管理, 004) tiers, in months between reviews of one household.
    "periodic_review_months_stable": Setting(12, int, "national frame: yearly"),
    "periodic_review_months_unstable": Setting(6, int, "national frame: half-yearly"),
    "periodic_review_months_special_case": Setting(6, int, "001: at least twice a year"),
    # Complaints (举报, 004/002 say only 及时): Doorstep's defaults, ADR 0024.
    "complaint_assign_working_days": Setting(1, int, "004 及时: handler named (ADR 0024)"),
    "complaint_verify_working_days": Setting(10, int, "004 及时: verified (ADR 0024)"),
    "complaint_reply_working_days": Setting(15, int, "004 及时: reply sent (ADR 0024)"),
}

# Where a bound comes from: a regulation in regulations/ (DOMAIN.md names them 000-004),
# the national frame, or plain plausibility where the law sets no limit on that side.
PLAUSIBLE = "plausible range"
NATIONAL = "national frame"


@dataclass(frozen=True)
class Bound:
    """The legal range of a setting: stricter than DOMAIN.md is allowed, looser never.

    Each side names its source, so a refusal can say which rule it enforces.
    """

    minimum: float
    minimum_source: str
    maximum: float
    maximum_source: str


# setting -> the range it may take. One row per numeric setting (tests check there is one).
BOUNDS: dict[str, Bound] = {
    # 001: decision within 20 working days; 30 at most when the economic check ran long.
    "dibao_deadline_working_days": Bound(1, PLAUSIBLE, 20, "001"),
    "dibao_extended_deadline_working_days": Bound(1, PLAUSIBLE, 30, "001"),
    # 001: the extension applies only when the economic check took more than 15 days.
    "economic_check_extension_trigger_days": Bound(15, "001", 60, PLAUSIBLE),
    # 001: temporary aid within 15 working days.
    "temporary_deadline_working_days": Bound(1, PLAUSIBLE, 15, "001"),
    # 004: a panel of at least 9 from a village pool of at least 30; 001: 12 for a special case.
    "panel_min_members": Bound(9, "004", 99, PLAUSIBLE),
    "panel_pool_min": Bound(30, "004", 999, PLAUSIBLE),
    "special_case_panel_min_members": Bound(12, "001", 99, PLAUSIBLE),
    # 004/001: notice for 7 days.
    "public_notice_days": Bound(7, "004", 30, PLAUSIBLE),
    # 001/004: county spot checks of at least 30% (dibao, extreme poverty); 001: 20% temporary.
    "spot_check_ratio_dibao": Bound(0.30, "001", 1, PLAUSIBLE),
    "spot_check_ratio_temporary": Bound(0.20, "001", 1, PLAUSIBLE),
    # 003: 按标施保; the standard itself is local.
    "allowance_standard_monthly": Bound(0, PLAUSIBLE, 100000, PLAUSIBLE),
    "low_income_margin_multiple": Bound(1, NATIONAL, 5, PLAUSIBLE),
    # 001: emergency aid of at most 5,000 yuan from the township reserve (最高不超过5000元;
    # 002 names no amount).
    "emergency_aid_max_yuan": Bound(0, PLAUSIBLE, 5000, "001"),
    # Rounding of the monthly amount: whole yuan, jiao or fen.
    "allowance_rounding_decimals": Bound(0, PLAUSIBLE, 2, PLAUSIBLE),
    # 001: monthly allowances are paid by the 10th; earlier is stricter.
    "monthly_payment_day": Bound(1, PLAUSIBLE, 10, "001"),
    # 004: at least 2 staff on every home visit.
    "min_visit_team_size": Bound(2, "004", 10, PLAUSIBLE),
    # Integrity-flag thresholds: no rule fixes them; keep them within sane ranges.
    "max_home_distance_m": Bound(10, PLAUSIBLE, 100000, PLAUSIBLE),
    "max_accuracy_m": Bound(1, PLAUSIBLE, 10000, PLAUSIBLE),
    "min_visit_minutes": Bound(0, PLAUSIBLE, 600, PLAUSIBLE),
    "max_team_distance_m": Bound(1, PLAUSIBLE, 100000, PLAUSIBLE),
    "max_clock_skew_minutes": Bound(0, PLAUSIBLE, 1440, PLAUSIBLE),
    "max_photo_distance_m": Bound(10, PLAUSIBLE, 100000, PLAUSIBLE),
    "max_photo_time_gap_minutes": Bound(0, PLAUSIBLE, 1440, PLAUSIBLE),
    "max_speed_kmh": Bound(1, PLAUSIBLE, 2000, PLAUSIBLE),
    # Check-in windows fit in a month (day 29-31 would vanish in February); the reuse
    # threshold stays under 8 bits, so the 8-band dHash index finds every match.
    "checkin_open_day": Bound(1, PLAUSIBLE, 28, PLAUSIBLE),
    "checkin_close_day": Bound(1, PLAUSIBLE, 31, PLAUSIBLE),
    "checkin_tolerance_days": Bound(0, PLAUSIBLE, 15, PLAUSIBLE),
    "checkin_max_residence_distance_m": Bound(50, PLAUSIBLE, 100000, PLAUSIBLE),
    "checkin_photo_reuse_max_bits": Bound(0, PLAUSIBLE, 7, PLAUSIBLE),
    "checkin_max_capture_age_minutes": Bound(1, PLAUSIBLE, 120, PLAUSIBLE),
    "checkin_misses_for_review": Bound(1, PLAUSIBLE, 12, PLAUSIBLE),
    # National frame: stable households yearly, unstable income with members able to work
    # half-yearly; 001: special cases at least twice a year. A place may review more often.
    "periodic_review_months_stable": Bound(1, PLAUSIBLE, 12, NATIONAL),
    "periodic_review_months_unstable": Bound(1, PLAUSIBLE, 6, NATIONAL),
    "periodic_review_months_special_case": Bound(1, PLAUSIBLE, 6, "001"),
    # Complaints: 004 asks only for 及时 (promptly); a month and a half at most is plausible.
    "complaint_assign_working_days": Bound(1, PLAUSIBLE, 10, PLAUSIBLE),
    "complaint_verify_working_days": Bound(1, PLAUSIBLE, 30, PLAUSIBLE),
    "complaint_reply_working_days": Bound(1, PLAUSIBLE, 30, PLAUSIBLE),
}

# A true/false setting whose `false` drops a step of the procedure, and the regulation that
# drops it. A relaxing flag without a regulation here can never be turned off (tests check
# every flag has a row): 002 取消低保和特困人员救助供养审核阶段公示和民主评议两个环节.
RELAXATIONS: dict[str, tuple[bool, str]] = {
    "is_panel_review_held": (False, "002"),
    "is_review_stage_notice_held": (False, "002"),
}

# The thresholds of the visit integrity flags watch township staff, so only the county
# may set them (a township must not loosen the checks on its own investigators); the flags
# that drop a step of the procedure are the county's to change too (issue 19).
COUNTY_ONLY_SETTINGS = frozenset({
    "max_home_distance_m", "max_accuracy_m", "min_visit_minutes", "max_team_distance_m",
    "max_clock_skew_minutes", "max_photo_distance_m", "max_photo_time_gap_minutes",
    "max_speed_kmh", *RELAXATIONS,
})

_PHONE = re.compile(r"^[0-9][0-9\- ]{3,18}[0-9]$")
_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")


@dataclass(frozen=True)
class SettingProblem:
    key: str
    message: str
    source: str | None = None  # the rule a bound comes from, when it is a bound


def check_setting(key: str, value: object) -> SettingProblem | None:
    """Why `value` is not acceptable for `key`, or None when it is."""
    setting = SETTINGS.get(key)
    if setting is None:
        return SettingProblem(key, "unknown setting")
    if setting.kind is str:
        return _text_problem(key, value, setting)
    if isinstance(value, bool) and setting.kind is not bool:
        return SettingProblem(key, "must be a number")
    if not isinstance(value, setting.kind):
        return SettingProblem(
            key, "must be true or false" if setting.kind is bool else "must be a number")
    if isinstance(value, float) and value != value:
        return SettingProblem(key, "must be a number")
    if setting.kind is bool and value != setting.default and key not in RELAXATIONS:
        return SettingProblem(key, "no regulation lets this step be dropped")
    bound = BOUNDS.get(key)
    if bound is None or not isinstance(value, int | float):
        return None
    if value < bound.minimum:
        return SettingProblem(
            key, f"must be at least {bound.minimum:g} ({_cite(bound.minimum_source)})",
            bound.minimum_source)
    if value > bound.maximum:
        return SettingProblem(
            key, f"must be at most {bound.maximum:g} ({_cite(bound.maximum_source)})",
            bound.maximum_source)
    return None


def _text_problem(key: str, value: object, setting: Setting) -> SettingProblem | None:
    if setting.choices:
        if value not in setting.choices:
            return SettingProblem(key, f"must be one of {', '.join(setting.choices)}")
        return None
    if key == "objection_phone":
        if not isinstance(value, str) or not (value == "" or _PHONE.match(value)):
            return SettingProblem(key, "must be a phone number (digits, hyphens, spaces)")
        if _MOBILE.match(value.replace(" ", "").replace("-", "")):
            # a notice prints no mobile number (004: privacy); the office's line is public
            return SettingProblem(key, "must be the office's line, not a mobile number")
        return None
    if key == "objection_address":
        if not isinstance(value, str) or len(value) > 100 or value != value.strip():
            return SettingProblem(key, "must be text of at most 100 characters")
        return None
    return _pattern_problem(key, value)


def _pattern_problem(key: str, value: object) -> SettingProblem | None:
    """A case-number pattern: text with {seq} that fills in with the known placeholders."""
    if not isinstance(value, str) or "{seq" not in value or len(value) > 60:
        return SettingProblem(key, "must be text of at most 60 characters holding {seq}")
    try:
        value.format(township="文屏", year=2026, kind="低保", seq=1)
    except (KeyError, IndexError, ValueError):
        return SettingProblem(key, "may use only {township}, {year}, {kind} and {seq}")
    return None


def _cite(source: str) -> str:
    return f"rule {source}" if source[:1].isdigit() else source


def consistency_problems(settings: dict[str, Any]) -> list[SettingProblem]:
    """Problems between settings: the extended dibao deadline may not be shorter (001)."""
    if settings["dibao_extended_deadline_working_days"] < settings["dibao_deadline_working_days"]:
        return [SettingProblem("dibao_extended_deadline_working_days",
                               "must be at least dibao_deadline_working_days (rule 001)", "001")]
    if not (settings["complaint_assign_working_days"] <= settings["complaint_verify_working_days"]
            <= settings["complaint_reply_working_days"]):
        return [SettingProblem("complaint_reply_working_days",
                               "complaint deadlines must run assign <= verify <= reply")]
    return []


def county_only_keys(keys: Iterable[str], changer_level: str | None) -> list[str]:
    """The county-only settings among `keys` that a changer at `changer_level` may not set."""
    if changer_level == "county":
        return []
    return sorted(key for key in keys if key in COUNTY_ONLY_SETTINGS)


def effective_settings(overrides_root_first: list[dict[str, Any]]) -> dict[str, Any]:
    """Defaults, then each ancestor's overrides from the county down to the place itself.

    A stored value the bounds no longer allow (saved before they existed) is ignored,
    so the law's limits hold whatever is in the table.
    """
    merged = {key: setting.default for key, setting in SETTINGS.items()}
    for overrides in overrides_root_first:
        for key, value in overrides.items():
            if key in SETTINGS and check_setting(key, value) is None:
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
