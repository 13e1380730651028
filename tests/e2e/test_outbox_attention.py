"""A record the server refuses for good leaves the head of the outbox as "needs attention",
with the server's words and what to do next, while the records behind it keep syncing
(issue 8, "Sync must survive any single record")."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.visit_factory import submission

pytestmark = pytest.mark.e2e

PHOTOS = Path(__file__).resolve().parents[1] / "data" / "photos"


def cases_on_phone(page) -> list[dict]:
    return page.evaluate("""async () => {
        const { all } = await import('/static/js/store.js');
        return (await all('cases')).filter((c) => c.household)
          .sort((a, b) => a.id.localeCompare(b.id));
    }""")


def queue_offline(page, context, records, photos=()):
    """Queue records the way the survey does, with the phone offline so nothing leaves yet."""
    context.set_offline(True)
    page.evaluate("""async ([records, photos]) => {
        const store = await import('/static/js/store.js');
        const outbox = await import('/static/js/outbox.js');
        for (const photo of photos) {
          const bytes = Uint8Array.from(atob(photo.base64), (ch) => ch.charCodeAt(0));
          const blob = new Blob([bytes], { type: 'image/jpeg' });
          await store.put('photos', { sha256: photo.sha256, blob, type: 'image/jpeg',
            thumb: null, uploaded: false });
        }
        for (const record of records) await outbox.enqueue(record);
    }""", [records, list(photos)])
    page.goto("/#/outbox")
    page.wait_for_function(
        "(n) => document.querySelectorAll('#outbox-list li[data-status=waiting]').length === n",
        arg=len(records))


def send_now(page, context):
    context.set_offline(False)
    page.click("#send-now")


def submissions_of(live_server, case_ids) -> dict:
    from backend.extensions import db

    with live_server.app.app_context():
        rows = db.session.execute(text(
            "SELECT case_id, count(*) AS n FROM visit_submission GROUP BY case_id")).all()
        db.session.remove()
    held = {case_id: n for case_id, n in rows}
    return {case_id: held.get(case_id, 0) for case_id in case_ids}


def assert_needs_attention(page, record_id, words):
    item = page.locator(f"#outbox-list li[data-id='{record_id}']")
    item.locator(".problem").wait_for()
    assert item.get_attribute("data-status") == "needs_attention"
    assert words in item.locator(".problem").inner_text()
    assert "不会自动重发" in item.locator(".next-step").inner_text()
    assert item.locator("button.retry").is_visible()


@pytest.fixture
def phone(page, sign_in):
    sign_in(page, "wenping_fw1")
    page.wait_for_selector("#case-list .case-row")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=20_000)
    return page


def test_unassigned_case_waits_and_the_next_visit_is_accepted(phone, context, live_server):
    page = phone
    first_case, second_case = cases_on_phone(page)[:2]
    refused, good = submission(first_case), submission(second_case)
    queue_offline(page, context, [refused, good])
    from backend.extensions import db

    with live_server.app.app_context():  # the township takes the first case off this team
        team = db.session.execute(text("SELECT * FROM case_team_member WHERE case_id = :c"),
                                  {"c": first_case["id"]}).mappings().all()
        db.session.execute(text("DELETE FROM case_team_member WHERE case_id = :c"),
                           {"c": first_case["id"]})
        db.session.commit()
        db.session.remove()
    send_now(page, context)
    page.wait_for_selector(f"#outbox-list li[data-id='{good['id']}'][data-status=accepted]",
                           timeout=30_000)
    assert_needs_attention(page, refused["id"], "不再分配给您")
    assert submissions_of(live_server, [first_case["id"], second_case["id"]]) == {
        first_case["id"]: 0, second_case["id"]: 1}
    # The line settles once the round ends (the pull after the push may still be running).
    try:
        page.wait_for_function(
            "() => document.querySelector('#outbox-line').textContent.includes('1 条需要处理')",
            timeout=30_000)
    except Exception:
        raise AssertionError(f"outbox line: {page.inner_text('#outbox-line')!r}") from None

    # What to do next: once the township assigns the case again, "send again" delivers it.
    with live_server.app.app_context():
        for member in team:
            db.session.execute(text(
                "INSERT INTO case_team_member (case_id, user_id, assigned_at, assigned_by_id)"
                " VALUES (:case_id, :user_id, :assigned_at, :assigned_by_id)"), dict(member))
        db.session.commit()
        db.session.remove()
    page.click(f"#outbox-list li[data-id='{refused['id']}'] button.retry")
    page.wait_for_selector(f"#outbox-list li[data-id='{refused['id']}'][data-status=accepted]",
                           timeout=30_000)
    assert submissions_of(live_server, [first_case["id"]]) == {first_case["id"]: 1}
    assert page.js_errors == []


def test_refused_photo_parks_its_visit_only(phone, context, live_server):
    page = phone
    first_case, second_case = cases_on_phone(page)[2:4]
    broken = (PHOTOS / "truncated.jpg").read_bytes()
    sha = hashlib.sha256(broken).hexdigest()
    refused = submission(first_case, photos=[{
        "sha256": sha, "field": None, "captured_at": "2026-11-25T08:00:00+08:00",
        "lat": None, "lon": None, "accuracy_m": None}])
    good = submission(second_case)
    queue_offline(page, context, [refused, good],
                  photos=[{"sha256": sha, "base64": base64.b64encode(broken).decode()}])
    send_now(page, context)
    page.wait_for_selector(f"#outbox-list li[data-id='{good['id']}'][data-status=accepted]",
                           timeout=30_000)
    assert_needs_attention(page, refused["id"], "照片不完整")
    assert "拒收了这条记录的一张照片" in page.locator(
        f"#outbox-list li[data-id='{refused['id']}'] .next-step").inner_text()
    assert submissions_of(live_server, [first_case["id"], second_case["id"]]) == {
        first_case["id"]: 0, second_case["id"]: 1}

    # Nothing is retried behind the user's back: a later drain leaves the parked one alone.
    page.click("#send-now")
    page.wait_for_function("() => document.querySelector('#outbox-line')?.textContent"
                           ".includes('条需要处理')")
    assert page.get_attribute(f"#outbox-list li[data-id='{refused['id']}']",
                              "data-status") == "needs_attention"
    assert page.js_errors == []


def test_send_now_always_ends_with_words_offline_or_with_nothing_left(phone, context):
    # Pressing "send now" must never leave "正在发送…" on screen with nothing being sent.
    page = phone
    context.set_offline(True)
    page.goto("/#/outbox")
    page.wait_for_selector("#main[data-view=outbox][data-ready=true]")
    page.click("#send-now")
    page.wait_for_function(
        "() => document.querySelector('#outbox-line').textContent.includes('现在离线')")
    context.set_offline(False)
    page.click("#send-now")
    page.wait_for_function(
        "() => document.querySelector('#outbox-line').textContent.includes('已全部发送')")
