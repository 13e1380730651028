// Who is signed in on this phone. The session survives reloads and offline periods
// (workers sign in at the township office, then spend the day where there is no signal):
// an expired access token only matters once the phone is online again.
import * as store from './store.js';
import { api, configure } from './api.js';
import { uuid } from './dom.js';
import * as push from './device/push.js';

let current = null;
let deviceId = null;
const listeners = new Set();

export function onChange(listener) { listeners.add(listener); }
function changed() { for (const listener of listeners) listener(current); }

export async function init() {
  deviceId = await store.get('device', 'device_id');
  if (!deviceId) {
    deviceId = uuid();
    await store.put('device', deviceId, 'device_id');
  }
  current = (await store.get('session', 'current')) ?? null;
  configure({
    session: () => current,
    deviceId: () => deviceId,
    saveTokens: async ({ access_token: accessToken, refresh_token: refreshToken }) => {
      current = { ...current, access_token: accessToken,
        refresh_token: refreshToken ?? current?.refresh_token };
      await store.put('session', current, 'current');
    },
    // The server ended this sign-in (revoked, or the refresh token expired).
    signedOut: () => requireSignIn(),
  });
}

/**
 * Ask for the password again (the server ended the sign-in, or the phone destroyed the
 * user's signing key after too many wrong PINs). Keep the data – it is this user's
 * unsent work.
 */
export async function requireSignIn() {
  if (!current) return;
  current = { ...current, needs_sign_in: true };
  await store.put('session', current, 'current');
  changed();
}

export function getDeviceId() { return deviceId; }
export function user() { return current?.user ?? null; }
export function isSignedIn() { return Boolean(current?.user); }
export function needsSignIn() { return !current?.user || Boolean(current?.needs_sign_in); }

/** Sign in with the password (and `second`: a code); a different user than the last one starts
 * from a clean phone. Without the code it needs, the answer is `second_factor`, nothing kept. */
export async function signIn(username, password, second = {}) {
  const result = await api.post('/api/auth/login', { username, password, device_id: deviceId, ...second },
    { auth: false, retries: 0 });
  if (!result.access_token) return result;
  return adopt(result);
}

/** A recipient signs in with phone number and PIN (the account's name is not the number). */
export async function signInRecipient(phone, pin) {
  return adopt(await api.post('/api/checkins/login', { phone, pin, device_id: deviceId },
    { auth: false, retries: 0 }));
}

async function adopt(result) {
  if (current?.user && current.user.id !== result.user.id) {
    // Someone else on a shared phone: the last person's reminders must not reach them. Only
    // the browser's side (their sign-in may be gone); the push service's 410 clears the server's.
    await push.turnOffHere({ server: false }).catch((error) => console.warn('push not turned off', error));
    await store.wipePersonalData();
  }
  current = { access_token: result.access_token, refresh_token: result.refresh_token,
    user: result.user, signed_in_at: new Date().toISOString() };
  await store.put('session', current, 'current');
  await store.put('people', { ...result.user, added_at: current.signed_in_at });
  // Ask the browser not to evict our IndexedDB under storage pressure: losing a day's
  // surveys would be far worse than using disk.
  navigator.storage?.persist?.().catch(() => {});
  changed();
  return result;
}

/**
 * Sign in a second investigator on this phone without switching the session: their
 * token is used once (key registration) and not kept.
 */
export async function verifyOtherInvestigator(username, password) {
  return api.post('/api/auth/login', { username, password, device_id: deviceId },
    { auth: false, retries: 0 });
}

export async function signOut() {
  // Before the logout: the server's DELETE of this browser's push subscription needs the sign-in.
  if (current?.user) await push.turnOffHere().catch((error) => console.warn('push not turned off', error));
  if (current?.access_token && navigator.onLine) {
    try { await api.post('/api/auth/logout', undefined, { retries: 0 }); } catch { /* offline or already gone */ }
  }
  await store.wipePersonalData();
  current = null;
  changed();
}
