// Per-user, per-device attestation keys (docs/decisions/0002-offline-attestation.md).
// The ECDSA P-256 private key is made non-extractable and stored as a CryptoKey in
// IndexedDB: the page can ask the browser to sign with it, but nothing can read it out.
// The 6-digit PIN gates its use: a verifier HMACs the PIN with a second non-extractable
// key (so it cannot be brute-forced off the phone either), and after a few wrong PINs in
// a row the key is destroyed; the user then signs in online and makes a new one.
import * as store from './store.js';
import { api } from './api.js';
import {
  DEFAULT_PIN_MAX_ATTEMPTS, KEY_RECORD_VERSION, afterPinCheck, base64url, beforePinCheck,
  isLegacyRecord, isValidPin as validPin, pinMessage, registrationMessage, sameBytes,
} from './domain/device-keys.js';

/** Only for keys stored by earlier versions of the app (re-enrolled at next sign-in). */
export const PBKDF2_ITERATIONS = 310_000;
const SIGNING = { name: 'ECDSA', namedCurve: 'P-256' };
const PIN_MAC = { name: 'HMAC', hash: 'SHA-256' };
const encode = (text) => new TextEncoder().encode(text);

export class WrongPin extends Error {
  constructor(remaining) {
    super('wrong PIN');
    this.type = 'pin-wrong';
    this.remaining = remaining;
  }
}

/** Too many wrong PINs: the key is gone from this phone. Sign in online for a new one. */
export class KeyDestroyed extends Error {
  constructor() { super('signing key destroyed after too many wrong PINs'); this.type = 'pin-locked-out'; }
}

export function isValidPin(pin) { return validPin(pin); }

export async function keyFor(userId) { return store.get('keys', userId); }

async function pinVerifier(pinKey, userId, pin) {
  return crypto.subtle.sign(PIN_MAC, pinKey, encode(pinMessage(userId, pin)));
}

/** Make a new key pair for `user`, gated by `pin`. Replaces any older key on this phone. */
export async function createKey(user, pin, deviceId) {
  if (!isValidPin(pin)) throw new TypeError('PIN must be 6 digits');
  // extractable=false: the private half can sign but can never be exported or wrapped.
  const pair = await crypto.subtle.generateKey(SIGNING, false, ['sign', 'verify']);
  const pinKey = await crypto.subtle.generateKey({ ...PIN_MAC, length: 256 }, false, ['sign']);
  const publicJwk = await crypto.subtle.exportKey('jwk', pair.publicKey);
  const record = {
    version: KEY_RECORD_VERSION, user_id: user.id, username: user.username,
    display_name: user.display_name, device_id: deviceId,
    private_key: pair.privateKey, pin_key: pinKey,
    pin_verifier: await pinVerifier(pinKey, user.id, pin),
    failed_attempts: 0, max_attempts: DEFAULT_PIN_MAX_ATTEMPTS,
    public_jwk: { kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x, y: publicJwk.y },
    key_id: null, created_at: new Date().toISOString(),
  };
  await store.put('keys', record);
  return record;
}

/**
 * Tell the server this device's public key for the user, proving the phone holds the
 * private half by signing a fresh server nonce. Keeps the returned key id. With
 * `endSession` the server also ends the sign-in `bearer` belongs to.
 */
export async function register(userId, bearer, { endSession = false } = {}) {
  const record = await keyFor(userId);
  if (!record) throw new Error('no key for this user');
  if (record.key_id) return record;
  // An old-layout key cannot prove possession without its PIN; it is replaced at the next
  // sign-in. Answer it unregistered rather than stop the outbox.
  if (isLegacyRecord(record)) return record;
  const options = { bearer, retries: 1 };
  const challenge = await api.post('/api/devices/keys/challenge',
    { device_id: record.device_id }, options);
  const signature = await sign(record.private_key,
    registrationMessage(userId, record.device_id, challenge.nonce));
  const answer = await api.post('/api/devices/keys', {
    device_id: record.device_id, public_key_jwk: record.public_jwk, nonce: challenge.nonce,
    signature, end_session: endSession }, options);
  const updated = { ...(await keyFor(userId)), key_id: answer.id,
    max_attempts: challenge.pin_max_attempts || DEFAULT_PIN_MAX_ATTEMPTS };
  await store.put('keys', updated);
  return updated;
}

/** Remove a user's key from this phone (too many wrong PINs, or "remove investigator"). */
export async function destroyKey(userId) { await store.del('keys', userId); }

async function checkLegacyPin(record, pin) {
  const material = await crypto.subtle.importKey('raw', encode(pin), 'PBKDF2', false, ['deriveKey']);
  const wrapping = await crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt: record.salt, iterations: record.iterations },
    material, { name: 'AES-GCM', length: 256 }, false, ['wrapKey', 'unwrapKey']);
  try {
    return await crypto.subtle.unwrapKey('pkcs8', record.wrapped, wrapping,
      { name: 'AES-GCM', iv: record.iv, additionalData: encode(record.user_id) },
      SIGNING, false, ['sign']);
  } catch {
    return null;  // AES-GCM authentication fails for any other PIN
  }
}

/**
 * The private key, usable for signing only; WrongPin (with the attempts left) or, at the
 * last allowed wrong PIN, KeyDestroyed. The attempt is counted before the PIN is checked.
 */
export async function unlock(userId, pin) {
  const record = await keyFor(userId);
  if (!record) throw new Error('no key for this user');
  const limit = record.max_attempts ?? DEFAULT_PIN_MAX_ATTEMPTS;
  // Not six digits is a slip of the finger, not a guess: it costs no attempt.
  if (!isValidPin(pin)) throw new WrongPin(limit - (record.failed_attempts ?? 0));
  const counted = beforePinCheck(record.failed_attempts);
  await store.put('keys', { ...record, failed_attempts: counted });
  let privateKey = null;
  if (isLegacyRecord(record)) {
    privateKey = await checkLegacyPin(record, pin);
  } else if (sameBytes(await pinVerifier(record.pin_key, userId, pin), record.pin_verifier)) {
    privateKey = record.private_key;
  }
  const outcome = afterPinCheck(counted, Boolean(privateKey), limit);
  if (outcome.destroy) {
    await destroyKey(userId);
    throw new KeyDestroyed();
  }
  await store.put('keys', { ...(await keyFor(userId)), failed_attempts: outcome.failedAttempts });
  if (!privateKey) throw new WrongPin(outcome.remaining);
  return privateKey;
}

/** Sign ASCII `message`; WebCrypto's ECDSA output is already raw r||s (IEEE P1363). */
export async function sign(privateKey, message) {
  const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey,
    encode(message));
  return base64url(signature);
}

/** This user's keys as the server holds them (online). */
export async function serverKeys(bearer) {
  return (await api.get('/api/devices/keys', { bearer, retries: 1 })).items;
}

/** Revoke one of the signed-in user's keys on the server (a lost phone). */
export async function revokeServerKey(keyId) {
  return api.post(`/api/devices/keys/${encodeURIComponent(keyId)}/revoke`, undefined, { retries: 0 });
}
