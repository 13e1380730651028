// The supervisor dashboard: per village and per field worker, the numbers as tables (what
// a screen reader and a printout use) and the same numbers as server-drawn SVG charts with
// alt text; exports of the visits as XLSX and CSV.
import { h, fill, toast } from '../js/dom.js';
import { t, getLang } from '../js/i18n.js';
import { api } from '../js/api.js';
import { prepare, deskNav, blobUrl, download, reviewProblem } from './common.js';

const words = (key) => {
  const text = t(`review.dash.${key}`);
  return text === `review.dash.${key}` ? key : text;
};

const cell = (value) => {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'number' && !Number.isInteger(value)) return value.toFixed(1);
  if (typeof value === 'object') return Object.entries(value).map(([k, v]) => `${words(k)}: ${cell(v)}`).join('；');
  return String(value);
};

/** One table per list of rows in the answer (by village, by field worker…). */
function tables(body) {
  return Object.entries(body).filter(([, rows]) => Array.isArray(rows) && rows.length && typeof rows[0] === 'object' && !('metric' in rows[0]))
    .map(([name, rows]) => {
      const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((c) => !/(_id|code)$/.test(c) || c === 'code');
      return h('section', { class: 'panel', dataset: { table: name } },
        h('table', { class: 'dash-table' }, h('caption', {}, words(name)),
          h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, words(c))))),
          h('tbody', {}, rows.map((row) => h('tr', {}, columns.map((c, i) => (i === 0 ? h('th', { scope: 'row' }, cell(row[c])) : h('td', { class: typeof row[c] === 'number' ? 'num' : '' }, cell(row[c])))))))));
    });
}

/** Totals (numbers at the top level of the answer) as a small definition list. */
function totals(body) {
  const numbers = Object.entries(body).filter(([, v]) => typeof v === 'number' || (v && typeof v === 'object' && !Array.isArray(v)));
  if (!numbers.length) return null;
  return h('dl', { class: 'facts dash-totals', id: 'dash-totals' }, numbers.map(([k, v]) => [h('dt', {}, words(k)), h('dd', {}, cell(v))]));
}

export async function render(root) {
  await prepare();
  let body;
  try {
    body = await api.get('/api/reviews/dashboard');
  } catch (error) {
    fill(root, deskNav('dashboard'), h('h1', {}, t('review.dashboard_title')),
      h('p', { class: 'form-error', role: 'alert', id: 'dash-error' }, error?.status === 404 ? t('review.dash_unavailable') : reviewProblem(error)));
    root.dataset.ready = 'true';
    return;
  }
  const charts = (body.charts ?? []).map((chart) => (typeof chart === 'string' ? { metric: chart } : chart));
  const figures = charts.map((chart) => {
    const title = chart[`title_${getLang() === 'zh-CN' ? 'zh' : 'en'}`] ?? chart.title ?? words(chart.metric);
    const img = h('img', { alt: chart[`alt_${getLang() === 'zh-CN' ? 'zh' : 'en'}`] ?? chart.alt ?? t('review.chart_alt', { metric: title }),
      dataset: { metric: chart.metric }, width: 640, height: 320 });
    const url = chart.url ?? `/api/reviews/dashboard/charts/${encodeURIComponent(chart.metric)}.svg`;
    blobUrl(`${url}${url.includes('?') ? '&' : '?'}lang=${encodeURIComponent(getLang())}`).then((src) => { img.src = src; })
      .catch(() => img.replaceWith(h('p', { class: 'muted' }, t('review.dash_unavailable'))));
    return h('figure', {}, img, h('figcaption', {}, title));
  });
  const exportButton = (ext, label) => h('button', { class: 'btn', type: 'button', id: `export-${ext}`, onclick: async () => {
    try { await download(`/api/reviews/export.${ext}`, `doorstep-visits.${ext}`); } catch (error) { toast(reviewProblem(error), 'error'); }
  } }, t(label));
  fill(root, deskNav('dashboard'), h('h1', {}, t('review.dashboard_title')),
    h('div', { class: 'export-bar', role: 'group', 'aria-label': t('review.export') },
      exportButton('xlsx', 'review.export_xlsx'), exportButton('csv', 'review.export_csv')),
    totals(body),
    figures.length ? h('section', { 'aria-labelledby': 'charts-title' }, h('h2', { id: 'charts-title' }, t('review.dash_charts')),
      h('div', { class: 'dash-charts', id: 'dash-charts' }, figures)) : null,
    tables(body));
  root.dataset.ready = 'true';
}
