// Makes one attestation as a device does (谁调查谁签字谁负责, 002/004): a WebCrypto ECDSA
// P-256 key, its public JWK, and a signature over the attestation message of a submission's
// digest. Run as a script it prints the vector as JSON for tests/unit/test_attestation.py,
// which checks it with the server's verify_attestation.
import { pathToFileURL } from 'node:url';

import { attestationMessage, submissionDigest } from '../../../pwa/static/js/domain/canonical.js';

const ECDSA_KEY = { name: 'ECDSA', namedCurve: 'P-256' };
const ECDSA_SIGN = { name: 'ECDSA', hash: 'SHA-256' };

export const SAMPLE_SUBMISSION = Object.freeze({
  id: '0b6e8f1e-4f5c-4d3a-9a8b-7c6d5e4f3a2b',
  case_id: '3f1c6a52-8a7e-4c1e-9a2b-0d1e2f3a4b5c',
  form_id: 'dibao-home-visit',
  form_version: 3,
  data: {
    members: [{ name: '李四', relation: '户主', wages: 1200, age: 67 }],
    per_capita_income: 412.5,
    notes: '房屋漏雨，家中无劳动力。',
    ratio: 0.1,
  },
  stamps: [
    { kind: 'start', lat: 27.19, lon: 103.56, accuracy_m: 12.5, captured_at: '2024-05-06T02:00:00Z' },
    { kind: 'end', lat: 27.1901, lon: 103.5602, accuracy_m: 8, captured_at: '2024-05-06T02:40:00Z' },
  ],
  photos: [{ sha256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08' }],
  attestations: [{ user_id: 'not-part-of-the-digest' }],
});

function toBase64Url(buffer) {
  return Buffer.from(buffer).toString('base64url');
}

export async function newDeviceKey() {
  return crypto.subtle.generateKey(ECDSA_KEY, true, ['sign', 'verify']);
}

export async function publicJwk(keyPair) {
  const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', keyPair.publicKey);
  return { kty, crv, x, y };
}

export async function signDigest(privateKey, digestHex) {
  const message = new TextEncoder().encode(attestationMessage(digestHex));
  return crypto.subtle.sign(ECDSA_SIGN, privateKey, message);
}

export async function makeAttestationVector(submission = SAMPLE_SUBMISSION) {
  const signer = await newDeviceKey();
  const other = await newDeviceKey();
  const digest = await submissionDigest(submission);
  const signature = await signDigest(signer.privateKey, digest);
  return {
    submission,
    digest,
    public_key_jwk: await publicJwk(signer),
    other_public_key_jwk: await publicJwk(other),
    signature_b64url: toBase64Url(signature),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${JSON.stringify(await makeAttestationVector())}\n`);
}
