// Sign-in with username and password (online only: the server checks the password).
import { h } from '../dom.js';
import { screen } from '../render.js';
import { t, problemText } from '../i18n.js';
import * as session from '../session.js';

// The second step (a code, or enrolment), fetched when needed.
async function secondStep(view, result, username, password, afterSignIn) {
  const step = await import('../../desk/second-factor.js');
  await step.prepare();
  step.showSignInStep(view, result.second_factor, {
    submit: (second) => session.signIn(username, password, second),
    done: afterSignIn,
  });
}

export function render(root, { navigate, afterSignIn }) {
  const previous = session.user();
  const error = h('p', { class: 'form-error', role: 'alert', id: 'login-error' });
  const username = h('input', { id: 'username', name: 'username', autocomplete: 'username',
    autocapitalize: 'none', spellcheck: 'false', required: true, value: previous?.username ?? '' });
  const password = h('input', { id: 'password', name: 'password', type: 'password',
    autocomplete: 'current-password', required: true });
  const submit = h('button', { class: 'btn btn-primary btn-block', type: 'submit' }, t('login.submit'));
  const form = h('form', { class: 'card stack', novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    error.textContent = '';
    if (!navigator.onLine) { error.textContent = t('login.needs_network'); return; }
    if (!username.value.trim() || !password.value) { error.textContent = t('login.fill_both'); return; }
    submit.disabled = true;
    submit.textContent = t('login.signing_in');
    try {
      const result = await session.signIn(username.value.trim(), password.value);
      if (!result.access_token) {
        await secondStep(view, result, username.value.trim(), password.value, afterSignIn);
        return;
      }
      await afterSignIn();
    } catch (failure) {
      error.textContent = problemText(failure);
      submit.disabled = false;
      submit.textContent = t('login.submit');
    }
  } },
  h('h1', {}, t('login.title')),
  previous && session.needsSignIn() ? h('p', { class: 'notice' }, t('login.session_ended')) : null,
  h('label', { for: 'username' }, t('login.username')), username,
  h('label', { for: 'password' }, t('login.password')), password,
  error, submit);
  void navigate;
  const view = screen(root, { patching: false });
  return view.draw(() => form, { after: () => (previous ? password : username).focus() });
}
