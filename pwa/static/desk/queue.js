// The review queue (初审): riskiest visits first, then the oldest; filters, counts per
// state, pages that stay fast (the server pages by keyset), and keys for people who review
// all day: j/k or arrows move, Enter opens, a approves, i sends back with a comment.
import { h, fill, toast } from '../js/dom.js';
import { t } from '../js/i18n.js';
import { api } from '../js/api.js';
import {
  prepare, STATES, stateWords, flagWords, when, deskNav, issueDialog, moveReview, reviewProblem,
} from './common.js';

const FLAGS = ['stamp-far-from-home', 'team-devices-far-apart', 'location-possibly-mocked', 'photo-reused-other-household',
  'visit-end-before-start', 'visit-too-short', 'stamp-accuracy-poor', 'device-clock-skew', 'photo-far-from-visit',
  'photo-time-outside-visit', 'photo-no-exif-location', 'missing-start-stamp', 'missing-end-stamp', 'home-location-unknown'];
const KEY = 'doorstep.queue';
/** Filters and page position survive opening a visit and coming back (this tab only). */
function saved() {
  try { return JSON.parse(sessionStorage.getItem(KEY)) ?? {}; } catch { return {}; }
}
function save(state) { sessionStorage.setItem(KEY, JSON.stringify(state)); }

export async function render(root) {
  await prepare();
  const state = { filters: {}, cursors: [null], page: 0, focus: 0, ...saved() };
  const [places, first] = await Promise.all([
    api.get('/api/jurisdictions').catch(() => []),
    load(state),
  ]);
  const villages = places.filter((p) => p.level === 'village');
  const names = new Map(places.map((p) => [p.code, p.name]));
  let page = first;
  const members = new Map(JSON.parse(sessionStorage.getItem(`${KEY}.members`) ?? '[]'));

  const select = (id, words, options, value) => h('div', { class: 'filter' },
    h('label', { for: id }, words),
    h('select', { id, name: id }, h('option', { value: '' }, t('review.any')),
      options.map(([v, text]) => h('option', { value: v, selected: v === value }, text))));
  const number = (id, words, value) => h('div', { class: 'filter' }, h('label', { for: id }, words),
    h('input', { id, name: id, type: 'number', min: 0, max: 3650, inputmode: 'numeric', value: value ?? '' }));

  function filtersForm() {
    const f = state.filters;
    return h('form', { class: 'filters', id: 'queue-filters', 'aria-label': t('review.filters'), onsubmit: (event) => {
      event.preventDefault();
      const data = new FormData(event.target);
      state.filters = Object.fromEntries([...data.entries()].filter(([, v]) => v !== ''));
      state.cursors = [null]; state.page = 0; state.focus = 0;
      refresh();
    } },
    select('village', t('review.filter_village'), villages.map((v) => [v.code, v.name]), f.village),
    select('member', t('review.filter_member'), [...members].map(([id, name]) => [id, name]), f.member),
    select('flag', t('review.filter_flag'), FLAGS.map((code) => [code, flagWords(code)]), f.flag),
    select('state', t('review.filter_state'), STATES.map((s) => [s, stateWords(s)]), f.state),
    number('min_age_days', t('review.filter_min_age'), f.min_age_days),
    number('max_age_days', t('review.filter_max_age'), f.max_age_days),
    h('div', { class: 'filter filter-actions' },
      h('button', { class: 'btn btn-primary', type: 'submit', id: 'filter-apply' }, t('review.apply')),
      h('button', { class: 'btn', type: 'button', id: 'filter-clear', onclick: () => {
        state.filters = {}; state.cursors = [null]; state.page = 0; state.focus = 0; refresh();
      } }, t('review.clear'))));
  }

  function counts() {
    return h('ul', { class: 'state-counts', id: 'state-counts', 'aria-label': t('review.counts') },
      STATES.filter((s) => page.counts?.[s] != null).map((s) => h('li', {},
        h('button', { type: 'button', class: `count-btn${state.filters.state === s ? ' is-on' : ''}`, dataset: { state: s },
          'aria-pressed': String(state.filters.state === s), onclick: () => {
            state.filters = { ...state.filters, state: state.filters.state === s ? undefined : s };
            state.cursors = [null]; state.page = 0; state.focus = 0; refresh();
          } }, stateWords(s), h('strong', {}, ` ${page.counts[s]}`)))));
  }

  function row(item, index) {
    const teamNames = item.team_names ?? item.team.map((id) => members.get(id) ?? id.slice(0, 8));
    return h('tr', { class: 'queue-row', tabindex: index === state.focus ? '0' : '-1', dataset: { id: item.submission_id, index },
      'aria-current': index === state.focus ? 'true' : undefined, onclick: () => { state.focus = index; open(); },
      onfocus: () => { state.focus = index; markFocus(); } },
    h('td', {}, h('a', { href: `#/review/${item.submission_id}`, tabindex: '-1' },
      item.head_name ?? t('review.head_unknown'))),
    h('td', {}, item.village_name ?? names.get(item.jurisdiction_code) ?? item.jurisdiction_code),
    h('td', {}, teamNames.join('、')),
    h('td', { class: 'flags-cell' }, item.flag_codes.length
      ? item.flag_codes.map((code) => h('span', { class: 'flag-chip', dataset: { code } }, flagWords(code)))
      : h('span', { class: 'muted' }, t('review.no_flags'))),
    h('td', {}, h('span', { class: `state-chip state-${item.state}` }, stateWords(item.state))),
    h('td', { class: 'num' }, t('review.age_days', { n: item.age_days })),
    h('td', {}, when(item.received_at)));
  }

  const table = h('table', { class: 'queue', id: 'queue-table' });
  const pager = h('div', { class: 'pager' });
  const help = h('p', { class: 'keys-help', id: 'keys-help' }, t('review.keys_help'));

  function draw() {
    for (const item of page.items) {
      (item.team ?? []).forEach((id, i) => { if (item.team_names?.[i]) members.set(id, item.team_names[i]); });
    }
    sessionStorage.setItem(`${KEY}.members`, JSON.stringify([...members]));
    sessionStorage.setItem(`${KEY}.ids`, JSON.stringify(page.items.map((i) => i.submission_id)));
    table.replaceChildren(
      h('caption', {}, t('review.queue_title'), ' · ', t('review.page', { n: state.page + 1 })),
      h('thead', {}, h('tr', {}, ['household', 'village', 'team', 'flags', 'state', 'age', 'received'].map((c) => h('th', { scope: 'col' }, t(`review.col_${c}`))))),
      h('tbody', {}, page.items.map(row)));
    pager.replaceChildren(
      h('button', { class: 'btn', type: 'button', id: 'page-prev', disabled: state.page === 0, onclick: () => {
        state.page -= 1; state.focus = 0; refresh();
      } }, t('review.prev_page')),
      h('button', { class: 'btn', type: 'button', id: 'page-next', disabled: !page.next_cursor, onclick: () => {
        state.cursors[state.page + 1] = page.next_cursor; state.page += 1; state.focus = 0; refresh();
      } }, t('review.next_page')));
    fill(root, deskNav('reviews'),
      h('h1', {}, t('review.queue_title')), filtersForm(), counts(), help,
      page.items.length ? table : h('p', { class: 'empty', id: 'queue-empty' }, t('review.empty')), pager);
    state.focus = Math.min(state.focus, Math.max(0, page.items.length - 1));
    save(state);
    root.dataset.ready = 'true';
  }

  function rows() { return [...table.querySelectorAll('tbody tr')]; }
  function markFocus() {
    rows().forEach((tr, i) => {
      tr.tabIndex = i === state.focus ? 0 : -1;
      if (i === state.focus) tr.setAttribute('aria-current', 'true'); else tr.removeAttribute('aria-current');
    });
    save(state);
  }
  function focusRow(index) {
    const all = rows();
    if (!all.length) return;
    state.focus = Math.max(0, Math.min(all.length - 1, index));
    markFocus();
    all[state.focus].focus();
  }
  const current = () => page.items[state.focus];
  function open() { if (current()) location.hash = `#/review/${current().submission_id}`; }

  async function act(to) {
    const item = current();
    if (!item) return;
    let comments = [];
    if (to === 'has_issues') {
      const issue = await issueDialog();
      if (!issue) { focusRow(state.focus); return; }
      comments = [issue];
    }
    try {
      await moveReview(item.submission_id, `"${item.version}"`, to, comments);
      toast(t('review.moved', { state: stateWords(to) }));
    } catch (error) {
      toast(reviewProblem(error), 'error');
    }
    await refresh(true);
  }

  async function refresh(keepFocus = false) {
    try { page = await load(state); } catch (error) { toast(reviewProblem(error), 'error'); return; }
    draw();
    if (keepFocus || document.activeElement === document.body) focusRow(state.focus);
  }

  const onKey = (event) => {
    if (event.target.closest?.('input, select, textarea, dialog, button, a') || event.altKey || event.ctrlKey || event.metaKey) return;
    const keys = { j: () => focusRow(state.focus + 1), ArrowDown: () => focusRow(state.focus + 1),
      k: () => focusRow(state.focus - 1), ArrowUp: () => focusRow(state.focus - 1),
      Enter: open, a: () => act('approved'), i: () => act('has_issues') };
    const run = keys[event.key];
    if (!run) return;
    event.preventDefault();
    run();
  };
  document.addEventListener('keydown', onKey);
  draw();
  if (page.items.length) focusRow(state.focus);
  return () => document.removeEventListener('keydown', onKey);
}

async function load(state) {
  const query = new URLSearchParams([...Object.entries(state.filters).filter(([, v]) => v != null && v !== ''),
    ['limit', '25']]);
  const cursor = state.cursors[state.page];
  if (cursor) query.set('cursor', cursor);
  return api.get(`/api/reviews?${query}`);
}
