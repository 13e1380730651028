// Web Push on the recipient's phone, the decisions only (no browser calls; tested with
// node --test): what the reminder control shows, how reminders are turned off again, and
// the server's key as the bytes that pushManager.subscribe() takes.

/** The VAPID public key (base64url, as the server sends it) as applicationServerKey bytes. */
export function applicationServerKey(base64url) {
  const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(base64url.length / 4) * 4, '=');
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

/**
 * What the control shows before anyone touches it: one of
 * 'hidden' (offline: nothing to offer now), 'sms_only' (the server sends no push),
 * 'unsupported' (this browser cannot receive push), 'denied' (notifications blocked: say how
 * to allow them), 'on' (already subscribed) or 'offer' (the button).
 */
export function pushState({ online, configured, supported, permission, subscribed }) {
  if (configured === false) return 'sms_only';
  if (!supported) return 'unsupported';
  if (!online || configured !== true) return 'hidden';
  if (permission === 'denied') return 'denied';
  if (permission === 'granted' && subscribed) return 'on';
  return 'offer';
}

/** What one press of the button led to: the browser's permission answer, then subscribe. */
export function outcomeOf(permission, subscribeError, postError) {
  if (permission === 'denied') return 'denied';
  if (permission !== 'granted') return 'dismissed';
  if (subscribeError) return 'unsupported';
  if (postError) return 'failed';
  return 'on';
}

/**
 * Stop reminders reaching this browser (the recipient turns them off, or signs out of a
 * phone someone else will use next). The browser's own subscription goes first: that alone
 * ends delivery, since the push service then answers 410 and the server forgets the
 * endpoint. Then the server's record (`serverId`, by DELETE), when there is one; either
 * may fail without stopping the other. The browser calls come in as arguments, so this
 * runs under node --test. Answers {browser, server}: browser 'unsubscribed', 'none' or
 * 'failed'; server 'deleted' (or already gone), 'none' or 'kept' (offline: the 410 will
 * clear it).
 */
export async function turnOff({ subscription, serverId, deleteOnServer }) {
  let browser = 'none';
  if (subscription) {
    try { browser = (await subscription.unsubscribe()) ? 'unsubscribed' : 'failed'; } catch { browser = 'failed'; }
  }
  let server = 'none';
  if (serverId && deleteOnServer) {
    try {
      await deleteOnServer(serverId);
      server = 'deleted';
    } catch (error) {
      server = error?.type === 'push-subscription-not-found' ? 'deleted' : 'kept';
    }
  }
  return { browser, server };
}

/** What turning off led to: 'off', or 'off_failed' while this browser still receives push. */
export function offOutcome({ browser }) {
  return browser === 'failed' ? 'off_failed' : 'off';
}

/** The i18n key of each state's plain words. */
export const PUSH_WORDS = {
  sms_only: 'checkin.push_sms_only', unsupported: 'checkin.push_unsupported',
  denied: 'checkin.push_denied', on: 'checkin.push_on', offer: 'checkin.push_why',
  dismissed: 'checkin.push_dismissed', failed: 'checkin.push_failed',
  off: 'checkin.push_off', off_failed: 'checkin.push_off_failed',
};

/** Which button the control shows in each state: turn on, turn off, or neither. */
export function pushButton(state) {
  if (['offer', 'dismissed', 'failed', 'off'].includes(state)) return 'enable';
  if (['on', 'off_failed'].includes(state)) return 'disable';
  return null;
}
