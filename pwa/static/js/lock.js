// Inactivity lock: after 5 minutes without a touch the screen locks until the signed-in
// user's PIN is entered. Wrong PINs here count towards the same limit as signing: at the
// last one the key is destroyed and the phone asks for the password. The last activity
// time lives in IndexedDB so a reload does not skip the lock.
import { h, toast } from './dom.js';
import { t } from './i18n.js';
import * as store from './store.js';
import * as keys from './keys.js';
import * as session from './session.js';

export const LOCK_AFTER_MS = 5 * 60 * 1000;
let lastActive = Date.now();
let lastSaved = 0;
let locked = false;

async function isEnabled() {
  const user = session.user();
  return Boolean(user && !session.needsSignIn() && (await store.get('device', 'lock_enabled')) !== false
    && await keys.keyFor(user.id));
}

function touch() {
  if (locked) return;
  lastActive = Date.now();
  if (lastActive - lastSaved > 15_000) {
    lastSaved = lastActive;
    store.put('device', lastActive, 'last_active_at');
  }
}

export async function lockNow() {
  // Claimed before the first await: two timer ticks at once must not draw two overlays.
  if (locked) return;
  locked = true;
  if (!(await isEnabled())) { locked = false; return; }
  const user = session.user();
  const pin = h('input', { id: 'unlock-pin', type: 'password', inputmode: 'numeric', maxlength: 6,
    autocomplete: 'off', 'aria-label': t('pin.enter') });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const overlay = h('div', { class: 'lock', id: 'lock', role: 'dialog', 'aria-modal': 'true' },
    h('form', { class: 'stack', onsubmit: async (event) => {
      event.preventDefault();
      try {
        await keys.unlock(user.id, pin.value);
        overlay.remove();
        locked = false;
        touch();
      } catch (failure) {
        pin.value = '';
        if (failure instanceof keys.KeyDestroyed) {
          // The PIN guesses are used up: only the password (online) lets anyone back in.
          await session.requireSignIn();
          overlay.remove();
          locked = false;
          toast(t('problem.pin-locked-out'), 'error');
          return;
        }
        error.textContent = failure instanceof keys.WrongPin && Number.isInteger(failure.remaining)
          ? t('pin.wrong_left', { count: failure.remaining }) : t('pin.wrong');
      }
    } }, h('h1', {}, t('lock.title')), h('p', {}, user.display_name), h('p', { class: 'hint' }, t('lock.why')),
    pin, error, h('button', { class: 'btn btn-primary btn-block', type: 'submit', id: 'unlock' }, t('lock.unlock'))));
  document.body.append(overlay);
  pin.focus();
}

export async function start() {
  const saved = await store.get('device', 'last_active_at');
  if (saved && Date.now() - saved > LOCK_AFTER_MS) await lockNow();
  for (const type of ['pointerdown', 'keydown', 'scroll', 'touchstart']) {
    window.addEventListener(type, touch, { passive: true, capture: true });
  }
  touch();
  setInterval(() => { if (Date.now() - lastActive > LOCK_AFTER_MS) lockNow(); }, 15_000);
}
