// Things to do (#/work): for the intake clerk, reviewer, approver and county supervisor,
// the next step of every case in their area, overdue first, then due soon (≤ 3 working days).
import { h, fill } from '../../js/dom.js';
import { api } from '../../js/api.js';
import { groupDue } from './domain.js';
import {
  prepare, leave, w, roles, day, when, kindWords, loadDue, loadCaseNames, workNav, saveBlob,
} from './common.js';

const STATES = ['overdue', 'due_soon', 'later'];

function dueCell(item) {
  return item.due_at ? when(item.due_at) : day(item.due_on);
}

function table(state, items, names) {
  const captionId = `wf-due-${state}`;
  return h('table', { class: `wf-due wf-${state}`, id: captionId },
    h('caption', {}, `${w(`wf.due.${state}`)} · ${w('wf.due.count', { count: items.length })}`),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, w('wf.applicant')),
      h('th', { scope: 'col' }, w('wf.kind')),
      h('th', { scope: 'col' }, w('wf.status')),
      h('th', { scope: 'col' }, w('wf.deadline')),
      h('th', { scope: 'col' }, w('wf.open_case')))),
    h('tbody', {}, items.map((item) => {
      const key = item.kind === 'temporary' ? `temporary.${item.temporary_subtype}` : item.kind;
      const name = item.applicant_name || names[item.case_id] || item.case_id.slice(0, 8);
      return h('tr', { dataset: { caseId: item.case_id, task: item.task } },
        h('td', {}, name),
        h('td', {}, kindWords(key)),
        h('td', {}, w(`wf.task.${item.task}`)),
        h('td', { class: 'wf-when' }, dueCell(item)),
        h('td', {}, h('a', { class: 'btn', href: `#/work-case/${encodeURIComponent(item.case_id)}`,
          'aria-label': `${w('wf.open_case')}：${name} · ${w(`wf.task.${item.task}`)}` }, w('wf.open_case'))));
    })));
}

function drawPanel(onDrawn) {
  const month = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 7);
  const input = h('input', { id: 'wf-draw-month', type: 'month', value: month, required: true });
  const out = h('p', { id: 'wf-draw-result', role: 'status' });
  return h('section', { class: 'wf-panel', 'aria-labelledby': 'wf-draw-title' },
    h('h2', { id: 'wf-draw-title' }, w('wf.draw')),
    h('form', { onsubmit: async (event) => {
      event.preventDefault();
      try {
        const draw = await api.post('/api/spot-checks/draws', { month: input.value }, { retries: 0 });
        out.className = 'wf-ok';
        out.textContent = w('wf.draw_done', { sampled: draw.sampled_count, population: draw.population_count, seed: draw.seed });
        onDrawn();
      } catch (error) {
        out.className = 'wf-problem';
        out.textContent = w('wf.problem.other', { detail: error.detail || error.message });
      }
    } },
    h('label', { for: 'wf-draw-month' }, w('wf.draw_month')), input,
    h('div', { class: 'wf-buttons' }, h('button', { class: 'btn btn-primary', type: 'submit', id: 'wf-draw' }, w('wf.draw_button')))),
    out);
}

/** The month's payment list (001: monthly allowances by the 10th; temporary aid within 3
 *  working days), exported with generic bank columns for the bank. */
function paymentsPanel() {
  const month = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 7);
  const input = h('input', { id: 'wf-pay-month', type: 'month', value: month, required: true });
  const out = h('p', { id: 'wf-pay-result', role: 'status' });
  const download = (format) => async () => {
    try {
      const response = await api.get(`/api/payments?month=${encodeURIComponent(input.value)}&format=${format}`,
        { raw: true, retries: 1 });
      saveBlob(await response.blob(), `payments-${input.value}.${format}`);
      out.className = 'wf-ok';
      out.textContent = w('wf.pay_done', { month: input.value });
    } catch (error) {
      out.className = 'wf-problem';
      out.textContent = w('wf.problem.other', { detail: error.detail || error.message });
    }
  };
  return h('section', { class: 'wf-panel', 'aria-labelledby': 'wf-pay-title' },
    h('h2', { id: 'wf-pay-title' }, w('wf.pay')),
    h('label', { for: 'wf-pay-month' }, w('wf.pay_month')), input,
    h('div', { class: 'wf-buttons' },
      h('button', { class: 'btn', type: 'button', id: 'wf-pay-csv', onclick: download('csv') }, w('wf.pay_csv')),
      h('button', { class: 'btn', type: 'button', id: 'wf-pay-xlsx', onclick: download('xlsx') }, w('wf.pay_xlsx'))),
    out);
}

export async function render(root) {
  await prepare();
  let filter = '';
  const body = h('div', { id: 'wf-work-lists', 'aria-live': 'polite' }, h('p', { class: 'loading' }, w('wf.loading')));
  const filters = h('div', { class: 'wf-filter', role: 'group', 'aria-label': w('wf.filter') });

  async function refresh() {
    try {
      const due = await loadDue(filter || null);
      // The due items name the applicant; an older server's do not: look the names up.
      const names = (due.items ?? []).every((item) => 'applicant_name' in item) ? {} : await loadCaseNames();
      const groups = groupDue(due.items);
      const shown = STATES.filter((state) => groups[state].length);
      fill(body, shown.length ? shown.map((state) => table(state, groups[state], names))
        : h('p', { class: 'empty', id: 'wf-nothing' }, w('wf.due.none')));
    } catch (error) {
      fill(body, h('p', { class: 'wf-problem', role: 'alert' }, w('wf.load_failed', { detail: error.detail || error.message })));
    }
    root.dataset.ready = 'true';
  }

  function renderFilters() {
    fill(filters, ['', ...STATES].map((state) => h('button', {
      class: 'btn', type: 'button', id: `wf-filter-${state || 'all'}`, 'aria-pressed': String(filter === state),
      onclick: () => { filter = state; renderFilters(); delete root.dataset.ready; refresh(); },
    }, state ? w(`wf.due.${state}`) : w('wf.filter.all'))));
  }

  renderFilters();
  fill(root,
    workNav('work'),
    h('h1', {}, w('wf.work_title')),
    h('p', { class: 'muted' }, w('wf.work_intro'), ' ', w('wf.roles', { roles: roles().map((role) => w(`wf.role.${role}`)).join('、') })),
    h('div', { class: 'wf-grid wf-grid-work' },
      h('section', { 'aria-label': w('wf.work_title') }, filters, body),
      h('div', {}, roles().includes('county_supervisor') ? drawPanel(refresh) : null,
        roles().some((role) => ['approver', 'county_supervisor'].includes(role)) ? paymentsPanel() : null,
        h('button', { class: 'btn', type: 'button', id: 'wf-refresh', onclick: () => { delete root.dataset.ready; refresh(); } }, w('wf.refresh')))));
  await refresh();
  return leave;
}
