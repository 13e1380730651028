// The browser side of Web Push: can this phone receive it, is it already subscribed, and
// subscribe with the server's key. The server keeps the subscription (POST
// /api/checkins/push/subscriptions); the service worker shows what arrives (sw.js).
import { applicationServerKey } from '../domain/push.js';

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
