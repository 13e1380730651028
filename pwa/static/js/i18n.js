// Words for the screens: Simplified Chinese by default, English on request; the choice
// is a device preference (localStorage), not personal data.
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

export function formatDate(iso) {
  if (!iso) return '';
  const date = new Date(iso.length === 10 ? `${iso}T00:00:00+08:00` : iso);
  return date.toLocaleDateString(lang, { timeZone: 'Asia/Shanghai', month: 'short', day: 'numeric' });
}

export function formatDateTime(iso) {
  if (!iso) return '';
  return new Date(iso).toLocaleString(lang, { timeZone: 'Asia/Shanghai', month: 'short',
    day: 'numeric', hour: '2-digit', minute: '2-digit' });
}
