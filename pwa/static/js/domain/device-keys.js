// Pure rules of the phone's signing keys (docs/decisions/0002-offline-attestation.md):
// what a new key signs to prove possession, the PIN attempt counter, which records must
// be re-enrolled. No IndexedDB, no WebCrypto keys: tested with node --test.

/** Wrong PINs before the phone destroys a key, until the server says otherwise. */
export const DEFAULT_PIN_MAX_ATTEMPTS = 5;
/** Record layout of a non-extractable key gated by a PIN verifier (see keys.js). */
export const KEY_RECORD_VERSION = 2;

export function isValidPin(pin) { return typeof pin === 'string' && /^\d{6}$/.test(pin); }

/**
 * What a new key signs to be registered: the server's nonce bound to user and device.
 * Must equal backend/devices/rules.py proof_message (and never an attestation message).
 */
export function registrationMessage(userId, deviceId, nonce) {
  return `doorstep-device-key:v1:${userId}:${deviceId}:${nonce}`;
}

/** What the PIN verifier HMACs: the PIN bound to its user. */
export function pinMessage(userId, pin) { return `doorstep-pin:v1:${userId}:${pin}`; }

/**
 * The counter before checking a PIN: the attempt is counted first and forgiven only when
 * the PIN was right, so closing the app mid-check never gives a free guess.
 */
export function beforePinCheck(failedAttempts) { return (failedAttempts ?? 0) + 1; }

/**
 * After checking: {failedAttempts, destroy, remaining}. A right PIN clears the count; the
 * `max`th wrong one in a row destroys the key (sign in online and make a new one).
 */
export function afterPinCheck(countedAttempts, isRight, max = DEFAULT_PIN_MAX_ATTEMPTS) {
  if (isRight) return { failedAttempts: 0, destroy: false, remaining: max };
  const limit = Number.isInteger(max) && max > 0 ? max : DEFAULT_PIN_MAX_ATTEMPTS;
  return { failedAttempts: countedAttempts, destroy: countedAttempts >= limit,
    remaining: Math.max(0, limit - countedAttempts) };
}

/** A key stored the old way (PKCS#8 wrapped under a PBKDF2 PIN key): copyable, re-enrol. */
export function isLegacyRecord(record) {
  return Boolean(record) && record.version !== KEY_RECORD_VERSION;
}

/**
 * Whether a user's stored key must be replaced by a new one at an online sign-in:
 * missing, old layout, for another device id, never registered, or no longer what the
 * server holds as this user's active key on this device (`serverKeys` when known).
 */
export function needsNewKey(record, deviceId, serverKeys = null) {
  if (!record || isLegacyRecord(record) || record.device_id !== deviceId || !record.key_id) {
    return true;
  }
  if (!Array.isArray(serverKeys)) return false;
  const held = serverKeys.find((key) => key.id === record.key_id);
  return !held || Boolean(held.revoked_at) || held.device_id !== deviceId
    || held.public_key_jwk?.x !== record.public_jwk?.x
    || held.public_key_jwk?.y !== record.public_jwk?.y;
}

export function sameBytes(a, b) {
  const left = new Uint8Array(a);
  const right = new Uint8Array(b);
  if (left.length !== right.length) return false;
  let difference = 0;
  for (let i = 0; i < left.length; i += 1) difference |= left[i] ^ right[i];
  return difference === 0;
}

export function base64url(bytes) {
  let text = '';
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
