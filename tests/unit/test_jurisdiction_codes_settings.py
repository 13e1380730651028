"""Pure jurisdiction rules (backend/jurisdictions/rules.py): the county → township → village
tree of official division codes, per-place settings with DOMAIN.md defaults, and CSV import."""

from __future__ import annotations

import pytest

from backend.jurisdictions.rules import (
    SETTINGS,
    check_setting,
    effective_settings,
    is_within,
    level_of,
    parent_code_of,
    parse_import_rows,
)

# --- codes: 6 digits a county, 9 a township, 12 a village ----------------------------------

@pytest.mark.parametrize(("code", "level"), [
    ("530621", "county"),
    ("530621101", "township"),
    ("530621101203", "village"),
    ("53062", None),
    ("5306211", None),
    ("53062110", None),
    ("5306211012", None),
    ("53062110120", None),
    ("5306211012031", None),
    ("53062a", None),
    ("", None),
    (None, None),
])
def test_the_level_follows_the_length_of_the_code(code, level):
    assert level_of(code) == level


def test_the_parent_is_implied_by_the_code():
    assert parent_code_of("530621101203") == "530621101"
    assert parent_code_of("530621101") == "530621"
    assert parent_code_of("530621") is None


def test_a_place_is_within_itself_and_its_ancestors_only():
    assert is_within("530621101203", "530621101203")
    assert is_within("530621101203", "530621101")
    assert is_within("530621101203", "530621")
    assert not is_within("530621102203", "530621101")
    assert not is_within("530621", "530621101")


# --- settings: DOMAIN.md defaults, each bounded --------------------------------------------

@pytest.mark.parametrize(("key", "default", "source"), [
    ("dibao_deadline_working_days", 20, "001"),
    ("dibao_extended_deadline_working_days", 30, "001"),
    ("economic_check_extension_trigger_days", 15, "001"),
    ("temporary_deadline_working_days", 15, "001"),
    ("panel_min_members", 9, "004"),
    ("panel_pool_min", 30, "004"),
    ("special_case_panel_min_members", 12, "001"),
    ("public_notice_days", 7, "004"),
    ("spot_check_ratio_dibao", 0.30, "001"),
    ("spot_check_ratio_temporary", 0.20, "001"),
    ("emergency_aid_max_yuan", 5000, "001"),
    ("min_visit_team_size", 2, "004"),
])
def test_001_002_004_defaults_are_the_domain_numbers(key, default, source):
    assert SETTINGS[key].default == default
    assert source in SETTINGS[key].about


def test_every_default_passes_its_own_check():
    for key, setting in SETTINGS.items():
        assert check_setting(key, setting.default) is None, key


# Both sides of every bound, with their sources: tests/unit/test_jurisdiction_rules.py.

def test_004_a_visit_team_of_one_cannot_be_configured():
    assert check_setting("min_visit_team_size", 1) is not None


def test_setting_types_are_strict():
    assert check_setting("dibao_deadline_working_days", True).message == "must be a number"
    assert check_setting("dibao_deadline_working_days", 12.5).message == "must be a number"
    assert check_setting("dibao_deadline_working_days", "12").message == "must be a number"
    assert check_setting("is_panel_review_held", 1).message == "must be true or false"
    assert check_setting("is_panel_review_held", False) is None
    assert check_setting("no_such_setting", 1).message == "unknown setting"


def test_002_a_township_overrides_the_county_and_the_nearest_wins():
    merged = effective_settings([
        {"dibao_deadline_working_days": 12, "is_panel_review_held": False},  # county
        {"dibao_deadline_working_days": 15},                                 # township
    ])

    assert merged["dibao_deadline_working_days"] == 15
    assert merged["is_panel_review_held"] is False
    assert merged["public_notice_days"] == 7


def test_unknown_override_keys_are_ignored():
    assert "bogus" not in effective_settings([{"bogus": 1}])


# --- CSV import: code,name,parent_code; line 1 is the header --------------------------------

def row(code, name="某地", parent=""):
    return {"code": code, "name": name, "parent_code": parent}


def test_a_tree_in_file_order_imports():
    rows = [row("530621"), row("530621101", parent="530621"),
            row("530621101203", parent="530621101")]

    parsed, errors = parse_import_rows(rows, set())

    assert errors == []
    assert [(r.line, r.code, r.parent_code) for r in parsed] == [
        (2, "530621", None), (3, "530621101", "530621"), (4, "530621101203", "530621101")]


def test_a_parent_already_loaded_is_enough():
    parsed, errors = parse_import_rows([row("530621102", parent="530621")], {"530621"})

    assert errors == [] and len(parsed) == 1


@pytest.mark.parametrize(("rows", "message"), [
    ([row("5306")], "line 2: code '5306' is not a 6, 9 or 12 digit division code"),
    ([row("530621", name="")], "line 2: name must be 1-100 characters"),
    ([row("530621", name="名" * 101)], "line 2: name must be 1-100 characters"),
    ([row("530621"), row("530621")], "line 3: code 530621 appears twice"),
    ([row("530621101", parent="530622")], "line 2: parent_code of 530621101 must be 530621"
                                          ", not 530622"),
    ([row("530621", parent="53")], "line 2: parent_code of 530621 must be empty, not 53"),
    ([row("530621101", parent="530621")],
     "line 2: parent 530621 is neither in the file above nor loaded"),
])
def test_bad_rows_are_reported_with_their_line(rows, message):
    _, errors = parse_import_rows(rows, set())

    assert errors == [message]


def test_a_name_of_100_characters_is_accepted():
    assert parse_import_rows([row("530621", name="名" * 100)], set())[1] == []
