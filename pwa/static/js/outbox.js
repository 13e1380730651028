// Queued writes. Every record carries its client UUID, so sending it twice is harmless
// (the server answers `duplicate`); a record leaves the queue only when the server says
// accepted or duplicate. One the server refuses for good waits as `needs_attention`
// (domain/drain.js) while the others go on. Drained on start, on `online`, every 60 s,
// on demand and on Background Sync.
import * as store from './store.js';
import { api, ApiError, upload } from './api.js';
import * as session from './session.js';
import * as keys from './keys.js';
import { sendOrder, afterTransientFailure, isPermanentRefusal } from './domain/backoff.js';
import { sendDue, problemOf, roundsOneAtATime } from './domain/drain.js';
import { pruneConfirmed } from './device/storage.js';
import { dismiss } from './dom.js';

const listeners = new Set();
export function onChange(listener) { listeners.add(listener); return () => listeners.delete(listener); }
function emit(event) { for (const listener of listeners) listener(event); updateBadge(); }

export async function entries() {
  return (await store.all('outbox')).sort((a, b) => b.queued_at.localeCompare(a.queued_at));
}

async function updateBadge() {
  const all = await store.all('outbox');
  if (!all.some((e) => e.status === 'waiting')) dismiss(QUEUED_TOAST);
  const badge = document.getElementById('outbox-count');
  if (!badge) return;
  const pending = all.filter((e) => e.status !== 'accepted').length;
  badge.textContent = String(pending);
  badge.hidden = pending === 0;
}

// The "sent when online" toast, gone once nothing waits.
export const QUEUED_TOAST = 'outbox-queued';

export async function enqueue(record, extra = {}) {
  const entry = { id: record.id, status: 'waiting', queued_at: new Date().toISOString(),
    attempts: 0, next_attempt_at: null, record, ...extra };
  await store.put('outbox', entry);
  emit({ type: 'queued', id: entry.id });
  try {
    const registration = await navigator.serviceWorker?.ready;
    await registration?.sync?.register('outbox');
  } catch { /* Background Sync is optional: timers and `online` still drain */ }
  drain();
  return entry;
}

export { blobsOf } from './domain/drain.js';

/** Make sure the server holds one blob: HEAD first (an interrupted sync may have sent it). */
async function uploadBlob(sha256, onProgress) {
  const photo = await store.get('photos', sha256);
  if (!photo || photo.uploaded) return;
  let present = false;
  try { await api.get(`/api/photos/${sha256}`, { method: 'HEAD', raw: true, retries: 1 }); present = true; } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
  }
  // A photo already sent (uploaded flag, or the HEAD above) is never sent again: an
  // interrupted sync resumes with the photo it was on.
  if (!present) await upload(`/api/photos/${sha256}`, photo.blob, { onProgress });
  await store.put('photos', { ...photo, uploaded: true });
}

async function registerPendingKeys() {
  const me = session.user();
  const mine = me && await keys.keyFor(me.id);
  if (!mine || mine.key_id) return;
  const { key_id: keyId } = await keys.register(me.id);
  // Attestations signed before the key was registered name no key yet: fill it in.
  const named = (a) => (a.user_id === me.id && !a.key_id ? { ...a, key_id: keyId } : a);
  for (const entry of await store.all('outbox')) {
    if (entry.status !== 'waiting') continue;
    const record = entry.record.type === 'visit_attestation' ? named(entry.record)
      : { ...entry.record, attestations: (entry.record.attestations ?? []).map(named) };
    await store.put('outbox', { ...entry, record });
  }
}

/** Send everything that is due. One round at a time; a call during a round gets one more
 * round after it (domain/drain.js). Resolves when the round that covers the call is done. */
export const drain = roundsOneAtATime(run);

async function run(force) {
  if (!navigator.onLine || session.needsSignIn()) {
    // A person pressed "send now": say why nothing left instead of "sending…" for ever.
    if (force) emit({ type: 'idle', reason: navigator.onLine ? 'signed-out' : 'offline' });
    return;
  }
  const now = Date.now();
  const all = await store.all('outbox');
  const due = force ? sendOrder(all.map((e) => (e.status === 'waiting' ? { ...e, next_attempt_at: null } : e)), now)
    : sendOrder(all, now);
  if (!due.length) {
    // Nothing due (an earlier round already sent it): the round is over all the same.
    if (force) emit({ type: 'done', parked: all.filter((e) => e.status === 'needs_attention').length });
    return;
  }
  emit({ type: 'start', count: due.length });
  try {
    await registerPendingKeys();
  } catch (error) {
    // The records still go: an attestation without a registered key is answered per record.
    if (!isPermanentRefusal(error)) {
      for (const entry of due) {
        await store.put('outbox', { ...afterTransientFailure(entry, Date.now()), last_error: problemOf(error) });
      }
      emit({ type: 'error', error });
      return;
    }
  }
  let pushing = false;
  const outcome = await sendDue(due, {
    uploadBlob,
    push: async (records) => {
      if (!pushing) { pushing = true; emit({ type: 'pushing' }); }
      const answer = await api.post('/api/sync/push', {
        device_id: session.getDeviceId(), sent_at: new Date().toISOString(), records }, { retries: 1 });
      return answer.results ?? [];
    },
    save: async (next) => {
      await store.put('outbox', next);
      if (next.status === 'accepted') await store.del('drafts', next.id);
    },
    progress: (done, total) => emit({ type: 'photos', done, total }),
    nowMs: () => Date.now(),
    nowIso: () => new Date().toISOString(),
  });
  if (outcome.error) emit({ type: 'error', error: outcome.error });
  else emit({ type: 'done', parked: outcome.parked });
  await pruneConfirmed().catch((error) => console.warn('prune failed', error));
}

/** A person dealt with a parked record (the case is assigned again…): queue it once more. */
export async function retry(id) {
  const entry = await store.get('outbox', id);
  if (!entry || entry.status !== 'needs_attention') return;
  await store.put('outbox', { ...entry, status: 'waiting', attempts: 0, next_attempt_at: null,
    last_error: entry.problem ?? null, problem: null, result: null });
  emit({ type: 'queued', id });
  await drain({ force: true });
}

export function start() {
  updateBadge();
  window.addEventListener('online', () => drain({ force: true }));
  navigator.serviceWorker?.addEventListener('message', (event) => {
    if (event.data?.type === 'drain-outbox') drain({ force: true });
  });
  setInterval(() => drain(), 60_000);
  pruneConfirmed().catch((error) => console.warn('prune failed', error));
  drain();
}
