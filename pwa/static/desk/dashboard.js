// The supervisor dashboard: per village and per field worker, the numbers as tables (what
// a screen reader and a printout use) and server-drawn SVG charts with alt text that says
// the same numbers; exports of the visits as XLSX and CSV (masked for the caller's role).
import { h, fill, toast } from '../js/dom.js';
import { t, getLang } from '../js/i18n.js';
import { api } from '../js/api.js';
import { prepare, deskNav, blobUrl, download, reviewProblem } from './common.js';

const COLUMNS = ['visits', 'median_duration_minutes', 'flags_per_100_visits', 'has_issues_rate', 'open_cases',
  'overdue_cases', 'untouched_30_days', 'untouched_60_days', 'untouched_120_days'];
const KEY = 'doorstep.dashboard';

/** A metric's value as shown: rates in per cent, decimals with one digit, none as a dash. */
export function shown(metric, value) {
  if (value === null || value === undefined) return '—';
  if (metric === 'has_issues_rate') return `${(value * 100).toFixed(1)}%`;
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

const head = (metric) => t(`review.dash.${metric}`);

function metricsTable(id, caption, rows, nameOf) {
  return h('table', { class: 'dash-table', id },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('review.dash_name')), COLUMNS.map((c) => h('th', { scope: 'col' }, head(c))))),
    h('tbody', {}, rows.map((row) => h('tr', {}, h('th', { scope: 'row' }, nameOf(row)),
      COLUMNS.map((c) => h('td', { class: 'num', dataset: { metric: c } }, shown(c, row[c])))))));
}

/** Alt text: the chart's title and, per village, the numbers it draws. */
function altText(chart, title, body) {
  const values = (row) => (chart.metric === 'untouched_cases'
    ? ['untouched_30_days', 'untouched_60_days', 'untouched_120_days'].map((m) => `${head(m)} ${shown(m, row[m])}`).join('，')
    : shown(chart.metric, row[chart.metric]));
  return `${title}：${body.villages.map((v) => `${v.name} ${values(v)}`).join('；')}`;
}

export async function render(root) {
  // A notice left by the screen before (a saved review, a PIN set) would sit over a chart
  // for its five seconds (issue 21): the dashboard opens clear; its own errors still show.
  for (const old of document.querySelectorAll('#toasts .toast:not(.toast-error)')) old.remove();
  await prepare();
  const filters = { ...(JSON.parse(sessionStorage.getItem(KEY) ?? '{}')) };
  const query = () => new URLSearchParams(Object.entries(filters).filter(([, v]) => v != null && v !== ''));
  let body;
  let places = [];
  try {
    [body, places] = await Promise.all([api.get(`/api/reviews/dashboard?${query()}`), api.get('/api/jurisdictions').catch(() => [])]);
  } catch (error) {
    fill(root, deskNav('dashboard'), h('h1', {}, t('review.dashboard_title')),
      h('p', { class: 'form-error', role: 'alert', id: 'dash-error' }, reviewProblem(error)));
    root.dataset.ready = 'true';
    return;
  }
  const zh = getLang() === 'zh-CN';
  const figures = (body.charts ?? []).map((chart) => {
    const title = zh ? chart.title_zh : chart.title_en;
    const img = h('img', { alt: altText(chart, title, body), dataset: { metric: chart.metric } });
    const params = query();
    params.set('lang', getLang());
    blobUrl(`${chart.url}${chart.url.includes('?') ? '&' : '?'}${params}`).then((src) => { img.src = src; })
      .catch(() => img.replaceWith(h('p', { class: 'muted' }, t('review.dash_unavailable'))));
    return h('figure', {}, img, h('figcaption', {}, title));
  });
  const exportButton = (ext, label, extra = {}) => h('button', { class: 'btn', type: 'button', id: `export-${ext}${extra.sheet ? `-${extra.sheet}` : ''}`,
    onclick: async () => {
      const params = new URLSearchParams({ lang: getLang(), ...extra });
      if (filters.village) params.set('village', filters.village);
      try {
        await download(`/api/reviews/export.${ext}?${params}`, `doorstep-visits${extra.sheet ? `-${extra.sheet}` : ''}.${ext}`);
      } catch (error) { toast(reviewProblem(error), 'error'); }
    } }, t(label));
  const villages = places.filter((p) => p.level !== 'county');
  const form = h('form', { class: 'filters', id: 'dash-filters', onsubmit: (event) => {
    event.preventDefault();
    const data = new FormData(event.target);
    sessionStorage.setItem(KEY, JSON.stringify({ village: data.get('village') || undefined, days: data.get('days') || undefined }));
    render(root);
  } },
  h('div', { class: 'filter' }, h('label', { for: 'dash-village' }, t('review.filter_village')),
    h('select', { id: 'dash-village', name: 'village' }, h('option', { value: '' }, t('review.any')),
      villages.map((v) => h('option', { value: v.code, selected: v.code === filters.village }, v.name)))),
  h('div', { class: 'filter' }, h('label', { for: 'dash-days' }, t('review.dash_days')),
    h('input', { id: 'dash-days', name: 'days', type: 'number', min: 1, max: 3650, value: filters.days ?? '' })),
  h('div', { class: 'filter filter-actions' }, h('button', { class: 'btn btn-primary', type: 'submit' }, t('review.apply'))));
  fill(root, deskNav('dashboard'),
    h('h1', {}, t('review.dashboard_title'), body.scope_name ? ` · ${body.scope_name}` : ''),
    form,
    h('div', { class: 'export-bar', role: 'group', 'aria-label': t('review.export') },
      exportButton('xlsx', 'review.export_xlsx'), exportButton('csv', 'review.export_csv'),
      exportButton('csv', 'review.export_csv_members', { sheet: 'members' })),
    metricsTable('dash-totals', t('review.dash_totals'), [{ ...body.totals, name: body.scope_name ?? '' }], (r) => r.name),
    figures.length ? h('section', { 'aria-labelledby': 'charts-title' }, h('h2', { id: 'charts-title' }, t('review.dash_charts')),
      h('div', { class: 'dash-charts', id: 'dash-charts' }, figures)) : null,
    metricsTable('dash-villages', t('review.dash_by_village'), body.villages ?? [], (r) => r.name),
    metricsTable('dash-workers', t('review.dash_by_worker'), body.field_workers ?? [], (r) => r.name ?? r.user_id));
  root.dataset.ready = 'true';
}
