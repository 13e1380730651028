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

// Problems that say something about the session or the moment, not about the record:
// sending the same record later can succeed, so they never park it.
const NOT_ABOUT_THE_RECORD = new Set(['not-authenticated', 'token-expired', 'token-invalid',
  'token-revoked', 'account-locked', 'account-disabled', 'conflict', 'service-unavailable']);

/**
 * Did the server refuse for good? `failure` is an ApiError or a problem ({status, type}).
 * A 4xx problem is final, except 401 (sign in again), 408 and 429 (try later) and the
 * problems above. Network errors (status 0) and 5xx are transient.
 */
export function isPermanentRefusal(failure) {
  const status = Number(failure?.status ?? 0);
  if (!(status >= 400 && status < 500)) return false;
  if (status === 401 || status === 408 || status === 429) return false;
  return !NOT_ABOUT_THE_RECORD.has(failure?.type ?? failure?.problem?.type);
}

/**
 * Next state of an outbox entry given the server's per-record result.
 * `accepted` and `duplicate` let the record go; a refusal for good parks it for a
 * person; a per-record failure that is the server's own (5xx) is tried again later.
 */
export function afterResult(entry, result, nowIso, options) {
  if (result.status === 'accepted' || result.status === 'duplicate') {
    return { ...entry, status: 'accepted', result, attempts: 0, next_attempt_at: null,
      accepted_at: nowIso };
  }
  const problem = result.problem ?? null;
  if (problem && problem.status && !isPermanentRefusal(problem)) {
    return { ...afterTransientFailure(entry, Date.parse(nowIso), options), result,
      last_error: problem };
  }
  return { ...entry, status: 'needs_attention', result, problem, parked_at: nowIso,
    next_attempt_at: null };
}

/** Next state after a failure that says nothing about the record (network, 5xx). */
export function afterTransientFailure(entry, nowMs, options) {
  const attempts = (entry.attempts ?? 0) + 1;
  return { ...entry, status: 'waiting', attempts,
    next_attempt_at: new Date(nowMs + backoffDelay(attempts - 1, options)).toISOString() };
}
