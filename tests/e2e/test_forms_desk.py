"""XLSForm in, end to end (issue 24): a county administrator imports a workbook on the form
desk (a refused one first, its problems listed by sheet, row and column), a field worker's
phone pulls the new version, fills it in without signal and syncs it."""

from __future__ import annotations

import copy
import json

import pytest

from backend.forms.definition import load_definition
from backend.forms.xlsform_export import export_xlsx
from tests.e2e.accessibility import axe_violations
from tests.e2e.test_visit_offline import (  # noqa: F401 - the phone fixture
    field_phone,
    fill_survey_offline,
    server_visit,
)
from tests.e2e.waits import wait_until

pytestmark = pytest.mark.e2e
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def household_survey(version) -> bytes:
    """The household survey with one more required question, as an XLSForm workbook."""
    changed = copy.deepcopy(load_definition("household_survey", 1))
    changed["version"] = version
    changed["sections"][0]["fields"].append({
        "name": "has_toilet", "type": "yes_no", "required": True,
        "label": {"zh-CN": "有卫生厕所", "en": "Has a sanitary toilet"}})
    return export_xlsx(changed)


def ready(page):
    page.wait_for_selector("#main[data-view=forms][data-ready=true]", state="attached")


def choose(page, name: str, data: bytes):
    page.set_input_files("#form-file", files=[{"name": name, "mimeType": XLSX, "buffer": data}])


def test_an_imported_form_reaches_the_phone_and_its_visit_syncs(
        desk, field_phone, context, live_server):  # noqa: F811 - the imported fixture
    admin = desk("county_admin")
    admin.click(".desk-nav a[href='#/forms']")
    ready(admin)
    assert admin.locator("#forms-list tr[data-form-id=household_survey]").count() == 1
    assert "系统自带" in admin.inner_text("#forms-list tr[data-form-id=household_survey]")
    assert axe_violations(admin) == []

    # Version 1 is published already: refused, the cell named, nothing published.
    choose(admin, "入户调查表.xlsx", household_survey(1))
    admin.click("#form-import")
    admin.wait_for_selector("#forms-problems-table tbody tr")
    row = admin.locator("#forms-problems-table tbody tr").first
    assert row.get_attribute("data-sheet") == "settings" and row.get_attribute("data-row") == "2"
    assert "version" in row.inner_text()
    assert "表格中有无法导入的内容" in admin.inner_text("#forms-problem")
    assert admin.locator("#forms-list tr[data-version='2']").count() == 0
    assert axe_violations(admin) == []

    choose(admin, "入户调查表v2.xlsx", household_survey(2))
    admin.click("#form-import")
    admin.wait_for_selector("#forms-created")
    ready(admin)
    assert "第 2 版" in admin.inner_text("#forms-created")
    imported = admin.locator("#forms-list tr[data-form-id=household_survey][data-version='2']")
    assert "入户调查表v2.xlsx" in imported.inner_text()
    assert axe_violations(admin) == []

    # The phone's next pull brings version 2; a new visit is filled in on it, offline.
    phone = field_phone
    phone.click("#pull-now")
    # An IndexedDB state: wait_until, as wait_for_function ends at once on an async predicate
    # (it did, and a slow pull then left the survey on version 1 once in six runs).
    wait_until(phone, """async () => {
        const { all } = await import('/static/js/store.js');
        return (await all('forms')).some(
            (f) => f.form_id === 'household_survey' && f.version === 2);
    }""", message="version 2 of the household survey never reached the phone")
    case_id = fill_survey_offline(phone, context)
    context.set_offline(False)
    phone.goto("/#/outbox")
    phone.click("#send-now")
    phone.wait_for_selector("#outbox-list li[data-status=accepted]", timeout=60_000)

    held = server_visit(live_server, case_id)
    content = held["revisions"][0]["content"]
    content = json.loads(content) if isinstance(content, str) else content
    with live_server.app.app_context():
        from sqlalchemy import text

        from backend.extensions import db

        versions = db.session.execute(text(
            "SELECT form_id, form_version FROM visit_submission WHERE case_id = :c"),
            {"c": case_id}).all()
        db.session.remove()
    # Version first: an answer missing from a visit on the old form says nothing of the taps.
    assert [tuple(v) for v in versions] == [("household_survey", 2)], content
    assert content["data"].get("has_toilet") is True, content
