"""Privacy in real Chromium (issue 22), each screen with axe 0 violations:

- a reviewer reveals one resident ID with a purpose (显示完整号码), and the county
  supervisor sees that reveal in the report, filtered by the reviewer;
- a recipient sees on the check-in app which staff saw their full ID number, and when;
- an approver authorises a full export, the reviewer makes it, and the file names its
  authorisation (a first sheet and the document properties); the screen shows it used.
"""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import select

from tests.conftest import Api
from tests.e2e.accessibility import assert_accessible
from tests.e2e.test_checkin import enrol

pytestmark = pytest.mark.e2e

PIN = "204815"


def a_household(app, village="530621100201"):
    from backend.extensions import db
    from backend.households.models import Household

    with app.app_context():
        household = db.session.scalars(select(Household).where(
            Household.jurisdiction_code == village).order_by(Household.id)).first()
        member = next(m for m in household.members if m.id_number)
        answer = household.id, member.id, member.id_number, member.name
        db.session.remove()
        return answer


def open_screen(page, hash_, view):
    page.goto(f"/#/{hash_}")
    page.wait_for_selector(f"#main[data-view={view}][data-ready=true]")


def test_a_reviewer_reveals_an_id_with_a_purpose_and_the_supervisor_sees_it(live_server, desk):
    household_id, member_id, full_id, _ = a_household(live_server.app)
    reviewer = desk("wenping_reviewer")
    open_screen(reviewer, f"privacy-household/{household_id}", "privacy-household")
    masked = reviewer.text_content(f"#privacy-members tr[data-member-id='{member_id}']")
    assert full_id not in masked and full_id[-4:] in masked
    assert_accessible(reviewer, "household members, masked")
    reviewer.click(f"#reveal-{member_id}-id_number")
    reviewer.wait_for_selector(f"#reveal-{member_id}-id_number-form")
    # No purpose chosen: refused, nothing shown.
    reviewer.click(f"#reveal-{member_id}-id_number-confirm")
    reviewer.wait_for_selector(f"#reveal-{member_id}-id_number-error:text('用途')")
    assert full_id not in reviewer.text_content("#main")
    assert_accessible(reviewer, "reveal form with its error")
    reviewer.select_option(f"#reveal-{member_id}-id_number-purpose", "verify_household_register")
    reviewer.click(f"#reveal-{member_id}-id_number-confirm")
    reviewer.wait_for_selector(f"#full-{member_id}-id_number")
    assert reviewer.text_content(f"#full-{member_id}-id_number") == full_id
    assert_accessible(reviewer, "household members, one number revealed")

    supervisor = desk("county_supervisor")
    open_screen(supervisor, "privacy-report", "privacy-report")
    row = supervisor.locator(f"#report-table tr[data-household-id='{household_id}']")
    assert row.count() == 1
    text = row.text_content()
    assert "核对户籍登记" in text and "身份证号" in text and "查看完整号码" in text
    assert full_id not in supervisor.text_content("#main")
    assert_accessible(supervisor, "the supervisor's report")
    supervisor.select_option("#report-household", household_id)
    supervisor.click("#report-apply")
    supervisor.wait_for_function("""() => location.hash.includes('household_id')
        && document.querySelector('#main')?.dataset.ready === 'true'""")
    supervisor.wait_for_selector("#report-table tbody tr[data-kind=reveal]")
    assert supervisor.locator("#report-table tbody tr").count() == 1
    assert_accessible(supervisor, "the report, filtered by household")


def test_a_recipient_sees_who_viewed_their_id_number(live_server, context, page):
    app = live_server.app
    app.config["IDENTITY_VERIFIER"] = "none"
    code, _ = enrol(app, index=1, phone="13912340022")
    from backend.checkins.models import PHONE_PURPOSE, Recipient
    from backend.encryption.columns import blind_index
    from backend.extensions import db

    with app.app_context():
        # The phone is sealed at rest (ADR 0020): found by its blind index.
        recipient = db.session.scalars(select(Recipient).where(
            Recipient.phone_index == blind_index(PHONE_PURPOSE, "13912340022"))).one()
        household_id, member_id = recipient.household_id, recipient.member_id
        db.session.remove()
    api = Api(app.test_client())
    revealed = api.post("wenping_reviewer", "/api/personal-data/reveals", json={
        "household_id": household_id, "member_id": member_id, "field": "id_number",
        "purpose": "bank_payment_setup"})
    assert revealed.status_code == 200, revealed.get_json()

    page.goto(f"/checkin?code={code}")
    page.wait_for_selector("#activate-form")
    page.fill("#pin-new", PIN)
    page.fill("#pin-again", PIN)
    page.click("#activate-submit")
    page.wait_for_selector("#checkin-home")
    page.click("#my-data-link")
    page.wait_for_selector("#main[data-view=my-data][data-ready=true]")
    views = page.text_content("#my-views-list")
    assert "办理银行代发" in views and "身份证号" in views
    assert revealed.get_json()["value"] not in page.text_content("#main")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    assert_accessible(page, "the recipient's own view")
    # The separate choice about faces: declining is offered, with the alternative.
    page.click("#my-consent-decline")
    page.wait_for_selector("#my-consent-state:text('拒绝')")
    assert_accessible(page, "the recipient's own view, consent declined")


def test_a_full_export_shows_its_authorisation(live_server, desk):
    approver = desk("wenping_approver")
    open_screen(approver, "privacy-exports", "privacy-exports")
    assert_accessible(approver, "full exports, the approver")
    reviewer_name = "wenping_reviewer"
    from backend.auth import service as auth

    with live_server.app.app_context():
        reviewer_id = auth.find_by_username(reviewer_name).id
    approver.select_option("#authorise-exporter", reviewer_id)
    approver.select_option("#authorise-purpose", "cross_department_check")
    approver.click("#authorise-submit")
    approver.wait_for_selector("#authorisations tbody tr[data-authorisation-id]")

    reviewer = desk(reviewer_name)
    open_screen(reviewer, "privacy-exports", "privacy-exports")
    button = reviewer.locator("#authorisations button[id^=full-export-]").first
    authorisation_id = button.get_attribute("id").removeprefix("full-export-")
    assert_accessible(reviewer, "full exports, the exporter")
    with reviewer.expect_download() as downloaded:
        button.click()
    with open(downloaded.value.path(), "rb") as file:
        data = file.read()
    reviewer.wait_for_selector(
        f"#authorisations tr[data-authorisation-id='{authorisation_id}'][data-used=true]")
    assert_accessible(reviewer, "full exports, used")
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    first = book.worksheets[0]
    assert first.title == "导出授权"
    facts = {row[0]: (row[1] if len(row) > 1 else None)
             for row in first.iter_rows(values_only=True)}
    assert facts["授权编号"] == authorisation_id and facts["用途"] == "跨部门核对"
    assert facts["导出人"] and facts["授权人"]
    assert book.properties.keywords == authorisation_id
    book.close()
