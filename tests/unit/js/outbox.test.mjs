// Outbox ordering and retry timing (pwa/static/js/domain/backoff.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, sendOrder, afterResult, afterTransientFailure, isDue }
  from '../../../pwa/static/js/domain/backoff.js';

test('backoff grows exponentially, is capped and jittered within [half, full]', () => {
  const low = (attempt) => backoffDelay(attempt, { baseMs: 1000, capMs: 60_000, random: () => 0 });
  const high = (attempt) => backoffDelay(attempt, { baseMs: 1000, capMs: 60_000, random: () => 1 });
  assert.deepEqual([0, 1, 2, 3].map(high), [1000, 2000, 4000, 8000]);
  assert.deepEqual([0, 1, 2, 3].map(low), [500, 1000, 2000, 4000]);
  assert.equal(high(20), 60_000);
  assert.equal(low(20), 30_000);
});

const entry = (id, type, queuedAt, extra = {}) => ({
  id, status: 'waiting', queued_at: queuedAt, record: { type }, ...extra });

test('submissions go before attestations, then oldest first; not-yet-due and rejected wait', () => {
  const now = Date.parse('2026-11-25T08:00:00Z');
  const records = [
    entry('att', 'visit_attestation', '2026-11-25T07:00:00Z'),
    entry('late', 'visit_submission', '2026-11-25T07:30:00Z'),
    entry('early', 'visit_submission', '2026-11-25T06:00:00Z'),
    entry('later', 'visit_submission', '2026-11-25T05:00:00Z', { next_attempt_at: '2026-11-25T09:00:00Z' }),
    entry('bad', 'visit_submission', '2026-11-25T04:00:00Z', { status: 'needs_attention' }),
  ];
  assert.deepEqual(sendOrder(records, now).map((r) => r.id), ['early', 'late', 'att']);
});

test('only accepted or duplicate lets a record go', () => {
  const waiting = entry('a', 'visit_submission', '2026-11-25T06:00:00Z');
  assert.equal(afterResult(waiting, { status: 'accepted' }, 'now').status, 'accepted');
  assert.equal(afterResult(waiting, { status: 'duplicate' }, 'now').status, 'accepted');
  const rejected = afterResult(waiting, { status: 'rejected', problem: { type: 'case-not-assigned' } }, 'now');
  assert.equal(rejected.status, 'needs_attention');
  assert.equal(rejected.problem.type, 'case-not-assigned');
});

test('a transient failure schedules a later try and counts attempts', () => {
  const now = Date.parse('2026-11-25T08:00:00Z');
  const once = afterTransientFailure(entry('a', 'visit_submission', 'x'), now, { random: () => 1 });
  assert.equal(once.attempts, 1);
  assert.equal(once.status, 'waiting');
  assert.equal(isDue(once, now), false);
  assert.equal(isDue(once, now + 1000), true);
  const twice = afterTransientFailure(once, now, { random: () => 1 });
  assert.equal(Date.parse(twice.next_attempt_at) - now, 2000);
});
