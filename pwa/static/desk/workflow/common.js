// Shared by the workflow desk screens (things to do, one case): their style sheet and words,
// loaded with them and never precached (the phone's shell stays small), and the calls to
// the case-workflow API (backend/workflow/routes.py).
import { h } from '../../js/dom.js';
import { t, has, getLang, formatDate, formatDateTime, extend } from '../../js/i18n.js';
import { api } from '../../js/api.js';
import * as session from '../../js/session.js';

const STYLE = '/static/desk/workflow/workflow.css';
const WORDS = '/static/i18n/workflow';
// The desk's shared words: problem.<slug> of the refusals only the desk meets, for t() and
// problemText() (kept out of the phone's precached dictionary).
const DESK_WORDS = '/static/desk/i18n';
const loaded = new Map();
let words = {};
let fallback = {};

async function fetchWords(code) {
  const version = window.DOORSTEP_ASSET_VERSION || '';
  if (!loaded.has(code)) loaded.set(code, fetch(`${WORDS}/${code}.json?v=${version}`).then((r) => r.json()));
  return loaded.get(code);
}

/** Load the desk's style sheet and the words of the current language; mark the page. */
export async function prepare() {
  document.body.classList.add('wf-desk');
  const styleReady = document.querySelector(`link[data-wf="${STYLE}"]`) ? null : new Promise((resolve) => {
    const link = h('link', { rel: 'stylesheet', href: STYLE, dataset: { wf: STYLE } });
    link.addEventListener('load', resolve);
    link.addEventListener('error', resolve);
    document.head.append(link);
  });
  const lang = getLang();
  [words, fallback] = await Promise.all([fetchWords(lang), fetchWords('zh-CN'), extend(DESK_WORDS)]);
  await styleReady;
}

/** Leave the desk look when another screen is shown. */
export function leave() { document.body.classList.remove('wf-desk', 'wf-printing'); }

/** A workflow word ("wf.status.approved"), `{name}` filled from `params`; falls back to the
 *  app's own words, then to the key itself. */
export function w(key, params = {}) {
  const text = words[key] ?? fallback[key] ?? t(key);
  return text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? `{${name}}`));
}

export function hasWord(key) { return key in words || key in fallback; }

export const roles = () => session.user()?.roles ?? [];
export const WORK_ROLES = ['intake_clerk', 'village_assistant', 'reviewer', 'approver', 'county_supervisor'];
export const isWorkflowUser = () => roles().some((role) => WORK_ROLES.includes(role));

export const day = (value) => (value ? formatDate(value) : '—');
export const when = (value) => (value ? formatDateTime(value) : '—');
export const kindWords = (kindKey) => w(`wf.kind.${kindKey}`);
export const statusWords = (status) => (status ? w(`wf.status.${status}`) : '—');

/** The words of a transition button: a named move (objection) or the target state. */
export function moveWords(from, to, kindKey = '') {
  const ofKind = `wf.move.${kindKey}.${from}.${to}`;
  if (kindKey && hasWord(ofKind)) return w(ofKind);
  const named = `wf.move.${from}.${to}`;
  return hasWord(named) ? w(named) : w(`wf.to.${to}`);
}

const enc = encodeURIComponent;

/** The case's workflow view with its ETag (the case version, for If-Match). */
export async function loadWorkflow(caseId) {
  const response = await api.get(`/api/cases/${enc(caseId)}/workflow`, { raw: true });
  return { view: await response.json(), etag: response.headers.get('ETag') };
}

export const loadTimeline = (caseId) => api.get(`/api/cases/${enc(caseId)}/timeline`);
export const loadDue = (state) => api.get(`/api/cases/due${state ? `?state=${enc(state)}` : ''}`);

/** Applicants' names by case id for the lists (the due list carries case ids only): the
 *  first pages of the caller's cases; a case beyond them shows its short id. */
export async function loadCaseNames() {
  const names = {};
  for (let page = 1; page <= 3; page += 1) {
    const answer = await api.get(`/api/cases?page=${page}&page_size=100`);
    for (const item of answer.items ?? []) names[item.id] = item.household?.head_name ?? '';
    if ((answer.items ?? []).length < 100) break;
  }
  return names;
}

async function send(method, path, body, etag) {
  const headers = etag ? { 'If-Match': etag } : {};
  const response = await api[method](path, body, { headers, retries: 0, raw: true });
  const type = response.headers.get('Content-Type') || '';
  return { body: type.includes('json') ? await response.json() : null, etag: response.headers.get('ETag') };
}

/** Carry out one desk action (see domain.actionsFor) with the case's ETag. */
export function perform(caseId, action, body, etag) {
  const base = `/api/cases/${enc(caseId)}`;
  if (action.kind === 'transition') return send('post', `${base}/transitions`, body, etag);
  if (action.kind === 'application') return send('put', `${base}/application`, body, etag);
  if (action.kind === 'economic_check') return send('put', `${base}/economic-check`, body, etag);
  if (action.kind === 'task') return send('post', `${base}/tasks/${enc(action.task)}`, undefined, etag);
  if (action.kind === 'spot_check') return send('put', `/api/spot-checks/${enc(caseId)}`, body, null);
  if (action.kind === 'open_review') return send('post', `${base}/periodic-reviews`, undefined, null);
  if (action.kind === 'panel_draw') return send('post', `${base}/panel-draw`, body, etag);
  throw new Error(`unknown action ${action.kind}`);
}

/** Where a printable document of the case is served (fmt "pdf" or "html"); the standing
 *  notice (长期公示) is its village's, this month's. */
export function documentPath(caseId, kind, fmt, villageCode) {
  if (kind === 'standing_notice') return `/api/villages/${enc(villageCode)}/standing-notice?format=${fmt}`;
  return `/api/cases/${enc(caseId)}/documents/${enc(kind)}?format=${fmt}`;
}

/** A document fetched with the sign-in token (links cannot send it). */
export async function fetchDocument(caseId, kind, fmt, villageCode) {
  const response = await api.get(documentPath(caseId, kind, fmt, villageCode), { raw: true, retries: 1 });
  return response.blob();
}

/** Save a blob under `filename` (the PDF opens in the browser's viewer from the download). */
export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** The desk's tab bar: things to do; the review queue when that screen is there. */
export function workNav(current) {
  const takesIn = roles().some((role) => ['intake_clerk', 'village_assistant'].includes(role));
  return h('nav', { class: 'wf-nav', 'aria-label': w('wf.nav_label') },
    h('a', { class: 'btn', href: '#/work', 'aria-current': current === 'work' ? 'page' : undefined }, w('wf.work_title')),
    takesIn ? h('a', { class: 'btn', href: '#/intake', id: 'nav-intake', 'aria-current': current === 'intake' ? 'page' : undefined }, w('in.nav')) : null);
}

/** A refusal of the server in the desk's words (problem.<slug>), never the server's English
 *  sentence; a problem the desk has no words for says so in the reader's language. */
export function problemWords(error) {
  const type = error?.type || error?.problem?.type || '';
  return type && has(`problem.${type}`) ? t(`problem.${type}`) : w('wf.problem.unknown');
}
