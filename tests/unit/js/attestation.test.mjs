// A device's attestation (谁调查谁签字谁负责, 002/004) made with real WebCrypto: the vector the
// server's test (tests/unit/test_attestation.py) verifies in Python.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

import { attestationMessage, submissionDigest } from '../../../pwa/static/js/domain/canonical.js';
import { makeAttestationVector, SAMPLE_SUBMISSION } from './make_attestation_vector.mjs';

const ECDSA_SIGN = { name: 'ECDSA', hash: 'SHA-256' };

function importJwk(jwk) {
  return crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']);
}

async function verifies(jwk, digest, signatureB64url) {
  const key = await importJwk(jwk);
  const message = new TextEncoder().encode(attestationMessage(digest));
  return crypto.subtle.verify(ECDSA_SIGN, key, Buffer.from(signatureB64url, 'base64url'), message);
}

test('the vector has a P-256 public JWK and a raw r||s signature of 64 bytes', async () => {
  const vector = await makeAttestationVector();
  assert.deepEqual(Object.keys(vector.public_key_jwk).sort(), ['crv', 'kty', 'x', 'y']);
  assert.equal(vector.public_key_jwk.kty, 'EC');
  assert.equal(vector.public_key_jwk.crv, 'P-256');
  assert.equal(Buffer.from(vector.public_key_jwk.x, 'base64url').length, 32);
  assert.equal(Buffer.from(vector.public_key_jwk.y, 'base64url').length, 32);
  assert.equal(Buffer.from(vector.signature_b64url, 'base64url').length, 64);
  assert.match(vector.signature_b64url, /^[A-Za-z0-9_-]+$/);
});

test('the digest is the submission digest, attestations excluded', async () => {
  const vector = await makeAttestationVector();
  const { attestations, ...attested } = SAMPLE_SUBMISSION;
  assert.ok(attestations);
  assert.equal(vector.digest, await submissionDigest(attested));
});

test('WebCrypto verifies the signature with the exported JWK, not with another key', async () => {
  const vector = await makeAttestationVector();
  assert.equal(await verifies(vector.public_key_jwk, vector.digest, vector.signature_b64url), true);
  assert.equal(
    await verifies(vector.other_public_key_jwk, vector.digest, vector.signature_b64url),
    false,
  );
  const tampered = vector.digest.slice(0, -1) + (vector.digest.endsWith('0') ? '1' : '0');
  assert.equal(await verifies(vector.public_key_jwk, tampered, vector.signature_b64url), false);
});

test('run as a script it prints the vector as one JSON line', () => {
  const script = fileURLToPath(new URL('./make_attestation_vector.mjs', import.meta.url));
  const output = execFileSync(process.execPath, [script], { encoding: 'utf8' });
  const vector = JSON.parse(output);
  assert.match(vector.digest, /^[0-9a-f]{64}$/);
  assert.equal(vector.submission.form_id, SAMPLE_SUBMISSION.form_id);
});
