// One rendering discipline for every screen (ADR 0017): one draw at a time, the newest
// wins, patched in place; `data-ready` only when settled. Listeners read from the event or
// state (kept elements take new ones); a `data-fresh` subtree is kept or replaced whole.
import { moveListeners } from './dom.js';

/**
 * draw(build, {after}): unless overtaken, patches build()'s result into root (undefined:
 * build drew itself), then after(). work(task): not ready from its start until all is done.
 */
export function screen(root, { patching = true } = {}) {
  let wanted = 0;
  let chain = Promise.resolve();
  let busy = 0;
  const start = () => { busy += 1; delete root.dataset.ready; };
  const end = () => { busy -= 1; if (busy === 0) root.dataset.ready = 'true'; };
  function work(task) {
    start();
    return Promise.resolve().then(task).finally(end);
  }
  function draw(build, { after } = {}) {
    const generation = ++wanted;
    start();
    chain = chain.then(async () => {
      if (generation !== wanted) return;
      const children = await build();
      if (generation !== wanted) return;
      if (children !== undefined) {
        if (patching) patch(root, children); else root.replaceChildren(...nodes(children));
      }
      after?.();
    }).catch((error) => console.error('draw failed', error)).finally(end);
    return chain;
  }
  return { draw, work };
}

const nodes = (children) => [children].flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false)
  .map((c) => (c instanceof Node ? c : document.createTextNode(String(c))));

function keyOf(node) {
  if (node.nodeType !== 1) return null;
  const { dataset: d } = node;
  return d.key || node.id || d.field || d.repeat || d.path || (d.index === undefined ? null : `#${d.index}`);
}

const sameKind = (a, b) => a.nodeName === b.nodeName && (a.nodeName !== 'INPUT' || a.type === b.type);

// Control state is not markup: isEqualNode misses it.
function controlState(node) {
  const controls = node.matches('input, select, textarea') ? [node] : node.querySelectorAll('input, select, textarea');
  return Array.from(controls, (c) => `${c.checked}|${c.value}|${c.disabled}`).join();
}

const isSame = (old, next) => old.isEqualNode(next) && controlState(old) === controlState(next);

// Kept like the focused element: phones do not always focus what was tapped.
let touched = null;
for (const type of ['pointerdown', 'input', 'change', 'focusin']) {
  document.addEventListener(type, (event) => { if (event.target instanceof Element) touched = event.target; }, true);
}
const holds = (node) => (document.activeElement !== document.body && node.contains(document.activeElement))
  || (touched !== null && node.contains(touched));

/** Keyed children match by key, others by position. */
export function patch(parent, children) {
  const next = nodes(children);
  const keyed = new Map();
  const unkeyed = [];
  for (const child of parent.childNodes) {
    const key = keyOf(child);
    if (key && !keyed.has(key)) keyed.set(key, child); else unkeyed.push(child);
  }
  const placed = next.map((node) => {
    const key = keyOf(node);
    const old = key ? keyed.get(key) : unkeyed.find((candidate) => sameKind(candidate, node));
    if (!old || !sameKind(old, node)) return node;
    if (key) keyed.delete(key); else unkeyed.splice(unkeyed.indexOf(old), 1);
    return reconcile(old, node);
  });
  // Leftovers first: moving a kept node past them would blur it.
  for (const child of [...keyed.values(), ...unkeyed]) if (!placed.includes(child)) child.remove();
  placed.forEach((node, index) => {
    const here = parent.childNodes[index];
    if (here !== node) parent.insertBefore(node, here ?? null);
  });
  while (parent.childNodes.length > placed.length) parent.lastChild.remove();
}

function reconcile(old, next) {
  if (old.nodeType !== 1) {
    if (old.nodeValue !== next.nodeValue) old.nodeValue = next.nodeValue;
    return old;
  }
  if ('fresh' in next.dataset || next.nodeName === 'CANVAS') return isSame(old, next) ? old : next;
  if (isSame(old, next)) {
    moveListeners(next, old);
    const olds = old.querySelectorAll('*');
    next.querySelectorAll('*').forEach((node, i) => moveListeners(node, olds[i]));
    return old;
  }
  if (!holds(old)) return next;
  morph(old, next);
  return old;
}

const isTyping = (el) => el === document.activeElement
  && (el.nodeName === 'TEXTAREA' || (el.nodeName === 'INPUT' && !['checkbox', 'radio', 'button', 'file'].includes(el.type)));

function morph(old, next) {
  for (const { name } of [...old.attributes]) if (!next.hasAttribute(name)) old.removeAttribute(name);
  for (const { name, value } of [...next.attributes]) if (old.getAttribute(name) !== value) old.setAttribute(name, value);
  moveListeners(next, old);
  if (old.nodeName === 'INPUT' && old.checked !== next.checked) old.checked = next.checked;
  if (['INPUT', 'TEXTAREA'].includes(old.nodeName) && old.type !== 'file' && !isTyping(old)
    && old.value !== next.value) old.value = next.value;
  if ('disabled' in old && old.disabled !== next.disabled) old.disabled = next.disabled;
  patch(old, [...next.childNodes]);
  if (old.nodeName === 'SELECT' && old.value !== next.value) old.value = next.value;
}
