"""Review exports (issue 10): XLSX (visits and members sheets) and CSV, one row per visit,
masked per role in every column exactly as the evidence view, scoped, streamed, and safe to
open in a spreadsheet (UTF-8 BOM, no formula injection)."""

from __future__ import annotations

import csv
import glob
import io
import os
import tempfile

import openpyxl
import pytest

from tests.api.test_reviews import assigned_case, move, problem, push
from tests.visit_factory import member, submission, survey_answers

HEAD_ID = "53062119560309022X"
SPOUSE_ID = "530621195501010014"
MOBILE = "13912345678"
NASTY = {"notes": "=HYPERLINK(\"http://evil\",\"x\")", "actual_address": "+1+2 村口",
         "head_name": "@SUM(1)"}


@pytest.fixture
def visit(api):
    case = assigned_case(api)
    record = submission(case, offset_m=5000, data=survey_answers(
        contact_mobile=MOBILE, notes=NASTY["notes"], actual_address=NASTY["actual_address"],
        members=[member(name=NASTY["head_name"]),
                 member(name="李建国", relation="spouse", id_number=SPOUSE_ID, age=71)]))
    push(api, [record])
    return record


def csv_rows(api, username, query="lang=en"):
    response = api.get(username, f"/api/reviews/export.csv?{query}")
    assert response.status_code == 200, response.get_json()
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    text = raw.decode("utf-8-sig")
    return text, list(csv.DictReader(io.StringIO(text)))


def workbook(api, username, query="lang=en"):
    # A temporary directory of this test's own: other workers export at the same time.
    private = tempfile.mkdtemp(prefix="export-test-")
    saved, tempfile.tempdir = tempfile.tempdir, private
    try:
        response = api.get(username, f"/api/reviews/export.xlsx?{query}")
        assert response.status_code == 200, response.get_json()
        assert response.mimetype.endswith("spreadsheetml.sheet")
        assert glob.glob(os.path.join(private, "doorstep-export-*"))  # written to disk first
        data = response.get_data()
    finally:
        tempfile.tempdir = saved
    assert int(response.headers["Content-Length"]) == len(data)
    # the temporary file is gone once streamed
    assert os.listdir(private) == []
    os.rmdir(private)
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    sheets = {}
    for sheet in book.worksheets:
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        sheets[sheet.title] = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    book.close()
    return sheets


def everything(sheets) -> str:
    return "\n".join(str(v) for rows in sheets.values() for row in rows for v in row.values())


def test_csv_one_row_per_visit_with_its_answers(api, visit):
    _, rows = csv_rows(api, "wenping_reviewer")
    row = next(r for r in rows if r["Visit ID"] == visit["id"])
    assert row["Case ID"] == visit["case_id"]
    assert row["Review state"] == "received" and row["Revision"] == "1"
    assert "stamp-far-from-home" in row["Integrity flags"]
    assert row["Duration (minutes)"] == "25.0"
    assert row["Housing area (m²)"] == "45.5"
    assert row["Village"] and row["Visit team"]
    assert len({r["Visit ID"] for r in rows}) == len(rows)


def test_csv_members_sheet(api, visit):
    _, rows = csv_rows(api, "wenping_reviewer", "lang=en&sheet=members")
    mine = [r for r in rows if r["Visit ID"] == visit["id"]]
    assert [(r["Row"], r["Resident ID"]) for r in mine] == [("0", HEAD_ID), ("1", SPOUSE_ID)]


def test_csv_defuses_formulas(api, visit):
    _, rows = csv_rows(api, "wenping_reviewer")
    row = next(r for r in rows if r["Visit ID"] == visit["id"])
    assert row["Notes"] == "'" + NASTY["notes"]
    assert row["Actual address"] == "'" + NASTY["actual_address"]
    assert row["Head of household"] == "'" + NASTY["head_name"]
    assert row["Risk score"].isdigit()  # numbers stay numbers


def test_csv_headers_default_to_chinese(api, visit):
    text, _ = csv_rows(api, "wenping_reviewer", "")
    assert text.splitlines()[0].startswith("入户编号,案件编号")


def test_xlsx_has_visits_and_members_sheets(api, visit):
    sheets = workbook(api, "wenping_reviewer")
    assert list(sheets) == ["Visits", "Members"]
    row = next(r for r in sheets["Visits"] if r["Visit ID"] == visit["id"])
    assert row["Head's resident ID"] == HEAD_ID and row["Contact mobile"] == MOBILE
    assert row["Housing area (m²)"] == 45.5 and isinstance(row["Risk score"], int)
    # text is text in a workbook: never a formula
    assert row["Notes"] == NASTY["notes"] and row["Head of household"] == NASTY["head_name"]
    members = [r for r in sheets["Members"] if r["Visit ID"] == visit["id"]]
    assert [r["Resident ID"] for r in members] == [HEAD_ID, SPOUSE_ID]
    zh = workbook(api, "wenping_reviewer", "")
    assert list(zh) == ["入户", "家庭成员"]


@pytest.mark.parametrize(("username", "sees_id", "sees_phone"), [
    ("wenping_reviewer", True, True),
    ("wenping_approver", True, True),
    ("county_supervisor", False, False),
    ("county_admin", False, False),
])
def test_masking_in_every_column_per_role(api, visit, username, sees_id, sees_phone):
    sheets = workbook(api, username)
    text_csv, _ = csv_rows(api, username)
    members_csv, _ = csv_rows(api, username, "lang=en&sheet=members")
    assert (HEAD_ID in text_csv) is sees_id and (SPOUSE_ID in members_csv) is sees_id
    assert (MOBILE in text_csv) is sees_phone
    row = next(r for r in sheets["Visits"] if r["Visit ID"] == visit["id"])
    members = [r for r in sheets["Members"] if r["Visit ID"] == visit["id"]]
    if sees_id:
        assert row["Head's resident ID"] == HEAD_ID
        assert [m["Resident ID"] for m in members] == [HEAD_ID, SPOUSE_ID]
    else:
        assert row["Head's resident ID"] == "5306**********022X"
        assert [m["Resident ID"] for m in members] == ["5306**********022X",
                                                      "5306**********0014"]
        for output in (everything(sheets), text_csv, members_csv):
            assert HEAD_ID not in output and SPOUSE_ID not in output
    assert (row["Contact mobile"] == MOBILE) is sees_phone
    if not sees_phone:
        for output in (everything(sheets), text_csv, members_csv):
            assert MOBILE not in output


def test_exports_are_scoped_and_filtered(api, visit):
    _, other = csv_rows(api, "longtoushan_reviewer")
    assert visit["id"] not in {r["Visit ID"] for r in other}
    assert visit["id"] not in {r["Visit ID"] for r in workbook(api, "longtoushan_reviewer")[
        "Visits"]}
    _, county = csv_rows(api, "county_supervisor")
    assert visit["id"] in {r["Visit ID"] for r in county}
    _, flagged = csv_rows(api, "wenping_reviewer", "lang=en&flag=stamp-far-from-home")
    assert visit["id"] in {r["Visit ID"] for r in flagged}
    assert all("stamp-far-from-home" in r["Integrity flags"] for r in flagged)
    move(api, visit, "approved")
    _, approved = csv_rows(api, "wenping_reviewer", "lang=en&state=approved")
    assert [r["Visit ID"] for r in approved] == [visit["id"]]
    _, received = csv_rows(api, "wenping_reviewer", "lang=en&state=received")
    assert visit["id"] not in {r["Visit ID"] for r in received}


def test_export_follows_the_queue_order_across_batches(api, monkeypatch):
    from backend.reviews import service

    monkeypatch.setattr(service, "EXPORT_BATCH", 2)
    case = assigned_case(api)
    push(api, [submission(case, offset_m=5000 if i % 2 else 0) for i in range(5)])
    queue = api.get("wenping_reviewer", "/api/reviews?limit=200").get_json()["items"]
    _, rows = csv_rows(api, "wenping_reviewer")
    assert [r["Visit ID"] for r in rows] == [q["submission_id"] for q in queue]


def test_field_workers_cannot_export(api):
    for path in ("/api/reviews/export.csv", "/api/reviews/export.xlsx"):
        problem(api.get("wenping_fw1", path), 403, "forbidden")
        assert api.client.get(path).status_code == 401
    problem(api.get("wenping_reviewer", "/api/reviews/export.csv?sheet=cases"),
            422, "validation-failed")
