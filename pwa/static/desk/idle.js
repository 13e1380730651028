// Desk sign-ins end after the user's `idle_minutes` without a key or a touch (issue 22; the
// server refuses the refresh a little later on its own, ADR 0023). Phones have no idle
// timeout: their roles get no `idle_minutes`, and their PIN lock guards an unattended phone.
// Loaded only for a user with an idle timeout, so the phone's precached shell never carries it.
import { api } from '../js/api.js';
import * as session from '../js/session.js';

const ACTIVITY = ['pointerdown', 'keydown', 'wheel', 'touchstart'];
let timer = null;
let lastActivity = Date.now();
let watching = false;

function limit() {
  const minutes = session.user()?.idle_minutes;
  return minutes && !session.needsSignIn() ? minutes * 60_000 : null;
}

function arm() {
  clearTimeout(timer);
  const ms = limit();
  if (ms) timer = setTimeout(check, Math.max(1000, ms - (Date.now() - lastActivity)));
}

async function check() {
  const ms = limit();
  if (!ms) return;
  if (Date.now() - lastActivity < ms) { arm(); return; }
  try { await api.post('/api/auth/logout', undefined, { retries: 0 }); } catch { /* offline: the server ends it too */ }
  await session.requireSignIn();
}

/** Start (or restart, after a sign-in) counting idle time. */
export function watch() {
  lastActivity = Date.now();
  if (!watching) {
    watching = true;
    for (const type of ACTIVITY) {
      document.addEventListener(type, () => { lastActivity = Date.now(); }, { capture: true, passive: true });
    }
    // A computer that slept stops timers: check at once when the page is seen again.
    document.addEventListener('visibilitychange', () => { if (!document.hidden) check(); });
  }
  arm();
}
