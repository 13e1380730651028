// After a password sign-in: make sure this user has a PIN-protected signing key on this
// phone and that the server knows its public half.
import { h, clear, toast } from './dom.js';
import { t, problemText } from './i18n.js';
import * as keys from './keys.js';
import * as session from './session.js';

/** Ask for a new 6-digit PIN twice; resolves with it. */
export function askNewPin(root, { title = t('pin.title') } = {}) {
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
    } }, h('h1', {}, title), h('p', { class: 'hint' }, t('pin.why')),
    h('label', { for: 'pin-1' }, t('pin.enter')), first,
    h('label', { for: 'pin-2' }, t('pin.repeat')), second, error, save));
    first.focus();
  });
}

/** Key for `user` exists (or is made now) and is registered with `bearer` when online. */
export async function ensureKey(root, user, bearer) {
  let record = await keys.keyFor(user.id);
  if (!record) {
    const pin = await askNewPin(root);
    record = await keys.createKey(user, pin, session.getDeviceId());
  }
  if (!record.key_id) {
    try { record = await keys.register(user.id, bearer); } catch (error) {
      toast(`${t('pin.register_later')} ${problemText(error)}`, 'error');
    }
  }
  return record;
}

export async function afterSignIn({ navigate }) {
  const me = session.user();
  await ensureKey(document.getElementById('main'), me, undefined);
  navigate('cases');
}
