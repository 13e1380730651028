// The browser side of Web Push: can this phone receive it, is it already subscribed, and
// subscribe with the server's key. The server keeps the subscription (POST
// /api/checkins/push/subscriptions); the service worker shows what arrives (sw.js).
import { applicationServerKey, turnOff } from '../domain/push.js';
import { request } from '../api.js';
import * as store from '../store.js';

// The server's id of this browser's subscription (from the POST), so that turning off and
// signing out can DELETE it. A device fact, not personal data: sign-out clears it itself.
const SERVER_RECORD = 'push_subscription';

export const isSupported = () => 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;

export const permission = () => (isSupported() ? Notification.permission : 'denied');

// The worker registers at start-up (background.js); a browser that never gets one ready
// (storage blocked, private mode) cannot receive push either.
async function registration() {
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('no service worker')), 10_000));
  return Promise.race([navigator.serviceWorker.ready, timeout]);
}

/** This browser's current subscription, or null. */
export async function current() {
  if (!isSupported()) return null;
  return (await registration()).pushManager.getSubscription();
}

/** Ask to show notifications (the browser's own question): 'granted', 'denied' or 'default'. */
export async function askPermission() {
  return Notification.requestPermission();
}

/** Subscribe with the server's VAPID public key; the subscription as the server takes it. */
export async function subscribe(publicKey) {
  const pushManager = (await registration()).pushManager;
  const existing = await pushManager.getSubscription();
  const subscription = existing ?? await pushManager.subscribe({
    userVisibleOnly: true, applicationServerKey: applicationServerKey(publicKey) });
  const { endpoint, keys } = subscription.toJSON();
  return { endpoint, keys: { p256dh: keys.p256dh, auth: keys.auth } };
}

/** Keep the server's answer to the subscription POST: its id is what DELETE takes. */
export async function remember(view) {
  if (view?.id) await store.put('device', { id: view.id }, SERVER_RECORD);
}

/**
 * Stop reminders to this browser: unsubscribe here and, with `server` (the sign-in still
 * valid), delete the server's record. getRegistration() rather than `ready`, so a browser
 * whose worker never started does not hold sign-out up for the 10 s wait.
 */
export async function turnOffHere({ server = true } = {}) {
  let subscription = null;
  try {
    subscription = isSupported() ? await (await navigator.serviceWorker.getRegistration())?.pushManager.getSubscription() : null;
  } catch { subscription = null; }
  const remembered = await store.get('device', SERVER_RECORD);
  const result = await turnOff({ subscription, serverId: server ? remembered?.id : null,
    deleteOnServer: (id) => request(`/api/checkins/push/subscriptions/${encodeURIComponent(id)}`,
      { method: 'DELETE', retries: 0 }) });
  if (result.browser !== 'failed') await store.del('device', SERVER_RECORD);
  return result;
}
