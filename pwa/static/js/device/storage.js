// The phone's storage for this app: ask the browser to keep it (no eviction under
// pressure), how much is used, whether space runs low before a photo, and forgetting what
// the server confirmed long ago (domain/prune.js decides what).
import * as store from '../store.js';
import { blobsOf } from '../domain/drain.js';
import { prunable, keepDaysFrom, isSpaceLow } from '../domain/prune.js';

/** Ask once after sign-in; resolves to true (kept), false (may be evicted) or null (unknown). */
export async function requestPersistence() {
  if (!navigator.storage?.persist) return null;
  try {
    const granted = (await navigator.storage.persisted?.()) || await navigator.storage.persist();
    await store.put('device', Boolean(granted), 'storage_persisted');
    return Boolean(granted);
  } catch {
    return null;
  }
}

/** {persisted, usage, quota}; fields are null when the browser does not say. */
export async function status() {
  const persisted = navigator.storage?.persisted ? await navigator.storage.persisted().catch(() => null) : null;
  const { usage = null, quota = null } = navigator.storage?.estimate
    ? await navigator.storage.estimate().catch(() => ({})) : {};
  return { persisted, usage, quota };
}

/** Is space running low? (false when the browser cannot say) */
export async function spaceLow() {
  if (!navigator.storage?.estimate) return false;
  return isSpaceLow(await navigator.storage.estimate().catch(() => ({})));
}

/** Delete accepted records (and their photos) older than the kept days; returns the counts. */
export async function pruneConfirmed(nowMs = Date.now()) {
  const [outbox, drafts, settings] = await Promise.all([store.all('outbox'), store.all('drafts'),
    store.all('settings')]);
  // Read only the photos accepted records use: the blobs are the heavy part of the phone.
  const hashes = [...new Set(outbox.filter((e) => e.status === 'accepted').flatMap((e) => blobsOf(e.record ?? {})))];
  const photos = (await Promise.all(hashes.map((sha256) => store.get('photos', sha256))))
    .filter(Boolean).map(({ sha256, uploaded }) => ({ sha256, uploaded }));
  const doomed = prunable({ outbox, photos, drafts, nowMs, keepDays: keepDaysFrom(settings) });
  await store.prune(doomed);
  return { records: doomed.entryIds.length, photos: doomed.photoHashes.length };
}
