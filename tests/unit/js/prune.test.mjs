// The prune rule (issue 13): accepted records and their photos go once the server has
// them and the kept days have passed; nothing unsent, parked or still referenced goes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prunable, keepDaysFrom, DEFAULT_KEEP_DAYS } from '../../../pwa/static/js/domain/prune.js';

const DAY = 24 * 60 * 60 * 1000;
const NOW = Date.parse('2026-11-26T00:00:00Z');
const ago = (days) => new Date(NOW - days * DAY).toISOString();

function entry(id, status, { acceptedDaysAgo = null, photos = [], complete = true } = {}) {
  return { id, status, accepted_at: acceptedDaysAgo === null ? undefined : ago(acceptedDaysAgo),
    result: status === 'accepted' ? { status: 'accepted', is_complete: complete } : null,
    record: { id, type: 'visit_submission', photos: photos.map((sha256) => ({ sha256 })),
      attestations: [{ signature_image_sha256: `sig-${id}` }] } };
}
const photo = (sha256, uploaded = true) => ({ sha256, uploaded });

test('an accepted record older than the kept days goes, with its photos and signatures', () => {
  const out = prunable({ outbox: [entry('a', 'accepted', { acceptedDaysAgo: 15, photos: ['p1'] })],
    photos: [photo('p1'), photo('sig-a')], nowMs: NOW, keepDays: 14 });
  assert.deepEqual(out.entryIds, ['a']);
  assert.deepEqual(out.photoHashes.sort(), ['p1', 'sig-a']);
});

test('a recently accepted record stays', () => {
  const out = prunable({ outbox: [entry('a', 'accepted', { acceptedDaysAgo: 13, photos: ['p1'] })],
    photos: [photo('p1')], nowMs: NOW, keepDays: 14 });
  assert.deepEqual(out, { entryIds: [], photoHashes: [] });
});

test('nothing unsent or parked is ever pruned, however old', () => {
  const outbox = [entry('w', 'waiting', { photos: ['p1'] }), entry('n', 'needs_attention', { photos: ['p2'] })];
  for (const e of outbox) e.queued_at = ago(400);
  const out = prunable({ outbox, photos: [photo('p1'), photo('p2')], nowMs: NOW, keepDays: 1 });
  assert.deepEqual(out, { entryIds: [], photoHashes: [] });
});

test('an accepted record the server called incomplete stays', () => {
  const out = prunable({ outbox: [entry('a', 'accepted', { acceptedDaysAgo: 30, photos: ['p1'], complete: false })],
    photos: [photo('p1')], nowMs: NOW, keepDays: 14 });
  assert.deepEqual(out.entryIds, []);
});

test('a photo not yet uploaded, or shared with a kept record or a draft, stays', () => {
  const outbox = [entry('a', 'accepted', { acceptedDaysAgo: 30, photos: ['p1', 'p2', 'p3'] }),
    entry('b', 'waiting', { photos: ['p2'] })];
  const drafts = [{ id: 'd', photos: [{ sha256: 'p3' }], attestations: [] }];
  const out = prunable({ outbox, drafts, photos: [photo('p1', false), photo('p2'), photo('p3'), photo('sig-a')],
    nowMs: NOW, keepDays: 14 });
  assert.deepEqual(out.entryIds, ['a']);
  assert.deepEqual(out.photoHashes, ['sig-a']);
});

test('a photo no pruned record refers to is left alone', () => {
  const out = prunable({ outbox: [], photos: [photo('stray')], nowMs: NOW, keepDays: 14 });
  assert.deepEqual(out.photoHashes, []);
});

test('the kept days come from the pulled settings, else the default', () => {
  assert.equal(keepDaysFrom([]), DEFAULT_KEEP_DAYS);
  assert.equal(keepDaysFrom([{ device_keep_days: 30 }, { min_visit_team_size: 2 }]), 30);
  assert.equal(keepDaysFrom([{ device_keep_days: 0 }, { device_keep_days: 'x' }]), DEFAULT_KEEP_DAYS);
});

test('space is low under 50 MB free or above 90 % used; unknown quota is not low', async () => {
  const { isSpaceLow } = await import('../../../pwa/static/js/domain/prune.js');
  const MB = 1024 * 1024;
  assert.equal(isSpaceLow({ usage: 10 * MB, quota: 1000 * MB }), false);
  assert.equal(isSpaceLow({ usage: 960 * MB, quota: 1000 * MB }), true);
  assert.equal(isSpaceLow({ usage: 1 * MB, quota: 40 * MB }), true);
  assert.equal(isSpaceLow({}), false);
});
