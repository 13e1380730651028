// Queued writes. Every record carries its client UUID, so sending it twice is harmless
// (the server answers `duplicate`); a record leaves the queue only when the server says
// accepted or duplicate. Drained on start, on `online`, every 60 s, on demand and on
// Background Sync.
import * as store from './store.js';
import { api, ApiError } from './api.js';
import * as session from './session.js';
import * as keys from './keys.js';
import { sendOrder, afterResult, afterTransientFailure } from './domain/backoff.js';

const listeners = new Set();
export function onChange(listener) { listeners.add(listener); return () => listeners.delete(listener); }
function emit(event) { for (const listener of listeners) listener(event); updateBadge(); }

export async function entries() {
  return (await store.all('outbox')).sort((a, b) => b.queued_at.localeCompare(a.queued_at));
}

async function updateBadge() {
  const badge = document.getElementById('outbox-count');
  if (!badge) return;
  const pending = (await store.all('outbox')).filter((e) => e.status !== 'accepted').length;
  badge.textContent = String(pending);
  badge.hidden = pending === 0;
}

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

/** Hashes of every blob a record refers to: photos and drawn signatures. */
export function blobsOf(record) {
  return [...(record.photos ?? []).map((p) => p.sha256),
    ...(record.attestations ?? []).map((a) => a.signature_image_sha256),
    ...(record.type === 'visit_attestation' ? [record.signature_image_sha256] : [])].filter(Boolean);
}

async function uploadBlobs(hashes, progress) {
  let done = 0;
  for (const sha256 of hashes) {
    const photo = await store.get('photos', sha256);
    if (photo && !photo.uploaded) {
      // HEAD first: after an interrupted sync the server may already have it.
      let present = false;
      try { await api.get(`/api/photos/${sha256}`, { method: 'HEAD', raw: true, retries: 1 }); present = true; } catch (error) {
        if (!(error instanceof ApiError) || error.status !== 404) throw error;
      }
      if (!present) await api.put(`/api/photos/${sha256}`, photo.blob, { retries: 1 });
      await store.put('photos', { ...photo, uploaded: true });
    }
    done += 1;
    progress(done, hashes.length);
  }
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

let draining = null;

/** Send everything that is due. One run at a time; resolves when done. */
export function drain({ force = false } = {}) {
  draining ??= run(force).finally(() => { draining = null; });
  return draining;
}

async function run(force) {
  if (!navigator.onLine || session.needsSignIn()) return;
  const now = Date.now();
  const all = await store.all('outbox');
  const due = force ? sendOrder(all.map((e) => (e.status === 'waiting' ? { ...e, next_attempt_at: null } : e)), now)
    : sendOrder(all, now);
  if (!due.length) return;
  emit({ type: 'start', count: due.length });
  try {
    await registerPendingKeys();
    const hashes = [...new Set(due.flatMap((e) => blobsOf(e.record)))];
    await uploadBlobs(hashes, (done, total) => emit({ type: 'photos', done, total }));
    emit({ type: 'pushing' });
    const answer = await api.post('/api/sync/push', {
      device_id: session.getDeviceId(), sent_at: new Date().toISOString(),
      records: due.map((e) => e.record) }, { retries: 1 });
    const byId = new Map((answer.results ?? []).map((r) => [r.id, r]));
    const at = new Date().toISOString();
    for (const entry of due) {
      const result = byId.get(entry.id);
      if (!result) continue;
      const next = afterResult(entry, result, at);
      await store.put('outbox', next);
      if (next.status === 'accepted') await store.del('drafts', entry.id);
    }
    emit({ type: 'done' });
  } catch (error) {
    const transient = !(error instanceof ApiError) || error.isTransient || error.status === 401;
    for (const entry of due) {
      const next = transient ? afterTransientFailure(entry, Date.now())
        : { ...entry, status: 'needs_attention', problem: error.problem ?? { type: error.type } };
      await store.put('outbox', { ...next, last_error: error.problem ?? { type: error.type ?? 'network' } });
    }
    emit({ type: 'error', error });
  }
}

export function start() {
  updateBadge();
  window.addEventListener('online', () => drain({ force: true }));
  navigator.serviceWorker?.addEventListener('message', (event) => {
    if (event.data?.type === 'drain-outbox') drain({ force: true });
  });
  setInterval(() => drain(), 60_000);
  drain();
}
