// A tiny element builder: enough to keep views readable without a framework.
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) listen(element, name.slice(2), value);
    else if (name === 'class') element.className = value;
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else if (name in element && typeof value !== 'string') element[name] = value;
    else element.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

// h()'s listeners sit in a table, so a kept element can take a newer draw's (render.js).
const LISTENERS = Symbol('listeners');

function listen(element, type, listener) {
  const table = (element[LISTENERS] ??= {});
  if (!(type in table)) element.addEventListener(type, (event) => table[type]?.call(element, event));
  table[type] = listener;
}

export function moveListeners(from, to) {
  const theirs = from?.[LISTENERS] ?? {};
  const mine = to[LISTENERS] ?? {};
  for (const type of Object.keys(mine)) if (!(type in theirs)) mine[type] = null;
  for (const [type, listener] of Object.entries(theirs)) listen(to, type, listener);
}

export function clear(element) { element.replaceChildren(); return element; }

/** Replace an element's children, skipping null/false ones (a hidden field, an absent
 *  block) the way h() does: the DOM's own append() would show them as "null". */
export function fill(element, ...children) {
  element.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return element;
}

/** A short status message read out by screen readers; one per `key` (default: its text). */
export function toast(text, kind = 'info', { key = text } = {}) {
  const host = document.getElementById('toasts');
  dismiss(key);
  const item = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status', dataset: { key } }, text);
  host.append(item);
  setTimeout(() => item.remove(), 5000);
  return item;
}

export function dismiss(key) {
  for (const item of document.querySelectorAll('#toasts .toast')) if (item.dataset.key === key) item.remove();
}

export function uuid() { return crypto.randomUUID(); }
