// Outbox ordering and retry timing (domain/backoff.js); one outbox run (domain/drain.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, sendOrder, afterResult, afterTransientFailure, isDue, isPermanentRefusal }
  from '../../../pwa/static/js/domain/backoff.js';
import { sendDue, roundsOneAtATime } from '../../../pwa/static/js/domain/drain.js';

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

// --- one outbox run (pwa/static/js/domain/drain.js) ------------------------------------

const NOW = Date.parse('2026-11-25T08:00:00Z');
const visit = (id, photos = []) => entry(id, 'visit_submission', `2026-11-25T0${id.length}:00:00Z`,
  { record: { type: 'visit_submission', id, photos: photos.map((sha256) => ({ sha256 })) } });
const refusal = (status, type) => Object.assign(new Error(type), { status, type,
  problem: { type, status, title: type, detail: `detail of ${type}` } });

/** A fake server: `pushAnswer(records)` returns results or throws; photos in `badPhotos` are refused. */
function fakeIo({ pushAnswer, badPhotos = {}, photoError } = {}) {
  const saved = new Map();
  const pushes = [];
  const io = {
    uploadBlob: async (sha) => {
      if (photoError) throw photoError;
      if (badPhotos[sha]) throw badPhotos[sha];
    },
    push: async (records) => { pushes.push(records.map((r) => r.id)); return pushAnswer(records); },
    save: async (next) => { saved.set(next.id, next); },
    nowMs: () => NOW,
    nowIso: () => new Date(NOW).toISOString(),
  };
  return { io, saved, pushes };
}
const acceptAll = (records) => records.map((r) => ({ id: r.id, status: 'accepted' }));

test('4xx problems are final, but not sign-in, timeouts, throttling, races or server errors', () => {
  for (const [status, type] of [[400, 'malformed-json'], [403, 'case-not-assigned'],
    [409, 'submission-conflict'], [413, 'body-too-large'], [415, 'photo-format-not-allowed'],
    [422, 'photo-truncated']]) assert.equal(isPermanentRefusal({ status, type }), true, type);
  for (const [status, type] of [[0, 'network'], [401, 'token-expired'], [401, 'not-authenticated'],
    [408, 'bad-request'], [429, 'too-many-requests'], [409, 'conflict'], [500, 'internal-error'],
    [503, 'service-unavailable'], [423, 'account-locked'], [403, 'account-disabled']]) {
    assert.equal(isPermanentRefusal({ status, type }), false, `${status} ${type}`);
  }
});

test('a record refused for good is parked and the records behind it are accepted', async () => {
  const due = [visit('a'), visit('bb'), visit('ccc')];
  const { io, saved } = fakeIo({ pushAnswer: (records) => records.map((r) => (r.id === 'a'
    ? { id: 'a', status: 'rejected', problem: { type: 'case-not-assigned', status: 403 } }
    : { id: r.id, status: 'accepted' })) });
  const outcome = await sendDue(due, io);
  assert.equal(outcome.error, null);
  assert.equal(outcome.parked, 1);
  assert.equal(saved.get('a').status, 'needs_attention');
  assert.equal(saved.get('a').problem.type, 'case-not-assigned');
  assert.equal(saved.get('bb').status, 'accepted');
  assert.equal(saved.get('ccc').status, 'accepted');
});

test('a photo refused for good parks only the records that hold it', async () => {
  const due = [visit('a', ['bad']), visit('bb', ['good']), visit('ccc')];
  const { io, saved, pushes } = fakeIo({ pushAnswer: acceptAll,
    badPhotos: { bad: refusal(422, 'photo-truncated') } });
  const outcome = await sendDue(due, io);
  assert.equal(outcome.error, null);
  assert.equal(saved.get('a').status, 'needs_attention');
  assert.equal(saved.get('a').problem.type, 'photo-truncated');
  assert.equal(saved.get('a').problem.photo, 'bad');
  assert.deepEqual(pushes, [['bb', 'ccc']]);
  assert.equal(saved.get('bb').status, 'accepted');
  assert.equal(saved.get('ccc').status, 'accepted');
});

test('a batch refused as a whole is sent record by record so only the culprit waits', async () => {
  const due = [visit('a'), visit('bb'), visit('ccc')];
  const { io, saved, pushes } = fakeIo({ pushAnswer: (records) => {
    if (records.some((r) => r.id === 'bb')) throw refusal(400, 'malformed-json');
    return acceptAll(records);
  } });
  const outcome = await sendDue(due, io);
  assert.equal(outcome.error, null);
  assert.deepEqual(pushes, [['a', 'bb', 'ccc'], ['a'], ['bb'], ['ccc']]);
  assert.equal(saved.get('bb').status, 'needs_attention');
  assert.equal(saved.get('bb').problem.type, 'malformed-json');
  assert.equal(saved.get('a').status, 'accepted');
  assert.equal(saved.get('ccc').status, 'accepted');
});

for (const [name, failure] of [['network', refusal(0, 'network')], ['5xx', refusal(503, 'service-unavailable')],
  ['401', refusal(401, 'token-expired')], ['408', refusal(408, 'bad-request')],
  ['429', refusal(429, 'too-many-requests')], ['commit race', refusal(409, 'conflict')]]) {
  test(`a ${name} failure keeps every record waiting with backoff`, async () => {
    const due = [visit('a'), visit('bb')];
    const { io, saved } = fakeIo({ pushAnswer: () => { throw failure; } });
    const outcome = await sendDue(due, io);
    assert.equal(outcome.error, failure);
    for (const id of ['a', 'bb']) {
      assert.equal(saved.get(id).status, 'waiting');
      assert.equal(saved.get(id).attempts, 1);
      assert.ok(Date.parse(saved.get(id).next_attempt_at) > NOW);
      assert.equal(saved.get(id).last_error.type, failure.type);
    }
  });
}

test('a transient photo failure stops the run: nothing is parked, all wait', async () => {
  const due = [visit('a', ['x']), visit('bb')];
  const { io, saved, pushes } = fakeIo({ pushAnswer: acceptAll, photoError: refusal(502, 'internal-error') });
  const outcome = await sendDue(due, io);
  assert.ok(outcome.error);
  assert.deepEqual(pushes, []);
  assert.equal(saved.get('a').status, 'waiting');
  assert.equal(saved.get('bb').status, 'waiting');
});

test('a transient failure after some records settled leaves those settled', async () => {
  const due = [visit('a'), visit('bb'), visit('ccc')];
  let calls = 0;
  const { io, saved } = fakeIo({ pushAnswer: (records) => {
    calls += 1;
    if (calls === 1) throw refusal(413, 'body-too-large');
    if (records[0].id === 'bb') throw refusal(0, 'network');
    return acceptAll(records);
  } });
  const outcome = await sendDue(due, io);
  assert.ok(outcome.error);
  assert.equal(saved.get('a').status, 'accepted');
  assert.equal(saved.get('bb').status, 'waiting');
  assert.equal(saved.get('ccc').status, 'waiting');
});

test('a per-record failure of the server itself (5xx) is retried later, not parked', () => {
  const waiting = entry('a', 'visit_submission', '2026-11-25T06:00:00Z');
  const next = afterResult(waiting, { status: 'rejected', problem: { type: 'internal-error', status: 500 } },
    '2026-11-25T08:00:00.000Z', { random: () => 1 });
  assert.equal(next.status, 'waiting');
  assert.equal(next.attempts, 1);
  assert.equal(next.last_error.type, 'internal-error');
});

test('photo progress moves within a photo as its bytes leave', async () => {
  const { sendDue } = await import('../../../pwa/static/js/domain/drain.js');
  const seen = [];
  const entry = { id: 'r1', status: 'waiting', attempts: 0, record: { id: 'r1', type: 'visit_submission',
    photos: [{ sha256: 'a' }, { sha256: 'b' }], attestations: [] } };
  await sendDue([entry], {
    uploadBlob: async (sha256, onProgress) => { onProgress(0.25); onProgress(0.5); onProgress(1); },
    push: async (records) => records.map((r) => ({ id: r.id, status: 'accepted' })),
    save: async () => {},
    progress: (done, total) => seen.push([done, total]),
    nowMs: () => 0, nowIso: () => '2026-11-26T00:00:00Z',
  });
  assert.deepEqual(seen.map(([done]) => done), [0.25, 0.5, 1, 1, 1.25, 1.5, 2, 2]);
  assert.ok(seen.every(([, total]) => total === 2));
});

test('a call during a round gets one more round after it, shared, forced if any call was', async () => {
  const rounds = [];
  let running = 0;
  let release;
  const run = async (force) => {
    running += 1;
    assert.equal(running, 1, 'never two rounds at once');
    rounds.push(force);
    if (rounds.length === 1) await new Promise((resolve) => { release = resolve; });
    running -= 1;
  };
  const drain = roundsOneAtATime(run);
  const first = drain();
  // A visit queued, a timer tick and "send now", all while the first round still sends:
  // each would otherwise wait for the next timer (the round's list was taken before them).
  const queued = drain();
  const tick = drain();
  const pressed = drain({ force: true });
  assert.equal(queued, tick);
  assert.equal(tick, pressed);
  release();
  await Promise.all([first, queued]);
  assert.deepEqual(rounds, [false, true]);
  await drain();  // nothing running: a round of its own at once
  assert.deepEqual(rounds, [false, true, false]);
});
