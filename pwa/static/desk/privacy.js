// Personal data at the desk (issue 22): a household's members with 显示完整号码 (a reveal
// with a purpose, audited), the county supervisor's report of reveals and full exports, and
// full exports (an approver authorises, the exporter spends it once). Loaded on demand.
import { h, fill, toast } from '../js/dom.js';
import { t, problemText, getLang } from '../js/i18n.js';
import { api } from '../js/api.js';
import * as session from '../js/session.js';
import { prepare, when, download } from './common.js';

const enc = encodeURIComponent;
const PURPOSES = ['verify_household_register', 'bank_payment_setup', 'cross_department_check',
  'correct_record', 'contact_household'];
const purposeWords = (slug) => t(`privacy.purpose.${slug}`);
const fieldWords = (field) => t(`privacy.field.${field}`);
const roles = () => session.user()?.roles ?? [];

function nav(current) {
  const tabs = [];
  if (roles().some((role) => ['intake_clerk', 'reviewer', 'approver'].includes(role))) tabs.push(['privacy-exports', t('privacy.exports_title')]);
  if (roles().includes('county_supervisor')) tabs.push(['privacy-report', t('privacy.report_title')]);
  return h('nav', { class: 'desk-nav', 'aria-label': t('privacy.nav') },
    tabs.map(([name, text]) => h('a', { href: `#/${name}`, class: 'desk-tab', 'aria-current': name === current ? 'page' : undefined }, text)));
}

function purposeSelect(id) {
  return h('select', { id, class: 'input', required: true },
    h('option', { value: '' }, t('privacy.choose_purpose')),
    PURPOSES.map((slug) => h('option', { value: slug }, purposeWords(slug))));
}

// --- a household's members, each number revealed on request ------------------------------------

function revealForm(household, member, field, onShown) {
  const id = `reveal-${member.id}-${field}`;
  const purpose = purposeSelect(`${id}-purpose`);
  const error = h('p', { class: 'form-error', id: `${id}-error`, role: 'alert' });
  return h('form', { class: 'stack', id: `${id}-form`, novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    error.textContent = '';
    try {
      const shown = await api.post('/api/personal-data/reveals', { household_id: household.id, member_id: member.id,
        field, purpose: purpose.value || null }, { retries: 0 });
      onShown(shown.value);
    } catch (problem) { error.textContent = problemText(problem); purpose.focus(); }
  } },
  h('label', { for: `${id}-purpose` }, t('privacy.purpose_label', { field: fieldWords(field), name: member.name })), purpose,
  h('p', { class: 'muted' }, t('privacy.reveal_audited')),
  error,
  h('button', { class: 'btn btn-primary', type: 'submit', id: `${id}-confirm` }, t('privacy.reveal_confirm')));
}

async function household(root, householdId) {
  let body;
  try { body = await api.get(`/api/households/${enc(householdId)}`); } catch (problem) {
    fill(root, h('h1', {}, t('privacy.household_title')), h('p', { class: 'form-error', role: 'alert', id: 'privacy-error' }, problemText(problem)));
    root.dataset.ready = 'true';
    return;
  }
  const revealed = {};
  let asking = null;
  const draw = () => {
    const cell = (member, field) => {
      const key = `${member.id}-${field}`;
      if (!member[field]) return h('td', {}, '—');
      if (revealed[key]) return h('td', {}, h('output', { id: `full-${key}`, class: 'num' }, revealed[key]));
      return h('td', {}, h('span', { class: 'num' }, member[field]), ' ',
        h('button', { class: 'btn', type: 'button', id: `reveal-${key}`,
          'aria-label': t('privacy.reveal_named', { field: fieldWords(field), name: member.name }),
          onclick: () => { asking = { member, field }; draw(); } }, t('privacy.reveal')));
    };
    fill(root,
      h('h1', {}, t('privacy.household_title')),
      h('p', { class: 'muted' }, body.address),
      h('table', { id: 'privacy-members' },
        h('caption', {}, t('privacy.members_caption')),
        h('thead', {}, h('tr', {}, ['col_name', 'col_relation', 'col_id_number', 'col_phone', 'col_age']
          .map((key) => h('th', { scope: 'col' }, t(`privacy.${key}`))))),
        h('tbody', {}, body.members.map((member) => h('tr', { dataset: { memberId: member.id } },
          h('th', { scope: 'row' }, member.name), h('td', {}, t(`relation.${member.relation}`)),
          cell(member, 'id_number'), cell(member, 'phone'),
          h('td', { class: 'num' }, member.age ?? '—'))))),
      asking ? h('section', { class: 'card stack', id: 'privacy-reveal' },
        revealForm(body, asking.member, asking.field, (value) => {
          revealed[`${asking.member.id}-${asking.field}`] = value;
          asking = null;
          toast(t('privacy.revealed_toast'));
          draw();
        })) : null);
    root.dataset.ready = 'true';
    document.getElementById(asking ? `reveal-${asking.member.id}-${asking.field}-purpose` : '')?.focus();
  };
  draw();
}

// --- the county supervisor's report -------------------------------------------------------------

async function report(root, params) {
  const query = new URLSearchParams(params);
  let rows;
  let everyone;
  try {
    [rows, everyone] = await Promise.all([api.get(`/api/personal-data/reads?${query}`), api.get('/api/personal-data/reads')]);
  } catch (problem) {
    fill(root, nav('privacy-report'), h('h1', {}, t('privacy.report_title')), h('p', { class: 'form-error', role: 'alert', id: 'privacy-error' }, problemText(problem)));
    root.dataset.ready = 'true';
    return;
  }
  const people = [...new Map(everyone.map((row) => [row.user_id, row.user_name])).entries()];
  const households = [...new Map(everyone.filter((row) => row.household_id).map((row) => [row.household_id, row.head_name ?? row.household_id.slice(0, 8)])).entries()];
  const person = h('select', { id: 'report-person', class: 'input' }, h('option', { value: '' }, t('privacy.anyone')),
    people.map(([id, name]) => h('option', { value: id, selected: query.get('user_id') === id }, name)));
  const home = h('select', { id: 'report-household', class: 'input' }, h('option', { value: '' }, t('privacy.any_household')),
    households.map(([id, name]) => h('option', { value: id, selected: query.get('household_id') === id }, name)));
  fill(root,
    nav('privacy-report'),
    h('h1', {}, t('privacy.report_title')),
    h('p', { class: 'muted' }, t('privacy.report_intro')),
    h('form', { class: 'card stack', id: 'report-filter', onsubmit: (event) => {
      event.preventDefault();
      const next = new URLSearchParams();
      if (person.value) next.set('user_id', person.value);
      if (home.value) next.set('household_id', home.value);
      location.hash = `#/privacy-report/${next}`;
    } },
    h('label', { for: 'report-person' }, t('privacy.person')), person,
    h('label', { for: 'report-household' }, t('privacy.household')), home,
    h('button', { class: 'btn btn-primary', type: 'submit', id: 'report-apply' }, t('privacy.filter'))),
    h('table', { id: 'report-table' },
      h('caption', {}, t('privacy.report_caption', { n: rows.length })),
      h('thead', {}, h('tr', {}, ['col_time', 'col_person', 'col_kind', 'col_household', 'col_field', 'col_purpose']
        .map((key) => h('th', { scope: 'col' }, t(`privacy.${key}`))))),
      h('tbody', {}, rows.length ? rows.map((row) => h('tr', { dataset: { kind: row.kind, userId: row.user_id, householdId: row.household_id ?? '' } },
        h('td', {}, when(row.read_at)), h('td', {}, row.user_name), h('td', {}, t(`privacy.kind.${row.kind}`)),
        h('td', {}, row.head_name ?? '—'), h('td', {}, row.field ? fieldWords(row.field) : t('privacy.whole_export')),
        h('td', {}, purposeWords(row.purpose))))
        : h('tr', {}, h('td', { colspan: 6, class: 'muted' }, t('privacy.report_empty'))))));
  root.dataset.ready = 'true';
}

// --- full exports: the approver authorises, the exporter spends it once --------------------------

async function exports(root) {
  const isApprover = roles().includes('approver');
  let given;
  let exporters = [];
  try {
    [given, exporters] = await Promise.all([api.get('/api/personal-data/export-authorisations'),
      isApprover ? api.get('/api/personal-data/exporters') : Promise.resolve([])]);
  } catch (problem) {
    fill(root, nav('privacy-exports'), h('h1', {}, t('privacy.exports_title')), h('p', { class: 'form-error', role: 'alert', id: 'privacy-error' }, problemText(problem)));
    root.dataset.ready = 'true';
    return;
  }
  const me = session.user()?.id;
  const mine = given.filter((row) => row.exporter_id === me);
  const error = h('p', { class: 'form-error', id: 'authorise-error', role: 'alert' });
  const who = h('select', { id: 'authorise-exporter', class: 'input' }, exporters.map((card) => h('option', { value: card.id }, card.display_name)));
  const purpose = purposeSelect('authorise-purpose');
  const authoriseForm = isApprover ? h('form', { class: 'card stack', id: 'authorise-form', onsubmit: async (event) => {
    event.preventDefault();
    error.textContent = '';
    try {
      await api.post('/api/personal-data/export-authorisations', { exporter_id: who.value, purpose: purpose.value || null }, { retries: 0 });
      toast(t('privacy.authorised_toast'));
      await exports(root);
    } catch (problem) { error.textContent = problemText(problem); }
  } },
  h('h2', {}, t('privacy.authorise_title')),
  h('label', { for: 'authorise-exporter' }, t('privacy.exporter')), who,
  h('label', { for: 'authorise-purpose' }, t('privacy.purpose')), purpose,
  error,
  h('button', { class: 'btn btn-primary', type: 'submit', id: 'authorise-submit' }, t('privacy.authorise'))) : null;
  const row = (item) => h('tr', { dataset: { authorisationId: item.id, used: String(Boolean(item.used_at)) } },
    h('td', {}, item.exporter_name), h('td', {}, item.approver_name), h('td', {}, purposeWords(item.purpose)),
    h('td', {}, when(item.authorised_at)), h('td', {}, when(item.expires_at)),
    h('td', {}, item.used_at ? t('privacy.used_at', { at: when(item.used_at) })
      : item.exporter_id === me ? h('button', { class: 'btn btn-primary', type: 'button', id: `full-export-${item.id}`, onclick: async () => {
        try {
          await download(`/api/reviews/export.xlsx?lang=${getLang()}&authorisation=${enc(item.id)}`, `doorstep-full-export-${item.id.slice(0, 8)}.xlsx`);
          toast(t('privacy.exported_toast'));
          await exports(root);
        } catch (problem) { toast(problemText(problem), 'error'); }
      } }, t('privacy.full_export')) : t('privacy.unused')));
  fill(root,
    nav('privacy-exports'),
    h('h1', {}, t('privacy.exports_title')),
    h('p', { class: 'muted' }, t('privacy.exports_intro')),
    authoriseForm,
    h('table', { id: 'authorisations' },
      h('caption', {}, t('privacy.authorisations_caption')),
      h('thead', {}, h('tr', {}, ['col_exporter', 'col_approver', 'col_purpose', 'col_authorised', 'col_expires', 'col_state']
        .map((key) => h('th', { scope: 'col' }, t(`privacy.${key}`))))),
      h('tbody', {}, given.length ? given.map(row) : h('tr', {}, h('td', { colspan: 6, class: 'muted' }, t('privacy.none'))))),
    mine.length ? null : h('p', { class: 'muted', id: 'no-leave' }, t('privacy.masked_by_default')));
  root.dataset.ready = 'true';
}

export async function render(root, { params = [] } = {}) {
  await prepare();
  document.body.classList.add('desk');
  const screen = root.dataset.view;
  if (screen === 'privacy-household') await household(root, params[0]);
  else if (screen === 'privacy-report') await report(root, params[0] ?? '');
  else await exports(root);
  return () => document.body.classList.remove('desk');
}
