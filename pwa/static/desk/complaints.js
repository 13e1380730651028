// Complaints and reports (举报, 004): the township's and the county's desk. Every report of
// the area with its deadlines and the overdue ones; one report's handling: naming the
// handler, verification (home visit of the linked case's team, system comparison, phone),
// the finding, the reply. The reporter is shown only on request, to the handler and the
// county supervisor (each showing is audited by the server). Loaded on demand, never
// precached (a desk screen). What reporters typed is only ever set as text.
import { h, fill, toast, uuid } from '../js/dom.js';
import { t, problemText, formatDate } from '../js/i18n.js';
import { api } from '../js/api.js';
import * as session from '../js/session.js';
import { prepare, deskNav, when, getWithEtag } from './common.js';

const enc = encodeURIComponent;
const STAFF_CHANNELS = ['box', 'phone', 'email', 'wechat', 'window'];
const REPLY_CHANNELS = ['phone', 'email', 'wechat', 'letter', 'window', 'none'];
const METHODS = ['home_visit', 'system_comparison', 'phone'];
const ENTERING = ['intake_clerk', 'reviewer', 'approver', 'admin'];
const roles = () => session.user()?.roles ?? [];
const word = (group, slug) => (slug ? t(`complaints.${group}.${slug}`) : '—');
const day = (value) => (value ? formatDate(value) : '—');

function field(id, label, control) {
  return [h('label', { for: id }, label), control];
}

function select(id, values, group, attrs = {}) {
  return h('select', { id, class: 'input', ...attrs }, values.map((value) => h('option', { value }, word(group, value))));
}

/** A form that posts one step with the report's ETag; `body()` returns the JSON or null. */
function stepForm(id, title, complaint, etag, step, controls, body, onDone) {
  const error = h('p', { class: 'form-error', id: `${id}-error`, role: 'alert' });
  return h('form', { class: 'card stack', id, novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    error.textContent = '';
    const payload = body();
    if (!payload) { error.textContent = t('complaints.fill_in'); return; }
    try {
      await api.post(`/api/complaints/${enc(complaint.id)}/${step}`, payload, { headers: { 'If-Match': etag }, retries: 0 });
      toast(t('complaints.saved'));
      onDone();
    } catch (problem) { error.textContent = problemText(problem); }
  } }, h('h3', {}, title), controls, error,
  h('button', { class: 'btn btn-primary', type: 'submit', id: `${id}-send` }, title));
}

function summaryLine(summary) {
  return h('p', { id: 'cp-summary', role: 'status' }, t('complaints.summary', summary));
}

function listTable(items, shown) {
  return h('table', { id: 'cp-list' },
    h('caption', {}, t('complaints.list_caption')),
    h('thead', {}, h('tr', {}, ['col_number', 'col_place', 'col_channel', 'col_received', 'col_status', 'col_handler', 'col_due']
      .map((key) => h('th', { scope: 'col' }, t(`complaints.${key}`))))),
    h('tbody', {}, items.length ? items.map((item) => h('tr', {
      dataset: { id: item.id, status: item.status, overdue: String(item.overdue_steps.length > 0) },
      'aria-current': item.id === shown ? 'true' : undefined },
    h('td', {}, h('a', { href: `#/complaints/${enc(item.id)}`, id: `cp-open-${item.id}` }, item.number)),
    h('td', {}, item.jurisdiction_name ?? item.jurisdiction_code),
    h('td', {}, word('channel', item.channel)),
    h('td', {}, when(item.received_at)),
    h('td', {}, word('status', item.status)),
    h('td', {}, item.handler_name ?? t('complaints.no_handler')),
    h('td', {}, item.overdue_steps.length
      ? h('strong', { class: 'cp-overdue' }, t('complaints.overdue', { steps: item.overdue_steps.map((s) => word('step', s)).join('、') }))
      : t('complaints.reply_by', { day: day(item.reply_due_on) }))))
      : h('tr', {}, h('td', { colspan: 7, class: 'muted' }, t('complaints.none')))));
}

function enterForm(onCreated) {
  const error = h('p', { class: 'form-error', id: 'cp-new-error', role: 'alert' });
  const content = h('textarea', { id: 'cp-new-content', class: 'input', rows: 3, maxlength: 2000, required: true });
  const about = h('input', { id: 'cp-new-about', class: 'input', maxlength: 100 });
  const channel = select('cp-new-channel', STAFF_CHANNELS, 'channel');
  const name = h('input', { id: 'cp-new-name', class: 'input', maxlength: 50 });
  const contact = h('input', { id: 'cp-new-contact', class: 'input', maxlength: 100 });
  const reply = select('cp-new-reply', REPLY_CHANNELS, 'reply');
  let id = uuid();
  return h('details', { class: 'card', id: 'cp-new' }, h('summary', {}, t('complaints.new')),
    h('form', { class: 'stack', novalidate: true, onsubmit: async (event) => {
      event.preventDefault();
      error.textContent = '';
      if (!content.value.trim()) { error.textContent = t('complaints.fill_in'); content.focus(); return; }
      try {
        const created = await api.post('/api/complaints', {
          id, channel: channel.value, content: content.value.trim(), about: about.value.trim() || null,
          is_anonymous: !name.value.trim(), reporter_name: name.value.trim() || null,
          reporter_contact: contact.value.trim() || null, reply_channel: reply.value }, { retries: 0 });
        id = uuid();
        onCreated(created);
      } catch (problem) { error.textContent = problemText(problem); }
    } },
    field('cp-new-channel', t('complaints.channel_label'), channel),
    field('cp-new-about', t('complaints.about'), about),
    field('cp-new-content', t('complaints.content'), content),
    field('cp-new-name', t('complaints.reporter_name'), name),
    field('cp-new-contact', t('complaints.reporter_contact'), contact),
    field('cp-new-reply', t('complaints.reply_channel'), reply),
    error, h('button', { class: 'btn btn-primary', type: 'submit', id: 'cp-new-send' }, t('complaints.enter'))));
}

async function detail(complaint, etag, reload) {
  const canAssign = roles().some((role) => ENTERING.includes(role)) && ['received', 'assigned', 'verifying'].includes(complaint.status);
  const mine = complaint.is_mine;
  const parts = [];
  if (canAssign) {
    const candidates = (await api.get(`/api/complaints/${enc(complaint.id)}/handler-candidates`)).items;
    const handler = h('select', { id: 'cp-handler', class: 'input' }, candidates.map((person) => h('option', {
      value: person.id, selected: person.id === complaint.handler_id }, `${person.display_name}（${person.roles.map((r) => t(`complaints.role.${r}`)).join('、')}）`)));
    parts.push(stepForm('cp-assign', t('complaints.assign'), complaint, etag, 'assign',
      field('cp-handler', t('complaints.handler'), handler), () => ({ handler_id: handler.value }), reload));
  }
  const open = ['received', 'assigned', 'verifying'].includes(complaint.status);
  if (open && (mine || (!complaint.handler_id && canAssign))) {
    const caseNo = h('input', { id: 'cp-case-no', class: 'input', maxlength: 40, value: complaint.case_no ?? '' });
    parts.push(stepForm('cp-link', t('complaints.link'), complaint, etag, 'link',
      field('cp-case-no', t('complaints.case_no'), caseNo), () => (caseNo.value.trim() ? { case_no: caseNo.value.trim() } : null), reload));
  }
  if (mine && ['assigned', 'verifying'].includes(complaint.status)) {
    const method = select('cp-method', METHODS, 'method');
    const note = h('textarea', { id: 'cp-note', class: 'input', rows: 3, maxlength: 1000 });
    const visits = complaint.linked_case_visits ?? [];
    const visit = h('select', { id: 'cp-visit', class: 'input' }, h('option', { value: '' }, t('complaints.no_visit')),
      visits.map((v) => h('option', { value: v }, t('complaints.visit_option', { id: v.slice(0, 8) }))));
    parts.push(stepForm('cp-verify', t('complaints.verify'), complaint, etag, 'verifications', [
      field('cp-method', t('complaints.method_label'), method),
      field('cp-visit', t('complaints.visit_label'), visit),
      field('cp-note', t('complaints.note'), note)],
    () => (note.value.trim() ? { method: method.value, note: note.value.trim(), visit_id: visit.value || null } : null), reload));
  }
  if (mine && complaint.status === 'verifying') {
    const substantiated = h('select', { id: 'cp-substantiated', class: 'input' },
      h('option', { value: 'true' }, t('complaints.substantiated')), h('option', { value: 'false' }, t('complaints.unsubstantiated')));
    const finding = h('textarea', { id: 'cp-finding', class: 'input', rows: 3, maxlength: 1000 });
    const consequence = h('select', { id: 'cp-consequence', class: 'input' }, h('option', { value: '' }, t('complaints.consequence.none')),
      ['periodic_review', 'stop'].map((value) => h('option', { value }, word('consequence', value))));
    parts.push(stepForm('cp-find', t('complaints.find'), complaint, etag, 'finding', [
      field('cp-substantiated', t('complaints.finding_label'), substantiated),
      field('cp-finding', t('complaints.finding_text'), finding),
      field('cp-consequence', t('complaints.consequence_label'), consequence)],
    () => (finding.value.trim() ? { is_substantiated: substantiated.value === 'true', finding: finding.value.trim(),
      consequence: consequence.value || null } : null), reload));
  }
  if (mine && complaint.status === 'found') {
    const reply = h('textarea', { id: 'cp-reply', class: 'input', rows: 3, maxlength: 2000 });
    parts.push(stepForm('cp-answer', t('complaints.answer'), complaint, etag, 'reply', [
      h('p', {}, t('complaints.reply_through', { channel: word('reply', complaint.reply_channel) })),
      field('cp-reply', t('complaints.reply_text'), reply)],
    () => (reply.value.trim() ? { reply: reply.value.trim() } : null), reload));
  }
  const reporterBox = h('div', { id: 'cp-reporter', 'aria-live': 'polite' });
  return h('section', { class: 'card stack', id: 'cp-detail', dataset: { id: complaint.id, status: complaint.status } },
    h('h2', {}, t('complaints.detail_title', { number: complaint.number })),
    h('dl', { class: 'cp-facts' },
      h('dt', {}, t('complaints.col_status')), h('dd', { id: 'cp-status' }, word('status', complaint.status)),
      h('dt', {}, t('complaints.channel_label')), h('dd', {}, word('channel', complaint.channel)),
      h('dt', {}, t('complaints.about')), h('dd', {}, complaint.about ?? '—'),
      h('dt', {}, t('complaints.content')), h('dd', { class: 'cp-text', id: 'cp-content' }, complaint.content),
      h('dt', {}, t('complaints.case')), h('dd', {}, complaint.case_no ?? '—'),
      h('dt', {}, t('complaints.handler')), h('dd', { id: 'cp-handler-name' }, complaint.handler_name ?? t('complaints.no_handler')),
      h('dt', {}, t('complaints.deadlines')), h('dd', {}, t('complaints.deadline_line', {
        assign: day(complaint.assign_due_on), verify: day(complaint.verify_due_on), reply: day(complaint.reply_due_on) })),
      h('dt', {}, t('complaints.reporter')), h('dd', {}, complaint.is_anonymous ? t('complaints.anonymous') : t('complaints.named'),
        complaint.sees_reporter ? h('button', { class: 'btn', type: 'button', id: 'cp-show-reporter', onclick: async () => {
          try {
            const who = await api.get(`/api/complaints/${enc(complaint.id)}/reporter`);
            fill(reporterBox, h('p', {}, t('complaints.reporter_line', { name: who.name ?? t('complaints.anonymous'), contact: who.contact ?? '—' })));
          } catch (problem) { toast(problemText(problem), 'error'); }
        } }, t('complaints.show_reporter')) : null, reporterBox)),
    complaint.verifications.length ? h('section', {}, h('h3', {}, t('complaints.verifications')),
      h('ol', { id: 'cp-verifications' }, complaint.verifications.map((v) => h('li', {},
        `${word('method', v.method)} · ${when(v.recorded_at)} · ${v.recorded_by_name ?? ''}: `, h('span', { class: 'cp-text' }, v.note))))) : null,
    complaint.finding ? h('p', { id: 'cp-finding-shown' }, h('strong', {}, complaint.is_substantiated ? t('complaints.substantiated') : t('complaints.unsubstantiated')),
      ' ', h('span', { class: 'cp-text' }, complaint.finding),
      complaint.consequence ? ` · ${word('consequence', complaint.consequence)} ${complaint.consequence_case_no ?? ''}` : '') : null,
    complaint.reply ? h('p', { id: 'cp-reply-shown' }, t('complaints.replied', { at: when(complaint.replied_at) }), ' ',
      h('span', { class: 'cp-text' }, complaint.reply)) : null,
    parts);
}

export async function render(root, { params = [] } = {}) {
  await prepare();
  document.body.classList.add('desk');
  const shown = params[0] ?? null;
  let filter = 'all';
  const draw = async () => {
    delete root.dataset.ready;
    let list;
    let one = null;
    try {
      const query = filter === 'open' ? '?is_open=true' : filter === 'overdue' ? '?is_overdue=true' : '';
      list = await api.get(`/api/complaints${query}`);
      if (shown) one = await getWithEtag(`/api/complaints/${enc(shown)}`);
    } catch (problem) {
      fill(root, deskNav('complaints'), h('h1', {}, t('complaints.title')),
        h('p', { class: 'form-error', role: 'alert', id: 'cp-error' }, problemText(problem)));
      root.dataset.ready = 'true';
      return;
    }
    const filters = h('div', { class: 'cp-filters', role: 'group', 'aria-label': t('complaints.filter') },
      ['all', 'open', 'overdue'].map((name) => h('button', { class: 'btn', type: 'button', id: `cp-filter-${name}`,
        'aria-pressed': String(filter === name), onclick: () => { filter = name; redraw(); } }, t(`complaints.filter_${name}`))));
    fill(root,
      deskNav('complaints'),
      h('h1', {}, t('complaints.title')),
      summaryLine(list.summary),
      filters,
      roles().some((role) => ENTERING.includes(role)) ? enterForm((created) => { toast(t('complaints.entered', { number: created.number })); location.hash = `#/complaints/${enc(created.id)}`; }) : null,
      listTable(list.items, shown),
      one ? await detail(one.body, one.etag, redraw) : null);
    root.dataset.ready = 'true';
    root.dataset.drawn = String(Number(root.dataset.drawn ?? 0) + 1);
  };
  // One draw at a time, the newest wins (STYLE.md).
  let drawing = Promise.resolve();
  function redraw() { drawing = drawing.then(draw, draw); return drawing; }
  await redraw();
  return () => document.body.classList.remove('desk');
}
