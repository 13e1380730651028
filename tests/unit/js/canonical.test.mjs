// Canonical JSON (RFC 8785) in the PWA, checked against the same vectors as the server
// (tests/unit/test_canonical.py): both investigators sign what the server hashes
// (谁调查谁签字谁负责, 002/004).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import {
  ATTESTED_KEYS,
  attestationMessage,
  canonicalJson,
  sha256Hex,
  submissionDigest,
} from '../../../pwa/static/js/domain/canonical.js';

const VECTORS = JSON.parse(
  readFileSync(new URL('../../data/canonical_cases.json', import.meta.url), 'utf8'),
);

for (const c of VECTORS.cases) {
  test(`shared case: ${c.name}`, async () => {
    const canonical = canonicalJson(c.input);
    assert.equal(canonical, c.canonical);
    assert.equal(await sha256Hex(canonical), c.sha256);
  });
}

for (const c of VECTORS.rejects) {
  test(`shared reject: ${c.name}`, () => {
    assert.throws(() => canonicalJson(JSON.parse(c.input_json)), TypeError);
  });
}

test('RFC 8785 Appendix B numbers', () => {
  for (const { ieee_hex: hex, canonical } of VECTORS.numbers) {
    const number = Buffer.from(hex, 'hex').readDoubleBE(0);
    assert.equal(canonicalJson(number), canonical, hex);
  }
});

test('RFC 8785 NaN and infinities are rejected', () => {
  for (const hex of VECTORS.numbers_rejected) {
    const number = Buffer.from(hex, 'hex').readDoubleBE(0);
    assert.throws(() => canonicalJson(number), TypeError, hex);
  }
});

test('only JSON values: undefined, functions, BigInt, Date, Map are rejected', () => {
  for (const value of [undefined, () => 1, 10n, new Date(0), new Map(), { a: undefined }, [undefined]]) {
    assert.throws(() => canonicalJson(value), TypeError);
  }
});

test('objects without a prototype are plain objects', () => {
  const value = Object.create(null);
  value.b = 1;
  value.a = '中文';
  assert.equal(canonicalJson(value), '{"a":"中文","b":1}');
});

function visitSubmission() {
  const c = VECTORS.cases.find((item) => item.name === 'a visit submission');
  return { submission: structuredClone(c.input), sha256: c.sha256 };
}

test('submission digest covers exactly the attested keys', async () => {
  const { submission, sha256 } = visitSubmission();
  assert.deepEqual(Object.keys(submission).sort(), [...ATTESTED_KEYS].sort());
  assert.equal(await submissionDigest(submission), sha256);
});

test('submission digest ignores attestations and server fields', async () => {
  const { submission, sha256 } = visitSubmission();
  submission.attestations = [{ user_id: 'u1', signature: '...' }];
  submission.received_at = '2024-05-06T02:41:00Z';
  assert.equal(await submissionDigest(submission), sha256);
});

test('submission digest requires every attested key', async () => {
  for (const key of ATTESTED_KEYS) {
    const { submission } = visitSubmission();
    delete submission[key];
    await assert.rejects(submissionDigest(submission), new RegExp(key));
  }
});

test('attestation message', () => {
  const digest = 'ab'.repeat(32);
  assert.equal(attestationMessage(digest), `doorstep-attestation:v1:${digest}`);
  for (const bad of ['AB'.repeat(32), 'ab'.repeat(31), '', undefined]) {
    assert.throws(() => attestationMessage(bad), TypeError);
  }
});
