"""POST /api/forms/import: a county administrator's XLSForm becomes the next form version,
phones pull it, drafts keep their version, and bad workbooks are 4xx naming row and column."""

import copy
import io
import zipfile

from sqlalchemy import select

from backend.audit.models import AuditEvent
from backend.forms.definition import load_definition
from backend.forms.models import FormVersion
from backend.forms.xlsform_export import export_xlsx
from tests.visit_factory import submission
from tests.xlsform_factory import SETTINGS, simple_form, workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload(api, data, username="county_admin", filename="form.xlsx"):
    return api.post(username, "/api/forms/import", data={
        "file": (io.BytesIO(data), filename, XLSX)}, content_type="multipart/form-data")


def household_survey_v2() -> tuple[dict, bytes]:
    """The household survey with one more question, exported to XLSForm without a version."""
    changed = copy.deepcopy(load_definition("household_survey", 1))
    changed["sections"][0]["fields"].append({
        "name": "has_toilet", "type": "yes_no", "required": True,
        "label": {"zh-CN": "有卫生厕所", "en": "Has a sanitary toilet"}})
    return changed, export_xlsx(changed)


def test_imported_version_reaches_phones_on_their_next_pull(api, db_session):
    before = api.get("wenping_fw1", "/api/sync/pull").get_json()
    assert [(f["form_id"], f["version"]) for f in before["forms"]] == [("household_survey", 1)]
    changed, data = household_survey_v2()
    answer = upload(api, data, filename="household_survey.xlsx")
    # The exported workbook says version 1, which is published: refused, naming the cell.
    assert answer.status_code == 422, answer.get_json()
    body = answer.get_json()
    assert body["type"] == "xlsform-invalid"
    assert body["rows"] == [{"sheet": "settings", "row": 2, "column": "version",
                             "reason": body["rows"][0]["reason"]}]
    assert "settings:2:version" in body["errors"]

    changed["version"] = 2
    created = upload(api, export_xlsx(changed))
    assert created.status_code == 201, created.get_json()
    assert created.get_json() == changed
    assert api.get("wenping_fw1", "/api/forms/household_survey/2").get_json() == changed

    after = api.get("wenping_fw1", f"/api/sync/pull?cursor={before['cursor']}").get_json()
    assert [(f["form_id"], f["version"]) for f in after["forms"]] == [
        ("household_survey", 1), ("household_survey", 2)]
    again = api.get("wenping_fw1", f"/api/sync/pull?cursor={after['cursor']}").get_json()
    assert "forms" not in again
    audit = db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "form.imported")).all()
    assert [(a.object_id, a.after["version"]) for a in audit] == [("household_survey.v2", 2)]


def test_without_a_version_the_form_becomes_the_next_one(api, db_session):
    first = upload(api, simple_form())
    assert first.status_code == 201, first.get_json()
    second = upload(api, simple_form())
    assert (first.get_json()["version"], second.get_json()["version"]) == (1, 2)
    stored = db_session.scalars(select(FormVersion.version).where(
        FormVersion.form_id == "poverty_check").order_by(FormVersion.version)).all()
    assert stored == [1, 2]
    listed = api.get("wenping_reviewer", "/api/forms").get_json()["items"]
    assert [(f["form_id"], f["version"]) for f in listed][-2:] == [
        ("poverty_check", 1), ("poverty_check", 2)]


def test_a_draft_started_on_version_1_still_syncs_after_version_2(api, db_session):
    changed, _ = household_survey_v2()
    changed["version"] = 2
    assert upload(api, export_xlsx(changed)).status_code == 201
    items = api.get("wenping_fw1", "/api/cases?assigned_to_me=true&page_size=100").get_json()
    case = next(c for c in items["items"] if c["household"]["home_lat"] is not None)
    draft = submission(case)
    assert draft["form_version"] == 1
    pushed = api.post("wenping_fw1", "/api/sync/push", json={
        "device_id": "device-aaaaaaaa", "records": [draft]}).get_json()["results"][0]
    assert pushed["status"] == "accepted", pushed
    # Version 2's new required question does not apply to a version-1 draft.
    assert "has_toilet" not in draft["data"]


def test_only_county_administrators_import(api, db_session):
    township = upload(api, simple_form(), username="wenping_admin")
    assert township.status_code == 403 and township.get_json()["type"] == "county-level-only"
    reviewer = upload(api, simple_form(), username="wenping_reviewer")
    assert reviewer.status_code == 403 and reviewer.get_json()["type"] == "forbidden"
    anonymous = api.client.post("/api/forms/import", data={
        "file": (io.BytesIO(simple_form()), "f.xlsx")}, content_type="multipart/form-data")
    assert anonymous.status_code == 401
    assert db_session.scalar(select(FormVersion.id)) is None


def test_bad_workbooks_are_problems_naming_row_and_column(api, db_session):
    def problem(data):
        response = upload(api, data)
        assert response.headers["Content-Type"] == "application/problem+json"
        return response.status_code, response.get_json()

    status, body = problem(b"this is not a workbook")
    assert (status, body["type"]) == (422, "xlsform-unreadable")

    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (40 * 1024 * 1024))
    status, body = problem(bomb.getvalue())
    assert (status, body["type"]) == (413, "xlsform-too-large")

    status, body = problem(workbook([["text", "q", "问", "Q"], ["integer", "n", "=1+1", "N"]]))
    assert (status, body["type"]) == (422, "xlsform-invalid")
    assert [(r["row"], r["column"]) for r in body["rows"]] == [(3, "label::Chinese (zh)")]

    status, body = problem(workbook([["text", "q", "问", "Q", None, "concat(${q}, 'a') = 'b'"]]))
    assert [(r["row"], r["column"]) for r in body["rows"]] == [(2, "relevant")]
    assert "concat()" in body["rows"][0]["reason"]

    status, body = problem(workbook([["text", "q", "问", "Q"], ["integer", "q", "数", "N"]]))
    assert [(r["row"], r["column"]) for r in body["rows"]] == [(3, "name")]

    status, body = problem(workbook([["text", f"q{i}", "问", "Q"] for i in range(10_000)]))
    assert status == 422 and [(r["row"], r["column"]) for r in body["rows"]] == [(2002, "type")]

    missing = api.post("county_admin", "/api/forms/import", data={},
                       content_type="multipart/form-data")
    assert missing.status_code == 422 and missing.get_json()["type"] == "validation-failed"
    assert db_session.scalar(select(FormVersion.id)) is None


def test_settings_without_form_id_take_the_file_name(api, db_session):
    settings = {k: v for k, v in SETTINGS.items() if k != "form_id"}
    created = upload(api, workbook([["text", "q", "问", "Q"]], settings=settings),
                     filename="village-check.xlsx")
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["form_id"] == "village_check"


def test_an_unknown_or_absurd_version_is_not_found(api):
    for path in ("/api/forms/household_survey/3", "/api/forms/nope/1",
                 "/api/forms/household_survey/99999999999999999999"):
        response = api.get("wenping_fw1", path)
        assert response.status_code == 404 and response.get_json()["type"] == "form-not-found"


def test_the_form_desk_lists_versions_with_who_imported_them(api, db_session):
    listed = api.get("county_admin", "/api/forms/versions").get_json()["items"]
    assert [(i["form_id"], i["version"], i["source"]) for i in listed
            if i["form_id"] == "household_survey"] == [("household_survey", 1, "shipped")]
    changed, _ = household_survey_v2()
    changed["version"] = 2
    assert upload(api, export_xlsx(changed), filename="入户调查v2.xlsx").status_code == 201
    listed = api.get("county_admin", "/api/forms/versions").get_json()["items"]
    newest = [i for i in listed if i["form_id"] == "household_survey"]
    assert [(i["version"], i["source"]) for i in newest] == [(2, "imported"), (1, "shipped")]
    assert newest[0]["source_filename"] == "入户调查v2.xlsx"
    assert newest[0]["imported_by"] and newest[0]["imported_at"]
    assert newest[0]["question_count"] == newest[1]["question_count"] + 1
    # Who imported what is for administrators; a reviewer is refused.
    refused = api.get("wenping_reviewer", "/api/forms/versions")
    assert refused.status_code == 403 and refused.get_json()["type"] == "forbidden"
