// The GPS helper shared by the survey and the check-in (pwa/static/js/device/geolocation.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { position, gpsErrorKey, fixWords } from '../../../pwa/static/js/device/geolocation.js';

function withGeolocation(geolocation, run) {
  const saved = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  Object.defineProperty(globalThis, 'navigator', { value: { geolocation }, configurable: true });
  return run().finally(() => {
    if (saved) Object.defineProperty(globalThis, 'navigator', saved);
    else delete globalThis.navigator;
  });
}

test('a fix comes back in the shape the server stores, accuracy rounded to metres', () =>
  withGeolocation({
    getCurrentPosition(resolve, _reject, options) {
      assert.equal(options.enableHighAccuracy, true);
      assert.equal(options.timeout, 5000, 'options given by the caller win');
      resolve({ coords: { latitude: 27.1917, longitude: 103.5586, accuracy: 12.6 }, timestamp: Date.UTC(2026, 2, 2) });
    },
  }, async () => {
    assert.deepEqual(await position({ timeout: 5000 }), {
      lat: 27.1917, lon: 103.5586, accuracy_m: 13, captured_at: '2026-03-02T00:00:00.000Z' });
  }));

test('a refused fix rejects with the browser error, and its words say what to do', () =>
  withGeolocation({ getCurrentPosition(_resolve, reject) { reject({ code: 1 }); } }, async () => {
    const error = await position().catch((e) => e);
    assert.equal(error.code, 1);
    assert.equal(gpsErrorKey(error), 'survey.gps_denied');
  }));

test('a phone without geolocation rejects as "unavailable"', () =>
  withGeolocation(undefined, async () => {
    const error = await position().catch((e) => e);
    assert.equal(gpsErrorKey(error), 'survey.gps_unavailable');
  }));

test('every error code has words; unknown ones fall back to "unavailable"', () => {
  assert.equal(gpsErrorKey({ code: 2 }), 'survey.gps_unavailable');
  assert.equal(gpsErrorKey({ code: 3 }), 'survey.gps_timeout');
  assert.equal(gpsErrorKey({ code: 99 }), 'survey.gps_unavailable');
  assert.equal(gpsErrorKey(null), 'survey.gps_unavailable');
});

test('a fix is shown with five decimals and its accuracy', () => {
  assert.deepEqual(fixWords({ lat: 27.1, lon: 103.123456, accuracy_m: 12 }),
    { lat: '27.10000', lon: '103.12346', acc: 12 });
  assert.deepEqual(fixWords({ lat: 1, lon: 2, accuracy: 7 }, 'accuracy'), { lat: '1.00000', lon: '2.00000', acc: 7 });
});
