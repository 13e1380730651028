// The county administrator's form desk (issue 24): the published form versions, and an
// XLSForm (.xlsx) imported as the next version, which phones receive on their next sync.
// A refused workbook lists each problem by sheet, row and column, so it can be fixed in
// Excel or WPS. Loaded on demand, outside static/js/: never precached on phones.
import { h, fill, toast } from '../js/dom.js';
import { t, getLang, problemText } from '../js/i18n.js';
import { api } from '../js/api.js';
import { prepare, deskNav, when } from './common.js';

const words = (text) => (typeof text === 'string' ? text : text?.[getLang()] ?? text?.['zh-CN'] ?? '');
// Refusals larger than this are summed up: the first rows are what the author fixes first.
const SHOWN_PROBLEMS = 200;

function sourceWords(item) {
  if (item.source !== 'imported') return t('forms.shipped');
  return t('forms.imported_by', { name: item.imported_by ?? '—', at: when(item.imported_at), file: item.source_filename ?? '—' });
}

function versionsTable(items) {
  return h('table', { id: 'forms-list' },
    h('caption', {}, t('forms.list_caption')),
    h('thead', {}, h('tr', {}, ['col_title', 'col_version', 'col_questions', 'col_source']
      .map((key) => h('th', { scope: 'col' }, t(`forms.${key}`))))),
    h('tbody', {}, items.map((item) => h('tr', { dataset: { formId: item.form_id, version: String(item.version) } },
      h('td', {}, words(item.title) || item.form_id),
      h('td', { class: 'num' }, t('forms.version_n', { n: item.version })),
      h('td', { class: 'num' }, String(item.question_count)),
      h('td', {}, sourceWords(item))))));
}

function problemsTable(rows) {
  const shown = rows.slice(0, SHOWN_PROBLEMS);
  return h('section', { class: 'card stack', id: 'forms-problems', role: 'alert' },
    h('h2', {}, t('forms.problems_title', { n: rows.length })),
    h('table', { id: 'forms-problems-table' },
      h('caption', {}, t('forms.problems_caption')),
      h('thead', {}, h('tr', {}, ['col_sheet', 'col_row', 'col_column', 'col_reason']
        .map((key) => h('th', { scope: 'col' }, t(`forms.${key}`))))),
      h('tbody', {}, shown.map((row) => h('tr', { dataset: { sheet: row.sheet, row: String(row.row ?? '') } },
        h('td', {}, row.sheet === '(file)' ? t('forms.whole_file') : row.sheet),
        h('td', { class: 'num' }, row.row ? String(row.row) : '—'),
        h('td', {}, row.column ?? '—'),
        // The reader's reasons are in English, XLSForm's own vocabulary (ADR 0016).
        h('td', { lang: 'en' }, row.reason))))),
    rows.length > shown.length ? h('p', { class: 'muted' }, t('forms.problems_more', { n: rows.length - shown.length })) : null);
}

function importForm(onDone) {
  const file = h('input', { id: 'form-file', type: 'file', required: true,
    accept: '.xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'aria-describedby': 'form-file-help' });
  const status = h('p', { id: 'form-import-status', role: 'status', 'aria-live': 'polite' });
  const submit = h('button', { class: 'btn btn-primary', type: 'submit', id: 'form-import' }, t('forms.import'));
  return h('form', { class: 'card stack', id: 'form-import-form', novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    const chosen = file.files?.[0];
    if (!chosen) { status.textContent = t('forms.choose_first'); file.focus(); return; }
    const body = new FormData();
    body.append('file', chosen, chosen.name);
    submit.disabled = true;
    // fetch() cannot say how far an upload got; a workbook is small, so the screen shows that
    // it is working until the server has checked every row.
    fill(status, h('progress', { 'aria-label': t('forms.importing') }), ' ', t('forms.importing'));
    try {
      const created = await api.post('/api/forms/import', body, { retries: 0 });
      status.textContent = '';
      onDone({ created });
    } catch (problem) {
      status.textContent = '';
      onDone({ problem });
    } finally {
      submit.disabled = false;
    }
  } },
  h('h2', {}, t('forms.import_title')),
  h('label', { for: 'form-file' }, t('forms.file')), file,
  h('p', { class: 'muted', id: 'form-file-help' }, t('forms.file_help')),
  submit, status);
}

export async function render(root) {
  await prepare();
  document.body.classList.add('desk');
  let outcome = null;
  const draw = async () => {
    delete root.dataset.ready;
    let versions;
    try {
      versions = (await api.get('/api/forms/versions')).items;
    } catch (problem) {
      fill(root, deskNav('forms'), h('h1', {}, t('forms.title')),
        h('p', { class: 'form-error', role: 'alert', id: 'forms-error' }, problemText(problem)));
      root.dataset.ready = 'true';
      return;
    }
    const created = outcome?.created;
    const problem = outcome?.problem;
    fill(root,
      deskNav('forms'),
      h('h1', {}, t('forms.title')),
      h('p', { class: 'muted' }, t('forms.intro')),
      created ? h('section', { class: 'card stack', id: 'forms-created', role: 'status' },
        h('h2', {}, t('forms.created_title', { title: words(created.title) || created.form_id, n: created.version })),
        h('p', {}, t('forms.created_next'))) : null,
      problem ? h('p', { class: 'form-error', id: 'forms-problem', role: 'alert' }, problemText(problem)) : null,
      problem?.problem?.rows?.length ? problemsTable(problem.problem.rows) : null,
      importForm((result) => {
        outcome = result;
        if (result.created) toast(t('forms.created_toast', { n: result.created.version }));
        redraw();
      }),
      versionsTable(versions));
    root.dataset.ready = 'true';
    document.getElementById(problem ? 'forms-problem' : created ? 'forms-created' : '')?.focus?.();
  };
  // One draw at a time, the newest wins (ADR 0017).
  let drawing = Promise.resolve();
  function redraw() { drawing = drawing.then(draw, draw); return drawing; }
  await redraw();
  return () => document.body.classList.remove('desk');
}
