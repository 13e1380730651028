"""Storage that stays (issue 13): persistence asked after sign-in and shown on the settings
screen with what to do when refused; a low-space warning before a photo; confirmed records
and their photos forgotten after the kept days, never anything unsent."""

from __future__ import annotations

import pytest

from tests.e2e.test_visit_offline import PIN_1

pytestmark = pytest.mark.e2e

# Count persist() calls, and optionally force its answer (the browser decides otherwise).
WATCH_PERSIST = """(() => {
  const forced = %s;
  const proto = StorageManager.prototype;
  const persist = proto.persist, persisted = proto.persisted;
  window.__persistCalls = 0;
  proto.persist = function () { window.__persistCalls += 1;
    return forced === null ? persist.call(this) : Promise.resolve(forced); };
  if (forced !== null) proto.persisted = function () { return Promise.resolve(forced); };
  else proto.persisted = function () { return persisted.call(this); };
})();"""


def open_settings(page):
    page.click("#nav-settings")
    page.wait_for_selector("#storage-persisted[data-persisted]")


def test_persistence_is_asked_after_sign_in_and_shown(context, page, sign_in, capsys):
    context.add_init_script(WATCH_PERSIST % "null")
    sign_in(page, "wenping_fw1", pin=PIN_1)
    page.wait_for_function("() => window.__persistCalls >= 1")
    open_settings(page)
    granted = page.evaluate("() => navigator.storage.persisted()")
    assert page.get_attribute("#storage-persisted", "data-persisted") == str(granted).lower()
    assert "MB" in page.inner_text("#storage-estimate")
    with capsys.disabled():
        print(f"\n[storage] headless Chromium navigator.storage.persist() granted: {granted}")


def test_refused_persistence_says_what_to_do(context, page, sign_in):
    context.add_init_script(WATCH_PERSIST % "false")
    sign_in(page, "wenping_fw1", pin=PIN_1)
    open_settings(page)
    assert page.get_attribute("#storage-persisted", "data-persisted") == "false"
    advice = page.inner_text("#persist-advice")
    assert "添加到主屏幕" in advice and "清理" in advice
    page.click("#persist-retry")
    page.wait_for_function("() => window.__persistCalls >= 2")


def test_granted_persistence_is_shown(context, page, sign_in):
    context.add_init_script(WATCH_PERSIST % "true")
    sign_in(page, "wenping_fw1", pin=PIN_1)
    open_settings(page)
    assert page.get_attribute("#storage-persisted", "data-persisted") == "true"
    assert page.locator("#persist-advice").count() == 0


LOW_SPACE = """(() => {
  StorageManager.prototype.estimate = () => Promise.resolve({ usage: 990e6, quota: 1000e6 });
})();"""


def mount_camera(page):
    page.evaluate("""async () => {
        const { cameraButton } = await import('/static/js/device/camera.js');
        document.querySelector('#main').replaceChildren(
          cameraButton({ id: 'probe-photo', onFiles: async () => {} }));
    }""")


def test_low_space_is_said_before_the_photo(context, page, sign_in):
    context.add_init_script(LOW_SPACE)
    sign_in(page, "wenping_fw1", pin=PIN_1)
    mount_camera(page)
    page.wait_for_selector(".storage-low:not([hidden])")
    assert "空间" in page.inner_text(".storage-low")


def test_no_warning_with_room_to_spare(page, sign_in):
    sign_in(page, "wenping_fw1", pin=PIN_1)
    mount_camera(page)
    page.wait_for_selector(".storage-low[data-checked]", state="attached")
    assert page.locator(".storage-low").is_hidden()


def test_confirmed_records_are_pruned_after_the_kept_days_never_unsent(page, sign_in):
    sign_in(page, "wenping_fw1", pin=PIN_1)
    left = page.evaluate("""async () => {
        const store = await import('/static/js/store.js');
        const { pruneConfirmed } = await import('/static/js/device/storage.js');
        const ago = (days) => new Date(Date.now() - days * 86400e3).toISOString();
        const blob = new Blob([new Uint8Array(1000)], { type: 'image/jpeg' });
        const entry = (id, status, acceptedAt, sha) => ({ id, status, queued_at: ago(30),
          accepted_at: acceptedAt, attempts: 0, next_attempt_at: null,
          result: status === 'accepted' ? { status: 'accepted', is_complete: true } : null,
          record: { id, type: 'visit_submission', photos: [{ sha256: sha }], attestations: [] } });
        await store.put('photos', { sha256: 'old', blob, uploaded: true });
        await store.put('photos', { sha256: 'new', blob, uploaded: true });
        await store.put('photos', { sha256: 'unsent', blob, uploaded: false });
        await store.put('outbox', entry('e-old', 'accepted', ago(20), 'old'));
        await store.put('outbox', entry('e-new', 'accepted', ago(2), 'new'));
        await store.put('outbox', entry('e-wait', 'waiting', null, 'unsent'));
        await store.put('outbox', entry('e-park', 'needs_attention', null, 'unsent'));
        const counts = await pruneConfirmed();
        return { counts, outbox: (await store.all('outbox')).map((e) => e.id).sort(),
          photos: (await store.all('photos')).map((p) => p.sha256).sort() };
    }""")
    assert left["counts"] == {"records": 1, "photos": 1}
    assert left["outbox"] == ["e-new", "e-park", "e-wait"]
    assert left["photos"] == ["new", "unsent"]
