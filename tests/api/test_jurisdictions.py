"""Jurisdiction import (CLI) and per-place settings."""

from sqlalchemy import String, literal, select

from backend.jurisdictions import service as jurisdictions
from backend.jurisdictions.models import Jurisdiction


def run(app, *args, input=None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def test_import_adds_then_renames_without_duplicates(app, db_session, tmp_path):
    csv_file = tmp_path / "tree.csv"
    csv_file.write_text("code,name,parent_code\n530622,巧家县,\n530622100,白鹤滩镇,530622\n"
                        "530622100201,金塘村,530622100\n", encoding="utf-8")
    first = run(app, "import-jurisdictions", str(csv_file))
    assert first.exit_code == 0, first.output
    assert "added 3" in first.output
    csv_file.write_text("code,name,parent_code\n530622,巧家县,\n530622100,白鹤滩街道,530622\n"
                        "530622100202,新村,530622100\n", encoding="utf-8")
    second = run(app, "import-jurisdictions", str(csv_file))
    assert "added 1, renamed 1" in second.output
    assert db_session.get(Jurisdiction, "530622100").name == "白鹤滩街道"
    assert db_session.query(Jurisdiction).filter(Jurisdiction.code.like("530622%")).count() == 4


def test_bad_row_is_reported_by_line_and_nothing_is_imported(app, db_session, tmp_path):
    csv_file = tmp_path / "bad.csv"
    csv_file.write_text("code,name,parent_code\n530623,永善县,\n530623100,溪洛渡街道,530623\n"
                        "53062310x201,坏村,530623100\n", encoding="utf-8")
    result = run(app, "import-jurisdictions", str(csv_file))
    assert result.exit_code != 0
    assert "line 4" in result.output
    assert db_session.get(Jurisdiction, "530623") is None


def test_parent_must_match_the_code(app, db_session, tmp_path):
    csv_file = tmp_path / "bad.csv"
    csv_file.write_text("code,name,parent_code\n530621100299,错村,530621101\n", encoding="utf-8")
    result = run(app, "import-jurisdictions", str(csv_file))
    assert "line 2" in result.output and result.exit_code != 0


def test_create_user_command(app, db_session):
    result = run(app, "create-user", "--username", "new_fw",
                 "--role", "field_worker", "--role", "village_assistant",
                 "--jurisdiction", "530621100", input="long-enough-1\nlong-enough-1\n")
    assert result.exit_code == 0, result.output
    bad = run(app, "create-user", "--username", "x2", "--role",
              "field_worker", "--jurisdiction", "530621100", input="short\nshort\n")
    assert bad.exit_code != 0 and "password" in bad.output


def test_settings_inherit_and_override(api):
    wenping = api.get("wenping_reviewer", "/api/jurisdictions/530621100/settings").get_json()
    longtou = api.get("longtoushan_reviewer", "/api/jurisdictions/530621101/settings").get_json()
    assert wenping["settings"]["dibao_deadline_working_days"] == 20
    assert longtou["settings"]["dibao_deadline_working_days"] == 12
    assert longtou["settings"]["is_panel_review_held"] is False
    village = api.get("longtoushan_reviewer", "/api/jurisdictions/530621101201/settings")
    assert village.get_json()["settings"]["dibao_deadline_working_days"] == 12


def test_settings_changes_are_validated_and_admin_only(api):
    path = "/api/jurisdictions/530621100/settings"
    assert api.patch("wenping_reviewer", path,
                     json={"settings": {"public_notice_days": 5}}).status_code == 403
    bad = api.patch("wenping_admin", path, json={"settings": {"public_notice_days": "seven",
                                                              "made_up": 1}})
    assert bad.status_code == 422
    assert set(bad.get_json()["errors"]) == {"public_notice_days", "made_up"}
    ok = api.patch("wenping_admin", path, json={"settings": {"public_notice_days": 10}})
    assert ok.get_json()["settings"]["public_notice_days"] == 10


def test_settings_looser_than_the_law_are_refused_naming_the_rule(api, db_session):
    path = "/api/jurisdictions/530621100/settings"
    response = api.patch("wenping_admin", path, json={"settings": {
        "public_notice_days": 6, "panel_min_members": 8, "panel_pool_min": 29,
        "special_case_panel_min_members": 11, "spot_check_ratio_dibao": 0.25,
        "spot_check_ratio_temporary": 0.1, "dibao_deadline_working_days": 21,
        "dibao_extended_deadline_working_days": 31, "temporary_deadline_working_days": 16,
        "emergency_aid_max_yuan": 6000, "min_visit_team_size": 1}})
    assert response.status_code == 422
    assert response.headers["Content-Type"].startswith("application/problem+json")
    problem = response.get_json()
    assert problem["type"] == "setting-out-of-bounds"
    assert problem["sources"] == {
        "public_notice_days": "004", "panel_min_members": "004", "panel_pool_min": "004",
        "special_case_panel_min_members": "001", "spot_check_ratio_dibao": "001",
        "spot_check_ratio_temporary": "001", "dibao_deadline_working_days": "001",
        "dibao_extended_deadline_working_days": "001", "temporary_deadline_working_days": "001",
        "emergency_aid_max_yuan": "001", "min_visit_team_size": "004"}
    assert problem["errors"]["public_notice_days"] == ["must be at least 7 (rule 004)"]
    assert problem["errors"]["emergency_aid_max_yuan"] == ["must be at most 5000 (rule 001)"]
    settings = api.get("wenping_admin", path).get_json()["settings"]
    assert settings["public_notice_days"] == 7 and settings["min_visit_team_size"] == 2


def test_extended_deadline_shorter_than_the_deadline_is_refused(api, db_session):
    response = api.patch("wenping_admin", "/api/jurisdictions/530621100/settings",
                         json={"settings": {"dibao_extended_deadline_working_days": 19}})
    assert response.status_code == 422
    assert response.get_json()["sources"] == {"dibao_extended_deadline_working_days": "001"}


def test_integrity_thresholds_are_changed_only_at_county_level(api, db_session):
    township = "/api/jurisdictions/530621100/settings"
    refused = api.patch("wenping_admin", township,
                        json={"settings": {"max_home_distance_m": 5000}})
    assert refused.status_code == 403
    assert refused.get_json()["type"] == "county-level-only"
    assert set(refused.get_json()["errors"]) == {"max_home_distance_m"}
    village = api.patch("wenping_admin", "/api/jurisdictions/530621100201/settings",
                        json={"settings": {"min_visit_minutes": 1}})
    assert village.status_code == 403
    assert api.get("wenping_admin", township).get_json()["settings"][
        "max_home_distance_m"] == 500
    # Other settings stay the township's own.
    assert api.patch("wenping_admin", township,
                     json={"settings": {"panel_min_members": 11}}).status_code == 200
    # The county administrator may set them, for the county or one township.
    for path in (township, "/api/jurisdictions/530621/settings"):
        ok = api.patch("county_admin", path, json={"settings": {"max_home_distance_m": 300}})
        assert ok.status_code == 200, ok.get_json()
        assert ok.get_json()["settings"]["max_home_distance_m"] == 300


def test_the_002_style_township_sets_temporary_aid_to_12_days(api):
    settings = api.get("longtoushan_reviewer",
                       "/api/jurisdictions/530621101/settings").get_json()["settings"]
    assert settings["temporary_deadline_working_days"] == 12
    assert settings["dibao_deadline_working_days"] == 12


def test_other_township_settings_are_hidden(api):
    response = api.get("wenping_reviewer", "/api/jurisdictions/530621101/settings")
    assert response.status_code == 404


def test_settings_read_beside_a_row_of_their_place_equal_the_settings_read_alone(db_session):
    """A push of one visit reads its village's settings beside the case, the ancestors found
    by the code's 6- and 9-digit prefixes in SQL (issue 23): each level's overrides count,
    the nearest winning, as `effective_settings` has them."""
    village, township, county = "530621100201", "530621100", "530621"
    jurisdictions.update_settings(county, {"max_home_distance_m": 900,
                                           "max_speed_kmh": 120})
    jurisdictions.update_settings(township, {"max_home_distance_m": 700})
    jurisdictions.update_settings(village, {"max_speed_kmh": 90})
    db_session.flush()
    dialect = db_session.get_bind().dialect.name
    for place in (village, township, county, "530621100202"):
        joined = db_session.scalar(select(jurisdictions.overrides_of_place_joinable(
            dialect, literal(place, String))))
        settings = jurisdictions.settings_from_joined(place, joined)
        assert settings == jurisdictions.effective_settings(place), place
    village_settings = jurisdictions.settings_from_joined(village, db_session.scalar(select(
        jurisdictions.overrides_of_place_joinable(dialect, literal(village, String)))))
    assert (village_settings["max_home_distance_m"], village_settings["max_speed_kmh"]) == \
        (700, 90)
