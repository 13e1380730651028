// The only module that touches IndexedDB (STYLE.md). Everything the app needs offline
// lives here; the service worker cache holds only the shell, never personal data.
import { openDB, deleteDB } from '../vendor/idb/idb.js';

const DB_NAME = 'doorstep';
const DB_VERSION = 2;

// Stores wiped at sign-out: they hold households' personal data or the signed-in
// user's session. `device` (device id) and `keys` (wrapped signing keys, useless
// without the PIN) survive so the same phone keeps one identity per user.
const PERSONAL_STORES = ['session', 'cases', 'households', 'forms', 'settings', 'drafts',
  'outbox', 'photos', 'people', 'review_tasks'];

let dbPromise;

export function db() {
  dbPromise ??= openDB(DB_NAME, DB_VERSION, {
    upgrade(database, oldVersion) {
      if (oldVersion < 1) createFirstStores(database);
      // Visits a reviewer sent back (has issues / re-visit), with the answers to fix.
      if (oldVersion < 2) database.createObjectStore('review_tasks', { keyPath: 'submission_id' });
    },
    blocked() { /* another tab holds the old version; it reloads on `versionchange` */ },
  });
  return dbPromise;
}

function createFirstStores(database) {
  database.createObjectStore('device');                    // key-value: device_id, cursor…
  database.createObjectStore('session');                   // key-value: current, pin prefs
  database.createObjectStore('cases', { keyPath: 'id' });
  database.createObjectStore('households', { keyPath: 'id' });
  database.createObjectStore('forms', { keyPath: 'key' });  // `${form_id}@${version}`
  database.createObjectStore('settings');                   // village code → settings
  const drafts = database.createObjectStore('drafts', { keyPath: 'id' });
  drafts.createIndex('case_id', 'case_id');
  database.createObjectStore('outbox', { keyPath: 'id' });
  database.createObjectStore('photos', { keyPath: 'sha256' });
  database.createObjectStore('keys', { keyPath: 'user_id' });
  database.createObjectStore('people', { keyPath: 'id' });  // investigators on this phone
}

export async function get(store, key) { return (await db()).get(store, key); }
export async function put(store, value, key) { return (await db()).put(store, value, key); }
export async function del(store, key) { return (await db()).delete(store, key); }
export async function all(store) { return (await db()).getAll(store); }
export async function allByIndex(store, index, value) {
  return (await db()).getAllFromIndex(store, index, value);
}
export async function count(store) { return (await db()).count(store); }

/** Write many records in one transaction and delete others: a pull page lands atomically. */
export async function applyPull({ cases = [], households = [], forms = [], settings = {},
  removedCaseIds = [], reviewTasks, cursor }) {
  const database = await db();
  const tx = database.transaction(['cases', 'households', 'forms', 'settings', 'device',
    'review_tasks'], 'readwrite');
  // The server sends the whole task list when it changed: replace it, keeping the answers
  // already fetched for a task whose reviewed revision is the same.
  if (reviewTasks) {
    const tasks = tx.objectStore('review_tasks');
    const held = new Map((await tasks.getAll()).map((task) => [task.submission_id, task]));
    await tasks.clear();
    for (const task of reviewTasks) {
      const old = held.get(task.submission_id);
      tasks.put(old?.revision === task.revision && old.visit ? { ...task, visit: old.visit } : task);
    }
  }
  for (const item of cases) tx.objectStore('cases').put(item);
  for (const item of households) tx.objectStore('households').put(item);
  for (const form of forms) {
    tx.objectStore('forms').put({ ...form, key: `${form.form_id ?? form.id}@${form.version}` });
  }
  for (const [code, value] of Object.entries(settings)) tx.objectStore('settings').put(value, code);
  for (const id of removedCaseIds) tx.objectStore('cases').delete(id);
  if (cursor !== undefined) tx.objectStore('device').put(cursor, 'pull_cursor');
  await tx.done;
}

/** Sign-out: drop every personal record and the sync cursor (the next user pulls afresh). */
export async function wipePersonalData() {
  const database = await db();
  const tx = database.transaction([...PERSONAL_STORES, 'device'], 'readwrite');
  for (const name of PERSONAL_STORES) tx.objectStore(name).clear();
  tx.objectStore('device').delete('pull_cursor');
  await tx.done;
}

/** Forget records the server confirmed long ago and the photos only they used (one transaction). */
export async function prune({ entryIds = [], photoHashes = [] }) {
  if (!entryIds.length && !photoHashes.length) return;
  const database = await db();
  const tx = database.transaction(['outbox', 'photos'], 'readwrite');
  for (const id of entryIds) tx.objectStore('outbox').delete(id);
  for (const sha256 of photoHashes) tx.objectStore('photos').delete(sha256);
  await tx.done;
}

/** For tests and "reset this phone": remove the whole database. */
export async function destroy() {
  (await db()).close();
  dbPromise = undefined;
  await deleteDB(DB_NAME);
}
