// Words for the screens: Simplified Chinese by default, English on request; the choice
// is a device preference (localStorage), not personal data.
import * as dates from './domain/dates.js';

const LANG_KEY = 'doorstep.lang';
export const LANGS = ['zh-CN', 'en'];

let lang = LANGS.includes(localStorage.getItem(LANG_KEY)) ? localStorage.getItem(LANG_KEY) : 'zh-CN';
let words = {};
let fallback = {};

async function load(code) {
  const response = await fetch(`/static/i18n/${code}.json?v=${window.DOORSTEP_ASSET_VERSION || ''}`);
  return response.json();
}

export async function init() {
  words = await load(lang);
  fallback = lang === 'zh-CN' ? words : await load('zh-CN');
  document.documentElement.lang = lang;
}

export function getLang() { return lang; }

export async function setLang(code) {
  lang = code;
  localStorage.setItem(LANG_KEY, code);
  await init();
}

/** Look up `key` ("cases.title"); `{name}` placeholders are filled from `params`. */
export function t(key, params = {}) {
  const text = words[key] ?? fallback[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (params[name] ?? `{${name}}`));
}

/** Does a translation exist? (Used to fall back to the server's own detail.) */
export function has(key) { return key in words || key in fallback; }

/** A problem from the API in words the worker can act on: what happened, what to do. */
export function problemText(error) {
  const type = error?.type || error?.problem?.type || 'internal-error';
  if (has(`problem.${type}`)) return t(`problem.${type}`);
  return error?.detail || error?.message || t('problem.internal-error');
}

/** A date ("2026-11-26") or instant in the user's language, on China's calendar. */
export function formatDate(value) { return dates.formatDate(value, lang); }

/** An instant with its time of day, on China's clock: "2026年11月26日 08:42". */
export function formatDateTime(value) { return dates.formatDateTime(value, lang); }

/** A span of days as people write it: "12月1日至12月20日". */
export function formatDateRange(from, to) { return dates.formatDateRange(from, to, lang); }

const extended = new Map();
/** Words of screens loaded on demand (the desk), kept out of the precached files. */
export async function extend(base) {
  const key = `${base}|${lang}`;
  if (!extended.has(key)) {
    const fetchWords = async (code) => (await fetch(`${base}/${code}.json?v=${window.DOORSTEP_ASSET_VERSION || ''}`)).json();
    const loading = Promise.all([fetchWords(lang), lang === 'zh-CN' ? null : fetchWords('zh-CN')]);
    // A failed fetch (offline, a server error) is tried again when the screen opens next.
    loading.catch(() => extended.delete(key));
    extended.set(key, loading);
  }
  const [mine, zh] = await extended.get(key);
  Object.assign(words, mine);
  if (zh) Object.assign(fallback, zh); else Object.assign(fallback, mine);
}
