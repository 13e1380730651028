// Retry timing and outbox ordering: pure functions so node --test can pin them down.

/**
 * Delay before retry number `attempt` (0-based): exponential with "full jitter"
 * (AWS architecture blog), so a village of phones coming back online at once do not
 * hit the server in lock-step.
 */
export function backoffDelay(attempt, { baseMs = 1000, capMs = 5 * 60 * 1000,
  random = Math.random } = {}) {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Is the record due for another try at `nowMs`? */
export function isDue(record, nowMs) {
  return !record.next_attempt_at || Date.parse(record.next_attempt_at) <= nowMs;
}

// A submission must reach the server before any separate attestation that names it;
// within a kind, oldest first so the server sees visits in the order they happened.
const KIND_RANK = { visit_submission: 0, visit_attestation: 1 };

/** Outbox records to send now, in send order. Rejected ones wait for a person. */
export function sendOrder(records, nowMs) {
  return records
    .filter((r) => r.status === 'waiting' && isDue(r, nowMs))
    .sort((a, b) => (KIND_RANK[a.record.type] ?? 9) - (KIND_RANK[b.record.type] ?? 9)
      || a.queued_at.localeCompare(b.queued_at));
}

/**
 * Next state of an outbox entry given the server's per-record result.
 * Only `accepted` and `duplicate` let the record go: anything else keeps it.
 */
export function afterResult(entry, result, nowIso) {
  if (result.status === 'accepted' || result.status === 'duplicate') {
    return { ...entry, status: 'accepted', result, attempts: 0, next_attempt_at: null,
      accepted_at: nowIso };
  }
  return { ...entry, status: 'needs_attention', result, problem: result.problem ?? null };
}

/** Next state after a failure that says nothing about the record (network, 5xx). */
export function afterTransientFailure(entry, nowMs, options) {
  const attempts = (entry.attempts ?? 0) + 1;
  return { ...entry, status: 'waiting', attempts,
    next_attempt_at: new Date(nowMs + backoffDelay(attempts - 1, options)).toISOString() };
}
