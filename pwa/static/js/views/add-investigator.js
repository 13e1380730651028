// "Add investigator to this phone": the second team member signs in with their own
// password (online, once) and sets their own PIN for a new signing key; their sign-in is
// ended right after, so the session stays the first user's alone.
import { h } from '../dom.js';
import { screen } from '../render.js';
import { t, problemText } from '../i18n.js';
import * as session from '../session.js';
import * as store from '../store.js';
import { enrolInvestigator } from '../keys-ui.js';

export function render(root, { navigate }) {
  const view = screen(root, { patching: false });
  const error = h('p', { class: 'form-error', role: 'alert', id: 'add-error' });
  const username = h('input', { id: 'add-username', autocomplete: 'off', autocapitalize: 'none' });
  const password = h('input', { id: 'add-password', type: 'password', autocomplete: 'off' });
  const submit = h('button', { class: 'btn btn-primary btn-block', id: 'add-submit', type: 'submit' }, t('login.submit'));
  const form = h('form', { class: 'card stack', onsubmit: async (event) => {
    event.preventDefault();
    error.textContent = '';
    if (!navigator.onLine) { error.textContent = t('login.needs_network'); return; }
    submit.disabled = true;
    try {
      const result = await session.verifyOtherInvestigator(username.value.trim(), password.value);
      password.value = '';
      await enrolInvestigator(root, result.user, result.access_token);
      await store.put('people', { ...result.user, added_at: new Date().toISOString() });
      await view.draw(() => [h('p', { class: 'notice', id: 'add-done' }, t('add.done', { name: result.user.display_name })),
        h('a', { class: 'btn btn-block', href: '#/cases' }, t('nav.cases'))]);
    } catch (failure) {
      await view.draw(() => form);
      error.textContent = problemText(failure);
      submit.disabled = false;
    }
  } }, h('h1', {}, t('add.title')), h('p', { class: 'hint' }, t('add.why')),
  h('label', { for: 'add-username' }, t('login.username')), username,
  h('label', { for: 'add-password' }, t('login.password')), password, error, submit);
  void navigate;
  return view.draw(() => form, { after: () => username.focus() });
}
