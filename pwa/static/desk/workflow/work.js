// Things to do (#/work): for the intake clerk, reviewer, approver and county supervisor,
// the next step of every case in their area, overdue first, then due soon (≤ 3 working days).
import { h, fill } from '../../js/dom.js';
import { api } from '../../js/api.js';
import { getLang } from '../../js/i18n.js';
import { groupDue, defaultDrawMonth } from './domain.js';
import { chinaMonth, previousMonth } from '../../js/domain/dates.js';
import {
  prepare, leave, w, roles, day, when, kindWords, loadDue, loadCaseNames, workNav, saveBlob, problemWords,
} from './common.js';

const STATES = ['overdue', 'due_soon', 'later'];

function dueCell(item) {
  return item.due_at ? when(item.due_at) : day(item.due_on);
}

/** "2026-11" as people read it (2026年11月 / Nov 2026). */
const monthWords = (month) => {
  const [year, number] = (month ?? '').split('-');
  return year && number ? w('wf.month', { year, month: Number(number) }) : '';
};

/** What to do, in words: a follow-up draw names the month whose draw missed the case
 *  (issue 21: it said 本月 when last month's cases waited). */
function taskWords(item) {
  if (item.task === 'spot_check_draw' && item.intake_month) {
    return w('wf.task.spot_check_draw_month', { month: monthWords(item.intake_month) });
  }
  return w(`wf.task.${item.task}`);
}

function table(state, items, names) {
  const captionId = `wf-due-${state}`;
  return h('table', { class: `wf-due wf-${state}`, id: captionId },
    h('caption', {}, `${w(`wf.due.${state}`)} · ${w('wf.due.count', { count: items.length })}`),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, w('wf.case_no')),
      h('th', { scope: 'col' }, w('wf.applicant')),
      h('th', { scope: 'col' }, w('wf.township')),
      h('th', { scope: 'col' }, w('wf.kind')),
      h('th', { scope: 'col' }, w('wf.status')),
      h('th', { scope: 'col' }, w('wf.deadline')),
      h('th', { scope: 'col' }, w('wf.open_case')))),
    h('tbody', {}, items.map((item) => {
      const key = item.kind === 'temporary' ? `temporary.${item.temporary_subtype}` : item.kind;
      const name = item.applicant_name || names[item.case_id] || item.case_id.slice(0, 8);
      return h('tr', { dataset: { caseId: item.case_id, task: item.task } },
        h('td', { class: 'wf-case-no' }, item.case_no ?? ''),
        h('td', {}, name),
        h('td', { class: 'wf-township' }, item.township_name ?? '—'),
        h('td', {}, kindWords(key)),
        h('td', {}, taskWords(item)),
        h('td', { class: 'wf-when' }, dueCell(item)),
        h('td', {}, h('a', { class: 'btn', href: `#/work-case/${encodeURIComponent(item.case_id)}`,
          'aria-label': `${w('wf.open_case')}：${name} · ${taskWords(item)}` }, w('wf.open_case'))));
    })));
}

function drawPanel(onDrawn) {
  const input = h('input', { id: 'wf-draw-month', type: 'month', value: previousMonth(chinaMonth()), required: true });
  let touched = false;
  input.addEventListener('input', () => { touched = true; });
  const out = h('p', { id: 'wf-draw-result', role: 'status' });
  const panel = h('section', { class: 'wf-panel', 'aria-labelledby': 'wf-draw-title' },
    h('h2', { id: 'wf-draw-title' }, w('wf.draw')),
    h('form', { onsubmit: async (event) => {
      event.preventDefault();
      try {
        const draw = await api.post('/api/spot-checks/draws', { month: input.value }, { retries: 0 });
        out.className = 'wf-ok';
        // The 32-hex seed in a box of its own that wraps (it spilled out of the panel).
        const [before, after] = w('wf.draw_done', { sampled: draw.sampled_count, population: draw.population_count,
          month: monthWords(draw.month), seed: '\u0000' }).split('\u0000');
        fill(out, before, h('code', { class: 'wf-seed', id: 'wf-draw-seed' }, draw.seed), after ?? '');
        onDrawn();
      } catch (error) {
        out.className = 'wf-problem';
        out.textContent = w('wf.problem.other', { detail: problemWords(error) });
      }
    } },
    h('label', { for: 'wf-draw-month' }, w('wf.draw_month')), input,
    h('div', { class: 'wf-buttons' }, h('button', { class: 'btn btn-primary', type: 'submit', id: 'wf-draw' }, w('wf.draw_button')))),
    out);
  panel.suggest = (items) => { if (!touched) input.value = defaultDrawMonth(items); };
  return panel;
}

/** The month's payment list (001: monthly allowances by the 10th; temporary aid within 3
 *  working days), exported with generic bank columns for the bank. */
function paymentsPanel() {
  const month = chinaMonth();
  const input = h('input', { id: 'wf-pay-month', type: 'month', value: month, required: true });
  const out = h('p', { id: 'wf-pay-result', role: 'status' });
  const download = (format) => async () => {
    try {
      const response = await api.get(`/api/payments?month=${encodeURIComponent(input.value)}&format=${format}&lang=${getLang()}`,
        { raw: true, retries: 1 });
      saveBlob(await response.blob(), `payments-${input.value}.${format}`);
      out.className = 'wf-ok';
      out.textContent = w('wf.pay_done', { month: input.value });
    } catch (error) {
      out.className = 'wf-problem';
      out.textContent = w('wf.problem.other', { detail: problemWords(error) });
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

/** Special cases' re-reviews for a half-year (001: at least twice a year, at 100%, checked
 *  by the county): the rate per township and who still lacks one, each a link to the case. */
function rereviewPanel() {
  const [thisYear, thisMonth] = chinaMonth().split('-');
  const year = h('input', { id: 'wf-rr-year', type: 'number', inputmode: 'numeric', min: '2000', max: '2100',
    value: thisYear, required: true });
  const currentHalf = Number(thisMonth) <= 6 ? '1' : '2';
  const half = h('select', { id: 'wf-rr-half' }, ['1', '2'].map((value) => h('option',
    { value, selected: value === currentHalf }, w(`wf.rr.half${value}`))));
  const out = h('div', { id: 'wf-rr-result', 'aria-live': 'polite' });
  const percent = (rate) => (rate === null ? '—' : `${Math.round(rate * 1000) / 10}%`);

  function townships(report) {
    return h('table', { class: 'wf-rr-townships' },
      h('caption', {}, w('wf.rr.caption', { start: day(report.period_start), end: day(report.period_end) })),
      h('thead', {}, h('tr', {}, ['township', 'expected', 'reviewed', 'rate', 'new'].map((col) =>
        h('th', { scope: 'col' }, w(`wf.rr.col.${col}`))))),
      h('tbody', {}, report.townships.map((t) => h('tr', { dataset: { township: t.township_code } },
        h('th', { scope: 'row' }, t.township_name), h('td', {}, String(t.expected)),
        h('td', {}, String(t.reviewed)), h('td', {}, percent(t.rate)), h('td', {}, String(t.new_in_period))))));
  }

  function missing(report) {
    if (!report.missing.length) return null;
    return h('div', {}, h('h3', {}, w('wf.rr.missing', { count: report.missing.length })),
      h('ul', { class: 'wf-rr-missing', id: 'wf-rr-missing' }, report.missing.map((m) => {
        const name = m.applicant_name || m.case_id.slice(0, 8);
        const target = m.open_review_case_id ?? m.case_id;
        return h('li', { dataset: { caseId: m.case_id } }, `${name} · `,
          m.last_reviewed_on ? w('wf.rr.last', { on: day(m.last_reviewed_on) }) : w('wf.rr.never'), ' · ',
          h('a', { href: `#/work-case/${encodeURIComponent(target)}` },
            m.open_review_case_id ? w('wf.rr.open_review', { name }) : w('wf.rr.open_case', { name })));
      })));
  }

  async function load(event) {
    event?.preventDefault();
    fill(out, h('p', { class: 'loading' }, w('wf.loading')));
    try {
      const report = await api.get(`/api/periodic-reviews/special-cases?year=${encodeURIComponent(year.value)}&half=${half.value}`);
      const summary = report.expected
        ? w(report.is_met ? 'wf.rr.met' : 'wf.rr.not_met', { reviewed: report.reviewed, expected: report.expected, rate: percent(report.rate) })
        : w('wf.rr.none_due');
      // The period leads: figures read without it are easily taken for another half-year's.
      const period = w(`wf.rr.period${report.half}`, { year: report.year });
      fill(out, h('p', { class: report.is_met ? 'wf-ok' : 'wf-problem', id: 'wf-rr-summary', role: 'status',
        dataset: { period: `${report.year}-${report.half}` } }, `${period}${w('wf.rr.colon')}${summary}`),
        report.townships.length ? townships(report) : null, missing(report));
    } catch (error) {
      fill(out, h('p', { class: 'wf-problem', role: 'alert' }, w('wf.load_failed', { detail: problemWords(error) })));
    }
  }

  return h('section', { class: 'wf-panel', 'aria-labelledby': 'wf-rr-title', id: 'wf-rr' },
    h('h2', { id: 'wf-rr-title' }, w('wf.rr.title')),
    h('p', { class: 'muted' }, w('wf.rr.intro')),
    h('form', { onsubmit: load },
      h('label', { for: 'wf-rr-year' }, w('wf.rr.year')), year,
      h('label', { for: 'wf-rr-half' }, w('wf.rr.half')), half,
      h('div', { class: 'wf-buttons' }, h('button', { class: 'btn', type: 'submit', id: 'wf-rr-show' }, w('wf.rr.show')))),
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
      draw?.suggest(due.items);
      const groups = groupDue(due.items);
      const shown = STATES.filter((state) => groups[state].length);
      fill(body, shown.length ? shown.map((state) => table(state, groups[state], names))
        : h('p', { class: 'empty', id: 'wf-nothing' }, w('wf.due.none')));
    } catch (error) {
      fill(body, h('p', { class: 'wf-problem', role: 'alert' }, w('wf.load_failed', { detail: problemWords(error) })));
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
  const draw = roles().includes('county_supervisor') ? drawPanel(() => refresh()) : null;
  fill(root,
    workNav('work'),
    h('h1', {}, w('wf.work_title')),
    h('p', { class: 'muted' }, w('wf.work_intro'), ' ', w('wf.roles', { roles: roles().map((role) => w(`wf.role.${role}`)).join('、') })),
    h('div', { class: 'wf-grid wf-grid-work' },
      h('section', { 'aria-label': w('wf.work_title') }, filters, body),
      h('div', {}, draw,
        roles().some((role) => ['approver', 'county_supervisor'].includes(role)) ? paymentsPanel() : null,
        roles().some((role) => ['reviewer', 'approver', 'county_supervisor'].includes(role)) ? rereviewPanel() : null,
        h('button', { class: 'btn', type: 'button', id: 'wf-refresh', onclick: () => { delete root.dataset.ready; refresh(); } }, w('wf.refresh')))));
  await refresh();
  return leave;
}
