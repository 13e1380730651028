// One outbox run: upload the blobs of the due records, push the records, settle each.
// The I/O comes in as functions, so node --test can drive it without a browser.
//
// A record the server refuses for good (a 4xx problem about that record or one of its
// photos) leaves the queue's head as `needs_attention` with the server's problem; the
// records behind it go on. A failure that says nothing about a record (network, 5xx,
// 401, 408, 429, a commit race) leaves every unsettled record waiting, with backoff.
import { afterResult, afterTransientFailure, isPermanentRefusal } from './backoff.js';

/** Hashes of every blob a record refers to: photos, a check-in's photo, drawn signatures. */
export function blobsOf(record) {
  return [...(record.photos ?? []).map((p) => p.sha256), record.photo?.sha256,
    ...(record.attestations ?? []).map((a) => a.signature_image_sha256),
    ...(record.type === 'visit_attestation' ? [record.signature_image_sha256] : [])].filter(Boolean);
}

/** The problem an error carries, in the shape the outbox stores (an ApiError or a plain one). */
export function problemOf(error) {
  if (error?.problem && typeof error.problem.type === 'string') return error.problem;
  return { type: error?.type ?? 'network', status: error?.status ?? 0,
    detail: error?.detail ?? (error?.message || undefined) };
}

/** The entry parked for a person: the server's words stay with it, it is not sent again. */
export function parked(entry, problem, nowIso) {
  return { ...entry, status: 'needs_attention', problem, parked_at: nowIso,
    next_attempt_at: null };
}

/**
 * Send `due` (in send order). `io`:
 *   uploadBlob(sha256, onProgress)  resolves when the server holds the blob (onProgress(0..1)
 *                       as its bytes leave); throws {status, type, problem}
 *   push(records)       resolves to the per-record results; throws like uploadBlob
 *   save(entry)         stores an entry's next state
 *   progress(done, total) (done may be fractional mid-photo), nowMs(), nowIso()
 * Resolves to {error, parked}: error is the transient failure that stopped the run, if any.
 */
export async function sendDue(due, io) {
  const open = new Map(due.map((entry) => [entry.id, entry]));
  let parkedCount = 0;
  const settle = async (entry, next) => {
    open.delete(entry.id);
    if (next.status === 'needs_attention') parkedCount += 1;
    await io.save(next);
  };

  async function uploadAll() {
    const hashes = [...new Set(due.flatMap((entry) => blobsOf(entry.record)))];
    const refused = new Map();
    for (const [index, sha256] of hashes.entries()) {
      try {
        await io.uploadBlob(sha256, (fraction) => io.progress?.(index + Math.min(1, fraction), hashes.length));
      } catch (error) {
        if (!isPermanentRefusal(error)) throw error;
        refused.set(sha256, problemOf(error));
      }
      io.progress?.(index + 1, hashes.length);
    }
    for (const entry of due) {
      const sha256 = blobsOf(entry.record).find((hash) => refused.has(hash));
      if (sha256) {
        await settle(entry, parked(entry, { ...refused.get(sha256), photo: sha256 }, io.nowIso()));
      }
    }
  }

  async function push(entries) {
    if (!entries.length) return;
    let results;
    try {
      results = await io.push(entries.map((entry) => entry.record));
    } catch (error) {
      if (!isPermanentRefusal(error)) throw error;
      if (entries.length === 1) {
        await settle(entries[0], parked(entries[0], problemOf(error), io.nowIso()));
        return;
      }
      // The batch as a whole was refused (too big, one record not even JSON-shaped…):
      // send the records one by one, so only the one at fault waits for a person.
      for (const entry of entries) await push([entry]);
      return;
    }
    const byId = new Map((results ?? []).map((result) => [result.id, result]));
    for (const entry of entries) {
      const result = byId.get(entry.id);
      if (result) await settle(entry, afterResult(entry, result, io.nowIso()));
    }
  }

  try {
    await uploadAll();
    await push([...open.values()]);
  } catch (error) {
    const lastError = problemOf(error);
    for (const entry of open.values()) {
      await io.save({ ...afterTransientFailure(entry, io.nowMs()), last_error: lastError });
    }
    return { error, parked: parkedCount };
  }
  return { error: null, parked: parkedCount };
}

/**
 * Outbox rounds, one at a time: `run(force)` is one round. A call while a round runs gets
 * one more round after it, so nothing asked for mid-round waits for the next timer (a visit
 * queued while an earlier round was still sending sat for up to a minute). Calls during a
 * round share that one follow-up; it is forced if any of them was ("send now" must hear how
 * its round ended).
 */
export function roundsOneAtATime(run) {
  let current = null;
  let next = null;
  let nextForced = false;
  function drain({ force = false } = {}) {
    if (!current) {
      current = run(force).finally(() => { current = null; });
      return current;
    }
    nextForced ||= force;
    next ??= current.catch(() => {}).then(() => {
      const forced = nextForced;
      next = null;
      nextForced = false;
      return drain({ force: forced });
    });
    return next;
  }
  return drain;
}
