"""A recipient on a phone (issue 12): activation from the slip's code, PIN set, a check-in
made offline, queued, and sent when the network returns; late and missed judged with a test
clock on what the phone sent."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.checkin_factory import photo_bytes
from tests.conftest import Api
from tests.e2e.accessibility import assert_accessible

pytestmark = pytest.mark.e2e

PIN = "204815"
HOME = {"latitude": 27.1917, "longitude": 103.5586, "accuracy": 15}


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
    assert "至" in page.text_content("#checkin-window")
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
    for _ in range(60):
        if stored_checkins(app, recipient_id):
            break
        page.wait_for_timeout(500)
    # On time unless the machine's date is past the 20th (then late: outside every window).
    (outcome, is_proxy), = stored_checkins(app, recipient_id)
    assert outcome in ("on_time", "late") and not is_proxy
    assert page.js_errors == []

    # The village assistant's view of the same phone's work, and the test clock: the window
    # that received this check-in is judged by it; the next one, without any, is missed.
    from backend.auth import service as auth
    from backend.checkins import service
    from backend.checkins.rules import CHINA
    from backend.extensions import db

    with app.app_context():
        missed = service.judge_closed_windows(datetime(2027, 2, 24, 1, tzinfo=CHINA)
                                              .astimezone(UTC))
        db.session.commit()
        assert missed >= 1
        assistant = auth.caller_for(auth.find_by_username("wenping_assistant"))
        history = service.history(assistant, recipient_id)
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
    card = page.locator("li.follow-up[data-status=open]", has_text="模拟定位").first
    follow_up_id = card.get_attribute("data-id")
    page.fill(f"#outcome-{follow_up_id}", "电话联系本人，定位软件误报。")
    page.click(f"#close-{follow_up_id}")
    page.wait_for_selector(f"li.follow-up[data-id='{follow_up_id}'][data-status=closed]")

    page.fill(f"#reason-{recipient_id}", "卧床，无法自己操作手机")
    page.fill("#desk-pin", "246810")
    photo = tmp_path / "proxy.jpg"
    photo.write_bytes(photo_bytes(1234))
    page.set_input_files(f"#proxy-photo-{recipient_id}", str(photo))
    page.wait_for_selector(f"#main[data-proxied='{recipient_id}']")
    for _ in range(60):
        if any(is_proxy for _, is_proxy in stored_checkins(app, recipient_id)):
            break
        page.wait_for_timeout(500)
    assert any(is_proxy for _, is_proxy in stored_checkins(app, recipient_id))
    page.click(f"#show-history-{recipient_id}")
    page.wait_for_selector(f"#history-{recipient_id} li img")
    assert_accessible(page, "recipient history")
    assert page.locator(f"#history-{recipient_id} > li").count() == 2
    assert "代签" in page.text_content(f"#history-{recipient_id}")
    assert page.js_errors == []
