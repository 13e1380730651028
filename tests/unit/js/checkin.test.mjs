// The outbox uploads a check-in's photo before it pushes the record (issue 12).
import test from 'node:test';
import assert from 'node:assert/strict';
import { blobsOf } from '../../../pwa/static/js/domain/drain.js';

test('a check-in record names its photo for upload', () => {
  const record = { type: 'checkin', id: 'x', photo: { sha256: 'a'.repeat(64), source: 'camera' } };
  assert.deepEqual(blobsOf(record), ['a'.repeat(64)]);
});

test('a visit record without a single photo field is unchanged', () => {
  assert.deepEqual(blobsOf({ type: 'visit_submission', photos: [{ sha256: 'b' }] }), ['b']);
});
