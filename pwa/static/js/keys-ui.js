// After a password sign-in: make sure this user has a PIN-protected signing key on this
// phone that the server holds as theirs, and add a second investigator to the phone.
import { h, clear, toast } from './dom.js';
import { t, problemText } from './i18n.js';
import * as keys from './keys.js';
import * as session from './session.js';
import { api } from './api.js';
import { needsNewKey } from './domain/device-keys.js';

/** Ask for a new 6-digit PIN twice; resolves with it. */
export function askNewPin(root, { title = t('pin.title'), intro = null } = {}) {
  return new Promise((resolve) => {
    const first = h('input', { id: 'pin-1', type: 'password', inputmode: 'numeric', pattern: '\\d{6}',
      maxlength: 6, autocomplete: 'off', 'aria-label': t('pin.enter') });
    const second = h('input', { id: 'pin-2', type: 'password', inputmode: 'numeric', pattern: '\\d{6}',
      maxlength: 6, autocomplete: 'off', 'aria-label': t('pin.repeat') });
    const error = h('p', { class: 'form-error', role: 'alert' });
    const save = h('button', { class: 'btn btn-primary btn-block', id: 'pin-save', type: 'submit' }, t('pin.save'));
    clear(root).append(h('form', { class: 'card stack', onsubmit: (event) => {
      event.preventDefault();
      if (!keys.isValidPin(first.value)) { error.textContent = t('pin.invalid'); return; }
      if (first.value !== second.value) { error.textContent = t('pin.mismatch'); second.value = ''; return; }
      save.disabled = true;
      save.textContent = t('pin.working');
      resolve(first.value);
    } }, h('h1', {}, title), intro ? h('p', { class: 'notice', id: 'pin-intro' }, intro) : null,
    h('p', { class: 'hint' }, t('pin.why')),
    h('label', { for: 'pin-1' }, t('pin.enter')), first,
    h('label', { for: 'pin-2' }, t('pin.repeat')), second, error, save));
    first.focus();
  });
}

/** The server's view of this user's keys, or null when it cannot be asked now. */
async function serverKeysOrNull(bearer) {
  try { return await keys.serverKeys(bearer); } catch { return null; }
}

/**
 * At the signed-in user's own password sign-in (online): keep their key only if it is a
 * current-format key that the server holds as their active key on this phone; otherwise
 * (none, an old copyable one, revoked, destroyed, or not theirs) make a new one under a
 * PIN they type now, and register it.
 */
export async function ensureKey(root, user, bearer) {
  const deviceId = session.getDeviceId();
  let record = await keys.keyFor(user.id);
  if (!needsNewKey(record, deviceId, await serverKeysOrNull(bearer))) return record;
  const intro = record ? t('pin.renew') : null;
  const pin = await askNewPin(root, { intro });
  record = await keys.createKey(user, pin, deviceId);
  try { record = await keys.register(user.id, bearer); } catch (error) {
    toast(`${t('pin.register_later')} ${problemText(error)}`, 'error');
  }
  return record;
}

/**
 * "Add an investigator to this phone": always a new key under the investigator's own PIN,
 * whatever key record this phone already holds for them; registered with their one-off
 * sign-in, which is then ended so it does not stay open on a colleague's phone.
 */
export async function enrolInvestigator(root, user, bearer) {
  const pin = await askNewPin(root, { title: t('add.pin_title', { name: user.display_name }) });
  await keys.createKey(user, pin, session.getDeviceId());
  try {
    return await keys.register(user.id, bearer, { endSession: true });
  } catch (error) {
    // No half-made key for them: the next attempt starts again.
    await keys.destroyKey(user.id);
    throw error;
  } finally {
    // The server ends the sign-in with the registration; say so again in case it did not
    // get that far. A sign-in already ended answers 401, which is fine.
    await api.post('/api/auth/logout', undefined, { bearer, retries: 0 }).catch(() => {});
  }
}

export async function afterSignIn({ navigate }) {
  const me = session.user();
  await ensureKey(document.getElementById('main'), me, undefined);
  navigate('cases');
}
