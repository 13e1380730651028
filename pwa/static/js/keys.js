// Per-user, per-device attestation keys (docs/decisions/0002-offline-attestation.md).
// The ECDSA P-256 private key is stored only wrapped with an AES-GCM key derived from
// the user's 6-digit PIN, so a phone without the PIN cannot sign.
import * as store from './store.js';
import { api } from './api.js';

export const PBKDF2_ITERATIONS = 310_000;   // OWASP 2023 figure for PBKDF2-HMAC-SHA256
const SIGNING = { name: 'ECDSA', namedCurve: 'P-256' };

export class WrongPin extends Error { constructor() { super('wrong PIN'); this.type = 'pin-wrong'; } }

export function isValidPin(pin) { return /^\d{6}$/.test(pin); }

function base64url(bytes) {
  let text = '';
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

async function pinKey(pin, salt, iterations) {
  const material = await crypto.subtle.importKey('raw', new TextEncoder().encode(pin),
    'PBKDF2', false, ['deriveKey']);
  return crypto.subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    material, { name: 'AES-GCM', length: 256 }, false, ['wrapKey', 'unwrapKey']);
}

export async function keyFor(userId) { return store.get('keys', userId); }

/** Make a new key pair for `user`, wrapped under `pin`. Replaces any older key. */
export async function createKey(user, pin, deviceId) {
  if (!isValidPin(pin)) throw new TypeError('PIN must be 6 digits');
  const pair = await crypto.subtle.generateKey(SIGNING, true, ['sign', 'verify']);
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const wrapping = await pinKey(pin, salt, PBKDF2_ITERATIONS);
  const wrapped = await crypto.subtle.wrapKey('pkcs8', pair.privateKey, wrapping,
    { name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(user.id) });
  const publicJwk = await crypto.subtle.exportKey('jwk', pair.publicKey);
  const record = {
    user_id: user.id, username: user.username, display_name: user.display_name,
    device_id: deviceId, wrapped, salt, iv, iterations: PBKDF2_ITERATIONS,
    public_jwk: { kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x, y: publicJwk.y },
    key_id: null, created_at: new Date().toISOString(),
  };
  await store.put('keys', record);
  return record;
}

/** Tell the server this device's public key for the user; keeps the returned key id. */
export async function register(userId, bearer) {
  const record = await keyFor(userId);
  if (!record) throw new Error('no key for this user');
  if (record.key_id) return record;
  const answer = await api.post('/api/devices/keys',
    { device_id: record.device_id, public_key_jwk: record.public_jwk }, { bearer, retries: 1 });
  const updated = { ...record, key_id: answer.id };
  await store.put('keys', updated);
  return updated;
}

/** The private key, usable for signing only, or WrongPin. */
export async function unlock(userId, pin) {
  const record = await keyFor(userId);
  if (!record) throw new Error('no key for this user');
  const wrapping = await pinKey(pin, record.salt, record.iterations);
  try {
    return await crypto.subtle.unwrapKey('pkcs8', record.wrapped, wrapping,
      { name: 'AES-GCM', iv: record.iv, additionalData: new TextEncoder().encode(userId) },
      SIGNING, false, ['sign']);
  } catch {
    // AES-GCM authentication fails for any other PIN: that is the check.
    throw new WrongPin();
  }
}

/** Sign ASCII `message`; WebCrypto's ECDSA output is already raw r||s (IEEE P1363). */
export async function sign(privateKey, message) {
  const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey,
    new TextEncoder().encode(message));
  return base64url(signature);
}
