// What the phone may forget: records the server accepted more than `keepDays` ago, and
// the photos only they used. Pure, so node --test checks the rule without a browser.
//
// Never pruned: anything waiting or parked (`needs_attention`), an accepted record the
// server called incomplete (a photo is still to go), a photo not yet uploaded, a photo a
// draft or a kept record still refers to.
import { blobsOf } from './drain.js';

export const DEFAULT_KEEP_DAYS = 14;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The days to keep accepted records: the pulled settings' `device_keep_days` if any. */
export function keepDaysFrom(settingsByVillage = []) {
  const days = settingsByVillage.map((s) => s?.device_keep_days).filter((d) => Number.isInteger(d) && d >= 1);
  return days.length ? Math.max(...days) : DEFAULT_KEEP_DAYS;
}

function isConfirmedLongAgo(entry, nowMs, keepDays) {
  if (entry.status !== 'accepted' || entry.result?.is_complete === false) return false;
  const at = Date.parse(entry.accepted_at ?? '');
  return Number.isFinite(at) && nowMs - at >= keepDays * DAY_MS;
}

/** Blobs a draft refers to: its photos and drawn signatures. */
function blobsOfDraft(draft) {
  return blobsOf({ photos: draft.photos, attestations: draft.attestations });
}

/**
 * {entryIds, photoHashes} to delete, from the outbox entries, photo records ({sha256,
 * uploaded}) and drafts on the phone, at `nowMs`.
 */
export function prunable({ outbox = [], photos = [], drafts = [], nowMs, keepDays = DEFAULT_KEEP_DAYS }) {
  const gone = outbox.filter((entry) => isConfirmedLongAgo(entry, nowMs, keepDays));
  const goneIds = new Set(gone.map((entry) => entry.id));
  const stillUsed = new Set([
    ...outbox.filter((entry) => !goneIds.has(entry.id)).flatMap((entry) => blobsOf(entry.record ?? {})),
    ...drafts.filter((draft) => !goneIds.has(draft.id)).flatMap(blobsOfDraft),
  ]);
  const usedByGone = new Set(gone.flatMap((entry) => blobsOf(entry.record ?? {})));
  const photoHashes = photos
    .filter((photo) => photo.uploaded === true && usedByGone.has(photo.sha256) && !stillUsed.has(photo.sha256))
    .map((photo) => photo.sha256);
  return { entryIds: [...goneIds], photoHashes };
}

/** Room for about ten more photos and the records around them. */
export const LOW_SPACE_BYTES = 50 * 1024 * 1024;

/** Is the phone's storage for this app nearly full? ({usage, quota} from storage.estimate()) */
export function isSpaceLow({ usage = 0, quota = 0 } = {}) {
  if (!quota) return false;
  return quota - usage < LOW_SPACE_BYTES || usage / quota > 0.9;
}
