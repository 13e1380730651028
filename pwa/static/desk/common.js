// Shared by the desk screens (review queue, one visit, dashboard): their style sheet and
// words, loaded with them (never precached), and small helpers around the review API.
import { h } from '../js/dom.js';
import { t, extend, getLang, formatDateTime, problemText } from '../js/i18n.js';
import { api } from '../js/api.js';
import * as session from '../js/session.js';

const STYLES = ['/static/desk/desk.css'];

/** Load the desk's style sheets and words once; resolves when both are ready. */
export async function prepare(extraStyles = []) {
  await Promise.all([...STYLES, ...extraStyles].map((href) => {
    if (document.querySelector(`link[data-desk="${href}"]`)) return null;
    return new Promise((resolve) => {
      const link = h('link', { rel: 'stylesheet', href, dataset: { desk: href } });
      link.addEventListener('load', resolve);
      link.addEventListener('error', resolve);
      document.head.append(link);
    });
  }));
  await extend('/static/desk/i18n');
}

export const STATES = ['received', 'resubmitted', 'has_issues', 'revisit_requested', 'approved', 'rejected', 'superseded'];
export const stateWords = (state) => t(`review.state.${state}`);

/** A flag code in words ("stamp-far-from-home" → "定位离登记住址太远"), the code when unknown. */
export function flagWords(code) {
  const key = `review.flag.${code}`;
  const text = t(key);
  return text === key ? code : text;
}

/** The server's own sentence for a flag, in the user's language. */
export const flagSentence = (flag) => (getLang() === 'zh-CN' ? flag.detail_zh ?? flag.sentence_zh : flag.detail_en ?? flag.sentence_en)
  ?? flag.sentence ?? flag.detail ?? '';

export const when = (value) => (value ? formatDateTime(value) : '—');

/** GET with the ETag (the review's version), for If-Match on the next change. */
export async function getWithEtag(path) {
  const response = await api.get(path, { raw: true });
  return { body: await response.json(), etag: response.headers.get('ETag') };
}

/** A protected file (photo, chart, export) as an object URL: <img> and <a> send no token. */
export async function blobUrl(path) {
  const response = await api.get(path, { raw: true, retries: 1 });
  return URL.createObjectURL(await response.blob());
}

/** Download a protected export: fetched with the token, then saved under its own name. */
export async function download(path, filename) {
  const url = await blobUrl(path);
  const link = h('a', { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** The desk's tab bar: queue, dashboard, complaints; webhooks and forms for administrators;
 * retention for county-level administrators and supervisors; the account. */
export function deskNav(current) {
  const tabs = [['reviews', t('review.queue_title')], ['dashboard', t('review.dashboard_title')]];
  const roles = session.user()?.roles ?? [];
  if (roles.includes('admin')) tabs.push(['webhooks', t('webhooks.title')], ['forms', t('forms.title')]);
  const county = session.user()?.jurisdiction?.level === 'county';
  if (county && (roles.includes('admin') || roles.includes('county_supervisor'))) tabs.push(['retention', t('review.tab_retention')]);
  tabs.push(['complaints', t('complaints.title')]);
  if (roles.includes('county_supervisor')) tabs.push(['privacy-report', t('privacy.report_title')]);
  if (roles.some((role) => ['reviewer', 'approver'].includes(role))) tabs.push(['privacy-exports', t('privacy.exports_title')]);
  // Account security, with a reminder while a role that needs two-step sign-in lacks it.
  const due = session.user()?.second_factor_due_at && !enrolledHere;
  tabs.push(['account', [t('account.title'), due ? h('strong', { id: 'second-factor-due' }, ` (${t('account.due_badge')})`) : null]]);
  return h('nav', { class: 'desk-nav', 'aria-label': t('review.nav') },
    tabs.map(([name, text]) => h('a', {
      href: `#/${name}`, class: 'desk-tab', id: `desk-tab-${name}`, 'aria-current': name === current ? 'page' : undefined }, text)));
}

// Set once two-step sign-in is on in this page (the stored user says so from the next sign-in).
let enrolledHere = false;
export function markEnrolled() { enrolledHere = true; }

const words = (text) => (typeof text === 'string' ? text : text?.[getLang()] ?? text?.['zh-CN']);

/** The form's definition of the field at a path ("members[1].id_number"), or undefined. */
export function fieldOf(definition, path) {
  const [, name, , member] = /^(\w+)(?:\[(\d+)\]\.(\w+))?$/.exec(path ?? '') ?? [];
  const field = (definition?.sections ?? []).flatMap((s) => s.fields ?? []).find((f) => f.name === name);
  return member ? (field?.fields ?? []).find((f) => f.name === member) : field;
}

/** "members[1].id_number" in words from the form definition, the path itself otherwise. */
// Keys the phone adds to a member's answers beside the form's fields (views/survey.js).
const PHONE_KEYS = ['confirmed_on_site'];

export function fieldWords(definition, path) {
  const [, name, index, member] = /^(\w+)(?:\[(\d+)\]\.(\w+))?$/.exec(path ?? '') ?? [];
  const field = (definition?.sections ?? []).flatMap((s) => s.fields ?? []).find((f) => f.name === name);
  if (!field) return path;
  if (index === undefined) return words(field.label) ?? path;
  const inner = (field.fields ?? []).find((f) => f.name === member);
  const label = words(inner?.label) ?? (PHONE_KEYS.includes(member) ? t(`review.${member}`) : member);
  return `${words(field.label) ?? name} ${Number(index) + 1} · ${label}`;
}

/** A field's answer as text: choices by their label, lists joined, booleans in words. */
export function answerText(value, field = undefined) {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'boolean') return value ? t('choice.yes') : t('choice.no');
  const choice = (field?.choices ?? []).find((c) => c.value === value);
  if (choice) return words(choice.label) ?? String(value);
  if (Array.isArray(value)) return value.map((v) => answerText(v, field)).join('、');
  if (typeof value === 'object') return Object.entries(value).map(([k, v]) => `${k}: ${answerText(v)}`).join('; ');
  return String(value);
}

/**
 * Ask what is wrong before sending a visit back (a has-issues step needs a comment):
 * resolves to {field, text} or null when cancelled. `fields` are [path, words] pairs.
 */
export function issueDialog(fields = [], preset = null) {
  return new Promise((resolve) => {
    const text = h('textarea', { id: 'issue-text', rows: 3, required: true, maxlength: 2000 });
    const field = h('select', { id: 'issue-field' }, h('option', { value: '' }, t('review.issue_whole')),
      fields.map(([path, words]) => h('option', { value: path, selected: path === preset }, words)));
    const error = h('p', { class: 'form-error', id: 'issue-error', role: 'alert' });
    const dialog = h('dialog', { class: 'desk-dialog', id: 'issue-dialog', 'aria-labelledby': 'issue-title' },
      h('form', { method: 'dialog', class: 'stack', onsubmit: (event) => {
        event.preventDefault();
        if (!text.value.trim()) { error.textContent = t('review.comment_required'); text.focus(); return; }
        dialog.close();
        resolve({ field: field.value || null, text: text.value.trim() });
      } },
      h('h2', { id: 'issue-title' }, t('review.issue_prompt')),
      h('label', { for: 'issue-field' }, t('review.issue_field')), field,
      h('label', { for: 'issue-text' }, t('review.issue_text')), text, error,
      h('div', { class: 'actions' },
        h('button', { class: 'btn btn-primary', type: 'submit', id: 'issue-send' }, t('review.send_back')),
        h('button', { class: 'btn', type: 'button', id: 'issue-cancel', onclick: () => { dialog.close(); resolve(null); } }, t('review.cancel')))));
    dialog.addEventListener('cancel', () => resolve(null));
    dialog.addEventListener('close', () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
    text.focus();
  });
}

/** Move a review (approve, has issues…) with If-Match; the words for what went wrong. */
export async function moveReview(submissionId, etag, to, comments = []) {
  const response = await api.post(`/api/reviews/${encodeURIComponent(submissionId)}/transitions`,
    { to, comments }, { headers: { 'If-Match': etag }, retries: 0, raw: true });
  return { body: await response.json(), etag: response.headers.get('ETag') };
}

/** A review API problem in words a reviewer can act on. */
export function reviewProblem(error) {
  if (error?.status === 412 || error?.type === 'stale-version') return t('review.stale');
  if (error?.type === 'review-own-visit') return t('review.own_visit');
  if (error?.type === 'review-comment-required') return t('review.comment_required');
  // Another API problem: its words (problem.review-not-found is in the desk's words), else
  // the server's detail; a fault of the page itself keeps its own message.
  if (error?.type) return problemText(error);
  return error?.detail || error?.message || String(error);
}
