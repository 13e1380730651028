"""Jurisdiction import (CLI) and per-place settings."""

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
    ok = api.patch("wenping_admin", path, json={"settings": {"public_notice_days": 5}})
    assert ok.get_json()["settings"]["public_notice_days"] == 5


def test_other_township_settings_are_hidden(api):
    response = api.get("wenping_reviewer", "/api/jurisdictions/530621101/settings")
    assert response.status_code == 404
