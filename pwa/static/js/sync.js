// Bringing assignments down (pull) and queued work up (the outbox drain). Pull writes
// each page into IndexedDB in one transaction, so a lost connection mid-pull leaves
// the phone with a consistent, if older, picture.
import * as store from './store.js';
import { api } from './api.js';

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
  try {
    for (;;) {
      const query = cursor ? `?cursor=${encodeURIComponent(cursor)}` : '';
      const page = await api.get(`/api/sync/pull${query}`);
      await store.applyPull({
        cases: page.cases, households: page.households ?? householdsOf(page.cases),
        forms: page.forms, settings: page.settings,
        removedCaseIds: await unassignedCaseIds(page.case_ids), reviewTasks: page.review_tasks,
        cursor: page.cursor,
      });
      cursor = page.cursor;
      if (!page.has_more) break;
    }
    await fetchTaskAnswers();
  } catch (error) {
    report({ phase: 'pull', state: 'error', error });
    throw error;
  }
  await store.put('device', new Date().toISOString(), 'pulled_at');
  report({ phase: 'pull', state: 'done' });
}

function householdsOf(cases = []) { return cases.map((c) => c.household).filter(Boolean); }

// The server sends the full list of assigned case ids whenever it changed: any case the
// phone holds that is not in it was unassigned and is deleted from the device.
async function unassignedCaseIds(assignedIds) {
  if (!assignedIds) return [];
  const keep = new Set(assignedIds);
  return (await store.all('cases')).filter((c) => !keep.has(c.id)).map((c) => c.id);
}

// A task sent back with issues is fixed offline from the reviewed revision's answers: fetch
// them now, while there is a signal (masked as this role sees them; a masked ID sent back
// unchanged means "as registered").
async function fetchTaskAnswers() {
  for (const task of await store.all('review_tasks')) {
    if (task.state !== 'has_issues' || task.visit) continue;
    let visit;
    try {
      visit = await api.get(`/api/visits/${encodeURIComponent(task.submission_id)}`);
    } catch (error) {
      // The pull itself worked; this task waits for the next one (the survey says so).
      console.warn('review task answers not fetched', task.submission_id, error);
      continue;
    }
    const revision = visit.revisions.find((r) => r.revision === task.revision) ?? visit.revisions.at(-1);
    const held = await store.get('review_tasks', task.submission_id);
    if (held?.revision === task.revision) {
      await store.put('review_tasks', { ...held, visit: { form_id: visit.form_id, form_version: visit.form_version,
        revision: revision.revision, ...revision.content } });
    }
  }
}
