"""Signing keys on a shared phone (谁调查谁签字): adding the second investigator always makes
a new key under their own PIN and ends their sign-in; wrong PINs destroy the key."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.e2e

PIN_1, PIN_2, PLANTED_PIN = "246810", "135790", "111111"


def server_rows(live_server, sql, **params):
    from sqlalchemy import text

    from backend.extensions import db

    with live_server.app.app_context():
        rows = [dict(row) for row in db.session.execute(text(sql), params).mappings().all()]
        db.session.remove()
    return rows


def user_id(live_server, username):
    return server_rows(live_server, "SELECT id FROM user_account WHERE username = :u",
                       u=username)[0]["id"]


def key_record(page, uid):
    return page.evaluate("""async (uid) => {
        const store = await import('/static/js/store.js');
        const record = await store.get('keys', uid);
        if (!record) return null;
        return { key_id: record.key_id, public_jwk: record.public_jwk, version: record.version,
                 has_wrapped: 'wrapped' in record,
                 private_extractable: record.private_key?.extractable ?? null,
                 private_type: record.private_key?.constructor?.name ?? null,
                 failed_attempts: record.failed_attempts };
    }""", uid)


def unlocks_with(page, uid, pin):
    return page.evaluate("""async ([uid, pin]) => {
        const keys = await import('/static/js/keys.js');
        try { await keys.unlock(uid, pin); return 'ok'; } catch (error) { return error.type; }
    }""", [uid, pin])


def test_adding_an_investigator_makes_their_own_new_key_and_ends_their_sign_in(
        page, sign_in, live_server):
    sign_in(page, "wenping_fw1", pin=PIN_1)
    fw2 = user_id(live_server, "wenping_fw2")
    # The first investigator plants a key for the second, under a PIN they chose.
    page.evaluate("""async ([uid, pin]) => {
        const keys = await import('/static/js/keys.js');
        const session = await import('/static/js/session.js');
        await keys.createKey({ id: uid, username: 'wenping_fw2', display_name: 'planted' }, pin,
                             session.getDeviceId());
    }""", [fw2, PLANTED_PIN])
    planted = key_record(page, fw2)

    page.click("#nav-settings")
    page.click("#add-investigator")
    page.wait_for_selector("#main[data-view=add-investigator] #add-password")
    page.fill("#add-username", "wenping_fw2")
    page.fill("#add-password", "demo-pass-2026")
    page.click("#add-submit")
    # The app asks the second investigator for their own PIN despite the planted record.
    page.wait_for_selector("#pin-1", timeout=30_000)
    page.fill("#pin-1", PIN_2)
    page.fill("#pin-2", PIN_2)
    page.click("#pin-save")
    page.wait_for_selector("#add-done")

    record = key_record(page, fw2)
    assert record["public_jwk"] != planted["public_jwk"]
    assert record["private_type"] == "CryptoKey" and record["private_extractable"] is False
    assert record["has_wrapped"] is False and record["key_id"]
    assert unlocks_with(page, fw2, PLANTED_PIN) == "pin-wrong"
    assert unlocks_with(page, fw2, PIN_2) == "ok"

    keys = server_rows(live_server, "SELECT id, public_key_jwk, revoked_at FROM device_key"
                       " WHERE user_id = :u", u=fw2)
    active = [k for k in keys if k["revoked_at"] is None]
    assert [k["id"] for k in active] == [record["key_id"]]
    import json

    jwk = active[0]["public_key_jwk"]
    jwk = json.loads(jwk) if isinstance(jwk, str) else jwk
    assert (jwk["x"], jwk["y"]) == (record["public_jwk"]["x"], record["public_jwk"]["y"])

    sessions = server_rows(live_server, "SELECT revoked_at FROM auth_session WHERE user_id = :u",
                           u=fw2)
    assert sessions and all(s["revoked_at"] is not None for s in sessions)
    # The phone's own session is still the first investigator's.
    me = page.evaluate("""async () => (await import('/static/js/session.js')).user().username""")
    assert me == "wenping_fw1"
    assert not page.js_errors


def test_wrong_pin_five_times_destroys_the_key_and_asks_for_the_password(
        page, sign_in, live_server):
    sign_in(page, "wenping_fw1", pin=PIN_1)
    fw1 = user_id(live_server, "wenping_fw1")
    first_key = key_record(page, fw1)["key_id"]
    # Idle for longer than the lock delay, then the app is opened again: it locks.
    page.evaluate("""async () => {
        const store = await import('/static/js/store.js');
        await store.put('device', Date.now() - 10 * 60 * 1000, 'last_active_at');
    }""")
    page.reload()
    page.wait_for_selector("#lock #unlock-pin")
    for attempt in range(1, 5):
        page.fill("#unlock-pin", "000000")
        page.click("#unlock")
        page.wait_for_function(
            "(left) => document.querySelector('#lock .form-error')?.textContent.includes(left)",
            arg=str(5 - attempt))
        assert key_record(page, fw1)["failed_attempts"] == attempt
    page.fill("#unlock-pin", "000000")
    page.click("#unlock")
    page.wait_for_selector("#main[data-view=login] #password")
    assert page.locator("#lock").count() == 0
    assert key_record(page, fw1) is None

    # Signing in online again makes a new key under a new PIN; the old one is replaced.
    page.fill("#password", "demo-pass-2026")
    page.click("form button[type=submit]")
    page.wait_for_selector("#pin-1")
    page.fill("#pin-1", PIN_2)
    page.fill("#pin-2", PIN_2)
    page.click("#pin-save")
    page.wait_for_selector("#main[data-view=cases][data-ready=true]")
    new_key = key_record(page, fw1)["key_id"]
    assert new_key and new_key != first_key
    revoked = server_rows(live_server, "SELECT revoked_reason FROM device_key WHERE id = :k",
                          k=first_key)
    assert revoked[0]["revoked_reason"] == "replaced"
    assert not page.js_errors


def test_a_right_pin_clears_the_count(page, sign_in, live_server):
    sign_in(page, "wenping_fw1", pin=PIN_1)
    fw1 = user_id(live_server, "wenping_fw1")
    for _ in range(3):
        assert unlocks_with(page, fw1, "999999") == "pin-wrong"
    assert unlocks_with(page, fw1, PIN_1) == "ok"
    assert key_record(page, fw1)["failed_attempts"] == 0
    for _ in range(4):
        assert unlocks_with(page, fw1, "999999") == "pin-wrong"
    assert unlocks_with(page, fw1, PIN_1) == "ok"


def test_an_old_pin_wrapped_key_is_made_again_at_the_next_sign_in(page, sign_in, live_server):
    """Phones that stored a PKCS#8 key wrapped under the PIN (copyable, brute-forceable
    offline) get a new non-extractable key at the next online sign-in."""
    sign_in(page, "wenping_fw1", pin=PIN_1)
    fw1 = user_id(live_server, "wenping_fw1")
    page.evaluate("""async (uid) => {
        const store = await import('/static/js/store.js');
        const record = await store.get('keys', uid);
        const legacy = { user_id: uid, username: record.username, display_name: record.display_name,
          device_id: record.device_id, wrapped: new Uint8Array(48), salt: new Uint8Array(16),
          iv: new Uint8Array(12), iterations: 310000, public_jwk: record.public_jwk,
          key_id: record.key_id, created_at: record.created_at };
        await store.put('keys', legacy);
    }""", fw1)
    old = key_record(page, fw1)
    assert old["has_wrapped"] and old["version"] is None
    page.evaluate("""async () => {
        const session = await import('/static/js/session.js');
        await session.requireSignIn();
    }""")
    page.wait_for_selector("#main[data-view=login] #password")
    page.fill("#password", "demo-pass-2026")
    page.click("form button[type=submit]")
    page.wait_for_selector("#pin-intro")
    page.fill("#pin-1", PIN_1)
    page.fill("#pin-2", PIN_1)
    page.click("#pin-save")
    page.wait_for_selector("#main[data-view=cases][data-ready=true]")
    new = key_record(page, fw1)
    assert new["version"] == 2 and not new["has_wrapped"] and new["private_extractable"] is False
    assert new["key_id"] != old["key_id"]
    assert not page.js_errors


def test_settings_lists_my_keys_and_revokes_a_lost_phones_key(page, sign_in, live_server):
    sign_in(page, "wenping_fw1", pin=PIN_1)
    fw1 = user_id(live_server, "wenping_fw1")
    mine = key_record(page, fw1)["key_id"]
    # A key of the same user on another phone, registered through the API.
    from tests.conftest import Api
    from tests.device_keys import registered_key

    with live_server.app.app_context():
        api = Api(live_server.app.test_client())
        _, lost = registered_key(api, "wenping_fw1", "device-lost-phone")
    page.click("#nav-settings")
    page.wait_for_selector(f"#my-keys li[data-key='{lost}']")
    assert page.locator(f"#my-keys li[data-key='{mine}']").count() == 1
    assert page.locator(f"#people li[data-user='{fw1}'] .key-state").inner_text()
    # Issue 21: keys read apart (each was "其他手机"), and the version is a release, not a hash.
    lost_name = page.inner_text(f"#my-keys li[data-key='{lost}'] .key-name")
    assert "另一部手机" in lost_name and "-phone" in lost_name and "年" in lost_name, lost_name
    assert page.inner_text(f"#my-keys li[data-key='{mine}'] .key-name").startswith("本手机（")
    page.wait_for_selector("#main[data-view=settings][data-ready=true]")
    version = page.inner_text("#app-version")
    assert re.fullmatch(r"版本 \d+\.\d+\.\d+\S*", version), version
    page.once("dialog", lambda dialog: dialog.accept())
    page.click(f"#my-keys li[data-key='{lost}'] button")
    page.wait_for_selector(f"#my-keys li[data-key='{lost}']", state="detached")
    rows = server_rows(live_server, "SELECT id, revoked_reason FROM device_key WHERE user_id = :u"
                       " AND revoked_at IS NOT NULL", u=fw1)
    assert lost in {r["id"] for r in rows} and mine not in {r["id"] for r in rows}
    assert not page.js_errors
