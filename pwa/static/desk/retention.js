// The county's retention desk (issue 22, ADR 0022): how long each kind of data is kept (with
// its floor and legal source), what tonight's purge would remove (the dry run), and legal
// holds per case. Loaded on demand and kept outside static/js/, so it is never precached.
import { h, fill, toast } from '../js/dom.js';
import { t, problemText } from '../js/i18n.js';
import { api } from '../js/api.js';
import * as session from '../js/session.js';
import { prepare, deskNav, when } from './common.js';

const enc = encodeURIComponent;
// A kind a package brought without desk words keeps the server's own text.
const worded = (key, fallback) => { const text = t(key); return text === key ? fallback : text; };
const kindWords = (kind) => worded(`retention.kind.${kind}`, kind);
const isAdmin = () => (session.user()?.roles ?? []).includes('admin');

function settingsTable(settings, actions) {
  return h('table', { id: 'rt-settings' },
    h('caption', {}, t('retention.settings_caption')),
    h('thead', {}, h('tr', {}, ['col_kind', 'col_days', 'col_minimum', 'col_from', 'col_source']
      .map((key) => h('th', { scope: 'col' }, t(`retention.${key}`))))),
    h('tbody', {}, settings.map((setting) => {
      const input = h('input', { type: 'number', id: `rt-days-${setting.kind}`, min: setting.minimum_days,
        value: String(setting.days), inputmode: 'numeric', disabled: !isAdmin(),
        'aria-label': t('retention.days_of', { kind: kindWords(setting.kind) }) });
      return h('tr', { dataset: { kind: setting.kind, days: String(setting.days) } },
        h('th', { scope: 'row' }, kindWords(setting.kind),
          setting.has_purger ? null : h('div', { class: 'muted' }, t('retention.no_purger'))),
        h('td', {}, input,
          isAdmin() ? h('button', { class: 'btn', type: 'button', id: `rt-save-${setting.kind}`,
            'aria-label': t('retention.save_named', { kind: kindWords(setting.kind) }),
            onclick: () => actions.save(setting, Number(input.value)) }, t('retention.save')) : null,
          h('div', { class: 'muted' }, t('retention.default_days', { n: setting.default_days }))),
        h('td', { class: 'num' }, t('retention.days', { n: setting.minimum_days })),
        h('td', {}, worded(`retention.from.${setting.kind}`, setting.counted_from)),
        h('td', {}, worded(`retention.source.${setting.kind}`, setting.source)));
    })));
}

function previewTable(report) {
  return h('table', { id: 'rt-preview' },
    h('caption', {}, t('retention.preview_caption', { at: when(report.at) })),
    h('thead', {}, h('tr', {}, ['col_kind', 'col_before', 'col_count', 'col_files', 'col_held', 'col_cases']
      .map((key) => h('th', { scope: 'col' }, t(`retention.${key}`))))),
    h('tbody', {}, report.kinds.map((kind) => h('tr', { dataset: { kind: kind.kind, count: String(kind.count) } },
      h('th', { scope: 'row' }, kindWords(kind.kind)),
      h('td', {}, when(kind.cutoff)),
      h('td', { class: 'num' }, String(kind.count)),
      h('td', { class: 'num' }, String(kind.blob_count)),
      h('td', { class: 'num' }, String(kind.held_count)),
      h('td', {}, kind.case_ids.length ? t('retention.cases', { n: kind.case_ids.length }) : '—')))));
}

function holdsSection(holds, actions) {
  const caseId = h('input', { id: 'rt-hold-case', required: true, maxlength: 36, autocomplete: 'off' });
  const reason = h('input', { id: 'rt-hold-reason', required: true, minlength: 2, maxlength: 500 });
  return h('section', { class: 'card stack', id: 'rt-holds' },
    h('h2', {}, t('retention.holds_title')),
    h('p', { class: 'muted' }, t('retention.holds_intro')),
    holds.length ? h('table', { id: 'rt-hold-list' },
      h('caption', {}, t('retention.holds_caption')),
      h('thead', {}, h('tr', {}, ['col_case', 'col_reason', 'col_set_at', 'col_lift']
        .map((key) => h('th', { scope: 'col' }, t(`retention.${key}`))))),
      h('tbody', {}, holds.map((hold) => {
        const liftReason = h('input', { id: `rt-lift-reason-${hold.id}`, minlength: 2, maxlength: 500,
          'aria-label': t('retention.lift_reason_of', { id: hold.case_id.slice(0, 8) }) });
        return h('tr', { dataset: { holdId: hold.id, caseId: hold.case_id } },
          h('td', {}, hold.case_id.slice(0, 8)),
          h('td', {}, hold.reason),
          h('td', {}, when(hold.set_at)),
          h('td', {}, liftReason, h('button', { class: 'btn', type: 'button', id: `rt-lift-${hold.id}`,
            onclick: () => actions.lift(hold, liftReason.value.trim()) }, t('retention.lift'))));
      })))
      : h('p', { class: 'muted', id: 'rt-no-holds' }, t('retention.no_holds')),
    h('form', { class: 'stack', id: 'rt-hold-form', onsubmit: (event) => {
      event.preventDefault();
      actions.hold(caseId.value.trim(), reason.value.trim());
    } },
    h('label', { for: 'rt-hold-case' }, t('retention.hold_case')), caseId,
    h('label', { for: 'rt-hold-reason' }, t('retention.hold_reason')), reason,
    h('button', { class: 'btn btn-primary', type: 'submit', id: 'rt-hold-set' }, t('retention.hold_set'))));
}

export async function render(root) {
  await prepare();
  document.body.classList.add('desk');
  const draw = async () => {
    let settings;
    let report;
    let holds;
    try {
      [settings, report, holds] = await Promise.all([api.get('/api/retention/settings'),
        api.get('/api/retention/purge-preview'), api.get('/api/retention/holds')]);
    } catch (problem) {
      fill(root, deskNav('retention'), h('h1', {}, t('retention.title')),
        h('p', { class: 'form-error', role: 'alert', id: 'rt-error' }, problemText(problem)));
      root.dataset.ready = 'true';
      return;
    }
    const actions = {
      async save(setting, days) {
        try {
          await api.put(`/api/retention/settings/${enc(setting.kind)}`, { days },
            { headers: { 'If-Match': `"${setting.version}"` }, retries: 0 });
          toast(t('retention.saved'));
          redraw();
        } catch (problem) { toast(problemText(problem), 'error'); }
      },
      async hold(caseId, reason) {
        try {
          await api.post('/api/retention/holds', { case_id: caseId, reason }, { retries: 0 });
          toast(t('retention.held'));
          redraw();
        } catch (problem) { toast(problemText(problem), 'error'); }
      },
      async lift(hold, reason) {
        try {
          await api.post(`/api/retention/holds/${enc(hold.id)}/lift`, { reason }, { retries: 0 });
          toast(t('retention.lifted'));
          redraw();
        } catch (problem) { toast(problemText(problem), 'error'); }
      },
    };
    fill(root,
      deskNav('retention'),
      h('h1', {}, t('retention.title')),
      h('p', { class: 'muted' }, t('retention.intro')),
      settingsTable(settings, actions),
      h('h2', {}, t('retention.preview_title')),
      previewTable(report),
      holdsSection(holds, actions));
    root.dataset.ready = 'true';
    root.dataset.drawn = String(Number(root.dataset.drawn ?? 0) + 1);
  };
  // One draw at a time, the newest wins (STYLE.md).
  let drawing = Promise.resolve();
  function redraw() { drawing = drawing.then(draw, draw); return drawing; }
  await redraw();
  return () => document.body.classList.remove('desk');
}
