"""Review exports (issue 10): XLSX (visits and members sheets) and CSV, one row per visit,
masked in every column (issue 22: masked for every role unless an approver authorised a full
export), scoped, streamed, and safe to open in a spreadsheet (UTF-8 BOM, no formula
injection)."""

from __future__ import annotations

import csv
import glob
import io
import os
import re
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


def authorisation(api, exporter="wenping_reviewer", purpose="verify_household_register"):
    """An approver's leave for one full export: the query fragment that spends it."""
    response = api.post("wenping_approver", "/api/personal-data/export-authorisations",
                        json={"exporter_id": api.user_id(exporter), "purpose": purpose})
    assert response.status_code == 201, response.get_json()
    return f"&authorisation={response.get_json()['id']}"


def csv_rows(api, username, query="lang=en"):
    response = api.get(username, f"/api/reviews/export.csv?{query}")
    assert response.status_code == 200, response.get_json()
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    text = raw.decode("utf-8-sig")
    table = text.split("\r\n\r\n", 1)[1] if "authorisation=" in query else text
    return text, list(csv.DictReader(io.StringIO(table)))


def workbook(api, username, query="lang=en", with_properties=False):
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
        if sheet.title in ("Authorisation", "导出授权"):
            sheets[sheet.title] = rows
            continue
        sheets[sheet.title] = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    properties = book.properties
    book.close()
    return (sheets, properties) if with_properties else sheets


def everything(sheets) -> str:
    return "\n".join(str(v) for rows in sheets.values()
                     for row in rows for v in (row.values() if isinstance(row, dict) else row))


def test_csv_one_row_per_visit_with_its_answers(api, visit):
    _, rows = csv_rows(api, "wenping_reviewer")
    row = next(r for r in rows if r["Visit ID"] == visit["id"])
    assert row["Case ID"] == visit["case_id"]
    assert row["Review state"] == "Received" and row["Revision"] == "1"
    assert "Stamp far from home" in row["Integrity flags"]
    assert row["Duration (minutes)"] == "25"
    assert row["Housing area (m²)"] == "45.5"
    assert row["Village"] and row["Visit team"]
    assert len({r["Visit ID"] for r in rows}) == len(rows)


def test_csv_members_sheet(api, visit):
    _, rows = csv_rows(api, "wenping_reviewer", "lang=en&sheet=members")
    mine = [r for r in rows if r["Visit ID"] == visit["id"]]
    assert [(r["Row"], r["Resident ID"]) for r in mine] == [
        ("0", "5306**********022X"), ("1", "5306**********0014")]


def test_csv_defuses_formulas(api, visit):
    _, rows = csv_rows(api, "wenping_reviewer")
    row = next(r for r in rows if r["Visit ID"] == visit["id"])
    assert row["Notes"] == "'" + NASTY["notes"]
    assert row["Actual address"] == "'" + NASTY["actual_address"]
    assert row["Head of household"] == "'" + NASTY["head_name"]
    assert row["Duration (minutes)"].isdigit()  # numbers stay numbers


def test_csv_headers_default_to_chinese(api, visit):
    text, _ = csv_rows(api, "wenping_reviewer", "")
    assert text.splitlines()[0].startswith("入户编号,受理编号,案件ID")
    # Issue 21: the case number people read, not only the UUID.
    import csv
    import io
    import re

    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and all(re.fullmatch(r"文屏〔\d{4}〕\w{2}第 \d{4} 号", r["受理编号"]) for r in rows)


def test_xlsx_has_visits_and_members_sheets(api, visit):
    sheets = workbook(api, "wenping_reviewer", "lang=en" + authorisation(api))
    assert list(sheets) == ["Authorisation", "Visits", "Members"]
    row = next(r for r in sheets["Visits"] if r["Visit ID"] == visit["id"])
    assert row["Head's resident ID"] == HEAD_ID and row["Contact mobile"] == MOBILE
    assert row["Housing area (m²)"] == 45.5 and row["Risk score"].startswith("Alert ")
    # text is text in a workbook: never a formula
    assert row["Notes"] == NASTY["notes"] and row["Head of household"] == NASTY["head_name"]
    members = [r for r in sheets["Members"] if r["Visit ID"] == visit["id"]]
    assert [r["Resident ID"] for r in members] == [HEAD_ID, SPOUSE_ID]
    zh = workbook(api, "wenping_reviewer", "")
    assert list(zh) == ["入户", "家庭成员"]


@pytest.mark.parametrize(("username", "sees_id", "sees_phone"), [
    ("wenping_reviewer", False, False),
    ("wenping_approver", False, False),
    ("county_supervisor", False, False),
    ("county_admin", False, False),
    ("wenping_reviewer+authorised", True, True),
])
def test_masking_in_every_column_per_role(api, visit, username, sees_id, sees_phone):
    username, _, authorised = username.partition("+")
    leave = (lambda: authorisation(api, username)) if authorised else (lambda: "")
    sheets = workbook(api, username, "lang=en" + leave())
    text_csv, _ = csv_rows(api, username, "lang=en" + leave())
    members_csv, _ = csv_rows(api, username, "lang=en&sheet=members" + leave())
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
    assert all("Stamp far from home" in r["Integrity flags"] for r in flagged)
    move(api, visit, "approved")
    _, approved = csv_rows(api, "wenping_reviewer", "lang=en&state=approved")
    assert [r["Visit ID"] for r in approved] == [visit["id"]]
    _, received = csv_rows(api, "wenping_reviewer", "lang=en&state=received")
    assert visit["id"] not in {r["Visit ID"] for r in received}


def test_export_follows_the_queue_order_across_batches(api, monkeypatch):
    from backend.reviews import exports

    monkeypatch.setattr(exports, "EXPORT_BATCH", 2)
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


# A cell that is a slug: lowercase Latin words joined by _ or -, or one of the form's choice
# values (head, male, owned ...), where a person should read a word.
SLUG = re.compile(r"^[a-z]+(?:[_-][a-z]+)*$")


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_export_column_holds_words_not_slugs(api, visit, lang):
    """Issue 21: every value of every column, both sheets, in the reader's language: the
    review state, flags, housing type and each member's relation, sex, health and work
    status from the desk's language file or the form's labels; the risk as counts of
    alerts and warnings, not 20000; minutes as whole minutes, not 38.0."""
    sheets = workbook(api, "wenping_reviewer", f"lang={lang}")
    found = []
    for title, rows in sheets.items():
        assert rows, title
        for row in rows:
            for column, value in row.items():
                if isinstance(value, str) and SLUG.match(value):
                    found.append((title, column, value))
                if isinstance(value, float) and value.is_integer() and "分钟" in column:
                    found.append((title, column, value))
    assert found == []
    visits = sheets["入户" if lang == "zh-CN" else "Visits"]
    row = next(r for r in visits if visit["id"] in r.values())
    risk = row["风险分" if lang == "zh-CN" else "Risk score"]
    assert isinstance(risk, str) and not risk.isdigit()
    if lang == "zh-CN":
        assert row["异常标记"] and not re.search(r"[a-z]", row["异常标记"])
        members = [r for r in sheets["家庭成员"] if r["入户编号"] == visit["id"]]
        assert [r["与户主关系"] for r in members] == ["户主", "配偶"]
        assert {r["性别"] for r in members} <= {"男", "女"}


# --- issue 22: a full export needs an approver's authorisation and says so inside the file ---

def test_a_full_export_carries_who_made_it_who_authorised_it_and_why(api, visit, db_session):
    from sqlalchemy import select

    from backend.audit.models import AuditEvent
    from backend.privacy.models import PersonalDataRead

    leave = authorisation(api, purpose="bank_payment_setup")
    sheets, properties = workbook(api, "wenping_reviewer", "lang=zh-CN" + leave,
                                  with_properties=True)
    assert list(sheets)[0] == "导出授权"
    facts = {row[0]: row[1] if len(row) > 1 else None for row in sheets["导出授权"]}
    assert "完整导出（未脱敏）" in facts
    assert facts["用途"] == "办理银行代发"
    assert facts["授权编号"] == leave.split("=")[1]
    assert facts["导出人"] and facts["授权人"] and facts["导出人"] != facts["授权人"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", facts["导出时间"])
    assert properties.creator == facts["导出人"]
    assert properties.keywords == leave.split("=")[1]
    assert "办理银行代发" in properties.description
    reads = db_session.scalars(select(PersonalDataRead).where(
        PersonalDataRead.authorisation_id == leave.split("=")[1])).all()
    assert [(r.kind, r.actor_id, r.purpose) for r in reads] == [
        ("full_export", api.user_id("wenping_reviewer"), "bank_payment_setup")]
    assert db_session.scalar(select(AuditEvent).where(
        AuditEvent.action == "privacy.full_exported"))


def test_a_full_csv_export_says_so_before_its_header(api, visit):
    text, rows = csv_rows(api, "wenping_reviewer", "lang=en" + authorisation(api))
    assert text.lstrip("\ufeff").startswith("Full export (not masked)")
    assert "Authorised by" in text.split("\r\n\r\n")[0]
    assert any(r["Head's resident ID"] == HEAD_ID for r in rows)


@pytest.mark.parametrize("case", ["none", "someone_elses", "used", "unknown"])
def test_a_full_export_without_a_valid_authorisation_is_refused_and_shows_nothing(
        api, visit, case):
    leave = {"none": "", "unknown": "&authorisation=nope",
             "someone_elses": authorisation(api, exporter="wenping_intake"),
             "used": authorisation(api)}[case]
    if case == "used":
        assert api.get("wenping_reviewer", f"/api/reviews/export.csv?lang=en{leave}"
                       ).status_code == 200
    if case == "none":
        return  # no authorisation: a masked export (test_masking_in_every_column_per_role)
    response = api.get("wenping_reviewer", f"/api/reviews/export.xlsx?lang=en{leave}")
    assert response.status_code == 403
    assert response.get_json()["type"].endswith("export-not-authorised")
    assert HEAD_ID.encode() not in response.get_data()


@pytest.mark.parametrize("username", ["wenping_reviewer", "county_supervisor", "wenping_fw1"])
def test_only_an_approver_authorises_a_full_export(api, username):
    response = api.post(username, "/api/personal-data/export-authorisations", json={
        "exporter_id": api.user_id("wenping_reviewer"), "purpose": "verify_household_register"})
    assert response.status_code == 403


def test_a_full_export_authorisation_needs_a_purpose_and_an_exporter_who_may(api):
    no_purpose = api.post("wenping_approver", "/api/personal-data/export-authorisations",
                          json={"exporter_id": api.user_id("wenping_reviewer")})
    assert no_purpose.status_code == 422
    assert no_purpose.get_json()["type"].endswith("reveal-purpose-required")
    supervisor = api.post("wenping_approver", "/api/personal-data/export-authorisations",
                          json={"exporter_id": api.user_id("county_supervisor"),
                                "purpose": "verify_household_register"})
    assert supervisor.status_code == 403
    oneself = api.post("wenping_approver", "/api/personal-data/export-authorisations",
                       json={"exporter_id": api.user_id("wenping_approver"),
                             "purpose": "verify_household_register"})
    assert oneself.status_code == 403  # four eyes: nobody authorises their own full export
