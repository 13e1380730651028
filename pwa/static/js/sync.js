// Bringing assignments down (pull) and queued work up (the outbox drain). Pull writes
// each page into IndexedDB in one transaction, so a lost connection mid-pull leaves
// the phone with a consistent, if older, picture.
import * as store from './store.js';
import { api, ApiError } from './api.js';

const listeners = new Set();
export function onProgress(listener) { listeners.add(listener); return () => listeners.delete(listener); }
function report(event) { for (const listener of listeners) listener(event); }

let pulling = null;

/** Pull until the server says there is no more. Shares one run between callers. */
export function pull() {
  pulling ??= runPull().finally(() => { pulling = null; });
  return pulling;
}

async function runPull() {
  report({ phase: 'pull', state: 'start' });
  let cursor = await store.get('device', 'pull_cursor');
  let pages = 0;
  try {
    for (;;) {
      const query = cursor ? `?cursor=${encodeURIComponent(cursor)}` : '';
      const page = await api.get(`/api/sync/pull${query}`);
      await store.applyPull({
        cases: page.cases, households: page.households ?? householdsOf(page.cases),
        forms: page.forms, settings: page.settings,
        removedCaseIds: page.removed_case_ids, cursor: page.cursor,
      });
      cursor = page.cursor;
      pages += 1;
      if (!page.has_more) break;
    }
  } catch (error) {
    // Before the sync API exists on a server, fall back to the plain case list.
    if (error instanceof ApiError && error.status === 404 && pages === 0) await pullCaseList();
    else { report({ phase: 'pull', state: 'error', error }); throw error; }
  }
  await store.put('device', new Date().toISOString(), 'pulled_at');
  report({ phase: 'pull', state: 'done' });
}

function householdsOf(cases = []) { return cases.map((c) => c.household).filter(Boolean); }

async function pullCaseList() {
  const cases = [];
  for (let page = 1; ; page += 1) {
    const answer = await api.get(`/api/cases?assigned_to_me=true&page_size=100&page=${page}`);
    cases.push(...answer.items);
    if (page * answer.page_size >= answer.total) break;
  }
  const known = new Set(cases.map((c) => c.id));
  const stale = (await store.all('cases')).filter((c) => !known.has(c.id)).map((c) => c.id);
  await store.applyPull({ cases, households: householdsOf(cases), removedCaseIds: stale });
}
