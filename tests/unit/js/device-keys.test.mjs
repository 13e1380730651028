// Pure rules of the phone's signing keys (domain/device-keys.js) and the WebCrypto
// behaviour keys.js relies on: a non-extractable private key can sign but never leave.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  DEFAULT_PIN_MAX_ATTEMPTS, KEY_RECORD_VERSION, afterPinCheck, beforePinCheck, isLegacyRecord,
  isValidPin, needsNewKey, pinMessage, registrationMessage, sameBytes,
} from '../../../pwa/static/js/domain/device-keys.js';

test('a PIN is exactly six digits', () => {
  assert.ok(isValidPin('012345'));
  for (const bad of ['12345', '1234567', '12a456', '', null, 123456, '١٢٣٤٥٦']) {
    assert.equal(isValidPin(bad), false, String(bad));
  }
});

test('the registration message binds user, device and nonce, apart from attestations', () => {
  assert.equal(registrationMessage('u', 'd', 'n'), 'doorstep-device-key:v1:u:d:n');
  assert.ok(!registrationMessage('u', 'd', 'n').startsWith('doorstep-attestation:'));
  assert.notEqual(pinMessage('u1', '123456'), pinMessage('u2', '123456'));
});

test('each attempt is counted before the check and forgiven only when right', () => {
  assert.equal(beforePinCheck(undefined), 1);
  assert.equal(beforePinCheck(3), 4);
  assert.deepEqual(afterPinCheck(4, true, 5), { failedAttempts: 0, destroy: false, remaining: 5 });
  assert.deepEqual(afterPinCheck(1, false, 5), { failedAttempts: 1, destroy: false, remaining: 4 });
  assert.deepEqual(afterPinCheck(4, false, 5), { failedAttempts: 4, destroy: false, remaining: 1 });
  assert.deepEqual(afterPinCheck(5, false, 5), { failedAttempts: 5, destroy: true, remaining: 0 });
});

test('the Nth wrong PIN in a row destroys the key, whatever the stored limit says', () => {
  let failed = 0;
  let outcome;
  for (let attempt = 1; attempt <= DEFAULT_PIN_MAX_ATTEMPTS; attempt += 1) {
    outcome = afterPinCheck(beforePinCheck(failed), false);
    failed = outcome.failedAttempts;
    assert.equal(outcome.destroy, attempt === DEFAULT_PIN_MAX_ATTEMPTS);
  }
  for (const broken of [0, -1, undefined, 'many', 1.5]) {
    assert.equal(afterPinCheck(DEFAULT_PIN_MAX_ATTEMPTS, false, broken).destroy, true, String(broken));
  }
});

test('which stored keys must be made again at an online sign-in', () => {
  const good = { version: KEY_RECORD_VERSION, device_id: 'd1', key_id: 'k1',
    public_jwk: { x: 'X', y: 'Y' } };
  const server = [{ id: 'k1', device_id: 'd1', revoked_at: null, public_key_jwk: { x: 'X', y: 'Y' } }];
  assert.equal(needsNewKey(good, 'd1', server), false);
  assert.equal(needsNewKey(good, 'd1', null), false);  // server not reachable: trust the phone
  assert.equal(needsNewKey(null, 'd1', server), true);
  assert.equal(needsNewKey({ ...good, version: undefined, wrapped: new Uint8Array(4) }, 'd1', server), true);
  assert.equal(needsNewKey({ ...good, key_id: null }, 'd1', server), true);
  assert.equal(needsNewKey(good, 'd2', server), true);
  assert.equal(needsNewKey(good, 'd1', [{ ...server[0], revoked_at: '2026-11-26T00:00:00Z' }]), true);
  assert.equal(needsNewKey(good, 'd1', [{ ...server[0], public_key_jwk: { x: 'Z', y: 'Y' } }]), true);
  assert.equal(needsNewKey(good, 'd1', []), true);
  assert.ok(isLegacyRecord({ wrapped: 1 }));
  assert.ok(!isLegacyRecord(good));
});

test('bytes compare equal only when identical', () => {
  assert.ok(sameBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2]).buffer));
  assert.ok(!sameBytes(new Uint8Array([1, 2]), new Uint8Array([1, 3])));
  assert.ok(!sameBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2, 3])));
});

test('a non-extractable private key signs but cannot be exported or wrapped', async () => {
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false,
    ['sign', 'verify']);
  assert.equal(pair.privateKey.extractable, false);
  for (const format of ['pkcs8', 'jwk']) {
    await assert.rejects(crypto.subtle.exportKey(format, pair.privateKey));
  }
  const wrapper = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, true, ['wrapKey']);
  await assert.rejects(crypto.subtle.wrapKey('pkcs8', pair.privateKey, wrapper,
    { name: 'AES-GCM', iv: new Uint8Array(12) }));
  const message = new TextEncoder().encode(registrationMessage('u', 'd', 'n'));
  const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, message);
  assert.ok(await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, pair.publicKey, signature, message));
});
