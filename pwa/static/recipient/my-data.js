// The recipient's own view (issue 22, PIPL Art. 44-46): what is held about their household,
// who on the staff saw a full ID number and when, correction requests and their outcome,
// and the separate choice about face matching (Art. 29). Online only, so never precached:
// nothing here is kept on the phone, and its words load with it (like a desk screen's).
import { h, fill, toast, uuid } from '../js/dom.js';
import { t, problemText, formatDateTime, extend } from '../js/i18n.js';
import { api, request } from '../js/api.js';

const enc = encodeURIComponent;
const when = (value) => (value ? formatDateTime(value) : '—');
const SUBJECTS = ['member', 'address', 'decision', 'checkin', 'other'];

function section(id, title, ...children) {
  return h('section', { class: 'card stack', id, 'aria-labelledby': `${id}-title` }, h('h2', { id: `${id}-title` }, title), ...children);
}

function list(id, items, line, empty) {
  return items.length ? h('ul', { id, class: 'plain-list' }, items.map((item) => h('li', {}, line(item))))
    : h('p', { class: 'muted', id: `${id}-empty` }, empty);
}

function consentSection(held, redraw) {
  const consent = held.biometric_consent;
  const choose = (choice) => async () => {
    try {
      await api.post('/api/personal-data/biometric-consent', { choice, text_version: consent.text_version }, { retries: 0 });
      await redraw();
    } catch (problem) { toast(problemText(problem), 'error'); }
  };
  const state = consent.choice ?? 'none';
  return section('my-consent', t('mydata.consent_title'),
    h('p', {}, t('mydata.consent_text')),
    h('p', { class: 'muted' }, t('mydata.consent_version', { version: consent.text_version })),
    h('p', { id: 'my-consent-state', class: 'big-text' }, t(`mydata.consent_${state}`, { at: when(consent.revoked_at ?? consent.decided_at) })),
    state === 'given'
      ? h('button', { class: 'btn btn-huge', type: 'button', id: 'my-consent-revoke', onclick: async () => {
        try {
          await request('/api/personal-data/biometric-consent', { method: 'DELETE', retries: 0 });
          await redraw();
        } catch (problem) { toast(problemText(problem), 'error'); }
      } }, t('mydata.consent_revoke'))
      : h('div', { class: 'stack' },
        h('button', { class: 'btn btn-primary btn-huge', type: 'button', id: 'my-consent-give', onclick: choose('given') }, t('mydata.consent_give')),
        state === 'declined' ? null : h('button', { class: 'btn btn-huge', type: 'button', id: 'my-consent-decline', onclick: choose('declined') }, t('mydata.consent_decline'))),
    h('p', { class: 'muted' }, t('mydata.consent_alternative')));
}

function correctionForm(held, redraw) {
  const subject = h('select', { id: 'my-correction-subject', class: 'input' }, SUBJECTS.map((slug) => h('option', { value: slug }, t(`mydata.subject_${slug}`))));
  const text = h('textarea', { id: 'my-correction-text', class: 'input', rows: 3, maxlength: 2000, required: true });
  const error = h('p', { class: 'form-error', id: 'my-correction-error', role: 'alert' });
  return h('form', { class: 'stack', id: 'my-correction-form', onsubmit: async (event) => {
    event.preventDefault();
    error.textContent = '';
    try {
      await api.post('/api/personal-data/corrections', { id: uuid(), household_id: held.household_id, subject: subject.value, text: text.value.trim() }, { retries: 0 });
      toast(t('mydata.correction_sent'));
      await redraw();
    } catch (problem) { error.textContent = problemText(problem); text.focus(); }
  } },
  h('label', { for: 'my-correction-subject' }, t('mydata.correction_subject')), subject,
  h('label', { for: 'my-correction-text' }, t('mydata.correction_text')), text,
  error,
  h('button', { class: 'btn btn-primary btn-huge', type: 'submit', id: 'my-correction-send' }, t('mydata.correction_send')));
}

export async function render(root) {
  root.classList.add('checkin-root');
  await extend('/static/recipient/i18n');
  const draw = async () => {
    let held;
    try {
      const me = await api.get('/api/checkins/me');
      held = await api.get(`/api/personal-data/own/${enc(me.household_id)}`);
    } catch (problem) {
      fill(root, h('h1', {}, t('mydata.title')), h('p', { class: 'form-error', role: 'alert', id: 'my-data-error' }, problemText(problem)),
        h('a', { class: 'btn btn-huge', href: '#/checkin' }, t('mydata.back')));
      root.dataset.ready = 'true';
      return;
    }
    fill(root,
      h('a', { class: 'btn', href: '#/checkin', id: 'my-data-back' }, `‹ ${t('mydata.back')}`),
      h('h1', {}, t('mydata.title')),
      h('p', { class: 'muted' }, t('mydata.intro')),
      section('my-members', t('mydata.members'), list('my-members-list', held.members,
        (m) => `${m.name} · ${t(`relation.${m.relation}`)}${m.id_number ? ` · ${m.id_number}` : ''}`, t('mydata.none'))),
      section('my-decisions', t('mydata.decisions'), list('my-decisions-list', held.decisions,
        (d) => [h('strong', {}, `${t(`kind.${d.kind}`)} · ${t(`status.${d.status}`)}`), h('br'), when(d.decided_at),
          d.reasons.length ? h('br') : null, d.reasons.join('；')], t('mydata.none'))),
      section('my-checkins', t('mydata.checkins'), list('my-checkins-list', held.checkins,
        (c) => `${when(c.captured_at)} · ${t(`checkin.outcome_${c.outcome}`)}${c.is_proxy ? ` · ${t('mydata.proxy')}` : ''}`, t('mydata.none'))),
      section('my-views', t('mydata.views'), list('my-views-list', held.id_number_views,
        (v) => t('mydata.view_line', { at: when(v.viewed_at), staff: v.staff_name, member: v.member_name ?? '', purpose: t(`mydata.purpose_${v.purpose}`) }),
        t('mydata.views_none'))),
      section('my-corrections', t('mydata.corrections'), list('my-corrections-list', held.corrections,
        (c) => t(`mydata.correction_${c.state}`, { at: when(c.requested_at), text: c.requested_text, note: c.outcome_note ?? '' }), t('mydata.none')),
      correctionForm(held, draw)),
      consentSection(held, draw));
    root.dataset.ready = 'true';
  };
  await draw();
}
