"""Settings may be stricter than DOMAIN.md, never looser; each bound names its source rule."""

import pytest

from backend.jurisdictions.rules import (
    BOUNDS,
    COUNTY_ONLY_SETTINGS,
    PLAUSIBLE,
    SETTINGS,
    check_setting,
    consistency_problems,
    county_only_keys,
    effective_settings,
)

# (setting, the loosest legal value, the first illegal value beyond it, the source rule)
LEGAL_LIMITS = [
    ("public_notice_days", 7, 6, "004"),  # 004/001: 7 days of notice
    ("panel_min_members", 9, 8, "004"),  # 004: a panel of at least 9
    ("panel_pool_min", 30, 29, "004"),  # 004: from a pool of at least 30
    ("special_case_panel_min_members", 12, 11, "001"),  # 001: special case, at least 12
    ("spot_check_ratio_dibao", 0.30, 0.29, "001"),  # 001/004: at least 30%
    ("spot_check_ratio_temporary", 0.20, 0.19, "001"),  # 001: at least 20%
    ("dibao_deadline_working_days", 20, 21, "001"),  # 001: 20 working days
    ("dibao_extended_deadline_working_days", 30, 31, "001"),  # 001: 30 with the extension
    ("economic_check_extension_trigger_days", 15, 14, "001"),  # 001: check over 15 days
    ("temporary_deadline_working_days", 15, 16, "001"),  # 001: temporary aid <= 15
    ("emergency_aid_max_yuan", 5000, 5000.01, "001"),  # 001: 最高不超过5000元
    ("min_visit_team_size", 2, 1, "004"),  # 004: at least 2 staff
]


@pytest.mark.parametrize(("key", "loosest", "illegal", "source"), LEGAL_LIMITS)
def test_law_allows_the_limit_and_refuses_beyond_it_naming_the_rule(key, loosest, illegal,
                                                                    source):
    assert check_setting(key, loosest) is None
    problem = check_setting(key, illegal)
    assert problem is not None and problem.key == key
    assert problem.source == source
    assert f"rule {source}" in problem.message


def test_stricter_values_are_allowed():
    for key, value in [("public_notice_days", 10), ("panel_min_members", 11),
                       ("spot_check_ratio_dibao", 0.5), ("dibao_deadline_working_days", 12),
                       ("temporary_deadline_working_days", 12), ("emergency_aid_max_yuan", 3000),
                       ("min_visit_team_size", 3)]:
        assert check_setting(key, value) is None, key


def test_every_numeric_setting_has_a_bound_row_and_its_default_is_inside():
    # Text settings (the case number's pattern) have no numeric bound.
    numeric = {key for key, s in SETTINGS.items() if s.kind not in (bool, str)}
    assert set(BOUNDS) == numeric
    for key in numeric:
        assert check_setting(key, SETTINGS[key].default) is None, key


@pytest.mark.parametrize("key", sorted(BOUNDS))
def test_both_sides_of_every_bound_name_their_source(key):
    bound = BOUNDS[key]
    step = 1 if SETTINGS[key].kind is int else 0.01
    assert check_setting(key, bound.minimum) is None
    assert check_setting(key, bound.maximum) is None
    below = check_setting(key, bound.minimum - step)
    above = check_setting(key, bound.maximum + step)
    assert below.source == bound.minimum_source and below.source
    assert above.source == bound.maximum_source and above.source
    for source in (bound.minimum_source, bound.maximum_source):
        assert source in {"001", "002", "004", PLAUSIBLE, "national frame"}


def test_types_and_unknown_keys_are_not_bound_problems():
    assert check_setting("public_notice_days", "seven").source is None
    assert check_setting("public_notice_days", True).source is None
    assert check_setting("made_up", 1).message == "unknown setting"
    assert check_setting("spot_check_ratio_dibao", float("nan")).source is None


def test_extended_deadline_may_not_be_shorter_than_the_deadline():
    settings = effective_settings([{"dibao_extended_deadline_working_days": 18}])
    assert [p.key for p in consistency_problems(settings)] == [
        "dibao_extended_deadline_working_days"]
    assert consistency_problems(effective_settings([{"dibao_deadline_working_days": 12}])) == []


def test_a_stored_value_looser_than_the_law_is_ignored():
    # A row saved before the bounds existed must not loosen the law: the parent's wins.
    merged = effective_settings([{"public_notice_days": 10}, {"public_notice_days": 5}])
    assert merged["public_notice_days"] == 10


def test_integrity_thresholds_and_relaxing_flags_are_county_only():
    # issue 19: a flag that drops a step of the procedure (002) is the county's too
    assert COUNTY_ONLY_SETTINGS == {
        "max_home_distance_m", "max_accuracy_m", "min_visit_minutes", "max_team_distance_m",
        "max_clock_skew_minutes", "max_photo_distance_m", "max_photo_time_gap_minutes",
        "max_speed_kmh", "is_panel_review_held", "is_review_stage_notice_held"}
    assert county_only_keys(["max_home_distance_m", "public_notice_days"], "township") == [
        "max_home_distance_m"]
    assert county_only_keys(["min_visit_minutes"], "village") == ["min_visit_minutes"]
    assert county_only_keys(["max_home_distance_m"], "county") == []
    assert county_only_keys(["public_notice_days"], "township") == []
