"""A recipient on a phone (issue 12): activation from the slip's code, PIN set, a check-in
made offline, queued, and sent when the network returns; late and missed judged with a test
clock on what the phone sent."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from tests.checkin_factory import photo_bytes
from tests.conftest import Api
from tests.e2e.accessibility import assert_accessible, shot
from tests.e2e.waits import wait_until

SHANGHAI = timezone(timedelta(hours=8))

pytestmark = pytest.mark.e2e

PIN = "204815"
HOME = {"latitude": 27.1917, "longitude": 103.5586, "accuracy": 15}
ALL_SENT = """async () => (await (await import('/static/js/store.js')).all('outbox'))
    .every((entry) => entry.status === 'accepted')"""


def enrol(app, index: int = 0, phone: str = "13912345678") -> tuple[str, str]:
    """The village assistant enrols a member of an approved household (through the API)."""
    from backend.cases.models import Case
    from backend.extensions import db
    from backend.households.models import Household

    with app.app_context():
        household = db.session.scalars(select(Household).where(
            Household.jurisdiction_code == "530621100201", Household.home_lat.is_not(None))
            .order_by(Household.id)).all()[index]
        for case in db.session.scalars(select(Case).where(Case.household_id == household.id)):
            case.status = "approved"
        member_id, household_id = household.members[0].id, household.id
        HOME.update(latitude=household.home_lat, longitude=household.home_lon)
        db.session.commit()
    api = Api(app.test_client())
    raw = photo_bytes(424242)
    sha = hashlib.sha256(raw).hexdigest()
    api.put("wenping_assistant", f"/api/photos/{sha}", data=raw,
            headers={"Content-Type": "image/jpeg"})
    body = api.post("wenping_assistant", "/api/checkins/recipients", json={
        "household_id": household_id, "member_id": member_id, "phone": phone,
        "category": "monthly", "reference_photo_sha256": sha}).get_json()
    return body["activation_code"], body["recipient"]["id"]


def captured_times(app, recipient_id):
    from backend.checkins.models import CheckIn
    from backend.extensions import db

    with app.app_context():
        rows = db.session.scalars(select(CheckIn.captured_at).where(
            CheckIn.recipient_id == recipient_id)).all()
        db.session.remove()
        return list(rows)


def stored_checkins(app, recipient_id):
    from backend.checkins.models import CheckIn
    from backend.extensions import db

    with app.app_context():
        rows = db.session.scalars(select(CheckIn).where(CheckIn.recipient_id == recipient_id))
        answer = [(row.outcome, row.is_proxy) for row in rows]
        db.session.remove()
        return answer


def test_activation_pin_and_an_offline_check_in(live_server, context, page, tmp_path):
    app = live_server.app
    app.config["IDENTITY_VERIFIER"] = "none"
    code, recipient_id = enrol(app)
    context.grant_permissions(["geolocation"])
    context.set_geolocation(HOME)

    page.goto(f"/checkin?code={code}")
    page.wait_for_selector("#activate-form")
    assert_accessible(page, "activation")
    assert page.input_value("#activation-code") == code
    page.fill("#pin-new", PIN)
    page.fill("#pin-again", "111111")
    page.click("#activate-submit")
    page.wait_for_selector("#checkin-error:not([hidden])")
    assert_accessible(page, "activation with its error")
    page.fill("#pin-again", PIN)
    page.click("#activate-submit")
    page.wait_for_selector("#checkin-home")
    assert_accessible(page, "check-in home")
    shot(page, "phone-checkin-home")
    # Issue 21: a recipient reads the window as people write it (12月1日至12月20日), not ISO.
    window = page.text_content("#checkin-window")
    assert re.search(r"\d{1,2}月\d{1,2}日至(\d{4}年)?\d{1,2}月\d{1,2}日", window), window
    assert not re.search(r"\d{4}-\d{2}-\d{2}", window), window
    # Large text, one big action, and it fits a 360 px screen.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    assert page.locator("#checkin-start").bounding_box()["height"] >= 56

    context.set_offline(True)
    page.click("#checkin-start")
    page.wait_for_selector("#checkin-challenge")
    assert_accessible(page, "check-in challenge")
    assert page.text_content("#checkin-challenge").strip()
    photo = tmp_path / "selfie.jpg"
    photo.write_bytes(photo_bytes(7))  # just taken: its file time is now
    page.set_input_files("#checkin-photo", str(photo))
    page.wait_for_selector("#checkin-saved")
    assert_accessible(page, "check-in saved offline")
    assert "没有网络" in page.text_content("#checkin-saved")
    assert stored_checkins(app, recipient_id) == []

    context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    # The phone's outbox has sent it (a state, not a time): then the server holds it.
    wait_until(page, ALL_SENT)
    # On time unless the machine's date is past the 20th (then late: outside every window).
    (outcome, is_proxy), = stored_checkins(app, recipient_id)
    assert outcome in ("on_time", "late") and not is_proxy
    assert page.js_errors == []

    # The village assistant's view of the same phone's work, and the test clock: the window
    # that received this check-in is judged by it; the next one, without any, is missed.
    from backend.auth import service as auth
    from backend.checkins import follow_ups, windows
    from backend.checkins.rules import CHINA
    from backend.extensions import db

    with app.app_context():
        missed = windows.judge_closed_windows(datetime(2027, 2, 24, 1, tzinfo=CHINA)
                                              .astimezone(UTC))
        db.session.commit()
        assert missed >= 1
        assistant = auth.caller_for(auth.find_by_username("wenping_assistant"))
        history = follow_ups.history(assistant, recipient_id)
        db.session.remove()
    outcomes = {w["outcome"] for w in history["windows"]}
    assert "missed" in outcomes and history["checkins"]


def test_assistant_closes_a_follow_up_and_checks_in_for_someone(live_server, context, page,
                                                                  sign_in, tmp_path):
    from tests.checkin_factory import checkin
    from tests.device_keys import registered_key

    app = live_server.app
    app.config["IDENTITY_VERIFIER"] = "none"
    code, recipient_id = enrol(app, index=1, phone="13987654321")
    api = Api(app.test_client())
    api.client.post("/api/checkins/activate", json={"code": code, "pin": PIN})
    api._tokens["r"] = api.client.post("/api/checkins/login", json={
        "phone": "13987654321", "pin": PIN}).get_json()
    pair, key_id = registered_key(api, "r", "device-r9876543")
    raw = photo_bytes(99)
    sha = hashlib.sha256(raw).hexdigest()
    api.put("r", f"/api/photos/{sha}", data=raw, headers={"Content-Type": "image/jpeg"})
    pushed = api.post("r", "/api/sync/push", json={"records": [checkin(
        pair, key_id, sha, lat=HOME["latitude"], lon=HOME["longitude"], accuracy_m=0)]})
    assert pushed.get_json()["results"][0]["status"] == "accepted"

    context.grant_permissions(["geolocation"])
    context.set_geolocation(HOME)
    sign_in(page, "wenping_assistant")
    page.click("#nav-checkin-desk")
    page.wait_for_selector("#main[data-view=checkin-desk][data-ready=true] #follow-ups")
    # The desk's words come with the screen (never precached), and follow a language switch.
    assert page.inner_text("#checkin-desk h2") == "未签到和有疑点的签到"
    assert_accessible(page, "follow-up desk")
    page.click("#toggle-lang")
    page.wait_for_function("() => document.querySelector('#checkin-desk h2')?.textContent"
                           " === 'Missed and flagged check-ins'")
    assert_accessible(page, "follow-up desk in English")
    page.click("#toggle-lang")
    page.wait_for_function("() => document.querySelector('#checkin-desk h2')?.textContent"
                           " === '未签到和有疑点的签到'")
    page.wait_for_selector("#main[data-view=checkin-desk][data-ready=true] #follow-ups")
    card = page.locator(f"li.follow-up[data-status=open][data-recipient='{recipient_id}']",
                        has_text="模拟定位").first
    follow_up_id = card.get_attribute("data-id")
    # Issue 21: cards read alike ("杨春梅 · 有疑点 · 2026-12"). This one says when the
    # check-in was taken (Beijing), shows its selfie beside the reference photo, the phone
    # (whole: the assistant's role may see it) and why it was flagged; no UTC, no ISO.
    page.wait_for_selector(f"#selfie-{follow_up_id} img")
    page.wait_for_selector(f"#reference-{follow_up_id} img")
    text = card.inner_text()
    (captured,) = captured_times(app, recipient_id)
    local = captured.replace(tzinfo=captured.tzinfo or UTC).astimezone(SHANGHAI)
    assert f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}" in text, text
    assert "13987654321" in text and "疑点原因" in text, text
    assert not re.search(r"\d{4}-\d{2}|T\d{2}:|UTC", text), text
    # Closing without a result: the toast says 请按红字修改, and the red text is there.
    page.click(f"#close-{follow_up_id}")
    error = page.locator(f"#outcome-error-{follow_up_id}")
    page.wait_for_function(f"() => document.getElementById('outcome-error-{follow_up_id}')"
                           "?.textContent.length > 0")
    assert "红字" in page.inner_text("#toasts")
    red, green, _ = map(int, re.findall(r"\d+", error.evaluate(
        "(e) => getComputedStyle(e).color"))[:3])
    assert red > 150 and green < 60 and error.is_visible()
    assert_accessible(page, "follow-up desk, closing without a result")
    shot(page, "desk-checkin-follow-ups")
    page.fill(f"#outcome-{follow_up_id}", "电话联系本人，定位软件误报。")
    page.click(f"#close-{follow_up_id}")
    page.wait_for_selector(f"li.follow-up[data-id='{follow_up_id}'][data-status=closed]")

    page.fill(f"#reason-{recipient_id}", "卧床，无法自己操作手机")
    page.fill("#desk-pin", "246810")
    photo = tmp_path / "proxy.jpg"
    photo.write_bytes(photo_bytes(1234))
    page.set_input_files(f"#proxy-photo-{recipient_id}", str(photo))
    page.wait_for_selector(f"#main[data-proxied='{recipient_id}']")
    # The phone's outbox has sent it (a state, not a time): then the server holds it.
    wait_until(page, ALL_SENT)
    assert any(is_proxy for _, is_proxy in stored_checkins(app, recipient_id))
    page.click(f"#show-history-{recipient_id}")
    page.wait_for_selector(f"#history-{recipient_id} li img")
    assert_accessible(page, "recipient history")
    shot(page, "desk-checkin-history")
    assert page.locator(f"#history-{recipient_id} > li").count() == 2
    assert "代签" in page.text_content(f"#history-{recipient_id}")
    # Issue 21: each check-in's time in Beijing (the desk showed UTC as if local, 8 h off).
    history = page.text_content(f"#history-{recipient_id}")
    for captured_at in captured_times(app, recipient_id):
        local = captured_at.astimezone(SHANGHAI)
        assert f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}" in history, history
    assert not re.search(r"\d{4}-\d{2}-\d{2}", history), history
    assert page.js_errors == []
