// Two-step sign-in (issue 22; 等保 2.0 level 3): the second step at sign-in, enrolment with a
// QR code for an authenticator app, the recovery codes shown once, and the account screen
// (the sign-in before this one and the failures since, the second factor's state).
// Loaded on demand and kept outside static/js/, so phones never precache it.
import { h } from '../js/dom.js';
import { t, problemText, formatDate, formatDateTime } from '../js/i18n.js';
import { api } from '../js/api.js';
import { screen } from '../js/render.js';
import * as session from '../js/session.js';
import { prepare as prepareDesk, deskNav, markEnrolled } from './common.js';

export async function prepare() { await prepareDesk(); }

// Roles whose screens carry the desk's tabs (as app.js's DESK_ROLES).
const DESK_ROLES = ['reviewer', 'approver', 'county_supervisor', 'admin'];
const bare = (text) => text.replace(/[\s-]/g, '');
/** Six digits are the app's code; anything else is taken for a recovery code. */
const secondOf = (text) => (/^\d{6}$/.test(bare(text)) ? { totp_code: bare(text) } : { recovery_code: text.trim() });
/** The secret in groups of four, as authenticator apps show typed keys. */
const grouped = (secret) => secret.match(/.{1,4}/g).join(' ');

function codeField(helpId) {
  return h('input', { id: 'totp-code', name: 'totp-code', class: 'input', inputmode: 'numeric',
    autocomplete: 'one-time-code', autocapitalize: 'none', spellcheck: 'false', required: true,
    maxlength: 16, 'aria-describedby': helpId });
}

/** The QR code to scan with an authenticator app, and the same secret to type instead. */
function enrolPicture(enrolment) {
  return h('div', { class: 'stack totp-enrol' },
    h('p', {}, t('second_factor.scan')),
    h('img', { id: 'totp-qr', class: 'totp-qr', src: enrolment.qr_code, alt: t('second_factor.qr_alt') }),
    h('p', {}, t('second_factor.type_instead'), ' ',
      h('code', { id: 'totp-secret', class: 'totp-secret' }, grouped(enrolment.secret))));
}

function showRecoveryCodes(view, codes, done) {
  const heading = h('h1', { id: 'recovery-title', tabindex: '-1' }, t('second_factor.recovery_title'));
  return view.draw(() => h('section', { class: 'card stack', id: 'recovery-codes-box', 'aria-labelledby': 'recovery-title' },
    heading,
    h('p', {}, t('second_factor.recovery_once')),
    h('ol', { id: 'recovery-codes', class: 'recovery-codes' }, codes.map((code) => h('li', {}, h('code', {}, code)))),
    h('button', { class: 'btn btn-primary', type: 'button', id: 'recovery-done', onclick: () => done() },
      t('second_factor.recovery_saved'))), { after: () => heading.focus() });
}

/**
 * The sign-in's second step: a code (or a recovery code), or, past the grace for a role that
 * needs it, enrolment first. `submit(second)` signs in again with the password and the code.
 */
export function showSignInStep(view, step, { submit, done }) {
  const enrolling = step.state === 'enrol';
  const error = h('p', { class: 'form-error', role: 'alert', id: 'totp-error' });
  const code = codeField('totp-code-help');
  const button = h('button', { class: 'btn btn-primary btn-block', type: 'submit', id: 'totp-submit' },
    t('second_factor.verify'));
  const form = h('form', { class: 'card stack', id: 'second-factor-form', novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    error.textContent = '';
    if (!code.value.trim()) { error.textContent = t('second_factor.fill_code'); code.focus(); return; }
    button.disabled = true;
    try {
      const result = await submit(enrolling ? { totp_code: bare(code.value) } : secondOf(code.value));
      if (result.recovery_codes) { showRecoveryCodes(view, result.recovery_codes, done); return; }
      await done();
    } catch (failure) {
      error.textContent = problemText(failure);
      button.disabled = false;
      code.select();
      code.focus();
    }
  } },
  h('h1', {}, t(enrolling ? 'second_factor.enrol_title' : 'second_factor.title')),
  enrolling ? [h('p', {}, t('second_factor.enrol_required')), enrolPicture(step)] : h('p', {}, t('second_factor.code_asked')),
  h('label', { for: 'totp-code' }, t('second_factor.code')), code,
  h('p', { class: 'muted', id: 'totp-code-help' }, t(enrolling ? 'second_factor.first_code_help' : 'second_factor.recovery_help')),
  error, button);
  return view.draw(() => form, { after: () => code.focus() });
}

function historyBox(history) {
  const previous = history.previous_sign_in;
  return h('section', { class: 'card stack', id: 'sign-in-history', 'aria-labelledby': 'sign-ins-title' },
    h('h2', { id: 'sign-ins-title' }, t('account.sign_ins')),
    h('p', { id: 'previous-sign-in' }, previous
      ? t('account.previous', { when: formatDateTime(previous.at), ip: previous.ip ?? '—' })
      : t('account.first_sign_in')),
    h('p', { id: 'failures-since', class: history.failures_since ? 'warn' : '' },
      t('account.failures', { count: history.failures_since })),
    history.failures.length ? h('ul', { class: 'members', id: 'failure-list' }, history.failures.map((failure) =>
      h('li', {}, formatDateTime(failure.at), ' ', h('span', { class: 'muted' }, failure.ip ?? '')))) : null);
}

function enrolForm(view, enrolment, redraw) {
  const error = h('p', { class: 'form-error', role: 'alert', id: 'totp-error' });
  const code = codeField('totp-code-help');
  return h('form', { class: 'card stack', id: 'totp-enrol-form', novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    error.textContent = '';
    if (!code.value.trim()) { error.textContent = t('second_factor.fill_code'); code.focus(); return; }
    try {
      const { recovery_codes: codes } = await api.post('/api/me/second-factor/confirm', { code: bare(code.value) }, { retries: 0 });
      markEnrolled();
      showRecoveryCodes(view, codes, redraw);
    } catch (failure) {
      error.textContent = problemText(failure);
      code.select();
      code.focus();
    }
  } },
  h('h2', {}, t('second_factor.enrol_title')),
  enrolPicture(enrolment),
  h('label', { for: 'totp-code' }, t('second_factor.code')), code,
  h('p', { class: 'muted', id: 'totp-code-help' }, t('second_factor.first_code_help')),
  error,
  h('button', { class: 'btn btn-primary', type: 'submit', id: 'totp-confirm' }, t('second_factor.confirm')));
}

function factorBox(view, state, redraw) {
  const status = state.is_enrolled ? t('second_factor.on', { count: state.recovery_codes_left })
    : state.is_required && state.due_at ? t('second_factor.due', { date: formatDate(state.due_at) })
      : state.is_required ? t('second_factor.required') : t('second_factor.optional');
  const start = h('button', { class: 'btn btn-primary', type: 'button', id: 'totp-start', onclick: () => view.draw(async () => {
    const enrolment = await api.post('/api/me/second-factor', undefined, { retries: 0 });
    return [h('h1', {}, t('account.title')), enrolForm(view, enrolment, redraw)];
  }, { after: () => document.getElementById('totp-code')?.focus() }) }, t('second_factor.start'));
  return h('section', { class: 'card stack', id: 'second-factor', 'aria-labelledby': 'second-factor-title' },
    h('h2', { id: 'second-factor-title' }, t('second_factor.name')),
    h('p', { id: 'second-factor-state', class: state.is_enrolled ? 'status-accepted' : state.is_required ? 'warn' : '' }, status),
    state.is_enrolled ? h('p', { class: 'muted' }, t('second_factor.lost_phone')) : start);
}

/** The account screen (#/account): who signed in before, failures since, the second factor. */
export async function render(root) {
  await prepare();
  const view = screen(root, { patching: false });
  const redraw = () => view.draw(async () => {
    const [history, state] = await Promise.all([api.get('/api/me/sign-ins'), api.get('/api/me/second-factor')]);
    if (state.is_enrolled) markEnrolled();
    const nav = (session.user()?.roles ?? []).some((role) => DESK_ROLES.includes(role)) ? deskNav('account') : null;
    return [nav, h('h1', {}, t('account.title')), historyBox(history), factorBox(view, state, redraw)];
  });
  return redraw();
}
